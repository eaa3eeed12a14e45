package identity

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestActsFor asks whether a key acts for a DID, for a relationship, at a
// time, as a module authorising a record does: the controller acts in
// every relationship; a key only in its own; not before it was added;
// nothing signed by a key at or after the time it was revoked as
// compromised, but what it signed before.
func TestActsFor(t *testing.T) {
	h := newLedger(t)
	c, n, auth, stranger := keyFor(t, "holder", tx.Ed25519), keyFor(t, "holder-next", tx.Ed25519), keyFor(t, "auth", tx.P256), keyFor(t, "stranger", tx.Ed25519)
	did := h.create(c, n)
	added := h.Next()
	h.must(c, "add-key", &AddKey{DID: did, Key: KeySpec{PublicKey: auth.Public(), Relationships: []string{Authentication}}})
	for range 5 {
		h.Empty()
	}
	compromised := added.Add(3 * time.Second)
	h.must(c, "revoke", &Revoke{DID: did, KeyID: "key-1", CompromisedAt: compromised.UnixMilli()})
	kv := h.view(nil)

	tests := []struct {
		desc        string
		did         string
		key         *tx.PrivateKey
		rel         string
		at          time.Time
		keyID       string // when it acts
		err         error  // when it does not
		compromised bool
		reason      string
	}{
		{desc: "the controller, for any relationship", did: did, key: c, at: added, keyID: "key-0"},
		{desc: "the controller, for assertions", did: did, key: c, rel: AssertionMethod, at: added, keyID: "key-0"},
		{desc: "an authentication key, for authentication", did: did, key: auth, rel: Authentication, at: added, keyID: "key-1"},
		{desc: "an authentication key, for assertions", did: did, key: auth, rel: AssertionMethod, at: added,
			err: ledger.ErrUnauthorized, reason: "is not for assertionMethod"},
		{desc: "a key before it was added", did: did, key: auth, rel: Authentication, at: added.Add(-time.Second),
			err: ledger.ErrUnauthorized, reason: "was added at"},
		{desc: "a key after it was compromised", did: did, key: auth, rel: Authentication, at: compromised.Add(time.Second),
			err: ledger.ErrUnauthorized, compromised: true, reason: "was compromised at"},
		{desc: "a key at the moment it was compromised", did: did, key: auth, rel: Authentication, at: compromised,
			err: ledger.ErrUnauthorized, compromised: true, reason: "was compromised at"},
		{desc: "a key just before it was compromised, though revoked later", did: did, key: auth, rel: Authentication, at: compromised.Add(-time.Millisecond), keyID: "key-1"},
		{desc: "a key of no DID", did: did, key: stranger, at: added, err: ledger.ErrUnauthorized, reason: "is not a key of"},
		{desc: "an unknown DID", did: (&Create{Keys: []KeySpec{{PublicKey: stranger.Public(), Relationships: []string{CapabilityInvocation}}}, Next: Commitment(n.Public())}).DID(),
			key: stranger, at: added, err: ledger.ErrNotFound},
		{desc: "a malformed DID", did: "did:agora:nope", key: c, at: added, err: ledger.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			st, err := ActsFor(kv, tt.did, tt.key.Public(), tt.rel, tt.at)
			if tt.err == nil {
				if err != nil || st == nil || !st.Acts || st.KeyID != tt.keyID {
					t.Fatalf("ActsFor = %+v, %v; want %s to act", st, err, tt.keyID)
				}
				return
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("ActsFor = %+v, %v; want %v", st, err, tt.err)
			}
			if got := errors.Is(err, ErrCompromised); got != tt.compromised {
				t.Errorf("errors.Is(%v, ErrCompromised) = %v, want %v", err, got, tt.compromised)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
			if code := ledger.Code(err); tt.err == ledger.ErrUnauthorized && code != "unauthorized" {
				t.Errorf("code %q, want unauthorized", code)
			}
		})
	}
}

