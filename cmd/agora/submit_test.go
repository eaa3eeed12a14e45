package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/api"
	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestSubmitSignsAgainWhenTheSequenceIsTaken runs 'agora notary anchor'
// against a real node behind a proxy that, before passing on a
// submission, commits another transaction of the same key: the sequence
// the CLI read is taken between its read and its submission, as when a
// transaction sent through another node commits meanwhile. The CLI signs
// again with the next sequence, says so, and the anchor commits; a
// sequence taken before every attempt is refused after cli.SubmitAttempts.
func TestSubmitSignsAgainWhenTheSequenceIsTaken(t *testing.T) {
	for _, c := range []struct {
		desc    string
		takes   int32 // how many submissions find their sequence taken
		wantErr bool
		// refuse: the proxy refuses the first submission with
		// bad_sequence itself, as a node that has not yet applied the
		// block that took the sequence would; the sequence stays.
		refuse bool
	}{
		{desc: "taken once", takes: 1},
		{desc: "taken twice", takes: 2},
		{desc: "taken every time", takes: cli.SubmitAttempts, wantErr: true},
		{desc: "refused by a node that lags", refuse: true},
	} {
		t.Run(c.desc, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("AGORA_PASSPHRASE", "pw")
			ks := home(dir).keys()
			e, err := ks.New("alice", tx.Ed25519, "pw", rand.Reader, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			alice, err := ks.Unlock("alice", "pw")
			if err != nil {
				t.Fatal(err)
			}
			inner, _ := startTestNode(t, e.PublicKey)
			var takes atomic.Int32
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == "POST" && r.URL.Path == "/v1/tx" && c.refuse && takes.Add(1) == 1 {
					w.WriteHeader(http.StatusConflict)
					w.Write([]byte(`{"error":{"code":"bad_sequence","message":"wrong sequence: signer must use sequence 1, transaction has 0"}}`))
					return
				}
				if r.Method == "POST" && r.URL.Path == "/v1/tx" && !c.refuse && takes.Add(1) <= c.takes {
					// Another transaction of alice's commits first.
					cl := client.New(inner.URL)
					sum := sha256.Sum256([]byte{byte(takes.Load())})
					other := &notary.Anchor{SHA256: sum[:], MediaType: "text/plain"}
					raw, err := cl.Build(r.Context(), alice, notary.Name, "anchor", other, time.Minute)
					if err == nil {
						_, err = cl.Submit(r.Context(), raw, true)
					}
					if err != nil {
						t.Errorf("taking the sequence: %v", err)
					}
				}
				forward(t, w, r, inner.URL)
			}))
			defer proxy.Close()

			file := filepath.Join(dir, "contract.txt")
			if err := os.WriteFile(file, []byte("the contract"), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			err = commands["notary"]([]string{"anchor", file, "--key", "alice", "--home", dir, "--node", proxy.URL}, &stdout, &stderr)
			if (err != nil) != c.wantErr {
				t.Fatalf("anchor: %v\nstderr:\n%s", err, stderr.String())
			}
			if c.wantErr && !client.IsCode(err, "bad_sequence") {
				t.Errorf("anchor: %v, want bad_sequence", err)
			}
			// Each taken sequence n is reported once, with n+1.
			for n := range int(min(c.takes, cli.SubmitAttempts-1)) {
				want := fmt.Sprintf("sequence %d of alice was taken; signed again with %d\n", n, n+1)
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
			if c.refuse {
				if want := "sequence 0 of alice was refused, and the node still reports it; signed again\n"; stderr.String() != want {
					t.Errorf("stderr %q, want %q", stderr.String(), want)
				}
			} else if got := strings.Count(stderr.String(), "signed again"); got != int(min(c.takes, cli.SubmitAttempts-1)) {
				t.Errorf("signed again %d times, want %d:\n%s", got, min(c.takes, cli.SubmitAttempts-1), stderr.String())
			}
			if got := takes.Load(); got > cli.SubmitAttempts {
				t.Errorf("%d submissions, want at most %d", got, cli.SubmitAttempts)
			}
			if !c.wantErr && !strings.Contains(stdout.String(), "anchored "+file) {
				t.Errorf("stdout:\n%s", stdout.String())
			}
		})
	}
}

// forward passes r to the server at base and copies its answer to w.
func forward(t *testing.T, w http.ResponseWriter, r *http.Request, base string) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), r.Body)
	if err != nil {
		t.Error(err)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// startTestNode runs an embedded node with an open notary and one genesis
// account, key, behind the API on an httptest server.
// startTestNode runs an in-process node (notary open, key an account) behind
// an httptest server, and returns the server and the log's verifier key.
func startTestNode(t *testing.T, key tx.PublicKey) (*httptest.Server, string) {
	t.Helper()
	const chain = "agora-submit-test"
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	exec, err := ledger.NewExecutor(chain, notary.Module{})
	if err != nil {
		t.Fatal(err)
	}
	ng, err := json.Marshal(notary.Genesis{Policy: notary.Policy{Mode: "open"}})
	if err != nil {
		t.Fatal(err)
	}
	g := &ledger.Genesis{ChainID: chain, Time: time.Now().Add(-time.Hour).UTC().Truncate(time.Second), Params: ledger.DefaultParams(),
		Accounts: []ledger.GenesisAccount{{Label: "alice", Key: key}},
		Modules:  map[string]json.RawMessage{notary.Name: ng}}
	st, err := store.Open(t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	skey, vkey, err := tlog.GenerateKey(rand.Reader, ledger.Origin(chain))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	cp := &node.Checkpointer{Signer: signer}
	gh := sha256.Sum256([]byte(chain))
	if _, err := node.Init(st, exec, g, gh[:], cp); err != nil {
		t.Fatal(err)
	}
	cfg := node.Config{BlockInterval: node.Duration(time.Millisecond), EmptyBlockInterval: node.Every(time.Hour)}.WithDefaults()
	n, err := node.New(cfg, st, exec, log, time.Now, prometheus.NewRegistry(), cp)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	srv := httptest.NewServer(api.New(n, cfg, gh[:], vkey, log, prometheus.NewRegistry()).Handler())
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node: %v", err)
		}
	})
	return srv, vkey
}
