// Package cometbft runs Agora's state machine as a CometBFT (ABCI 2.0,
// v0.38) application, so that several organisations run one ledger
// together, each with a validator; it is the only package that imports
// CometBFT.
//
// # The application
//
// App is the ABCI application. Every decision goes through the same
// executor as the embedded node (package node):
//
//   - CheckTx admits a transaction to CometBFT's mempool after the
//     embedded mempool's checks (decoding, chain, expiry, signatures, not
//     already committed, each signer's next sequence counting the
//     mempool); after a commit, the recheck drops what the block made
//     invalid.
//   - PrepareProposal applies the mempool's transactions with
//     Executor.Apply(propose=true), leaving out the invalid ones and
//     those beyond the block limits; ProcessProposal applies the proposal
//     with propose=false and rejects it on any error.
//   - FinalizeBlock applies the decided block (reusing ProcessProposal's
//     outcome for that block hash), returns the header's hash as the app
//     hash and the validator set's changes as validator updates; Commit
//     writes the block in one synced batch (store.Commit) before it
//     returns. A write the disk refuses (store.ErrFailed) stops the node:
//     Node.Run returns the store's error.
//   - Info returns the last committed height and header hash, so that
//     CometBFT's handshake replays the blocks the store lacks after a
//     crash.
//
// The block's height and time are CometBFT's (BFT time); the ledger's own
// header chain continues as with the embedded node.
//
// # Network checkpoints
//
// Each validator signs the checkpoint of the block it votes for with its
// note key, as its vote extension (ExtendVote; VerifyVoteExtension checks
// it against the validator's note key in state). The next proposer puts
// the signatures it received first in its block (see signaturesMagic);
// every node checks them in ProcessProposal against the validator set in
// state and stores them beside the checkpoint with that block. A
// checkpoint signed by more than two thirds of the voting power is the
// network's (verify.NetworkCheckpoint); GET /log/checkpoint serves the
// newest one.
//
// # State sync
//
// Every snapshot_interval blocks, after Commit, the App takes a Pebble
// snapshot of the store and writes its export (all but the node-local
// keys: store.NodeLocal) in the background, in chunks that ListSnapshots
// and LoadSnapshotChunk serve to peers. A new node restores one with
// OfferSnapshot and ApplySnapshotChunk, checking each chunk against the
// snapshot's hashes and, before accepting, the head against the app hash
// CometBFT's light client verified, and the whole store with node.Fsck.
// docs/spec/state-sync.md is the format.
//
// # Running
//
// Node runs CometBFT in this process with App, and serves the API's
// driver interface (api.Driver). Its CometBFT files live under
// <home>/cometbft; Config, read from <home>/network.json, sets its
// peers and timeouts; Testnet writes a whole local network.
package cometbft

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/verify"
)

// App is Agora's ABCI application over a store initialised from the
// genesis (node.Init). CometBFT calls it on four connections: the
// consensus calls (InitChain, PrepareProposal, ProcessProposal,
// ExtendVote, VerifyVoteExtension, FinalizeBlock, Commit) one at a time,
// CheckTx concurrently with them, Info, and the snapshot calls
// (ListSnapshots, LoadSnapshotChunk, and OfferSnapshot and
// ApplySnapshotChunk, which only a node restoring a snapshot receives,
// before it applies any block).
type App struct {
	abci.BaseApplication

	exec    *ledger.Executor
	store   *store.Store
	genesis *ledger.Genesis
	signer  note.Signer
	log     *slog.Logger
	clock   func() time.Time
	m       *metrics

	// Only the consensus connection reads and writes these.
	proposals map[string]*proposal // processed proposals of the next height, by block hash
	prepared  *proposal            // the last block this node proposed
	final     *proposal            // the decided block, until Commit

	mu       sync.Mutex
	head     ledger.Header
	pending  map[string]uint64    // address -> next sequence counting the mempool
	admitted map[[32]byte]*pooled // the mempool's transactions, by SHA-256
	// freeTxs and freeBytes count the admitted transactions none of whose
	// signers has standing, and their bytes (ledger.Params.FreeBacklog).
	freeTxs, freeBytes uint64
	inPool             map[tx.ID]bool              // the same, by ID
	gen                uint64                      // commits so far, for pooled.gen
	waiters            map[tx.ID][]chan waitResult // Wait's callers
	dropped            map[tx.ID]error             // why recent transactions left the mempool
	order              []tx.ID                     // dropped's keys, oldest first
	signed             *node.Witnessed             // the newest network checkpoint
	vals               map[string]ledger.Validator // validators in state by consensus address
	stopped            error                       // why the app commits nothing more (node.ErrStopped)
	failure            error                       // the store's failure (store.ErrFailed), once it has one
	failed             chan struct{}               // closed with failure set

	snaps     *snapshots // nil: none taken or served
	restoring *restore   // the snapshot being restored by state sync
}

