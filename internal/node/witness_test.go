package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/witness"
	"github.com/agora-ledger/agora/internal/witness/cosig"
)

// fastRetries shortens the collector's backoff for the test.
func fastRetries(t *testing.T) {
	old := minBackoff
	minBackoff = 20 * time.Millisecond
	t.Cleanup(func() { minBackoff = old })
}

// testWitness is a witness of the test chain's log on an httptest server.
type testWitness struct {
	vkey string
	srv  *httptest.Server
	// down makes it answer 503 without looking at the request.
	down atomic.Bool
	// refused counts its 409 and 422 answers.
	refused atomic.Int32
	// logs is what it logged.
	logs syncBuffer
}

func newTestWitness(t *testing.T, name, logKey string) *testWitness {
	t.Helper()
	skey, vkey, err := witness.GenerateKey(rand.Reader, name)
	mustOK(t, err, "witness key")
	cs, err := witness.NewCosigner(skey, time.Now)
	mustOK(t, err, "cosigner")
	state, err := witness.OpenFileState(filepath.Join(t.TempDir(), "witness-state.json"))
	mustOK(t, err, "witness state")
	w, err := witness.New(cs, []witness.Log{{Origin: ledger.Origin(chain), Keys: []string{logKey}}}, state)
	mustOK(t, err, "witness")
	tw := &testWitness{vkey: vkey}
	h := witness.NewHandler(w, slog.New(slog.NewTextHandler(&tw.logs, nil)))
	tw.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if tw.down.Load() {
			http.Error(rw, "down", http.StatusServiceUnavailable)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code == http.StatusConflict || rec.Code == http.StatusUnprocessableEntity {
			tw.refused.Add(1)
		}
		for k, v := range rec.Header() {
			rw.Header()[k] = v
		}
		rw.WriteHeader(rec.Code)
		rw.Write(rec.Body.Bytes())
	}))
	t.Cleanup(tw.srv.Close)
	return tw
}

// syncBuffer is a bytes.Buffer that a logger can write while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (tw *testWitness) config() WitnessConfig {
	return WitnessConfig{URL: tw.srv.URL, Key: tw.vkey}
}

// testLogKey returns a checkpoint signer for the test chain and its
// verifier key.
func testLogKey(t *testing.T) (*Checkpointer, string) {
	t.Helper()
	skey, vkey, err := tlog.GenerateKey(rand.Reader, ledger.Origin(chain))
	mustOK(t, err, "log key")
	signer, err := note.NewSigner(skey)
	mustOK(t, err, "signer")
	return &Checkpointer{Signer: signer}, vkey
}

// witnessedEnv is an env whose node signs with cp and has witnesses,
// over the store in dir (initialised if empty). Its collector runs until
// stop; blocks are made with produce.
type witnessedEnv struct {
	*env
	logKey string
	logs   *syncBuffer // the node's log
	cancel context.CancelFunc
	done   chan struct{}
}

func newWitnessedEnv(t *testing.T, dir string, cp *Checkpointer, logKey string, ws ...*testWitness) *witnessedEnv {
	t.Helper()
	cfg := Config{}
	for _, w := range ws {
		cfg.Witnesses = append(cfg.Witnesses, w.config())
	}
	mustOK(t, cfg.WithDefaults().Validate(), "config")
	e := &env{t: t, dir: dir, cfg: cfg, clock: &fakeClock{now: t0.Add(time.Second)}, cp: cp}
	e.g = &ledger.Genesis{ChainID: chain, Time: t0, Params: ledger.DefaultParams()}
	for _, name := range []string{"alice", "bob"} {
		e.g.Accounts = append(e.g.Accounts, ledger.GenesisAccount{Label: name, Key: key(t, name).Public()})
	}
	st, err := store.Open(dir, discardLog())
	mustOK(t, err, "open store")
	e.st = st
	if _, ok, _ := st.Head(); !ok {
		_, err = Init(st, newExec(t), e.g, []byte("genesis"), cp)
		mustOK(t, err, "init")
	}
	logs := &syncBuffer{}
	e.n, err = New(cfg, st, newExec(t), slog.New(slog.NewTextHandler(logs, nil)), e.clock.Now, nil, cp)
	mustOK(t, err, "new node")
	ctx, cancel := context.WithCancel(context.Background())
	we := &witnessedEnv{env: e, logKey: logKey, logs: logs, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(we.done)
		e.n.wit.run(ctx)
	}()
	t.Cleanup(we.stop)
	return we
}

