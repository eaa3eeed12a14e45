// Package node is Agora's embedded consensus driver: a single node that
// admits transactions into a mempool, cuts blocks, applies them with the
// ledger executor and commits them durably to the store.
//
// The node is the only place that reads the wall clock: it stamps each
// block with a time, which is all the executor and the modules ever see of
// time. The CometBFT adapter drives the same executor with the network's
// block time instead.
package node

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/tx"
)

// ErrBusy means the mempool is full: try again shortly. It is
// ledger.ErrBusy, whose row in the error table gives its code.
var ErrBusy = ledger.ErrBusy

// ErrStopped means the node has stopped and will commit nothing more. It
// is ledger.ErrStopped.
var ErrStopped = ledger.ErrStopped

// Committed is where and how a transaction was committed.
type Committed struct {
	Height uint64
	Index  int
	Leaf   uint64 // index in the log
	Result ledger.Result
	Header ledger.Header
}

// Checkpointer signs the log checkpoint of every block the node commits
// (ledger.Header.Checkpoint), with the note key named after the chain's
// log origin.
type Checkpointer struct {
	Signer note.Signer
}

func (c *Checkpointer) sign(h *ledger.Header) ([]byte, error) {
	if c == nil {
		return nil, nil
	}
	return tlog.Sign(h.Checkpoint(), c.Signer)
}

// Node is a running embedded node.
type Node struct {
	exec  *ledger.Executor
	store *store.Store
	log   *slog.Logger
	clock func() time.Time
	cfg   Config
	m     *metrics
	cp    *Checkpointer
	wit   *collector // nil without witnesses

	mu     sync.Mutex
	head   ledger.Header
	params ledger.Params
	pool   []*ledger.Checked
	bytes  int // the summed envelope sizes of pool
	// free holds, by SHA-256, the waiting transactions none of whose
	// signers has standing, and freeBytes their summed sizes: at most
	// the free backlog may wait (ledger.Params.FreeBacklog).
	free      map[[32]byte]bool
	freeBytes int
	inPool    map[tx.ID]bool
	pending   map[string]uint64 // address -> next sequence counting the pool
	// block holds the checked transactions of the block being applied,
	// by SHA-256 of the envelope, for the executor's Admitted hook; only
	// produce writes it.
	block   atomic.Pointer[map[[32]byte]*ledger.Checked]
	waiters map[tx.ID][]chan waitResult
	// dropped remembers why the last maxDropped dropped transactions
	// were dropped, oldest first in dropOrder.
	dropped   map[tx.ID]error
	dropOrder []tx.ID
	stopped   error
	wake      chan struct{}
}

type waitResult struct {
	c   Committed
	err error
}

// New returns a node over an initialised store. clock supplies block
// times; reg, if not nil, receives the node's metrics.
// cp, if not nil, signs a checkpoint for every block.
func New(cfg Config, st *store.Store, exec *ledger.Executor, log *slog.Logger, clock func() time.Time, reg prometheus.Registerer, cp *Checkpointer) (*Node, error) {
	h, ok, err := st.Head()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("store is not initialised: run agora init first")
	}
	rec, err := st.Block(h)
	if err != nil {
		return nil, err
	}
	params, err := ledger.GetParams(st)
	if err != nil {
		return nil, err
	}
	n := &Node{
		exec: exec, store: st, log: log, clock: clock, cfg: cfg.WithDefaults(), m: newMetrics(reg), cp: cp,
		head: rec.Header, params: params,
		inPool: map[tx.ID]bool{}, pending: map[string]uint64{}, free: map[[32]byte]bool{},
		waiters: map[tx.ID][]chan waitResult{}, dropped: map[tx.ID]error{}, wake: make(chan struct{}, 1),
	}
	n.m.Height.Set(float64(h))
	if len(cfg.Witnesses) > 0 {
		if cp == nil {
			return nil, fmt.Errorf("witnesses are configured, but the node signs no checkpoints for them to cosign")
		}
		if n.wit, err = newCollector(cfg.Witnesses, st, log, n.m, func() uint64 { return n.Head().Height }); err != nil {
			return nil, err
		}
	}
	exec.Admitted = n.isAdmitted
	return n, nil
}

// Init commits genesis as block 0 of an empty store, with its checkpoint
// signed by cp if not nil.
func Init(st *store.Store, exec *ledger.Executor, g *ledger.Genesis, genesisHash []byte, cp *Checkpointer) (*ledger.Header, error) {
	out, err := exec.InitGenesis(g)
	if err != nil {
		return nil, err
	}
	signed, err := cp.sign(&out.Header)
	if err != nil {
		return nil, err
	}
	if err := st.Init(genesisHash, out, signed); err != nil {
		return nil, err
	}
	return &out.Header, nil
}

