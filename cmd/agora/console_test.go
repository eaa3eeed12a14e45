package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/agora-ledger/agora/internal/node"
)

// TestConsoleContract checks that a dev node answers every request the
// console's page makes with the fields its script reads. The page is
// static HTML and JavaScript, so a renamed field would blank part of it
// with no error anywhere else.
func TestConsoleContract(t *testing.T) {
	const pass = "dev"
	t.Setenv("AGORA_PASSPHRASE", pass)
	h := home(t.TempDir())
	if err := writeDevHome(h, pass, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := ensureNodeKey(h, pass); err != nil {
		t.Fatal(err)
	}
	cfg, err := node.LoadConfig(h.config())
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP = "127.0.0.1:0"
	r, err := startNode(context.Background(), h, cfg.WithDefaults(), newLogger(io.Discard, "warn"), pass)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.stop() })
	url := "http://" + r.addr
	var out, errOut bytes.Buffer
	if code := run([]string{"gov", "draft", "--home", string(h), "--node", url, "--key", "dir-exchanges",
		"--title", "Console", "--text", "A change for the console to show.",
		"--action", `ledger.set_params={"max_block_txs":5000,"max_block_bytes":16777216}`}, &out, &errOut); code != 0 {
		t.Fatalf("gov draft: exit %d\n%s%s", code, out.String(), errOut.String())
	}

	// The paths the page fetches, and the fields it reads from each.
	get := func(path string, v any) {
		t.Helper()
		res, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	var info map[string]any
	get("/v1/node/info", &info)
	has(t, "/v1/node/info", info, "chain_id", "height", "time", "mempool", "modules", "app_hash")
	if mods, _ := info["modules"].([]any); !slices.Contains(mods, any("gov")) {
		t.Fatalf("the dev node's modules %v lack gov, whose section the console shows", mods)
	}
	var block map[string]any
	get(fmt.Sprintf("/v1/blocks/%v", info["height"]), &block)
	has(t, "/v1/blocks/{h}", block, "header", "txs", "hash")
	header, _ := block["header"].(map[string]any)
	has(t, "/v1/blocks/{h} header", header, "time_ms")
	var changes []map[string]any
	get("/v1/gov/changes", &changes)
	if len(changes) != 1 {
		t.Fatalf("GET /v1/gov/changes: %d changes, want the one drafted", len(changes))
	}
	has(t, "/v1/gov/changes", changes[0], "id", "title", "status")
	var change map[string]any
	get(fmt.Sprintf("/v1/gov/changes/%v", changes[0]["id"]), &change)
	has(t, "/v1/gov/changes/{id}", change, "id", "title", "status", "round", "timeline", "actions")
	steps, _ := change["timeline"].([]any)
	actions, _ := change["actions"].([]any)
	if len(steps) == 0 || len(actions) == 0 {
		t.Fatalf("GET /v1/gov/changes/{id}: timeline %v, actions %v", steps, actions)
	}
	step, _ := steps[0].(map[string]any)
	has(t, "a change's timeline step", step, "time", "what")
	act, _ := actions[0].(map[string]any)
	has(t, "a change's action", act, "action")

	// Every path the page fetches is one checked above.
	page, err := os.ReadFile("../../internal/api/console/index.html")
	if err != nil {
		t.Fatal(err)
	}
	checked := []string{"/v1/blocks/", "/v1/gov/changes", "/v1/gov/changes/", "/v1/node/info"}
	var fetched []string
	for _, m := range regexp.MustCompile(`get\("([^"]+)"`).FindAllStringSubmatch(string(page), -1) {
		if !slices.Contains(fetched, m[1]) {
			fetched = append(fetched, m[1])
		}
	}
	slices.Sort(fetched)
	if !slices.Equal(fetched, checked) {
		t.Errorf("the console fetches %q; this test checks %q: check the new paths' fields too", fetched, checked)
	}
}

// has fails t unless the object m, the answer of what, has every key.
func has(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s has no %q, which the console reads (it has %v)", what, k, slices.Sorted(maps.Keys(m)))
		}
	}
}
