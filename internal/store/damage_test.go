package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/store"
)

// blocks commits blocks 1 to n of a kilobyte of state each after the
// genesis, into a store that keeps its signed head in record.
func blocks(t *testing.T, dir, record string, n uint64) {
	t.Helper()
	st := open(t, dir)
	defer st.Close()
	if err := st.KeepSignedHead(record); err != nil {
		t.Fatal(err)
	}
	if err := st.Init([]byte("genesis"), stateOutcome(0, set("a", "0")), nil); err != nil {
		t.Fatal(err)
	}
	for h := uint64(1); h <= n; h++ {
		if err := st.Commit(stateOutcome(h, set("k"+string(rune('a'+h%26)), strings.Repeat("x", 1000))), []byte("checkpoint\n")); err != nil {
			t.Fatal(err)
		}
	}
}

// flip flips a bit of the byte at 1/part of the file at path.
func flip(t *testing.T, path string, part int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/part] ^= 0x40
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// walFiles returns the store's write-ahead log files.
func walFiles(t *testing.T, dir string) []string {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no write-ahead log in %s (%v)", dir, err)
	}
	return logs
}

// TestDamagedLog: a write-ahead log with a flipped byte or cut short
// opens at an earlier block (Pebble takes the damage for a torn tail), and
// the signed-head record, kept apart from the store, names the loss; an
// undamaged store and a store restarted after its record are accepted.
func TestDamagedLog(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string // "" for no loss
	}{
		{name: "intact", damage: func(*testing.T, string) {}},
		{name: "flipped byte", want: "the store's head is block", damage: func(t *testing.T, dir string) {
			for _, p := range walFiles(t, dir) {
				flip(t, p, 2)
			}
		}},
		{name: "truncated", want: "the store's head is block", damage: func(t *testing.T, dir string) {
			for _, p := range walFiles(t, dir) {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Truncate(p, fi.Size()/2); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{name: "store gone", want: "the store is empty, and this node signed block 40", damage: func(t *testing.T, dir string) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			record := filepath.Join(t.TempDir(), "signed-head")
			blocks(t, dir, record, 40)
			tc.damage(t, dir)
			st := open(t, dir)
			defer st.Close()
			err := st.KeepSignedHead(record)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if err := st.Commit(stateOutcome(41, set("a", "41")), []byte("checkpoint\n")); err != nil {
					t.Fatal(err)
				}
				if h, ok, err := store.ReadSignedHead(record); err != nil || !ok || h.Height != 41 {
					t.Fatalf("record after block 41: %+v %v %v", h, ok, err)
				}
				return
			}
			if !errors.Is(err, store.ErrLost) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("KeepSignedHead on a damaged store: %v, want ErrLost with %q", err, tc.want)
			}
			head, _, _ := st.Head()
			t.Logf("the damaged store opened at block %d: %v", head, err)
			h, ok, rerr := store.ReadSignedHead(record)
			if rerr != nil || !ok || h.Height != 40 {
				t.Fatalf("record: %+v %v %v", h, ok, rerr)
			}
			if err := st.CheckSignedHead(record, h); !errors.Is(err, store.ErrLost) {
				t.Fatalf("CheckSignedHead: %v", err)
			}
		})
	}
}

// TestSignedHeadOtherBlock: a store holding another block at the signed
// height (a copy of another ledger, or of a fork) is refused too.
func TestSignedHeadOtherBlock(t *testing.T) {
	record := filepath.Join(t.TempDir(), "signed-head")
	blocks(t, filepath.Join(t.TempDir(), "data"), record, 3)
	other := open(t, filepath.Join(t.TempDir(), "other"))
	defer other.Close()
	if err := other.Init([]byte("genesis"), stateOutcome(0, set("a", "0")), nil); err != nil {
		t.Fatal(err)
	}
	for h := uint64(1); h <= 5; h++ {
		out := stateOutcome(h, set("a", "other"))
		out.Header.Time = int64(h)
		if err := other.Commit(out, nil); err != nil {
			t.Fatal(err)
		}
	}
	err := other.KeepSignedHead(record)
	if !errors.Is(err, store.ErrLost) || !strings.Contains(err.Error(), "the store's block 3 is") {
		t.Fatalf("KeepSignedHead on another ledger's store: %v", err)
	}
}