// stop stops the collector and closes the store.
func (we *witnessedEnv) stop() {
	if we.cancel == nil {
		return
	}
	we.cancel()
	<-we.done
	we.cancel = nil
	we.st.Close()
}

// commit makes a block with an anchor of doc by alice.
func (we *witnessedEnv) commit(doc string) {
	we.t.Helper()
	we.submit(anchor(we.t, key(we.t, "alice"), we.seq("alice"), doc))
	we.produce()
}

// waitFor polls cond until it holds, for at most 20 seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// cosigned reports whether the stored checkpoint of height h carries a
// valid cosignature by each of ws.
func (we *witnessedEnv) cosigned(h uint64, ws ...*testWitness) bool {
	we.t.Helper()
	signed, err := we.st.Checkpoint(h)
	mustOK(we.t, err, "checkpoint %d", h)
	lines, err := we.st.Cosignatures(h)
	mustOK(we.t, err, "cosignatures %d", h)
	var keys []string
	for _, w := range ws {
		keys = append(keys, w.vkey)
	}
	_, err = cosig.VerifyCosigned(append(signed, lines...), we.verifierOf(), keys, len(keys))
	if err != nil && !errors.Is(err, cosig.ErrNoQuorum) {
		we.t.Fatalf("checkpoint %d with its cosignatures does not verify: %v", h, err)
	}
	return err == nil
}

func (we *witnessedEnv) verifierOf() note.Verifier {
	we.t.Helper()
	v, err := note.NewVerifier(we.logKey)
	mustOK(we.t, err, "log verifier")
	return v
}

// witnessed returns the height the node reports as witnessed by all, or
// -1.
func (we *witnessedEnv) witnessed() int64 {
	w, ok := we.n.Witnessed()
	if !ok {
		return -1
	}
	return int64(w.Height)
}

// copyDir copies the files of a closed store.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	mustOK(t, err, "copy %s", from)
}

func TestWitnessesCosign(t *testing.T) {
	fastRetries(t)
	cp, logKey := testLogKey(t)
	w1, w2 := newTestWitness(t, "w1.example", logKey), newTestWitness(t, "w2.example", logKey)
	dir := t.TempDir()
	we := newWitnessedEnv(t, dir, cp, logKey, w1, w2)
	waitUntil(t, "both witnesses cosign the genesis checkpoint", func() bool { return we.witnessed() == 0 })
	for i := range 3 {
		we.commit(fmt.Sprintf("doc %d", i))
	}
	head := we.n.Head()
	waitUntil(t, "the head is witnessed", func() bool { return we.witnessed() == int64(head.Height) })
	if w, _ := we.n.Witnessed(); w.LogSize != head.LogSize {
		t.Errorf("witnessed log size %d, want %d", w.LogSize, head.LogSize)
	}
	if !we.cosigned(head.Height, w1, w2) {
		t.Errorf("the head's stored checkpoint is not cosigned by both witnesses")
	}
	lines, err := we.st.Cosignatures(head.Height)
	mustOK(t, err, "cosignatures")
	if n := bytes.Count(lines, []byte("\n")); n != 2 {
		t.Errorf("the head has %d cosignature lines, want 2:\n%s", n, lines)
	}

	// After a restart the node knows at once what is witnessed, and goes
	// on from the sizes the witnesses hold, without a conflict.
	we.stop()
	we = newWitnessedEnv(t, dir, cp, logKey, w1, w2)
	if got := we.witnessed(); got != int64(head.Height) {
		t.Fatalf("after a restart, witnessed height %d, want %d", got, head.Height)
	}
	we.commit("after the restart")
	head = we.n.Head()
	waitUntil(t, "the new head is witnessed", func() bool { return we.witnessed() == int64(head.Height) })
	if n := w1.refused.Load() + w2.refused.Load(); n != 0 {
		t.Errorf("the witnesses refused %d requests:\n%s%s", n, w1.logs.String(), w2.logs.String())
	}
}

