package store_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/store/storetest"
)

// TestDiskRefusesWrites: when the disk refuses a write (full, or
// read-only), the store reports ErrFailed with the disk's reason, refuses
// every later write the same way, and nothing it committed before is lost:
// the disk as it is after a crash at that moment opens at the last
// committed block.
func TestDiskRefusesWrites(t *testing.T) {
	for _, tc := range storetest.Faults {
		t.Run(tc.Name, func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			var refuse atomic.Bool
			fs := tc.Refusing(mem, &refuse)
			st, err := store.OpenFS("db", fs, discard())
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Init([]byte("genesis"), stateOutcome(0, set("a", "0")), nil); err != nil {
				t.Fatal(err)
			}
			for h := uint64(1); h <= 3; h++ {
				if err := st.Commit(stateOutcome(h, set("a", string(rune('0'+h)))), nil); err != nil {
					t.Fatal(err)
				}
			}
			refuse.Store(true)
			err = st.Commit(stateOutcome(4, set("a", "4")), nil)
			if !errors.Is(err, store.ErrFailed) || !strings.Contains(err.Error(), tc.Text) || !strings.Contains(err.Error(), "block 4") {
				t.Fatalf("commit on a refusing disk: %v", err)
			}
			refuse.Store(false) // even once the disk recovers, the store stays stopped
			if err := st.Commit(stateOutcome(5, set("a", "5")), nil); !errors.Is(err, store.ErrFailed) {
				t.Fatalf("commit after the failure: %v", err)
			}
			if err := st.AddCosignatures(3, []byte("— w AAAA\n")); !errors.Is(err, store.ErrFailed) {
				t.Fatalf("cosignatures after the failure: %v", err)
			}
			if !errors.Is(st.Failed(), store.ErrFailed) || !errors.Is(st.Close(), store.ErrFailed) {
				t.Fatal("Failed and Close do not report the failure")
			}

			// The disk after a crash now: what was synced, nothing more.
			again, err := store.OpenFS("db", mem.CrashClone(vfs.CrashCloneCfg{}), discard())
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			h, ok, err := again.Head()
			if err != nil || !ok || h != 3 {
				t.Fatalf("head after reopening: %d %v %v, want 3", h, ok, err)
			}
			v, ok, err := again.Get([]byte("a"))
			if err != nil || !ok || string(v) != "3" {
				t.Fatalf("state a = %q %v %v, want 3", v, ok, err)
			}
			if err := again.Commit(stateOutcome(4, set("a", "4")), nil); err != nil {
				t.Fatalf("commit after reopening: %v", err)
			}
		})
	}
}