// TestSignedHeadRecord: the record survives a torn write of either slot
// (the other holds the head before), is created at the store's head for a
// store kept without one, and a record with both slots damaged is refused
// rather than taken for none.
func TestSignedHeadRecord(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	record := filepath.Join(t.TempDir(), "signed-head")
	blocks(t, dir, record, 5)
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 1024 {
		t.Fatalf("record of %d bytes, want two 512-byte slots", len(b))
	}
	// Block 5 went into one slot, block 4 into the other.
	for slot := range 2 {
		torn := append([]byte(nil), b...)
		torn[slot*512+30] ^= 1
		if err := os.WriteFile(record, torn, 0o600); err != nil {
			t.Fatal(err)
		}
		h, ok, err := store.ReadSignedHead(record)
		if err != nil || !ok || (h.Height != 4 && h.Height != 5) {
			t.Fatalf("slot %d torn: %+v %v %v", slot, h, ok, err)
		}
	}
	torn := append([]byte(nil), b...)
	torn[30] ^= 1
	torn[512+30] ^= 1
	if err := os.WriteFile(record, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.ReadSignedHead(record); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("both slots torn: %v", err)
	}
	st := open(t, dir)
	if err := st.KeepSignedHead(record); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("KeepSignedHead on a damaged record: %v", err)
	}
	st.Close()

	// A store from before the record: it starts at the store's head.
	if err := os.Remove(record); err != nil {
		t.Fatal(err)
	}
	st = open(t, dir)
	defer st.Close()
	if err := st.KeepSignedHead(record); err != nil {
		t.Fatal(err)
	}
	hdr, err := st.Header(5)
	if err != nil {
		t.Fatal(err)
	}
	if h, ok, err := store.ReadSignedHead(record); err != nil || !ok || h != (store.SignedHead{Height: 5, Hash: hdr.Hash()}) {
		t.Fatalf("record of a store that had none: %+v %v %v", h, ok, err)
	}
}

// TestDamagedTable: a table that fails its checksum makes the read fail
// with ErrCorrupt, naming the way to recover, and stops the store; before,
// Pebble's fatal error was a panic.
func TestDamagedTable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	blocks(t, dir, filepath.Join(t.TempDir(), "signed-head"), 40)
	// Opening replays the log into a table.
	st := open(t, dir)
	st.Close()
	tables, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	if err != nil || len(tables) == 0 {
		t.Fatalf("no table in %s (%v)", dir, err)
	}
	for _, p := range tables {
		flip(t, p, 4)
	}
	st, err = store.Open(dir, discard())
	if err != nil {
		if !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("open: %v", err)
		}
		return
	}
	defer st.Close()
	var readErr error
	for _, k := range []string{"a", "kb", "kz"} {
		if _, _, err := st.Get([]byte(k)); err != nil {
			readErr = err
			break
		}
	}
	if readErr == nil {
		_, readErr = st.Block(40)
	}
	if !errors.Is(readErr, store.ErrCorrupt) || ledger.HintOf(readErr) != store.Recovery || strings.Contains(readErr.Error(), "\n") {
		t.Fatalf("read of a damaged table: %v, want ErrCorrupt, one line of reason and the way to recover", readErr)
	}
	if err := st.Commit(stateOutcome(41, set("a", "41")), nil); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("commit on a damaged store: %v, want ErrCorrupt", err)
	}
}

// TestStoreAheadOfRecord: a crash between a block's batch and its record
// leaves the store a block ahead of the record, which is no loss: the
// store is accepted, the record moves up to its head, and the block reads
// (reads of a block wait for the record to hold it).
func TestStoreAheadOfRecord(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	record := filepath.Join(t.TempDir(), "signed-head")
	blocks(t, dir, record, 3)
	st := open(t, dir) // no record kept: block 4's batch, and no record of it
	if err := st.Commit(stateOutcome(4, set("a", "4")), []byte("checkpoint\n")); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st = open(t, dir)
	defer st.Close()
	if err := st.KeepSignedHead(record); err != nil {
		t.Fatal(err)
	}
	if h, ok, err := store.ReadSignedHead(record); err != nil || !ok || h.Height != 4 {
		t.Fatalf("record after the start: %+v %v %v, want block 4", h, ok, err)
	}
	if _, err := st.Block(4); err != nil {
		t.Fatal(err)
	}
	snap := st.Snapshot()
	defer snap.Close()
	if h, err := snap.Head(); err != nil || h != 4 {
		t.Fatalf("snapshot head %d %v, want 4", h, err)
	}
}