// relying is a module that records who acted for a DID, as every later
// module does: it asks identity which of a transaction's signers acts for
// the DID, through ActingSigner.
type relying struct{}

type relyOn struct {
	DID string `cbor:"1,keyasint"`
	Rel string `cbor:"2,keyasint,omitempty"`
}

func (*relyOn) Validate() error { return nil }

func (relying) Name() string { return "relying" }
func (relying) Decode(typ string, body []byte) (ledger.Msg, error) {
	var m relyOn
	return &m, tx.Unmarshal(body, &m)
}
func (relying) Execute(ctx *ledger.Context, msg ledger.Msg) error {
	m := msg.(*relyOn)
	st, err := ActingSigner(ctx, m.DID, m.Rel)
	if err != nil {
		return err
	}
	ctx.Emit("acted", ledger.Attr{Key: "key_id", Value: st.KeyID})
	return nil
}
func (relying) Queries() []ledger.Query                           { return nil }
func (relying) InitGenesis(*ledger.KV, json.RawMessage) error     { return nil }
func (relying) ExportGenesis(*ledger.KV) (json.RawMessage, error) { return nil, nil }

// TestActingSigner runs a module that relies on identity for who acted:
// the signer that acts for the DID is recorded; a transaction signed by
// no key of it, or only by keys that do not act, is refused with the
// reason, and as compromised when its key was.
func TestActingSigner(t *testing.T) {
	e, err := ledger.NewExecutor(testChain, Module{}, relying{})
	if err != nil {
		t.Fatal(err)
	}
	h := startLedger(t, e, &ledger.Genesis{ChainID: testChain, Time: genesisTime, Params: ledger.DefaultParams()})
	c, n, auth, stolen, stranger := keyFor(t, "holder", tx.Ed25519), keyFor(t, "holder-next", tx.Ed25519),
		keyFor(t, "auth", tx.P256), keyFor(t, "stolen", tx.Ed25519), keyFor(t, "stranger", tx.Ed25519)
	did := h.create(c, n)
	h.must(c, "add-key", &AddKey{DID: did, Key: KeySpec{PublicKey: auth.Public(), Relationships: []string{Authentication}}})
	h.must(c, "add-key", &AddKey{DID: did, Key: KeySpec{PublicKey: stolen.Public(), Relationships: []string{AssertionMethod}}})
	h.must(c, "revoke", &Revoke{DID: did, KeyID: "key-2", CompromisedAt: h.Next().UnixMilli()})

	tests := []struct {
		desc   string
		keys   []*tx.PrivateKey
		rel    string
		code   string
		keyID  string // the key recorded, when ok
		reason string
	}{
		{desc: "the controller", keys: keys(c), rel: AssertionMethod, code: "ok", keyID: "key-0"},
		{desc: "a key in its relationship", keys: keys(auth), rel: Authentication, code: "ok", keyID: "key-1"},
		{desc: "a stranger co-signing with the key", keys: keys(stranger, auth), rel: Authentication, code: "ok", keyID: "key-1"},
		{desc: "a key outside its relationship", keys: keys(auth), rel: AssertionMethod, code: "unauthorized", reason: "is not for assertionMethod"},
		{desc: "a compromised key", keys: keys(stolen), rel: AssertionMethod, code: "unauthorized", reason: "was compromised at"},
		{desc: "no key of the DID", keys: keys(stranger), code: "unauthorized", reason: "no key of " + did + " signed"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			r := h.Do("relying", tt.keys, "act", &relyOn{DID: did, Rel: tt.rel})
			if r.Code != tt.code || !strings.Contains(r.Error, tt.reason) {
				t.Fatalf("result %s %q, want %s %q", r.Code, r.Error, tt.code, tt.reason)
			}
			if tt.code == "ok" && (len(r.Events) != 1 || r.Events[0].Attrs[0].Value != tt.keyID) {
				t.Errorf("events %+v, want %s recorded", r.Events, tt.keyID)
			}
		})
	}
}
