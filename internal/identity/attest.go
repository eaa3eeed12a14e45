package identity

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Attestations (RelateID): one identity vouches for a claim about
// another. The ledger holds the claim's type and SHA-256(salt || claim),
// never the claim: whoever the subject shows the claim and salt to can
// check it against the attestation.

// AttestersResource is the governance registry of accredited attesters:
// an entry keyed by an attester's DID with the value Accredited makes the
// attester's attestations weigh more in a confidence score.
const AttestersResource = "attesters"

// Accredited is the value of an accreditation entry.
const Accredited = "accredited"

// MaxAttestations bounds the attestations about one subject by
// unaccredited attesters, and separately those by accredited ones
// (accredited when they attested), so that throwaway identities cannot
// fill the slots an accredited attester needs. The subject may revoke
// unwanted ones to make room.
const MaxAttestations = 64

// The confidence score, in thousandths (docs/spec/did-agora.md): each
// distinct attester of a live attestation about the subject adds
// AccreditedWeight if it is accredited, UnaccreditedWeight if not, the
// unaccredited together at most UnaccreditedCap, the whole at most
// MaxScore. Deactivated attesters add nothing.
const (
	AccreditedWeight   = 400
	UnaccreditedWeight = 50
	UnaccreditedCap    = 200
	MaxScore           = 1000
)

var claimRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func validClaim(s string) error {
	if !claimRE.MatchString(s) {
		return fmt.Errorf("%w: claim type %q: use 1 to 64 of a-z, 0-9, '.', '_' and '-', beginning with a letter or digit", ledger.ErrInvalid, s)
	}
	return nil
}

// ClaimDigest returns SHA-256(salt || claim): what an attestation (or a
// verification anchor, with the ID file as the claim) records.
func ClaimDigest(salt, claim []byte) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write(claim)
	return h.Sum(nil)
}

// Attest is the body of an "attest" transaction: Attester vouches for a
// claim of type Claim about Subject, whose salted hash is Digest. It is
// signed by the attester's controller or one of its active
// assertionMethod keys.
type Attest struct {
	Attester string `cbor:"1,keyasint" json:"attester"`
	Subject  string `cbor:"2,keyasint" json:"subject"`
	Claim    string `cbor:"3,keyasint" json:"claim"`
	Digest   []byte `cbor:"4,keyasint" json:"digest"`
}

// Validate checks the message without state.
func (m *Attest) Validate() error {
	if err := validPair(m.Attester, m.Subject, m.Claim); err != nil {
		return err
	}
	return validDigest("the claim's digest", m.Digest)
}

func validPair(attester, subject, claim string) error {
	if _, err := ParseDID(attester); err != nil {
		return err
	}
	if _, err := ParseDID(subject); err != nil {
		return err
	}
	if attester == subject {
		return fmt.Errorf("%w: an identity cannot attest about itself", ledger.ErrInvalid)
	}
	return validClaim(claim)
}

// RevokeAttestation is the body of a "revoke-attestation" transaction,
// signed by the attester (as for Attest) or by the subject's controller:
// the attestation is removed.
type RevokeAttestation struct {
	Attester string `cbor:"1,keyasint" json:"attester"`
	Subject  string `cbor:"2,keyasint" json:"subject"`
	Claim    string `cbor:"3,keyasint" json:"claim"`
}

// Validate checks the message without state.
func (m *RevokeAttestation) Validate() error { return validPair(m.Attester, m.Subject, m.Claim) }

