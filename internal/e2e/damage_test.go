package e2e

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/client"
)

// TestDamagedDisk damages a killed node's store as a failing disk would:
// a byte flipped in the write-ahead log, the log cut short, and a table
// with bytes flipped. Pebble takes a damaged log for a torn tail and opens
// at an earlier block; before, the node went on from there and signed
// other blocks at heights it had signed. Now the node must refuse to
// start, with the reason and the way to recover and without a panic; fsck
// must fail the same way; and the recovery the message names (restoring
// the data directory from a copy that holds the signed head) must give
// back every acknowledged transaction.
func TestDamagedDisk(t *testing.T) {
	for _, tc := range []struct {
		name   string
		table  bool // damage a table (after a restart replayed the log into one)
		damage func(t *testing.T, path string)
		want   string
	}{
		{name: "flipped byte in the log", damage: func(t *testing.T, path string) {
			rewrite(t, path, func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b })
		}, want: "the store lost blocks this node signed"},
		{name: "truncated log", damage: func(t *testing.T, path string) {
			rewrite(t, path, func(b []byte) []byte { return b[:len(b)/2] })
		}, want: "the store lost blocks this node signed"},
		{name: "damaged table", table: true, damage: func(t *testing.T, path string) {
			rewrite(t, path, func(b []byte) []byte {
				for i := 100; i < len(b); i += 4096 {
					b[i] ^= 0x40
				}
				return b
			})
		}, want: "the store is damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			n := startDev(t, home)
			c := client.New(n.node)
			info, err := c.Info(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var count atomic.Int64
			var wg sync.WaitGroup
			ws := startLoad(t, ctx, c, info.ChainID, 4, "worker", &count, &wg)
			deadline := time.Now().Add(time.Minute)
			for count.Load() < 120 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			wg.Wait()
			// Killed, as the node of the finding was: its live log's
			// damage looks to Pebble like a torn tail. (A log closed by a
			// clean stop is checked strictly, and Pebble refuses it.)
			n.kill(t)
			if tc.table {
				n = startDev(t, home) // opening replays the log into a table
				n.stop(t)
			}
			data := filepath.Join(home, "data")
			backup := filepath.Join(t.TempDir(), "data")
			copyDir(t, data, backup)

			ext := ".log"
			if tc.table {
				ext = ".sst"
			}
			path := newest(t, data, ext)
			tc.damage(t, path)
			t.Logf("damaged %s (%d transactions acknowledged before)", filepath.Base(path), count.Load())

			m, err := tryStartDev(t, home)
			if err == nil {
				h, _ := client.New(m.node).Info(context.Background())
				t.Fatalf("a node started on a store with a damaged %s, at height %d (%d transactions acknowledged before)", ext, h.Height, count.Load())
			}
			if m == nil {
				t.Fatal(err)
			}
			<-m.exited
			out := m.output()
			mustContain(t, "the refusal", out, tc.want, "hint: the node must not go on from this store", "restore the home's data directory", "agora fsck")
			r := cli{home: home}.run(t, "fsck", "--home", home, "-q")
			if r.code == 0 {
				t.Errorf("fsck passed on a damaged store:\n%s", r)
			}
			mustContain(t, "fsck", r.stderr, tc.want, "hint: ")
			for _, bad := range []string{"panic:", "goroutine "} {
				if strings.Contains(out+r.stderr, bad) {
					t.Errorf("the node or fsck has %q:\n%s\n%s", bad, out, r)
				}
			}
			t.Logf("the node: %s", lineWith(out, tc.want))

			// The recovery the message names: a copy that holds the signed head.
			if err := os.RemoveAll(data); err != nil {
				t.Fatal(err)
			}
			copyDir(t, backup, data)
			t.Log(strings.TrimSpace(fsck(t, home)))
			n = startDev(t, home)
			checkAcked(t, client.New(n.node), ws)
			n.stop(t)
		})
	}
}

// rewrite replaces the file at path by f of its contents.
func rewrite(t *testing.T, path string, f func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, f(b), 0o600); err != nil {
		t.Fatal(err)
	}
}

// newest returns the newest file in dir whose name ends in ext (Pebble
// numbers its files in order): the log being written when the node died,
// or the table the last restart wrote.
func newest(t *testing.T, dir, ext string) string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*"+ext))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no %s file in %s (%v)", ext, dir, err)
	}
	sort.Strings(paths)
	return paths[len(paths)-1]
}

// copyDir copies the files of the directory tree src to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// lineWith returns the first line of s that contains sub.
func lineWith(s, sub string) string {
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
