package ledger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/transparency-dev/merkle/compact"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/tx"
)

func TestCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "nil", err: nil, want: "ok"},
		{name: "plain error", err: errors.New("disk on fire"), want: "internal"},
		{name: "ErrStorage", err: ledger.ErrStorage, want: "storage"},
		{name: "ErrTooLarge", err: tx.ErrTooLarge, want: "too_large"},
		{name: "ErrBadSignature", err: tx.ErrBadSignature, want: "bad_signature"},
		{name: "ErrMalformed", err: tx.ErrMalformed, want: "malformed"},
		{name: "ErrWrongChain", err: ledger.ErrWrongChain, want: "wrong_chain"},
		{name: "ErrExpired", err: ledger.ErrExpired, want: "expired"},
		{name: "ErrSequence", err: ledger.ErrSequence, want: "bad_sequence"},
		{name: "ErrUnknownModule", err: ledger.ErrUnknownModule, want: "unknown_module"},
		{name: "ErrUnknownType", err: ledger.ErrUnknownType, want: "unknown_type"},
		{name: "ErrUnauthorized", err: ledger.ErrUnauthorized, want: "unauthorized"},
		{name: "ErrNotFound", err: ledger.ErrNotFound, want: "not_found"},
		{name: "ErrConflict", err: ledger.ErrConflict, want: "conflict"},
		{name: "ErrGone", err: ledger.ErrGone, want: "gone"},
		{name: "ErrInvalid", err: ledger.ErrInvalid, want: "invalid"},
		{name: "ErrOverQuota", err: ledger.ErrOverQuota, want: "over_quota"},
		{name: "wrapped once", err: fmt.Errorf("notary: %w: already anchored", ledger.ErrConflict), want: "conflict"},
		{name: "wrapped twice", err: fmt.Errorf("couldn't submit: %w", fmt.Errorf("identity: %w", ledger.ErrUnauthorized)), want: "unauthorized"},
		{name: "wrapped in a join", err: errors.Join(errors.New("context"), ledger.ErrExpired), want: "expired"},
		{name: "storage wins over conflict", err: fmt.Errorf("%w: %w", ledger.ErrConflict, ledger.ErrStorage), want: "storage"},
		{name: "too large wins over malformed", err: fmt.Errorf("%w: %w", tx.ErrMalformed, tx.ErrTooLarge), want: "too_large"},
		{name: "malformed wins over invalid", err: fmt.Errorf("%w: %w", ledger.ErrInvalid, tx.ErrMalformed), want: "malformed"},
		{name: "invalid block is not a code", err: ledger.ErrInvalidBlock, want: "internal"},
		{name: "invalid block wrapping a sequence error", err: fmt.Errorf("%w: tx 0: %w", ledger.ErrInvalidBlock, ledger.ErrSequence), want: "bad_sequence"},
		{name: "a real decode error", err: decodeErr(t), want: "malformed"},
		{name: "ErrBusy", err: fmt.Errorf("%w: mempool holds 5 transactions", ledger.ErrBusy), want: "busy"},
		{name: "ErrStopped wins over storage", err: fmt.Errorf("%w: %w", ledger.ErrStopped, ledger.ErrStorage), want: "stopped"},
		{name: "deadline", err: fmt.Errorf("wait: %w", context.DeadlineExceeded), want: "timeout"},
		{name: "a hint keeps the code", err: fmt.Errorf("x: %w", ledger.WithHint(fmt.Errorf("%w: want 3", ledger.ErrSequence), "sign again")), want: "bad_sequence"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ledger.Code(tt.err); got != tt.want {
				t.Errorf("Code(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
		seen[tt.want] = true
	}
	// Every code Codes lists is covered above, and Codes has no duplicates.
	codes := ledger.Codes()
	for _, c := range codes {
		if !seen[c] {
			t.Errorf("code %q has no test case", c)
		}
	}
	if !slices.Equal(slices.Compact(slices.Sorted(slices.Values(codes))), slices.Sorted(slices.Values(codes))) {
		t.Errorf("Codes() has duplicates: %v", codes)
	}
	if codes[0] != "ok" || codes[len(codes)-1] != "internal" {
		t.Errorf("Codes() = %v, want ok first and internal last", codes)
	}
}

func decodeErr(t *testing.T) error {
	_, _, err := tx.Decode([]byte{0xff})
	if err == nil {
		t.Fatal("decoded 0xff")
	}
	return err
}

// chainRun builds a sequence of blocks from genesis by proposing, and
// records what a replay must reproduce.
type chainRun struct {
	genesis *ledger.Genesis
	blocks  []blockIn
	headers []ledger.Header
	state   ledgertest.State
}

type blockIn struct {
	b   ledger.Block
	txs [][]byte // as included
}

func testGenesis(t testing.TB) *ledger.Genesis {
	g := &ledger.Genesis{ChainID: testChain, Time: genesisTime, Params: ledger.DefaultParams()}
	for _, n := range []string{"alice", "bob"} {
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Label: n, Key: keyFor(t, n, tx.Ed25519).Public()})
	}
	g.Accounts = append(g.Accounts, ledger.GenesisAccount{Label: "carol", Key: keyFor(t, "carol", tx.P256).Public(), Sequence: 7})
	g.Modules = map[string]json.RawMessage{"testmod": json.RawMessage(`{"seeded":"yes"}`)}
	return g
}

