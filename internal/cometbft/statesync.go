package cometbft

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tlog"
)

// restore is a snapshot being restored by state sync. Only the snapshot
// connection (OfferSnapshot, ApplySnapshotChunk) uses it.
type restore struct {
	snap    *abci.Snapshot
	appHash []byte // the app hash CometBFT's light client verified for the snapshot's height
	im      *store.Import
	genesis []byte // the genesis file's hash, to begin from again if the restore fails
	next    uint32 // the next chunk to apply
}

// ListSnapshots implements abci.Application: the snapshots this node
// took, newest first.
func (a *App) ListSnapshots(context.Context, *abci.RequestListSnapshots) (*abci.ResponseListSnapshots, error) {
	snaps, err := a.snaps.list()
	if err != nil {
		a.log.Warn("cannot list the snapshots", "err", err)
	}
	return &abci.ResponseListSnapshots{Snapshots: snaps}, nil
}

// LoadSnapshotChunk implements abci.Application: a chunk of a snapshot
// this node took, or none if it has no such chunk.
func (a *App) LoadSnapshotChunk(_ context.Context, req *abci.RequestLoadSnapshotChunk) (*abci.ResponseLoadSnapshotChunk, error) {
	b, err := a.snaps.load(req.Height, req.Format, req.Chunk)
	if err != nil {
		a.log.Warn("cannot read a snapshot chunk", "height", req.Height, "chunk", req.Chunk, "err", err)
	}
	return &abci.ResponseLoadSnapshotChunk{Chunk: b}, nil
}

// OfferSnapshot implements abci.Application: it accepts a snapshot of
// this format whose metadata is consistent with its hash, if the store is
// fresh (the genesis only), and clears the store for it. req.AppHash is
// the app hash that CometBFT's light client verified for the snapshot's
// height; the restored head must hash to it.
func (a *App) OfferSnapshot(_ context.Context, req *abci.RequestOfferSnapshot) (*abci.ResponseOfferSnapshot, error) {
	offer := func(r abci.ResponseOfferSnapshot_Result) (*abci.ResponseOfferSnapshot, error) {
		return &abci.ResponseOfferSnapshot{Result: r}, nil
	}
	s := req.Snapshot
	switch {
	case s == nil:
		return offer(abci.ResponseOfferSnapshot_REJECT)
	case s.Format != snapshotFormat:
		return offer(abci.ResponseOfferSnapshot_REJECT_FORMAT)
	case s.Height == 0 || s.Chunks == 0 || len(s.Metadata) != sha256.Size*int(s.Chunks) || len(req.AppHash) != sha256.Size:
		return offer(abci.ResponseOfferSnapshot_REJECT)
	}
	if sum := sha256.Sum256(s.Metadata); !bytes.Equal(sum[:], s.Hash) {
		return offer(abci.ResponseOfferSnapshot_REJECT)
	}
	if err := a.abortRestore(); err != nil { // one CometBFT gave up on
		return nil, err
	}
	genesis, err := a.store.GenesisHash()
	if err != nil {
		return nil, err
	}
	im, err := a.store.Import()
	if errors.Is(err, store.ErrNotFresh) {
		a.log.Warn("refused state sync", "err", err)
		return offer(abci.ResponseOfferSnapshot_ABORT)
	}
	if err != nil {
		return nil, err
	}
	a.restoring = &restore{snap: s, appHash: req.AppHash, im: im, genesis: genesis}
	a.log.Info("restoring a snapshot", "height", s.Height, "chunks", s.Chunks)
	return offer(abci.ResponseOfferSnapshot_ACCEPT)
}

// ApplySnapshotChunk implements abci.Application. A chunk whose SHA-256
// is not the one the snapshot's metadata gives is refetched from another
// peer, and its sender rejected; a snapshot whose chunks do not restore
// the ledger the light client verified is rejected, and what it wrote
// cleared. After the last chunk the App continues from the restored
// block.
func (a *App) ApplySnapshotChunk(_ context.Context, req *abci.RequestApplySnapshotChunk) (*abci.ResponseApplySnapshotChunk, error) {
	apply := func(r abci.ResponseApplySnapshotChunk_Result) (*abci.ResponseApplySnapshotChunk, error) {
		return &abci.ResponseApplySnapshotChunk{Result: r}, nil
	}
	r := a.restoring
	switch {
	case r == nil:
		return nil, fmt.Errorf("a snapshot chunk without an accepted snapshot")
	case req.Index != r.next: // CometBFT applies them in order: begin again
		a.log.Warn("snapshot chunk out of order", "chunk", req.Index, "want", r.next)
		return apply(abci.ResponseApplySnapshotChunk_RETRY_SNAPSHOT)
	}
	if sum := sha256.Sum256(req.Chunk); !bytes.Equal(sum[:], r.snap.Metadata[sha256.Size*int(req.Index):][:sha256.Size]) {
		a.log.Warn("refused a snapshot chunk that is not the snapshot's", "height", r.snap.Height, "chunk", req.Index, "sender", req.Sender)
		res := &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_RETRY, RefetchChunks: []uint32{req.Index}}
		if req.Sender != "" {
			res.RejectSenders = []string{req.Sender}
		}
		return res, nil
	}
	pairs, err := decodeChunk(req.Chunk)
	if err == nil {
		err = r.im.Write(pairs)
	}
	if err == nil && r.next+1 == r.snap.Chunks {
		err = a.finishRestore(r)
	}
	if errors.Is(err, store.ErrFailed) {
		return nil, err
	}
	if err != nil {
		a.log.Warn("rejected a snapshot", "height", r.snap.Height, "chunk", req.Index, "err", err)
		if err := a.abortRestore(); err != nil {
			return nil, err
		}
		return apply(abci.ResponseApplySnapshotChunk_REJECT_SNAPSHOT)
	}
	r.next++
	return apply(abci.ResponseApplySnapshotChunk_ACCEPT)
}

// finishRestore checks the restored store before the App continues from
// it: its head is the snapshot's block and hashes to the app hash the
// light client verified, and it passes node.Fsck, which replays every
// block from the genesis.
func (a *App) finishRestore(r *restore) error {
	hdr, err := r.im.Finish(func(h *ledger.Header) ([]byte, error) { return tlog.Sign(h.Checkpoint(), a.signer) })
	if err != nil {
		return err
	}
	if hdr.Height != r.snap.Height {
		return fmt.Errorf("the snapshot's head is block %d, not %d", hdr.Height, r.snap.Height)
	}
	if hash := hdr.Hash(); !bytes.Equal(hash[:], r.appHash) {
		return fmt.Errorf("the restored block %d hashes to %X, not to the app hash %X that the light client verified", hdr.Height, hash, r.appHash)
	}
	if _, err := node.Fsck(a.store, a.exec, a.genesis, nil, nil); err != nil {
		return err
	}
	a.restoring = nil
	if err := a.reload(); err != nil {
		return err
	}
	a.log.Info("restored a snapshot", "height", hdr.Height)
	return nil
}

// abortRestore clears what a restore wrote and begins the store again
// from the genesis.
func (a *App) abortRestore() error {
	r := a.restoring
	if r == nil {
		return nil
	}
	a.restoring = nil
	if err := r.im.Abort(); err != nil {
		return err
	}
	if _, err := node.Init(a.store, a.exec, a.genesis, r.genesis, &node.Checkpointer{Signer: a.signer}); err != nil {
		return err
	}
	return a.reload()
}
