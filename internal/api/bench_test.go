package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/verify"
)

// benchLedger is a node holding n anchors (digests benchDigest(0..n-1)),
// served by an in-process API handler.
type benchLedger struct {
	h      http.Handler
	logKey string
	ids    []tx.ID
}

func benchDigest(i int) []byte {
	s := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
	return s[:]
}

func newBenchLedger(b testing.TB, n int) *benchLedger {
	b.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(b.TempDir(), log)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	exec, err := ledger.NewExecutor(testChain, notary.Module{})
	if err != nil {
		b.Fatal(err)
	}
	skey, vkey, err := tlog.GenerateKey(rand.Reader, ledger.Origin(testChain))
	if err != nil {
		b.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	cp := &node.Checkpointer{Signer: signer}
	g := &ledger.Genesis{ChainID: testChain, Time: time.Unix(1e9, 0), Params: ledger.DefaultParams()}
	if _, err := node.Init(st, exec, g, make([]byte, 32), cp); err != nil {
		b.Fatal(err)
	}
	cfg := node.Config{BlockInterval: node.Duration(time.Millisecond), EmptyBlockInterval: node.Every(0), MempoolSize: 1 << 30}
	nd, err := node.New(cfg, st, exec, log, time.Now, nil, cp)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- nd.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })

	key, _ := tx.GenerateKey(tx.Ed25519, rand.Reader)
	bl := &benchLedger{logKey: vkey}
	for i := range n {
		body, _ := tx.Marshal(&notary.Anchor{SHA256: benchDigest(i), MediaType: "application/pdf"})
		t := &tx.Tx{Version: tx.Version, ChainID: testChain, Module: notary.Name, Type: "anchor", Body: body,
			Signers: []tx.Signer{{Key: key.Public(), Sequence: uint64(i)}}, ExpiryHeight: 1 << 40}
		s, err := tx.Sign(t, key)
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := s.Encode()
		id, err := nd.Submit(raw)
		if err != nil {
			b.Fatal(err)
		}
		bl.ids = append(bl.ids, id)
	}
	if _, err := nd.Wait(context.Background(), bl.ids[n-1]); err != nil {
		b.Fatal(err)
	}
	bl.h = New(nd, cfg, make([]byte, 32), vkey, log, prometheus.NewRegistry()).Handler()
	return bl
}

func (bl *benchLedger) get(b testing.TB, path string) []byte {
	w := httptest.NewRecorder()
	bl.h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	if w.Code != http.StatusOK && w.Code != http.StatusNotFound {
		b.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
	}
	return w.Body.Bytes()
}

const benchAnchors = 20000

// BenchmarkQuery answers GET /v1/notary/anchors/{sha256} through the
// handler (no network), without and with proof=1.
func BenchmarkQuery(b *testing.B) {
	bl := newBenchLedger(b, benchAnchors)
	for _, proof := range []string{"", "?proof=1"} {
		name := "plain"
		if proof != "" {
			name = "proof"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				bl.get(b, "/v1/notary/anchors/"+hex.EncodeToString(benchDigest(i%benchAnchors))+proof)
			}
		})
	}
}

// BenchmarkTxProof answers GET /v1/tx/{hash}?proof=1: the transaction,
// its envelope and its inclusion proof against the head's checkpoint.
func BenchmarkTxProof(b *testing.B) {
	bl := newBenchLedger(b, benchAnchors)
	for i := 0; b.Loop(); i++ {
		bl.get(b, "/v1/tx/"+bl.ids[i%len(bl.ids)].String()+"?proof=1")
	}
}

// BenchmarkVerifyState verifies a proof=1 answer offline, as agora
// verify state does: the checkpoint's signature and the map proof. The
// reported metric proof_bytes is the map proof's size.
func BenchmarkVerifyState(b *testing.B) {
	bl := newBenchLedger(b, benchAnchors)
	var ans struct {
		Proof verify.StateProof `json:"proof"`
	}
	if err := json.Unmarshal(bl.get(b, "/v1/notary/anchors/"+hex.EncodeToString(benchDigest(7))+"?proof=1"), &ans); err != nil {
		b.Fatal(err)
	}
	policy := verify.Policy{LogKey: bl.logKey}
	b.ReportMetric(float64(len(ans.Proof.Keys[0].Proof)), "proof_bytes")
	for b.Loop() {
		if _, _, err := verify.State(&ans.Proof, policy); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyTx verifies a transaction's inclusion proof offline.
func BenchmarkVerifyTx(b *testing.B) {
	bl := newBenchLedger(b, benchAnchors)
	var v TxView
	if err := json.Unmarshal(bl.get(b, "/v1/tx/"+bl.ids[7].String()+"?proof=1"), &v); err != nil {
		b.Fatal(err)
	}
	policy := verify.Policy{LogKey: bl.logKey}
	b.ReportMetric(float64(32*len(v.Proof.Hashes)), "proof_bytes")
	for b.Loop() {
		if _, _, err := verify.Inclusion(v.Proof, policy); err != nil {
			b.Fatal(err)
		}
	}
}
