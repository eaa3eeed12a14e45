package identity

import (
	"errors"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestRecovery walks a DID through guardian recovery, and every refusal,
// in order: each step is one transaction in a block of its own, blocks a
// second apart.
func TestRecovery(t *testing.T) {
	h := newLedger(t)
	k0 := keyFor(t, "k0", tx.Ed25519)
	k1 := keyFor(t, "k1", tx.P256) // committed to at inception
	k2 := keyFor(t, "k2", tx.Ed25519)
	r1 := keyFor(t, "r1", tx.Ed25519) // proposed by the guardians
	r2 := keyFor(t, "r2", tx.Ed25519)
	g1 := keyFor(t, "g1", tx.Ed25519)
	g2 := keyFor(t, "g2", tx.P256)
	g3 := keyFor(t, "g3", tx.Secp256k1)
	mallory := keyFor(t, "mallory", tx.Ed25519)
	anyone := keyFor(t, "anyone", tx.Ed25519)

	did := h.create(k0, k1)
	guardians := &SetGuardians{DID: did, Guardians: []tx.PublicKey{g1.Public(), g2.Public(), g3.Public()}, Threshold: 2, Delay: 5}
	recovery := &Recover{DID: did, Key: r1.Public(), Next: Commitment(r2.Public())}
	cancel := &RecoveryStep{DID: did}
	complete := &RecoveryStep{DID: did, complete: true}

	steps := []struct {
		desc   string
		keys   []*tx.PrivateKey
		typ    string
		msg    any
		code   string // "ok" or the refusal's code
		reason string // a part of the refusal's text
		wait   int    // empty blocks before the step
	}{
		{desc: "recover before there are guardians", keys: []*tx.PrivateKey{g1, g2}, typ: "recover", msg: recovery, code: "unauthorized", reason: "has no guardians"},
		{desc: "set guardians: not the controller", keys: []*tx.PrivateKey{mallory}, typ: "set-guardians", msg: guardians, code: "unauthorized", reason: "not the controller"},
		{desc: "set guardians: proposed", keys: []*tx.PrivateKey{k0}, typ: "set-guardians", msg: guardians, code: "ok"},
		{desc: "set guardians: completed after the change delay", keys: []*tx.PrivateKey{anyone}, typ: "complete-change", msg: &ChangeStep{DID: did, complete: true}, code: "ok"},
		{desc: "below the threshold", keys: []*tx.PrivateKey{g1}, typ: "recover", msg: recovery, code: "unauthorized", reason: "needs 2 of its 3 guardians, not 1"},
		{desc: "a non-guardian signs", keys: []*tx.PrivateKey{g1, mallory}, typ: "recover", msg: recovery, code: "unauthorized", reason: "is not a guardian"},
		{desc: "a non-guardian among enough guardians", keys: []*tx.PrivateKey{g1, g2, mallory}, typ: "recover", msg: recovery, code: "unauthorized", reason: "is not a guardian"},
		{desc: "cancel with nothing pending", keys: []*tx.PrivateKey{k0}, typ: "cancel-recovery", msg: cancel, code: "not_found", reason: "no pending recovery"},
		{desc: "complete with nothing pending", keys: []*tx.PrivateKey{anyone}, typ: "complete-recovery", msg: complete, code: "not_found", reason: "no pending recovery"},
		{desc: "recover, 2 of 3", keys: []*tx.PrivateKey{g1, g3}, typ: "recover", msg: recovery, code: "ok"},
		{desc: "a second pending recovery", keys: []*tx.PrivateKey{g2, g3}, typ: "recover", msg: recovery, code: "conflict", reason: "already has a pending recovery"},
		{desc: "change guardians while pending", keys: []*tx.PrivateKey{k0}, typ: "set-guardians", msg: guardians, code: "conflict", reason: "pending recovery"},
		{desc: "cancel by a wrong key", keys: []*tx.PrivateKey{g1}, typ: "cancel-recovery", msg: cancel, code: "unauthorized", reason: "not the controller"},
		{desc: "cancel by the controller", keys: []*tx.PrivateKey{k0}, typ: "cancel-recovery", msg: cancel, code: "ok"},
		{desc: "complete a cancelled recovery", keys: []*tx.PrivateKey{anyone}, typ: "complete-recovery", msg: complete, code: "not_found", reason: "no pending recovery"},
		{desc: "recover again, 3 of 3", keys: []*tx.PrivateKey{g3, g2, g1}, typ: "recover", msg: recovery, code: "ok"},
		{desc: "cancel by the committed next key", keys: []*tx.PrivateKey{k1}, typ: "cancel-recovery", msg: cancel, code: "ok"},
		{desc: "recover a third time", keys: []*tx.PrivateKey{g2, g1}, typ: "recover", msg: recovery, code: "ok"},
		{desc: "complete too early", keys: []*tx.PrivateKey{anyone}, typ: "complete-recovery", msg: complete, code: "conflict", reason: "not before"},
		{desc: "the controller still acts", keys: []*tx.PrivateKey{k0}, typ: "add-key", msg: &AddKey{DID: did, Key: KeySpec{PublicKey: k2.Public(), Relationships: []string{AssertionMethod}}}, code: "ok"},
		{desc: "complete still too early", keys: []*tx.PrivateKey{anyone}, typ: "complete-recovery", msg: complete, code: "conflict", reason: "not before"},
		// the recovery was 4 blocks ago; one empty block makes 5 s, the delay
		{desc: "complete at the effective time", keys: []*tx.PrivateKey{anyone}, typ: "complete-recovery", msg: complete, code: "ok", wait: 1},
		{desc: "complete twice", keys: []*tx.PrivateKey{anyone}, typ: "complete-recovery", msg: complete, code: "not_found", reason: "no pending recovery"},
		{desc: "the old controller may not update", keys: []*tx.PrivateKey{k0}, typ: "suspend", msg: &SetStatus{DID: did, KeyID: "key-1"}, code: "unauthorized", reason: "not the controller"},
		{desc: "the old next key may not rotate", keys: []*tx.PrivateKey{k1}, typ: "rotate", msg: &Rotate{DID: did, Key: k1.Public(), Next: Commitment(k2.Public())}, code: "unauthorized", reason: "pre-rotation commitment"},
		{desc: "the recovered controller updates", keys: []*tx.PrivateKey{r1}, typ: "suspend", msg: &SetStatus{DID: did, KeyID: "key-1"}, code: "ok"},
		{desc: "the recovered commitment rotates", keys: []*tx.PrivateKey{r2}, typ: "rotate", msg: &Rotate{DID: did, Key: r2.Public(), Next: Commitment(k2.Public())}, code: "ok"},
	}
	for _, s := range steps {
		for range s.wait {
			h.Empty()
		}
		r := h.doAll(s.keys, s.typ, s.msg)
		if r.Code != s.code || !strings.Contains(r.Error, s.reason) {
			t.Fatalf("%s: got %s %q, want %s containing %q", s.desc, r.Code, r.Error, s.code, s.reason)
		}
	}

	st, err := load(h.view(nil), did)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != nil || st.Controller != "key-3" || st.Key("key-0").Status != Revoked || st.Key("key-2").Status != Rotated {
		t.Fatalf("final state: %+v", st)
	}
	if k := st.Key("key-0"); k.CompromisedAt != k.Changed {
		t.Errorf("the recovered-away controller is revoked at %d, changed at %d", k.CompromisedAt, k.Changed)
	}
	page, err := History(h.view(nil), did, 1, HistoryPageSize)
	if err != nil {
		t.Fatal(err)
	}
	hist := page.Events
	var types []string
	for _, e := range hist {
		types = append(types, e.Type)
	}
	want := "create set-guardians complete-change recover cancel-recovery recover cancel-recovery recover add-key complete-recovery suspend rotate"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("history %s\nwant %s", got, want)
	}
	if n := len(hist[3].Signers); n != 2 {
		t.Errorf("the recovery event records %d signers, want 2", n)
	}
	// The history replays, including the multi-signer events.
	if _, _, err := Replay(h.view(nil), st.ID, st.Version); err != nil {
		t.Fatal(err)
	}
}

