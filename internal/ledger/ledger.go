// Package ledger implements Agora's deterministic state machine: blocks of
// signed transactions applied in order by modules to a key-value state.
//
// # The path of a transaction
//
// A driver (the embedded node, or the CometBFT adapter) hands Apply the
// state before a block, the block's height and time, and its transactions.
// For each transaction Apply checks, in order: its size against the
// governed max_tx_bytes (Params.CheckSize), the envelope decodes and
// validates (package tx), the chain id, that a module decodes the body,
// the signatures, the expiry against the block, the signers' sequence
// numbers, and, if no signer has standing, that the block's free quota
// has room (quota.go). A transaction that fails any of these checks is not part of a
// valid block: when proposing, Apply drops it; when validating, the block
// is refused. Otherwise the signers' sequence numbers advance and the
// module executes the message: on success its writes join the block's, on
// failure they vanish and the failure's code and reason are the
// transaction's result. Either way the transaction is in the block, so it
// can never be applied again.
//
// Apply reads through Reader and returns the block's writes in key order
// with the block's commitments: the new root of the state map (package
// smt) and the log (package tlog) extended by one entry per transaction,
// with the node writes of both. It writes nothing itself. It uses no
// clock, randomness, goroutines or map order, so replaying the blocks from
// genesis reproduces every header, and so every root.
//
// # Pending actions
//
// The ledger's own transactions (module "ledger") let a principal that
// acts by the approvals of several keys — a governance body, a custody
// account — act over time: "propose" posts a module's message to be
// executed as the principal, "approve" adds a member's approval, and the
// approval that meets the principal's rule (the module's Consenter)
// executes the message. pending.go describes them.
//
// # The scheduler
//
// Work that falls due at a block time rather than in a transaction — a
// vote closing, a pending action expiring — is scheduled with the ledger
// (Context.Schedule, under a key of the module's own, and Context.Cancel).
// After each block's transactions the executor runs what the block's time
// has reached through the module's Scheduled.Due, soonest first, at most
// MaxDuePerBlock a block for all modules together; a failing callback is
// recorded with its entry and changes nothing else. scheduler.go
// describes it.
//
// # State layout
//
// Each module owns the namespace "<module>/". The ledger itself owns
// "ledger/": "ledger/params" and "ledger/acct/<address>", an Account per
// key that has signed or was named in genesis; "ledger/val/<key>", the
// validators; "ledger/pending…", the pending actions; and "ledger/sched/…",
// the scheduler's entries.
package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"github.com/agora-ledger/agora/internal/smt"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/tx"
)

// Namespace is the ledger's own state namespace; no module may take it.
const Namespace = "ledger"

// Params are the ledger's own parameters, held in state.
type Params struct {
	// MaxBlockTxs bounds the transactions in a block.
	MaxBlockTxs uint64 `cbor:"1,keyasint" json:"max_block_txs"`
	// MaxBlockBytes bounds the summed size of a block's transactions.
	MaxBlockBytes uint64 `cbor:"2,keyasint" json:"max_block_bytes"`
	// MaxTxBytes, if not zero, bounds one transaction's envelope below the
	// protocol's tx.MaxSize; zero leaves tx.MaxSize the bound. Admission
	// refuses a larger transaction and a block holding one is invalid.
	MaxTxBytes uint64 `cbor:"3,keyasint,omitempty" json:"max_tx_bytes,omitempty"`
	// FreeBlockTxs and FreeBlockBytes, if set, bound the transactions of a
	// block whose signers all lack standing (quota.go): at most
	// FreeBlockTxs of them, of at most FreeBlockBytes bytes together; 0
	// admits none. Unset, DefaultFreeBlockTxs and DefaultFreeBlockBytes
	// apply. Admission refuses such a transaction that no block could
	// hold; a block over the quota is invalid.
	FreeBlockTxs   *uint64 `cbor:"4,keyasint,omitempty" json:"free_block_txs,omitempty"`
	FreeBlockBytes *uint64 `cbor:"5,keyasint,omitempty" json:"free_block_bytes,omitempty"`
}

// minTxBytes is the least MaxTxBytes governance may set: room for a
// transaction with every signer of the largest keys and signatures.
const minTxBytes = 4096