// proposal is a block applied by ProcessProposal (or PrepareProposal).
type proposal struct {
	height uint64
	time   time.Time
	txs    [][]byte // the CometBFT block's transactions
	out    *ledger.Outcome
	sigs   *signatures // nil if the block carries none
}

// pooled is a transaction in the mempool, with the generation (a.gen) in
// which it was last admitted or rechecked. CometBFT rechecks every
// transaction it still holds after each commit; one not rechecked since
// the previous commit has left its mempool without this App hearing of
// it (it was evicted), and Commit forgets it.
type pooled struct {
	c   *ledger.Checked
	gen uint64
	// free is set when none of c's signers has standing: it counts in
	// the App's free backlog (ledger.Params.FreeBacklog).
	free bool
}

type waitResult struct {
	c   node.Committed
	err error
}

// NewApp returns the application over st, which node.Init initialised
// from g. signer is the node's note key: it signs the checkpoint of every
// block the node commits and, for a validator, its vote extensions.
// clock is read only to judge the expiry of transactions at admission.
// reg, if not nil, receives the app's metrics.
func NewApp(st *store.Store, exec *ledger.Executor, g *ledger.Genesis, signer note.Signer, log *slog.Logger, clock func() time.Time, reg prometheus.Registerer) (*App, error) {
	a := &App{
		exec: exec, store: st, genesis: g, signer: signer, log: log, clock: clock, m: newMetrics(reg),
		proposals: map[string]*proposal{},
		pending:   map[string]uint64{}, admitted: map[[32]byte]*pooled{},
		inPool: map[tx.ID]bool{}, waiters: map[tx.ID][]chan waitResult{}, dropped: map[tx.ID]error{},
		failed: make(chan struct{}),
	}
	if err := a.reload(); err != nil {
		return nil, err
	}
	exec.Admitted = a.isAdmitted
	return a, nil
}

// reload reads what the App keeps of the committed ledger: the head, the
// validators and the newest network checkpoint. NewApp does, and so does a
// restore by state sync.
func (a *App) reload() error {
	h, ok, err := a.store.Head()
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("store is not initialised from the genesis")
	}
	hdr, err := a.store.Header(h)
	if err != nil {
		return err
	}
	if err := a.loadValidators(); err != nil {
		return err
	}
	signed, err := a.recallSigned()
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.head, a.signed = *hdr, signed
	a.mu.Unlock()
	a.m.Height.Set(float64(hdr.Height))
	if signed != nil {
		a.m.signed.Set(float64(signed.Height))
	}
	return nil
}

// loadValidators reads the validator set in committed state.
func (a *App) loadValidators() error {
	vs, err := ledger.Validators(a.store)
	if err != nil {
		return err
	}
	m := map[string]ledger.Validator{}
	for _, v := range vs {
		m[string(cmted25519.PubKey(v.PubKey).Address())] = v
	}
	a.mu.Lock()
	a.vals = m
	a.mu.Unlock()
	return nil
}

