package node

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/tx"
)

const chain = "agora-test"

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeClock is the node's clock in tests: it moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// blob is a test module whose "put" message carries arbitrary bytes, so
// that tests can make transactions of any size.
type blob struct{}

type blobMsg struct {
	Key  string `cbor:"1,keyasint"`
	Data []byte `cbor:"2,keyasint"`
}

func (*blobMsg) Validate() error { return nil }

func (blob) Name() string { return "blob" }
func (blob) Decode(typ string, body []byte) (ledger.Msg, error) {
	if typ != "put" {
		return nil, fmt.Errorf("%w %q", ledger.ErrUnknownType, typ)
	}
	var m blobMsg
	if err := tx.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	return &m, nil
}
func (blob) Execute(ctx *ledger.Context, msg ledger.Msg) error {
	m := msg.(*blobMsg)
	ctx.KV.Set([]byte(m.Key), m.Data)
	return nil
}
func (blob) Queries() []ledger.Query                           { return nil }
func (blob) InitGenesis(*ledger.KV, json.RawMessage) error     { return nil }
func (blob) ExportGenesis(*ledger.KV) (json.RawMessage, error) { return nil, nil }

func newExec(t testing.TB) *ledger.Executor {
	t.Helper()
	e, err := ledger.NewExecutor(chain, notary.Module{}, blob{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func mustOK(t testing.TB, err error, what string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}

// env is a node over a real store in a temporary directory, with a fake
// clock.
type env struct {
	t     *testing.T
	dir   string
	cfg   Config
	g     *ledger.Genesis
	clock *fakeClock
	st    *store.Store
	n     *Node
	// cp signs the node's checkpoints; verifier checks them.
	cp       *Checkpointer
	verifier note.Verifier
}

// testCheckpointer returns a checkpoint signer for chain and its verifier.
func testCheckpointer(t testing.TB, chainID string) (*Checkpointer, note.Verifier) {
	t.Helper()
	skey, vkey, err := tlog.GenerateKey(rand.Reader, ledger.Origin(chainID))
	mustOK(t, err, "generate log key")
	signer, err := note.NewSigner(skey)
	mustOK(t, err, "signer")
	verifier, err := note.NewVerifier(vkey)
	mustOK(t, err, "verifier")
	return &Checkpointer{Signer: signer}, verifier
}

func newEnv(t *testing.T, cfg Config, params *ledger.Params) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), cfg: cfg, clock: &fakeClock{now: t0.Add(time.Second)}}
	e.g = &ledger.Genesis{ChainID: chain, Time: t0, Params: ledger.DefaultParams()}
	if params != nil {
		e.g.Params = *params
	}
	for _, name := range []string{"alice", "bob"} {
		e.g.Accounts = append(e.g.Accounts, ledger.GenesisAccount{Label: name, Key: key(t, name).Public()})
	}
	st, err := store.Open(e.dir, discardLog())
	mustOK(t, err, "open store")
	e.st = st
	t.Cleanup(func() { e.st.Close() })
	e.cp, e.verifier = testCheckpointer(t, chain)
	_, err = Init(st, newExec(t), e.g, []byte("genesis"), e.cp)
	mustOK(t, err, "init")
	e.n, err = New(cfg, st, newExec(t), discardLog(), e.clock.Now, nil, e.cp)
	mustOK(t, err, "new node")
	return e
}

// reopen closes the store and starts a new node over the reopened store,
// as after a restart.
func (e *env) reopen() {
	e.t.Helper()
	mustOK(e.t, e.st.Close(), "close")
	st, err := store.Open(e.dir, discardLog())
	mustOK(e.t, err, "reopen store")
	e.st = st
	e.n, err = New(e.cfg, st, newExec(e.t), discardLog(), e.clock.Now, nil, e.cp)
	mustOK(e.t, err, "new node after reopen")
}