// TxBytes returns the largest envelope the parameters admit.
func (p Params) TxBytes() uint64 {
	if p.MaxTxBytes == 0 {
		return tx.MaxSize
	}
	return p.MaxTxBytes
}

// CheckSize refuses an envelope larger than the parameters admit, with an
// error wrapping tx.ErrTooLarge. Admission and inclusion share it.
func (p Params) CheckSize(raw []byte) error {
	if uint64(len(raw)) > p.TxBytes() {
		return fmt.Errorf("%w: transaction is %d bytes, the ledger parameters admit at most %d (max_tx_bytes)", tx.ErrTooLarge, len(raw), p.TxBytes())
	}
	return nil
}

// DefaultParams are the parameters a genesis gets when it names none.
func DefaultParams() Params {
	return Params{MaxBlockTxs: 10000, MaxBlockBytes: 16 << 20}
}

// Validate checks the parameters.
func (p Params) Validate() error {
	if p.MaxBlockTxs == 0 || p.MaxBlockBytes < tx.MaxSize {
		return fmt.Errorf("%w: params: max_block_txs must be positive and max_block_bytes at least %d", ErrInvalid, tx.MaxSize)
	}
	if p.MaxTxBytes != 0 && (p.MaxTxBytes < minTxBytes || p.MaxTxBytes > tx.MaxSize) {
		return fmt.Errorf("%w: params: max_tx_bytes must be 0 (the protocol's %d) or from %d to %d", ErrInvalid, tx.MaxSize, minTxBytes, tx.MaxSize)
	}
	return nil
}

// Account is the ledger's record of a key: its next sequence number and,
// for keys named in genesis, a label.
type Account struct {
	Key      tx.PublicKey `cbor:"1,keyasint" json:"key"`
	Sequence uint64       `cbor:"2,keyasint" json:"sequence"`
	Label    string       `cbor:"3,keyasint,omitempty" json:"label,omitempty"`
}

// Executor applies blocks with a fixed set of modules.
type Executor struct {
	chainID string
	mods    map[string]Module
	order   []string
	actions *Actions
	// Admitted, if set, returns the result of Check(raw, true) for the
	// envelope whose SHA-256 is sum if the caller (mempool admission)
	// already made it, letting Apply skip decoding and verifying the
	// transaction again; nil otherwise. It must only return what Check
	// returned for those exact bytes.
	Admitted func(sum [32]byte) *Checked
}

// NewExecutor returns an executor for chainID with the given modules, in
// the order their genesis sections load.
func NewExecutor(chainID string, mods ...Module) (*Executor, error) {
	if !tx.ValidChainID(chainID) {
		return nil, fmt.Errorf("invalid chain id %q", chainID)
	}
	e := &Executor{chainID: chainID, mods: map[string]Module{}}
	for _, m := range mods {
		n := m.Name()
		if n == Namespace || e.mods[n] != nil {
			return nil, fmt.Errorf("module name %q is taken", n)
		}
		e.mods[n] = m
		e.order = append(e.order, n)
	}
	e.actions = NewActions(mods...)
	return e, nil
}

// Actions returns the governance action types the executor's modules accept.
func (e *Executor) Actions() *Actions { return e.actions }

// ChainID returns the chain the executor serves.
func (e *Executor) ChainID() string { return e.chainID }

// Modules returns the modules in registration order.
func (e *Executor) Modules() []Module {
	out := make([]Module, len(e.order))
	for i, n := range e.order {
		out[i] = e.mods[n]
	}
	return out
}

// Checked is a transaction that passed the stateless checks.
type Checked struct {
	Raw    []byte
	Sum    [32]byte // SHA-256 of Raw
	ID     tx.ID
	Signed *tx.Signed
	Tx     *tx.Tx
	Msg    Msg
}