// recallSigned finds the newest stored checkpoint that more than two
// thirds of the current validators' power signed, if any.
func (a *App) recallSigned() (*node.Witnessed, error) {
	vs, err := ledger.Validators(a.store)
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	var signed *node.Witnessed
	scanned := 0
	err = a.store.ScanCosignatures(func(h uint64, lines []byte) (bool, error) {
		scanned++
		cp, err := a.store.Checkpoint(h)
		if err != nil {
			return false, err
		}
		c, _, err := verify.NetworkCheckpoint(append(cp, lines...), vs)
		if err == nil {
			signed = &node.Witnessed{Height: h, LogSize: c.Size}
			return false, nil
		}
		return scanned < 100, nil
	})
	return signed, err
}

func (a *App) isAdmitted(sum [32]byte) *ledger.Checked {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p := a.admitted[sum]; p != nil {
		return p.c
	}
	return nil
}

// Info implements abci.Application: the last committed block.
func (a *App) Info(context.Context, *abci.RequestInfo) (*abci.ResponseInfo, error) {
	h := a.Head()
	res := &abci.ResponseInfo{Data: "agora", Version: "1", AppVersion: 1, LastBlockHeight: int64(h.Height)}
	if h.Height > 0 {
		hash := h.Hash()
		res.LastBlockAppHash = hash[:]
	}
	return res, nil
}

// InitChain implements abci.Application. The store already holds the
// genesis state (node.Init); InitChain runs the genesis again to check
// the store began from it, and checks that CometBFT's genesis is the
// same network: chain id and validators with their powers.
func (a *App) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	if req.ChainId != a.exec.ChainID() {
		return nil, fmt.Errorf("CometBFT's genesis is for chain %q, Agora's for %q", req.ChainId, a.exec.ChainID())
	}
	if req.InitialHeight > 1 {
		return nil, fmt.Errorf("CometBFT's genesis starts at height %d; Agora's chain starts at 1", req.InitialHeight)
	}
	want := map[string]int64{}
	for _, v := range a.genesis.Validators {
		want[string(v.PubKey)] = int64(v.Power)
	}
	if len(req.Validators) != len(want) {
		return nil, fmt.Errorf("CometBFT's genesis has %d validators, Agora's %d", len(req.Validators), len(want))
	}
	for _, v := range req.Validators {
		pk := v.PubKey.GetEd25519()
		if p, ok := want[string(pk)]; !ok || p != v.Power {
			return nil, fmt.Errorf("CometBFT's genesis validator %X (power %d) is not one of Agora's genesis validators", pk, v.Power)
		}
	}
	h := a.Head()
	if h.Height != 0 {
		return nil, fmt.Errorf("InitChain on a store at height %d", h.Height)
	}
	out, err := a.exec.InitGenesis(a.genesis)
	if err != nil {
		return nil, err
	}
	if out.Header.Hash() != h.Hash() {
		return nil, fmt.Errorf("the store did not begin from this genesis")
	}
	if !req.Time.After(time.UnixMilli(h.Time)) {
		return nil, fmt.Errorf("CometBFT's genesis time %s must be after Agora's %s", req.Time, time.UnixMilli(h.Time).UTC())
	}
	hash := h.Hash()
	return &abci.ResponseInitChain{AppHash: hash[:]}, nil
}

// CheckTx implements abci.Application: mempool admission, and after a
// commit the recheck of what still waits.
func (a *App) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	var id tx.ID
	var err error
	if req.Type == abci.CheckTxType_Recheck {
		err = a.recheck(req.Tx)
	} else {
		id, err = a.admit(req.Tx)
	}
	if errors.Is(err, ledger.ErrStorage) {
		return nil, err
	}
	if err != nil {
		code := ledger.Code(err)
		a.m.TxsRejected.WithLabelValues(code).Inc()
		return &abci.ResponseCheckTx{Code: codeNumber(code), Codespace: code, Log: err.Error()}, nil
	}
	return &abci.ResponseCheckTx{Data: id[:]}, nil // the admitted transaction's ID
}

