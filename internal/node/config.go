package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/internal/witness/cosig"
)

// Config is the node's configuration, read from <home>/config.json. The
// field comments are the configuration reference; every field is optional
// and defaults as stated. Unknown keys are an error.
type Config struct {
	// HTTP is the address the API and console listen on.
	// Default "127.0.0.1:7780".
	HTTP string `json:"http,omitempty"`
	// BlockInterval is the least time between blocks while transactions
	// wait; a full block is cut at once. Default "50ms".
	BlockInterval Duration `json:"block_interval,omitempty"`
	// EmptyBlockInterval is how often a block is made when no
	// transaction waits, so that block time advances; "0s" makes none.
	// Default "2s".
	EmptyBlockInterval *Duration `json:"empty_block_interval,omitempty"`
	// MempoolSize bounds the transactions waiting for a block; beyond it
	// submissions are refused with code "busy". Default 100000.
	MempoolSize int `json:"mempool_size,omitempty"`
	// MempoolBytes bounds the summed size of the transactions waiting for
	// a block, so that a mempool of large transactions cannot exhaust the
	// node's memory; beyond it submissions are refused with code "busy".
	// At least 65536 (one transaction of the largest size). Default
	// 134217728 (128 MiB).
	MempoolBytes int `json:"mempool_bytes,omitempty"`
	// MaxRequestBytes bounds an HTTP request body. Default 8388608 (8 MiB).
	MaxRequestBytes int64 `json:"max_request_bytes,omitempty"`
	// RequestTimeout bounds an HTTP request, including a wait for commit.
	// Default "30s".
	RequestTimeout Duration `json:"request_timeout,omitempty"`
	// MaxEventStreams bounds the requests of the event feed (GET
	// /v1/events) that hold their connection open at once: Server-Sent
	// Events streams and long polls (wait=). Beyond it such a request is
	// refused with code "too_many_streams"; a plain request (no wait) is
	// not counted. Default 256.
	MaxEventStreams int `json:"max_event_streams,omitempty"`
	// LogLevel is one of "debug", "info", "warn", "error". Default "info".
	LogLevel string `json:"log_level,omitempty"`
	// Debug, if set, is an address where the node serves Go's profiler
	// (/debug/pprof/) apart from the API, for operators measuring where
	// a node's time goes. It exposes the process's internals: keep it on
	// loopback. Default none.
	Debug string `json:"debug,omitempty"`
	// Witnesses are the C2SP tlog-witness witnesses the node asks to
	// cosign its checkpoints, each {"url": ..., "key": ...} (see
	// WitnessConfig). After blocks commit, the node sends each witness
	// its newest checkpoint with a consistency proof from the last one
	// that witness cosigned, and stores the cosignatures with the
	// checkpoint. When witnesses are set, GET /log/checkpoint serves the
	// newest checkpoint that all of them have cosigned. Default none.
	Witnesses []WitnessConfig `json:"witnesses,omitempty"`
}

// WitnessConfig is one witness of Config.Witnesses.
type WitnessConfig struct {
	// URL is the witness's submission prefix, "http://host:port" or
	// "https://host/prefix": the node POSTs to URL + "/add-checkpoint".
	URL string `json:"url"`
	// Key is the witness's cosigner verifier key,
	// "<name>+<hash>+<base64 key>", as 'agora witness init' prints it.
	// The node stores only cosignatures that verify with it.
	Key string `json:"key"`
}

// Duration is a time.Duration written as a Go duration string ("50ms").
type Duration time.Duration

// Every returns a pointer to d, for the optional duration fields.
func Every(d time.Duration) *Duration {
	v := Duration(d)
	return &v
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.HTTP == "" {
		c.HTTP = "127.0.0.1:7780"
	}
	if c.BlockInterval == 0 {
		c.BlockInterval = Duration(50 * time.Millisecond)
	}
	if c.EmptyBlockInterval == nil {
		d := Duration(2 * time.Second)
		c.EmptyBlockInterval = &d
	}
	if c.MempoolSize == 0 {
		c.MempoolSize = 100000
	}
	if c.MempoolBytes == 0 {
		c.MempoolBytes = 128 << 20
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = 8 << 20
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = Duration(30 * time.Second)
	}
	if c.MaxEventStreams == 0 {
		c.MaxEventStreams = 256
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	return c
}

// Validate checks a configuration after defaults.
func (c Config) Validate() error {
	switch {
	case c.BlockInterval < Duration(time.Millisecond):
		return fmt.Errorf("config: block_interval must be at least 1ms")
	case *c.EmptyBlockInterval < 0:
		return fmt.Errorf("config: empty_block_interval must not be negative")
	case c.MempoolSize < 1:
		return fmt.Errorf("config: mempool_size must be positive")
	case c.MempoolBytes < tx.MaxSize:
		return fmt.Errorf("config: mempool_bytes must be at least %d", tx.MaxSize)
	case c.MaxRequestBytes < 64<<10:
		return fmt.Errorf("config: max_request_bytes must be at least 65536")
	case c.RequestTimeout < Duration(time.Second):
		return fmt.Errorf("config: request_timeout must be at least 1s")
	case c.MaxEventStreams < 1:
		return fmt.Errorf("config: max_event_streams must be positive")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: log_level %q (want debug, info, warn or error)", c.LogLevel)
	}
	if c.Debug != "" {
		if _, _, err := net.SplitHostPort(c.Debug); err != nil {
			return fmt.Errorf("config: debug %q: want host:port", c.Debug)
		}
	}
	keys := map[string]bool{}
	for i, w := range c.Witnesses {
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("config: witnesses[%d].url %q: want http://host:port or https://host/prefix", i, w.URL)
		}
		v, err := cosig.NewVerifier(w.Key)
		if err != nil {
			return fmt.Errorf("config: witnesses[%d].key: %w", i, err)
		}
		id := fmt.Sprintf("%s+%08x", v.Name(), v.KeyHash())
		if keys[id] {
			return fmt.Errorf("config: witnesses[%d]: the witness %s is listed twice", i, v.Name())
		}
		keys[id] = true
	}
	return nil
}

// LoadConfig reads a configuration file strictly. A missing file is the
// empty configuration.
func LoadConfig(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return c, nil
	}
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