// Attestation is a recorded attestation.
//
// Evolution: fields are numbered; new optional fields take new numbers.
type Attestation struct {
	Attester string   `cbor:"1,keyasint" json:"attester"`
	Subject  string   `cbor:"2,keyasint" json:"subject"`
	Claim    string   `cbor:"3,keyasint" json:"claim"`
	Digest   HexBytes `cbor:"4,keyasint" json:"digest"`
	KeyID    string   `cbor:"5,keyasint" json:"key_id"` // the attester's key that signed
	Time     gov.Time `cbor:"6,keyasint" json:"time"`
	Height   uint64   `cbor:"7,keyasint" json:"height"`
	TxID     tx.ID    `cbor:"8,keyasint" json:"tx_hash"`
	// Accredited: the attester was accredited when it attested, so the
	// attestation took one of the subject's accredited slots.
	Accredited bool `cbor:"9,keyasint,omitempty" json:"accredited_slot,omitempty"`
}

// HexBytes is bytes: a byte string in CBOR, hex in JSON.
type HexBytes []byte

// MarshalText implements encoding.TextMarshaler.
func (b HexBytes) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(b)), nil }

// JSONSchema describes HexBytes' JSON, for the API's OpenAPI document.
func (HexBytes) JSONSchema() map[string]any {
	return map[string]any{"type": "string", "pattern": "^([0-9a-f]{2})*$", "description": "lower-case hex"}
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *HexBytes) UnmarshalText(t []byte) error {
	v, err := hex.DecodeString(string(t))
	*b = v
	return err
}

// AttestationRef names one attestation about a subject.
type AttestationRef struct {
	Attester string `cbor:"1,keyasint" json:"attester"`
	Claim    string `cbor:"2,keyasint" json:"claim"`
	// Accredited says the attester was accredited when it attested: the
	// attestation took one of the accredited slots.
	Accredited bool `cbor:"3,keyasint,omitempty" json:"accredited,omitempty"`
}

// slotsUsed counts the refs in index that took accredited slots, or not.
func slotsUsed(index []AttestationRef, accredited bool) int {
	n := 0
	for _, r := range index {
		if r.Accredited == accredited {
			n++
		}
	}
	return n
}

func attestationKey(subjectID, attesterID, claim string) []byte {
	return []byte("a/" + subjectID + "/" + attesterID + "/" + claim)
}

// indexKey holds a subject's AttestationRefs, sorted: point reads then
// cover every attestation about it, so a list or score is provable.
func indexKey(subjectID string) []byte { return []byte("ai/" + subjectID) }

// signedBy returns the id of a key of s among the signers that acts for
// it in rel now (KeyStanding: the controller acts in every relationship;
// a key added by a compromised key does not act); "" if none.
func signedBy(ctx *ledger.Context, s *State, rel string) string {
	if st, _ := s.actingSigner(ctx, rel, ctx.Block.Time.UnixMilli()); st != nil {
		return st.KeyID
	}
	return ""
}

// assertingKey loads did and returns the id of its signing key that may
// make assertions: the active controller or an active assertionMethod key.
func assertingKey(ctx *ledger.Context, did string) (*State, string, error) {
	s, err := load(ctx.KV, did)
	if err != nil {
		return nil, "", err
	}
	if s.Deactivated {
		return nil, "", fmt.Errorf("%w: %s was deactivated", ledger.ErrGone, did)
	}
	id := signedBy(ctx, s, AssertionMethod)
	if id == "" {
		return nil, "", fmt.Errorf("%w: %s's controller or an active assertionMethod key of it must sign", ledger.ErrUnauthorized, did)
	}
	return s, id, nil
}

func isGone(err error) bool { return errors.Is(err, ledger.ErrGone) }