func key(t testing.TB, name string) *tx.PrivateKey {
	seed := sha256.Sum256([]byte("agora/node-test/" + name))
	alg := tx.Ed25519
	if strings.HasPrefix(name, "p256-") {
		alg = tx.P256
	}
	k, err := tx.NewPrivateKey(alg, seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// txOpt adjusts a transaction before it is signed.
type txOpt func(*tx.Tx)

func expiresAt(tm time.Time) txOpt {
	return func(x *tx.Tx) { x.ExpiryHeight, x.ExpiryTime = 0, tm.UnixMilli() }
}
func expiresAtHeight(h uint64) txOpt {
	return func(x *tx.Tx) { x.ExpiryHeight = h }
}
func onChain(c string) txOpt { return func(x *tx.Tx) { x.ChainID = c } }

func anchor(t testing.TB, k *tx.PrivateKey, seq uint64, doc string, opts ...txOpt) []byte {
	t.Helper()
	sum := sha256.Sum256([]byte(doc))
	body, err := tx.Marshal(&notary.Anchor{SHA256: sum[:], MediaType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, k, seq, "notary", "anchor", body, opts...)
}

func blobTx(t testing.TB, k *tx.PrivateKey, seq uint64, keyName string, size int) []byte {
	t.Helper()
	body, err := tx.Marshal(&blobMsg{Key: keyName, Data: make([]byte, size)})
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, k, seq, "blob", "put", body)
}

func sign(t testing.TB, k *tx.PrivateKey, seq uint64, module, typ string, body []byte, opts ...txOpt) []byte {
	t.Helper()
	x := &tx.Tx{Version: tx.Version, ChainID: chain, Module: module, Type: typ, Body: body,
		Signers: []tx.Signer{{Key: k.Public(), Sequence: seq}}, ExpiryHeight: 1000}
	for _, o := range opts {
		o(x)
	}
	s, err := tx.Sign(x, k)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func idOf(t testing.TB, raw []byte) tx.ID {
	var s tx.Signed
	if err := tx.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return s.ID()
}

func (e *env) submit(raw []byte) tx.ID {
	e.t.Helper()
	id, err := e.n.Submit(raw)
	mustOK(e.t, err, "submit")
	return id
}

func (e *env) produce() {
	e.t.Helper()
	e.clock.Advance(time.Second)
	mustOK(e.t, e.n.produce(), "produce")
}

func (e *env) seq(name string) uint64 {
	e.t.Helper()
	a, err := ledger.GetAccount(e.st, key(e.t, name).Public())
	mustOK(e.t, err, "account")
	return a.Sequence
}

func TestSubmitRefusals(t *testing.T) {
	alice, bob := key(t, "alice"), key(t, "bob")
	tests := []struct {
		name    string
		cfg     Config
		params  *ledger.Params
		setup   func(e *env) []byte // returns the transaction to submit
		wantErr error
		code    string
	}{
		{name: "not CBOR", setup: func(*env) []byte { return []byte("hello") }, wantErr: tx.ErrMalformed, code: "malformed"},
		{name: "bad signature", setup: func(e *env) []byte {
			raw := anchor(t, alice, 0, "x")
			var s tx.Signed
			mustOK(t, tx.Unmarshal(raw, &s), "decode")
			s.Sigs[0][3] ^= 1
			b, err := s.Encode()
			mustOK(t, err, "encode")
			return b
		}, wantErr: tx.ErrBadSignature, code: "bad_signature"},
		{name: "wrong chain", setup: func(*env) []byte { return anchor(t, alice, 0, "x", onChain("agora-other")) }, wantErr: ledger.ErrWrongChain, code: "wrong_chain"},
		{name: "unknown module", setup: func(*env) []byte { return sign(t, alice, 0, "identity", "register", []byte{0xa0}) }, wantErr: ledger.ErrUnknownModule, code: "unknown_module"},
		{name: "invalid body", setup: func(*env) []byte { return sign(t, alice, 0, "notary", "anchor", []byte{0xa0}) }, wantErr: tx.ErrMalformed, code: "malformed"},
		{name: "expired by time", setup: func(e *env) []byte {
			return anchor(t, alice, 0, "x", expiresAt(e.clock.Now().Add(-time.Millisecond)))
		}, wantErr: ledger.ErrExpired, code: "expired"},
		{name: "expired by height", setup: func(e *env) []byte {
			e.produce() // an empty block 1; the next is 2
			return anchor(t, alice, 0, "x", expiresAtHeight(1))
		}, wantErr: ledger.ErrExpired, code: "expired"},
		{name: "sequence ahead", setup: func(*env) []byte { return anchor(t, alice, 1, "x") }, wantErr: ledger.ErrSequence, code: "bad_sequence"},
		{name: "sequence already used", setup: func(e *env) []byte {
			e.submit(anchor(t, alice, 0, "x"))
			e.produce()
			return anchor(t, alice, 0, "y")
		}, wantErr: ledger.ErrSequence, code: "bad_sequence"},
		{name: "sequence taken by a waiting tx", setup: func(e *env) []byte {
			e.submit(anchor(t, alice, 0, "x"))
			return anchor(t, alice, 0, "y")
		}, wantErr: ledger.ErrSequence, code: "bad_sequence"},
		{name: "duplicate in mempool", setup: func(e *env) []byte {
			raw := anchor(t, alice, 0, "x")
			e.submit(raw)
			return raw
		}, wantErr: ledger.ErrConflict, code: "conflict"},
		{name: "same tx re-signed while waiting", setup: func(e *env) []byte {
			p := key(t, "p256-carol")
			e.submit(anchor(t, p, 0, "x"))
			return anchor(t, p, 0, "x") // new P-256 signature, same tx bytes and ID
		}, wantErr: ledger.ErrConflict, code: "conflict"},
		{name: "duplicate already committed", setup: func(e *env) []byte {
			raw := anchor(t, alice, 0, "x")
			e.submit(raw)
			e.produce()
			return raw
		}, wantErr: ledger.ErrConflict, code: "conflict"},
		{name: "mempool full", cfg: Config{MempoolSize: 1}, setup: func(e *env) []byte {
			e.submit(anchor(t, alice, 0, "x"))
			return anchor(t, bob, 0, "y")
		}, wantErr: ErrBusy, code: "busy"},
		{name: "over max_tx_bytes", params: &ledger.Params{MaxBlockTxs: 100, MaxBlockBytes: 1 << 20, MaxTxBytes: 4096},
			setup: func(*env) []byte {
				return blobTx(t, alice, 0, "big", 5000)
			}, wantErr: tx.ErrTooLarge, code: "too_large"},
		{name: "no standing, and no free quota", params: &ledger.Params{MaxBlockTxs: 100, MaxBlockBytes: 1 << 20, FreeBlockTxs: new(uint64)},
			setup: func(*env) []byte {
				return anchor(t, key(t, "fresh"), 0, "spam")
			}, wantErr: ledger.ErrOverQuota, code: "over_quota"},
		{name: "no standing, larger than the free quota", setup: func(*env) []byte {
			return blobTx(t, key(t, "fresh"), 0, "big", ledger.DefaultFreeBlockBytes)
		}, wantErr: ledger.ErrOverQuota, code: "over_quota"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg, tt.params)
			raw := tt.setup(e)
			before := e.n.MempoolSize()
			_, err := e.n.Submit(raw)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Submit() = %v, want %v", err, tt.wantErr)
			}
			if got := ledger.Code(err); got != tt.code {
				t.Errorf("code %q, want %q", got, tt.code)
			}
			if e.n.MempoolSize() != before {
				t.Errorf("mempool grew from %d to %d on a refusal", before, e.n.MempoolSize())
			}
		})
	}
}

