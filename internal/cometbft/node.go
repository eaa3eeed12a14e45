package cometbft

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcfg "github.com/cometbft/cometbft/config"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/libs/service"
	"github.com/cometbft/cometbft/mempool"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/proxy"
	"github.com/cometbft/cometbft/types"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tx"
)

// Dir is the directory under a node's home that holds CometBFT's files:
// data/ (its blocks, state and write-ahead log, and the consensus key's
// sign state, priv_validator_state.json). Its keys are in the node's
// keystore (Keys).
const Dir = "cometbft"

// Node is a member of a network of validators (or a full node that
// follows one): CometBFT running App in this process. It implements the
// API's driver interface.
type Node struct {
	app    *App
	cmt    *cmtnode.Node
	log    *slog.Logger
	halted *halt
	done   chan struct{}
}

// New prepares a node from home (see Dir) with the configuration cfg and
// its keys; it replays into app's store the blocks CometBFT has and the
// store lacks. Run starts it.
func New(home string, cfg Config, app *App, keys Keys, log *slog.Logger) (*Node, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, err := cometConfig(home, cfg)
	if err != nil {
		return nil, err
	}
	if len(keys.Consensus) != ed25519.PrivateKeySize || len(keys.P2P) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("a network node needs its consensus and peer-to-peer keys")
	}
	pv, err := signer(home, keys.Consensus)
	if err != nil {
		return nil, err
	}
	nodeKey := &p2p.NodeKey{PrivKey: cmted25519.PrivKey(keys.P2P)}
	if app.snaps, err = newSnapshots(filepath.Join(c.RootDir, "snapshots"), *cfg.SnapshotInterval, cfg.SnapshotKeep, log); err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	doc, err := GenesisDoc(app.genesis)
	if err != nil {
		return nil, err
	}
	halted := &halt{done: make(chan struct{})}
	n, err := cmtnode.NewNode(c, pv, nodeKey, proxy.NewConnSyncLocalClientCreator(app),
		func() (*types.GenesisDoc, error) { return doc, nil },
		cmtcfg.DefaultDBProvider, cmtnode.DefaultMetricsProvider(c.Instrumentation), logger{log.With("module", "cometbft"), halted})
	if err != nil {
		return nil, fmt.Errorf("start CometBFT: %w", err)
	}
	return &Node{app: app, cmt: n, log: log, halted: halted, done: make(chan struct{})}, nil
}

// cometConfig is CometBFT's configuration for a node of home.
func cometConfig(home string, cfg Config) (*cmtcfg.Config, error) {
	root := filepath.Join(home, Dir)
	for _, d := range []string{"config", "data"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, err
		}
	}
	c := cmtcfg.DefaultConfig()
	c.SetRoot(root)
	c.Moniker = cfg.Moniker
	c.P2P.ListenAddress = "tcp://" + cfg.P2P
	c.P2P.PersistentPeers = strings.Join(cfg.Peers, ",")
	c.P2P.PexReactor = false
	c.P2P.AddrBookStrict = false // peers on loopback or a private network
	c.P2P.AllowDuplicateIP = true
	c.P2P.FlushThrottleTimeout = 10 * time.Millisecond
	c.P2P.SendRate, c.P2P.RecvRate = 64<<20, 64<<20
	c.RPC.ListenAddress = "" // the Agora API is the node's interface; CometBFT's serves light clients
	if cfg.RPC != "" {
		c.RPC.ListenAddress = "tcp://" + cfg.RPC
	}
	c.Consensus.TimeoutPropose = time.Duration(cfg.TimeoutPropose)
	c.Consensus.TimeoutProposeDelta = time.Duration(cfg.TimeoutPropose) / 2
	c.Consensus.TimeoutPrevote = time.Duration(cfg.TimeoutVote)
	c.Consensus.TimeoutPrecommit = time.Duration(cfg.TimeoutVote)
	c.Consensus.TimeoutPrevoteDelta = time.Duration(cfg.TimeoutVote) / 2
	c.Consensus.TimeoutPrecommitDelta = time.Duration(cfg.TimeoutVote) / 2
	c.Consensus.TimeoutCommit = time.Duration(cfg.TimeoutCommit)
	c.Consensus.PeerGossipSleepDuration = 20 * time.Millisecond
	c.Mempool.Size = cfg.MempoolSize
	c.Mempool.CacheSize = 2 * cfg.MempoolSize
	c.Mempool.MaxTxBytes = tx.MaxSize
	c.Mempool.MaxTxsBytes = cfg.MempoolBytes
	c.TxIndex.Indexer = "null" // the store indexes transactions
	c.Storage.DiscardABCIResponses = true
	c.StateSync.Enable = false
	if ss := cfg.StateSync; ss != nil && ss.Enable {
		c.StateSync.Enable = true
		c.StateSync.RPCServers = ss.RPCServers
		c.StateSync.TrustHeight = ss.TrustHeight
		c.StateSync.TrustHash = ss.TrustHash
		c.StateSync.TrustPeriod = time.Duration(ss.TrustPeriod)
		c.StateSync.DiscoveryTime = 5 * time.Second // the least CometBFT takes: peers answer at once
	}
	c.Instrumentation.Prometheus = false
	if err := c.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("CometBFT configuration: %w", err)
	}
	return c, nil
}

