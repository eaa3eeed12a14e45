package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/witness"
	"github.com/agora-ledger/agora/internal/witness/cosig"
	"github.com/agora-ledger/agora/verify"
)

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

// testWitness is an in-process witness of the test chain's log, keeping
// its state in a FileState in t.TempDir().
type testWitness struct {
	w    *witness.Witness
	key  string // its cosigner verifier key
	logs syncBuffer
}

func newTestWitness(t *testing.T, name, logKey string) *testWitness {
	t.Helper()
	skey, vkey, err := witness.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := witness.NewCosigner(skey, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	state, err := witness.OpenFileState(filepath.Join(t.TempDir(), "witness-state.json"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := witness.New(cs, []witness.Log{{Origin: ledger.Origin(testChain), Keys: []string{logKey}}}, state)
	if err != nil {
		t.Fatal(err)
	}
	return &testWitness{w: w, key: vkey}
}

// witnessServer serves a testWitness's add-checkpoint endpoint. Two
// servers of one witness are the same witness at two addresses, so that a
// test can tell which node's requests it refused.
type witnessServer struct {
	srv *httptest.Server
	// down makes it answer 503 without looking at the request.
	down atomic.Bool
	// statuses counts its answers by status.
	mu       sync.Mutex
	statuses map[int]int
}

func (tw *testWitness) serve(t *testing.T) *witnessServer {
	t.Helper()
	h := witness.NewHandler(tw.w, slog.New(slog.NewTextHandler(&tw.logs, nil)))
	ws := &witnessServer{statuses: map[int]int{}}
	ws.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if ws.down.Load() {
			http.Error(rw, "down", http.StatusServiceUnavailable)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		ws.mu.Lock()
		ws.statuses[rec.Code]++
		ws.mu.Unlock()
		for k, v := range rec.Header() {
			rw.Header()[k] = v
		}
		rw.WriteHeader(rec.Code)
		rw.Write(rec.Body.Bytes())
	}))
	t.Cleanup(ws.srv.Close)
	return ws
}

func (ws *witnessServer) answered(status int) int {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.statuses[status]
}

func (ws *witnessServer) config(tw *testWitness) node.WitnessConfig {
	return node.WitnessConfig{URL: ws.srv.URL, Key: tw.key}
}

// waitUntil polls cond until it holds, for at most 30 seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logKeys returns a new key pair for the test chain's log.
func logKeys(t *testing.T) (skey, vkey string) {
	t.Helper()
	skey, vkey, err := tlog.GenerateKey(rand.Reader, ledger.Origin(testChain))
	if err != nil {
		t.Fatal(err)
	}
	return skey, vkey
}

// checkpointUnder fetches /log/checkpoint and opens it under p.
func (tn *testNode) checkpointUnder(t *testing.T, p verify.Policy) (*verify.Checkpoint, error) {
	t.Helper()
	r := tn.get(t, "/log/checkpoint")
	if r.status != http.StatusOK {
		t.Fatalf("GET /log/checkpoint: %d %s", r.status, r.body)
	}
	return verify.OpenCheckpoint(r.body, p)
}

// TestWitnessedCheckpoint runs a node with an in-process witness: its
// checkpoints get cosigned, and /log/checkpoint, the node's info, the
// proof endpoints and proof=1 answers carry the cosignatures that a client
// demanding that witness checks.
func TestWitnessedCheckpoint(t *testing.T) {
	skey, vkey := logKeys(t)
	tw := newTestWitness(t, "witness.test", vkey)
	ws := tw.serve(t)
	_, otherKey, err := witness.GenerateKey(rand.Reader, "other.test")
	if err != nil {
		t.Fatal(err)
	}
	tn := newTestNode(t, nodeOptions{cfg: node.Config{Witnesses: []node.WitnessConfig{ws.config(tw)}}, logSKey: skey, logVKey: vkey})
	tn.commit(t, anchorTx(t, tn.alice, 0, digest("w1")))
	sr := tn.commit(t, anchorTx(t, tn.alice, 1, digest("w2")))
	head := tn.node.Head()

	one := verify.Policy{LogKey: vkey, Witnesses: []string{tw.key}, Quorum: 1}
	waitUntil(t, "/log/checkpoint is the head's, cosigned", func() bool {
		c, err := tn.checkpointUnder(t, one)
		return err == nil && c.Size == head.LogSize
	})
	c, err := tn.checkpointUnder(t, one)
	if err != nil || c.Height != head.Height {
		t.Fatalf("cosigned checkpoint %+v, %v; want height %d", c, err, head.Height)
	}
	for _, p := range []verify.Policy{
		{LogKey: vkey, Witnesses: []string{tw.key, otherKey}, Quorum: 2},
		{LogKey: vkey, Witnesses: []string{otherKey}, Quorum: 1},
	} {
		_, err := tn.checkpointUnder(t, p)
		if !errors.Is(err, verify.ErrInvalid) || !strings.Contains(err.Error(), cosig.ErrNoQuorum.Error()) {
			t.Errorf("policy %+v: %v, want no quorum", p, err)
		}
	}

	info := decode[Info](t, tn.get(t, "/v1/node/info"), http.StatusOK)
	if info.WitnessedHeight == nil || *info.WitnessedHeight != head.Height || *info.WitnessedLogSize != head.LogSize ||
		len(info.Witnesses) != 1 || info.Witnesses[0] != tw.key {
		t.Errorf("info: witnesses %q, witnessed height %v, log size %v; want %q at %d, %d",
			info.Witnesses, info.WitnessedHeight, info.WitnessedLogSize, tw.key, head.Height, head.LogSize)
	}

	// The head is witnessed: the proofs against it carry the cosignature.
	v := decode[TxView](t, tn.get(t, "/v1/tx/"+sr.Hash.String()+"?proof=1"), http.StatusOK)
	if _, c, err := verify.Inclusion(v.Proof, one); err != nil || c.Height != head.Height {
		t.Errorf("proof=1 under the witness policy: %+v, %v", c, err)
	}
	incl := decode[InclusionResponse](t, tn.get(t, "/v1/proof/inclusion?index=0"), http.StatusOK)
	if _, err := verify.OpenCheckpoint([]byte(incl.Checkpoint), one); err != nil {
		t.Errorf("/v1/proof/inclusion's checkpoint under the witness policy: %v", err)
	}
	pv := decode[Proven](t, tn.get(t, "/v1/notary/anchors/"+hex.EncodeToString(digest("w1"))+"?proof=1"), http.StatusOK)
	if _, _, err := verify.State(pv.Proof, one); err != nil {
		t.Errorf("a query's proof=1 under the witness policy: %v", err)
	}

	// While the witness is down, /log/checkpoint stays at the witnessed
	// checkpoint, and a client can have proofs to its size; the head's
	// checkpoint has no cosignature yet.
	ws.down.Store(true)
	sr3 := tn.commit(t, anchorTx(t, tn.alice, 2, digest("w3")))
	head3 := tn.node.Head()
	if c, err := tn.checkpointUnder(t, one); err != nil || c.Height != head.Height {
		t.Errorf("/log/checkpoint with the witness down: %+v, %v; want the witnessed height %d", c, err, head.Height)
	}
	incl = decode[InclusionResponse](t, tn.get(t, fmt.Sprintf("/v1/proof/inclusion?index=1&size=%d", head.LogSize)), http.StatusOK)
	if c, err := verify.OpenCheckpoint([]byte(incl.Checkpoint), one); err != nil || c.Size != head.LogSize {
		t.Errorf("/v1/proof/inclusion to the witnessed size: checkpoint %+v, %v", c, err)
	}
	cons := decode[ConsistencyResponse](t, tn.get(t, fmt.Sprintf("/v1/proof/consistency?from=%d", head.LogSize)), http.StatusOK)
	witnessed := tn.get(t, "/log/checkpoint").body
	if err := verify.Consistency(witnessed, []byte(cons.Checkpoint), &cons.ConsistencyProof, verify.Policy{LogKey: vkey}); err != nil {
		t.Errorf("consistency from the witnessed checkpoint to the head: %v", err)
	}
	if _, err := verify.OpenCheckpoint([]byte(cons.Checkpoint), one); err == nil {
		t.Errorf("the head's checkpoint is cosigned while the witness is down")
	}

	ws.down.Store(false)
	waitUntil(t, "the new head is witnessed once the witness is back", func() bool {
		c, err := tn.checkpointUnder(t, one)
		return err == nil && c.Height == head3.Height
	})
	v = decode[TxView](t, tn.get(t, "/v1/tx/"+sr3.Hash.String()+"?proof=1"), http.StatusOK)
	if _, _, err := verify.Inclusion(v.Proof, one); err != nil {
		t.Errorf("proof=1 of the new transaction under the witness policy: %v", err)
	}
	if n := ws.answered(http.StatusConflict) + ws.answered(http.StatusUnprocessableEntity); n != 0 {
		t.Errorf("the witness refused %d requests:\n%s", n, tw.logs.String())
	}
}

// TestWitnessRefusesFork points two nodes that sign with the same log key,
// but commit different transactions, at one witness: the one it cosigned
// first keeps being cosigned; the other, a fork, never is.
func TestWitnessRefusesFork(t *testing.T) {
	skey, vkey := logKeys(t)
	tw := newTestWitness(t, "witness.test", vkey)
	wsA, wsB := tw.serve(t), tw.serve(t) // one witness, one address per node
	one := verify.Policy{LogKey: vkey, Witnesses: []string{tw.key}, Quorum: 1}

	a := newTestNode(t, nodeOptions{cfg: node.Config{Witnesses: []node.WitnessConfig{wsA.config(tw)}}, logSKey: skey, logVKey: vkey})
	a.commit(t, anchorTx(t, a.alice, 0, digest("a1")))
	waitUntil(t, "the witness cosigns the first node's log", func() bool {
		c, err := a.checkpointUnder(t, one)
		return err == nil && c.Size == 1
	})

	b := newTestNode(t, nodeOptions{cfg: node.Config{Witnesses: []node.WitnessConfig{wsB.config(tw)}}, logSKey: skey, logVKey: vkey})
	b.commit(t, anchorTx(t, b.alice, 0, digest("b1")))
	b.commit(t, anchorTx(t, b.alice, 1, digest("b2")))
	waitUntil(t, "the witness refuses the second node's 2 entries as no extension of the first's 1", func() bool {
		return wsB.answered(http.StatusUnprocessableEntity) > 0
	})
	if wsB.answered(http.StatusConflict) == 0 {
		t.Errorf("the witness never answered the forked node with a conflict")
	}
	if wsB.answered(http.StatusOK) != 0 {
		t.Errorf("the witness cosigned %d of the forked node's checkpoints", wsB.answered(http.StatusOK))
	}
	logs := tw.logs.String()
	if !strings.Contains(logs, "add-checkpoint: conflict") || !strings.Contains(logs, "consistency proof does not verify") {
		t.Errorf("the witness did not log the conflict and the bad proof:\n%s", logs)
	}
	if _, err := b.checkpointUnder(t, one); err == nil || !strings.Contains(err.Error(), cosig.ErrNoQuorum.Error()) {
		t.Errorf("the forked node's /log/checkpoint: %v, want no quorum", err)
	}
	for h := uint64(0); h <= b.node.Head().Height; h++ {
		if lines, err := b.st.Cosignatures(h); err != nil || lines != nil {
			t.Errorf("the forked node stored cosignatures %q (%v) for height %d", lines, err, h)
		}
	}
	if info := decode[Info](t, b.get(t, "/v1/node/info"), http.StatusOK); info.WitnessedHeight != nil {
		t.Errorf("the forked node reports witnessed height %d", *info.WitnessedHeight)
	}

	// The first node goes on being cosigned.
	a.commit(t, anchorTx(t, a.alice, 1, digest("a2")))
	waitUntil(t, "the witness cosigns the first node's next checkpoint", func() bool {
		c, err := a.checkpointUnder(t, one)
		return err == nil && c.Size == 2
	})
}
