package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/console"
	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/verify"
)

const testChain = "agora-test"

// genesisTime is the test ledger's genesis time; the fake clock stands an
// hour later, so every block time is determined by the blocks before it.
var genesisTime = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func fakeClock() time.Time { return genesisTime.Add(time.Hour) }

// keyFor returns a deterministic Ed25519 key named name.
func keyFor(t *testing.T, name string) *tx.PrivateKey {
	t.Helper()
	seed := sha256.Sum256([]byte("agora api test key " + name))
	k, err := tx.NewPrivateKey(tx.Ed25519, seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testNode is a real node (store, executor with the notary module, block
// production) behind the API on an httptest server.
type testNode struct {
	node  *node.Node
	st    *store.Store
	srv   *httptest.Server
	alice *tx.PrivateKey // a genesis account labelled "alice (test)"
	// logKey verifies the node's checkpoints.
	logKey string
	// exec and genesis are the node's, for a replay (node.Fsck).
	exec    *ledger.Executor
	genesis *ledger.Genesis

	stopOnce sync.Once
	cancel   context.CancelFunc
	done     chan error
}

type nodeOptions struct {
	cfg node.Config
	// idle leaves the node without block production: submissions stay
	// in the mempool.
	idle bool
	// logSKey and logVKey are the log's signed-note key pair; a new one
	// if empty.
	logSKey, logVKey string
	// params, if set, edits the genesis's ledger parameters.
	params func(*ledger.Params)
	// clock is the node's clock; fakeClock if nil.
	clock func() time.Time
	// sections are the modules' parts of the console.
	sections []console.Section
	// gov adds the governance module, with the demo Community
	// (gov.Demo, each key keyFor its name).
	gov bool
}

// newTestNode starts a node over a new store in t.TempDir. Unless the
// options say otherwise, empty blocks are an hour apart, so once any
// transaction has been committed the height changes only when the test
// commits another.
func newTestNode(t *testing.T, opts nodeOptions) *testNode {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := opts.cfg
	if cfg.BlockInterval == 0 {
		cfg.BlockInterval = node.Duration(time.Millisecond)
	}
	if cfg.EmptyBlockInterval == nil {
		cfg.EmptyBlockInterval = node.Every(time.Hour)
	}
	mods := []ledger.Module{identity.Module{}, notary.Module{}}
	alice := keyFor(t, "alice")
	ng, err := json.Marshal(notary.Genesis{Policy: notary.Policy{Mode: "open"}})
	if err != nil {
		t.Fatal(err)
	}
	g := &ledger.Genesis{ChainID: testChain, Time: genesisTime, Params: ledger.DefaultParams(),
		Accounts: []ledger.GenesisAccount{{Label: "alice (test)", Key: alice.Public()}},
		Modules:  map[string]json.RawMessage{notary.Name: ng}}
	if opts.gov {
		// Governance executes the actions of every module, as in the
		// binary's registry.
		mods = append(mods, gov.Module{Actions: ledger.NewActions(append(mods, gov.Module{})...)})
		if g.Modules[gov.Name], err = json.Marshal(gov.Demo(func(name string) tx.PublicKey { return keyFor(t, name).Public() })); err != nil {
			t.Fatal(err)
		}
	}
	exec, err := ledger.NewExecutor(testChain, mods...)
	if err != nil {
		t.Fatal(err)
	}
	if opts.params != nil {
		opts.params(&g.Params)
	}
	st, err := store.Open(t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	genesisHash := sha256.Sum256([]byte("test genesis"))
	skey, vkey := opts.logSKey, opts.logVKey
	if skey == "" {
		if skey, vkey, err = tlog.GenerateKey(rand.Reader, ledger.Origin(testChain)); err != nil {
			t.Fatal(err)
		}
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	cp := &node.Checkpointer{Signer: signer}
	if _, err := node.Init(st, exec, g, genesisHash[:], cp); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	clock := opts.clock
	if clock == nil {
		clock = fakeClock
	}
	n, err := node.New(cfg, st, exec, log, clock, reg, cp)
	if err != nil {
		t.Fatal(err)
	}
	tn := &testNode{node: n, st: st, alice: alice, logKey: vkey, exec: exec, genesis: g, done: make(chan error, 1)}
	if !opts.idle {
		tn.start(t)
	}
	tn.srv = httptest.NewServer(New(n, cfg, genesisHash[:], vkey, log, reg, opts.sections...).Handler())
	t.Cleanup(tn.srv.Close)
	return tn
}

// start starts block production (an idle node's, once).
func (tn *testNode) start(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	tn.cancel = cancel
	go func() { tn.done <- tn.node.Run(ctx) }()
	t.Cleanup(func() { tn.stop(t) })
}

// stop stops block production and waits for Run to return.
func (tn *testNode) stop(t *testing.T) {
	tn.stopOnce.Do(func() {
		tn.cancel()
		if err := <-tn.done; err != nil {
			t.Errorf("node.Run: %v", err)
		}
	})
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (tn *testNode) do(t *testing.T, method, path, contentType string, body []byte) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, tn.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := tn.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (tn *testNode) get(t *testing.T, path string) response {
	t.Helper()
	return tn.do(t, "GET", path, "", nil)
}

// jsonTx is the JSON body that submits raw.
func jsonTx(t *testing.T, raw []byte) []byte {
	t.Helper()
	b, err := json.Marshal(SubmitRequest{Tx: base64.StdEncoding.EncodeToString(raw)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// submitJSON posts raw base64-encoded in a SubmitRequest.
func (tn *testNode) submitJSON(t *testing.T, raw []byte, query string) response {
	t.Helper()
	return tn.do(t, "POST", "/v1/tx"+query, "application/json", jsonTx(t, raw))
}

// commit submits raw with wait=commit and requires a 200 with result ok.
func (tn *testNode) commit(t *testing.T, raw []byte) SubmitResponse {
	t.Helper()
	r := tn.submitJSON(t, raw, "?wait=commit")
	sr := decode[SubmitResponse](t, r, http.StatusOK)
	if sr.Status != "committed" || sr.TxCommit == nil || sr.Result.Code != "ok" {
		t.Fatalf("commit: got %s", r.body)
	}
	return sr
}

// decode checks the status and JSON content type of r and decodes its body.
func decode[T any](t *testing.T, r response, wantStatus int) T {
	t.Helper()
	var v T
	if r.status != wantStatus {
		t.Fatalf("status %d, want %d; body: %s", r.status, wantStatus, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	return v
}

// wantError checks that r is an error response with the given status and code.
func wantError(t *testing.T, r response, wantStatus int, wantCode string) *Error {
	t.Helper()
	e := decode[struct{ Error *Error }](t, r, wantStatus)
	if e.Error == nil {
		t.Fatalf("no error object in %s", r.body)
	}
	if e.Error.Code != wantCode {
		t.Fatalf("error code %q, want %q; body: %s", e.Error.Code, wantCode, r.body)
	}
	if e.Error.Message == "" {
		t.Errorf("error %q has no message", wantCode)
	}
	return e.Error
}

// digest returns a distinct SHA-256 for name.
func digest(name string) []byte {
	d := sha256.Sum256([]byte(name))
	return d[:]
}

// newTx returns an anchor of sum signed by nobody yet, from key at seq,
// for the test chain, expiring far in the future. Edit it before signing.
func newTx(t *testing.T, key *tx.PrivateKey, seq uint64, sum []byte) *tx.Tx {
	t.Helper()
	body, err := tx.Marshal(&notary.Anchor{SHA256: sum, MediaType: "text/plain", Description: "api test"})
	if err != nil {
		t.Fatal(err)
	}
	return &tx.Tx{Version: tx.Version, ChainID: testChain, Module: notary.Name, Type: "anchor", Body: body,
		Signers: []tx.Signer{{Key: key.Public(), Sequence: seq}}, ExpiryHeight: 1 << 40}
}

func sign(t *testing.T, tt *tx.Tx, key *tx.PrivateKey) []byte {
	t.Helper()
	s, err := tx.Sign(tt, key)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// anchorTx is a signed anchor of sum by key at seq.
func anchorTx(t *testing.T, key *tx.PrivateKey, seq uint64, sum []byte) []byte {
	t.Helper()
	return sign(t, newTx(t, key, seq, sum), key)
}

func idOf(t *testing.T, raw []byte) tx.ID {
	t.Helper()
	var s tx.Signed
	if err := tx.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return s.ID()
}

var hexHash = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestSubmitWaitCommit(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	sum := digest("contract.pdf")
	raw := anchorTx(t, tn.alice, 0, sum)
	sr := tn.commit(t, raw)
	if sr.Hash != idOf(t, raw) {
		t.Errorf("hash %s, want %s", sr.Hash, idOf(t, raw))
	}
	if sr.Height == 0 || sr.Index != 0 || !hexHash.MatchString(sr.BlockHash) {
		t.Errorf("height %d index %d block hash %q: want a block above genesis, index 0, a hex hash", sr.Height, sr.Index, sr.BlockHash)
	}
	wantEvents := []ledger.Event{{Module: notary.Name, Type: "anchored", Attrs: []ledger.Attr{
		{Key: "sha256", Value: hex.EncodeToString(sum)}, {Key: "owner", Value: tn.alice.Public().Address()}}}}
	if diff := cmp.Diff(ledger.Result{Code: "ok", Events: wantEvents}, sr.Result); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}

	// The block at that height holds the transaction and has that hash.
	b := decode[BlockView](t, tn.get(t, fmt.Sprintf("/v1/blocks/%d", sr.Height)), http.StatusOK)
	if b.Hash != sr.BlockHash {
		t.Errorf("block %d hash %s, submit said %s", sr.Height, b.Hash, sr.BlockHash)
	}
	if len(b.Txs) != 1 || b.Txs[0].Hash != sr.Hash || b.Txs[0].Result.Code != "ok" {
		t.Errorf("block %d txs %+v, want just %s ok", sr.Height, b.Txs, sr.Hash)
	}
	if !sr.Time.Equal(time.UnixMilli(b.Header.Time)) {
		t.Errorf("time %s, block header says %d ms", sr.Time, b.Header.Time)
	}

	// A second anchor of the same digest is committed, and fails in the module.
	raw2 := anchorTx(t, tn.alice, 1, sum)
	r := tn.submitJSON(t, raw2, "?wait=commit")
	sr2 := decode[SubmitResponse](t, r, http.StatusOK)
	if sr2.Status != "committed" || sr2.TxCommit == nil || sr2.Result.Code != "conflict" || sr2.Result.Error == "" {
		t.Fatalf("duplicate anchor: got %s, want committed with result code conflict", r.body)
	}
	if sr2.Height <= sr.Height {
		t.Errorf("duplicate committed at height %d, not after %d", sr2.Height, sr.Height)
	}
	// Its sequence was used: the account moved on by two.
	a := decode[AccountView](t, tn.get(t, "/v1/accounts/"+tn.alice.Public().Address()), http.StatusOK)
	if a.Sequence != 2 || a.NextSequence != 2 {
		t.Errorf("sequence %d next %d, want 2 and 2", a.Sequence, a.NextSequence)
	}
}

func TestSubmitCBOR(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	raw := anchorTx(t, tn.alice, 0, digest("cbor"))
	r := tn.do(t, "POST", "/v1/tx?wait=commit", "application/cbor", raw)
	sr := decode[SubmitResponse](t, r, http.StatusOK)
	if sr.Hash != idOf(t, raw) || sr.Status != "committed" || sr.TxCommit == nil || sr.Result.Code != "ok" {
		t.Fatalf("got %s", r.body)
	}

	// Without wait: 202 and pending, and it commits later.
	raw2 := anchorTx(t, tn.alice, 1, digest("cbor 2"))
	r = tn.do(t, "POST", "/v1/tx", "application/cbor", raw2)
	sr = decode[SubmitResponse](t, r, http.StatusAccepted)
	if sr.Hash != idOf(t, raw2) || sr.Status != "pending" || sr.TxCommit != nil {
		t.Fatalf("got %s, want pending", r.body)
	}
	if _, err := tn.node.Wait(context.Background(), sr.Hash); err != nil {
		t.Fatal(err)
	}
}

func TestSubmitAccepted(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	for seq, query := range []string{"", "?wait=none"} {
		raw := anchorTx(t, tn.alice, uint64(seq), digest("accepted"+query))
		r := tn.submitJSON(t, raw, query)
		sr := decode[SubmitResponse](t, r, http.StatusAccepted)
		if sr.Hash != idOf(t, raw) || sr.Status != "pending" || sr.TxCommit != nil {
			t.Fatalf("%q: got %s, want 202 pending with only the hash", query, r.body)
		}
		if bytes.Contains(r.body, []byte(`"height"`)) {
			t.Errorf("%q: a pending answer carries a height: %s", query, r.body)
		}
		c, err := tn.node.Wait(context.Background(), sr.Hash)
		if err != nil {
			t.Fatal(err)
		}
		// Committed now: GET /v1/tx says where.
		v := decode[TxView](t, tn.get(t, "/v1/tx/"+sr.Hash.String()), http.StatusOK)
		if v.Status != "committed" || v.TxCommit == nil || v.Height != c.Height {
			t.Errorf("%q: GET /v1/tx: status %q, want committed at %d", query, v.Status, c.Height)
		}
	}
	// The base64 may use the URL alphabet without padding.
	raw := anchorTx(t, tn.alice, 2, digest("url alphabet"))
	b, _ := json.Marshal(SubmitRequest{Tx: base64.RawURLEncoding.EncodeToString(raw)})
	sr := decode[SubmitResponse](t, tn.do(t, "POST", "/v1/tx?wait=commit", "application/json", b), http.StatusOK)
	if sr.Hash != idOf(t, raw) || sr.Result.Code != "ok" {
		t.Errorf("URL-alphabet base64: got %+v", sr)
	}
}

type batchResponse struct {
	Results []BatchItem `json:"results"`
}

func batchBody(t *testing.T, raws ...[]byte) []byte {
	t.Helper()
	req := BatchRequest{Txs: []string{}}
	for _, r := range raws {
		req.Txs = append(req.Txs, base64.StdEncoding.EncodeToString(r))
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSubmitBatch(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	bob := keyFor(t, "bob")
	wrongChain := newTx(t, bob, 0, digest("batch wrong chain"))
	wrongChain.ChainID = "other-chain"

	t.Run("wait=commit", func(t *testing.T) {
		good0 := anchorTx(t, tn.alice, 0, digest("batch 0"))
		good1 := anchorTx(t, tn.alice, 1, digest("batch 1"))
		dup := anchorTx(t, tn.alice, 2, digest("batch 0")) // admitted; the module refuses it
		badSeq := anchorTx(t, bob, 7, digest("batch bad seq"))
		r := tn.do(t, "POST", "/v1/txs?wait=commit", "application/json",
			batchBody(t, good0, []byte("garbage"), good1, sign(t, wrongChain, bob), dup, badSeq))
		got := decode[batchResponse](t, r, http.StatusOK).Results
		type item struct {
			hash      string
			errCode   string
			code      string
			hasHeight bool
		}
		var view []item
		for _, it := range got {
			v := item{code: it.Code, hasHeight: it.Height > 0}
			if it.Hash != nil {
				v.hash = it.Hash.String()
			}
			if it.Error != nil {
				v.errCode = it.Error.Code
			}
			view = append(view, v)
		}
		want := []item{
			{hash: idOf(t, good0).String(), code: "ok", hasHeight: true},
			{errCode: "malformed"},
			{hash: idOf(t, good1).String(), code: "ok", hasHeight: true},
			{errCode: "wrong_chain"},
			{hash: idOf(t, dup).String(), code: "conflict", hasHeight: true},
			{errCode: "bad_sequence"},
		}
		if diff := cmp.Diff(want, view, cmp.AllowUnexported(item{})); diff != "" {
			t.Errorf("batch results (-want +got):\n%s", diff)
		}
		// The heights agree with GET /v1/tx.
		for _, it := range got {
			if it.Hash == nil {
				continue
			}
			v := decode[TxView](t, tn.get(t, "/v1/tx/"+it.Hash.String()), http.StatusOK)
			if v.TxCommit == nil || v.Height != it.Height || v.Result.Code != it.Code {
				t.Errorf("%s: GET /v1/tx says %s, batch said height %d code %s", it.Hash, v.Status, it.Height, it.Code)
			}
		}
	})

	t.Run("no wait", func(t *testing.T) {
		good := anchorTx(t, tn.alice, 3, digest("batch 3"))
		r := tn.do(t, "POST", "/v1/txs", "application/json", batchBody(t, []byte{0xff}, good))
		got := decode[batchResponse](t, r, http.StatusAccepted).Results
		if len(got) != 2 {
			t.Fatalf("%d results, want 2: %s", len(got), r.body)
		}
		if got[0].Hash != nil || got[0].Error == nil || got[0].Error.Code != "malformed" {
			t.Errorf("item 0: %s, want a malformed error", r.body)
		}
		if got[1].Hash == nil || *got[1].Hash != idOf(t, good) || got[1].Error != nil || got[1].Height != 0 || got[1].Code != "" {
			t.Fatalf("item 1: %s, want only its hash", r.body)
		}
		if _, err := tn.node.Wait(context.Background(), *got[1].Hash); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("empty", func(t *testing.T) {
		got := decode[batchResponse](t, tn.do(t, "POST", "/v1/txs?wait=commit", "application/json", []byte(`{"txs":[]}`)), http.StatusOK)
		if len(got.Results) != 0 {
			t.Errorf("%d results for no transactions", len(got.Results))
		}
	})

	t.Run("too many", func(t *testing.T) {
		txs := make([]string, MaxBatch+1)
		b, _ := json.Marshal(BatchRequest{Txs: txs})
		wantError(t, tn.do(t, "POST", "/v1/txs", "application/json", b), http.StatusRequestEntityTooLarge, "too_large")
	})

	t.Run("bad wait", func(t *testing.T) {
		wantError(t, tn.do(t, "POST", "/v1/txs?wait=forever", "application/json", batchBody(t)), http.StatusBadRequest, "invalid")
	})
}

func TestGetTx(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	sum := digest("get tx")
	raw := anchorTx(t, tn.alice, 0, sum)
	sr := tn.commit(t, raw)

	v := decode[TxView](t, tn.get(t, "/v1/tx/"+sr.Hash.String()), http.StatusOK)
	body, _ := tx.Marshal(&notary.Anchor{SHA256: sum, MediaType: "text/plain", Description: "api test"})
	commit := *sr.TxCommit
	commit.Proof = nil // only with proof=1
	want := TxView{
		Hash: sr.Hash, Status: "committed", ChainID: testChain, Module: notary.Name, Type: "anchor",
		Signers:      []SignerView{{Address: tn.alice.Public().Address(), Key: tn.alice.Public(), Sequence: 0}},
		ExpiryHeight: 1 << 40, Body: hex.EncodeToString(body), TxCommit: &commit,
	}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("GET /v1/tx (-want +got):\n%s", diff)
	}

	// The submit answer's proof, and proof=1's, verify offline against
	// the log key: the envelope and the result are in the log.
	policy := verify.Policy{LogKey: tn.logKey}
	if sr.Proof == nil {
		t.Fatal("wait=commit answered without a proof")
	}
	if e, c, err := verify.Transaction(raw, &sr.Result, sr.Proof, policy); err != nil || e.TxID != sr.Hash || c.Height != sr.Height {
		t.Errorf("verify the submit proof: %+v, %+v, %v", e, c, err)
	}
	v = decode[TxView](t, tn.get(t, "/v1/tx/"+sr.Hash.String()+"?proof=1"), http.StatusOK)
	env, err := base64.StdEncoding.DecodeString(v.Envelope)
	if err != nil || v.Proof == nil {
		t.Fatalf("proof=1: envelope %q (%v), proof %v", v.Envelope, err, v.Proof)
	}
	if _, _, err := verify.Transaction(env, &v.Result, v.Proof, policy); err != nil {
		t.Errorf("verify proof=1: %v", err)
	}
	other := verify.Policy{LogKey: otherLogKey(t)}
	if _, _, err := verify.Transaction(env, &v.Result, v.Proof, other); !errors.Is(err, verify.ErrInvalid) {
		t.Errorf("verify under another log key = %v, want ErrInvalid", err)
	}
	forged := v.Result
	forged.Code = "conflict"
	if _, _, err := verify.Transaction(env, &forged, v.Proof, policy); !errors.Is(err, verify.ErrInvalid) {
		t.Errorf("verify with another result = %v, want ErrInvalid", err)
	}

	v = decode[TxView](t, tn.get(t, "/v1/tx/"+sr.Hash.String()+"?envelope=1"), http.StatusOK)
	if env, err := base64.StdEncoding.DecodeString(v.Envelope); err != nil || !bytes.Equal(env, raw) {
		t.Errorf("envelope=1: envelope %q is not the submitted envelope (%v)", v.Envelope, err)
	}

	// Upper-case hex names the same transaction.
	v = decode[TxView](t, tn.get(t, "/v1/tx/"+strings.ToUpper(sr.Hash.String())), http.StatusOK)
	if v.Hash != sr.Hash {
		t.Errorf("upper-case hash found %s", v.Hash)
	}

	unknown := sha256.Sum256([]byte("never submitted"))
	wantError(t, tn.get(t, "/v1/tx/"+hex.EncodeToString(unknown[:])), http.StatusNotFound, "not_found")
	for _, bad := range []string{"xyz", strings.Repeat("0", 63), strings.Repeat("0", 65), strings.Repeat("g", 64)} {
		wantError(t, tn.get(t, "/v1/tx/"+bad), http.StatusBadRequest, "malformed")
	}
}

// TestIdleNode uses a node that produces no blocks, so that what is
// submitted deterministically stays pending.
func TestIdleNode(t *testing.T) {
	tn := newTestNode(t, nodeOptions{idle: true, cfg: node.Config{MempoolSize: 2, RequestTimeout: node.Duration(100 * time.Millisecond)}})
	addr := tn.alice.Public().Address()

	raw := anchorTx(t, tn.alice, 0, digest("pending"))
	sr := decode[SubmitResponse](t, tn.submitJSON(t, raw, ""), http.StatusAccepted)

	t.Run("pending tx", func(t *testing.T) {
		r := tn.get(t, "/v1/tx/"+sr.Hash.String())
		got := decode[map[string]string](t, r, http.StatusOK)
		if diff := cmp.Diff(map[string]string{"hash": sr.Hash.String(), "status": "pending"}, got); diff != "" {
			t.Errorf("pending tx (-want +got):\n%s", diff)
		}
	})
	t.Run("next sequence counts the mempool", func(t *testing.T) {
		a := decode[AccountView](t, tn.get(t, "/v1/accounts/"+addr), http.StatusOK)
		if a.Sequence != 0 || a.NextSequence != 1 {
			t.Errorf("sequence %d next %d, want 0 and 1", a.Sequence, a.NextSequence)
		}
	})
	t.Run("resubmit pending", func(t *testing.T) {
		wantError(t, tn.submitJSON(t, raw, ""), http.StatusConflict, "conflict")
	})
	t.Run("wait times out", func(t *testing.T) {
		r := tn.submitJSON(t, anchorTx(t, tn.alice, 1, digest("timeout")), "?wait=commit")
		if e := wantError(t, r, http.StatusGatewayTimeout, "timeout"); e.Hint == "" {
			t.Error("timeout has no hint")
		}
	})
	t.Run("busy", func(t *testing.T) {
		// The mempool holds 2 transactions and is full.
		r := tn.submitJSON(t, anchorTx(t, tn.alice, 2, digest("busy")), "")
		if e := wantError(t, r, http.StatusServiceUnavailable, "busy"); e.Hint == "" {
			t.Error("busy has no hint")
		}
	})
	t.Run("info", func(t *testing.T) {
		inf := decode[Info](t, tn.get(t, "/v1/node/info"), http.StatusOK)
		if inf.Height != 0 || inf.Mempool != 2 {
			t.Errorf("height %d mempool %d, want 0 and 2", inf.Height, inf.Mempool)
		}
	})
}

func TestStopped(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	tn.commit(t, anchorTx(t, tn.alice, 0, digest("before stop")))
	health := decode[map[string]any](t, tn.get(t, "/healthz"), http.StatusOK)
	if health["status"] != "ok" {
		t.Errorf("healthz %v", health)
	}
	tn.stop(t)
	wantError(t, tn.get(t, "/healthz"), http.StatusServiceUnavailable, "stopped")
	wantError(t, tn.submitJSON(t, anchorTx(t, tn.alice, 1, digest("after stop")), ""), http.StatusServiceUnavailable, "stopped")
	// Reads still work.
	decode[AccountView](t, tn.get(t, "/v1/accounts/"+tn.alice.Public().Address()), http.StatusOK)
}

func TestGetBlock(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	sr := tn.commit(t, anchorTx(t, tn.alice, 0, digest("block")))
	inf := decode[Info](t, tn.get(t, "/v1/node/info"), http.StatusOK)

	latest := decode[BlockView](t, tn.get(t, "/v1/blocks/latest"), http.StatusOK)
	if latest.Header.Height != inf.Height || latest.Hash != inf.BlockHash || hex.EncodeToString(latest.Header.AppHash) != inf.AppHash {
		t.Errorf("latest block %d %s, info says %d %s", latest.Header.Height, latest.Hash, inf.Height, inf.BlockHash)
	}
	b := decode[BlockView](t, tn.get(t, fmt.Sprintf("/v1/blocks/%d", sr.Height)), http.StatusOK)
	if b.Header.Height != sr.Height || b.Hash != sr.BlockHash || b.Header.ChainID != testChain {
		t.Errorf("block %d: %+v", sr.Height, b)
	}
	prev := decode[BlockView](t, tn.get(t, fmt.Sprintf("/v1/blocks/%d", sr.Height-1)), http.StatusOK)
	if got := hex.EncodeToString(b.Header.PrevHash); got != prev.Hash {
		t.Errorf("block %d names parent %s, block %d hashes to %s", sr.Height, got, sr.Height-1, prev.Hash)
	}

	genesis := decode[BlockView](t, tn.get(t, "/v1/blocks/0"), http.StatusOK)
	if genesis.Header.Height != 0 || genesis.Txs == nil || len(genesis.Txs) != 0 {
		t.Errorf("genesis block: %+v (txs must be an empty list)", genesis)
	}
	if !bytes.Contains(tn.get(t, "/v1/blocks/0").body, []byte(`"txs":[]`)) {
		t.Errorf("genesis block's txs is not an empty JSON list")
	}

	wantError(t, tn.get(t, fmt.Sprintf("/v1/blocks/%d", inf.Height+1)), http.StatusNotFound, "not_found")
	for _, bad := range []string{"head", "-1", "1.5", "0x10", "18446744073709551616"} {
		if e := wantError(t, tn.get(t, "/v1/blocks/"+bad), http.StatusBadRequest, "invalid"); e.Hint == "" {
			t.Errorf("%q: no hint", bad)
		}
	}
}

func TestGetAccount(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	addr := tn.alice.Public().Address()

	want := AccountView{Address: addr, Key: tn.alice.Public(), Label: "alice (test)", Sequence: 0, NextSequence: 0}
	got := decode[AccountView](t, tn.get(t, "/v1/accounts/"+addr), http.StatusOK)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("genesis account (-want +got):\n%s", diff)
	}

	tn.commit(t, anchorTx(t, tn.alice, 0, digest("account")))
	want.Sequence, want.NextSequence = 1, 1
	got = decode[AccountView](t, tn.get(t, "/v1/accounts/"+addr), http.StatusOK)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after one transaction (-want +got):\n%s", diff)
	}
	// Addresses are hex: upper case names the same account.
	got = decode[AccountView](t, tn.get(t, "/v1/accounts/"+strings.ToUpper(addr)), http.StatusOK)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("upper-case address (-want +got):\n%s", diff)
	}

	// A key appears when it first signs.
	bob := keyFor(t, "bob")
	e := wantError(t, tn.get(t, "/v1/accounts/"+bob.Public().Address()), http.StatusNotFound, "not_found")
	if e.Hint == "" {
		t.Error("unknown account: no hint")
	}
	tn.commit(t, anchorTx(t, bob, 0, digest("bob")))
	got = decode[AccountView](t, tn.get(t, "/v1/accounts/"+bob.Public().Address()), http.StatusOK)
	if diff := cmp.Diff(AccountView{Address: bob.Public().Address(), Key: bob.Public(), Sequence: 1, NextSequence: 1}, got); diff != "" {
		t.Errorf("new account (-want +got):\n%s", diff)
	}

	for _, bad := range []string{"alice", addr[:39], addr + "0", addr[:38] + "zz"} {
		wantError(t, tn.get(t, "/v1/accounts/"+bad), http.StatusBadRequest, "invalid")
	}
}

func TestInfoHealthMetrics(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	sr := tn.commit(t, anchorTx(t, tn.alice, 0, digest("info")))

	inf := decode[Info](t, tn.get(t, "/v1/node/info"), http.StatusOK)
	gh := sha256.Sum256([]byte("test genesis"))
	if inf.ChainID != testChain || inf.Version != Version || inf.GenesisHash != hex.EncodeToString(gh[:]) ||
		inf.Height < sr.Height || !hexHash.MatchString(inf.BlockHash) || !hexHash.MatchString(inf.AppHash) ||
		inf.Mempool != 0 || !slices.Equal(inf.Modules, []string{identity.Name, notary.Name}) {
		t.Errorf("info: %+v", inf)
	}
	if inf.Time.Before(fakeClock()) {
		t.Errorf("info time %s is before the node's clock %s", inf.Time, fakeClock())
	}

	health := decode[map[string]any](t, tn.get(t, "/healthz"), http.StatusOK)
	if health["status"] != "ok" || health["height"] != float64(inf.Height) {
		t.Errorf("healthz: %v, want ok at height %d", health, inf.Height)
	}

	r := tn.get(t, "/metrics")
	if r.status != http.StatusOK {
		t.Fatalf("metrics: status %d", r.status)
	}
	for _, want := range []string{`agora_txs_committed_total{code="ok"} 1`, "agora_height ", "agora_blocks_total "} {
		if !bytes.Contains(r.body, []byte(want)) {
			t.Errorf("metrics lack %q", want)
		}
	}

	r = tn.get(t, "/")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("console: status %d, Content-Type %q", r.status, r.header.Get("Content-Type"))
	}
}

func TestNotaryQueries(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	sum := digest("notarised")
	sr := tn.commit(t, anchorTx(t, tn.alice, 0, sum))

	got := decode[notary.RecordJSON](t, tn.get(t, "/v1/notary/anchors/"+hex.EncodeToString(sum)), http.StatusOK)
	want := notary.RecordJSON{SHA256: hex.EncodeToString(sum), MediaType: "text/plain", Description: "api test",
		Owner: tn.alice.Public().Address(), OwnerKey: tn.alice.Public(), TxHash: sr.Hash, Height: sr.Height, Time: sr.Time}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("anchor (-want +got):\n%s", diff)
	}
	// Upper-case hex names the same digest; proof=0 asks for no proof.
	for _, path := range []string{strings.ToUpper(hex.EncodeToString(sum)), hex.EncodeToString(sum) + "?proof=0"} {
		decode[notary.RecordJSON](t, tn.get(t, "/v1/notary/anchors/"+path), http.StatusOK)
	}

	wantError(t, tn.get(t, "/v1/notary/anchors/"+hex.EncodeToString(digest("not anchored"))), http.StatusNotFound, "not_found")
	for _, bad := range []string{"abc", hex.EncodeToString(sum)[:62], hex.EncodeToString(sum) + "00", strings.Repeat("z", 64)} {
		wantError(t, tn.get(t, "/v1/notary/anchors/"+bad), http.StatusBadRequest, "invalid")
	}
	// proof=1: the record's state key, proven against the checkpoint.
	policy := verify.Policy{LogKey: tn.logKey}
	pv := decode[struct {
		Value notary.RecordJSON `json:"value"`
		Proof verify.StateProof `json:"proof"`
	}](t, tn.get(t, "/v1/notary/anchors/"+hex.EncodeToString(sum)+"?proof=1"), http.StatusOK)
	if diff := cmp.Diff(want, pv.Value); diff != "" {
		t.Errorf("proof=1 value (-want +got):\n%s", diff)
	}
	key := "notary/a/" + hex.EncodeToString(sum)
	vals, c, err := verify.State(&pv.Proof, policy)
	if err != nil {
		t.Fatalf("verify.State: %v", err)
	}
	var rec notary.Record
	if err := tx.Unmarshal(vals[key], &rec); err != nil || !bytes.Equal(rec.SHA256, sum) || rec.Height != sr.Height {
		t.Errorf("proven record %+v (%v) is not the anchor", rec, err)
	}
	if c.Height < sr.Height {
		t.Errorf("proof at height %d, before the anchor's %d", c.Height, sr.Height)
	}
	tampered := pv.Proof
	tampered.Keys = append([]verify.KeyProof(nil), pv.Proof.Keys...)
	tampered.Keys[0].Value = append(bytes.Clone(tampered.Keys[0].Value), 0)
	if _, _, err := verify.State(&tampered, policy); !errors.Is(err, verify.ErrInvalid) {
		t.Errorf("verify a tampered value = %v, want ErrInvalid", err)
	}
	absent := tampered
	absent.Keys = append([]verify.KeyProof(nil), pv.Proof.Keys...)
	absent.Keys[0].Value = nil
	if _, _, err := verify.State(&absent, policy); !errors.Is(err, verify.ErrInvalid) {
		t.Errorf("verify a present key as absent = %v, want ErrInvalid", err)
	}
	// A digest never anchored: 404, with a proof of absence.
	missing := digest("never")
	e := wantError(t, tn.get(t, "/v1/notary/anchors/"+hex.EncodeToString(missing)+"?proof=1"), http.StatusNotFound, "not_found")
	if e.Proof == nil {
		t.Fatal("absent with proof=1: no proof")
	}
	vals, _, err = verify.State(e.Proof, policy)
	if err != nil {
		t.Fatalf("verify absence: %v", err)
	}
	if v, ok := vals["notary/a/"+hex.EncodeToString(missing)]; !ok || v != nil {
		t.Errorf("absence proof proves %q, %v", v, ok)
	}

	p := decode[notary.Policy](t, tn.get(t, "/v1/notary/policy"), http.StatusOK)
	if p.Mode != "open" {
		t.Errorf("policy %+v, want open", p)
	}
}

func TestUnknownRoute(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	for _, req := range []struct{ method, path string }{
		{"GET", "/v1/nothing"},
		{"GET", "/v1/tx"},
		{"DELETE", "/v1/tx"},
		{"POST", "/v1/blocks/1"},
		{"GET", "/v1/notary/anchors"},
	} {
		r := tn.do(t, req.method, req.path, "", nil)
		if e := wantError(t, r, http.StatusNotFound, "not_found"); e.Hint == "" || !strings.Contains(e.Message, req.path) {
			t.Errorf("%s %s: %+v, want a message naming the path and a hint", req.method, req.path, e)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	const limit = 128 << 10
	tn := newTestNode(t, nodeOptions{cfg: node.Config{MaxRequestBytes: limit}})
	big := bytes.Repeat([]byte("A"), limit+1)
	for _, c := range []struct {
		desc, path, contentType string
		body                    []byte
	}{
		{"json tx", "/v1/tx", "application/json", []byte(`{"tx":"` + string(big) + `"}`)},
		{"cbor tx", "/v1/tx", "application/cbor", big},
		{"batch", "/v1/txs", "application/json", []byte(`{"txs":["` + string(big) + `"]}`)},
	} {
		t.Run(c.desc, func(t *testing.T) {
			r := tn.do(t, "POST", c.path, c.contentType, c.body)
			if e := wantError(t, r, http.StatusRequestEntityTooLarge, "too_large"); e.Hint == "" {
				t.Error("too_large: no hint")
			}
		})
	}
	// Under the request limit but over the envelope limit.
	t.Run("envelope", func(t *testing.T) {
		tt := newTx(t, tn.alice, 0, digest("huge"))
		tt.Body = make([]byte, tx.MaxSize)
		wantError(t, tn.do(t, "POST", "/v1/tx", "application/cbor", sign(t, tt, tn.alice)), http.StatusRequestEntityTooLarge, "too_large")
	})
}

// state is what a refused submission must leave unchanged.
type state struct {
	Info     Info
	Accounts map[string]AccountView
	Anchors  map[string]int // digest -> status of GET /v1/notary/anchors
}

// TestBadSubmissionsChangeNothing submits one of each kind of bad
// transaction and checks that each is refused with its code and that the
// ledger is as it was.
func TestBadSubmissionsChangeNothing(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	bob := keyFor(t, "bob") // never signs anything valid
	committed := anchorTx(t, tn.alice, 0, digest("committed"))
	tn.commit(t, committed)
	// From here on, with empty blocks an hour apart, nothing moves unless
	// a submission is admitted.

	var digests []string
	snapshot := func() state {
		s := state{Info: decode[Info](t, tn.get(t, "/v1/node/info"), http.StatusOK), Accounts: map[string]AccountView{}, Anchors: map[string]int{}}
		for _, k := range []*tx.PrivateKey{tn.alice, bob} {
			r := tn.get(t, "/v1/accounts/"+k.Public().Address())
			if r.status == http.StatusOK {
				s.Accounts[k.Public().Address()] = decode[AccountView](t, r, http.StatusOK)
			}
		}
		for _, d := range digests {
			s.Anchors[d] = tn.get(t, "/v1/notary/anchors/"+d).status
		}
		return s
	}

	// A submission posts body as contentType (default application/json)
	// or, without a body, {"tx": base64 of raw}.
	type submission struct {
		desc        string
		contentType string
		query       string
		body        []byte
		raw         []byte
		status      int
		code        string
	}
	// variant is alice's or bob's anchor of a new digest, changed by f
	// before it is signed.
	variant := func(key *tx.PrivateKey, seq uint64, name string, f func(*tx.Tx)) []byte {
		d := digest(name)
		digests = append(digests, hex.EncodeToString(d))
		tt := newTx(t, key, seq, d)
		f(tt)
		return sign(t, tt, key)
	}
	badSig := func() []byte {
		d := digest("bad signature")
		digests = append(digests, hex.EncodeToString(d))
		s, err := tx.Sign(newTx(t, tn.alice, 1, d), tn.alice)
		if err != nil {
			t.Fatal(err)
		}
		s.Sigs[0][0] ^= 1
		raw, _ := s.Encode()
		return raw
	}()
	otherKeySig := func() []byte { // signed by bob, claiming alice
		d := digest("other key")
		digests = append(digests, hex.EncodeToString(d))
		tt := newTx(t, tn.alice, 1, d)
		b, _ := tt.Encode()
		sig, _ := bob.Sign(nil, tx.SignedMessage(b))
		raw, _ := (&tx.Signed{Tx: b, Sigs: [][]byte{sig}}).Encode()
		return raw
	}()
	bodyOf := func(a *notary.Anchor) func(*tx.Tx) {
		return func(tt *tx.Tx) { tt.Body, _ = tx.Marshal(a) }
	}
	noop := func(*tx.Tx) {}
	noSigners := func() []byte {
		tt := newTx(t, tn.alice, 1, digest("no signers"))
		tt.Signers = nil
		b, _ := tt.Encode()
		raw, _ := (&tx.Signed{Tx: b, Sigs: [][]byte{}}).Encode()
		return raw
	}()

	subs := []submission{
		{desc: "bad signature", raw: badSig, status: 400, code: "bad_signature"},
		{desc: "signature by another key", raw: otherKeySig, status: 400, code: "bad_signature"},
		{desc: "wrong chain", raw: variant(tn.alice, 1, "wrong chain", func(tt *tx.Tx) { tt.ChainID = "other-chain" }), status: 400, code: "wrong_chain"},
		{desc: "expired by height", raw: variant(tn.alice, 1, "expired height", func(tt *tx.Tx) { tt.ExpiryHeight = 1 }), status: 400, code: "expired"},
		{desc: "expired by time", raw: variant(tn.alice, 1, "expired time", func(tt *tx.Tx) {
			tt.ExpiryHeight, tt.ExpiryTime = 0, fakeClock().Add(-time.Millisecond).UnixMilli()
		}), status: 400, code: "expired"},
		{desc: "sequence reused", raw: variant(tn.alice, 0, "old sequence", noop), status: 409, code: "bad_sequence"},
		{desc: "sequence skipped", raw: variant(tn.alice, 2, "future sequence", noop), status: 409, code: "bad_sequence"},
		{desc: "new key with sequence 1", raw: variant(bob, 1, "bob future", noop), status: 409, code: "bad_sequence"},
		{desc: "unknown module", raw: variant(tn.alice, 1, "unknown module", func(tt *tx.Tx) { tt.Module = "nosuch" }), status: 400, code: "unknown_module"},
		{desc: "unknown type", raw: variant(tn.alice, 1, "unknown type", func(tt *tx.Tx) { tt.Type = "revoke" }), status: 400, code: "unknown_type"},
		{desc: "invalid body", raw: variant(tn.alice, 1, "invalid body", bodyOf(&notary.Anchor{SHA256: []byte{1, 2}, MediaType: "text/plain"})), status: 400, code: "invalid"},
		{desc: "invalid media type", raw: variant(tn.alice, 1, "bad media", bodyOf(&notary.Anchor{SHA256: digest("bad media"), MediaType: "Text/Plain"})), status: 400, code: "invalid"},
		{desc: "body not cbor", raw: variant(tn.alice, 1, "body garbage", func(tt *tx.Tx) { tt.Body = []byte{0xff} }), status: 400, code: "malformed"},
		{desc: "no expiry", raw: variant(tn.alice, 1, "no expiry", func(tt *tx.Tx) { tt.ExpiryHeight = 0 }), status: 400, code: "malformed"},
		{desc: "no signers", raw: noSigners, status: 400, code: "malformed"},
		{desc: "replay of a committed tx", raw: committed, status: 409, code: "conflict"},
		{desc: "garbage envelope", raw: []byte("not a transaction"), status: 400, code: "malformed"},
		{desc: "garbage cbor", contentType: "application/cbor", body: []byte{0xa1, 0x01}, status: 400, code: "malformed"},
		{desc: "empty cbor", contentType: "application/cbor", body: []byte{}, status: 400, code: "malformed"},
		{desc: "not base64", body: []byte(`{"tx":"!!not base64!!"}`), status: 400, code: "malformed"},
		{desc: "not json", body: []byte(`tx=abc`), status: 400, code: "malformed"},
		{desc: "empty json body", body: []byte{}, status: 400, code: "malformed"},
		{desc: "unknown json field", body: []byte(`{"tx":"", "wait":"commit"}`), status: 400, code: "malformed"},
		{desc: "trailing data", body: append(jsonTx(t, variant(tn.alice, 1, "trailing data", noop)), "{}"...), status: 400, code: "malformed"},
		{desc: "two envelopes", body: append(jsonTx(t, variant(tn.alice, 1, "first of two", noop)), jsonTx(t, variant(tn.alice, 1, "second of two", noop))...), status: 400, code: "malformed"},
		{desc: "bad wait", query: "?wait=forever", raw: variant(tn.alice, 1, "bad wait", noop), status: 400, code: "invalid"},
	}

	before := snapshot()
	if before.Anchors[hex.EncodeToString(digest("bad signature"))] != http.StatusNotFound {
		t.Fatalf("setup: anchors %v", before.Anchors)
	}
	for _, s := range subs {
		t.Run(s.desc, func(t *testing.T) {
			var r response
			if s.body != nil {
				ct := s.contentType
				if ct == "" {
					ct = "application/json"
				}
				r = tn.do(t, "POST", "/v1/tx"+s.query, ct, s.body)
			} else {
				r = tn.submitJSON(t, s.raw, s.query)
			}
			wantError(t, r, s.status, s.code)
			if s.raw == nil || s.query != "" {
				return
			}
			// The same envelope as CBOR gets the same answer...
			wantError(t, tn.do(t, "POST", "/v1/tx", "application/cbor", s.raw), s.status, s.code)
			// ...and so does the same envelope in a batch.
			got := decode[batchResponse](t, tn.do(t, "POST", "/v1/txs", "application/json", batchBody(t, s.raw)), http.StatusAccepted).Results
			if len(got) != 1 || got[0].Hash != nil || got[0].Error == nil || got[0].Error.Code != s.code {
				t.Errorf("in a batch: %+v, want error %s", got, s.code)
			}
		})
	}
	after := snapshot()
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("refused submissions changed the ledger (-before +after):\n%s", diff)
	}
}

func TestOpenAPI(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	r := tn.get(t, "/openapi.json")
	doc := decode[struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}](t, r, http.StatusOK)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}

	// Every route Handler registers is in the document...
	var want []string
	for _, o := range coreOps {
		want = append(want, strings.ToUpper(o.method)+" "+o.path)
	}
	for _, q := range ledger.Queries() {
		want = append(want, q.Pattern)
	}
	for _, m := range tn.node.Executor().Modules() {
		for _, q := range m.Queries() {
			want = append(want, q.Pattern)
		}
	}
	var got []string
	for path, item := range doc.Paths {
		for method := range item {
			got = append(got, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("document paths (-routes +document):\n%s", diff)
	}

	// ...and every operation in the document reaches its own route, not
	// the catch-all.
	mux := tn.srv.Config.Handler.(*http.ServeMux)
	sample := strings.NewReplacer("{hash}", strings.Repeat("0", 64), "{height}", "1",
		"{address}", strings.Repeat("0", 40), "{did}", "did:agora:"+strings.Repeat("a", 52), "{sha256}", strings.Repeat("0", 64), "{path}", "0/000.p/1",
		"{name}", "tokyo.exchange", "{id}", "1")
	for _, op := range got {
		method, path, _ := strings.Cut(op, " ")
		req := httptest.NewRequest(method, sample.Replace(path), nil)
		if strings.Contains(req.URL.Path, "{") {
			t.Errorf("%s: no sample value for its wildcard", op)
			continue
		}
		if _, pattern := mux.Handler(req); docPattern(pattern) != op {
			t.Errorf("%s %s is served by route %q, want %q", method, req.URL.Path, pattern, op)
		}
		r := tn.do(t, method, req.URL.Path, "application/json", nil)
		if r.status == http.StatusNotFound && bytes.Contains(r.body, []byte("no route")) {
			t.Errorf("%s %s hit the catch-all: %s", method, req.URL.Path, r.body)
		}
	}

	// Every error code is in the document's enum.
	for _, c := range errorCodes() {
		if !bytes.Contains(r.body, []byte(strconv.Quote(c))) {
			t.Errorf("document lacks error code %q", c)
		}
	}
}

// TestHandlerMatchesCoreOps reads Handler's source: every route it
// registers by a literal pattern is in coreOps, and every coreOps entry is
// registered, so the OpenAPI document cannot silently miss a route.
func TestHandlerMatchesCoreOps(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "api.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var registered []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "Handler" || fn.Recv == nil {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok {
				return true // the modules' patterns, checked by TestOpenAPI
			}
			p, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			registered = append(registered, docPattern(p))
			return true
		})
	}
	// The catch-all is not an API operation.
	registered = slices.DeleteFunc(registered, func(p string) bool { return p == "/" })
	var ops []string
	for _, o := range coreOps {
		ops = append(ops, strings.ToUpper(o.method)+" "+o.path)
	}
	slices.Sort(registered)
	slices.Sort(ops)
	if diff := cmp.Diff(ops, registered); diff != "" {
		t.Errorf("coreOps and Handler disagree (-coreOps +Handler):\n%s", diff)
	}
}

func TestStatusOf(t *testing.T) {
	want := map[string]int{
		"storage":          http.StatusInternalServerError,
		"too_large":        http.StatusRequestEntityTooLarge,
		"bad_signature":    http.StatusBadRequest,
		"malformed":        http.StatusBadRequest,
		"wrong_chain":      http.StatusBadRequest,
		"expired":          http.StatusBadRequest,
		"bad_sequence":     http.StatusConflict,
		"unknown_module":   http.StatusBadRequest,
		"unknown_type":     http.StatusBadRequest,
		"unauthorized":     http.StatusForbidden,
		"over_quota":       http.StatusForbidden,
		"not_found":        http.StatusNotFound,
		"conflict":         http.StatusConflict,
		"gone":             http.StatusGone,
		"invalid":          http.StatusBadRequest,
		"internal":         http.StatusInternalServerError,
		"busy":             http.StatusServiceUnavailable,
		"stopped":          http.StatusServiceUnavailable,
		"timeout":          http.StatusGatewayTimeout,
		"not_implemented":  http.StatusNotImplemented,
		"not_acceptable":   http.StatusNotAcceptable,
		"too_many_streams": http.StatusServiceUnavailable,
	}
	// Every code an error can carry has a row above.
	for _, code := range append(errorCodes(), "internal") {
		if _, ok := want[code]; !ok {
			t.Errorf("code %q has no expected status in this test", code)
		}
	}
	for _, code := range ledger.Codes() {
		if _, ok := want[code]; !ok && code != "ok" {
			t.Errorf("ledger code %q has no expected status in this test", code)
		}
	}
	for code, status := range want {
		if got := statusOf(code); got != status {
			t.Errorf("statusOf(%q) = %d, want %d", code, got, status)
		}
	}
}

func TestToError(t *testing.T) {
	const secret = "/var/lib/agora/data/000042.sst"
	maxErr := &http.MaxBytesError{Limit: 10}
	for _, c := range []struct {
		desc   string
		err    error
		status int
		code   string
		msg    string // the message, if not err.Error()
		hint   bool
		// wantHint, if set, is the hint.
		wantHint string
	}{
		{desc: "storage", err: fmt.Errorf("notary: %w: pebble: %s: checksum mismatch", ledger.ErrStorage, secret), status: 500, code: "storage", msg: "internal error: see the node's log"},
		{desc: "internal", err: fmt.Errorf("open %s: permission denied", secret), status: 500, code: "internal", msg: "internal error: see the node's log"},
		{desc: "too large tx", err: fmt.Errorf("%w: transaction is 70000 bytes", tx.ErrTooLarge), status: 413, code: "too_large", hint: true},
		{desc: "too large body", err: fmt.Errorf("reading: %w", maxErr), status: 413, code: "too_large", hint: true},
		{desc: "bad signature", err: fmt.Errorf("%w: signer 0", tx.ErrBadSignature), status: 400, code: "bad_signature", hint: true},
		{desc: "malformed", err: fmt.Errorf("envelope: %w: eof", tx.ErrMalformed), status: 400, code: "malformed", hint: true},
		{desc: "wrong chain", err: fmt.Errorf("%w: for x", ledger.ErrWrongChain), status: 400, code: "wrong_chain", hint: true},
		{desc: "expired", err: fmt.Errorf("%w: height", ledger.ErrExpired), status: 400, code: "expired", hint: true},
		{desc: "bad sequence", err: fmt.Errorf("%w: want 3", ledger.ErrSequence), status: 409, code: "bad_sequence", hint: true},
		{desc: "unknown module", err: fmt.Errorf("%w %q", ledger.ErrUnknownModule, "x"), status: 400, code: "unknown_module", hint: true},
		{desc: "unknown type", err: fmt.Errorf("notary: %w %q", ledger.ErrUnknownType, "x"), status: 400, code: "unknown_type"},
		{desc: "unauthorized", err: fmt.Errorf("notary: %w: not listed", ledger.ErrUnauthorized), status: 403, code: "unauthorized"},
		{desc: "not found", err: fmt.Errorf("%w: no block at height 9", ledger.ErrNotFound), status: 404, code: "not_found"},
		{desc: "conflict", err: fmt.Errorf("%w: already anchored", ledger.ErrConflict), status: 409, code: "conflict"},
		{desc: "invalid", err: fmt.Errorf("%w: media type", ledger.ErrInvalid), status: 400, code: "invalid"},
		{desc: "gone", err: fmt.Errorf("identity: %w: did:agora:x was deactivated", ledger.ErrGone), status: 410, code: "gone"},
		{desc: "over quota", err: fmt.Errorf("%w: no signer has standing", ledger.ErrOverQuota), status: 403, code: "over_quota", hint: true},
		{desc: "busy", err: fmt.Errorf("%w: mempool holds 5 transactions", node.ErrBusy), status: 503, code: "busy", hint: true},
		{desc: "stopped", err: node.ErrStopped, status: 503, code: "stopped", msg: "the node stopped committing blocks", hint: true},
		{desc: "stopped by a storage failure", err: fmt.Errorf("%w: apply block 7: %v", node.ErrStopped, fmt.Errorf("%w: %s: input/output error", ledger.ErrStorage, secret)),
			status: 503, code: "stopped", msg: "the node stopped committing blocks", hint: true},
		{desc: "timeout", err: context.DeadlineExceeded, status: 504, code: "timeout", hint: true},
		{desc: "timeout wrapped", err: fmt.Errorf("wait: %w", context.DeadlineExceeded), status: 504, code: "timeout", hint: true},
		{desc: "api error", err: &Error{Status: 501, Code: "not_implemented", Message: "no proofs"}, status: 501, code: "not_implemented", msg: "no proofs"},
		{desc: "api error without status", err: fmt.Errorf("x: %w", &Error{Code: "not_found", Message: "no such thing"}), status: 404, code: "not_found", msg: "no such thing"},
		{desc: "a carried hint is the hint, not the message", err: fmt.Errorf("identity: %w", ledger.WithHint(fmt.Errorf("%w: no DID did:agora:x", ledger.ErrNotFound), "'agora did create' makes one")),
			status: 404, code: "not_found", msg: "identity: not found: no DID did:agora:x", wantHint: "'agora did create' makes one"},
		{desc: "an internal failure's carried hint stays in the log", err: ledger.WithHint(fmt.Errorf("%w: %s: checksum mismatch", ledger.ErrStorage, secret), "restore "+secret),
			status: 500, code: "storage", msg: "internal error: see the node's log", wantHint: ledger.CodeInfo("storage").Hint},
		{desc: "a code's default hint", err: fmt.Errorf("notary: %w: not listed", ledger.ErrUnauthorized), status: 403, code: "unauthorized", wantHint: ledger.CodeInfo("unauthorized").Hint},
	} {
		t.Run(c.desc, func(t *testing.T) {
			e := toError(c.err)
			msg := c.msg
			if msg == "" {
				msg = c.err.Error()
			}
			if e.Status != c.status || e.Code != c.code || e.Message != msg {
				t.Errorf("toError = {%d %q %q}, want {%d %q %q}", e.Status, e.Code, e.Message, c.status, c.code, msg)
			}
			if e.Status != statusOf(e.Code) {
				t.Errorf("status %d, but statusOf(%q) = %d", e.Status, e.Code, statusOf(e.Code))
			}
			if strings.Contains(e.Message, secret) || strings.Contains(e.Hint, secret) {
				t.Errorf("internal detail leaks: %+v", e)
			}
			if c.hint && e.Hint == "" {
				t.Errorf("no hint for %q", e.Code)
			}
			if c.wantHint != "" && e.Hint != c.wantHint {
				t.Errorf("hint %q, want %q", e.Hint, c.wantHint)
			}
			if strings.Contains(e.Message, "hint:") {
				t.Errorf("the message holds a hint: %q", e.Message)
			}
		})
	}
	// Every error code the ledger can produce maps through toError.
	for _, code := range ledger.Codes() {
		if code == "ok" || code == "internal" {
			continue
		}
		found := false
		for _, sentinel := range []error{ledger.ErrStorage, tx.ErrTooLarge, tx.ErrBadSignature, tx.ErrMalformed,
			ledger.ErrWrongChain, ledger.ErrExpired, ledger.ErrSequence, ledger.ErrUnknownModule, ledger.ErrUnknownType,
			ledger.ErrUnauthorized, ledger.ErrNotFound, ledger.ErrConflict, ledger.ErrGone, ledger.ErrInvalid, ledger.ErrOverQuota} {
			if e := toError(fmt.Errorf("x: %w", sentinel)); e.Code == code {
				found = true
				if e.Status != statusOf(code) {
					t.Errorf("%s: status %d, want %d", code, e.Status, statusOf(code))
				}
			}
		}
		if !found {
			t.Errorf("no sentinel in this test yields code %q", code)
		}
	}
}

// TestWriteErrorLogs checks that what clients cause is not logged as a
// node error, and that an internal failure's detail goes to the log and
// not to the client.
func TestWriteErrorLogs(t *testing.T) {
	const secret = "/var/lib/agora/data/000042.sst"
	for _, c := range []struct {
		desc   string
		err    error
		logged bool
	}{
		{"storage", fmt.Errorf("%w: pebble: %s: checksum mismatch", ledger.ErrStorage, secret), true},
		{"internal", fmt.Errorf("open %s: permission denied", secret), true},
		{"stopped", fmt.Errorf("%w: apply block 7: %s", node.ErrStopped, secret), true},
		{"malformed", fmt.Errorf("%w: eof", tx.ErrMalformed), false},
		{"not found", &Error{Status: 404, Code: "not_found", Message: "no block"}, false},
		{"busy", node.ErrBusy, false},
		{"timeout", context.DeadlineExceeded, false},
		{"not implemented", &Error{Status: 501, Code: "not_implemented", Message: "state proofs are not served yet"}, false},
	} {
		t.Run(c.desc, func(t *testing.T) {
			var logs bytes.Buffer
			s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil))}
			w := httptest.NewRecorder()
			s.writeError(w, httptest.NewRequest("GET", "/v1/x", nil), c.err)
			if got := logs.Len() > 0; got != c.logged {
				t.Errorf("logged %v, want %v: %q", got, c.logged, logs.String())
			}
			if c.logged && !strings.Contains(logs.String(), secret) {
				t.Errorf("the log lacks the detail: %q", logs.String())
			}
			if strings.Contains(w.Body.String(), secret) {
				t.Errorf("the response carries the detail: %s", w.Body)
			}
			if w.Code != toError(c.err).Status {
				t.Errorf("status %d, want %d", w.Code, toError(c.err).Status)
			}
		})
	}
}

// otherLogKey returns the verifier key of a log key nobody uses.
func otherLogKey(t *testing.T) string {
	t.Helper()
	_, vkey, err := tlog.GenerateKey(rand.Reader, ledger.Origin(testChain))
	if err != nil {
		t.Fatal(err)
	}
	return vkey
}

// TestLogProofs fetches checkpoints as the log grows, proves their
// consistency and a leaf's inclusion, and checks the proofs offline and
// the tiles and entry bundles the log serves.
func TestLogProofs(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	policy := verify.Policy{LogKey: tn.logKey}
	checkpoint := func() []byte {
		r := tn.get(t, "/log/checkpoint")
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Fatalf("GET /log/checkpoint: %d %s: %s", r.status, r.header.Get("Content-Type"), r.body)
		}
		return r.body
	}
	first := tn.commit(t, anchorTx(t, tn.alice, 0, digest("log 0")))
	old := checkpoint()
	oc, err := verify.OpenCheckpoint(old, policy)
	if err != nil || oc.Size != 1 {
		t.Fatalf("first checkpoint: %+v, %v", oc, err)
	}
	for i := 1; i < 5; i++ {
		tn.commit(t, anchorTx(t, tn.alice, uint64(i), digest(fmt.Sprint("log ", i))))
	}
	cur := checkpoint()
	cc, err := verify.OpenCheckpoint(cur, policy)
	if err != nil || cc.Size != 5 {
		t.Fatalf("second checkpoint: %+v, %v", cc, err)
	}

	p := decode[ConsistencyResponse](t, tn.get(t, "/v1/proof/consistency?from=1"), http.StatusOK)
	if err := verify.Consistency(old, cur, &p.ConsistencyProof, policy); err != nil {
		t.Errorf("consistency 1 -> 5: %v", err)
	}
	if err := verify.Consistency(cur, old, &p.ConsistencyProof, policy); !errors.Is(err, verify.ErrInvalid) {
		t.Errorf("consistency with the checkpoints swapped = %v, want ErrInvalid", err)
	}
	wantError(t, tn.get(t, "/v1/proof/consistency?from=6"), http.StatusBadRequest, "invalid")
	wantError(t, tn.get(t, "/v1/proof/consistency"), http.StatusBadRequest, "invalid")

	// The first transaction's leaf is in the grown log too.
	ip := decode[InclusionResponse](t, tn.get(t, fmt.Sprintf("/v1/proof/inclusion?index=%d", first.LeafIndex)), http.StatusOK)
	full := &verify.InclusionProof{LeafIndex: ip.Index, Entry: first.Proof.Entry, Hashes: ip.Hashes, Checkpoint: ip.Checkpoint}
	if _, _, err := verify.Inclusion(full, policy); err != nil {
		t.Errorf("inclusion of leaf %d in the grown log: %v", first.LeafIndex, err)
	}
	wantError(t, tn.get(t, "/v1/proof/inclusion?index=5"), http.StatusBadRequest, "invalid")
	wantError(t, tn.get(t, "/v1/proof/inclusion"), http.StatusBadRequest, "invalid")

	// Tiles: a partial level-0 tile of 5 hashes, the entries bundle, and
	// nothing that does not exist yet.
	if r := tn.get(t, "/log/tile/0/000.p/5"); r.status != http.StatusOK || len(r.body) != 5*32 {
		t.Errorf("tile 0/000.p/5: %d, %d bytes", r.status, len(r.body))
	}
	r := tn.get(t, "/log/tile/entries/000.p/5")
	entries, err := tlog.ParseBundle(r.body)
	if r.status != http.StatusOK || err != nil || len(entries) != 5 || !bytes.Equal(entries[0], first.Proof.Entry) {
		t.Errorf("entries 000.p/5: %d, %d entries, %v", r.status, len(entries), err)
	}
	for _, path := range []string{"/log/tile/0/000", "/log/tile/0/000.p/6", "/log/tile/entries/001.p/1", "/log/tile/0/00x"} {
		if r := tn.get(t, path); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, r.status)
		}
	}
}