// buildChain proposes ten blocks of mixed transactions: anchors,
// duplicates, module failures, bad sequences, multi-signer ones.
func buildChain(t *testing.T) *chainRun {
	e := newExecutor(t)
	g := testGenesis(t)
	gen, err := e.InitGenesis(g)
	if err != nil {
		t.Fatal(err)
	}
	run := &chainRun{genesis: g, state: ledgertest.State{}, headers: []ledger.Header{gen.Header}}
	run.state.ApplyOutcome(gen)
	alice, bob, carol := keyFor(t, "alice", tx.Ed25519), keyFor(t, "bob", tx.Ed25519), keyFor(t, "carol", tx.P256)
	dave := keyFor(t, "dave", tx.Secp256k1) // not in genesis
	seq := map[*tx.PrivateKey]uint64{carol: 7}
	one := func(k *tx.PrivateKey, module string, body []byte, typ string) []byte {
		raw := signTx(t, txSpec{signers: []*tx.PrivateKey{k}, seqs: []uint64{seq[k]}, chain: testChain, module: module, typ: typ, body: body, expHeight: 100})
		seq[k]++
		return raw
	}
	prev := gen.Header
	for h := uint64(1); h <= 10; h++ {
		var txs [][]byte
		txs = append(txs, one(alice, "notary", anchorBody(t, digest(fmt.Sprint("doc", h)), "text/plain", ""), "anchor"))
		txs = append(txs, one(bob, "notary", anchorBody(t, digest(fmt.Sprint("doc", h)), "text/plain", "dup"), "anchor")) // conflict
		txs = append(txs, one(carol, "testmod", putBody(t, fmt.Sprint("k", h%3), fmt.Sprint("v", h), ""), "put"))
		fail := ""
		if h%2 == 0 {
			fail = "even"
		}
		txs = append(txs, one(dave, "testmod", putBody(t, "dave", fmt.Sprint(h), fail), "put"))
		if h%3 == 0 {
			txs = append(txs, signTx(t, txSpec{signers: []*tx.PrivateKey{alice, carol}, seqs: []uint64{seq[alice], seq[carol]}, chain: testChain,
				module: "notary", typ: "anchor", body: anchorBody(t, digest(fmt.Sprint("joint", h)), "text/plain", ""), expHeight: 100}))
			seq[alice]++
			seq[carol]++
			txs = append(txs, one(bob, "notary", anchorBody(t, digest("stale"), "text/plain", ""), "anchor"))
			seq[bob] -= 2 // the next one reuses a spent sequence, and is dropped
			txs = append(txs, one(bob, "notary", anchorBody(t, digest("stale2"), "text/plain", ""), "anchor"))
			seq[bob]++
		}
		b := ledger.Block{ChainID: testChain, Height: h, Time: genesisTime.Add(time.Duration(h) * time.Second)}
		out, err := e.Apply(run.state, &prev, b, txs, true)
		if err != nil {
			t.Fatal(err)
		}
		if h%3 == 0 && len(out.Dropped) != 1 {
			t.Fatalf("block %d dropped %d transactions, want 1", h, len(out.Dropped))
		}
		run.state.ApplyOutcome(out)
		run.blocks = append(run.blocks, blockIn{b: b, txs: out.Txs})
		run.headers = append(run.headers, out.Header)
		prev = out.Header
	}
	return run
}

