package store_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/store/storetest"
)

// cosignedStore is a store of three blocks with checkpoints and
// cosignatures, as a network node writes it.
func cosignedStore(t *testing.T, genesis string) *store.Store {
	t.Helper()
	st := open(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	if err := st.Init([]byte(genesis), stateOutcome(0, set("a", "0"), set("gone", "x")), []byte("checkpoint 0\n")); err != nil {
		t.Fatal(err)
	}
	for h := uint64(1); h <= 3; h++ {
		if err := st.Commit(stateOutcome(h, set("a", fmt.Sprint(h)), del("gone")), fmt.Appendf(nil, "checkpoint %d\n", h)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AddCosignatures(2, []byte("— w sig\n")); err != nil {
		t.Fatal(err)
	}
	return st
}

func signer(h *ledger.Header) ([]byte, error) { return fmt.Appendf(nil, "mine %d\n", h.Height), nil }

// TestExportImport checks that a fresh store restored from another's
// export reads the same everywhere but in what is node-local: its own
// checkpoints, signed anew, and no cosignatures.
func TestExportImport(t *testing.T) {
	src := cosignedStore(t, "g")
	pairs := storetest.Exported(t, src)
	for _, p := range pairs {
		if store.NodeLocal(p.Key) {
			t.Errorf("Export yields the node-local key %q", p.Key)
		}
	}

	dst := open(t, t.TempDir())
	defer dst.Close()
	if err := dst.Init([]byte("g"), stateOutcome(0, set("a", "0"), set("gone", "x")), []byte("checkpoint 0\n")); err != nil {
		t.Fatal(err)
	}
	im, err := dst.Import()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(pairs); i += 3 { // several batches, as chunks arrive
		if err := im.Write(pairs[i:min(i+3, len(pairs))]); err != nil {
			t.Fatal(err)
		}
	}
	hdr, err := im.Finish(signer)
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Height != 3 {
		t.Errorf("Finish() = head %d, want 3", hdr.Height)
	}
	if diff := cmp.Diff(read(t, src), read(t, dst)); diff != "" {
		t.Errorf("restored store differs (-source +restored):\n%s", diff)
	}
	if diff := cmp.Diff(pairs, storetest.Exported(t, dst)); diff != "" {
		t.Errorf("restored store exports otherwise (-source +restored):\n%s", diff)
	}
	for h := uint64(0); h <= 3; h++ {
		if cp, err := dst.Checkpoint(h); err != nil || string(cp) != fmt.Sprintf("mine %d\n", h) {
			t.Errorf("Checkpoint(%d) = %q, %v; want the restoring node's own", h, cp, err)
		}
	}
	if c, err := dst.Cosignatures(2); err != nil || c != nil {
		t.Errorf("Cosignatures(2) = %q, %v; want none (node-local)", c, err)
	}
}

// TestImportRefuses checks what Import and Write refuse, and that Abort
// leaves the store empty.
func TestImportRefuses(t *testing.T) {
	src := cosignedStore(t, "g")
	if _, err := src.Import(); !errors.Is(err, store.ErrNotFresh) {
		t.Errorf("Import() into a store with blocks = %v, want ErrNotFresh", err)
	}
	pairs := storetest.Exported(t, src)
	for _, tc := range []struct {
		name  string
		pairs []store.Pair
	}{
		{"out of order", []store.Pair{pairs[1], pairs[0]}},
		{"repeated", []store.Pair{pairs[0], pairs[0]}},
		{"node-local", []store.Pair{{Key: []byte("c\x00"), Value: []byte("x")}}},
		{"empty key", []store.Pair{{Value: []byte("x")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := open(t, t.TempDir())
			defer dst.Close()
			im, err := dst.Import()
			if err != nil {
				t.Fatal(err)
			}
			if err := im.Write(tc.pairs); err == nil {
				t.Error("Write succeeded")
			}
		})
	}

	t.Run("interrupted", func(t *testing.T) {
		dir := t.TempDir()
		dst := open(t, dir)
		im, err := dst.Import()
		if err != nil {
			t.Fatal(err)
		}
		if err := im.Write(pairs); err != nil {
			t.Fatal(err)
		}
		dst.Close() // a crash before Finish
		dst = open(t, dir)
		defer dst.Close()
		if h, ok, err := dst.Head(); ok || err != nil {
			t.Fatalf("Head() after an interrupted restore = %d, %v, %v; want none", h, ok, err)
		}
		if err := dst.Init([]byte("g"), stateOutcome(0, set("a", "0")), nil); err != nil {
			t.Fatal(err)
		}
		want := open(t, t.TempDir())
		defer want.Close()
		if err := want.Init([]byte("g"), stateOutcome(0, set("a", "0")), nil); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(storetest.Exported(t, want), storetest.Exported(t, dst)); diff != "" {
			t.Errorf("Init after an interrupted restore leaves its pairs (-fresh +after):\n%s", diff)
		}
	})

	t.Run("another genesis, then abort", func(t *testing.T) {
		dst := open(t, t.TempDir())
		defer dst.Close()
		if err := dst.Init([]byte("other"), stateOutcome(0), nil); err != nil {
			t.Fatal(err)
		}
		im, err := dst.Import()
		if err != nil {
			t.Fatal(err)
		}
		if err := im.Write(pairs); err != nil {
			t.Fatal(err)
		}
		if _, err := im.Finish(signer); err == nil {
			t.Error("Finish of another genesis's ledger succeeded")
		}
		if err := im.Abort(); err != nil {
			t.Fatal(err)
		}
		if h, ok, err := dst.Head(); ok || err != nil {
			t.Errorf("Head() after Abort = %d, %v, %v; want an empty store", h, ok, err)
		}
		if ps := storetest.Exported(t, dst); len(ps) != 0 {
			t.Errorf("after Abort the store holds %d pairs, want none", len(ps))
		}
	})
}
