package cometbft

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/tx"
)

// freshAnchor is an anchor of doc signed by a fresh key named name.
func freshAnchor(t *testing.T, name, doc string) []byte {
	t.Helper()
	seed := sha256.Sum256([]byte("fresh " + name))
	k, err := tx.NewPrivateKey(tx.Ed25519, seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return signWith(t, &tx.Tx{Version: tx.Version, ChainID: chain, Module: notary.Name, Type: "anchor", Body: anchorBody(t, doc),
		Signers: []tx.Signer{{Key: k.Public()}}, ExpiryHeight: 1000}, k)
}

// TestQuota shows a network's proposals within the free quota for keys
// without standing: the proposer leaves the excess in the mempool, where
// the recheck keeps it for a later block; validators reject a block over
// it; with no free quota, CheckTx refuses such a key at once.
func TestQuota(t *testing.T) {
	h := keysHarness(t, 4, 0)
	one := uint64(1)
	h.g.Params.FreeBlockTxs = &one
	h.open(t.TempDir())
	var txs [][]byte
	for i := range 3 {
		raw := freshAnchor(t, fmt.Sprint(i), fmt.Sprint("doc ", i))
		if res := h.checkTx(raw, abci.CheckTxType_New); res.Code != 0 {
			t.Fatalf("CheckTx of a fresh key's transaction: %s", res.Log)
		}
		txs = append(txs, raw)
	}
	hash := sha256.Sum256([]byte("over quota"))
	res, err := h.app.ProcessProposal(context.Background(), &abci.RequestProcessProposal{Txs: txs, Hash: hash[:], Height: 1, Time: h.tick()})
	if err != nil || res.Status != abci.ResponseProcessProposal_REJECT {
		t.Errorf("ProcessProposal of a block over the free quota: %v, %v; want REJECT", res, err)
	}
	_, in := h.block(txs, abci.ExtendedCommitInfo{})
	if len(in) != 1 {
		t.Fatalf("the proposal holds %d transactions of fresh keys, want 1 (free_block_txs)", len(in))
	}
	for _, raw := range txs[1:] {
		if res := h.checkTx(raw, abci.CheckTxType_Recheck); res.Code != 0 {
			t.Errorf("recheck of a transaction left out for the quota: %s %s, want it kept", res.Codespace, res.Log)
		}
	}

	// At most FreeBacklogBlocks blocks' worth of the free quota waits;
	// beyond it CheckTx answers busy, and the place is given back when
	// one leaves.
	for i := 2; i < ledger.FreeBacklogBlocks; i++ { // two wait already
		if res := h.checkTx(freshAnchor(t, fmt.Sprint("backlog ", i), "backlog"), abci.CheckTxType_New); res.Code != 0 {
			t.Fatalf("CheckTx %d within the free backlog: %s", i, res.Log)
		}
	}
	late := freshAnchor(t, "late", "late")
	if res := h.checkTx(late, abci.CheckTxType_New); res.Codespace != "busy" {
		t.Fatalf("CheckTx beyond the free backlog: %q %s, want busy", res.Codespace, res.Log)
	}
	if !errors.Is(&checkError{code: "busy"}, node.ErrBusy) {
		t.Errorf("a busy CheckTx does not come back as node.ErrBusy")
	}
	h.block([][]byte{txs[1]}, abci.ExtendedCommitInfo{})
	if res := h.checkTx(late, abci.CheckTxType_New); res.Code != 0 {
		t.Errorf("CheckTx after one left the free backlog: %s", res.Log)
	}

	h = keysHarness(t, 4, 0)
	h.g.Params.FreeBlockTxs = new(uint64)
	h.open(t.TempDir())
	if res := h.checkTx(freshAnchor(t, "0", "doc"), abci.CheckTxType_New); res.Codespace != "over_quota" {
		t.Errorf("CheckTx of a fresh key with no free quota: %q %s, want over_quota", res.Codespace, res.Log)
	}
}