// Head returns the header of the last committed block.
func (n *Node) Head() ledger.Header {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.head
}

// Witnessed returns the newest checkpoint that every configured witness
// has cosigned; ok is false if there is none yet, or no witnesses. Read it
// before taking a store snapshot: the snapshot then holds that checkpoint
// and its cosignatures.
func (n *Node) Witnessed() (w Witnessed, ok bool) {
	if n.wit == nil {
		return Witnessed{}, false
	}
	return n.wit.Witnessed()
}

// Store returns the node's store, for reads.
func (n *Node) Store() *store.Store { return n.store }

// Executor returns the node's executor.
func (n *Node) Executor() *ledger.Executor { return n.exec }

// MempoolSize returns the number of transactions waiting.
func (n *Node) MempoolSize() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.pool)
}

// isAdmitted is the executor's Admitted hook: the checked transaction of
// the block being applied, if the mempool admitted it.
func (n *Node) isAdmitted(sum [32]byte) *ledger.Checked {
	if m := n.block.Load(); m != nil {
		return (*m)[sum]
	}
	return nil
}

// NextSequence returns the sequence number the next transaction signed by
// the account at addr must carry, counting transactions in the mempool.
func (n *Node) NextSequence(addr string, committed uint64) uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s, ok := n.pending[addr]; ok {
		return s
	}
	return committed
}

// Submit admits a transaction to the mempool after every check the
// executor will make (but the module's execution): it decodes, is for this
// chain, has not expired, is correctly signed, and carries each signer's
// next sequence number. It returns the transaction's ID.
func (n *Node) Submit(raw []byte) (tx.ID, error) {
	id, err := n.submit(raw)
	if err != nil {
		n.m.TxsRejected.WithLabelValues(ledger.Code(err)).Inc()
	}
	return id, err
}

func (n *Node) submit(raw []byte) (tx.ID, error) {
	c, err := n.exec.Check(raw, false)
	if err != nil {
		return tx.ID{}, err
	}
	if done, err := n.store.HasTx(c.ID); err != nil || done {
		if err == nil {
			err = fmt.Errorf("%w: transaction %s is already committed", ledger.ErrConflict, c.ID)
		}
		return c.ID, err
	}
	n.mu.Lock()
	head, params := n.head, n.params
	n.mu.Unlock()
	if err := params.CheckSize(raw); err != nil {
		return c.ID, err
	}
	if err := ledger.CheckExpiry(c.Tx, n.nextBlock(head)); err != nil {
		return c.ID, err
	}
	if err := tx.Verify(c.Signed, c.Tx); err != nil {
		return c.ID, err
	}
	standing, err := n.exec.CheckStanding(n.store, params, c, n.nextBlock(head).Time)
	if err != nil {
		return c.ID, err
	}

	// Read the signers' committed sequences before taking the lock, so
	// that concurrent submitters do not queue behind each other's store
	// reads; if a block commits meanwhile, read them again under it.
	committed, err := n.committedSequences(c.Tx.Signers)
	if err != nil {
		return c.ID, err
	}

	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped != nil {
		return c.ID, n.stopped
	}
	if n.inPool[c.ID] {
		return c.ID, fmt.Errorf("%w: transaction %s is already waiting in the mempool", ledger.ErrConflict, c.ID)
	}
	if len(n.pool) >= n.cfg.MempoolSize {
		return c.ID, fmt.Errorf("%w: mempool holds %d transactions", ErrBusy, len(n.pool))
	}
	if n.bytes+len(raw) > n.cfg.MempoolBytes {
		return c.ID, fmt.Errorf("%w: mempool holds %d bytes of transactions", ErrBusy, n.bytes)
	}
	if maxTxs, maxBytes := params.FreeBacklog(); !standing && (uint64(len(n.free)) >= maxTxs || uint64(n.freeBytes+len(raw)) > maxBytes) {
		return c.ID, fmt.Errorf("%w: %d transactions whose signers lack standing wait already, all the free quota takes in %d blocks", ErrBusy, len(n.free), ledger.FreeBacklogBlocks)
	}
	if n.head.Height != head.Height {
		if committed, err = n.committedSequences(c.Tx.Signers); err != nil {
			return c.ID, err
		}
	}
	for i, s := range c.Tx.Signers {
		want, ok := n.pending[s.Key.Address()]
		if !ok {
			want = committed[i]
		}
		if s.Sequence != want {
			return c.ID, fmt.Errorf("%w: signer %s must use sequence %d, transaction has %d", ledger.ErrSequence, s.Key.Address(), want, s.Sequence)
		}
	}
	for _, s := range c.Tx.Signers {
		n.pending[s.Key.Address()] = s.Sequence + 1
	}
	n.pool = append(n.pool, c)
	n.bytes += len(raw)
	if !standing {
		n.free[c.Sum] = true
		n.freeBytes += len(raw)
	}
	n.inPool[c.ID] = true
	delete(n.dropped, c.ID) // admitted again after an earlier drop
	n.m.mempool.Set(float64(len(n.pool)))
	select {
	case n.wake <- struct{}{}:
	default:
	}
	return c.ID, nil
}

