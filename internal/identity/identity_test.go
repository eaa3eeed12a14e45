package identity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestLifecycle walks a DID through every operation, and every refusal,
// in order: each step is one transaction in a block of its own.
func TestLifecycle(t *testing.T) {
	h := newLedger(t)
	k0 := keyFor(t, "k0", tx.Ed25519)
	k1 := keyFor(t, "k1", tx.P256) // committed to at inception
	k2 := keyFor(t, "k2", tx.Ed25519)
	k3 := keyFor(t, "k3", tx.Secp256k1)
	mallory := keyFor(t, "mallory", tx.Ed25519)
	signing := keyFor(t, "signing", tx.P256)

	inception := &Create{Keys: []KeySpec{{PublicKey: k0.Public(), Relationships: []string{Authentication, CapabilityInvocation}}},
		Next: Commitment(k1.Public())}
	did := inception.DID()
	if !strings.HasPrefix(did, "did:agora:") || len(did) != len("did:agora:")+52 {
		t.Fatalf("DID %q", did)
	}
	if _, err := ParseDID(did); err != nil {
		t.Fatal(err)
	}
	other := &Create{Keys: []KeySpec{{PublicKey: mallory.Public(), Relationships: []string{CapabilityInvocation}}}, Next: Commitment(k2.Public())}

	steps := []struct {
		desc   string
		key    *tx.PrivateKey
		typ    string
		msg    any
		code   string // "ok" or the refusal's code
		reason string // a part of the refusal's text
	}{
		{desc: "unknown DID", key: k0, typ: "add-key", msg: &AddKey{DID: did, Key: KeySpec{PublicKey: signing.Public(), Relationships: []string{AssertionMethod}}}, code: "not_found", reason: "does not exist"},
		{desc: "inception signed by another key", key: mallory, typ: "create", msg: inception, code: "unauthorized", reason: "signed by its controller key"},
		{desc: "inception", key: k0, typ: "create", msg: inception, code: "ok"},
		{desc: "inception again", key: k0, typ: "create", msg: inception, code: "conflict", reason: "already exists"},
		{desc: "add a key: not the controller", key: mallory, typ: "add-key", msg: &AddKey{DID: did, Key: KeySpec{PublicKey: signing.Public(), Relationships: []string{AssertionMethod}}}, code: "unauthorized", reason: "not the controller key"},
		{desc: "add an assertion key", key: k0, typ: "add-key", msg: &AddKey{DID: did, Key: KeySpec{PublicKey: signing.Public(), Relationships: []string{AssertionMethod}}}, code: "ok"},
		{desc: "add it again", key: k0, typ: "add-key", msg: &AddKey{DID: did, Key: KeySpec{PublicKey: signing.Public(), Relationships: []string{Authentication}}}, code: "conflict", reason: "already"},
		{desc: "suspend it", key: k0, typ: "suspend", msg: &SetStatus{DID: did, KeyID: "key-1"}, code: "ok"},
		{desc: "suspend it again", key: k0, typ: "suspend", msg: &SetStatus{DID: did, KeyID: "key-1"}, code: "conflict", reason: "is suspended, not active"},
		{desc: "suspend an unknown key", key: k0, typ: "suspend", msg: &SetStatus{DID: did, KeyID: "key-9"}, code: "not_found", reason: "no key key-9"},
		{desc: "reinstate it", key: k0, typ: "reinstate", msg: &SetStatus{DID: did, KeyID: "key-1"}, code: "ok"},
		{desc: "reinstate an active key", key: k0, typ: "reinstate", msg: &SetStatus{DID: did, KeyID: "key-1"}, code: "conflict", reason: "is active, not suspended"},
		{desc: "revoke with a future compromise time", key: k0, typ: "revoke", msg: &Revoke{DID: did, KeyID: "key-1", CompromisedAt: genesisTime.Add(time.Hour).UnixMilli()}, code: "invalid", reason: "after the block time"},
		{desc: "revoke it, compromised earlier", key: k0, typ: "revoke", msg: &Revoke{DID: did, KeyID: "key-1", CompromisedAt: genesisTime.Add(5 * time.Second).UnixMilli()}, code: "ok"},
		{desc: "revoke it again", key: k0, typ: "revoke", msg: &Revoke{DID: did, KeyID: "key-1"}, code: "conflict", reason: "already revoked"},
		{desc: "reinstate a revoked key", key: k0, typ: "reinstate", msg: &SetStatus{DID: did, KeyID: "key-1"}, code: "conflict", reason: "is revoked"},
		{desc: "rotate to a key not committed to", key: k2, typ: "rotate", msg: &Rotate{DID: did, Key: k2.Public(), Next: Commitment(k3.Public())}, code: "unauthorized", reason: "pre-rotation commitment"},
		{desc: "rotate, signed by the old controller", key: k0, typ: "rotate", msg: &Rotate{DID: did, Key: k1.Public(), Next: Commitment(k2.Public())}, code: "unauthorized", reason: "signed by the key it rotates in"},
		{desc: "the controller suspends itself", key: k0, typ: "suspend", msg: &SetStatus{DID: did, KeyID: "key-0"}, code: "ok"},
		{desc: "a suspended controller may not update", key: k0, typ: "reinstate", msg: &SetStatus{DID: did, KeyID: "key-0"}, code: "unauthorized", reason: "is suspended"},
		{desc: "rotate to the committed key", key: k1, typ: "rotate", msg: &Rotate{DID: did, Key: k1.Public(), Next: Commitment(k2.Public())}, code: "ok"},
		{desc: "the old controller may not update", key: k0, typ: "add-key", msg: &AddKey{DID: did, Key: KeySpec{PublicKey: mallory.Public(), Relationships: []string{Authentication}}}, code: "unauthorized", reason: "not the controller"},
		{desc: "the new controller revokes itself", key: k1, typ: "revoke", msg: &Revoke{DID: did, KeyID: "key-2"}, code: "ok"},
		{desc: "a revoked controller may not update", key: k1, typ: "deactivate", msg: &Deactivate{DID: did}, code: "unauthorized", reason: "is revoked"},
		{desc: "rotate again, from a revoked controller", key: k2, typ: "rotate", msg: &Rotate{DID: did, Key: k2.Public(), Next: Commitment(k3.Public())}, code: "ok"},
		{desc: "a second DID", key: mallory, typ: "create", msg: other, code: "ok"},
		{desc: "deactivate: the controller alone proposes it", key: k2, typ: "deactivate", msg: &Deactivate{DID: did}, code: "ok"},
		{desc: "anyone completes it after the change delay", key: mallory, typ: "complete-change", msg: &ChangeStep{DID: did, complete: true}, code: "ok"},
		{desc: "update a deactivated DID", key: k2, typ: "add-key", msg: &AddKey{DID: did, Key: KeySpec{PublicKey: mallory.Public(), Relationships: []string{Authentication}}}, code: "gone", reason: "deactivated"},
		{desc: "rotate a deactivated DID", key: k3, typ: "rotate", msg: &Rotate{DID: did, Key: k3.Public(), Next: Commitment(k0.Public())}, code: "gone", reason: "deactivated"},
	}
	for _, s := range steps {
		r := h.do(s.key, s.typ, s.msg)
		if r.Code != s.code || !strings.Contains(r.Error, s.reason) {
			t.Fatalf("%s: got %s %q, want %s containing %q", s.desc, r.Code, r.Error, s.code, s.reason)
		}
	}

	id, _ := ParseDID(did)
	st, err := load(h.view(nil), did)
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != 11 || !st.Deactivated || st.Controller != "key-3" {
		t.Fatalf("final state: version %d deactivated %v controller %s", st.Version, st.Deactivated, st.Controller)
	}
	wantStatus := []string{Rotated, Revoked, Revoked, Active}
	for i, k := range st.Keys {
		if k.Status != wantStatus[i] {
			t.Errorf("%s: status %s, want %s", k.ID, k.Status, wantStatus[i])
		}
	}
	if got := st.Key("key-1").CompromisedAt; got != genesisTime.Add(5*time.Second).UnixMilli() {
		t.Errorf("compromise time %d", got)
	}
	// The relationships passed from controller to controller.
	if got := st.Key("key-3").Relationships; strings.Join(got, ",") != "authentication,capabilityInvocation" {
		t.Errorf("new controller's relationships %v", got)
	}

	// The history replays to the stored state, and every event names its
	// transaction, height and time.
	page, err := History(h.view(nil), did, 1, HistoryPageSize)
	if err != nil {
		t.Fatal(err)
	}
	hist := page.Events
	wantTypes := "create add-key suspend reinstate revoke suspend rotate revoke rotate deactivate complete-change"
	var types []string
	for _, e := range hist {
		types = append(types, e.Type)
		if e.Height == 0 || e.Time.IsZero() || e.TxHash == (tx.ID{}) {
			t.Errorf("event %d lacks its place: %+v", e.Version, e)
		}
	}
	// Refused steps are not events.
	if strings.Join(types, " ") != wantTypes || len(hist) != int(st.Version) {
		t.Fatalf("%d events for version %d: %v", len(hist), st.Version, types)
	}
	replayed, _, err := Replay(h.view(nil), id, st.Version)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := tx.Marshal(replayed)
	b, _ := tx.Marshal(st)
	if !bytes.Equal(a, b) {
		t.Errorf("replay differs from the stored state:\n%+v\n%+v", replayed, st)
	}

	// Genesis export and import give the same state.
	g, err := Module{}.ExportGenesis(h.view(nil))
	if err != nil {
		t.Fatal(err)
	}
	e, _ := ledger.NewExecutor(testChain, Module{})
	out, err := e.InitGenesis(&ledger.Genesis{ChainID: testChain, Time: genesisTime, Params: ledger.DefaultParams(),
		Modules: map[string]json.RawMessage{Name: g}})
	if err != nil {
		t.Fatalf("InitGenesis of the export: %v", err)
	}
	n := 0
	for _, w := range out.Writes {
		if k := string(w.Key); strings.HasPrefix(k, Name+"/") {
			n++
			if !bytes.Equal(h.State[k], w.Value) {
				t.Errorf("genesis import differs at %q", k)
			}
		}
	}
	if n == 0 {
		t.Error("genesis import wrote nothing")
	}
}

