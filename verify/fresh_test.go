package verify

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tlog"
)

// memHashes is a log's node hashes in memory.
type memHashes map[compact.NodeID][]byte

func (m memHashes) ReadHashes(ids []compact.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = m[id]
	}
	return out, nil
}

// growLog appends n entries to the log in m of size and returns the root.
func growLog(t *testing.T, m memHashes, size, n uint64) []byte {
	t.Helper()
	var leaves [][]byte
	for i := size; i < size+n; i++ {
		leaves = append(leaves, tlog.LeafHash([]byte(fmt.Sprint("entry ", i))))
	}
	root, writes, err := tlog.Append(m, size, leaves)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range writes {
		m[w.ID] = w.Hash
	}
	return root
}

func TestFresh(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000).UTC()
	at := func(d time.Duration) *Checkpoint { return &Checkpoint{Height: 3, Time: now.Add(-d)} }
	tests := []struct {
		name   string
		c      *Checkpoint
		maxAge time.Duration
		ok     bool
	}{
		{"recent", at(time.Minute), 10 * time.Minute, true},
		{"at the bound", at(10 * time.Minute), 10 * time.Minute, true},
		{"older than the bound", at(11 * time.Minute), 10 * time.Minute, false},
		{"no time", &Checkpoint{Height: 3}, 10 * time.Minute, false},
		{"no bound", at(1000 * time.Hour), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Fresh(tt.c, now, tt.maxAge)
			if tt.ok != (err == nil) {
				t.Fatalf("Fresh = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrStale) {
				t.Fatalf("%v does not wrap ErrStale", err)
			}
		})
	}
}

func TestFollows(t *testing.T) {
	log := memHashes{}
	root5 := growLog(t, log, 0, 5)
	root9 := growLog(t, log, 5, 4)
	forked := bytes.Repeat([]byte{7}, 32) // another log of 9 entries
	hashes, err := tlog.ConsistencyProof(log, 5, 9)
	if err != nil {
		t.Fatal(err)
	}
	cpState := func(height, size uint64, root []byte, state byte) *Checkpoint {
		app := bytes.Repeat([]byte{state}, 32)
		h := ledger.Header{ChainID: "c", Height: height, LogSize: size, LogRoot: root, AppHash: app}
		return &Checkpoint{Checkpoint: h.Checkpoint(), Height: height, StateRoot: app}
	}
	cp := func(height, size uint64, root []byte) *Checkpoint { return cpState(height, size, root, 0) }
	seen := cp(10, 5, root5)
	proof := &ConsistencyProof{From: 5, To: 9, Hashes: hashes}
	tests := []struct {
		name string
		c    *Checkpoint
		p    *ConsistencyProof
		want error // nil: follows
	}{
		{"the same", cp(10, 5, root5), nil, nil},
		{"a later empty block", cp(12, 5, root5), nil, nil},
		{"extends it, proven", cp(20, 9, root9), proof, nil},
		{"an older checkpoint, replayed", cp(8, 4, root5), nil, ErrStale},
		{"an older height", cp(9, 5, root5), nil, ErrStale},
		{"another root at the size", cp(10, 5, root9), nil, ErrInvalid},
		{"larger, without a proof", cp(20, 9, root9), nil, ErrInvalid},
		{"a fork, with the honest log's proof", cp(20, 9, forked), proof, ErrInvalid},
		{"the same height, another state", cpState(10, 5, root5, 1), nil, ErrInvalid},
		{"the same height, a longer log, proven", cp(10, 9, root9), proof, ErrInvalid},
		{"the same height, a shorter log", cp(10, 4, root5), nil, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Follows(seen, tt.c, tt.p)
			if tt.want == nil && err != nil {
				t.Fatal(err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Follows = %v, want %v", err, tt.want)
			}
		})
	}
	if err := Follows(nil, seen, nil); err != nil {
		t.Errorf("nothing seen yet: %v", err)
	}
}
