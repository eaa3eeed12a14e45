package node

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/witness"
)

func TestConfigWitnesses(t *testing.T) {
	_, wkey, err := witness.GenerateKey(rand.Reader, "witness.example")
	mustOK(t, err, "witness key")
	_, wkey2, err := witness.GenerateKey(rand.Reader, "witness2.example")
	mustOK(t, err, "witness key")
	_, logKey, err := tlog.GenerateKey(rand.Reader, ledger.Origin(chain))
	mustOK(t, err, "log key")
	tests := []struct {
		name string
		json string
		want string // a substring of the error; "" for none
	}{
		{"none", `{}`, ""},
		{"one", `{"witnesses": [{"url": "http://127.0.0.1:7790", "key": "` + wkey + `"}]}`, ""},
		{"two, with a prefix", `{"witnesses": [{"url": "http://127.0.0.1:7790", "key": "` + wkey + `"},
			{"url": "https://w.example/agora/", "key": "` + wkey2 + `"}]}`, ""},
		{"unknown field", `{"witnesses": [{"url": "http://127.0.0.1:7790", "key": "` + wkey + `", "quorum": 1}]}`, "unknown field"},
		{"no scheme", `{"witnesses": [{"url": "127.0.0.1:7790", "key": "` + wkey + `"}]}`, "witnesses[0].url"},
		{"ftp", `{"witnesses": [{"url": "ftp://w.example", "key": "` + wkey + `"}]}`, "witnesses[0].url"},
		{"query", `{"witnesses": [{"url": "http://w.example/?a=b", "key": "` + wkey + `"}]}`, "witnesses[0].url"},
		{"no key", `{"witnesses": [{"url": "http://w.example"}]}`, "witnesses[0].key"},
		{"the log's key", `{"witnesses": [{"url": "http://w.example", "key": "` + logKey + `"}]}`, "witnesses[0].key"},
		{"twice", `{"witnesses": [{"url": "http://a.example", "key": "` + wkey + `"},
			{"url": "http://b.example", "key": "` + wkey + `"}]}`, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkConfig(t, tt.json, tt.want) })
	}
}

func TestConfigDebug(t *testing.T) {
	checkConfig(t, `{"debug": "127.0.0.1:6060"}`, "")
	checkConfig(t, `{"debug": "127.0.0.1"}`, "debug")
}

// checkConfig loads and validates the configuration text, and fails t
// unless it is refused with an error containing want (or, with want "",
// accepted).
func checkConfig(t *testing.T, text, want string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	mustOK(t, os.WriteFile(path, []byte(text), 0o600), "write")
	cfg, err := LoadConfig(path)
	if err == nil {
		err = cfg.WithDefaults().Validate()
	}
	switch {
	case want == "" && err != nil:
		t.Fatalf("%s refused: %v", text, err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Fatalf("%s: error %v, want one saying %q", text, err, want)
	}
}

func TestWitnessesNeedCheckpoints(t *testing.T) {
	_, wkey, err := witness.GenerateKey(rand.Reader, "witness.example")
	mustOK(t, err, "witness key")
	e := newEnv(t, Config{}, nil)
	cfg := Config{Witnesses: []WitnessConfig{{URL: "http://127.0.0.1:1", Key: wkey}}}
	if _, err := New(cfg, e.st, newExec(t), discardLog(), e.clock.Now, nil, nil); err == nil {
		t.Fatal("a node with witnesses and no checkpoint signer started")
	}
}

func TestConfigMempoolBytes(t *testing.T) {
	if c := (Config{}).WithDefaults(); c.MempoolBytes != 128<<20 {
		t.Errorf("mempool_bytes default %d, want %d", c.MempoolBytes, 128<<20)
	}
	for _, tt := range []struct{ name, json, want string }{
		{"one transaction", `{"mempool_bytes": 65536}`, ""},
		{"below one transaction", `{"mempool_bytes": 65535}`, "mempool_bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) { checkConfig(t, tt.json, tt.want) })
	}
}

func TestConfigMaxEventStreams(t *testing.T) {
	if c := (Config{}).WithDefaults(); c.MaxEventStreams != 256 {
		t.Errorf("max_event_streams default %d, want 256", c.MaxEventStreams)
	}
	for _, tt := range []struct{ name, json, want string }{
		{"one", `{"max_event_streams": 1}`, ""},
		{"negative", `{"max_event_streams": -1}`, "max_event_streams"},
	} {
		t.Run(tt.name, func(t *testing.T) { checkConfig(t, tt.json, tt.want) })
	}
}
