package cometbft

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/store/storetest"
)

// TestConsensusHalts: a validator whose disk refuses one of CometBFT's own
// writes (its files on a tmpfs that fills up) stops with ErrHalted and
// the disk's reason, rather than running on without deciding anything;
// with room again, the node restarted on the same home goes on. It needs
// to mount a tmpfs (root, or CAP_SYS_ADMIN); elsewhere it is skipped.
func TestConsensusHalts(t *testing.T) {
	home := t.TempDir()
	data := filepath.Join(home, Dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", data, "tmpfs", 0, "size=16m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): needs root or CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() { syscall.Unmount(data, syscall.MNT_DETACH) })
	h, logs := soloHarness(t, home)
	dir := t.TempDir() // the store, on a disk with room
	h.open(dir)
	n, errc := h.runNode(home)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	acked := h.ack(ctx, n, 2)

	if err := storetest.Fill(filepath.Join(data, "filler")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrHalted) || !strings.Contains(err.Error(), "no space left on device") {
			t.Fatalf("Run on a full disk: %v\n%s", err, logs.String())
		}
		t.Log(err)
	case <-ctx.Done():
		t.Fatalf("the node still runs a minute after its disk filled up\n%s", logs.String())
	}
	if _, err := n.Submit(h.anchor(2, "after")); !errors.Is(err, node.ErrStopped) || !strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("submission to the halted node: %v, want it stopped, and why", err)
	}
	stopped := n.Head().Height

	if err := syscall.Mount("tmpfs", data, "tmpfs", syscall.MS_REMOUNT, "size=64m"); err != nil {
		t.Fatalf("remount with room: %v", err)
	}
	h.reopen(dir)
	restarted, errc := h.runNode(home)
	h.waitHeight(ctx, restarted, errc, stopped+2, logs)
	for _, id := range acked {
		if _, err := restarted.Lookup(id); err != nil {
			t.Errorf("acknowledged %s after the restart: %v", id, err)
		}
	}
}