func TestValidate(t *testing.T) {
	k0 := keyFor(t, "k0", tx.Ed25519).Public()
	k1 := keyFor(t, "k1", tx.Ed25519).Public()
	did := (&Create{Keys: []KeySpec{{PublicKey: k0, Relationships: []string{CapabilityInvocation}}}, Next: Commitment(k1)}).DID()
	ctrl := []string{CapabilityInvocation}
	tests := []struct {
		name string
		msg  ledger.Msg
		ok   bool
	}{
		{name: "create", msg: &Create{Keys: []KeySpec{{PublicKey: k0, Relationships: ctrl}}, Next: Commitment(k1)}, ok: true},
		{name: "create, two keys", msg: &Create{Keys: []KeySpec{{PublicKey: k0, Relationships: ctrl}, {PublicKey: k1, Relationships: []string{AssertionMethod}}}, Next: Commitment(k1)}, ok: true},
		{name: "create, no keys", msg: &Create{Next: Commitment(k1)}},
		{name: "create, no controller", msg: &Create{Keys: []KeySpec{{PublicKey: k0, Relationships: []string{Authentication}}}, Next: Commitment(k1)}},
		{name: "create, two controllers", msg: &Create{Keys: []KeySpec{{PublicKey: k0, Relationships: ctrl}, {PublicKey: k1, Relationships: ctrl}}, Next: Commitment(k1)}},
		{name: "create, a key twice", msg: &Create{Keys: []KeySpec{{PublicKey: k0, Relationships: ctrl}, {PublicKey: k0, Relationships: []string{Authentication}}}, Next: Commitment(k1)}},
		{name: "create, short commitment", msg: &Create{Keys: []KeySpec{{PublicKey: k0, Relationships: ctrl}}, Next: []byte{1}}},
		{name: "create, committed to the controller", msg: &Create{Keys: []KeySpec{{PublicKey: k0, Relationships: ctrl}}, Next: Commitment(k0)}},
		{name: "create, unknown relationship", msg: &Create{Keys: []KeySpec{{PublicKey: k0, Relationships: []string{CapabilityInvocation, "owner"}}}, Next: Commitment(k1)}},
		{name: "create, relationships out of order", msg: &Create{Keys: []KeySpec{{PublicKey: k0, Relationships: []string{CapabilityInvocation, Authentication}}}, Next: Commitment(k1)}},
		{name: "create, bad key", msg: &Create{Keys: []KeySpec{{PublicKey: tx.PublicKey{Alg: tx.Ed25519, Key: []byte{1}}, Relationships: ctrl}}, Next: Commitment(k1)}},
		{name: "add-key", msg: &AddKey{DID: did, Key: KeySpec{PublicKey: k1, Relationships: []string{AssertionMethod}}}, ok: true},
		{name: "add-key for keyAgreement", msg: &AddKey{DID: did, Key: KeySpec{PublicKey: keyFor(t, "ka", tx.P256).Public(), Relationships: []string{KeyAgreement}}}, ok: true},
		{name: "add-key, Ed25519 for keyAgreement", msg: &AddKey{DID: did, Key: KeySpec{PublicKey: k1, Relationships: []string{AssertionMethod, KeyAgreement}}}},
		{name: "add-key with capabilityInvocation", msg: &AddKey{DID: did, Key: KeySpec{PublicKey: k1, Relationships: ctrl}}},
		{name: "add-key, no relationships", msg: &AddKey{DID: did, Key: KeySpec{PublicKey: k1}}},
		{name: "add-key, bad DID", msg: &AddKey{DID: "did:web:example.com", Key: KeySpec{PublicKey: k1, Relationships: []string{KeyAgreement}}}},
		{name: "add-key, upper-case id", msg: &AddKey{DID: strings.ToUpper(did[:10]) + strings.ToUpper(did[10:]), Key: KeySpec{PublicKey: k1, Relationships: []string{KeyAgreement}}}},
		{name: "rotate", msg: &Rotate{DID: did, Key: k1, Next: Commitment(k0)}, ok: true},
		{name: "rotate, committed to itself", msg: &Rotate{DID: did, Key: k1, Next: Commitment(k1)}},
		{name: "revoke", msg: &Revoke{DID: did, KeyID: "key-3"}, ok: true},
		{name: "revoke, bad key id", msg: &Revoke{DID: did, KeyID: "key-03"}},
		{name: "revoke, negative time", msg: &Revoke{DID: did, KeyID: "key-0", CompromisedAt: -1}},
		{name: "suspend, bad key id", msg: &SetStatus{DID: did, KeyID: "#key-1"}},
		{name: "deactivate", msg: &Deactivate{DID: did}, ok: true},
		{name: "deactivate, short id", msg: &Deactivate{DID: did[:len(did)-1]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.msg.Validate()
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ledger.ErrInvalid)) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestDecodeRefusals(t *testing.T) {
	k0 := keyFor(t, "k0", tx.Ed25519).Public()
	good, err := tx.Marshal(&Create{Keys: []KeySpec{{PublicKey: k0, Relationships: []string{CapabilityInvocation}}}, Next: Commitment(keyFor(t, "k1", tx.Ed25519).Public())})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (Module{}).Decode("create", good); err != nil {
		t.Fatalf("Decode(good) = %v", err)
	}
	if _, err := (Module{}).Decode("recover-everything", good); !errors.Is(err, ledger.ErrUnknownType) {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := (Module{}).Decode("create", append(good, 0)); !errors.Is(err, tx.ErrMalformed) {
		t.Errorf("trailing byte: %v", err)
	}
	if _, err := (Module{}).Decode("deactivate", good); !errors.Is(err, tx.ErrMalformed) {
		t.Errorf("a create body as a deactivate: %v", err)
	}
}

// FuzzDecode checks that no decoder panics and that each accepts only
// canonical encodings of valid messages.
func FuzzDecode(f *testing.F) {
	k0 := keyFor(f, "k0", tx.Ed25519).Public()
	k1 := keyFor(f, "k1", tx.P256).Public()
	c := &Create{Keys: []KeySpec{{PublicKey: k0, Relationships: []string{Authentication, CapabilityInvocation}}}, Next: Commitment(k1)}
	did := c.DID()
	for _, s := range []struct {
		typ string
		msg any
	}{
		{"create", c},
		{"rotate", &Rotate{DID: did, Key: k1, Next: Commitment(k0)}},
		{"add-key", &AddKey{DID: did, Key: KeySpec{PublicKey: k1, Relationships: []string{AssertionMethod}}}},
		{"revoke", &Revoke{DID: did, KeyID: "key-1", CompromisedAt: 1700000000000}},
		{"suspend", &SetStatus{DID: did, KeyID: "key-1"}},
		{"reinstate", &SetStatus{DID: did, KeyID: "key-1"}},
		{"deactivate", &Deactivate{DID: did}},
		{"set-guardians", &SetGuardians{DID: did, Guardians: []tx.PublicKey{k0, k1}, Threshold: 2, Delay: 30}},
		{"recover", &Recover{DID: did, Key: k1, Next: Commitment(k0)}},
		{"cancel-recovery", &RecoveryStep{DID: did}},
		{"complete-recovery", &RecoveryStep{DID: did}},
		{"cancel-change", &ChangeStep{DID: did}},
		{"complete-change", &ChangeStep{DID: did}},
		{"register-name", &RegisterName{Name: "tokyo.exchange", DID: did}},
		{"transfer-name", &TransferName{Name: "tokyo.exchange", To: did}},
		{"release-name", &ReleaseName{Name: "tokyo.exchange"}},
		{"attest", &Attest{Attester: did, Subject: Prefix + strings.Repeat("a", 52), Claim: "employment", Digest: Commitment(k0)}},
		{"revoke-attestation", &RevokeAttestation{Attester: did, Subject: Prefix + strings.Repeat("a", 52), Claim: "employment"}},
		{"anchor-verification", &AnchorVerification{Verifier: did, Digest: Commitment(k0)}},
		{"revoke-verification", &RevokeVerification{Verifier: did, Digest: Commitment(k0)}},
	} {
		b, err := tx.Marshal(s.msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s.typ, b)
	}
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		msg := ledgertest.Decoded(t, Module{}, typ, body)
		if msg == nil {
			return
		}
		if TypeOf(msg) != typ {
			t.Fatalf("decoded %s as %s", typ, TypeOf(msg))
		}
	})
}

// TestPinnedInception pins the bytes of an inception and the DID they
// derive: a change to the encoding would change every DID.
func TestPinnedInception(t *testing.T) {
	c := &Create{Keys: []KeySpec{{PublicKey: keyFor(t, "k0", tx.Ed25519).Public(), Relationships: []string{Authentication, CapabilityInvocation}}},
		Next: Commitment(keyFor(t, "k1", tx.Ed25519).Public())}
	b, err := tx.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	const wantHex = "a20181a201a20101025820adb8b0cf196903df935069612971d6824feff18d78a84b84a39fffabf6e06f8602826e61757468656e7469636174696f6e746361706162696c697479496e766f636174696f6e02582008b44e010e1b8ac3016628fa51148ff749dcfaac71e576ae6d13b709db5008df"
	const wantDID = "did:agora:to2lto2ecxxyefva7j6vueeen2rqm3bevv7h6ohmqcfdp3rczasa"
	if got := fmt.Sprintf("%x", b); got != wantHex {
		t.Errorf("inception bytes\n%s\nwant\n%s", got, wantHex)
	}
	if got := c.DID(); got != wantDID {
		t.Errorf("DID %s, want %s", got, wantDID)
	}
}

func TestGenesisRefusals(t *testing.T) {
	k0 := keyFor(t, "k0", tx.Ed25519)
	k1 := keyFor(t, "k1", tx.Ed25519)
	c := &Create{Keys: []KeySpec{{PublicKey: k0.Public(), Relationships: []string{CapabilityInvocation}}}, Next: Commitment(k1.Public())}
	cb, _ := tx.Marshal(c)
	db, _ := tx.Marshal(&Deactivate{DID: c.DID()})
	for _, tt := range []struct {
		name string
		g    Genesis
		ok   bool
	}{
		{name: "inception", g: Genesis{DIDs: []GenesisDID{{DID: c.DID(), Events: []Event{{Version: 1, Type: "create", Body: cb, Signer: k0.Public(), Time: 1}}}}}, ok: true},
		{name: "no inception", g: Genesis{DIDs: []GenesisDID{{DID: c.DID(), Events: []Event{{Version: 1, Type: "deactivate", Body: db, Signer: k0.Public(), Time: 1}}}}}},
		{name: "no events", g: Genesis{DIDs: []GenesisDID{{DID: c.DID()}}}},
		{name: "forged signer", g: Genesis{DIDs: []GenesisDID{{DID: c.DID(), Events: []Event{{Version: 1, Type: "create", Body: cb, Signer: k1.Public(), Time: 1}}}}}},
		{name: "out of order", g: Genesis{DIDs: []GenesisDID{{DID: c.DID(), Events: []Event{{Version: 2, Type: "create", Body: cb, Signer: k0.Public(), Time: 1}}}}}},
		{name: "another DID's events", g: Genesis{DIDs: []GenesisDID{{DID: "did:agora:" + strings.Repeat("a", 52), Events: []Event{{Version: 1, Type: "create", Body: cb, Signer: k0.Public(), Time: 1}}}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := json.Marshal(&tt.g)
			if err != nil {
				t.Fatal(err)
			}
			e, _ := ledger.NewExecutor(testChain, Module{})
			_, err = e.InitGenesis(&ledger.Genesis{ChainID: testChain, Time: genesisTime, Params: ledger.DefaultParams(),
				Modules: map[string]json.RawMessage{Name: raw}})
			if tt.ok != (err == nil) {
				t.Fatalf("InitGenesis = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestTypeOfDeclaredTypes shows that TypeOf names every declared type's
// message, those that share a struct included, and that Decode knows
// each.
func TestTypeOfDeclaredTypes(t *testing.T) {
	for _, mt := range (Module{}).MsgTypes() {
		t.Run(mt.Name, func(t *testing.T) {
			if got := TypeOf(mt.New()); got != mt.Name {
				t.Fatalf("TypeOf = %q", got)
			}
			b, err := tx.Marshal(mt.New())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := (Module{}).Decode(mt.Name, b); errors.Is(err, ledger.ErrUnknownType) {
				t.Fatalf("Decode: %v", err)
			}
		})
	}
}
