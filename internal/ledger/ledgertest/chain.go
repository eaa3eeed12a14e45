package ledgertest

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// ChainID is the chain every test ledger runs.
const ChainID = "agora-test"

// GenesisTime is the time of every test ledger's genesis, unless a test
// sets another.
var GenesisTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Key derives a fixed key from a name: SHA-256(seed || name) is the private
// key. Each module's tests have a seed of their own ("agora/gov-test/").
// It panics if alg is not an algorithm of package tx.
func Key(seed, name string, alg tx.Alg) *tx.PrivateKey {
	s := sha256.Sum256([]byte(seed + name))
	k, err := tx.NewPrivateKey(alg, s[:])
	if err != nil {
		panic(err)
	}
	return k
}

// Chain is a ledger run by the real executor over a State in memory:
// transactions are signed with the sequences the state expects, staged,
// and committed in blocks at the times a test gives.
type Chain struct {
	T     testing.TB
	Exec  *ledger.Executor
	State State
	Head  ledger.Header
	// Start is the genesis time.
	Start time.Time
	// Tick is the time between blocks when a test gives none (a second
	// unless set).
	Tick time.Duration

	staged [][]byte
}

// NewChain loads g into an executor of modules and returns the chain
// whose next block is block 1.
func NewChain(t testing.TB, g *ledger.Genesis, modules ...ledger.Module) *Chain {
	t.Helper()
	e, err := ledger.NewExecutor(g.ChainID, modules...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := StartChain(t, e, g)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// StartChain loads g into e; the error is InitGenesis's.
func StartChain(t testing.TB, e *ledger.Executor, g *ledger.Genesis) (*Chain, error) {
	out, err := e.InitGenesis(g)
	if err != nil {
		return nil, err
	}
	c := &Chain{T: t, Exec: e, State: State{}, Head: out.Header, Start: g.Time}
	c.State.ApplyOutcome(out)
	return c, nil
}

// Genesis returns a genesis of ChainID at GenesisTime with the default
// parameters and the module sections given.
func Genesis(modules map[string]json.RawMessage) *ledger.Genesis {
	return &ledger.Genesis{ChainID: ChainID, Time: GenesisTime, Params: ledger.DefaultParams(), Modules: modules}
}

// Next is the time of the next block when a test gives none.
func (c *Chain) Next() time.Time {
	tick := c.Tick
	if tick == 0 {
		tick = time.Second
	}
	return time.UnixMilli(c.Head.Time).UTC().Add(tick)
}

// Sequence is the sequence k's next transaction must carry: its committed
// sequence plus its staged transactions.
func (c *Chain) Sequence(k tx.PublicKey) uint64 {
	c.T.Helper()
	acct, err := ledger.GetAccount(c.State, k)
	if err != nil {
		c.T.Fatal(err)
	}
	n := acct.Sequence
	for _, raw := range c.staged {
		if SignedBy(raw, k) {
			n++
		}
	}
	return n
}

// SignedBy reports whether the transaction raw has k among its signers.
func SignedBy(raw []byte, k tx.PublicKey) bool {
	var s tx.Signed
	var x tx.Tx
	if tx.Unmarshal(raw, &s) != nil || tx.Unmarshal(s.Tx, &x) != nil {
		return false
	}
	return slices.ContainsFunc(x.Signers, func(s tx.Signer) bool { return s.Key.Equal(k) })
}

// Sign builds x's signers from keys, with seqs or, if nil, the sequences
// the chain expects, and returns x signed and encoded.
func (c *Chain) Sign(x *tx.Tx, keys []*tx.PrivateKey, seqs []uint64) []byte {
	c.T.Helper()
	if x.Version == 0 {
		x.Version = tx.Version
	}
	if x.ChainID == "" {
		x.ChainID = c.Head.ChainID
	}
	for i, k := range keys {
		seq := c.Sequence(k.Public())
		if seqs != nil {
			seq = seqs[i]
		}
		x.Signers = append(x.Signers, tx.Signer{Key: k.Public(), Sequence: seq})
	}
	signed, err := tx.Sign(x, keys...)
	if err != nil {
		c.T.Fatal(err)
	}
	raw, err := signed.Encode()
	if err != nil {
		c.T.Fatal(err)
	}
	return raw
}

// Body encodes msg in the canonical form.
func Body(t testing.TB, msg any) []byte {
	t.Helper()
	b, err := tx.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Stage queues raw for the next block.
func (c *Chain) Stage(raw []byte) { c.staged = append(c.staged, raw) }

// Commit applies the staged transactions as the next block at time at,
// proposing it (invalid transactions are dropped) or validating it (an
// invalid transaction makes the block invalid: the error, and nothing is
// committed). The staged transactions are gone either way.
func (c *Chain) Commit(at time.Time, propose bool) (*ledger.Outcome, error) {
	txs := c.staged
	c.staged = nil
	b := ledger.Block{ChainID: c.Head.ChainID, Height: c.Head.Height + 1, Time: at}
	out, err := c.Exec.Apply(c.State, &c.Head, b, txs, propose)
	if err != nil {
		return nil, err
	}
	c.State.ApplyOutcome(out)
	c.Head = out.Header
	return out, nil
}

// Empty commits a block without transactions at the next block time.
func (c *Chain) Empty() {
	c.T.Helper()
	if _, err := c.Commit(c.Next(), true); err != nil {
		c.T.Fatal(err)
	}
}

// Do signs msg of module's type typ with keys, commits it in a block of
// its own and returns its result. A refused transaction must change
// nothing but its signers' sequences: Do fails the test if the block's
// writes differ from those of the same block without it.
func (c *Chain) Do(module string, keys []*tx.PrivateKey, typ string, msg any) ledger.Result {
	c.T.Helper()
	x := &tx.Tx{Module: module, Type: typ, Body: Body(c.T, msg), ExpiryHeight: c.Head.Height + 10}
	out, err := c.DoRaw(c.Sign(x, keys, nil), c.Next())
	if err != nil {
		c.T.Fatal(err)
	}
	return out.Results[0]
}

// DoRaw commits raw in a block of its own at time at, validating it,
// with the check of Do.
func (c *Chain) DoRaw(raw []byte, at time.Time) (*ledger.Outcome, error) {
	c.T.Helper()
	b := ledger.Block{ChainID: c.Head.ChainID, Height: c.Head.Height + 1, Time: at}
	out, err := c.Exec.Apply(c.State, &c.Head, b, [][]byte{raw}, false)
	if err != nil {
		return nil, err
	}
	if r := out.Results[0]; !r.OK() {
		without, err := c.Exec.Apply(c.State, &c.Head, b, nil, false)
		if err != nil {
			c.T.Fatal(err)
		}
		if a, b := writesBut(without.Writes, "ledger/acct/"), writesBut(out.Writes, "ledger/acct/"); !maps.Equal(a, b) {
			c.T.Errorf("refused %s (%s) changed the state beyond its signers' sequences", r.Code, r.Error)
		}
	}
	c.State.ApplyOutcome(out)
	c.Head = out.Header
	return out, nil
}

func writesBut(ws []ledger.Write, prefix string) map[string]string {
	out := map[string]string{}
	for _, w := range ws {
		if !strings.HasPrefix(string(w.Key), prefix) {
			out[string(w.Key)] = fmt.Sprintf("%x", w.Value)
		}
	}
	return out
}

// View is a read-only view of module's state, recording reads in rec.
func (c *Chain) View(module string, rec *ledger.Reads) *ledger.KV {
	return ledger.NewReadView(c.State, module, rec)
}

// Snapshot returns the state under prefix.
func (c *Chain) Snapshot(prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range c.State {
		if strings.HasPrefix(k, prefix) {
			out[k] = string(v)
		}
	}
	return out
}

// Step is one transaction of a story told in Go, and the outcome it must
// have.
type Step struct {
	Desc   string
	Module string
	Keys   []*tx.PrivateKey
	Type   string
	Msg    any
	Code   string // "ok" or the refusal's code
	Reason string // a part of the refusal's text
}

// Run applies the steps in order, one block each; a refused step must
// leave the state under prefix as it was.
func (c *Chain) Run(prefix string, steps []Step) {
	c.T.Helper()
	for _, s := range steps {
		before := c.Snapshot(prefix)
		r := c.Do(s.Module, s.Keys, s.Type, s.Msg)
		if r.Code != s.Code || !strings.Contains(r.Error, s.Reason) {
			c.T.Fatalf("%s: got %s %q, want %s containing %q", s.Desc, r.Code, r.Error, s.Code, s.Reason)
		}
		if s.Code != "ok" && !maps.Equal(before, c.Snapshot(prefix)) {
			c.T.Fatalf("%s: refused, but the state changed", s.Desc)
		}
	}
}