func TestWitnessDown(t *testing.T) {
	fastRetries(t)
	cp, logKey := testLogKey(t)
	up, down := newTestWitness(t, "up.example", logKey), newTestWitness(t, "down.example", logKey)
	down.down.Store(true)
	we := newWitnessedEnv(t, t.TempDir(), cp, logKey, up, down)
	we.commit("a")
	head := we.n.Head()
	waitUntil(t, "the witness that is up cosigns the head", func() bool { return we.cosigned(head.Height, up) })
	if got := we.witnessed(); got != -1 {
		t.Errorf("witnessed height %d while a witness is down", got)
	}
	if !strings.Contains(we.logs.String(), "witness did not cosign") {
		t.Errorf("the node did not log the failure:\n%s", we.logs)
	}
	down.down.Store(false)
	waitUntil(t, "the head is witnessed once the witness is back", func() bool { return we.witnessed() == int64(head.Height) })
}

// TestWitnessRefusesRewind starts a node from an older copy of a store
// whose checkpoints a witness cosigned: if it commits other transactions,
// the witness refuses every checkpoint that is not consistent with what
// it cosigned; if it commits the same ones again, it cosigns again.
func TestWitnessRefusesRewind(t *testing.T) {
	fastRetries(t)
	cp, logKey := testLogKey(t)
	w := newTestWitness(t, "w.example", logKey)
	dir := t.TempDir()
	a := newWitnessedEnv(t, dir, cp, logKey, w)
	waitUntil(t, "the genesis is witnessed", func() bool { return a.witnessed() == 0 })
	a.stop()
	diverged, replayed := t.TempDir(), t.TempDir()
	copyDir(t, dir, diverged)
	copyDir(t, dir, replayed)
	a = newWitnessedEnv(t, dir, cp, logKey, w)
	a.commit("one")
	a.commit("two")
	waitUntil(t, "the witness cosigns 2 entries", func() bool { return a.witnessed() == 2 })
	a.stop()

	b := newWitnessedEnv(t, diverged, cp, logKey, w)
	for _, step := range []struct{ doc, want string }{
		{"other one", "the log was rewound"},         // 1 entry, the witness has 2
		{"other two", "the log forked"},              // 2 entries, another root
		{"other three", "invalid consistency proof"}, // 3 entries, not an extension
	} {
		b.commit(step.doc)
		waitUntil(t, fmt.Sprintf("the node logs %q", step.want), func() bool { return strings.Contains(b.logs.String(), step.want) })
	}
	if !strings.Contains(w.logs.String(), "conflict") || !strings.Contains(w.logs.String(), "consistency proof does not verify") {
		t.Errorf("the witness did not log the conflict and the bad proof:\n%s", w.logs.String())
	}
	for h := uint64(1); h <= b.n.Head().Height; h++ {
		if lines, err := b.st.Cosignatures(h); err != nil || lines != nil {
			t.Errorf("the diverged log's checkpoint %d has cosignatures %q, %v", h, lines, err)
		}
	}
	if got := b.witnessed(); got != 0 {
		t.Errorf("the diverged log's witnessed height is %d, want 0 (the genesis, cosigned before the copy)", got)
	}
	b.stop()

	c := newWitnessedEnv(t, replayed, cp, logKey, w)
	c.commit("one")
	c.commit("two")
	waitUntil(t, "the witness cosigns the replayed log", func() bool { return c.witnessed() == 2 })
	if !c.cosigned(2, w) {
		t.Error("the replayed checkpoint is not cosigned")
	}
}