// TestConsecutiveSequences submits several transactions of one signer
// before any block, each with the next sequence counting the waiting ones.
func TestConsecutiveSequences(t *testing.T) {
	e := newEnv(t, Config{}, nil)
	alice, bob := key(t, "alice"), key(t, "bob")
	addr := alice.Public().Address()
	var ids []tx.ID
	for i := range uint64(3) {
		if got := e.n.NextSequence(addr, e.seq("alice")); got != i {
			t.Fatalf("NextSequence = %d before submitting sequence %d", got, i)
		}
		ids = append(ids, e.submit(anchor(t, alice, i, fmt.Sprint("doc", i))))
	}
	ids = append(ids, e.submit(anchor(t, bob, 0, "bob's")))
	if e.n.MempoolSize() != 4 || !e.n.Pending(ids[2]) {
		t.Fatalf("mempool holds %d, want 4 with the last of alice's pending", e.n.MempoolSize())
	}
	e.produce()
	for i, id := range ids {
		c, err := e.n.Lookup(id)
		if err != nil {
			t.Fatalf("tx %d: %v", i, err)
		}
		if c.Height != 1 || c.Index != i || !c.Result.OK() {
			t.Errorf("tx %d committed at %d/%d with %+v; want 1/%d ok", i, c.Height, c.Index, c.Result, i)
		}
		if e.n.Pending(id) {
			t.Errorf("tx %d is still pending", i)
		}
	}
	if got := e.seq("alice"); got != 3 {
		t.Errorf("alice's sequence is %d, want 3", got)
	}
	if got := e.n.NextSequence(addr, e.seq("alice")); got != 3 {
		t.Errorf("NextSequence = %d after the block, want 3", got)
	}
	if e.n.MempoolSize() != 0 {
		t.Errorf("mempool holds %d after the block", e.n.MempoolSize())
	}
	e.submit(anchor(t, alice, 3, "doc3"))
}

