package ledger_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/tx"
)

// crowd is a module whose one principal, "pair", acts when 2 of alice,
// bob and carol approve; its "put" message writes a key as that
// principal.
type crowd struct {
	testmod
	members []tx.PublicKey
}

func (crowd) Name() string { return "crowd" }

func (c crowd) Execute(ctx *ledger.Context, msg ledger.Msg) error {
	if ctx.Principal != "pair" || len(ctx.Signers) < 2 {
		return fmt.Errorf("%w: put acts as the pair", ledger.ErrUnauthorized)
	}
	return c.testmod.Execute(ctx, msg)
}

func (c crowd) Consent(_ *ledger.KV, principal string, keys []tx.PublicKey) (ledger.Consent, error) {
	if principal != "pair" {
		return ledger.Consent{}, fmt.Errorf("%w: no principal %s", ledger.ErrNotFound, principal)
	}
	out := ledger.Consent{Members: make([]bool, len(keys))}
	n := 0
	for i, k := range keys {
		for _, m := range c.members {
			if m.Equal(k) {
				out.Members[i] = true
				n++
			}
		}
	}
	out.Met = n >= 2
	return out, nil
}

// TestPendingActions: a principal acts over time, each member approving
// in a transaction of its own; the approval that meets its rule executes
// the message; non-members, second approvals, replays and approvals of
// what is closed are refused with stable codes; what is not approved by
// its expiry expires at a block's tick; an export carries what is pending.
func TestPendingActions(t *testing.T) {
	key := func(n string) *tx.PrivateKey { return keyFor(t, n, tx.Ed25519) }
	mod := crowd{members: []tx.PublicKey{key("alice").Public(), key("bob").Public(), key("carol").Public()}}
	e, err := ledger.NewExecutor(testChain, notary.Module{}, testmod{}, mod)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ledgertest.StartChain(t, e, ledgertest.Genesis(nil))
	if err != nil {
		t.Fatal(err)
	}
	st := c.State
	var last []byte
	send := func(signer, typ string, m ledger.Msg) ledger.Result {
		t.Helper()
		last = c.Sign(&tx.Tx{Module: ledger.Namespace, Type: typ, Body: ledgertest.Body(t, m), ExpiryHeight: c.Head.Height + 5},
			[]*tx.PrivateKey{key(signer)}, nil)
		o, err := c.DoRaw(last, c.Next())
		if err != nil {
			t.Fatal(err)
		}
		return o.Results[0]
	}
	propose := func(signer, module, principal, k string, ttl time.Duration) ledger.Result {
		return send(signer, "propose", &ledger.ProposeAction{Module: module, Principal: principal, Type: "put",
			Body: putBody(t, k, "v", ""), TTL: uint64(ttl / time.Millisecond)})
	}
	pending := func(id uint64) ledger.Pending {
		t.Helper()
		var p ledger.Pending
		raw, ok, err := st.Get(fmt.Appendf(nil, "ledger/pending/%016x", id))
		if err != nil || !ok || tx.Unmarshal(raw, &p) != nil {
			t.Fatalf("pending %d: %v %v", id, ok, err)
		}
		return p
	}
	written := func(k string) bool { _, ok, _ := st.Get([]byte("crowd/" + k)); return ok }

	for _, c := range []struct {
		desc string
		do   func() ledger.Result
		code string
	}{
		{"a non-member proposes", func() ledger.Result { return propose("dave", "crowd", "pair", "x", time.Minute) }, "unauthorized"},
		{"an unknown principal", func() ledger.Result { return propose("alice", "crowd", "trio", "x", time.Minute) }, "not_found"},
		{"alice proposes", func() ledger.Result { return propose("alice", "crowd", "pair", "x", time.Minute) }, "ok"},
		{"alice approves again", func() ledger.Result { return send("alice", "approve", &ledger.Approve{ID: 1}) }, "conflict"},
		{"dave approves", func() ledger.Result { return send("dave", "approve", &ledger.Approve{ID: 1}) }, "unauthorized"},
		{"no such action", func() ledger.Result { return send("bob", "approve", &ledger.Approve{ID: 9}) }, "not_found"},
		{"bob approves: 2 of 3", func() ledger.Result { return send("bob", "approve", &ledger.Approve{ID: 1}) }, "ok"},
		{"carol approves what executed", func() ledger.Result { return send("carol", "approve", &ledger.Approve{ID: 1}) }, "gone"},
		{"carol proposes for 2s", func() ledger.Result { return propose("carol", "crowd", "pair", "y", 2*time.Second) }, "ok"},
	} {
		if r := c.do(); r.Code != c.code {
			t.Fatalf("%s: %s (%s), want %s", c.desc, r.Code, r.Error, c.code)
		}
		if c.desc == "alice proposes" && (written("x") || pending(1).Status != ledger.PendingOpen) {
			t.Fatalf("one approval of two executed the action")
		}
	}
	if !written("x") || pending(1).Status != ledger.PendingExecuted || len(pending(1).Approvals) != 2 {
		t.Fatalf("after bob's approval: written %v, %+v", written("x"), pending(1))
	}
	c.Stage(last)
	if _, err := c.Commit(c.Next(), false); err == nil {
		t.Fatal("a replayed proposal was accepted")
	}
	c.Empty()
	c.Empty()
	if p := pending(2); p.Status != ledger.PendingExpired || written("y") {
		t.Fatalf("after its expiry: %+v, written %v", p, written("y"))
	}
	if r := send("alice", "approve", &ledger.Approve{ID: 2}); r.Code != "gone" {
		t.Fatalf("approving an expired action: %s", r.Code)
	}

	// A module without principals has no pending actions: the proposal is
	// not even included.
	body := ledgertest.Body(t, &ledger.ProposeAction{Module: "testmod", Principal: "pair", Type: "put", Body: putBody(t, "z", "v", ""), TTL: 1000})
	raw := c.Sign(&tx.Tx{Module: ledger.Namespace, Type: "propose", Body: body, ExpiryHeight: c.Head.Height + 5}, []*tx.PrivateKey{key("alice")}, nil)
	if _, err := e.Check(raw, true); ledger.Code(err) != "invalid" {
		t.Fatalf("a pending action of a module without principals: %v", err)
	}

	// An open action survives export and import, expiry index included.
	propose("alice", "crowd", "pair", "w", time.Hour)
	g, err := e.ExportGenesis(st, genesisTime.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := json.Marshal(g)
	var g2 ledger.Genesis
	if err := json.Unmarshal(enc, &g2); err != nil {
		t.Fatal(err)
	}
	out2, err := e.InitGenesis(&g2)
	if err != nil {
		t.Fatal(err)
	}
	st2 := ledgertest.State{}
	st2.ApplyOutcome(out2)
	for _, k := range st.WithoutLog().Keys() {
		if k[:7] == "ledger/" && k[:12] != "ledger/acct/" {
			if string(st[k]) != string(st2[k]) {
				t.Errorf("%s differs after export and import", k)
			}
		}
	}
}