// codeNumber is the ABCI code of a stable code: its place in
// ledger.Codes (never 0, which is "ok").
func codeNumber(code string) uint32 {
	if i := slices.Index(ledger.Codes(), code); i > 0 {
		return uint32(i)
	}
	return uint32(len(ledger.Codes()))
}

// admit runs node.Submit's checks on a new transaction, and returns its
// ID.
func (a *App) admit(raw []byte) (tx.ID, error) {
	if isSignatures(raw) {
		return tx.ID{}, fmt.Errorf("%w: checkpoint signatures are not a transaction", tx.ErrMalformed)
	}
	c, err := a.exec.Check(raw, false)
	if err != nil {
		return tx.ID{}, err
	}
	params, err := ledger.GetParams(a.store)
	if err != nil {
		return c.ID, err
	}
	if err := params.CheckSize(raw); err != nil {
		return c.ID, err
	}
	head := a.Head()
	if err := ledger.CheckExpiry(c.Tx, a.nextBlock(head)); err != nil {
		return c.ID, err
	}
	if err := tx.Verify(c.Signed, c.Tx); err != nil {
		return c.ID, err
	}
	standing, err := a.exec.CheckStanding(a.store, params, c, a.nextBlock(head).Time)
	if err != nil {
		return c.ID, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped != nil {
		return c.ID, a.stopped
	}
	if a.inPool[c.ID] {
		return c.ID, fmt.Errorf("%w: transaction %s is already waiting in the mempool", ledger.ErrConflict, c.ID)
	}
	if maxTxs, maxBytes := params.FreeBacklog(); !standing && (a.freeTxs >= maxTxs || a.freeBytes+uint64(len(raw)) > maxBytes) {
		return c.ID, fmt.Errorf("%w: %d transactions whose signers lack standing wait already, all the free quota takes in %d blocks", node.ErrBusy, a.freeTxs, ledger.FreeBacklogBlocks)
	}
	if err := a.takeSequences(c); err != nil {
		// A committed transaction has used its signers' sequences, so
		// it fails here: say so rather than only that the sequence is
		// not the next. (Looking it up only now spares every admission
		// an index read.)
		if errors.Is(err, ledger.ErrSequence) {
			if done, herr := a.store.HasTx(c.ID); herr != nil || done {
				if herr == nil {
					herr = fmt.Errorf("%w: transaction %s is already committed", ledger.ErrConflict, c.ID)
				}
				return c.ID, herr
			}
		}
		return c.ID, err
	}
	a.admitted[c.Sum] = &pooled{c: c, gen: a.gen, free: !standing}
	if !standing {
		a.freeTxs++
		a.freeBytes += uint64(len(raw))
	}
	a.inPool[c.ID] = true
	delete(a.dropped, c.ID)
	return c.ID, nil
}

// takeSequences checks that c carries each signer's next sequence
// counting the mempool, and counts it. a.mu held.
func (a *App) takeSequences(c *ledger.Checked) error {
	for _, s := range c.Tx.Signers {
		want, ok := a.pending[s.Key.Address()]
		if !ok {
			acct, err := ledger.GetAccount(a.store, s.Key)
			if err != nil {
				return err
			}
			want = acct.Sequence
		}
		if s.Sequence != want {
			return fmt.Errorf("%w: signer %s must use sequence %d, transaction has %d", ledger.ErrSequence, s.Key.Address(), want, s.Sequence)
		}
	}
	for _, s := range c.Tx.Signers {
		a.pending[s.Key.Address()] = s.Sequence + 1
	}
	return nil
}

// recheck checks again, after a commit, a transaction still waiting: its
// expiry, its sequences, and, if no signer has standing, that a block
// could still hold it (governance may have lowered the free quota). One
// that fails is dropped. One left out of the last block because the
// block's free quota was used waits on.
func (a *App) recheck(raw []byte) error {
	sum := sha256.Sum256(raw)
	a.mu.Lock()
	p := a.admitted[sum]
	a.mu.Unlock()
	if p == nil { // not admitted by this process (it restarted): admit it anew
		_, err := a.admit(raw)
		return err
	}
	head := a.Head()
	next := a.nextBlock(head)
	err := ledger.CheckExpiry(p.c.Tx, next)
	if err == nil {
		var params ledger.Params
		if params, err = ledger.GetParams(a.store); err == nil {
			_, err = a.exec.CheckStanding(a.store, params, p.c, next.Time)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err == nil {
		err = a.takeSequences(p.c)
	}
	if errors.Is(err, ledger.ErrStorage) {
		return err
	}
	if err != nil {
		a.drop(p.c, err)
		return err
	}
	p.gen = a.gen
	return nil
}

// maxDropped bounds how many dropped transactions the app remembers.
const maxDropped = 10000

// drop forgets a transaction from the mempool's bookkeeping, remembers
// why, and tells its waiters. a.mu held.
func (a *App) drop(c *ledger.Checked, err error) {
	delete(a.inPool, c.ID)
	a.forget(c.Sum)
	if _, ok := a.dropped[c.ID]; !ok {
		if len(a.order) >= maxDropped {
			delete(a.dropped, a.order[0])
			a.order = a.order[1:]
		}
		a.order = append(a.order, c.ID)
	}
	a.dropped[c.ID] = err
	a.notify(c.ID, waitResult{err: err})
}

// forget removes the admitted transaction with SHA-256 sum, and its
// place in the free backlog. a.mu held.
func (a *App) forget(sum [32]byte) {
	if p := a.admitted[sum]; p != nil && p.free {
		a.freeTxs--
		a.freeBytes -= uint64(len(p.c.Raw))
	}
	delete(a.admitted, sum)
}

// notify delivers a result to the waiters of id. a.mu held.
func (a *App) notify(id tx.ID, r waitResult) {
	for _, w := range a.waiters[id] {
		w <- r // buffered, one result per waiter
	}
	delete(a.waiters, id)
}

// nextBlock is the height and earliest time of the next block, to judge
// expiry at admission: the wall clock, or just after the head.
func (a *App) nextBlock(head ledger.Header) ledger.Block {
	t := a.clock().UTC().Truncate(time.Millisecond)
	if t.UnixMilli() <= head.Time {
		t = time.UnixMilli(head.Time + 1).UTC()
	}
	return ledger.Block{ChainID: a.exec.ChainID(), Height: head.Height + 1, Time: t}
}

// block is the ledger block CometBFT's height and time make.
func (a *App) block(height int64, t time.Time) ledger.Block {
	return ledger.Block{ChainID: a.exec.ChainID(), Height: uint64(height), Time: t.UTC()}
}

// txCost is what a transaction takes of a block's MaxTxBytes: its bytes
// and their protobuf framing.
func txCost(b []byte) int64 { return int64(len(b)) + 8 }

// PrepareProposal implements abci.Application: the signatures of the
// previous checkpoint, then the mempool's transactions that are valid in
// this block, within the block limits and the free quota for signers
// without standing. What Apply leaves out stays in CometBFT's mempool,
// and is proposed again after the recheck that follows the commit.
func (a *App) PrepareProposal(_ context.Context, req *abci.RequestPrepareProposal) (*abci.ResponsePrepareProposal, error) {
	head := a.Head()
	if uint64(req.Height) != head.Height+1 {
		return nil, fmt.Errorf("proposal for height %d after block %d", req.Height, head.Height)
	}
	budget := req.MaxTxBytes
	var txs [][]byte
	sigs, err := a.collect(&head, &req.LocalLastCommit)
	if err != nil {
		return nil, err
	}
	if sigs != nil {
		enc := sigs.encode()
		if txCost(enc) <= budget {
			txs = append(txs, enc)
			budget -= txCost(enc)
		} else {
			sigs = nil
		}
	}
	var cands [][]byte
	for _, t := range req.Txs {
		if isSignatures(t) {
			continue
		}
		if txCost(t) > budget {
			break
		}
		budget -= txCost(t)
		cands = append(cands, t)
	}
	start := time.Now()
	out, err := a.exec.Apply(a.store, &head, a.block(req.Height, req.Time), cands, true)
	if err != nil {
		return nil, err
	}
	a.m.ApplyTime.Observe(time.Since(start).Seconds())
	txs = append(txs, out.Txs...)
	a.prepared = &proposal{height: uint64(req.Height), time: req.Time, txs: txs, out: out, sigs: sigs}
	return &abci.ResponsePrepareProposal{Txs: txs}, nil
}

// collect gathers the vote extensions of the last commit that are
// signatures of head's checkpoint by validators in state.
func (a *App) collect(head *ledger.Header, commit *abci.ExtendedCommitInfo) (*signatures, error) {
	if head.Height == 0 {
		return nil, nil
	}
	vals, err := ledger.Validators(a.store)
	if err != nil {
		return nil, err
	}
	chk := newLineChecker(head, vals)
	seen := map[string]bool{}
	s := &signatures{height: head.Height}
	for _, v := range commit.Votes {
		if v.BlockIdFlag != cmtproto.BlockIDFlagCommit || len(v.VoteExtension) == 0 {
			continue
		}
		id, err := chk.check(v.VoteExtension)
		if err != nil || seen[id] {
			continue
		}
		seen[id] = true
		s.lines = append(s.lines, v.VoteExtension)
	}
	if len(s.lines) == 0 {
		return nil, nil
	}
	slices.SortFunc(s.lines, bytes.Compare)
	return s, nil
}

// process applies a proposed block after head: its checkpoint signatures
// must be valid signatures of head's checkpoint by validators in state,
// and every transaction valid. An error wrapping ErrStorage is the
// store's; any other means the block is invalid.
func (a *App) process(head *ledger.Header, height int64, t time.Time, txs [][]byte) (*proposal, error) {
	if uint64(height) != head.Height+1 {
		return nil, fmt.Errorf("%w: height %d after block %d", ledger.ErrInvalidBlock, height, head.Height)
	}
	p := &proposal{height: uint64(height), time: t, txs: txs}
	rest := txs
	if len(txs) > 0 && isSignatures(txs[0]) {
		sigs, err := decodeSignatures(txs[0])
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ledger.ErrInvalidBlock, err)
		}
		if sigs.height != head.Height {
			return nil, fmt.Errorf("%w: signatures of checkpoint %d in block %d", ledger.ErrInvalidBlock, sigs.height, height)
		}
		vals, err := ledger.Validators(a.store)
		if err != nil {
			return nil, err
		}
		if err := newLineChecker(head, vals).checkAll(sigs); err != nil {
			return nil, fmt.Errorf("%w: %v", ledger.ErrInvalidBlock, err)
		}
		p.sigs = sigs
		rest = txs[1:]
	}
	if pp := a.prepared; pp != nil && pp.height == p.height && pp.time.Equal(t) && slices.EqualFunc(pp.txs, txs, bytes.Equal) {
		p.out = pp.out // this node proposed the block: it applied it already
		return p, nil
	}
	start := time.Now()
	out, err := a.exec.Apply(a.store, head, a.block(height, t), rest, false)
	if err != nil {
		return nil, err
	}
	a.m.ApplyTime.Observe(time.Since(start).Seconds())
	p.out = out
	return p, nil
}

// ProcessProposal implements abci.Application: it accepts a block only if
// process does.
func (a *App) ProcessProposal(_ context.Context, req *abci.RequestProcessProposal) (*abci.ResponseProcessProposal, error) {
	head := a.Head()
	p, err := a.process(&head, req.Height, req.Time, req.Txs)
	if errors.Is(err, ledger.ErrStorage) {
		return nil, err
	}
	if err != nil {
		a.m.rejectedProposals.Inc()
		a.log.Warn("rejected a proposal", "height", req.Height, "err", err)
		return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_REJECT}, nil
	}
	a.proposals[string(req.Hash)] = p
	return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_ACCEPT}, nil
}

