package store

import (
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/agora-ledger/agora/internal/ledger"
)

// TestFormat checks that a store written in another layout is refused
// with ErrFormat instead of being misread.
func TestFormat(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := Open(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	out := &ledger.Outcome{Header: ledger.Header{ChainID: "t"}, Txs: [][]byte{}, Results: []ledger.Result{}}
	if err := st.Init([]byte("g"), out, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := st.Head(); err != nil || !ok {
		t.Fatalf("Head() = %v, %v on a fresh store", ok, err)
	}
	for _, tc := range []struct {
		name   string
		format []byte // nil: no format key, as the first layout wrote
	}{{"first layout", nil}, {"a later layout", []byte{Format + 1}}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.format == nil {
				err = st.db.Delete(formatKey, pebble.Sync)
			} else {
				err = st.db.Set(formatKey, tc.format, pebble.Sync)
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := st.Head(); !errors.Is(err, ErrFormat) {
				t.Errorf("Head() = %v, want ErrFormat", err)
			}
		})
	}
	st.Close()
}
