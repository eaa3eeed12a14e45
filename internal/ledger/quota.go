package ledger

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/agora-ledger/agora/internal/tx"
)

// # Standing and the free quota
//
// A shared ledger cannot let anyone write without bound: every committed
// transaction, even one its module refuses, is stored in a block and in
// the log for good. So a block holds only a small, governed quota of
// transactions whose signers all lack standing: at most
// Params.FreeTxs() of them, of at most Params.FreeBytes() bytes together.
// A transaction with at least one signer with standing is not counted,
// so a member co-signing lets a newcomer in at once.
//
// A key has standing when the state before the block says someone
// answers for it: it is a validator's key, a key named with a label in
// genesis, or a module that implements Stander vouches for it (identity:
// a key acting for a live DID; governance: a key member of a body). The
// quota is judged on the state before the block, not as the block
// unfolds, so a proposer can cut a block within it without executing.

// Stander is implemented by a module whose state gives keys standing.
type Stander interface {
	// Standing reports whether key has standing by the module's state at
	// time at: kv is a read-only view of the module's namespace as it was
	// before the block. It must be deterministic and read little (point
	// reads or a bounded scan): the executor asks it for every signer of
	// every transaction of a block. An error is a storage failure.
	Standing(kv *KV, key tx.PublicKey, at time.Time) (bool, error)
}

// DefaultFreeBlockTxs and DefaultFreeBlockBytes are the free quota when
// the parameters leave it unset: enough for a few newcomers a block to
// create their DIDs (a creation is under 2 KiB), little enough that keys
// without standing cannot fill blocks and the log with refused
// transactions.
const (
	DefaultFreeBlockTxs   = 8
	DefaultFreeBlockBytes = 16 << 10
)

// FreeBacklogBlocks is how many blocks' worth of the free quota a
// mempool lets wait (Params.FreeBacklog).
const FreeBacklogBlocks = 64

// FreeBacklog returns how many transactions whose signers all lack
// standing a mempool lets wait, and of how many bytes together: what the
// free quota takes out in FreeBacklogBlocks blocks. Beyond it admission
// answers busy, so that such transactions, which leave only a few a block,
// cannot crowd out the rest of the mempool.
func (p Params) FreeBacklog() (txs, bytes uint64) {
	return p.FreeTxs() * FreeBacklogBlocks, p.FreeBytes() * FreeBacklogBlocks
}

// FreeTxs returns how many transactions of a block may have only signers
// without standing.
func (p Params) FreeTxs() uint64 {
	if p.FreeBlockTxs == nil {
		return DefaultFreeBlockTxs
	}
	return *p.FreeBlockTxs
}

// FreeBytes returns how many bytes those transactions may take together.
func (p Params) FreeBytes() uint64 {
	if p.FreeBlockBytes == nil {
		return DefaultFreeBlockBytes
	}
	return *p.FreeBlockBytes
}

// CheckFree refuses, at admission, a transaction of size bytes whose
// signers lack standing if no block could ever hold it: the free quota is
// zero, or smaller than the transaction. The error wraps ErrOverQuota.
func (p Params) CheckFree(size int) error {
	if p.FreeTxs() == 0 || p.FreeBytes() == 0 {
		return fmt.Errorf("%w: no signer has standing, and the ledger parameters admit no transactions without (free_block_txs %d, free_block_bytes %d)", ErrOverQuota, p.FreeTxs(), p.FreeBytes())
	}
	if uint64(size) > p.FreeBytes() {
		return fmt.Errorf("%w: no signer has standing, and the transaction's %d bytes exceed the %d a block admits without (free_block_bytes)", ErrOverQuota, size, p.FreeBytes())
	}
	return nil
}

// CheckStanding is admission's question: it reports whether a signer of
// c has standing in the state r at time at, and, if none has, refuses c
// if no block under the parameters p could hold it (Params.CheckFree).
// The error wraps ErrOverQuota, or ErrStorage.
func (e *Executor) CheckStanding(r StateReader, p Params, c *Checked, at time.Time) (standing bool, err error) {
	if standing, err = e.Standing(r, c.Tx.Signers, at); err != nil || standing {
		return standing, err
	}
	return false, p.CheckFree(len(c.Raw))
}

// Standing reports whether any of signers has standing in the state r at
// time at: a transaction they sign is then not counted against the free
// quota.
func (e *Executor) Standing(r StateReader, signers []tx.Signer, at time.Time) (bool, error) {
	for _, s := range signers {
		ok, err := e.HasStanding(r, s.Key, at)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// HasStanding reports whether key has standing in the state r at time at:
// it is a validator's key, an account named with a label in genesis, or a
// Stander module vouches for it, asked in registration order.
func (e *Executor) HasStanding(r StateReader, key tx.PublicKey, at time.Time) (bool, error) {
	if key.Alg == tx.Ed25519 {
		_, ok, err := r.Get([]byte(Namespace + "/" + validatorPrefix + hex.EncodeToString(key.Key)))
		if err != nil {
			return false, fmt.Errorf("%w: %v", ErrStorage, err)
		}
		if ok {
			return true, nil
		}
	}
	a, err := GetAccount(r, key)
	if err != nil {
		return false, err
	}
	if a.Label != "" {
		return true, nil
	}
	for _, name := range e.order {
		s, ok := e.mods[name].(Stander)
		if !ok {
			continue
		}
		ok, err := s.Standing(NewReadView(r, name, nil), key, at)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// Quota counts, for one block, the transactions whose signers all lack
// standing against the free quota of the parameters. Apply uses one; a
// driver cutting a block from its mempool uses another, so that what
// exceeds the quota waits for a later block instead of being dropped.
type Quota struct {
	exec       *Executor
	r          StateReader
	at         time.Time
	txs, bytes uint64          // left
	standing   map[string]bool // by address, as answered
}

// NewQuota returns the quota of the block at time at after the state r,
// whose parameters are p.
func (e *Executor) NewQuota(r StateReader, p Params, at time.Time) *Quota {
	return &Quota{exec: e, r: r, at: at, txs: p.FreeTxs(), bytes: p.FreeBytes(), standing: map[string]bool{}}
}

// Take counts a transaction of size bytes signed by signers. It returns
// nil if a signer has standing, or if the transaction fits what is left
// of the quota, which it then takes; otherwise an error wrapping
// ErrOverQuota (the quota is unchanged) or ErrStorage.
func (q *Quota) Take(signers []tx.Signer, size int) error {
	for _, s := range signers {
		addr := s.Key.Address()
		ok, known := q.standing[addr]
		if !known {
			var err error
			if ok, err = q.exec.HasStanding(q.r, s.Key, q.at); err != nil {
				return err
			}
			q.standing[addr] = ok
		}
		if ok {
			return nil
		}
	}
	if q.txs == 0 || uint64(size) > q.bytes {
		return fmt.Errorf("%w: the block's quota of transactions whose signers lack standing is used (free_block_txs, free_block_bytes)", ErrOverQuota)
	}
	q.txs--
	q.bytes -= uint64(size)
	return nil
}
