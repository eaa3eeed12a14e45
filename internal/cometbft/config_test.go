package cometbft

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestConfigStateSync checks the defaults of the snapshot and state sync
// settings, what Validate refuses, and that they reach CometBFT's
// configuration.
func TestConfigStateSync(t *testing.T) {
	c := Config{}.WithDefaults()
	if c.SnapshotInterval == nil || *c.SnapshotInterval != DefaultSnapshotInterval || c.SnapshotKeep != 2 || c.RPC != "" || c.StateSync != nil {
		t.Errorf("defaults: interval %v keep %d rpc %q state sync %v", c.SnapshotInterval, c.SnapshotKeep, c.RPC, c.StateSync)
	}
	if c := (Config{SnapshotInterval: new(uint64(0))}).WithDefaults(); *c.SnapshotInterval != 0 {
		t.Errorf("snapshot_interval 0 became %d, want 0 (no snapshots)", *c.SnapshotInterval)
	}
	good := StateSync{Enable: true, RPCServers: []string{"http://127.0.0.1:1", "http://127.0.0.1:2"}, TrustHeight: 5, TrustHash: strings.Repeat("AB", 32)}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string // "" for valid
	}{
		{"valid", func(*Config) {}, ""},
		{"disabled, incomplete", func(c *Config) { c.StateSync = &StateSync{} }, ""},
		{"one server", func(c *Config) { c.StateSync.RPCServers = c.StateSync.RPCServers[:1] }, "at least two"},
		{"not a URL", func(c *Config) { c.StateSync.RPCServers[1] = "127.0.0.1:2" }, "want http://host:port"},
		{"no trust height", func(c *Config) { c.StateSync.TrustHeight = 0 }, "trust_height"},
		{"short hash", func(c *Config) { c.StateSync.TrustHash = "AB" }, "trust_hash"},
		{"bad rpc", func(c *Config) { c.RPC = "nowhere" }, "rpc"},
		{"no snapshots kept", func(c *Config) { c.SnapshotKeep = -1 }, "snapshot_keep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := good
			ss.RPCServers = append([]string(nil), good.RPCServers...)
			c := Config{RPC: "127.0.0.1:3", StateSync: &ss}.WithDefaults()
			tc.edit(&c)
			err := c.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}

	c = Config{RPC: "127.0.0.1:3", StateSync: &good}.WithDefaults()
	if c.StateSync.TrustPeriod != node.Duration(168*time.Hour) {
		t.Errorf("trust_period default %v, want 168h", c.StateSync.TrustPeriod)
	}
	cc, err := cometConfig(filepath.Join(t.TempDir(), "home"), c)
	if err != nil {
		t.Fatal(err)
	}
	if !cc.StateSync.Enable || cc.StateSync.TrustHeight != 5 || len(cc.StateSync.RPCServers) != 2 || cc.RPC.ListenAddress != "tcp://127.0.0.1:3" {
		t.Errorf("CometBFT's configuration: state sync %+v, rpc %q", cc.StateSync, cc.RPC.ListenAddress)
	}
}

// TestConfigMempoolBytes checks that CometBFT's mempool is bounded in
// bytes (max_txs_bytes) by mempool_bytes, by default and as set, and that
// a bound below one transaction of the largest size is refused.
func TestConfigMempoolBytes(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  int64
		want int64 // 0: Validate refuses
	}{
		{"default", 0, 128 << 20},
		{"set", 1 << 20, 1 << 20},
		{"below one transaction", tx.MaxSize - 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{MempoolBytes: tc.set}.WithDefaults()
			err := c.Validate()
			if tc.want == 0 {
				if err == nil || !strings.Contains(err.Error(), "mempool_bytes") {
					t.Fatalf("Validate() = %v, want a mempool_bytes error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cc, err := cometConfig(filepath.Join(t.TempDir(), "home"), c)
			if err != nil {
				t.Fatal(err)
			}
			if cc.Mempool.MaxTxsBytes != tc.want {
				t.Errorf("max_txs_bytes %d, want %d", cc.Mempool.MaxTxsBytes, tc.want)
			}
		})
	}
}
