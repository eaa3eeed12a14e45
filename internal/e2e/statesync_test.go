package e2e

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/tx"
)

// setNetworkConfig sets one field of the network.json in a node's home.
func setNetworkConfig(t *testing.T, home, field string, value any) {
	t.Helper()
	path := filepath.Join(home, "network.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg[field] = value
	if b, err = json.MarshalIndent(cfg, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// rpcURL is the URL of the node's CometBFT RPC server, which 'agora
// testnet init' puts two ports above its API.
func (n *netNode) rpcURL(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(n.node)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://%s:%d", u.Hostname(), port+2)
}

// cometBase is the lowest height in the node's CometBFT block store: 1 on
// a node that replayed the chain, the height after a snapshot on one that
// restored it.
func (n *netNode) cometBase(t *testing.T) int64 {
	t.Helper()
	b, err := get(n.rpcURL(t) + "/status")
	if err != nil {
		t.Fatalf("%s: CometBFT status: %v", n.node, err)
	}
	var st struct {
		Result struct {
			SyncInfo struct {
				Earliest string `json:"earliest_block_height"`
			} `json:"sync_info"`
		} `json:"result"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("%s: CometBFT status: %v\n%s", n.node, err, b)
	}
	h, err := strconv.ParseInt(st.Result.SyncInfo.Earliest, 10, 64)
	if err != nil {
		t.Fatalf("%s: CometBFT status: earliest block %q", n.node, st.Result.SyncInfo.Earliest)
	}
	return h
}

// TestStateSync runs four validators that snapshot their store every 10
// blocks, and a new full node that joins by state sync from two of their
// RPC servers: it restores a snapshot instead of replaying the chain
// (its CometBFT block store begins after the snapshot), then holds the
// same ledger as the validators, history included, proves a transaction
// committed before the snapshot, follows new blocks, and passes fsck.
func TestStateSync(t *testing.T) {
	nw := newTestnet(t, 4, 1)
	for _, n := range nw.nodes {
		setNetworkConfig(t, n.nodeHome, "snapshot_interval", 10)
	}
	for i := range 4 {
		nw.start(t, i)
	}
	v, full := nw.nodes[:4], nw.nodes[4]
	ctx := context.Background()
	key, err := tx.GenerateKey(tx.Ed25519, crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var early *ack
	for i := range 4 {
		a, err := anchor(ctx, v[i], key, fmt.Sprint("before state sync ", i))
		if err != nil {
			t.Fatalf("anchor through node%d: %v", i, err)
		}
		if early == nil {
			early = a
		}
		for _, n := range v {
			n.waitHeight(t, a.height, time.Minute)
		}
	}
	// The snapshot of block 20 can be verified once block 22 is decided.
	v[0].waitHeight(t, 23, time.Minute)

	out := nw.client.ok(t, "node", "state-sync", "--home", full.nodeHome, "--rpc", v[0].rpcURL(t)+","+v[1].rpcURL(t))
	mustContain(t, "node state-sync", out, "joins by state sync, trusting block")
	nw.start(t, 4)
	h := v[0].height(t)
	full.waitHeight(t, h, time.Minute)
	sameLedger(t, h, v[0], full)

	// A transaction from before the snapshot, proven by the new node.
	info, err := full.c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, proof, err := full.c.GetRaw(ctx, fmt.Sprintf("/v1/tx/%s?proof=1", early.id))
	if err != nil {
		t.Fatal(err)
	}
	proofFile := filepath.Join(t.TempDir(), "proof.json")
	if err := os.WriteFile(proofFile, proof, 0o600); err != nil {
		t.Fatal(err)
	}
	out = nw.client.ok(t, "verify", "tx", "--log-key", info.LogKey, proofFile)
	mustContain(t, "verify tx of a transaction from before the snapshot", out, "verified")

	// It follows the chain: a transaction submitted to it commits
	// everywhere.
	a, err := anchor(ctx, full, key, "after state sync")
	if err != nil {
		t.Fatalf("anchor through the state-synced node: %v", err)
	}
	v[0].waitHeight(t, a.height, time.Minute)
	sameLedger(t, a.height, v[0], full)
	// It has CometBFT's blocks from after the snapshot only.
	if base := full.cometBase(t); base <= 1 {
		t.Fatalf("the full node's CometBFT blocks begin at %d: it replayed the chain rather than restore a snapshot\n%s", base, full.output())
	}
	mustContain(t, "the full node's log", full.output(), "restored a snapshot")

	full.stop(t)
	fsck(t, full.nodeHome)
}