// TestReplayIsDeterministic replays the blocks of a chain from the same
// genesis, validating, with a fresh executor, and checks that every
// header (and so every app hash, results hash and state write) is
// reproduced.
func TestReplayIsDeterministic(t *testing.T) {
	run := buildChain(t)
	for round := range 3 {
		e := newExecutor(t)
		gen, err := e.InitGenesis(run.genesis)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(run.headers[0], gen.Header); diff != "" {
			t.Fatalf("round %d: genesis header differs:\n%s", round, diff)
		}
		st := ledgertest.State{}
		st.ApplyOutcome(gen)
		prev := gen.Header
		for i, bi := range run.blocks {
			out, err := e.Apply(st, &prev, bi.b, bi.txs, false)
			if err != nil {
				t.Fatalf("round %d: block %d: %v", round, bi.b.Height, err)
			}
			if diff := cmp.Diff(run.headers[i+1], out.Header); diff != "" {
				t.Fatalf("round %d: block %d header differs (-first +replay):\n%s", round, bi.b.Height, diff)
			}
			if prevHash := prev.Hash(); !bytes.Equal(out.Header.PrevHash, prevHash[:]) {
				t.Fatalf("block %d does not chain to its parent", bi.b.Height)
			}
			st.ApplyOutcome(out)
			prev = out.Header
		}
		if diff := cmp.Diff(run.state, st); diff != "" {
			t.Fatalf("round %d: final state differs:\n%s", round, diff)
		}
	}
}

// TestGenesisRoundTrip exports the state of a chain as a genesis file,
// loads it into a fresh ledger, and checks that the state is the same.
func TestGenesisRoundTrip(t *testing.T) {
	run := buildChain(t)
	e := newExecutor(t)
	exportTime := genesisTime.Add(time.Hour)
	g, err := e.ExportGenesis(run.state, exportTime)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := g.Encode()
	if err != nil {
		t.Fatal(err)
	}
	g2, err := ledger.ParseGenesis(enc)
	if err != nil {
		t.Fatalf("ParseGenesis of an exported genesis: %v\n%s", err, enc)
	}
	if !g2.Time.Equal(exportTime) {
		t.Errorf("genesis time %v, want %v", g2.Time, exportTime)
	}
	out, err := newExecutor(t).InitGenesis(g2)
	if err != nil {
		t.Fatal(err)
	}
	st := ledgertest.State{}
	st.ApplyOutcome(out)
	// The same state, and so the same state map and root; the log starts
	// afresh.
	if diff := cmp.Diff(run.state.WithoutLog(), st.WithoutLog()); diff != "" {
		t.Fatalf("state after export and import differs (-chain +imported):\n%s", diff)
	}
	if last := run.headers[len(run.headers)-1]; !bytes.Equal(last.AppHash, out.Header.AppHash) {
		t.Errorf("imported state root %x, chain's %x", out.Header.AppHash, last.AppHash)
	}
	// And again: the export of the imported state is the same file.
	g3, err := e.ExportGenesis(st, exportTime)
	if err != nil {
		t.Fatal(err)
	}
	enc3, err := g3.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(enc), string(enc3)); diff != "" {
		t.Errorf("second export differs:\n%s", diff)
	}
	for _, want := range []string{`"label": "carol"`, `"sequence": 20`, `"seeded": "yes"`} {
		if !strings.Contains(string(enc), want) {
			t.Errorf("exported genesis lacks %s:\n%s", want, enc)
		}
	}
}

