package cometbft

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/store/storetest"
	"github.com/agora-ledger/agora/internal/tx"
)

// logBuffer is a log destination the test reads while the node writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runNode runs a network node of home over h's App until the test ends;
// Run's error comes on the channel.
func (h *harness) runNode(home string) (*Node, <-chan error) {
	t := h.t
	t.Helper()
	n, err := New(home, Config{P2P: "127.0.0.1:0", TimeoutCommit: node.Duration(50 * time.Millisecond)}, h.app, h.netKeys, h.logger())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-n.done
	})
	return n, errc
}

// soloHarness is a harness whose genesis names one validator, whose
// CometBFT keys it makes, with their sign state under home: a network
// of its own. The App and
// the store log to the buffer it returns.
func soloHarness(t *testing.T, home string) (*harness, *logBuffer) {
	t.Helper()
	h := keysHarness(t, 1, 0)
	_, consensus, _ := ed25519.GenerateKey(nil)
	_, p2p, _ := ed25519.GenerateKey(nil)
	if err := InitSignState(home); err != nil {
		t.Fatal(err)
	}
	h.netKeys = Keys{Consensus: consensus, P2P: p2p}
	pub := []byte(consensus.Public().(ed25519.PublicKey))
	h.vals[0].PubKey, h.g.Validators[0].PubKey = pub, pub
	logs := new(logBuffer)
	h.log = slog.New(slog.NewTextHandler(logs, nil))
	return h, logs
}

// ack submits anchors with sequences 0 to count-1 to n, waiting for each
// to commit, and returns their IDs.
func (h *harness) ack(ctx context.Context, n *Node, count uint64) []tx.ID {
	h.t.Helper()
	var acked []tx.ID
	for seq := range count {
		id, err := n.Submit(h.anchor(seq, fmt.Sprint("acknowledged ", seq)))
		if err != nil {
			h.t.Fatal(err)
		}
		if _, err := n.Wait(ctx, id); err != nil {
			h.t.Fatal(err)
		}
		acked = append(acked, id)
	}
	return acked
}

// waitHeight waits until n, whose Run returns on errc, commits height.
func (h *harness) waitHeight(ctx context.Context, n *Node, errc <-chan error, height uint64, logs *logBuffer) {
	h.t.Helper()
	for n.Head().Height < height {
		select {
		case err := <-errc:
			h.t.Fatalf("the node stopped at %d: %v\n%s", n.Head().Height, err, logs)
		case <-ctx.Done():
			h.t.Fatalf("the node is at %d, want %d\n%s", n.Head().Height, height, logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestDiskRefusesWrites: a validator whose disk refuses a write (full,
// read-only) stops with the store's message: Run returns it, the
// transaction waiting for the block the disk refused is told the node
// stopped and why, and later submissions are refused. Nothing it
// acknowledged is lost: the disk as a crash at that moment leaves it
// passes fsck and holds every acknowledged transaction, and the node
// restarted on it applies the refused block again (CometBFT decided it
// and replays it in its handshake) and goes on.
func TestDiskRefusesWrites(t *testing.T) {
	for _, tc := range storetest.Faults {
		t.Run(tc.Name, func(t *testing.T) {
			home := t.TempDir()
			h, logs := soloHarness(t, home)
			mem := vfs.NewCrashableMem()
			var refuse atomic.Bool
			fs := tc.Refusing(mem, &refuse)
			st, err := store.OpenFS("db", fs, h.log)
			if err != nil {
				t.Fatal(err)
			}
			h.use(st)
			n, errc := h.runNode(home)

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			acked := h.ack(ctx, n, 3)

			refuse.Store(true)
			id, err := n.Submit(h.anchor(3, "refused"))
			if err == nil { // admitted before the next block failed
				_, err = n.Wait(ctx, id)
			}
			if !errors.Is(err, node.ErrStopped) || !strings.Contains(err.Error(), tc.Text) {
				t.Fatalf("a transaction submitted as the disk refuses writes: %v; want the node stopped, with %q", err, tc.Text)
			}
			select {
			case err := <-errc:
				if !errors.Is(err, store.ErrFailed) || !strings.Contains(err.Error(), tc.Text) || !strings.Contains(err.Error(), "nothing committed is lost") {
					t.Fatalf("Run on a refusing disk: %v", err)
				}
			case <-ctx.Done():
				t.Fatalf("the node still runs a minute after its disk refused a write\n%s", logs.String())
			}
			if _, err := n.Submit(h.anchor(3, "after")); !errors.Is(err, node.ErrStopped) {
				t.Errorf("submission after the failure: %v, want the node stopped", err)
			}
			if !strings.Contains(logs.String(), "level=ERROR msg=\"the node stops\"") {
				t.Errorf("the failure is not logged as an error:\n%s", logs.String())
			}

			// The disk as a crash now leaves it, and writable again.
			again, err := store.OpenFS("db", mem.CrashClone(vfs.CrashCloneCfg{}), h.log)
			if err != nil {
				t.Fatal(err)
			}
			exec, err := ledger.NewExecutor(chain, notary.Module{}, govmod{})
			if err != nil {
				t.Fatal(err)
			}
			verifier, err := note.NewVerifier(h.vals[0].NoteKey)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := node.Fsck(again, exec, h.g, verifier, nil)
			if err != nil {
				t.Fatalf("fsck after the failure: %v", err)
			}
			for _, id := range acked {
				if _, err := again.FindTx(id); err != nil {
					t.Fatalf("acknowledged %s after the failure: %v", id, err)
				}
			}

			h.use(again)
			restarted, errc := h.runNode(home)
			h.waitHeight(ctx, restarted, errc, rep.Head+2, logs)
		})
	}
}
