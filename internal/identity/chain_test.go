package identity

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

// The identity tests run on the shared harness: a ledgertest.Chain with
// the identity module, one transaction per block, blocks a second apart
// (or Tick apart, if set). ledgerH adds shorthands for identity's messages.
type ledgerH struct{ *ledgertest.Chain }

const keySeed = "agora/identity-test/"

var (
	testChain   = ledgertest.ChainID
	genesisTime = ledgertest.GenesisTime
)

// memState is a committed ledger in memory.
type memState = ledgertest.State

// keyFor derives a fixed key from a name.
func keyFor(_ testing.TB, name string, alg tx.Alg) *tx.PrivateKey {
	return ledgertest.Key(keySeed, name, alg)
}

func newLedger(t testing.TB) *ledgerH {
	t.Helper()
	return &ledgerH{ledgertest.NewChain(t, ledgertest.Genesis(nil), Module{})}
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
	g := gov.Demo(func(name string) tx.PublicKey { return keyFor(t, name, tx.Ed25519).Public() })
	edit(g)
	gj, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return &ledgerH{ledgertest.NewChain(t, ledgertest.Genesis(map[string]json.RawMessage{gov.Name: gj}), Module{}, gov.Module{})}
}

// do signs msg of type typ with key, applies it in a block of its own and
// returns the result.
func (h *ledgerH) do(key *tx.PrivateKey, typ string, msg any) ledger.Result {
	h.T.Helper()
	return h.Do(Name, []*tx.PrivateKey{key}, typ, msg)
}

// doAll is do with a signature by each of keys.
func (h *ledgerH) doAll(keys []*tx.PrivateKey, typ string, msg any) ledger.Result {
	h.T.Helper()
	return h.Do(Name, keys, typ, msg)
}

// must requires result ok.
func (h *ledgerH) must(key *tx.PrivateKey, typ string, msg any) {
	h.T.Helper()
	if r := h.do(key, typ, msg); !r.OK() {
		h.T.Fatalf("%s: %s: %s", typ, r.Code, r.Error)
	}
}

// view is a read-only view of the module's state, recording reads in rec.
func (h *ledgerH) view(rec *ledger.Reads) *ledger.KV { return h.View(Name, rec) }

// create makes a DID controlled by ctrl with the next key next.
func (h *ledgerH) create(ctrl, next *tx.PrivateKey) string {
	h.T.Helper()
	c := &Create{Keys: []KeySpec{{PublicKey: ctrl.Public(), Relationships: []string{Authentication, CapabilityInvocation}}},
		Next: Commitment(next.Public())}
	h.must(ctrl, "create", c)
	return c.DID()
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
	h.T.Helper()
	out := make([]ledgertest.Step, len(steps))
	for i, s := range steps {
		out[i] = ledgertest.Step{Desc: s.desc, Module: s.module, Keys: s.keys, Type: s.typ, Msg: s.msg, Code: s.code, Reason: s.reason}
		if s.module == "" {
			out[i].Module = Name
		}
	}
	h.Run(Name+"/", out)
}

// roundTrip checks that exporting the module's genesis and loading it
// into a new ledger gives the same state, byte for byte.
func (h *ledgerH) roundTrip() {
	h.T.Helper()
	g, err := Module{}.ExportGenesis(h.view(nil))
	if err != nil {
		h.T.Fatal(err)
	}
	e, _ := ledger.NewExecutor(testChain, Module{})
	out, err := e.InitGenesis(ledgertest.Genesis(map[string]json.RawMessage{Name: g}))
	if err != nil {
		h.T.Fatalf("InitGenesis of the export: %v", err)
	}
	got := map[string]string{}
	for _, w := range out.Writes {
		if k := string(w.Key); strings.HasPrefix(k, Name+"/") {
			got[k] = string(w.Value)
		}
	}
	if want := h.Snapshot(Name + "/"); !maps.Equal(got, want) {
		h.T.Errorf("the genesis export loads as %d keys, not the %d of the state", len(got), len(want))
		for k := range want {
			if got[k] != want[k] {
				h.T.Errorf("differs at %q", k)
			}
		}
	}
}

// startLedger loads g into e.
func startLedger(t testing.TB, e *ledger.Executor, g *ledger.Genesis) *ledgerH {
	t.Helper()
	c, err := ledgertest.StartChain(t, e, g)
	if err != nil {
		t.Fatal(err)
	}
	return &ledgerH{c}
}