// proposalFor returns the processed proposal with the block hash, or
// processes it.
func (a *App) proposalFor(hash []byte, height int64, t time.Time, txs [][]byte) (*proposal, error) {
	if p := a.proposals[string(hash)]; p != nil {
		return p, nil
	}
	head := a.Head()
	p, err := a.process(&head, height, t, txs)
	if err != nil {
		return nil, err
	}
	a.proposals[string(hash)] = p
	return p, nil
}

// ExtendVote implements abci.Application: the validator's signature of
// the checkpoint of the block it votes for.
func (a *App) ExtendVote(_ context.Context, req *abci.RequestExtendVote) (*abci.ResponseExtendVote, error) {
	p, err := a.proposalFor(req.Hash, req.Height, req.Time, req.Txs)
	if errors.Is(err, ledger.ErrStorage) {
		return nil, err
	}
	if err != nil {
		a.log.Warn("no checkpoint to sign for a block voted for", "height", req.Height, "err", err)
		return &abci.ResponseExtendVote{}, nil
	}
	line, err := signLine(&p.out.Header, a.signer)
	if err != nil {
		return nil, err
	}
	return &abci.ResponseExtendVote{VoteExtension: line}, nil
}

// VerifyVoteExtension implements abci.Application: a non-empty extension
// must be the validator's signature of the block's checkpoint. An
// extension it cannot check (a block it has not processed, a validator
// not in its state) is accepted: PrepareProposal and ProcessProposal
// check every signature a block carries.
func (a *App) VerifyVoteExtension(_ context.Context, req *abci.RequestVerifyVoteExtension) (*abci.ResponseVerifyVoteExtension, error) {
	accept := &abci.ResponseVerifyVoteExtension{Status: abci.ResponseVerifyVoteExtension_ACCEPT}
	reject := &abci.ResponseVerifyVoteExtension{Status: abci.ResponseVerifyVoteExtension_REJECT}
	if len(req.VoteExtension) == 0 {
		return accept, nil
	}
	if len(req.VoteExtension) > maxLine {
		return reject, nil
	}
	p := a.proposals[string(req.Hash)]
	a.mu.Lock()
	v, ok := a.vals[string(req.ValidatorAddress)]
	a.mu.Unlock()
	if p == nil || !ok {
		return accept, nil
	}
	if _, err := newLineChecker(&p.out.Header, []ledger.Validator{v}).check(req.VoteExtension); err != nil {
		a.log.Warn("refused a vote extension", "height", req.Height, "validator", v.Name, "err", err)
		return reject, nil
	}
	return accept, nil
}

