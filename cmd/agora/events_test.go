package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestEventsWatchRefusesForgeries runs a node with two anchors behind a
// proxy that alters its event feed, and checks that watch with a log key
// shows the true feed and refuses every forgery with exit status 1.
func TestEventsWatchRefusesForgeries(t *testing.T) {
	nodeURL, logKey := anchoredNode(t, "a", "b")
	tests := []struct {
		desc   string
		forge  func(ans map[string]any)
		refuse string
	}{
		{desc: "the true feed", forge: func(map[string]any) {}},
		{desc: "an attribute changed", refuse: "not the event shown", forge: func(ans map[string]any) {
			ev := ans["events"].([]any)[0].(map[string]any)
			ev["attrs"].([]any)[0].(map[string]any)["value"] = "00"
		}},
		{desc: "no proof", refuse: "came without a proof", forge: func(ans map[string]any) {
			delete(ans["events"].([]any)[0].(map[string]any), "proof")
		}},
		{desc: "events out of order", refuse: "out of order", forge: func(ans map[string]any) {
			evs := ans["events"].([]any)
			evs[0], evs[1] = evs[1], evs[0]
		}},
		{desc: "another event's proof", refuse: "NOT verified", forge: func(ans map[string]any) {
			evs := ans["events"].([]any)
			evs[0].(map[string]any)["proof"] = evs[1].(map[string]any)["proof"]
		}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				resp, err := http.Get(nodeURL + r.URL.RequestURI())
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadGateway)
					return
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				if r.URL.Path == "/v1/events" && resp.StatusCode == http.StatusOK {
					var ans map[string]any
					if err := json.Unmarshal(body, &ans); err == nil && len(ans["events"].([]any)) == 2 {
						tt.forge(ans)
						body, _ = json.Marshal(ans)
					}
				}
				w.WriteHeader(resp.StatusCode)
				w.Write(body)
			}))
			defer proxy.Close()
			var stdout, stderr bytes.Buffer
			code := run([]string{"events", "watch", "--node", proxy.URL, "--home", t.TempDir(), "--after", "0", "--count", "2",
				"--timeout", "60s", "--log-key", logKey}, &stdout, &stderr)
			if tt.refuse == "" {
				if code != 0 || strings.Count(stdout.String(), " notary.anchored sha256=") != 2 {
					t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
				}
				return
			}
			if code != 1 || !strings.Contains(stderr.String(), tt.refuse) || stdout.Len() != 0 {
				t.Errorf("exit %d, want 1 with %q and nothing shown; stdout:\n%s\nstderr:\n%s", code, tt.refuse, &stdout, &stderr)
			}
		})
	}
}

// anchoredNode runs an embedded node with the notary module behind the
// API, commits an anchor of each name, and returns the API's
// URL and the log key.
func anchoredNode(t *testing.T, names ...string) (string, string) {
	t.Helper()
	seed := sha256.Sum256([]byte("events test key"))
	key, err := tx.NewPrivateKey(tx.Ed25519, seed[:])
	if err != nil {
		t.Fatal(err)
	}
	srv, vkey := startTestNode(t, key.Public())
	ctx := context.Background()
	c := client.New(srv.URL)
	for _, name := range names {
		sum := sha256.Sum256([]byte(name))
		raw, err := c.Build(ctx, key, notary.Name, "anchor", &notary.Anchor{SHA256: sum[:], MediaType: "text/plain"}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if r, err := c.Submit(ctx, raw, true); err != nil || r.TxCommit == nil || r.Result.Code != "ok" {
			t.Fatalf("anchor %s: %+v, %v", name, r, err)
		}
	}
	return srv.URL, vkey
}