// GenesisDoc is CometBFT's genesis for an Agora genesis: the same chain
// id and validators, vote extensions from height 1, and a genesis time
// one millisecond after Agora's, so that block 1 (which CometBFT stamps
// with the genesis time) comes after the genesis header.
func GenesisDoc(g *ledger.Genesis) (*types.GenesisDoc, error) {
	if len(g.Validators) == 0 {
		return nil, ledger.WithHint(errors.New("the genesis names no validators: it is not a network's"), "'agora testnet init' writes a network's genesis")
	}
	params := types.DefaultConsensusParams()
	params.ABCI.VoteExtensionsEnableHeight = 1
	doc := &types.GenesisDoc{
		GenesisTime:     g.Time.Add(time.Millisecond).UTC(),
		ChainID:         g.ChainID,
		InitialHeight:   1,
		ConsensusParams: params,
	}
	for _, v := range g.Validators {
		pk := cmted25519.PubKey(v.PubKey)
		doc.Validators = append(doc.Validators, types.GenesisValidator{Address: pk.Address(), PubKey: pk, Power: int64(v.Power), Name: v.Name})
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, fmt.Errorf("CometBFT genesis: %w", err)
	}
	return doc, nil
}

// Run runs the node until ctx ends, CometBFT stops, or the node can
// commit nothing more, which stops it and is returned: the store failed
// (store.ErrFailed: the disk refused a write; the error is the store's,
// with what to do), or CometBFT's consensus halted on an error of its own
// (ErrHalted: one of its writes failed, or a bug).
func (n *Node) Run(ctx context.Context) error {
	if err := n.cmt.Start(); err != nil {
		return fmt.Errorf("start CometBFT: %w", err)
	}
	n.log.Info("network node started", "id", n.cmt.NodeInfo().ID(), "validator", n.isValidator())
	select {
	case <-ctx.Done():
	case <-n.cmt.Quit():
	case <-n.app.failed:
	case <-n.halted.done:
	}
	err := n.cmt.Stop()
	n.cmt.Wait()
	why := n.why()
	n.app.stop(why)
	close(n.done)
	if why != nil {
		return why
	}
	if err != nil && !errors.Is(err, service.ErrAlreadyStopped) {
		return err
	}
	return nil
}

// why returns why the node can commit nothing more, or nil.
func (n *Node) why() error {
	n.app.mu.Lock()
	failure := n.app.failure
	n.app.mu.Unlock()
	if failure != nil {
		return failure
	}
	select {
	case <-n.halted.done:
		return ledger.WithHint(fmt.Errorf("%w: %s", ErrHalted, n.halted.why),
			"if the disk is full or read-only, make it writable and restart the node ('agora fsck' checks the store)")
	default:
		return nil
	}
}

