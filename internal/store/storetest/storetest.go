// Package storetest provides what tests of the store and of its callers
// share: disks that refuse writes, on Pebble's error-injecting file
// system, filling up a real one, and a store's exported pairs.
package storetest

import (
	"bytes"
	"errors"
	"os"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"github.com/agora-ledger/agora/internal/store"
)

// Fault is a way a disk refuses writes.
type Fault struct {
	Name  string
	Errno syscall.Errno
	Text  string // what the error says
}

// Faults are the refusals a store must survive: a full disk and a
// read-only one.
var Faults = []Fault{
	{Name: "full", Errno: syscall.ENOSPC, Text: "no space left on device"},
	{Name: "read-only", Errno: syscall.EROFS, Text: "read-only file system"},
}

// Refusing returns fs that fails every write with f's error while refuse
// is set; reads always go through.
func (f Fault) Refusing(fs vfs.FS, refuse *atomic.Bool) vfs.FS {
	return errorfs.Wrap(fs, errorfs.InjectorFunc(func(op errorfs.Op) error {
		if refuse.Load() && op.Kind.ReadOrWrite() == errorfs.OpIsWrite {
			return f.Errno
		}
		return nil
	}))
}

// Fill writes the file path until its disk is full (ENOSPC), and leaves
// it there.
func Fill(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte{1}, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return nil
			}
			return err
		}
	}
}

// Exported is every pair st exports at its head (store.Snapshot.Export),
// copied.
func Exported(t testing.TB, st *store.Store) []store.Pair {
	t.Helper()
	snap := st.Snapshot()
	defer snap.Close()
	var ps []store.Pair
	if err := snap.Export(func(k, v []byte) error {
		ps = append(ps, store.Pair{Key: bytes.Clone(k), Value: bytes.Clone(v)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ps
}