func TestApplyRefusesBadBlocks(t *testing.T) {
	e := newExecutor(t)
	gen, err := e.InitGenesis(testGenesis(t))
	if err != nil {
		t.Fatal(err)
	}
	st := ledgertest.State{}
	st.ApplyOutcome(gen)
	tests := []struct {
		name    string
		b       ledger.Block
		wantErr error
	}{
		{name: "other chain", b: ledger.Block{ChainID: "agora-other", Height: 1, Time: genesisTime.Add(time.Second)}, wantErr: ledger.ErrInvalidBlock},
		{name: "height 2 after 0", b: ledger.Block{ChainID: testChain, Height: 2, Time: genesisTime.Add(time.Second)}, wantErr: ledger.ErrInvalidBlock},
		{name: "height 0 again", b: ledger.Block{ChainID: testChain, Height: 0, Time: genesisTime.Add(time.Second)}, wantErr: ledger.ErrInvalidBlock},
		{name: "same time as parent", b: ledger.Block{ChainID: testChain, Height: 1, Time: genesisTime}, wantErr: ledger.ErrInvalidBlock},
		{name: "same millisecond as parent", b: ledger.Block{ChainID: testChain, Height: 1, Time: genesisTime.Add(999 * time.Microsecond)}, wantErr: ledger.ErrInvalidBlock},
		{name: "before parent", b: ledger.Block{ChainID: testChain, Height: 1, Time: genesisTime.Add(-time.Second)}, wantErr: ledger.ErrInvalidBlock},
		{name: "next millisecond", b: ledger.Block{ChainID: testChain, Height: 1, Time: genesisTime.Add(time.Millisecond)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, propose := range []bool{true, false} {
				out, err := e.Apply(st, &gen.Header, tt.b, nil, propose)
				if tt.wantErr == nil {
					if err != nil {
						t.Fatalf("propose=%v: %v", propose, err)
					}
					if len(out.Txs) != 0 || len(out.Writes) != 0 || out.Txs == nil {
						t.Errorf("empty block: txs %v, writes %v", out.Txs, out.Writes)
					}
					continue
				}
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("propose=%v: Apply() = %v, want %v", propose, err, tt.wantErr)
				}
			}
		})
	}
	t.Run("no params in state", func(t *testing.T) {
		_, err := e.Apply(ledgertest.State{}, &gen.Header, ledger.Block{ChainID: testChain, Height: 1, Time: genesisTime.Add(time.Second)}, nil, true)
		if !errors.Is(err, ledger.ErrStorage) {
			t.Errorf("Apply() = %v, want ErrStorage", err)
		}
	})
}

// failingReader fails every read, as a broken store would.
type failingReader struct{ ledgertest.State }

func (failingReader) Get([]byte) ([]byte, bool, error) { return nil, false, errors.New("i/o error") }

func TestApplyStorageFailure(t *testing.T) {
	e := newExecutor(t)
	gen, err := e.InitGenesis(testGenesis(t))
	if err != nil {
		t.Fatal(err)
	}
	st := ledgertest.State{}
	st.ApplyOutcome(gen)
	alice := keyFor(t, "alice", tx.Ed25519)
	raw := signTx(t, txSpec{signers: []*tx.PrivateKey{alice}, seqs: []uint64{0}, chain: testChain, module: "notary", typ: "anchor",
		body: anchorBody(t, digest("x"), "text/plain", ""), expHeight: 10})
	// Params come from the good state, accounts from the failing one.
	r := &switchReader{good: st, fail: failingReader{}, failFrom: "ledger/acct/"}
	_, err = e.Apply(r, &gen.Header, ledger.Block{ChainID: testChain, Height: 1, Time: genesisTime.Add(time.Second)}, [][]byte{raw}, true)
	if !errors.Is(err, ledger.ErrStorage) {
		t.Fatalf("Apply() = %v, want ErrStorage (a storage failure is not a dropped transaction)", err)
	}
}

type switchReader struct {
	good     ledgertest.State
	fail     failingReader
	failFrom string
}

