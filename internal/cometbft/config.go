package cometbft

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/tx"
)

// ConfigFile is the name of a network node's configuration in its home,
// beside config.json (the API's, node.Config). Its presence makes the
// home a network node's.
const ConfigFile = "network.json"

// Config is a network node's configuration, read from <home>/network.json.
// The field comments are the configuration reference; every field is
// optional and defaults as stated. Unknown keys are an error.
type Config struct {
	// Moniker names the node to its peers. Default "agora".
	Moniker string `json:"moniker,omitempty"`
	// P2P is the address CometBFT listens on for its peers.
	// Default "127.0.0.1:26656".
	P2P string `json:"p2p,omitempty"`
	// Peers are the nodes this one stays connected to, each
	// "<node id>@<host>:<port>" ('agora testnet init' writes them).
	// Default none.
	Peers []string `json:"peers,omitempty"`
	// TimeoutPropose is how long a round waits for the proposer's block
	// before voting without it (growing by half of it each round).
	// Default "1s".
	TimeoutPropose node.Duration `json:"timeout_propose,omitempty"`
	// TimeoutVote is how long a round waits for more votes once it has
	// votes from two thirds of the power (growing by half of it each
	// round). Default "200ms".
	TimeoutVote node.Duration `json:"timeout_vote,omitempty"`
	// TimeoutCommit is the pause after a block commits before the next
	// height's proposal, while votes still arrive: the block interval
	// when transactions keep coming. Default "300ms".
	TimeoutCommit node.Duration `json:"timeout_commit,omitempty"`
	// MempoolSize bounds the transactions waiting in CometBFT's mempool;
	// beyond it submissions are refused with code "busy". Default 50000.
	MempoolSize int `json:"mempool_size,omitempty"`
	// MempoolBytes bounds the summed size of the transactions waiting in
	// CometBFT's mempool (its max_txs_bytes); beyond it submissions are
	// refused with code "busy". At least 65536. Default 134217728
	// (128 MiB).
	MempoolBytes int64 `json:"mempool_bytes,omitempty"`
	// RPC is the address CometBFT's RPC server listens on, "host:port".
	// A node joining by state sync asks two such servers of the network
	// for the light blocks it checks snapshots against. Keep it on
	// loopback or a private network. Default "" (off); 'agora testnet
	// init' gives node i 127.0.0.1:P+10i+2.
	RPC string `json:"rpc,omitempty"`
	// SnapshotInterval is how often, in blocks, the node snapshots its
	// store for state sync (docs/spec/state-sync.md), under
	// <home>/cometbft/snapshots; 0 takes none. Default 1000.
	SnapshotInterval *uint64 `json:"snapshot_interval,omitempty"`
	// SnapshotKeep is how many of its newest snapshots the node keeps.
	// Default 2.
	SnapshotKeep int `json:"snapshot_keep,omitempty"`
	// StateSync, when enabled, makes a new node restore a snapshot of the
	// ledger that its peers serve instead of replaying every block from
	// the genesis; 'agora node state-sync' writes it. Default off.
	StateSync *StateSync `json:"state_sync,omitempty"`
}

// StateSync is how a new node joins by state sync: CometBFT's light client
// verifies a snapshot's height and app hash from a trusted block, and the
// node restores the snapshot, then follows the chain by block sync from
// the block after it.
type StateSync struct {
	// Enable turns state sync on. It only happens on a node with no
	// blocks yet; a node that has some continues from its own.
	Enable bool `json:"enable"`
	// RPCServers are at least two CometBFT RPC servers of the network,
	// "http://host:port" (the rpc field of their network.json); the
	// light client checks one against the other.
	RPCServers []string `json:"rpc_servers"`
	// TrustHeight and TrustHash are a block the light client trusts: its
	// height and its hash (hex), from a source you trust.
	TrustHeight int64  `json:"trust_height"`
	TrustHash   string `json:"trust_hash"`
	// TrustPeriod is how long a trusted block stays trusted; it must be
	// shorter than the time in which validators could misbehave
	// unpunished. Default "168h".
	TrustPeriod node.Duration `json:"trust_period,omitempty"`
}