func (n *Node) isValidator() bool {
	pk, err := n.cmt.PrivValidator().GetPubKey()
	if err != nil {
		return false
	}
	n.app.mu.Lock()
	defer n.app.mu.Unlock()
	_, ok := n.app.vals[string(pk.Address())]
	return ok
}

// ErrHalted means CometBFT's consensus halted on an error of its own
// (it recovers its panic and decides nothing more): a write to its own
// files failed (full or read-only disk), or a bug. The node stops; the
// error says why. Restart it once the cause is gone: CometBFT repairs a
// torn write-ahead log.
var ErrHalted = errors.New("CometBFT's consensus halted")

// ID returns the node's peer-to-peer ID, which its peers' configuration
// names.
func (n *Node) ID() string { return string(n.cmt.NodeInfo().ID()) }

// stop marks the app stopped, because of why if not nil, and answers
// every waiter, and ends a snapshot being written.
func (a *App) stop(why error) {
	a.snaps.stop()
	a.mu.Lock()
	defer a.mu.Unlock()
	if why == nil {
		a.halt(node.ErrStopped)
	} else {
		a.halt(fmt.Errorf("%w: %v", node.ErrStopped, why))
	}
}

// halt marks the app stopped with err, unless it already is, and answers
// every waiter with why. The caller holds a.mu.
func (a *App) halt(err error) {
	if a.stopped == nil {
		a.stopped = err
	}
	for id, ws := range a.waiters {
		for _, w := range ws {
			w <- waitResult{err: a.stopped}
		}
		delete(a.waiters, id)
	}
}

// Executor implements api.Driver.
func (n *Node) Executor() *ledger.Executor { return n.app.exec }

// Store implements api.Driver.
func (n *Node) Store() *store.Store { return n.app.store }

// Head implements api.Driver.
func (n *Node) Head() ledger.Header { return n.app.Head() }

// Submit implements api.Driver: the transaction goes through CheckTx into
// CometBFT's mempool, which gossips it to the other nodes.
func (n *Node) Submit(raw []byte) (tx.ID, error) {
	if err := n.Err(); err != nil {
		return tx.ID{}, err
	}
	res := make(chan *abci.ResponseCheckTx, 1)
	err := n.cmt.Mempool().CheckTx(raw, func(r *abci.ResponseCheckTx) { res <- r }, mempool.TxInfo{})
	var id tx.ID
	if err != nil {
		if s, _, derr := tx.Decode(raw); derr == nil {
			id = s.ID()
		}
	}
	var full mempool.ErrMempoolIsFull
	switch {
	case errors.Is(err, mempool.ErrTxInCache):
		if done, _ := n.app.store.HasTx(id); done {
			return id, fmt.Errorf("%w: transaction %s is already committed", ledger.ErrConflict, id)
		}
		return id, fmt.Errorf("%w: transaction %s is already waiting in the mempool", ledger.ErrConflict, id)
	case errors.As(err, &full), errors.Is(err, mempool.ErrRecheckFull):
		return id, fmt.Errorf("%w: %v", node.ErrBusy, err)
	case errors.As(err, new(mempool.ErrTxTooLarge)):
		return id, fmt.Errorf("%w: %v", tx.ErrTooLarge, err)
	case err != nil:
		return id, err
	}
	r := <-res
	if r.Code != 0 {
		return id, &checkError{code: r.Codespace, msg: r.Log}
	}
	copy(id[:], r.Data)
	return id, nil
}

// checkError is a CheckTx refusal: its message, and its stable code's
// sentinel to unwrap to.
type checkError struct {
	code string
	msg  string
}

func (e *checkError) Error() string { return e.msg }

func (e *checkError) Unwrap() error { return ledger.Sentinel(e.code) }