func (s *switchReader) Get(k []byte) ([]byte, bool, error) {
	if strings.HasPrefix(string(k), s.failFrom) {
		return s.fail.Get(k)
	}
	return s.good.Get(k)
}

func (s *switchReader) Iterate(start, end []byte, fn func(k, v []byte) (bool, error)) error {
	return s.good.Iterate(start, end, fn)
}

func (s *switchReader) GetNode(path []byte) ([]byte, bool, error) { return s.good.GetNode(path) }

func (s *switchReader) ReadHashes(ids []compact.NodeID) ([][]byte, error) {
	return s.good.ReadHashes(ids)
}

func TestInitGenesisRefusals(t *testing.T) {
	alice := keyFor(t, "alice", tx.Ed25519).Public()
	tests := []struct {
		name   string
		mutate func(g *ledger.Genesis)
		text   string
	}{
		{name: "other chain", mutate: func(g *ledger.Genesis) { g.ChainID = "agora-other" }, text: "executor for"},
		{name: "zero max_block_txs", mutate: func(g *ledger.Genesis) { g.Params.MaxBlockTxs = 0 }, text: "max_block_txs"},
		{name: "max_block_bytes below MaxSize", mutate: func(g *ledger.Genesis) { g.Params.MaxBlockBytes = tx.MaxSize - 1 }, text: "max_block_bytes"},
		{name: "section for unknown module", mutate: func(g *ledger.Genesis) { g.Modules["identity"] = json.RawMessage(`{}`) }, text: `unknown module "identity"`},
		{name: "repeated key", mutate: func(g *ledger.Genesis) {
			g.Accounts = append(g.Accounts, ledger.GenesisAccount{Label: "alice again", Key: alice})
		}, text: "repeats a key"},
		{name: "bad key", mutate: func(g *ledger.Genesis) {
			g.Accounts = append(g.Accounts, ledger.GenesisAccount{Label: "short", Key: tx.PublicKey{Alg: tx.Ed25519, Key: []byte{1}}})
		}, text: "genesis account 3"},
		{name: "bad notary policy", mutate: func(g *ledger.Genesis) { g.Modules["notary"] = json.RawMessage(`{"policy":{"mode":"closed"}}`) }, text: "notary: invalid"},
		{name: "upper-case allowed address", mutate: func(g *ledger.Genesis) {
			g.Modules["notary"] = json.RawMessage(`{"policy":{"mode":"allowlist","allowed":["` + strings.ToUpper(alice.Address()) + `"]}}`)
		}, text: "lower-case hex"},
		{name: "unknown notary field", mutate: func(g *ledger.Genesis) { g.Modules["notary"] = json.RawMessage(`{"policy":{"mode":"open"},"extra":1}`) }, text: "unknown field"},
		{name: "due events that failed", mutate: func(g *ledger.Genesis) {
			g.DueEvents = []ledger.DueEventRecord{{Height: 3, Result: ledger.Result{Code: "invalid"}}}
		}, text: "genesis due event record 0"},
		{name: "due events twice", mutate: func(g *ledger.Genesis) {
			r := ledger.DueEventRecord{Height: 3, Result: ledger.Result{Code: "ok", Events: []ledger.Event{{Type: "x"}}}}
			g.DueEvents = []ledger.DueEventRecord{r, r}
		}, text: "genesis due event record 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testGenesis(t)
			tt.mutate(g)
			if _, err := newExecutor(t).InitGenesis(g); err == nil || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("InitGenesis() = %v, want an error mentioning %q", err, tt.text)
			}
		})
	}
}