// DefaultSnapshotInterval is the default SnapshotInterval.
const DefaultSnapshotInterval = 1000

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Moniker == "" {
		c.Moniker = "agora"
	}
	if c.P2P == "" {
		c.P2P = "127.0.0.1:26656"
	}
	if c.TimeoutPropose == 0 {
		c.TimeoutPropose = node.Duration(time.Second)
	}
	if c.TimeoutVote == 0 {
		c.TimeoutVote = node.Duration(200 * time.Millisecond)
	}
	if c.TimeoutCommit == 0 {
		c.TimeoutCommit = node.Duration(300 * time.Millisecond)
	}
	if c.MempoolSize == 0 {
		c.MempoolSize = 50000
	}
	if c.MempoolBytes == 0 {
		c.MempoolBytes = 128 << 20
	}
	if c.SnapshotInterval == nil {
		c.SnapshotInterval = new(uint64(DefaultSnapshotInterval))
	}
	if c.SnapshotKeep == 0 {
		c.SnapshotKeep = 2
	}
	if c.StateSync != nil && c.StateSync.TrustPeriod == 0 {
		ss := *c.StateSync
		ss.TrustPeriod = node.Duration(168 * time.Hour)
		c.StateSync = &ss
	}
	return c
}

// Validate checks a configuration after defaults.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.P2P); err != nil {
		return fmt.Errorf("network config: p2p %q: want host:port", c.P2P)
	}
	for i, p := range c.Peers {
		id, addr, ok := strings.Cut(p, "@")
		if _, _, err := net.SplitHostPort(addr); !ok || len(id) != 40 || err != nil {
			return fmt.Errorf("network config: peers[%d] %q: want <node id>@<host>:<port>", i, p)
		}
	}
	switch {
	case c.TimeoutPropose < node.Duration(10*time.Millisecond), c.TimeoutVote < node.Duration(10*time.Millisecond):
		return fmt.Errorf("network config: timeout_propose and timeout_vote must be at least 10ms")
	case c.TimeoutCommit < 0:
		return fmt.Errorf("network config: timeout_commit must not be negative")
	case c.MempoolSize < 1:
		return fmt.Errorf("network config: mempool_size must be positive")
	case c.MempoolBytes < tx.MaxSize:
		return fmt.Errorf("network config: mempool_bytes must be at least %d", tx.MaxSize)
	case c.SnapshotKeep < 1:
		return fmt.Errorf("network config: snapshot_keep must be positive")
	}
	if _, _, err := net.SplitHostPort(c.RPC); c.RPC != "" && err != nil {
		return fmt.Errorf("network config: rpc %q: want host:port", c.RPC)
	}
	if ss := c.StateSync; ss != nil && ss.Enable {
		return ss.validate()
	}
	return nil
}

func (ss *StateSync) validate() error {
	const hint = "'agora node state-sync --home HOME --rpc URL1,URL2' writes these from two of the network's RPC servers"
	if len(ss.RPCServers) < 2 {
		return ledger.WithHint(errors.New("network config: state_sync.rpc_servers: give at least two CometBFT RPC servers"), hint)
	}
	for i, s := range ss.RPCServers {
		if u, err := url.Parse(s); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "tcp") {
			return fmt.Errorf("network config: state_sync.rpc_servers[%d] %q: want http://host:port", i, s)
		}
	}
	if h, err := hex.DecodeString(ss.TrustHash); ss.TrustHeight < 1 || err != nil || len(h) != 32 {
		return ledger.WithHint(errors.New("network config: state_sync: trust_height must be a block's height and trust_hash its hash, 64 hex digits"), hint)
	}
	if ss.TrustPeriod <= 0 {
		return fmt.Errorf("network config: state_sync.trust_period must be positive")
	}
	return nil
}

// LoadConfig reads a network configuration file strictly.
func LoadConfig(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	if dec.More() {
		return c, fmt.Errorf("%s: trailing data after the configuration", path)
	}
	return c, nil
}

// Write writes c to path as indented JSON.
func (c Config) Write(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}
