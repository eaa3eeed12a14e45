package api

import (
	"context"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tx"
)

// Driver is the consensus driver the API serves: the embedded node
// (*node.Node) or a member of a network of validators (package cometbft).
// Its methods are safe for concurrent use.
type Driver interface {
	// Executor returns the ledger's executor; its modules' queries are
	// routes of the API.
	Executor() *ledger.Executor
	// Store returns the committed ledger, for reads. A block is in the
	// store, whole and with its signed checkpoint, before Head reports it.
	Store() *store.Store
	// Head returns the header of the last committed block.
	Head() ledger.Header
	// Submit admits a transaction to the mempool after every check a
	// block will make of it but the module's execution, and returns its
	// ID. Errors carry a stable code (ledger.Code), or wrap node.ErrBusy
	// (mempool full) or node.ErrStopped (the driver commits no more).
	Submit(raw []byte) (tx.ID, error)
	// Wait blocks until the transaction is committed in a block at or
	// below Head, ctx ends, or the transaction is dropped from the
	// mempool (the error says why).
	Wait(ctx context.Context, id tx.ID) (node.Committed, error)
	// Lookup finds a committed transaction; an error wrapping
	// ledger.ErrNotFound means it is not committed.
	Lookup(id tx.ID) (node.Committed, error)
	// Pending reports whether a transaction waits in the mempool.
	Pending(id tx.ID) bool
	// Dropped returns why a transaction left the mempool uncommitted, or
	// nil if the driver does not remember it doing so.
	Dropped(id tx.ID) error
	// NextSequence returns the sequence the next transaction of the
	// account at addr must carry, counting the mempool; committed is the
	// account's committed next sequence.
	NextSequence(addr string, committed uint64) uint64
	// MempoolSize returns the number of transactions waiting.
	MempoolSize() int
	// Witnessed returns the newest checkpoint the driver's trust quorum
	// has signed: every configured witness for the embedded node, more
	// than two thirds of the voting power for a network. ok is false if
	// there is none. Read it before taking a store snapshot: the snapshot
	// then holds that checkpoint and its signatures.
	Witnessed() (w node.Witnessed, ok bool)
	// Err returns nil while the driver commits blocks, and afterwards an
	// error wrapping node.ErrStopped.
	Err() error
}