// executeAttestation runs attest and revoke-attestation.
func executeAttestation(ctx *ledger.Context, msg ledger.Msg) error {
	var ref AttestationRef
	var subject string
	switch m := msg.(type) {
	case *Attest:
		ref, subject = AttestationRef{Attester: m.Attester, Claim: m.Claim}, m.Subject
	case *RevokeAttestation:
		ref, subject = AttestationRef{Attester: m.Attester, Claim: m.Claim}, m.Subject
	}
	subjectID, _ := ParseDID(subject)
	attesterID, _ := ParseDID(ref.Attester)
	key := attestationKey(subjectID, attesterID, ref.Claim)
	var index []AttestationRef
	if _, err := ctx.KV.GetValue(indexKey(subjectID), &index); err != nil {
		return err
	}
	i, found := slices.BinarySearchFunc(index, ref, compareRefs)
	switch m := msg.(type) {
	case *Attest:
		_, keyID, err := assertingKey(ctx, m.Attester)
		if err != nil {
			return fmt.Errorf("the attester: %w", err)
		}
		s, err := load(ctx.KV, m.Subject)
		if err != nil {
			return fmt.Errorf("the subject: %w", err)
		}
		if s.Deactivated {
			return fmt.Errorf("the subject: %w: %s was deactivated", ledger.ErrGone, m.Subject)
		}
		if found {
			return fmt.Errorf("%w: %s already attests %s about %s: revoke it first", ledger.ErrConflict, m.Attester, m.Claim, m.Subject)
		}
		e, isEntry, err := gov.EntryIn(ctx.View(gov.Name), AttestersResource, m.Attester)
		if err != nil {
			return err
		}
		ref.Accredited = isEntry && e.Value == Accredited
		if slotsUsed(index, ref.Accredited) >= MaxAttestations {
			kind := map[bool]string{true: "accredited", false: "unaccredited"}[ref.Accredited]
			return fmt.Errorf("%w: %s has %d attestations by %s attesters, the most a subject may have; it may revoke unwanted ones", ledger.ErrInvalid, m.Subject, MaxAttestations, kind)
		}
		a := Attestation{Attester: m.Attester, Subject: m.Subject, Claim: m.Claim, Digest: m.Digest, KeyID: keyID,
			Time: gov.Time(ctx.Block.Time.UnixMilli()), Height: ctx.Block.Height, TxID: ctx.TxID, Accredited: ref.Accredited}
		if err := ctx.KV.SetValue(key, &a); err != nil {
			return err
		}
		index = slices.Insert(index, i, ref)
		ctx.Emit("attested", ledger.Attr{Key: "attester", Value: m.Attester}, ledger.Attr{Key: "subject", Value: m.Subject}, ledger.Attr{Key: "claim", Value: m.Claim})
	case *RevokeAttestation:
		if !found {
			return fmt.Errorf("%w: %s has no attestation of %s about %s", ledger.ErrNotFound, m.Attester, m.Claim, m.Subject)
		}
		by := m.Attester
		if _, _, err := assertingKey(ctx, m.Attester); err != nil {
			s, serr := load(ctx.KV, m.Subject)
			if serr != nil || signedBy(ctx, s, CapabilityInvocation) == "" || s.Deactivated {
				return fmt.Errorf("%w: the attester (its controller or an assertionMethod key) or the subject's controller must sign a revocation", ledger.ErrUnauthorized)
			}
			by = m.Subject
		}
		ctx.KV.Delete(key)
		index = slices.Delete(index, i, i+1)
		ctx.Emit("attestation-revoked", ledger.Attr{Key: "attester", Value: m.Attester}, ledger.Attr{Key: "subject", Value: m.Subject},
			ledger.Attr{Key: "claim", Value: m.Claim}, ledger.Attr{Key: "by", Value: by})
	}
	if len(index) == 0 {
		ctx.KV.Delete(indexKey(subjectID))
		return nil
	}
	return ctx.KV.SetValue(indexKey(subjectID), index)
}

func compareRefs(a, b AttestationRef) int {
	if c := bytes.Compare([]byte(a.Attester), []byte(b.Attester)); c != 0 {
		return c
	}
	return bytes.Compare([]byte(a.Claim), []byte(b.Claim))
}

// AttestationStatus is an attestation and the standing, at the time it
// was made, of the attester's key that signed it: an attestation signed
// by a key compromised by then is not Valid, and counts for nothing.
type AttestationStatus struct {
	Attestation
	Valid    bool      `json:"valid"`
	Standing *Standing `json:"standing"`
}