func TestParseGenesis(t *testing.T) {
	good, err := testGenesis(t).Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.ParseGenesis(good); err != nil {
		t.Fatalf("ParseGenesis of an encoded genesis: %v", err)
	}
	tests := []struct {
		name string
		in   string
		text string
	}{
		{name: "unknown field", in: strings.Replace(string(good), `"chain_id"`, `"chain":"x","chain_id"`, 1), text: "unknown field"},
		{name: "trailing data", in: string(good) + "{}", text: "trailing data"},
		{name: "no genesis time", in: `{"chain_id":"agora-test","params":{"max_block_txs":1,"max_block_bytes":65536}}`, text: "genesis_time is required"},
		{name: "bad params", in: `{"chain_id":"agora-test","genesis_time":"2025-01-01T00:00:00Z","params":{"max_block_txs":0,"max_block_bytes":65536}}`, text: "max_block_txs"},
		{name: "bad key text", in: `{"chain_id":"agora-test","genesis_time":"2025-01-01T00:00:00Z","params":{"max_block_txs":1,"max_block_bytes":65536},"accounts":[{"label":"x","key":"ed25519:AA"}]}`, text: "ed25519 key"},
		{name: "max_tx_bytes too small", in: `{"chain_id":"agora-test","genesis_time":"2025-01-01T00:00:00Z","params":{"max_block_txs":1,"max_block_bytes":65536,"max_tx_bytes":100}}`, text: "max_tx_bytes"},
		{name: "not JSON", in: "chain_id = 1", text: "genesis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ledger.ParseGenesis([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("ParseGenesis() = %v, want an error mentioning %q", err, tt.text)
			}
		})
	}
}

func TestNewExecutor(t *testing.T) {
	if _, err := ledger.NewExecutor("bad chain"); err == nil {
		t.Error("NewExecutor accepted an invalid chain id")
	}
	if _, err := ledger.NewExecutor(testChain, notary.Module{}, notary.Module{}); err == nil {
		t.Error("NewExecutor accepted two modules of one name")
	}
	if _, err := ledger.NewExecutor(testChain, namedModule{testmod{}, "ledger"}); err == nil {
		t.Error("NewExecutor accepted a module named after the ledger's namespace")
	}
	e := newExecutor(t)
	var names []string
	for _, m := range e.Modules() {
		names = append(names, m.Name())
	}
	if diff := cmp.Diff([]string{"notary", "testmod"}, names); diff != "" {
		t.Errorf("Modules() in registration order (-want +got):\n%s", diff)
	}
}

type namedModule struct {
	testmod
	name string
}

func (m namedModule) Name() string { return m.name }

// TestAdmittedHook checks that Apply skips decoding and signature
// verification only for envelopes the Admitted hook vouches for.
func TestAdmittedHook(t *testing.T) {
	e := newExecutor(t)
	gen, err := e.InitGenesis(testGenesis(t))
	if err != nil {
		t.Fatal(err)
	}
	st := ledgertest.State{}
	st.ApplyOutcome(gen)
	alice := keyFor(t, "alice", tx.Ed25519)
	raw := signTx(t, txSpec{signers: []*tx.PrivateKey{alice}, seqs: []uint64{0}, chain: testChain, module: "notary", typ: "anchor",
		body: anchorBody(t, digest("x"), "text/plain", ""), expHeight: 10})
	var s tx.Signed
	if err := tx.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	s.Sigs[0][0] ^= 1
	forged, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	b := ledger.Block{ChainID: testChain, Height: 1, Time: genesisTime.Add(time.Second)}
	if _, err := e.Apply(st, &gen.Header, b, [][]byte{forged}, false); !errors.Is(err, tx.ErrBadSignature) {
		t.Fatalf("Apply of a forged tx = %v, want ErrBadSignature", err)
	}
	vouched := sha256Sum(forged)
	admitted, err := e.Check(forged, false)
	if err != nil {
		t.Fatal(err)
	}
	e.Admitted = func(sum [32]byte) *ledger.Checked {
		if sum == vouched {
			return admitted
		}
		return nil
	}
	if _, err := e.Apply(st, &gen.Header, b, [][]byte{forged}, false); err != nil {
		t.Fatalf("Apply skipping verification of a vouched-for tx: %v", err)
	}
	e.Admitted = func([32]byte) *ledger.Checked { return nil }
	if _, err := e.Apply(st, &gen.Header, b, [][]byte{forged}, false); !errors.Is(err, tx.ErrBadSignature) {
		t.Fatalf("Apply with a hook that vouches for nothing = %v, want ErrBadSignature", err)
	}
}
