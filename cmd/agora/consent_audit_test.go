package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/agora-ledger/agora/internal/bench"
	"github.com/agora-ledger/agora/internal/client"
)

// BenchmarkConsentAudit measures the data subject's proven audit of a
// contract with 10,000 logged uses (issue 19's goal): a dev node, the
// contract and its uses committed first (bench.ConsentTrail, what the
// consent-use scenario runs), then each op is one 'agora consent audit':
// the pages of 100 uses, each proven against the log's signed checkpoint
// and checked offline by re-running the query over the proven values.
//
//	go test ./cmd/agora -run '^$' -bench ConsentAudit -benchtime 3x
func BenchmarkConsentAudit(b *testing.B) {
	const uses = 10_000
	h, url := startDevNode(b)
	b.Setenv("AGORA_HOME", string(h)) // where the audit keeps the last checkpoint it accepted
	var info struct {
		ChainID string `json:"chain_id"`
		LogKey  string `json:"log_key"`
	}
	getJSON(b, url+"/v1/node/info", &info)
	terms, setup, logged, err := bench.ConsentTrail(info.ChainID, uses)
	if err != nil {
		b.Fatal(err)
	}
	c := client.New(url)
	for _, raws := range [][][]byte{setup[:2], setup[2:], logged} {
		for i := 0; i < len(raws); i += 1000 {
			items, err := c.SubmitBatchWait(context.Background(), raws[i:min(i+1000, len(raws))])
			if err != nil {
				b.Fatal(err)
			}
			for _, it := range items {
				if it.Error != nil || it.Code != "ok" {
					b.Fatalf("a setup transaction was refused: %+v", it)
				}
			}
		}
	}
	path := filepath.Join(b.TempDir(), "terms.json")
	raw, err := json.Marshal(terms)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		b.Fatal(err)
	}
	pages := regexp.MustCompile(`(?m)^` + strconv.Itoa(uses) + ` uses in 1 contracts, 0 denied or refused\nproven: (\d+) pages`)
	b.ResetTimer()
	for b.Loop() {
		var out, errOut bytes.Buffer
		if code := run([]string{"consent", "audit", path, "--log-key", info.LogKey, "--node", url}, &out, &errOut); code != 0 {
			b.Fatalf("agora consent audit: exit %d\n%s", code, errOut.String())
		}
		m := pages.FindSubmatch(out.Bytes())
		if m == nil {
			b.Fatalf("the audit does not list %d uses in proven pages:\n%s", uses, out.Bytes()[max(0, out.Len()-400):])
		}
		n, _ := strconv.Atoi(string(m[1]))
		b.ReportMetric(float64(n), "pages/op")
	}
}