// unfree forgets c from the free backlog once it leaves the pool. n.mu
// held.
func (n *Node) unfree(c *ledger.Checked) {
	if n.free[c.Sum] {
		delete(n.free, c.Sum)
		n.freeBytes -= len(c.Raw)
	}
}

// committedSequences reads the signers' committed next sequences.
func (n *Node) committedSequences(signers []tx.Signer) ([]uint64, error) {
	out := make([]uint64, len(signers))
	for i, s := range signers {
		a, err := ledger.GetAccount(n.store, s.Key)
		if err != nil {
			return nil, err
		}
		out[i] = a.Sequence
	}
	return out, nil
}

// expected returns the next sequence of key counting the pool. n.mu held.
func (n *Node) expected(key tx.PublicKey) (uint64, error) {
	if s, ok := n.pending[key.Address()]; ok {
		return s, nil
	}
	a, err := ledger.GetAccount(n.store, key)
	return a.Sequence, err
}

// nextBlock is the height and earliest time of the next block.
func (n *Node) nextBlock(head ledger.Header) ledger.Block {
	t := n.clock().UTC().Truncate(time.Millisecond)
	if t.UnixMilli() <= head.Time {
		t = time.UnixMilli(head.Time + 1).UTC()
	}
	return ledger.Block{ChainID: n.exec.ChainID(), Height: head.Height + 1, Time: t}
}

// Wait blocks until the transaction id is committed, the context ends, or
// the transaction is dropped from the mempool (the error says why).
func (n *Node) Wait(ctx context.Context, id tx.ID) (Committed, error) {
	ch := make(chan waitResult, 1)
	n.mu.Lock()
	n.waiters[id] = append(n.waiters[id], ch)
	stopped := n.stopped
	dropped := n.dropped[id]
	n.mu.Unlock()
	defer n.unwait(id, ch)
	// Committed before we began waiting? The index says so cheaply. A
	// block is stored before it becomes the head, though: if this one
	// is not the head yet and the node runs, its notification is on the
	// way, and answering now would let the caller see its transaction
	// committed above Head.
	if c, err := n.Lookup(id); err == nil {
		if stopped != nil || c.Height <= n.Head().Height {
			return c, nil
		}
	} else if !errors.Is(err, ledger.ErrNotFound) {
		return Committed{}, err
	}
	if dropped != nil {
		return Committed{}, dropped
	}
	if stopped != nil {
		return Committed{}, stopped
	}
	select {
	case r := <-ch:
		return r.c, r.err
	case <-ctx.Done():
		return Committed{}, ctx.Err()
	}
}

func (n *Node) unwait(id tx.ID, ch chan waitResult) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ws := n.waiters[id]
	for i, w := range ws {
		if w == ch {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(n.waiters, id)
	} else {
		n.waiters[id] = ws
	}
}

// Lookup finds a committed transaction.
func (n *Node) Lookup(id tx.ID) (Committed, error) {
	loc, err := n.store.FindTx(id)
	if err != nil {
		return Committed{}, err
	}
	hdr, err := n.store.Header(loc.Height)
	if err != nil {
		return Committed{}, err
	}
	return Committed{Height: loc.Height, Index: loc.Index, Leaf: loc.Leaf, Result: loc.Result, Header: *hdr}, nil
}

// Err returns nil while the node runs, and after it stops an error
// wrapping ErrStopped that says why.
func (n *Node) Err() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stopped
}

// Pending reports whether a transaction is waiting in the mempool.
func (n *Node) Pending(id tx.ID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.inPool[id]
}