// Check runs every check that needs no state: decoding, validation, the
// chain id, the module's decoding of the body and, if verify is set, the
// signatures. Mempool admission and Apply share it.
func (e *Executor) Check(raw []byte, verify bool) (*Checked, error) {
	s, t, err := tx.Decode(raw)
	if err != nil {
		return nil, err
	}
	if t.ChainID != e.chainID {
		return nil, fmt.Errorf("%w: transaction is for %q, this ledger is %q", ErrWrongChain, t.ChainID, e.chainID)
	}
	var msg Msg
	if t.Module == Namespace { // the ledger's own transactions: pending actions
		msg, err = e.decodeLedger(t.Type, t.Body)
	} else if m := e.mods[t.Module]; m != nil {
		msg, err = m.Decode(t.Type, t.Body)
	} else {
		return nil, fmt.Errorf("%w %q", ErrUnknownModule, t.Module)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Module, err)
	}
	c := &Checked{Raw: raw, Sum: sha256.Sum256(raw), ID: s.ID(), Signed: s, Tx: t, Msg: msg}
	if verify {
		if err := tx.Verify(s, t); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// CheckExpiry reports whether t may still be included in block b.
func CheckExpiry(t *tx.Tx, b Block) error {
	if t.ExpiryHeight != 0 && b.Height > t.ExpiryHeight {
		return fmt.Errorf("%w: expiry height %d passed (block %d)", ErrExpired, t.ExpiryHeight, b.Height)
	}
	if t.ExpiryTime != 0 && b.Time.UnixMilli() > t.ExpiryTime {
		return fmt.Errorf("%w: expiry time %s passed (block time %s)", ErrExpired,
			time.UnixMilli(t.ExpiryTime).UTC().Format(time.RFC3339Nano), b.Time.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

func acctKey(addr string) []byte { return []byte(Namespace + "/acct/" + addr) }

// GetAccount reads the account of key from r; a key never seen has
// sequence 0.
func GetAccount(r StateReader, key tx.PublicKey) (Account, error) {
	b, ok, err := r.Get(acctKey(key.Address()))
	if err != nil {
		return Account{}, fmt.Errorf("%w: %v", ErrStorage, err)
	}
	if !ok {
		return Account{Key: key}, nil
	}
	var a Account
	if err := tx.Unmarshal(b, &a); err != nil {
		return Account{}, fmt.Errorf("%w: account %s: %v", ErrStorage, key.Address(), err)
	}
	return a, nil
}

// GetAccountByAddress reads an account by address.
func GetAccountByAddress(r StateReader, addr string) (Account, error) {
	b, ok, err := r.Get(acctKey(addr))
	if err != nil {
		return Account{}, fmt.Errorf("%w: %v", ErrStorage, err)
	}
	if !ok {
		return Account{}, fmt.Errorf("%w: no account %s", ErrNotFound, addr)
	}
	var a Account
	if err := tx.Unmarshal(b, &a); err != nil {
		return Account{}, fmt.Errorf("%w: account %s: %v", ErrStorage, addr, err)
	}
	return a, nil
}

// GetParams reads the ledger parameters.
func GetParams(r StateReader) (Params, error) {
	b, ok, err := r.Get([]byte(Namespace + "/params"))
	if err != nil {
		return Params{}, fmt.Errorf("%w: %v", ErrStorage, err)
	}
	if !ok {
		return Params{}, fmt.Errorf("%w: no ledger params in state", ErrStorage)
	}
	var p Params
	if err := tx.Unmarshal(b, &p); err != nil {
		return Params{}, fmt.Errorf("%w: params: %v", ErrStorage, err)
	}
	return p, nil
}

// Outcome is the result of applying a block.
type Outcome struct {
	Header  Header
	Txs     [][]byte // the block's transactions: when proposing, without the dropped ones
	IDs     []tx.ID  // the transactions' IDs, in the same order
	Results []Result
	Writes  []Write // sorted by key
	// Entries are the block's log entries, one per transaction; LogNodes
	// and MapNodes are the log's and the state map's node writes. The
	// store writes them with the block.
	Entries  [][]byte
	LogNodes []tlog.NodeHash
	MapNodes []smt.NodeWrite
	// Dropped lists, when proposing, the transactions left out and why.
	Dropped []Dropped
	// ValidatorUpdates lists the validators the block added, re-weighted
	// or removed (power 0), ordered by key: what a network driver hands
	// its consensus engine.
	ValidatorUpdates []Validator
}

// Dropped is a transaction a proposal left out.
type Dropped struct {
	Raw []byte
	Err error
}

// ErrInvalidBlock means a block holds a transaction that fails the checks
// every transaction in a block must pass.
var ErrInvalidBlock = errors.New("invalid block")

// Apply applies a block of transactions to the state r after the block
// whose header is prev. With propose set, transactions failing the
// inclusion checks (and those beyond the block limits) are dropped and
// listed; without it, any such transaction makes the whole block invalid.
// An error wrapping ErrStorage means the block could not be applied and
// must not be committed.
func (e *Executor) Apply(r Reader, prev *Header, b Block, txs [][]byte, propose bool) (*Outcome, error) {
	if b.ChainID != e.chainID {
		return nil, fmt.Errorf("%w: block for chain %q", ErrInvalidBlock, b.ChainID)
	}
	if b.Height != prev.Height+1 {
		return nil, fmt.Errorf("%w: height %d after %d", ErrInvalidBlock, b.Height, prev.Height)
	}
	if b.Time.UnixMilli() <= prev.Time {
		return nil, fmt.Errorf("%w: block time %d not after %d", ErrInvalidBlock, b.Time.UnixMilli(), prev.Time)
	}
	params, err := GetParams(r)
	if err != nil {
		return nil, err
	}
	blk := newOverlay(r)
	quota := e.NewQuota(r, params, b.Time)
	out := &Outcome{}
	var size uint64
	for i, raw := range txs {
		if uint64(len(out.Txs)) >= params.MaxBlockTxs || size+uint64(len(raw)) > params.MaxBlockBytes {
			if !propose {
				return nil, fmt.Errorf("%w: exceeds block limits at transaction %d", ErrInvalidBlock, i)
			}
			out.Dropped = append(out.Dropped, Dropped{Raw: raw, Err: fmt.Errorf("%w: block full", ErrInvalid)})
			continue
		}
		err := params.CheckSize(raw)
		var id tx.ID
		var res Result
		if err == nil {
			id, res, err = e.applyTx(blk, b, raw, quota)
		}
		if errors.Is(err, ErrStorage) {
			return nil, err
		}
		if err != nil {
			if !propose {
				return nil, fmt.Errorf("%w: transaction %d: %w", ErrInvalidBlock, i, err)
			}
			out.Dropped = append(out.Dropped, Dropped{Raw: raw, Err: err})
			continue
		}
		size += uint64(len(raw))
		out.Txs = append(out.Txs, raw)
		out.IDs = append(out.IDs, id)
		out.Results = append(out.Results, res)
	}
	if out.Txs == nil {
		out.Txs = [][]byte{}
		out.Results = []Result{}
	}
	if err := e.runDue(blk, b, len(out.Txs)); err != nil {
		return nil, err
	}
	out.Writes = blk.sorted()
	if out.ValidatorUpdates, err = validatorUpdates(out.Writes); err != nil {
		return nil, err
	}
	appHash, mapNodes, err := commitState(r, out.Writes)
	if err != nil {
		return nil, err
	}
	out.Entries = make([][]byte, len(out.Txs))
	for i, raw := range out.Txs {
		out.Entries[i] = NewLogEntry(b.Height, i, out.IDs[i], raw, &out.Results[i]).Encode()
	}
	logRoot, logNodes, err := commitLog(r, prev.LogSize, out.Entries)
	if err != nil {
		return nil, err
	}
	out.MapNodes, out.LogNodes = mapNodes, logNodes
	prevHash := prev.Hash()
	out.Header = Header{
		ChainID:     e.chainID,
		Height:      b.Height,
		Time:        b.Time.UnixMilli(),
		PrevHash:    prevHash[:],
		TxsHash:     TxsHash(out.Txs),
		ResultsHash: ResultsHash(out.Results),
		AppHash:     appHash,
		LogSize:     prev.LogSize + uint64(len(out.Txs)),
		LogRoot:     logRoot,
	}
	return out, nil
}

// applyTx applies one transaction to blk, counting it against quota. An
// error means the transaction failed an inclusion check and blk is
// unchanged; otherwise the result says whether the module accepted it.
func (e *Executor) applyTx(blk *overlay, b Block, raw []byte, quota *Quota) (tx.ID, Result, error) {
	var c *Checked
	if e.Admitted != nil {
		c = e.Admitted(sha256.Sum256(raw))
	}
	if c == nil {
		var err error
		if c, err = e.Check(raw, true); err != nil {
			return tx.ID{}, Result{}, err
		}
	}
	if err := CheckExpiry(c.Tx, b); err != nil {
		return tx.ID{}, Result{}, err
	}
	accts := make([]Account, len(c.Tx.Signers))
	for i, s := range c.Tx.Signers {
		a, err := GetAccount(blk, s.Key)
		if err != nil {
			return tx.ID{}, Result{}, err
		}
		if s.Sequence != a.Sequence {
			return tx.ID{}, Result{}, fmt.Errorf("%w: signer %s has sequence %d, transaction says %d", ErrSequence, s.Key.Address(), a.Sequence, s.Sequence)
		}
		accts[i] = a
	}
	if err := quota.Take(c.Tx.Signers, len(raw)); err != nil {
		return tx.ID{}, Result{}, err
	}
	keys := make([]tx.PublicKey, len(accts))
	for i := range accts {
		accts[i].Sequence++
		b, err := tx.Marshal(&accts[i])
		if err != nil {
			return tx.ID{}, Result{}, err
		}
		blk.set(acctKey(accts[i].Key.Address()), b)
		keys[i] = accts[i].Key
	}
	txo := newOverlay(blk)
	ctx := &Context{
		Block:   b,
		TxID:    c.ID,
		Signers: keys,
		KV:      &KV{o: txo, prefix: []byte(c.Tx.Module + "/")},
		o:       txo,
		module:  c.Tx.Module,
		exec:    e,
	}
	var err error
	if c.Tx.Module == Namespace {
		err = e.executeLedger(ctx, c.Msg)
	} else {
		err = e.mods[c.Tx.Module].Execute(ctx, c.Msg)
	}
	if errors.Is(err, ErrStorage) {
		return tx.ID{}, Result{}, err
	}
	if err != nil {
		return c.ID, Result{Code: Code(err), Error: err.Error()}, nil
	}
	txo.mergeInto(blk)
	return c.ID, Result{Code: "ok", Events: ctx.emitted()}, nil
}

// Genesis is the initial state of a ledger.
type Genesis struct {
	ChainID  string           `json:"chain_id"`
	Time     time.Time        `json:"genesis_time"`
	Params   Params           `json:"params"`
	Accounts []GenesisAccount `json:"accounts,omitempty"`
	// Validators are the founding validators of a network (package
	// cometbft); the embedded node has none.
	Validators []Validator `json:"validators,omitempty"`
	// Pending are the pending actions of a ledger exported and started
	// again, in id order.
	Pending []Pending `json:"pending,omitempty"`
	// Scheduled are the scheduler's entries, due then failed, and
	// ScheduleSeq the last sequence number it gave.
	Scheduled   []Entry `json:"scheduled,omitempty"`
	ScheduleSeq uint64  `json:"schedule_seq,omitempty"`
	// DueEvents are the events of past blocks' scheduled work, which the
	// state keeps (DueEvents), in key order.
	DueEvents []DueEventRecord `json:"due_events,omitempty"`
	// Modules holds each module's genesis section by module name.
	Modules map[string]json.RawMessage `json:"modules,omitempty"`
}

// GenesisAccount names a key in genesis.
type GenesisAccount struct {
	Label    string       `json:"label"`
	Key      tx.PublicKey `json:"key"`
	Sequence uint64       `json:"sequence,omitempty"`
}

// emptyState is the ledger before genesis: no state, no map, no log.
type emptyState struct{}

func (emptyState) Get([]byte) ([]byte, bool, error)                              { return nil, false, nil }
func (emptyState) Iterate([]byte, []byte, func(k, v []byte) (bool, error)) error { return nil }
func (emptyState) GetNode([]byte) ([]byte, bool, error)                          { return nil, false, nil }
func (emptyState) ReadHashes(ids []compact.NodeID) ([][]byte, error) {
	if len(ids) > 0 {
		return nil, fmt.Errorf("the empty log has no nodes")
	}
	return nil, nil
}

// InitGenesis builds the state a genesis describes and returns its writes
// and the height-0 header that block 1 follows.
func (e *Executor) InitGenesis(g *Genesis) (*Outcome, error) {
	if g.ChainID != e.chainID {
		return nil, fmt.Errorf("genesis is for chain %q, executor for %q", g.ChainID, e.chainID)
	}
	if err := g.Params.Validate(); err != nil {
		return nil, err
	}
	for name := range g.Modules {
		if e.mods[name] == nil {
			return nil, fmt.Errorf("genesis has a section for unknown module %q", name)
		}
	}
	o := newOverlay(emptyState{})
	pb, err := tx.Marshal(&g.Params)
	if err != nil {
		return nil, err
	}
	o.set([]byte(Namespace+"/params"), pb)
	for i, ga := range g.Accounts {
		if err := ga.Key.Check(); err != nil {
			return nil, fmt.Errorf("genesis account %d: %w", i, err)
		}
		k := acctKey(ga.Key.Address())
		if _, dup := o.writes[string(k)]; dup {
			return nil, fmt.Errorf("genesis account %d (%s) repeats a key", i, ga.Label)
		}
		b, err := tx.Marshal(&Account{Key: ga.Key, Sequence: ga.Sequence, Label: ga.Label})
		if err != nil {
			return nil, err
		}
		o.set(k, b)
	}
	for i := range g.Validators {
		v := &g.Validators[i]
		if err := v.Validate(); err != nil {
			return nil, fmt.Errorf("genesis validator %d: %w", i, err)
		}
		if v.Power == 0 {
			return nil, fmt.Errorf("genesis validator %d (%s) has no power", i, v.Name)
		}
		k := []byte(Namespace + "/" + validatorPrefix + hex.EncodeToString(v.PubKey))
		if _, dup := o.writes[string(k)]; dup {
			return nil, fmt.Errorf("genesis validator %d (%s) repeats a key", i, v.Name)
		}
		b, err := tx.Marshal(v)
		if err != nil {
			return nil, err
		}
		o.set(k, b)
	}
	lkv := &KV{o: o, prefix: []byte(Namespace + "/")}
	if err := e.loadSchedule(lkv, g.Scheduled, g.ScheduleSeq); err != nil {
		return nil, err
	}
	if err := loadDueEvents(lkv, g.DueEvents); err != nil {
		return nil, err
	}
	if err := loadPending(lkv, g.Pending); err != nil {
		return nil, err
	}
	for _, name := range e.order {
		kv := &KV{o: o, prefix: []byte(name + "/")}
		if err := e.mods[name].InitGenesis(kv, g.Modules[name]); err != nil {
			return nil, fmt.Errorf("genesis: %s: %w", name, err)
		}
	}
	writes := o.sorted()
	appHash, mapNodes, err := commitState(emptyState{}, writes)
	if err != nil {
		return nil, err
	}
	return &Outcome{
		Header: Header{
			ChainID:     e.chainID,
			Height:      0,
			Time:        g.Time.UnixMilli(),
			PrevHash:    make([]byte, 32),
			TxsHash:     TxsHash(nil),
			ResultsHash: ResultsHash([]Result{}),
			AppHash:     appHash,
			LogSize:     0,
			LogRoot:     tlog.EmptyRoot(),
		},
		Txs: [][]byte{}, Results: []Result{}, Writes: writes, MapNodes: mapNodes,
	}, nil
}

// ExportGenesis writes the state r as a genesis that InitGenesis loads
// back to the same state, with the given time.
func (e *Executor) ExportGenesis(r StateReader, t time.Time) (*Genesis, error) {
	p, err := GetParams(r)
	if err != nil {
		return nil, err
	}
	g := &Genesis{ChainID: e.chainID, Time: t.UTC(), Params: p, Modules: map[string]json.RawMessage{}}
	start := acctKey("")
	err = r.Iterate(start, prefixEnd(start), func(_, v []byte) (bool, error) {
		var a Account
		if err := tx.Unmarshal(v, &a); err != nil {
			return false, fmt.Errorf("%w: account: %v", ErrStorage, err)
		}
		g.Accounts = append(g.Accounts, GenesisAccount{Label: a.Label, Key: a.Key, Sequence: a.Sequence})
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if g.Validators, err = Validators(r); err != nil {
		return nil, err
	}
	lkv := NewReadView(r, Namespace, nil)
	if g.Pending, err = exportPending(lkv); err != nil {
		return nil, err
	}
	if g.Scheduled, g.ScheduleSeq, err = exportSchedule(lkv); err != nil {
		return nil, err
	}
	if g.DueEvents, err = exportDueEvents(lkv); err != nil {
		return nil, err
	}
	for _, name := range e.order {
		raw, err := e.mods[name].ExportGenesis(NewReadView(r, name, nil))
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", name, err)
		}
		if raw != nil {
			g.Modules[name] = raw
		}
	}
	return g, nil
}
