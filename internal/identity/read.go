package identity

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// The typed questions other modules ask the identity module. Each takes a
// read-only view of the identity namespace (ctx.View(identity.Name) while
// executing, the query's view when answering) and reads the DID's state
// with one point read, so a state proof covers the answer.

// Standing answers: does key K act for DID D in relationship R at time T,
// and had K been revoked as compromised at or before T?
//
// A key acts for its DID at T if it was added at or before T, had R (or
// capabilityInvocation: the controller acts in every relationship), was
// not suspended, rotated out or revoked by T, the DID was not deactivated
// by T, and it was not compromised by T.
//
// A key is compromised from the compromise time its revocation recorded,
// unless that revocation was signed by a key itself compromised by then
// (a thief backdating the holder's keys): then the key only stopped acting
// when it was revoked. A key added by a key compromised by then is
// compromised from the moment it was added. So nothing a key compromised
// at T signed after T counts, nor anything signed by keys it added.
type Standing struct {
	DID   string   `json:"did"`
	KeyID string   `json:"key_id,omitempty"` // "" if K is not a key of D
	At    gov.Time `json:"at"`               // T
	Acts  bool     `json:"acts"`
	// Compromised is true if K had been compromised at or before T;
	// CompromisedAt is then when (Unix ms).
	Compromised   bool     `json:"compromised,omitempty"`
	CompromisedAt gov.Time `json:"compromised_at,omitempty"`
	// Reason says, for people, why K does not act.
	Reason string `json:"reason,omitempty"`
}

// KeyStanding answers the question of Standing for the public key key.
// rel "" asks about any relationship. ledger.ErrNotFound for an unknown
// DID, ledger.ErrInvalid for a malformed one.
func KeyStanding(kv *ledger.KV, did string, key tx.PublicKey, rel string, at time.Time) (*Standing, error) {
	s, err := load(kv, did)
	if err != nil {
		return nil, err
	}
	for i := range s.Keys {
		if s.Keys[i].PublicKey.Equal(key) {
			return s.standing(&s.Keys[i], rel, at.UnixMilli()), nil
		}
	}
	return &Standing{DID: did, At: gov.Time(at.UnixMilli()), Reason: fmt.Sprintf("%s is not a key of %s", key, did)}, nil
}

// KeyIDStanding is KeyStanding for the key with id keyID (key-N), as
// records name the key that signed them.
func KeyIDStanding(kv *ledger.KV, did, keyID, rel string, at time.Time) (*Standing, error) {
	s, err := load(kv, did)
	if err != nil {
		return nil, err
	}
	k := s.Key(keyID)
	if k == nil {
		return &Standing{DID: did, At: gov.Time(at.UnixMilli()), Reason: fmt.Sprintf("%s has no key %s", did, keyID)}, nil
	}
	return s.standing(k, rel, at.UnixMilli()), nil
}

// standing answers for the key k of s at t (Unix ms).
func (s *State) standing(k *Key, rel string, t int64) *Standing {
	st := &Standing{DID: s.DID(), KeyID: k.ID, At: gov.Time(t)}
	if c, ok := s.compromisedAt(k, 0); ok && c <= t {
		st.Compromised, st.CompromisedAt = true, gov.Time(c)
		st.Reason = fmt.Sprintf("%s#%s was compromised at %s", s.DID(), k.ID, stamp(c))
		return st
	}
	switch {
	case t < k.Added:
		st.Reason = fmt.Sprintf("%s#%s was added at %s", s.DID(), k.ID, stamp(k.Added))
	case rel != "" && !slices.Contains(k.Relationships, rel) && !slices.Contains(k.Relationships, CapabilityInvocation):
		st.Reason = fmt.Sprintf("%s#%s is not for %s", s.DID(), k.ID, rel)
	case k.Status != Active && t >= k.Changed:
		st.Reason = fmt.Sprintf("%s#%s is %s since %s", s.DID(), k.ID, k.Status, stamp(k.Changed))
	case s.Deactivated && t >= s.Updated:
		st.Reason = fmt.Sprintf("%s was deactivated at %s", s.DID(), stamp(s.Updated))
	default:
		st.Acts = true
	}
	return st
}

// compromisedAt returns when k became compromised, if it did: the
// compromise time of a revocation signed by a key not itself compromised
// by then, or, if k was added by a key compromised by then, the moment it
// was added; the earlier of the two. depth bounds the recursion (keys are
// added and revoked only by earlier controllers, so it ends anyway).
func (s *State) compromisedAt(k *Key, depth int) (int64, bool) {
	if depth > MaxKeys {
		return 0, false
	}
	var when int64
	found := false
	if k.Status == Revoked && k.CompromisedAt > 0 {
		credible := true
		if by := s.Key(k.RevokedBy); by != nil && by != k {
			if c, ok := s.compromisedAt(by, depth+1); ok && c <= k.Changed {
				credible = false
			}
		}
		if credible {
			when, found = k.CompromisedAt, true
		}
	}
	if by := s.Key(k.AddedBy); by != nil && by != k {
		if c, ok := s.compromisedAt(by, depth+1); ok && c <= k.Added && (!found || k.Added < when) {
			when, found = k.Added, true
		}
	}
	return when, found
}

// ---- Acting for a DID: the authorisation every module asks of identity.