// Run produces blocks until ctx ends or a block cannot be committed, which
// stops the node (the error says why). Run must be called once. With
// witnesses, Run also collects their cosignatures in the background, and
// returns once the last request has ended.
func (n *Node) Run(ctx context.Context) error {
	if n.wit != nil {
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			n.wit.run(wctx)
		}()
		defer func() {
			cancel()
			<-done
		}()
	}
	err := n.run(ctx)
	n.mu.Lock()
	n.stopped = ErrStopped
	if err != nil && !errors.Is(err, context.Canceled) {
		n.stopped = fmt.Errorf("%w: %v", ErrStopped, err)
	}
	for id, ws := range n.waiters {
		for _, w := range ws {
			w <- waitResult{err: ErrStopped}
		}
		delete(n.waiters, id)
	}
	n.mu.Unlock()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func (n *Node) run(ctx context.Context) error {
	last := time.Time{}
	interval := time.Duration(n.cfg.BlockInterval)
	empty := time.Duration(*n.cfg.EmptyBlockInterval)
	for {
		if n.MempoolSize() == 0 {
			var timer *time.Timer
			var fire <-chan time.Time
			if empty > 0 {
				timer = time.NewTimer(empty - time.Since(last))
				fire = timer.C
			}
			fired := false
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-n.wake:
			case <-fire:
				fired = true
			}
			if timer != nil {
				timer.Stop()
			}
			if !fired && n.MempoolSize() == 0 {
				// A stale wake-up: the transaction that sent it went into
				// the last block. Making a block now would make an empty
				// one before EmptyBlockInterval.
				continue
			}
		}
		if wait := interval - time.Since(last); wait > 0 && !n.poolFull() {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		last = time.Now()
		if err := n.produce(); err != nil {
			n.log.Error("block production stopped", "err", err)
			return err
		}
	}
}

func (n *Node) poolFull() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return uint64(len(n.pool)) >= n.params.MaxBlockTxs
}

// produce cuts, applies and commits one block.
func (n *Node) produce() error {
	n.mu.Lock()
	pool, head, params := n.pool, n.head, n.params
	n.mu.Unlock()
	// Only produce takes from the pool, and the state changes only when it
	// commits, so the cut can read the store without holding the lock:
	// Submit meanwhile only appends to n.pool.
	b := n.nextBlock(head)
	batch, held, err := n.cut(pool, params, b)
	if err != nil {
		return fmt.Errorf("cut block %d: %w", b.Height, err)
	}
	n.mu.Lock()
	n.pool = append(held, n.pool[len(pool):]...)
	for _, c := range batch {
		n.bytes -= len(c.Raw)
	}
	n.mu.Unlock()

	raws := make([][]byte, len(batch))
	checked := make(map[[32]byte]*ledger.Checked, len(batch))
	for i, c := range batch {
		raws[i] = c.Raw
		checked[c.Sum] = c
	}
	n.block.Store(&checked)
	defer n.block.Store(nil)
	start := time.Now()
	out, err := n.exec.Apply(n.store, &head, b, raws, true)
	if err != nil {
		return fmt.Errorf("apply block %d: %w", b.Height, err)
	}
	n.m.ApplyTime.Observe(time.Since(start).Seconds())
	start = time.Now()
	signed, err := n.cp.sign(&out.Header)
	if err != nil {
		return fmt.Errorf("sign checkpoint %d: %w", out.Header.Height, err)
	}
	if err := n.store.Commit(out, signed); err != nil {
		return err
	}
	took := time.Since(start)
	params, err = ledger.GetParams(n.store)
	if err != nil {
		return err
	}

	n.mu.Lock()
	defer n.mu.Unlock()
	n.head = out.Header
	n.params = params
	dropped := map[[32]byte]error{}
	for _, d := range out.Dropped {
		dropped[sha256Sum(d.Raw)] = d.Err
	}
	idx := 0
	for _, c := range batch {
		n.unfree(c)
		if err, ok := dropped[c.Sum]; ok {
			n.drop(c, err)
			continue
		}
		delete(n.inPool, c.ID)
		res := out.Results[idx]
		leaf := out.Header.LogSize - uint64(len(out.Txs)) + uint64(idx)
		n.notify(c.ID, waitResult{c: Committed{Height: out.Header.Height, Index: idx, Leaf: leaf, Result: res, Header: out.Header}})
		idx++
	}
	if len(out.Dropped) > 0 {
		if err := n.recheck(); err != nil {
			return err
		}
	} else {
		for _, c := range batch {
			for _, s := range c.Tx.Signers {
				addr := s.Key.Address()
				if n.pending[addr] == s.Sequence+1 {
					delete(n.pending, addr) // nothing later from this signer waits
				}
			}
		}
	}
	if n.wit != nil {
		n.wit.committed()
	}
	n.m.Committed(out, took)
	n.m.mempool.Set(float64(len(n.pool)))
	if len(out.Txs) > 0 {
		n.log.Debug("committed block", "height", out.Header.Height, "txs", len(out.Txs), "dropped", len(out.Dropped))
	}
	return nil
}

