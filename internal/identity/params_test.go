package identity

import (
	"testing"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestParamsGoverned checks that the minimum delays are governance's:
// the executor offers identity.set_params, the holder cannot go below the
// minimum, and a governance decision (here the emergency officer's
// action) raises it for every DID at once, recoveries included.
func TestParamsGoverned(t *testing.T) {
	h := newGovLedger(t)
	if _, ok := h.Exec.Actions().Type("identity.set_params"); !ok {
		t.Fatalf("the executor offers no identity.set_params (have %v)", h.Exec.Actions().Names())
	}
	if p, err := LoadParams(h.view(nil)); err != nil || p != DefaultParams() {
		t.Fatalf("params before any decision: %+v %v", p, err)
	}
	if _, err := h.Exec.Actions().FromJSON("identity.set_params", []byte(`{"min_recovery_delay":0,"min_change_delay":60}`)); err == nil {
		t.Error("a zero minimum is accepted")
	}
	raise, err := h.Exec.Actions().FromJSON("identity.set_params", []byte(`{"min_recovery_delay":86400,"min_change_delay":3600}`))
	if err != nil {
		t.Fatal(err)
	}
	c, n, g1, r1 := keyFor(t, "holder", tx.Ed25519), keyFor(t, "holder-next", tx.Ed25519), keyFor(t, "g1", tx.Ed25519), keyFor(t, "r1", tx.Ed25519)
	did := h.create(c, n)
	guardians := func(delay uint64) *SetGuardians {
		return &SetGuardians{DID: did, Guardians: []tx.PublicKey{g1.Public()}, Threshold: 1, Delay: delay}
	}
	h.run([]step{
		{desc: "guardians with a 60 s delay, under the default minimum", keys: keys(c, n), typ: "set-guardians", msg: guardians(60), code: "ok"},
		{desc: "the users advise on an emergency", module: gov.Name, keys: keys(keyFor(t, "alice", tx.Ed25519)), typ: "advise",
			msg: &gov.Advise{As: "users", About: "emergency", Doc: gov.NewDocRef("Advice", "a")}, code: "ok"},
		{desc: "an emergency action raises the minimums", module: gov.Name, keys: keys(keyFor(t, "role-operator", tx.Ed25519)), typ: "emergency",
			msg: &gov.Act{Title: "Raise the identity delays", Actions: []ledger.Action{raise}, Minutes: gov.NewDocRef("Minutes", "m"),
				Consulted: "users", Advice: gov.NewDocRef("Advice", "a").ID()}, code: "ok"},
		{desc: "the holder may not choose less now", keys: keys(c, n), typ: "set-guardians", msg: guardians(3600), code: "invalid", reason: "at least 86400 seconds, the governed minimum"},
		{desc: "a controller alone proposes a change for an hour", keys: keys(c), typ: "set-guardians", msg: guardians(86400), code: "ok"},
		{desc: "which cannot complete sooner", keys: keys(c), typ: "complete-change", msg: &ChangeStep{DID: did, complete: true}, code: "conflict", reason: "not before"},
		{desc: "withdrawn", keys: keys(c), typ: "cancel-change", msg: &ChangeStep{DID: did}, code: "ok"},
		{desc: "the old guardians recover", keys: keys(g1), typ: "recover", msg: &Recover{DID: did, Key: r1.Public(), Next: Commitment(n.Public())}, code: "ok"},
	})
	p, err := LoadParams(h.view(nil))
	if err != nil || p.MinRecoveryDelay != 86400 || p.MinChangeDelay != 3600 {
		t.Fatalf("params after the decision: %+v %v", p, err)
	}
	s := h.did(did)
	if ch := s.Change; ch != nil {
		t.Errorf("a change is still pending: %+v", ch)
	}
	if got := s.Pending.Effective - s.Pending.Proposed; got != 86400_000 {
		t.Errorf("the recovery waits %d ms, not the governed minimum: the DID's 60 s delay won", got)
	}
	// The recovery's wait is in its event, so the history replays the
	// same under any later parameters.
	if _, _, err := Replay(h.view(nil), s.ID, s.Version); err != nil {
		t.Fatal(err)
	}
	h.roundTrip()
}