// FinalizeBlock implements abci.Application: it applies the decided
// block, reusing ProcessProposal's outcome for it.
func (a *App) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	if err := a.store.Failed(); err != nil {
		return nil, a.fail(err)
	}
	p, err := a.proposalFor(req.Hash, req.Height, req.Time, req.Txs)
	if err != nil {
		return nil, fmt.Errorf("decided block %d cannot be applied: %w", req.Height, err)
	}
	a.final = p
	res := &abci.ResponseFinalizeBlock{TxResults: make([]*abci.ExecTxResult, 0, len(req.Txs))}
	if p.sigs != nil {
		res.TxResults = append(res.TxResults, &abci.ExecTxResult{Info: fmt.Sprintf("signatures of checkpoint %d", p.sigs.height)})
	}
	for _, r := range p.out.Results {
		er := &abci.ExecTxResult{Codespace: r.Code}
		if !r.OK() {
			er.Code, er.Log = codeNumber(r.Code), r.Error
		}
		res.TxResults = append(res.TxResults, er)
	}
	for _, v := range p.out.ValidatorUpdates {
		res.ValidatorUpdates = append(res.ValidatorUpdates, abci.Ed25519ValidatorUpdate(v.PubKey, int64(v.Power)))
	}
	hash := p.out.Header.Hash()
	res.AppHash = hash[:]
	return res, nil
}