// cut chooses, in pool order, the transactions of block b: within the
// block limits and the free quota for signers without standing. Apply
// would drop what exceeds them as if it were invalid, and the waiters
// would be told so, when those transactions only have to wait for a later
// block: cut holds them back, in order, with every later transaction of
// their signers (whose sequences follow). Every transaction fits an empty
// block (MaxBlockBytes >= tx.MaxSize).
func (n *Node) cut(pool []*ledger.Checked, params ledger.Params, b ledger.Block) (batch, held []*ledger.Checked, err error) {
	quota := n.exec.NewQuota(n.store, params, b.Time)
	waiting := map[string]bool{} // signers with a transaction held back
	size := uint64(0)
	for i, c := range pool {
		if uint64(len(batch)) >= params.MaxBlockTxs || size+uint64(len(c.Raw)) > params.MaxBlockBytes {
			return batch, append(held, pool[i:]...), nil
		}
		wait := false
		for _, s := range c.Tx.Signers {
			wait = wait || waiting[s.Key.Address()]
		}
		if !wait {
			err := quota.Take(c.Tx.Signers, len(c.Raw))
			if errors.Is(err, ledger.ErrStorage) {
				return nil, nil, err
			}
			// One that no block can hold any more (governance lowered the
			// quota since it was admitted) goes in for Apply to drop, so
			// that its waiters learn why.
			wait = err != nil && params.CheckFree(len(c.Raw)) == nil
		}
		if wait {
			for _, s := range c.Tx.Signers {
				waiting[s.Key.Address()] = true
			}
			held = append(held, c)
			continue
		}
		size += uint64(len(c.Raw))
		batch = append(batch, c)
	}
	return batch, held, nil
}

// recheck rebuilds the pending sequences after transactions were dropped,
// dropping in turn the waiting transactions whose sequence can no longer
// be used. n.mu held.
func (n *Node) recheck() error {
	n.pending = map[string]uint64{}
	keep := n.pool[:0]
	n.bytes = 0
	for _, c := range n.pool {
		var bad error
		for _, s := range c.Tx.Signers {
			want, err := n.expected(s.Key)
			if err != nil {
				return err
			}
			if s.Sequence != want {
				bad = fmt.Errorf("%w: an earlier transaction of signer %s was dropped", ledger.ErrSequence, s.Key.Address())
				break
			}
		}
		if bad != nil {
			n.drop(c, bad)
			continue
		}
		for _, s := range c.Tx.Signers {
			n.pending[s.Key.Address()] = s.Sequence + 1
		}
		keep = append(keep, c)
		n.bytes += len(c.Raw)
	}
	n.pool = keep
	return nil
}

// maxDropped bounds how many dropped transactions the node remembers.
const maxDropped = 10000

// drop forgets a transaction from the pool's bookkeeping, remembers why it
// was dropped and tells its waiters. n.mu held.
func (n *Node) drop(c *ledger.Checked, err error) {
	delete(n.inPool, c.ID)
	n.unfree(c)
	n.m.TxsRejected.WithLabelValues(ledger.Code(err)).Inc()
	if _, ok := n.dropped[c.ID]; !ok {
		if len(n.dropOrder) >= maxDropped {
			delete(n.dropped, n.dropOrder[0])
			n.dropOrder = n.dropOrder[1:]
		}
		n.dropOrder = append(n.dropOrder, c.ID)
	}
	n.dropped[c.ID] = err
	n.notify(c.ID, waitResult{err: err})
}

// Dropped returns why a transaction was dropped from the mempool, or nil
// if the node does not remember dropping it.
func (n *Node) Dropped(id tx.ID) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dropped[id]
}

// notify delivers a result to the waiters of id. n.mu held.
func (n *Node) notify(id tx.ID, r waitResult) {
	for _, w := range n.waiters[id] {
		w <- r // buffered, one result per waiter
	}
	delete(n.waiters, id)
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
