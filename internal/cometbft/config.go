package cometbft

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/node"
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
}

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