// Wait implements api.Driver.
func (n *Node) Wait(ctx context.Context, id tx.ID) (node.Committed, error) {
	a := n.app
	ch := make(chan waitResult, 1)
	a.mu.Lock()
	a.waiters[id] = append(a.waiters[id], ch)
	stopped, dropped := a.stopped, a.dropped[id]
	a.mu.Unlock()
	defer a.unwait(id, ch)
	if c, err := n.Lookup(id); err == nil {
		if stopped != nil || c.Height <= n.Head().Height {
			return c, nil
		}
	} else if !errors.Is(err, ledger.ErrNotFound) {
		return node.Committed{}, err
	}
	if dropped != nil {
		return node.Committed{}, dropped
	}
	if stopped != nil {
		return node.Committed{}, stopped
	}
	select {
	case r := <-ch:
		return r.c, r.err
	case <-ctx.Done():
		return node.Committed{}, ctx.Err()
	}
}

func (a *App) unwait(id tx.ID, ch chan waitResult) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ws := a.waiters[id]
	for i, w := range ws {
		if w == ch {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(a.waiters, id)
	} else {
		a.waiters[id] = ws
	}
}

// Lookup implements api.Driver.
func (n *Node) Lookup(id tx.ID) (node.Committed, error) {
	loc, err := n.app.store.FindTx(id)
	if err != nil {
		return node.Committed{}, err
	}
	hdr, err := n.app.store.Header(loc.Height)
	if err != nil {
		return node.Committed{}, err
	}
	return node.Committed{Height: loc.Height, Index: loc.Index, Leaf: loc.Leaf, Result: loc.Result, Header: *hdr}, nil
}

// Pending implements api.Driver.
func (n *Node) Pending(id tx.ID) bool {
	n.app.mu.Lock()
	defer n.app.mu.Unlock()
	return n.app.inPool[id]
}

// Dropped implements api.Driver.
func (n *Node) Dropped(id tx.ID) error {
	n.app.mu.Lock()
	defer n.app.mu.Unlock()
	return n.app.dropped[id]
}

// NextSequence implements api.Driver.
func (n *Node) NextSequence(addr string, committed uint64) uint64 {
	n.app.mu.Lock()
	defer n.app.mu.Unlock()
	if s, ok := n.app.pending[addr]; ok {
		return s
	}
	return committed
}

// MempoolSize implements api.Driver.
func (n *Node) MempoolSize() int { return n.cmt.Mempool().Size() }

// Witnessed implements api.Driver: the newest checkpoint signed by more
// than two thirds of the validators' voting power.
func (n *Node) Witnessed() (node.Witnessed, bool) {
	n.app.mu.Lock()
	defer n.app.mu.Unlock()
	if n.app.signed == nil {
		return node.Witnessed{}, false
	}
	return *n.app.signed, true
}

// Err implements api.Driver.
func (n *Node) Err() error {
	n.app.mu.Lock()
	defer n.app.mu.Unlock()
	return n.app.stopped
}

// halt is CometBFT's consensus halting, which only its log tells.
type halt struct {
	once sync.Once
	why  string        // set before done is closed
	done chan struct{} // closed when the consensus halts
}

// logger sends CometBFT's log to slog: its info messages at debug level
// (CometBFT is chatty), its errors as warnings (most are peers coming and
// going, which a network lives with), except the halt of its consensus:
// an error, whose reason it records in halted (and the stack at debug
// level).
type logger struct {
	l      *slog.Logger
	halted *halt
}

// consensusFailure is the message of CometBFT's consensus recovering a
// panic, after which it decides nothing more. (TestConsensusHalts fails if
// a new CometBFT says it otherwise.)
const consensusFailure = "CONSENSUS FAILURE!!!"

func (l logger) Debug(msg string, kv ...any) {}
func (l logger) Info(msg string, kv ...any)  { l.l.Debug(msg, kv...) }
func (l logger) Error(msg string, kv ...any) {
	if msg != consensusFailure {
		l.l.Warn(msg, kv...)
		return
	}
	why := "unknown"
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == "err" {
			why = fmt.Sprint(kv[i+1])
		}
	}
	l.halted.once.Do(func() {
		l.halted.why = why
		close(l.halted.done)
	})
	l.l.Error(ErrHalted.Error(), "err", why)
	l.l.Debug(msg, kv...)
}
func (l logger) With(kv ...any) cmtlog.Logger {
	return logger{l.l.With(kv...), l.halted}
}