// TestRecoveryMetadata checks that resolution shows a pending recovery,
// and that historical resolution shows it as of the version asked for.
func TestRecoveryMetadata(t *testing.T) {
	h := newLedger(t)
	k0, k1 := keyFor(t, "k0", tx.Ed25519), keyFor(t, "k1", tx.Ed25519)
	g1, r1 := keyFor(t, "g1", tx.Ed25519), keyFor(t, "r1", tx.Ed25519)
	did := h.create(k0, k1)
	h.must(k0, "set-guardians", &SetGuardians{DID: did, Guardians: []tx.PublicKey{g1.Public()}, Threshold: 1, Delay: 60})
	h.must(k0, "complete-change", &ChangeStep{DID: did, complete: true})
	h.must(g1, "recover", &Recover{DID: did, Key: r1.Public(), Next: Commitment(k1.Public())})
	res, err := Resolve(h.view(nil), did, "", "")
	if err != nil {
		t.Fatal(err)
	}
	p := res.DocumentMetadata.Recovery
	if p == nil || !p.Key.Equal(r1.Public()) || p.Effective != stamp(h.Head.Time+60_000) {
		t.Fatalf("pending recovery %+v (block time %s)", p, stamp(h.Head.Time))
	}
	old, err := Resolve(h.view(nil), did, "3", "")
	if err != nil {
		t.Fatal(err)
	}
	if old.DocumentMetadata.Recovery != nil {
		t.Errorf("version 3 shows a recovery")
	}
}

