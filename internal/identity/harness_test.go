package identity

import (
	"crypto/sha256"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

const testChain = "agora-test"

var genesisTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// keyFor derives a fixed key from a name.
func keyFor(t testing.TB, name string, alg tx.Alg) *tx.PrivateKey {
	t.Helper()
	seed := sha256.Sum256([]byte("agora/identity-test/" + name))
	k, err := tx.NewPrivateKey(alg, seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// memState is a committed ledger in memory.
type memState = ledgertest.State

// ledgerH runs the identity module in a real executor, one transaction
// per block, blocks a second apart (or tick apart, if set).
type ledgerH struct {
	t     testing.TB
	e     *ledger.Executor
	state memState
	head  ledger.Header
	seq   map[string]uint64
	tick  time.Duration
}

func newLedger(t testing.TB) *ledgerH {
	t.Helper()
	e, err := ledger.NewExecutor(testChain, Module{})
	if err != nil {
		t.Fatal(err)
	}
	return startLedger(t, e, &ledger.Genesis{ChainID: testChain, Time: genesisTime, Params: ledger.DefaultParams()})
}

// newGovLedger runs the identity module beside governance, whose genesis
// is the demo Community (gov.Demo) with keys from keyFor.
func newGovLedger(t testing.TB) *ledgerH {
	t.Helper()
	return newGovLedgerWith(t, func(*gov.Genesis) {})
}

// newGovLedgerWith is newGovLedger with the demo genesis changed by edit.
func newGovLedgerWith(t testing.TB, edit func(*gov.Genesis)) *ledgerH {
	t.Helper()
	e, err := ledger.NewExecutor(testChain, Module{}, gov.Module{})
	if err != nil {
		t.Fatal(err)
	}
	g := gov.Demo(func(name string) tx.PublicKey { return keyFor(t, name, tx.Ed25519).Public() })
	edit(g)
	gj, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return startLedger(t, e, &ledger.Genesis{ChainID: testChain, Time: genesisTime, Params: ledger.DefaultParams(),
		Modules: map[string]json.RawMessage{gov.Name: gj}})
}

func startLedger(t testing.TB, e *ledger.Executor, g *ledger.Genesis) *ledgerH {
	t.Helper()
	out, err := e.InitGenesis(g)
	if err != nil {
		t.Fatal(err)
	}
	h := &ledgerH{t: t, e: e, state: memState{}, head: out.Header, seq: map[string]uint64{}}
	h.state.ApplyOutcome(out)
	return h
}

// now is the time of the next block.
func (h *ledgerH) now() time.Time {
	if h.tick != 0 {
		return time.UnixMilli(h.head.Time).UTC().Add(h.tick)
	}
	return time.UnixMilli(h.head.Time).UTC().Add(time.Second)
}

// do signs msg of type typ with key, applies it in a block of its own and
// returns the result.
func (h *ledgerH) do(key *tx.PrivateKey, typ string, msg any) ledger.Result {
	h.t.Helper()
	return h.doAll([]*tx.PrivateKey{key}, typ, msg)
}

// doAll is do with a signature by each of keys.
func (h *ledgerH) doAll(keys []*tx.PrivateKey, typ string, msg any) ledger.Result {
	h.t.Helper()
	return h.doIn(Name, keys, typ, msg)
}

// doIn is doAll for a message of module.
func (h *ledgerH) doIn(module string, keys []*tx.PrivateKey, typ string, msg any) ledger.Result {
	h.t.Helper()
	body, err := tx.Marshal(msg)
	if err != nil {
		h.t.Fatal(err)
	}
	x := &tx.Tx{Version: tx.Version, ChainID: testChain, Module: module, Type: typ, Body: body, ExpiryHeight: h.head.Height + 10}
	for _, k := range keys {
		x.Signers = append(x.Signers, tx.Signer{Key: k.Public(), Sequence: h.seq[k.Public().Address()]})
	}
	signed, err := tx.Sign(x, keys...)
	if err != nil {
		h.t.Fatal(err)
	}
	raw, err := signed.Encode()
	if err != nil {
		h.t.Fatal(err)
	}
	b := ledger.Block{ChainID: testChain, Height: h.head.Height + 1, Time: h.now()}
	out, err := h.e.Apply(h.state, &h.head, b, [][]byte{raw}, true)
	if err != nil {
		h.t.Fatal(err)
	}
	if len(out.Dropped) > 0 {
		h.t.Fatalf("dropped: %v", out.Dropped[0].Err)
	}
	h.state.ApplyOutcome(out)
	h.head = out.Header
	for _, k := range keys {
		h.seq[k.Public().Address()]++
	}
	return out.Results[0]
}

// emptyBlock applies a block without transactions: a second passes.
func (h *ledgerH) emptyBlock() {
	h.t.Helper()
	b := ledger.Block{ChainID: testChain, Height: h.head.Height + 1, Time: h.now()}
	out, err := h.e.Apply(h.state, &h.head, b, nil, true)
	if err != nil {
		h.t.Fatal(err)
	}
	h.state.ApplyOutcome(out)
	h.head = out.Header
}

// view is a read-only view of the module's state, recording reads in rec.
func (h *ledgerH) view(rec *ledger.Reads) *ledger.KV {
	return ledger.NewReadView(h.state, Name, rec)
}

// must requires result ok.
func (h *ledgerH) must(key *tx.PrivateKey, typ string, msg any) {
	h.t.Helper()
	if r := h.do(key, typ, msg); !r.OK() {
		h.t.Fatalf("%s: %s: %s", typ, r.Code, r.Error)
	}
}

// create makes a DID controlled by ctrl with the next key next.
func (h *ledgerH) create(ctrl, next *tx.PrivateKey) string {
	h.t.Helper()
	c := &Create{Keys: []KeySpec{{PublicKey: ctrl.Public(), Relationships: []string{Authentication, CapabilityInvocation}}},
		Next: Commitment(next.Public())}
	h.must(ctrl, "create", c)
	return c.DID()
}

// snapshot returns the module's state: a refusal must leave it as it was.
func (h *ledgerH) snapshot() map[string]string {
	out := map[string]string{}
	err := h.state.Iterate([]byte(Name+"/"), []byte(Name+"0"), func(k, v []byte) (bool, error) {
		out[string(k)] = string(v)
		return true, nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// step is one transaction of a story and the outcome it must have.
type step struct {
	desc   string
	module string // "" for identity
	keys   []*tx.PrivateKey
	typ    string
	msg    any
	code   string // "ok" or the refusal's code
	reason string // a part of the refusal's text
}

// run applies the steps in order, one block each. A refused step must
// leave the module's state unchanged.
func (h *ledgerH) run(steps []step) {
	h.t.Helper()
	for _, s := range steps {
		mod := s.module
		if mod == "" {
			mod = Name
		}
		before := h.snapshot()
		r := h.doIn(mod, s.keys, s.typ, s.msg)
		if r.Code != s.code || !strings.Contains(r.Error, s.reason) {
			h.t.Fatalf("%s: got %s %q, want %s containing %q", s.desc, r.Code, r.Error, s.code, s.reason)
		}
		if s.code != "ok" && !maps.Equal(before, h.snapshot()) {
			h.t.Fatalf("%s: refused, but the state changed", s.desc)
		}
	}
}

// roundTrip checks that exporting the module's genesis and loading it
// into a new ledger gives the same state, byte for byte.
func (h *ledgerH) roundTrip() {
	h.t.Helper()
	g, err := Module{}.ExportGenesis(h.view(nil))
	if err != nil {
		h.t.Fatal(err)
	}
	e, _ := ledger.NewExecutor(testChain, Module{})
	out, err := e.InitGenesis(&ledger.Genesis{ChainID: testChain, Time: genesisTime, Params: ledger.DefaultParams(),
		Modules: map[string]json.RawMessage{Name: g}})
	if err != nil {
		h.t.Fatalf("InitGenesis of the export: %v", err)
	}
	got := map[string]string{}
	for _, w := range out.Writes {
		if k := string(w.Key); strings.HasPrefix(k, Name+"/") {
			got[k] = string(w.Value)
		}
	}
	if want := h.snapshot(); !maps.Equal(got, want) {
		h.t.Errorf("the genesis export loads as %d keys, not the %d of the state", len(got), len(want))
		for k := range want {
			if got[k] != want[k] {
				h.t.Errorf("differs at %q", k)
			}
		}
	}
}