// Commit implements abci.Application: it writes the decided block, its
// signed checkpoint and the previous checkpoint's signatures in one
// synced batch, and only then reports the block committed.
func (a *App) Commit(context.Context, *abci.RequestCommit) (*abci.ResponseCommit, error) {
	p := a.final
	if p == nil {
		return nil, fmt.Errorf("commit without a finalized block")
	}
	a.final, a.prepared = nil, nil
	clear(a.proposals)
	out := p.out
	signed, err := tlog.Sign(out.Header.Checkpoint(), a.signer)
	if err != nil {
		return nil, err
	}
	var lines []byte
	var netSigned *node.Witnessed
	if p.sigs != nil {
		if lines, netSigned, err = a.newSignatures(p.sigs); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	if err := a.store.CommitCosigned(out, signed, p.height-1, lines); err != nil {
		if errors.Is(err, store.ErrFailed) {
			return nil, a.fail(err)
		}
		return nil, err
	}
	took := time.Since(start)
	a.snaps.take(a.store, out.Header.Height)
	if len(out.ValidatorUpdates) > 0 {
		if err := a.loadValidators(); err != nil {
			return nil, err
		}
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	a.head = out.Header
	if netSigned != nil {
		a.signed = netSigned
		a.m.signed.Set(float64(netSigned.Height))
	}
	a.m.Committed(out, took)
	for sum, p := range a.admitted {
		if p.gen < a.gen { // not rechecked after the previous commit: evicted
			a.forget(sum)
			delete(a.inPool, p.c.ID)
		}
	}
	a.gen++
	for idx, raw := range out.Txs {
		id := out.IDs[idx]
		delete(a.inPool, id)
		a.forget(sha256.Sum256(raw))
		leaf := out.Header.LogSize - uint64(len(out.Txs)) + uint64(idx)
		a.notify(id, waitResult{c: node.Committed{Height: out.Header.Height, Index: idx, Leaf: leaf, Result: out.Results[idx], Header: out.Header}})
	}
	clear(a.pending) // the recheck that follows counts what still waits
	if len(out.Txs) > 0 {
		a.log.Debug("committed block", "height", out.Header.Height, "txs", len(out.Txs))
	}
	return &abci.ResponseCommit{}, nil
}

// fail stops the app for good on the store's failure err (store.ErrFailed:
// the disk refused a write, and the store refuses every later one, so
// this node cannot commit the decided block). It logs err, answers every
// waiter and later submission with it (as node.ErrStopped), and closes
// a.failed, on which Node.Run stops CometBFT and returns err. It returns
// err, for CometBFT, which halts its consensus on it: the block stays
// decided in CometBFT's store, and the restarted node's handshake applies
// it again.
func (a *App) fail(err error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.failure != nil {
		return a.failure
	}
	a.log.Error("the node stops", "err", err)
	a.failure = err
	a.halt(fmt.Errorf("%w: %v", node.ErrStopped, err))
	close(a.failed)
	return err
}

// newSignatures returns the lines of sigs not yet stored with their
// checkpoint, and the checkpoint if with them it becomes the network's.
func (a *App) newSignatures(sigs *signatures) ([]byte, *node.Witnessed, error) {
	cp, err := a.store.Checkpoint(sigs.height)
	if err != nil {
		return nil, nil, err
	}
	old, err := a.store.Cosignatures(sigs.height)
	if err != nil {
		return nil, nil, err
	}
	have := string(cp) + string(old)
	var lines []byte
	stored := strings.SplitAfter(have, "\n")
	for _, l := range sigs.lines {
		if !slices.Contains(stored, string(l)) {
			lines = append(lines, l...)
		}
	}
	vals, err := ledger.Validators(a.store)
	if err != nil {
		return nil, nil, err
	}
	c, _, err := verify.NetworkCheckpoint([]byte(have+string(lines)), vals)
	if err != nil {
		return lines, nil, nil // not (yet) signed by enough of the validators
	}
	return lines, &node.Witnessed{Height: sigs.height, LogSize: c.Size}, nil
}

// Head returns the header of the last committed block.
func (a *App) Head() ledger.Header {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.head
}
