package bench

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestDIDCreate checks that one worker key can sign many inceptions: each
// is valid, controlled by that key, and derives a DID of its own.
func TestDIDCreate(t *testing.T) {
	key, err := tx.GenerateKey(tx.Ed25519, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := range uint64(100) {
		c := didCreate(i, key.Public()).(*identity.Create)
		if err := c.Validate(); err != nil {
			t.Fatalf("inception %d: %v", i, err)
		}
		if seen[c.DID()] {
			t.Fatalf("inception %d repeats %s", i, c.DID())
		}
		seen[c.DID()] = true
	}
}

// scenarios are all the scenarios, as the binary's registry lists them.
var scenarios = []Scenario{DIDCreate, DIDRotate, Resolve, ResolveProof, Notary, Mixed, GovVote, ConsentUse}

func TestFindScenario(t *testing.T) {
	for _, name := range []string{"notary", "did-create", "did-rotate", "resolve", "resolve-proof", "mixed", "gov-vote", "consent-use"} {
		if _, err := FindScenario(scenarios, name); err != nil {
			t.Errorf("FindScenario(%q): %v", name, err)
		}
	}
	if _, err := FindScenario(scenarios, "nope"); err == nil {
		t.Error("FindScenario(nope) succeeded")
	}
}

// TestRotations applies the did-rotate scenario's transactions through the
// identity module: every setup inception and every rotation, across more
// than one DID's worth of keys, must succeed in order.
func TestRotations(t *testing.T) {
	const chain = "agora-bench"
	setup, run, err := rotations(chain, 2*(identity.MaxKeys-1)+5)
	if err != nil {
		t.Fatal(err)
	}
	if len(setup) != 3 || len(run) != 2*(identity.MaxKeys-1)+5 {
		t.Fatalf("%d inceptions and %d rotations", len(setup), len(run))
	}
	applyInOrder(t, chain, []ledger.Module{identity.Module{}}, [][][]byte{setup, run[:70], run[70:]}, nil)
}

// applyInOrder applies blocks of transactions, a second apart, to a
// ledger of mods whose free quota is the whole block (as agora bench
// makes it): every transaction must succeed, and check (if set) sees each
// result.
func applyInOrder(t *testing.T, chain string, mods []ledger.Module, blocks [][][]byte, check func(block, i int, r ledger.Result)) {
	t.Helper()
	e, err := ledger.NewExecutor(chain, mods...)
	if err != nil {
		t.Fatal(err)
	}
	g := &ledger.Genesis{ChainID: chain, Time: time.Unix(1700000000, 0).UTC(), Params: ledger.DefaultParams()}
	// A rotation is signed by the committed next key, not yet a key of
	// the DID: without standing. As agora bench does, make the free
	// quota the whole block.
	g.Params.FreeBlockTxs, g.Params.FreeBlockBytes = &g.Params.MaxBlockTxs, &g.Params.MaxBlockBytes
	out, err := e.InitGenesis(g)
	if err != nil {
		t.Fatal(err)
	}
	state := ledgertest.State{}
	state.ApplyOutcome(out)
	head := out.Header
	for i, txs := range blocks {
		b := ledger.Block{ChainID: chain, Height: head.Height + 1, Time: time.UnixMilli(head.Time).Add(time.Second).UTC()}
		out, err := e.Apply(state, &head, b, txs, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Dropped) > 0 {
			t.Fatalf("block %d dropped %v", i, out.Dropped[0].Err)
		}
		for j, r := range out.Results {
			if !r.OK() {
				t.Fatalf("block %d transaction %d: %s %s", i, j, r.Code, r.Error)
			}
			if check != nil {
				check(i, j, r)
			}
		}
		state.ApplyOutcome(out)
		head = out.Header
	}
}

// TestGovVote runs the gov-vote scenario's genesis, setup and votes
// through a real executor: every draft and every vote succeeds, and a
// change closes approved once every worker has voted on it.
func TestGovVote(t *testing.T) {
	sc, err := FindScenario(scenarios, "gov-vote")
	if err != nil {
		t.Fatal(err)
	}
	const workers = 3
	var keys []*tx.PrivateKey
	var pubs []tx.PublicKey
	for range workers + 1 {
		k, err := tx.GenerateKey(tx.Ed25519, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys, pubs = append(keys, k), append(pubs, k.Public())
	}
	g := &ledger.Genesis{ChainID: "agora-bench", Time: time.Unix(1700000000, 0).UTC(), Params: ledger.DefaultParams()}
	if err := sc.Genesis(g, pubs[:workers], pubs[workers]); err != nil {
		t.Fatal(err)
	}
	e, err := ledger.NewExecutor(g.ChainID, gov.Module{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.InitGenesis(g)
	if err != nil {
		t.Fatal(err)
	}
	st := ledgertest.State{}
	st.ApplyOutcome(out)
	head := out.Header
	apply := func(raws [][]byte) {
		t.Helper()
		b := ledger.Block{ChainID: g.ChainID, Height: head.Height + 1, Time: time.UnixMilli(head.Time + 1000)}
		out, err := e.Apply(st, &head, b, raws, false)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range out.Results {
			if !r.OK() {
				t.Fatalf("block %d transaction %d: %s", b.Height, i, r.Error)
			}
		}
		st.ApplyOutcome(out)
		head = out.Header
	}
	module, typ, bodies := sc.Prepare(2)
	setup, err := newSigner(g.ChainID, Scenario{Module: module, Type: typ, Body: func(i uint64, _ tx.PublicKey) any { return bodies[i] }}, 0, keys[workers])
	if err != nil {
		t.Fatal(err)
	}
	raws, _, err := setup.sign(len(bodies))
	if err != nil {
		t.Fatal(err)
	}
	apply(raws)
	for w := range workers {
		s, err := newSigner(g.ChainID, sc, uint64(w)<<40, keys[w])
		if err != nil {
			t.Fatal(err)
		}
		raws, _, err := s.sign(2)
		if err != nil {
			t.Fatal(err)
		}
		apply(raws)
	}
	var c gov.ChangeJSON
	ans, err := findQuery(gov.Module{}, "change").Run(ledger.NewReadView(st, gov.Name, nil), func(string) string { return "2" })
	if err != nil {
		t.Fatal(err)
	}
	c = *ans.(*gov.ChangeJSON)
	if c.Status != gov.StatusApproved || len(c.Votes) != workers {
		t.Fatalf("change 2: %s with %d votes", c.Status, len(c.Votes))
	}
}

func findQuery(m ledger.Module, name string) ledger.Query {
	for _, q := range m.Queries() {
		if q.Name == name {
			return q
		}
	}
	panic("no query " + name)
}