func TestValidateRecovery(t *testing.T) {
	k0 := keyFor(t, "k0", tx.Ed25519).Public()
	k1 := keyFor(t, "k1", tx.Ed25519).Public()
	did := (&Create{Keys: []KeySpec{{PublicKey: k0, Relationships: []string{CapabilityInvocation}}}, Next: Commitment(k1)}).DID()
	var many []tx.PublicKey
	for i := range MaxGuardians + 1 {
		many = append(many, keyFor(t, "g"+strings.Repeat("x", i), tx.Ed25519).Public())
	}
	tests := []struct {
		name string
		msg  ledger.Msg
		ok   bool
	}{
		{name: "guardians", msg: &SetGuardians{DID: did, Guardians: []tx.PublicKey{k0, k1}, Threshold: 2, Delay: 1}, ok: true},
		{name: "sixteen guardians", msg: &SetGuardians{DID: did, Guardians: many[:MaxGuardians], Threshold: 16, Delay: 1}, ok: true},
		{name: "seventeen guardians", msg: &SetGuardians{DID: did, Guardians: many, Threshold: 1, Delay: 1}},
		{name: "no guardians", msg: &SetGuardians{DID: did, Threshold: 1, Delay: 1}},
		{name: "threshold 0", msg: &SetGuardians{DID: did, Guardians: []tx.PublicKey{k0}, Threshold: 0, Delay: 1}},
		{name: "threshold above N", msg: &SetGuardians{DID: did, Guardians: []tx.PublicKey{k0}, Threshold: 2, Delay: 1}},
		{name: "a guardian twice", msg: &SetGuardians{DID: did, Guardians: []tx.PublicKey{k0, k0}, Threshold: 1, Delay: 1}},
		{name: "no delay", msg: &SetGuardians{DID: did, Guardians: []tx.PublicKey{k0}, Threshold: 1, Delay: 0}},
		{name: "delay too long", msg: &SetGuardians{DID: did, Guardians: []tx.PublicKey{k0}, Threshold: 1, Delay: MaxRecoveryDelay + 1}},
		{name: "recover", msg: &Recover{DID: did, Key: k1, Next: Commitment(k0)}, ok: true},
		{name: "recover, committed to itself", msg: &Recover{DID: did, Key: k1, Next: Commitment(k1)}},
		{name: "recover, short commitment", msg: &Recover{DID: did, Key: k1, Next: []byte{1}}},
		{name: "cancel-recovery, bad DID", msg: &RecoveryStep{DID: "did:agora:x"}},
		{name: "complete-change", msg: &ChangeStep{DID: did, complete: true}, ok: true},
		{name: "cancel-change, bad DID", msg: &ChangeStep{DID: "did:agora:x"}},
		{name: "params", msg: &Params{MinRecoveryDelay: 1, MinChangeDelay: MaxRecoveryDelay}, ok: true},
		{name: "params, no change delay", msg: &Params{MinRecoveryDelay: 60}},
		{name: "params, recovery delay over a year", msg: &Params{MinRecoveryDelay: MaxRecoveryDelay + 1, MinChangeDelay: 60}},
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
