package e2e

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/agora-ledger/agora/internal/tx"
)

// TestNetworkEvents: a network node (the CometBFT driver) serves the
// event feed, and 'agora events watch --validators' sees an anchor's
// event proven by the validators' signatures.
func TestNetworkEvents(t *testing.T) {
	nw := newTestnet(t, 1, 0)
	n := nw.start(t, 0)
	ctx := context.Background()
	key, err := tx.GenerateKey(tx.Ed25519, crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a, err := anchor(ctx, n, key, "an event on a network")
	if err != nil {
		t.Fatal(err)
	}
	genesis := filepath.Join(n.nodeHome, "genesis.json")
	after := fmt.Sprint(a.height - 1)
	want := fmt.Sprintf("%d.%d.0 notary.anchored sha256=", a.height, a.index)
	out := n.ok(t, "events", "watch", "--after", after, "--count", "1", "--timeout", "60s")
	mustContain(t, "events watch", out, want, "tx="+a.id.String())
	out = n.ok(t, "events", "watch", "--after", after, "--count", "1", "--timeout", "60s", "--validators", genesis)
	mustContain(t, "events watch --validators", out, want, "tx="+a.id.String())
}
