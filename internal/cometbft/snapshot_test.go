package cometbft

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/google/go-cmp/cmp"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/store/storetest"
)

// snapshotting gives h's App snapshots every interval blocks in a
// temporary directory, in chunks of at most 1 KiB so that a short chain
// has several.
func (h *harness) snapshotting(interval uint64) {
	h.t.Helper()
	s, err := newSnapshots(h.t.TempDir(), interval, 2, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		h.t.Fatal(err)
	}
	s.chunk = 1 << 10
	h.app.snaps = s
	h.t.Cleanup(s.stop)
}

// chain commits n blocks of anchors, each carrying the validators'
// signatures of the previous checkpoint, and waits after each for the
// snapshot it was due (one still being written makes the App skip the
// next).
func (h *harness) chain(n int) {
	h.t.Helper()
	for range n {
		head := h.app.Head()
		txs := [][]byte{h.anchor(head.Height*2, fmt.Sprint("a", head.Height)), h.anchor(head.Height*2+1, fmt.Sprint("b", head.Height))}
		h.block(txs, h.votes(&head, h.vals...))
		h.app.snaps.wg.Wait()
	}
}

// snapshots returns the snapshots h's App lists.
func (h *harness) snapshots() []*abci.Snapshot {
	h.t.Helper()
	res, err := h.app.ListSnapshots(context.Background(), &abci.RequestListSnapshots{})
	if err != nil {
		h.t.Fatal(err)
	}
	return res.Snapshots
}

// chunks loads every chunk of snap from h's App.
func (h *harness) chunks(snap *abci.Snapshot) [][]byte {
	h.t.Helper()
	var out [][]byte
	for i := range snap.Chunks {
		res, err := h.app.LoadSnapshotChunk(context.Background(), &abci.RequestLoadSnapshotChunk{Height: snap.Height, Format: snap.Format, Chunk: i})
		if err != nil || len(res.Chunk) == 0 {
			h.t.Fatalf("LoadSnapshotChunk(%d, %d) = %d bytes, %v", snap.Height, i, len(res.Chunk), err)
		}
		out = append(out, res.Chunk)
	}
	return out
}

// offer offers snap to h's App with the app hash appHash.
func (h *harness) offer(snap *abci.Snapshot, appHash []byte) abci.ResponseOfferSnapshot_Result {
	h.t.Helper()
	res, err := h.app.OfferSnapshot(context.Background(), &abci.RequestOfferSnapshot{Snapshot: snap, AppHash: appHash})
	if err != nil {
		h.t.Fatal(err)
	}
	return res.Result
}

