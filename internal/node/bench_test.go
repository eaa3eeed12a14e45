package node

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tx"
)

// benchNode returns a node over a fresh store with an open notary.
func benchNode(b *testing.B) *Node {
	b.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(b.TempDir(), log)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	exec, err := ledger.NewExecutor("bench", notary.Module{})
	if err != nil {
		b.Fatal(err)
	}
	ng, _ := json.Marshal(notary.Genesis{Policy: notary.Policy{Mode: "open"}})
	// The signers are fresh keys: the benchmark measures throughput, so
	// the free quota for keys without standing is the whole block.
	params := ledger.DefaultParams()
	params.FreeBlockTxs, params.FreeBlockBytes = &params.MaxBlockTxs, &params.MaxBlockBytes
	g := &ledger.Genesis{ChainID: "bench", Time: time.Unix(1e9, 0), Params: params,
		Modules: map[string]json.RawMessage{notary.Name: ng}}
	cp, _ := testCheckpointer(b, "bench")
	if _, err := Init(st, exec, g, make([]byte, 32), cp); err != nil {
		b.Fatal(err)
	}
	n, err := New(Config{MempoolSize: 1 << 30}, st, exec, log, func() time.Time { return time.Unix(2e9, 0) }, nil, cp)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// anchors signs n notary anchors from accounts signers, round robin.
func anchors(b *testing.B, n, signers int) [][]byte {
	b.Helper()
	keys := make([]*tx.PrivateKey, signers)
	for i := range keys {
		keys[i], _ = tx.GenerateKey(tx.Ed25519, rand.Reader)
	}
	out := make([][]byte, n)
	for i := range n {
		var sum [32]byte
		binary.BigEndian.PutUint64(sum[:], uint64(i))
		rand.Read(sum[8:])
		body, _ := tx.Marshal(&notary.Anchor{SHA256: sum[:], MediaType: "application/pdf"})
		k := keys[i%signers]
		t := &tx.Tx{Version: tx.Version, ChainID: "bench", Module: notary.Name, Type: "anchor", Body: body,
			Signers: []tx.Signer{{Key: k.Public(), Sequence: uint64(i / signers)}}, ExpiryHeight: 1 << 40}
		s, err := tx.Sign(t, k)
		if err != nil {
			b.Fatal(err)
		}
		out[i], _ = s.Encode()
	}
	return out
}

// BenchmarkSubmit measures mempool admission: decoding, the signature
// check and the sequence check, one transaction per op.
func BenchmarkSubmit(b *testing.B) {
	n := benchNode(b)
	txs := anchors(b, b.N, 64)
	b.ResetTimer()
	for i := range b.N {
		if _, err := n.Submit(txs[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBlock measures cutting, applying and durably committing blocks
// of admitted transactions, one transaction per op.
func BenchmarkBlock(b *testing.B) {
	n := benchNode(b)
	txs := anchors(b, b.N, 64)
	for _, raw := range txs {
		if _, err := n.Submit(raw); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for n.MempoolSize() > 0 {
		if err := n.produce(); err != nil {
			b.Fatal(err)
		}
	}
}
