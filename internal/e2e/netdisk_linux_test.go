package e2e

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/store/storetest"
)

// TestNetworkDiskFull runs four validators under load, one of them on a
// small tmpfs that the test fills up: that node must stop with a clear
// message (the store's, or CometBFT's halt when one of CometBFT's own
// writes is refused first) and a non-zero status, while the other three
// go on; once the disk has room, its store passes fsck, and the node
// restarted on it catches up with identical blocks and holds every
// transaction any node acknowledged. It needs to mount a tmpfs (root, or
// CAP_SYS_ADMIN); elsewhere it is skipped.
func TestNetworkDiskFull(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): needs root or CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	nw := newTestnet(t, 4, 0)
	v := nw.nodes
	home := filepath.Join(dir, "node3")
	if out, err := exec.Command("cp", "-a", v[3].nodeHome, home).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	v[3].nodeHome = home
	for i := range v {
		nw.start(t, i)
	}
	load := startNetLoad(t, v, 2)
	// Fill the disk once node3 follows the network in consensus: a node
	// that starts behind first catches up by CometBFT's block sync, which
	// panics on a failed write in a goroutine of its own (docs/FAULTS.md),
	// so filling it then would test CometBFT, not the node.
	v[3].waitHeight(t, v[0].height(t)+2, time.Minute)

	t.Log("node3's disk fills up")
	if err := storetest.Fill(filepath.Join(dir, "filler")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-v[3].exited:
	case <-time.After(2 * time.Minute):
		t.Fatalf("node3 still runs 2 minutes after its disk filled up\n%s", v[3].output())
	}
	out := v[3].output()
	var exit *exec.ExitError
	if !errors.As(v[3].waitErr, &exit) {
		t.Fatalf("node3 exited with %v, want a non-zero status\n%s", v[3].waitErr, out)
	}
	if !strings.Contains(out, "agora node: the store stopped: the disk refused a write") && !strings.Contains(out, "agora node: CometBFT's consensus halted") {
		t.Fatalf("node3's output does not say why it stopped:\n%s", out)
	}
	mustContain(t, "node3's output", out, "no space left on device")
	t.Logf("node3 stopped: %s", out[strings.LastIndex(out, "agora node: "):])
	for _, bad := range []string{"panic:", "goroutine "} {
		if strings.Contains(out, bad) {
			t.Errorf("node3's output has %q:\n%s", bad, out)
		}
	}
	acked := load.count.Load()
	load.waitAcked(t, acked+int64(len(load.ws)), v[:3])
	t.Logf("the other three went on: %d acknowledgements in all", load.count.Load())

	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, "size=256m"); err != nil {
		t.Fatalf("remount with room: %v", err)
	}
	t.Logf("node3: %s", strings.TrimSpace(fsck(t, home)))
	nw.start(t, 3)
	total := load.stop(t)
	h := load.finish(t, v)
	t.Logf("node3 caught up to %d; %d transactions acknowledged, all on every node (lost: 0)", h, total)
}