// apply applies chunk i, sent by the peer "peer", to h's App.
func (h *harness) apply(i int, chunk []byte) *abci.ResponseApplySnapshotChunk {
	h.t.Helper()
	res, err := h.app.ApplySnapshotChunk(context.Background(), &abci.RequestApplySnapshotChunk{Index: uint32(i), Chunk: chunk, Sender: "peer"})
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

func headHash(h ledger.Header) []byte {
	hash := h.Hash()
	return hash[:]
}

// TestSnapshotRestore takes snapshots every 3 blocks, keeps the newest
// two, and restores the newest into a new node's App, which then has the
// same head, state and history, takes the same snapshot (its content is
// not node-local), and goes on committing blocks.
func TestSnapshotRestore(t *testing.T) {
	src := newHarness(t, t.TempDir())
	src.snapshotting(3)
	src.chain(8)
	snaps := src.snapshots()
	var heights []uint64
	for _, s := range snaps {
		heights = append(heights, s.Height)
	}
	if !slices.Equal(heights, []uint64{6, 3}) {
		t.Fatalf("after 8 blocks the App lists snapshots %v, want those of blocks 6 and 3", heights)
	}
	src.chain(1)
	snaps = src.snapshots()
	if len(snaps) != 2 || snaps[0].Height != 9 || snaps[1].Height != 6 {
		t.Fatalf("after 9 blocks the App lists %d snapshots, want those of blocks 9 and 6 (it keeps two)", len(snaps))
	}
	snap := snaps[0]
	if snap.Format != snapshotFormat || snap.Chunks < 3 {
		t.Fatalf("snapshot of format %d in %d chunks, want format %d in several", snap.Format, snap.Chunks, snapshotFormat)
	}
	chunks := src.chunks(snap)

	dst := newHarnessAs(t, t.TempDir(), 1) // another node, with another note key
	if r := dst.offer(snap, headHash(src.app.Head())); r != abci.ResponseOfferSnapshot_ACCEPT {
		t.Fatalf("OfferSnapshot = %v, want ACCEPT", r)
	}
	for i, c := range chunks {
		if r := dst.apply(i, c); r.Result != abci.ResponseApplySnapshotChunk_ACCEPT {
			t.Fatalf("ApplySnapshotChunk(%d) = %v, want ACCEPT", i, r)
		}
	}
	info, err := dst.app.Info(context.Background(), &abci.RequestInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if info.LastBlockHeight != 9 || !bytes.Equal(info.LastBlockAppHash, headHash(src.app.Head())) {
		t.Fatalf("Info after the restore: height %d app hash %X, want 9 and %X", info.LastBlockHeight, info.LastBlockAppHash, headHash(src.app.Head()))
	}
	if got, want := dst.app.Head().AppHash, src.app.Head().AppHash; !bytes.Equal(got, want) {
		t.Errorf("restored state root %x, want %x", got, want)
	}
	if diff := cmp.Diff(storetest.Exported(src.t, src.st), storetest.Exported(dst.t, dst.st)); diff != "" {
		t.Errorf("the restored store differs (-source +restored):\n%s", diff)
	}

	// Its own snapshot of block 9 is the same, chunk for chunk.
	dst.snapshotting(3)
	dst.app.snaps.take(dst.st, 9)
	dst.app.snaps.wg.Wait()
	if mine := dst.snapshots(); len(mine) != 1 || !bytes.Equal(mine[0].Hash, snap.Hash) {
		t.Errorf("the restored node's snapshot of block 9 differs from the source's")
	}

	// It goes on: block 10 carries the validators' signatures of
	// checkpoint 9, which the restored node signed anew.
	dst.clock = src.now()
	dst.chain(1)
	if h := dst.app.Head().Height; h != 10 {
		t.Errorf("head %d after a block on the restored store, want 10", h)
	}
	if _, err := dst.st.Checkpoint(9); err != nil {
		t.Errorf("no checkpoint 9 on the restored node: %v", err)
	}
}

// TestSnapshotRefused checks that a corrupt chunk is refetched from
// another peer, that a snapshot whose head does not hash to the verified
// app hash is rejected and leaves the store fresh, and what OfferSnapshot
// refuses.
func TestSnapshotRefused(t *testing.T) {
	src := newHarness(t, t.TempDir())
	src.snapshotting(4)
	src.chain(4)
	snap := src.snapshots()[0]
	chunks := src.chunks(snap)
	appHash := headHash(src.app.Head())

	t.Run("corrupt chunk", func(t *testing.T) {
		dst := newHarness(t, t.TempDir())
		if r := dst.offer(snap, appHash); r != abci.ResponseOfferSnapshot_ACCEPT {
			t.Fatalf("OfferSnapshot = %v", r)
		}
		bad := bytes.Clone(chunks[1])
		bad[len(bad)-1] ^= 1
		dst.apply(0, chunks[0])
		r := dst.apply(1, bad)
		if r.Result != abci.ResponseApplySnapshotChunk_RETRY || !slices.Equal(r.RefetchChunks, []uint32{1}) || !slices.Equal(r.RejectSenders, []string{"peer"}) {
			t.Fatalf("ApplySnapshotChunk(corrupt) = %v; want RETRY, refetch 1, reject its sender", r)
		}
		for i, c := range chunks[1:] {
			if r := dst.apply(i+1, c); r.Result != abci.ResponseApplySnapshotChunk_ACCEPT {
				t.Fatalf("ApplySnapshotChunk(%d) after a retry = %v", i+1, r)
			}
		}
		if h := dst.app.Head().Height; h != 4 {
			t.Errorf("head %d after the restore, want 4", h)
		}
	})

	t.Run("wrong app hash", func(t *testing.T) {
		dst := newHarness(t, t.TempDir())
		fresh := storetest.Exported(dst.t, dst.st)
		wrong := bytes.Clone(appHash)
		wrong[0] ^= 1
		if r := dst.offer(snap, wrong); r != abci.ResponseOfferSnapshot_ACCEPT {
			t.Fatalf("OfferSnapshot = %v", r)
		}
		var last *abci.ResponseApplySnapshotChunk
		for i, c := range chunks {
			last = dst.apply(i, c)
		}
		if last.Result != abci.ResponseApplySnapshotChunk_REJECT_SNAPSHOT {
			t.Fatalf("ApplySnapshotChunk(last) = %v, want REJECT_SNAPSHOT", last)
		}
		if diff := cmp.Diff(fresh, storetest.Exported(dst.t, dst.st)); diff != "" {
			t.Errorf("after a rejected snapshot the store is not as fresh as before (-before +after):\n%s", diff)
		}
		if h := dst.app.Head().Height; h != 0 {
			t.Errorf("head %d after a rejected snapshot, want 0", h)
		}
	})

	for _, tc := range []struct {
		name string
		snap func(s abci.Snapshot) *abci.Snapshot
		into *harness
		want abci.ResponseOfferSnapshot_Result
	}{
		{"unknown format", func(s abci.Snapshot) *abci.Snapshot { s.Format = 2; return &s }, nil, abci.ResponseOfferSnapshot_REJECT_FORMAT},
		{"metadata not the hash's", func(s abci.Snapshot) *abci.Snapshot {
			s.Metadata = bytes.Clone(s.Metadata)
			s.Metadata[0] ^= 1
			return &s
		}, nil, abci.ResponseOfferSnapshot_REJECT},
		{"chunk count not the metadata's", func(s abci.Snapshot) *abci.Snapshot { s.Chunks++; return &s }, nil, abci.ResponseOfferSnapshot_REJECT},
		{"into a store with blocks", func(s abci.Snapshot) *abci.Snapshot { return &s }, src, abci.ResponseOfferSnapshot_ABORT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := tc.into
			if dst == nil {
				dst = newHarness(t, t.TempDir())
			}
			if r := dst.offer(tc.snap(*snap), appHash); r != tc.want {
				t.Errorf("OfferSnapshot = %v, want %v", r, tc.want)
			}
		})
	}
	if h := src.app.Head().Height; h != 4 {
		t.Errorf("the source's head is %d after a refused offer, want 4", h)
	}
}
