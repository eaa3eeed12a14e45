package cometbft

import (
	"bytes"
	"context"
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
func (h *harness) runNode(home string, log *slog.Logger) (*Node, <-chan error) {
	t := h.t
	t.Helper()
	n, err := New(home, Config{P2P: "127.0.0.1:0", TimeoutCommit: node.Duration(50 * time.Millisecond)}, h.app, log)
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
			// One validator, a network of its own.
			h := keysHarness(t, 1)
			home := t.TempDir()
			pub, _, err := GenerateKeys(home)
			if err != nil {
				t.Fatal(err)
			}
			h.vals[0].PubKey, h.g.Validators[0].PubKey = pub, pub
			mem := vfs.NewCrashableMem()
			var refuse atomic.Bool
			fs := tc.Refusing(mem, &refuse)
			var logs logBuffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			st, err := store.OpenFS("db", fs, log)
			if err != nil {
				t.Fatal(err)
			}
			h.use(st, log)
			n, errc := h.runNode(home, log)

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var acked []tx.ID
			for seq := range uint64(3) {
				id, err := n.Submit(h.anchor(seq, fmt.Sprint("acknowledged ", seq)))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := n.Wait(ctx, id); err != nil {
					t.Fatal(err)
				}
				acked = append(acked, id)
			}

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
			again, err := store.OpenFS("db", mem.CrashClone(vfs.CrashCloneCfg{}), log)
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

			h.use(again, log)
			restarted, errc := h.runNode(home, log)
			for restarted.Head().Height < rep.Head+2 {
				select {
				case err := <-errc:
					t.Fatalf("the restarted node stopped: %v\n%s", err, logs.String())
				case <-ctx.Done():
					t.Fatalf("the restarted node is at %d a minute later, want %d\n%s", restarted.Head().Height, rep.Head+2, logs.String())
				case <-time.After(20 * time.Millisecond):
				}
			}
		})
	}
}