// TestTruncatedBody sends request bodies that end before their
// Content-Length, as a client that dies mid-request does: each is the
// client's fault, answered 400 with code "malformed", never an internal
// failure.
func TestTruncatedBody(t *testing.T) {
	tn := newTestNode(t, nodeOptions{idle: true})
	raw := anchorTx(t, tn.alice, 0, digest("truncated"))
	for _, c := range []struct {
		desc, path, contentType string
		body                    []byte
	}{
		{"cbor tx", "/v1/tx", "application/cbor", raw},
		{"json tx", "/v1/tx", "application/json", jsonTx(t, raw)},
		{"batch", "/v1/txs", "application/json", batchBody(t, raw)},
	} {
		t.Run(c.desc, func(t *testing.T) {
			conn, err := net.Dial("tcp", tn.srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			sent := c.body[:len(c.body)/2]
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: agora\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
				c.path, c.contentType, len(c.body), sent)
			if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			wantError(t, response{status: resp.StatusCode, header: resp.Header, body: b}, http.StatusBadRequest, "malformed")
		})
	}
	if n := tn.node.MempoolSize(); n != 0 {
		t.Errorf("mempool holds %d transactions, want 0", n)
	}
}

// TestErrorDocs holds docs/api.md's table of errors to the ledger's error
// table: every code is listed once, with its status.
func TestErrorDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(b), "\n## Errors\n")
	section, _, _ = strings.Cut(section, "\n## ")
	documented := map[string]string{} // code: status
	code := regexp.MustCompile("`([a-z_]+)`")
	for line := range strings.Lines(section) {
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		for _, m := range code.FindAllStringSubmatch(cells[1], -1) {
			if _, ok := documented[m[1]]; ok {
				t.Errorf("docs/api.md lists %s twice", m[1])
			}
			documented[m[1]] = strings.TrimSpace(cells[2])
		}
	}
	for _, c := range ledger.ErrorCodes() {
		if got, want := documented[c.Code], strconv.Itoa(c.Status); got != want {
			t.Errorf("docs/api.md: %s has status %q, want %s", c.Code, got, want)
		}
		delete(documented, c.Code)
	}
	for c := range documented {
		t.Errorf("docs/api.md lists %s, which is no error code", c)
	}
}