// Attestations returns the attestations about did, by attester and claim
// type, each with the standing of the key that signed it, with point
// reads only: the subject's index, then each one and its attester.
func Attestations(kv *ledger.KV, did string) ([]AttestationStatus, error) {
	if _, err := load(kv, did); err != nil {
		return nil, err
	}
	id, _ := ParseDID(did)
	var index []AttestationRef
	if _, err := kv.GetValue(indexKey(id), &index); err != nil {
		return nil, err
	}
	out := []AttestationStatus{}
	for _, r := range index {
		aid, err := ParseDID(r.Attester)
		if err != nil {
			return nil, fmt.Errorf("%w: the index of %s: %v", ledger.ErrStorage, did, err)
		}
		var a Attestation
		found, err := kv.GetValue(attestationKey(id, aid, r.Claim), &a)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("%w: %s's index lists a missing attestation", ledger.ErrStorage, did)
		}
		st, err := KeyIDStanding(kv, a.Attester, a.KeyID, AssertionMethod, time.UnixMilli(int64(a.Time)))
		if err != nil {
			return nil, fmt.Errorf("%w: attester %s: %v", ledger.ErrStorage, a.Attester, err)
		}
		out = append(out, AttestationStatus{Attestation: a, Valid: st.Acts, Standing: st})
	}
	return out, nil
}

// Score is a subject's confidence score and how it was reached.
type Score struct {
	DID string `json:"did"`
	// Score is in thousandths: 0 to MaxScore.
	Score     int              `json:"score"`
	Attesters []AttesterWeight `json:"attesters"`
}

// AttesterWeight is one attester's part in a score.
type AttesterWeight struct {
	DID    string   `json:"did"`
	Claims []string `json:"claims"`
	// Discounted are its claims signed by a key compromised by then:
	// they count for nothing.
	Discounted []string `json:"discounted,omitempty"`
	Accredited bool     `json:"accredited"`
	// Deactivated attesters count for nothing.
	Deactivated bool `json:"deactivated,omitempty"`
	Weight      int  `json:"weight"`
}

// ConfidenceScore computes did's confidence score from its live
// attestations and the attesters' accreditation in the governance
// registry AttestersResource (gv, a view of the governance namespace),
// with point reads only.
func ConfidenceScore(kv, gv *ledger.KV, did string) (*Score, error) {
	atts, err := Attestations(kv, did)
	if err != nil {
		return nil, err
	}
	sc := &Score{DID: did, Attesters: []AttesterWeight{}}
	unaccredited := 0
	for i := 0; i < len(atts); { // sorted by attester
		a := atts[i]
		p := AttesterWeight{DID: a.Attester, Claims: []string{}}
		for ; i < len(atts) && atts[i].Attester == a.Attester; i++ {
			if atts[i].Valid {
				p.Claims = append(p.Claims, atts[i].Claim)
			} else {
				p.Discounted = append(p.Discounted, atts[i].Claim)
			}
		}
		s, err := load(kv, a.Attester)
		if err != nil {
			return nil, fmt.Errorf("%w: attester %s: %v", ledger.ErrStorage, a.Attester, err)
		}
		e, found, err := gov.EntryIn(gv, AttestersResource, a.Attester)
		if err != nil {
			return nil, err
		}
		p.Accredited = found && e.Value == Accredited
		switch {
		case s.Deactivated:
			p.Deactivated = true
		case len(p.Claims) == 0: // every claim signed by a compromised key
		case p.Accredited:
			p.Weight = AccreditedWeight
		default:
			p.Weight = min(UnaccreditedWeight, UnaccreditedCap-unaccredited)
			unaccredited += p.Weight
		}
		sc.Score += p.Weight
		sc.Attesters = append(sc.Attesters, p)
	}
	sc.Score = min(sc.Score, MaxScore)
	return sc, nil
}
