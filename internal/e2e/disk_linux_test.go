package e2e

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/client"
)

// TestDiskFaults runs a node under load on a small tmpfs until the disk is
// full, and starts a node on a disk remounted read-only. Either way the
// node must stop with a clear error (no panic) and a non-zero status, lose
// none of the transactions it acknowledged, and start again once the disk
// is writable, with fsck passing. It needs to mount a tmpfs (root, or
// CAP_SYS_ADMIN); elsewhere it is skipped, and internal/store's
// TestDiskRefusesWrites covers the store's part on an injected file
// system, a disk turning read-only under a running node included (Linux
// refuses to remount a file system read-only while files are open for
// writing, so this test cannot do that to a running node).
func TestDiskFaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		size string
		want string
	}{
		{name: "full", size: "5m", want: "no space left on device"},
		{name: "read-only", size: "256m", want: "read-only file system"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+tc.size); err != nil {
				t.Skipf("cannot mount a tmpfs here (%v): needs root or CAP_SYS_ADMIN", err)
			}
			t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
			home := filepath.Join(dir, "home")
			n := startDev(t, home)
			c := client.New(n.node)
			info, err := c.Info(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var count atomic.Int64
			var wg sync.WaitGroup
			ws := startLoad(t, ctx, c, info.ChainID, 8, "worker", &count, &wg)
			var out string
			if tc.name == "full" {
				select {
				case <-n.exited:
				case <-time.After(3 * time.Minute):
					t.Fatalf("the node still runs after 3 minutes of load on a %s disk (%d acknowledged)", tc.size, count.Load())
				}
				cancel()
				wg.Wait()
				out = n.output()
				var exit *exec.ExitError
				if !errors.As(n.waitErr, &exit) {
					t.Fatalf("the node exited with %v, want a non-zero status", n.waitErr)
				}
				mustContain(t, "the node's output", out, "the store stopped: the disk refused a write", "nothing committed is lost")
			} else {
				for count.Load() < 200 {
					time.Sleep(10 * time.Millisecond)
				}
				cancel()
				wg.Wait()
				n.stop(t)
				if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
					t.Fatalf("remount read-only: %v", err)
				}
				m, err := tryStartDev(t, home)
				if err == nil {
					t.Fatal("a node started on a read-only disk")
				}
				if m == nil {
					t.Fatal(err)
				}
				out = m.output()
			}
			mustContain(t, "the failure", out, tc.want)
			for _, bad := range []string{"panic:", "goroutine "} {
				if strings.Contains(out, bad) {
					t.Errorf("the failure has %q:\n%s", bad, out)
				}
			}
			var acked int
			for _, w := range ws {
				if w.err != nil {
					t.Error(w.err)
				}
				acked += len(w.acked)
			}
			t.Logf("%d transactions acknowledged before the disk refused a write", acked)

			if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, "size=256m"); err != nil {
				t.Fatalf("remount writable with room: %v", err)
			}
			t.Log(strings.TrimSpace(fsck(t, home)))
			n = startDev(t, home)
			checkAcked(t, client.New(n.node), ws)
			n.stop(t)
		})
	}
}
