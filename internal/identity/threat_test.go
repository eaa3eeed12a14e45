package identity

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// The threat table of docs/spec/did-agora.md ("Key compromise"), a test
// per row. Each story runs in blocks a second apart under governed
// delays long enough that "too early" is never a race.

// newLedgerParams runs the identity module with the governed params p.
func newLedgerParams(t *testing.T, p Params) *ledgerH {
	t.Helper()
	e, err := ledger.NewExecutor(testChain, Module{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := json.Marshal(&Genesis{Params: &p})
	if err != nil {
		t.Fatal(err)
	}
	return startLedger(t, e, &ledger.Genesis{ChainID: testChain, Time: genesisTime, Params: ledger.DefaultParams(),
		Modules: map[string]json.RawMessage{Name: g}})
}

// wait applies n empty blocks: n seconds pass.
func (h *ledgerH) wait(n int) {
	for range n {
		h.Empty()
	}
}

func (h *ledgerH) did(did string) *State {
	h.T.Helper()
	s, err := load(h.view(nil), did)
	if err != nil {
		h.T.Fatal(err)
	}
	return s
}

// TestThreatStolenCurrentKey: a thief with the controller key alone
// cannot take the DID (name his own guardians and recover, as the
// attacker's review did in four seconds) nor deactivate it: both wait
// out the governed change delay, and the holder's next key cancels them
// or rotates them away. Her guardians still recover afterwards.
func TestThreatStolenCurrentKey(t *testing.T) {
	h := newLedgerParams(t, Params{MinRecoveryDelay: 5, MinChangeDelay: 3600})
	c, n, n2 := keyFor(t, "holder", tx.Ed25519), keyFor(t, "holder-next", tx.Ed25519), keyFor(t, "holder-next2", tx.Ed25519)
	thiefG, thiefNew := keyFor(t, "thief-guardian", tx.Ed25519), keyFor(t, "thief-new", tx.Ed25519)
	g1, g2, r1 := keyFor(t, "g1", tx.Ed25519), keyFor(t, "g2", tx.Ed25519), keyFor(t, "r1", tx.Ed25519)
	anyone := keyFor(t, "anyone", tx.Ed25519)
	did := h.create(c, n)
	hers := &SetGuardians{DID: did, Guardians: []tx.PublicKey{g1.Public(), g2.Public()}, Threshold: 2, Delay: 5}
	theirs := &SetGuardians{DID: did, Guardians: []tx.PublicKey{thiefG.Public()}, Threshold: 1, Delay: 5}
	complete := &ChangeStep{DID: did, complete: true}
	h.run([]step{
		{desc: "the holder names her guardians with her next key co-signing: at once", keys: keys(c, n), typ: "set-guardians", msg: hers, code: "ok"},
		{desc: "the thief names his own guardian: only proposed", keys: keys(c), typ: "set-guardians", msg: theirs, code: "ok"},
		{desc: "the thief withdraws it, to try a shorter delay", keys: keys(c), typ: "cancel-change", msg: &ChangeStep{DID: did}, code: "ok"},
		{desc: "1 s, as in the review: below the governed minimum", keys: keys(c), typ: "set-guardians", msg: &SetGuardians{DID: did, Guardians: theirs.Guardians, Threshold: 1, Delay: 1}, code: "invalid", reason: "governed minimum"},
		{desc: "the thief proposes his guardian again", keys: keys(c), typ: "set-guardians", msg: theirs, code: "ok"},
		{desc: "his guardian cannot recover yet", keys: keys(thiefG), typ: "recover", msg: &Recover{DID: did, Key: thiefNew.Public(), Next: Commitment(anyone.Public())}, code: "unauthorized", reason: "is not a guardian"},
		{desc: "he cannot complete the change before the delay", keys: keys(c), typ: "complete-change", msg: complete, code: "conflict", reason: "not before"},
	})
	// Resolution shows the pending change to whoever watches the DID.
	if res, err := Resolve(h.view(nil), did, "", ""); err != nil || res.DocumentMetadata.Change == nil || res.DocumentMetadata.Change.Type != "set-guardians" {
		t.Fatalf("the pending change in the metadata: %v %+v", err, res)
	}
	h.run([]step{
		{desc: "the holder rotates with her next key: the thief's change lapses", keys: keys(n), typ: "rotate", msg: &Rotate{DID: did, Key: n.Public(), Next: Commitment(n2.Public())}, code: "ok"},
		{desc: "nothing is left to complete", keys: keys(c), typ: "complete-change", msg: complete, code: "not_found", reason: "no pending change"},
		{desc: "the stolen key cannot deactivate", keys: keys(c), typ: "deactivate", msg: &Deactivate{DID: did}, code: "unauthorized", reason: "not the controller"},
		{desc: "it cannot cancel her guardians' recovery either", keys: keys(g1, g2), typ: "recover", msg: &Recover{DID: did, Key: r1.Public(), Next: Commitment(anyone.Public())}, code: "ok"},
	})
	if s := h.did(did); len(s.Guardians) != 2 || s.Change != nil || s.Controller != "key-1" {
		t.Fatalf("after the theft: guardians %d, change %+v, controller %s", len(s.Guardians), s.Change, s.Controller)
	}

	// The thief's deactivation waits too, and the next key cancels it.
	h2 := newLedgerParams(t, Params{MinRecoveryDelay: 5, MinChangeDelay: 3600})
	did2 := h2.create(c, n)
	h2.run([]step{
		{desc: "the thief deactivates: only proposed", keys: keys(c), typ: "deactivate", msg: &Deactivate{DID: did2}, code: "ok"},
		{desc: "the DID still acts", keys: keys(c), typ: "complete-change", msg: &ChangeStep{DID: did2, complete: true}, code: "conflict", reason: "not before"},
		{desc: "the next key cancels it", keys: keys(n), typ: "cancel-change", msg: &ChangeStep{DID: did2}, code: "ok"},
		{desc: "a guardian-less holder deactivates with both keys: at once", keys: keys(c, n), typ: "deactivate", msg: &Deactivate{DID: did2}, code: "ok"},
	})
	if !h2.did(did2).Deactivated {
		t.Fatal("controller and next key together did not deactivate")
	}
}

// TestThreatStolenNextKey: a thief who rotates in with a stolen next key
// controls the DID, but its guardians win it back: his controller is not
// settled, so it cannot cancel their recovery, and his change of
// guardians waits behind it and lapses.
func TestThreatStolenNextKey(t *testing.T) {
	h := newLedgerParams(t, Params{MinRecoveryDelay: 10, MinChangeDelay: 3})
	c, n := keyFor(t, "holder", tx.Ed25519), keyFor(t, "holder-next", tx.Ed25519)
	tn := keyFor(t, "thief-next", tx.Ed25519) // the thief's own commitment
	thiefG := keyFor(t, "thief-guardian", tx.Ed25519)
	g1, g2, g3, r1, r2 := keyFor(t, "g1", tx.Ed25519), keyFor(t, "g2", tx.Ed25519), keyFor(t, "g3", tx.Ed25519), keyFor(t, "r1", tx.Ed25519), keyFor(t, "r2", tx.Ed25519)
	anyone := keyFor(t, "anyone", tx.Ed25519)
	did := h.create(c, n)
	h.must(c, "set-guardians", &SetGuardians{DID: did, Guardians: []tx.PublicKey{g1.Public(), g2.Public(), g3.Public()}, Threshold: 2, Delay: 10})
	h.wait(3)
	h.must(anyone, "complete-change", &ChangeStep{DID: did, complete: true})
	h.wait(20) // the holder's keys are long settled
	theirs := &SetGuardians{DID: did, Guardians: []tx.PublicKey{thiefG.Public()}, Threshold: 1, Delay: 10}
	h.run([]step{
		{desc: "the thief rotates in with the stolen next key", keys: keys(n), typ: "rotate", msg: &Rotate{DID: did, Key: n.Public(), Next: Commitment(tn.Public())}, code: "ok"},
		{desc: "he names his guardian with both his keys: not settled, so only proposed", keys: keys(n, tn), typ: "set-guardians", msg: theirs, code: "ok"},
		{desc: "the holder's guardians recover", keys: keys(g1, g3), typ: "recover", msg: &Recover{DID: did, Key: r1.Public(), Next: Commitment(r2.Public())}, code: "ok"},
		{desc: "his controller may not cancel it", keys: keys(n), typ: "cancel-recovery", msg: &RecoveryStep{DID: did}, code: "unauthorized", reason: "less than the recovery delay"},
		{desc: "nor his next key", keys: keys(tn), typ: "cancel-recovery", msg: &RecoveryStep{DID: did}, code: "unauthorized", reason: "less than the recovery delay"},
		{desc: "nor can he deactivate meanwhile", keys: keys(n, tn), typ: "deactivate", msg: &Deactivate{DID: did}, code: "conflict", reason: "pending recovery"},
	})
	h.wait(2)
	h.run([]step{
		{desc: "his change of guardians waits behind the recovery", keys: keys(anyone), typ: "complete-change", msg: &ChangeStep{DID: did, complete: true}, code: "conflict", reason: "pending recovery"},
	})
	h.wait(6)
	h.run([]step{
		{desc: "the recovery completes", keys: keys(anyone), typ: "complete-recovery", msg: &RecoveryStep{DID: did, complete: true}, code: "ok"},
		{desc: "his change lapsed with it", keys: keys(anyone), typ: "complete-change", msg: &ChangeStep{DID: did, complete: true}, code: "not_found", reason: "no pending change"},
		{desc: "his keys are out", keys: keys(tn), typ: "rotate", msg: &Rotate{DID: did, Key: tn.Public(), Next: Commitment(anyone.Public())}, code: "unauthorized", reason: "pre-rotation commitment"},
	})
	s := h.did(did)
	if ctrl := s.Key(s.Controller); !ctrl.PublicKey.Equal(r1.Public()) || len(s.Guardians) != 3 {
		t.Fatalf("controller %s, %d guardians: the holder did not get the DID back", ctrl.PublicKey, len(s.Guardians))
	}
}

// TestThreatColludingGuardians: fewer guardians than the threshold can do
// nothing, even with the stolen controller key; a full threshold that
// colludes is cancelled by the holder, even right after an honest
// rotation (by the key the rotation replaced).
func TestThreatColludingGuardians(t *testing.T) {
	h := newLedgerParams(t, Params{MinRecoveryDelay: 60, MinChangeDelay: 1})
	c, n, n2 := keyFor(t, "holder", tx.Ed25519), keyFor(t, "holder-next", tx.Ed25519), keyFor(t, "holder-next2", tx.Ed25519)
	g1, g2, g3, r1 := keyFor(t, "g1", tx.Ed25519), keyFor(t, "g2", tx.Ed25519), keyFor(t, "g3", tx.Ed25519), keyFor(t, "r1", tx.Ed25519)
	did := h.create(c, n)
	h.must(c, "set-guardians", &SetGuardians{DID: did, Guardians: []tx.PublicKey{g1.Public(), g2.Public(), g3.Public()}, Threshold: 3, Delay: 60})
	h.must(c, "complete-change", &ChangeStep{DID: did, complete: true})
	recovery := &Recover{DID: did, Key: r1.Public(), Next: Commitment(n2.Public())}
	h.run([]step{
		{desc: "k-1 guardians", keys: keys(g1, g2), typ: "recover", msg: recovery, code: "unauthorized", reason: "needs 3 of its 3 guardians, not 2"},
		{desc: "k-1 guardians and the stolen controller key", keys: keys(g1, g2, c), typ: "recover", msg: recovery, code: "unauthorized", reason: "is not a guardian"},
		{desc: "the stolen key proposes a deactivation", keys: keys(c), typ: "deactivate", msg: &Deactivate{DID: did}, code: "ok"},
		{desc: "a guardian cancels nothing", keys: keys(g1), typ: "cancel-change", msg: &ChangeStep{DID: did}, code: "unauthorized", reason: "not the controller"},
		{desc: "the holder withdraws it", keys: keys(n), typ: "cancel-change", msg: &ChangeStep{DID: did}, code: "ok"},
		{desc: "the holder rotates", keys: keys(n), typ: "rotate", msg: &Rotate{DID: did, Key: n.Public(), Next: Commitment(n2.Public())}, code: "ok"},
		{desc: "all three collude right after", keys: keys(g1, g2, g3), typ: "recover", msg: recovery, code: "ok"},
		{desc: "the key the rotation replaced cancels", keys: keys(c), typ: "cancel-recovery", msg: &RecoveryStep{DID: did}, code: "ok"},
	})
	h.wait(60)
	h.run([]step{
		{desc: "they try again once the controller has settled", keys: keys(g1, g2, g3), typ: "recover", msg: recovery, code: "ok"},
		{desc: "the replaced key may no longer", keys: keys(c), typ: "cancel-recovery", msg: &RecoveryStep{DID: did}, code: "unauthorized", reason: "not the controller"},
		{desc: "the controller cancels", keys: keys(n), typ: "cancel-recovery", msg: &RecoveryStep{DID: did}, code: "ok"},
	})
}

// TestThreatLyingNode: what a client is told about a DID — its pending
// recovery, and whether a key stood — is computed from point reads only,
// so the client re-runs the same read over the values a state proof
// shows and gets the proven answer; a proof that leaves out a value the
// answer needs cannot answer at all.
func TestThreatLyingNode(t *testing.T) {
	h := newLedger(t)
	c, n, g1, r1 := keyFor(t, "holder", tx.Ed25519), keyFor(t, "holder-next", tx.Ed25519), keyFor(t, "g1", tx.Ed25519), keyFor(t, "r1", tx.Ed25519)
	did := h.create(c, n)
	h.must(c, "set-guardians", &SetGuardians{DID: did, Guardians: []tx.PublicKey{g1.Public()}, Threshold: 1, Delay: 60})
	h.must(c, "complete-change", &ChangeStep{DID: did, complete: true})
	h.must(g1, "recover", &Recover{DID: did, Key: r1.Public(), Next: Commitment(n.Public())})
	h.must(c, "revoke", &Revoke{DID: did, KeyID: "key-0", CompromisedAt: genesisTime.Add(2 * time.Second).UnixMilli()})
	at := genesisTime.Add(3 * time.Second)

	var rec ledger.Reads
	kv := h.view(&rec)
	res, err := Resolve(kv, did, "", "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := KeyStanding(kv, did, c.Public(), AssertionMethod, at)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Iterated {
		t.Fatal("the answers iterated: no proof could cover them")
	}
	if res.DocumentMetadata.Recovery == nil || st.Acts || !st.Compromised {
		t.Fatalf("the node's answers: recovery %+v, standing %+v", res.DocumentMetadata.Recovery, st)
	}
	vals := ledger.Proven{}
	for i, k := range rec.Keys {
		vals[string(k)] = rec.Values[i]
	}
	pv := ledger.NewReadView(vals, Name, nil)
	pres, err := Resolve(pv, did, "", "")
	if err != nil || pres.DocumentMetadata.Recovery == nil || pres.DocumentMetadata.Recovery.Effective != res.DocumentMetadata.Recovery.Effective {
		t.Fatalf("the proven resolution: %v %+v", err, pres)
	}
	pst, err := KeyStanding(pv, did, c.Public(), AssertionMethod, at)
	if err != nil || *pst != *st {
		t.Fatalf("the proven standing %+v, the node's %+v (%v)", pst, st, err)
	}
	id, _ := ParseDID(did)
	delete(vals, Name+"/"+string(stateKey(id)))
	if _, err := KeyStanding(pv, did, c.Public(), AssertionMethod, at); err == nil {
		t.Error("a proof without the DID's state still answers for its key")
	}
}