// TestPendingSurvivesBlock keeps a signer's later transaction waiting
// when a block takes only the earlier one, and keeps counting it.
func TestPendingSurvivesBlock(t *testing.T) {
	e := newEnv(t, Config{}, &ledger.Params{MaxBlockTxs: 1, MaxBlockBytes: 16 << 20})
	alice := key(t, "alice")
	first := e.submit(anchor(t, alice, 0, "a"))
	second := e.submit(anchor(t, alice, 1, "b"))
	e.produce() // only the first fits
	if _, err := e.n.Lookup(first); err != nil {
		t.Fatal(err)
	}
	if !e.n.Pending(second) {
		t.Fatal("second tx left the mempool")
	}
	if got := e.n.NextSequence(alice.Public().Address(), e.seq("alice")); got != 2 {
		t.Errorf("NextSequence = %d, want 2 (one waiting)", got)
	}
	e.submit(anchor(t, alice, 2, "c"))
	e.produce()
	e.produce()
	if got := e.seq("alice"); got != 3 {
		t.Errorf("alice's sequence is %d, want 3", got)
	}
}

// waitFor starts Wait for id in a goroutine and returns a channel with its
// outcome, once the waiter is registered.
func waitFor(t *testing.T, n *Node, id tx.ID) <-chan waitResult {
	t.Helper()
	ch := make(chan waitResult, 1)
	n.mu.Lock()
	before := len(n.waiters[id])
	n.mu.Unlock()
	go func() {
		c, err := n.Wait(t.Context(), id)
		ch <- waitResult{c: c, err: err}
	}()
	for {
		n.mu.Lock()
		registered := len(n.waiters[id]) > before
		n.mu.Unlock()
		if registered {
			return ch
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRecheckAfterDrop shows what happens when a waiting transaction
// expires before its block: it is dropped, the later transactions of the
// same signer can no longer be applied and are dropped too (in the same
// block by Apply, still in the mempool by the recheck), other signers'
// transactions are unaffected, and every waiter learns why.
func TestRecheckAfterDrop(t *testing.T) {
	e := newEnv(t, Config{}, &ledger.Params{MaxBlockTxs: 3, MaxBlockBytes: 16 << 20})
	alice, bob := key(t, "alice"), key(t, "bob")
	a0 := e.submit(anchor(t, alice, 0, "a0", expiresAt(e.clock.Now().Add(500*time.Millisecond))))
	a1 := e.submit(anchor(t, alice, 1, "a1")) // in the same block as a0
	b0 := e.submit(anchor(t, bob, 0, "b0"))
	a2 := e.submit(anchor(t, alice, 2, "a2")) // beyond the block: still waiting
	b1 := e.submit(anchor(t, bob, 1, "b1"))
	ws := map[string]<-chan waitResult{}
	for name, id := range map[string]tx.ID{"a0": a0, "a1": a1, "a2": a2, "b0": b0, "b1": b1} {
		ws[name] = waitFor(t, e.n, id)
	}

	e.produce() // the clock moves one second: a0 has expired

	r := <-ws["a0"]
	if !errors.Is(r.err, ledger.ErrExpired) {
		t.Errorf("Wait(a0) = %+v, %v; want ErrExpired", r.c, r.err)
	}
	r = <-ws["a1"]
	if !errors.Is(r.err, ledger.ErrSequence) {
		t.Errorf("Wait(a1) = %+v, %v; want ErrSequence", r.c, r.err)
	}
	r = <-ws["a2"]
	if !errors.Is(r.err, ledger.ErrSequence) || !strings.Contains(r.err.Error(), "earlier transaction") {
		t.Errorf("Wait(a2) = %+v, %v; want ErrSequence naming the dropped one", r.c, r.err)
	}
	r = <-ws["b0"]
	if r.err != nil || r.c.Height != 1 || !r.c.Result.OK() {
		t.Errorf("Wait(b0) = %+v, %v; want committed ok at height 1", r.c, r.err)
	}
	if e.n.MempoolSize() != 1 || !e.n.Pending(b1) || e.n.Pending(a2) {
		t.Errorf("mempool holds %d after the drop, want only b1", e.n.MempoolSize())
	}
	if got := e.n.NextSequence(alice.Public().Address(), e.seq("alice")); got != 0 {
		t.Errorf("NextSequence(alice) = %d, want 0: nothing of hers was applied", got)
	}
	if got := e.n.NextSequence(bob.Public().Address(), e.seq("bob")); got != 2 {
		t.Errorf("NextSequence(bob) = %d, want 2: b1 still waits", got)
	}
	for _, id := range []tx.ID{a0, a1, a2} {
		if _, err := e.n.Lookup(id); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("dropped tx found: %v", err)
		}
		// The node remembers why, and a late waiter learns it at once.
		if err := e.n.Dropped(id); err == nil {
			t.Errorf("Dropped(%s) = nil, want the reason", id)
		}
		if _, err := e.n.Wait(context.Background(), id); err == nil || !errors.Is(err, e.n.Dropped(id)) {
			t.Errorf("Wait on dropped %s = %v, want its reason %v", id, err, e.n.Dropped(id))
		}
	}
	if err := e.n.Dropped(b0); err != nil {
		t.Errorf("Dropped(committed b0) = %v, want nil", err)
	}
	// Alice signs again from sequence 0; bob's b1 goes in with it.
	again := e.submit(anchor(t, alice, 0, "a0 again"))
	e.produce()
	if c, err := e.n.Lookup(again); err != nil || !c.Result.OK() {
		t.Errorf("resubmitted tx: %+v, %v", c, err)
	}
	if r := <-ws["b1"]; r.err != nil || r.c.Height != 2 {
		t.Errorf("Wait(b1) = %+v, %v; want committed at height 2", r.c, r.err)
	}
}

// TestBlockBytesLimit fills the mempool with transactions that do not all
// fit the byte limit of one block. Those that do not fit must wait for the
// next block, not be dropped.
func TestBlockBytesLimit(t *testing.T) {
	e := newEnv(t, Config{}, &ledger.Params{MaxBlockTxs: 100, MaxBlockBytes: tx.MaxSize})
	alice, bob := key(t, "alice"), key(t, "bob")
	a := e.submit(blobTx(t, alice, 0, "a", 40000))
	b := e.submit(blobTx(t, bob, 0, "b", 40000))
	b2 := e.submit(blobTx(t, bob, 1, "b2", 10))
	wb, wb2 := waitFor(t, e.n, b), waitFor(t, e.n, b2)
	e.produce()
	if c, err := e.n.Lookup(a); err != nil || c.Height != 1 {
		t.Fatalf("first tx: %+v, %v", c, err)
	}
	e.produce()
	r := <-wb
	if r.err != nil || r.c.Height != 2 {
		t.Errorf("Wait(b) = %+v, %v; want committed at height 2", r.c, r.err)
	}
	r = <-wb2
	if r.err != nil || r.c.Height != 2 {
		t.Errorf("Wait(b2) = %+v, %v; want committed at height 2", r.c, r.err)
	}
}

// TestRunAndWait runs the node's block loop for real: submitted
// transactions are committed and Wait returns where.
func TestRunAndWait(t *testing.T) {
	e := newEnv(t, Config{BlockInterval: Duration(time.Millisecond), EmptyBlockInterval: Every(time.Hour)}, nil)
	alice := key(t, "alice")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.n.Run(ctx) }()

	var ids []tx.ID
	var results []Committed
	for i := range uint64(3) {
		id := e.submit(anchor(t, alice, i, fmt.Sprint("run", i)))
		c, err := e.n.Wait(t.Context(), id)
		if err != nil {
			t.Fatalf("Wait(tx %d): %v", i, err)
		}
		if !c.Result.OK() || c.Header.Height != c.Height {
			t.Errorf("tx %d: %+v", i, c)
		}
		rec, err := e.st.Block(c.Height)
		mustOK(t, err, "block %d", c.Height)
		if diff := cmp.Diff(rec.Header, c.Header); diff != "" {
			t.Errorf("Wait's header differs from the stored block:\n%s", diff)
		}
		ids = append(ids, id)
		results = append(results, c)
	}
	// Waiting for a committed transaction returns at once.
	if c, err := e.n.Wait(t.Context(), ids[0]); err != nil || c.Height != results[0].Height {
		t.Errorf("Wait for a committed tx = %+v, %v", c, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run() = %v after cancel, want nil", err)
	}
	if _, err := e.n.Submit(anchor(t, alice, 3, "late")); !errors.Is(err, ErrStopped) {
		t.Errorf("Submit after stop = %v, want ErrStopped", err)
	}
	if _, err := e.n.Wait(t.Context(), tx.ID{1}); !errors.Is(err, ErrStopped) {
		t.Errorf("Wait after stop = %v, want ErrStopped", err)
	}
	head := e.n.Head()

	e.reopen()
	if diff := cmp.Diff(head, e.n.Head()); diff != "" {
		t.Errorf("head after reopen differs:\n%s", diff)
	}
	for i, id := range ids {
		c, err := e.n.Lookup(id)
		if err != nil {
			t.Fatalf("tx %d after reopen: %v", i, err)
		}
		if diff := cmp.Diff(results[i], c); diff != "" {
			t.Errorf("tx %d after reopen (-before +after):\n%s", i, diff)
		}
	}
	if _, err := e.n.Submit(anchor(t, alice, 0, "run0")); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("resubmitting a committed tx after reopen = %v, want ErrConflict", err)
	}
	e.submit(anchor(t, alice, 3, "after restart"))
	rep, err := Fsck(e.st, newExec(t), e.g, e.verifier, nil)
	mustOK(t, err, "fsck")
	if rep.Head != head.Height || rep.Txs != 3 {
		t.Errorf("fsck report %+v, want head %d and 3 txs", rep, head.Height)
	}
}

// TestWaitStopped checks that a waiter learns that the node stopped.
func TestWaitStopped(t *testing.T) {
	e := newEnv(t, Config{BlockInterval: Duration(time.Hour), EmptyBlockInterval: Every(time.Hour)}, nil)
	w := waitFor(t, e.n, idOf(t, anchor(t, key(t, "alice"), 0, "never submitted")))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.n.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r := <-w; !errors.Is(r.err, ErrStopped) {
		t.Errorf("Wait = %+v, %v; want ErrStopped", r.c, r.err)
	}
}

func TestNewRefusesEmptyStore(t *testing.T) {
	st, err := store.Open(t.TempDir(), discardLog())
	mustOK(t, err, "open")
	defer st.Close()
	if _, err := New(Config{}, st, newExec(t), discardLog(), time.Now, nil, nil); err == nil || !strings.Contains(err.Error(), "agora init") {
		t.Errorf("New over an empty store = %v, want a hint to run agora init", err)
	}
}

// TestBlockTimes checks that block times come from the clock, truncated
// to milliseconds, and still increase when the clock stands still or
// goes back.
func TestBlockTimes(t *testing.T) {
	e := newEnv(t, Config{}, nil)
	e.clock.Advance(1234567 * time.Nanosecond)
	mustOK(t, e.n.produce(), "produce")
	h1 := e.n.Head()
	if want := e.clock.Now().Truncate(time.Millisecond).UnixMilli(); h1.Time != want {
		t.Errorf("block 1 time %d, want the clock's %d", h1.Time, want)
	}
	mustOK(t, e.n.produce(), "produce") // the clock has not moved
	if h2 := e.n.Head(); h2.Time != h1.Time+1 {
		t.Errorf("block 2 time %d, want %d", h2.Time, h1.Time+1)
	}
	e.clock.Advance(-time.Hour)
	mustOK(t, e.n.produce(), "produce")
	if h3 := e.n.Head(); h3.Time != h1.Time+2 {
		t.Errorf("block 3 time %d with the clock going back, want %d", h3.Time, h1.Time+2)
	}
}

// TestMempoolBytes fills a mempool bounded in bytes: submissions beyond
// mempool_bytes are refused with "busy" whatever their count, and the
// bytes a block takes out are free again.
func TestMempoolBytes(t *testing.T) {
	e := newEnv(t, Config{MempoolBytes: tx.MaxSize}, nil)
	alice := key(t, "alice")
	held, seq := 0, uint64(0)
	for ; ; seq++ {
		raw := anchor(t, alice, seq, fmt.Sprint("doc ", seq))
		_, err := e.n.Submit(raw)
		if err != nil {
			if !errors.Is(err, ErrBusy) {
				t.Fatalf("Submit() = %v, want ErrBusy", err)
			}
			if held+len(raw) <= tx.MaxSize {
				t.Fatalf("refused at %d bytes held, with room for %d more", held, len(raw))
			}
			break
		}
		held += len(raw)
	}
	if held > tx.MaxSize || e.n.MempoolSize() != int(seq) {
		t.Fatalf("mempool holds %d transactions of %d bytes, bound %d", e.n.MempoolSize(), held, tx.MaxSize)
	}
	e.produce()
	e.submit(anchor(t, alice, seq, fmt.Sprint("doc ", seq)))
}

// TestSubmitQuota shows fresh keys' transactions beyond a block's free
// quota waiting for later blocks, in order, while keys named in genesis
// are not counted.
func TestSubmitQuota(t *testing.T) {
	two := uint64(2)
	e := newEnv(t, Config{}, &ledger.Params{MaxBlockTxs: 100, MaxBlockBytes: 1 << 20, FreeBlockTxs: &two})
	alice, dave := key(t, "alice"), key(t, "dave")
	var ids []tx.ID
	for i := range 3 { // dave's three wait behind each other
		ids = append(ids, e.submit(anchor(t, dave, uint64(i), fmt.Sprint("dave ", i))))
	}
	for i := range 3 {
		ids = append(ids, e.submit(anchor(t, key(t, fmt.Sprint("fresh-", i)), 0, fmt.Sprint("fresh ", i))))
	}
	ids = append(ids, e.submit(anchor(t, alice, 0, "alice")))
	committed := func() (n int) {
		for _, id := range ids {
			if _, err := e.n.Lookup(id); err == nil {
				n++
			} else if e.n.Dropped(id) != nil {
				t.Fatalf("%s dropped: %v", id, e.n.Dropped(id))
			}
		}
		return n
	}
	for i, want := range []int{3, 5, 7} { // two free a block, and alice's at once
		e.produce()
		if got := committed(); got != want {
			t.Fatalf("after block %d: %d committed, want %d", i+1, got, want)
		}
	}
	if e.n.MempoolSize() != 0 {
		t.Fatalf("mempool holds %d", e.n.MempoolSize())
	}
}

// TestFreeBacklog shows at most FreeBacklogBlocks blocks' worth of the
// free quota waiting, beyond which keys without standing are told busy
// while the rest still get in, and the place given back once committed.
func TestFreeBacklog(t *testing.T) {
	one := uint64(1)
	e := newEnv(t, Config{}, &ledger.Params{MaxBlockTxs: 100, MaxBlockBytes: 1 << 20, FreeBlockTxs: &one})
	for i := range ledger.FreeBacklogBlocks {
		e.submit(anchor(t, key(t, fmt.Sprint("fresh-", i)), 0, fmt.Sprint("doc ", i)))
	}
	late := anchor(t, key(t, "late"), 0, "late")
	if _, err := e.n.Submit(late); !errors.Is(err, ErrBusy) {
		t.Fatalf("beyond the free backlog: %v, want busy", err)
	}
	e.submit(anchor(t, key(t, "alice"), 0, "alice")) // not counted
	e.produce()
	e.submit(late)
}