// ErrCompromised marks a refusal because the key had been revoked as
// compromised at or before the time asked about (Standing.Compromised).
// It is wrapped beside ledger.ErrUnauthorized, whose code the refusal
// keeps; a module that voids what such a key signed branches on it.
var ErrCompromised = errors.New("compromised key")

// KeyJWK is a key of a DID as a public JWK named by its DID URL (kid).
type KeyJWK struct {
	Kid string `json:"kid"`
	JWK
}

// ActingKeys returns the keys that act for did in rel at t (under the
// compromise rule, as KeyStanding says), in the order of its document,
// each as a public JWK whose kid is its DID URL. Errors wrap
// ledger.ErrNotFound for a DID that does not exist.
func ActingKeys(kv *ledger.KV, did, rel string, at time.Time) ([]KeyJWK, error) {
	s, err := load(kv, did)
	if err != nil {
		return nil, err
	}
	out := []KeyJWK{}
	for i := range s.Keys {
		k := &s.Keys[i]
		if !s.standing(k, rel, at.UnixMilli()).Acts {
			continue
		}
		_, jwk, err := keyMaterial(k.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("%w: %s#%s: %v", ledger.ErrStorage, did, k.ID, err)
		}
		out = append(out, KeyJWK{Kid: s.DID() + "#" + k.ID, JWK: *jwk})
	}
	return out, nil
}

// ActsFor asks whether key acts for did in relationship rel ("" for any)
// at the time at, as KeyStanding does, and answers with an error a module
// can return as its refusal: nil and the key's standing if it acts;
// otherwise an error wrapping ledger.ErrUnauthorized (and ErrCompromised
// if the key had been compromised by then) whose text is the reason.
// Errors wrap ledger.ErrNotFound for an unknown DID and ledger.ErrInvalid
// for a malformed one. kv is a read-only view of the identity namespace.
func ActsFor(kv *ledger.KV, did string, key tx.PublicKey, rel string, at time.Time) (*Standing, error) {
	st, err := KeyStanding(kv, did, key, rel, at)
	if err != nil {
		return nil, err
	}
	return st, st.refusal()
}

// ActingSigner returns the standing of a key of did among the signers of
// the transaction ctx executes that acts for did in rel ("" for any) at
// the block's time: the one a module records as having authorised it. If
// no signer is a key of did, or none of those acts, the error wraps
// ledger.ErrUnauthorized (and ErrCompromised if the signers' keys were
// compromised) and says why; an unknown DID wraps ledger.ErrNotFound.
// It reads the identity namespace through ctx.View.
func ActingSigner(ctx *ledger.Context, did, rel string) (*Standing, error) {
	s, err := load(ctx.View(Name), did)
	if err != nil {
		return nil, err
	}
	acting, refused := s.actingSigner(ctx, rel, ctx.Block.Time.UnixMilli())
	switch {
	case acting != nil:
		return acting, nil
	case refused != nil:
		return nil, refused.refusal()
	}
	return nil, fmt.Errorf("%w: no key of %s signed", ledger.ErrUnauthorized, did)
}

// actingSigner returns the standing at t of the first key of s among
// ctx's signers that acts in rel, or else that of the first that signed
// and does not.
func (s *State) actingSigner(ctx *ledger.Context, rel string, t int64) (acting, refused *Standing) {
	for i := range s.Keys {
		k := &s.Keys[i]
		if !ctx.Signed(k.PublicKey) {
			continue
		}
		st := s.standing(k, rel, t)
		if st.Acts {
			return st, nil
		}
		if refused == nil {
			refused = st
		}
	}
	return nil, refused
}

// refusal is nil if the key acts, and otherwise the error that refuses
// what it signed.
func (st *Standing) refusal() error {
	switch {
	case st.Acts:
		return nil
	case st.Compromised:
		return fmt.Errorf("%w: %w: %s", ledger.ErrUnauthorized, ErrCompromised, st.Reason)
	}
	return fmt.Errorf("%w: %s", ledger.ErrUnauthorized, st.Reason)
}

// keyIndexKey is the index entry saying that the key with address addr is
// a key of the DID id.
func keyIndexKey(addr, id string) []byte { return []byte("k/" + addr + "/" + id) }

// indexKeys writes the index entries of s's keys from the from-th on.
func indexKeys(kv *ledger.KV, s *State, from int) {
	for _, k := range s.Keys[from:] {
		kv.Set(keyIndexKey(k.PublicKey.Address(), s.ID), nil)
	}
}

// Standing implements ledger.Stander: a key has standing if it acts, at
// at, for a DID (in any relationship): a live DID holds it, and it is not
// revoked, suspended, rotated out or compromised. A fresh key gains
// standing by creating its DID; one that only ever held revoked keys has
// none. The scan reads the DIDs the key was ever added to, in id order,
// until one where it acts.
func (Module) Standing(kv *ledger.KV, key tx.PublicKey, at time.Time) (bool, error) {
	prefix := keyIndexKey(key.Address(), "")
	var ids []string
	err := kv.Iterate(prefix, func(k, _ []byte) (bool, error) {
		ids = append(ids, string(k))
		return true, nil
	})
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		st, err := KeyStanding(kv, Prefix+id, key, "", at)
		if err != nil {
			return false, err
		}
		if st.Acts {
			return true, nil
		}
	}
	return false, nil
}
