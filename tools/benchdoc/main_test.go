package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/bench"
)

func TestWriteGoBench(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gobench.txt")
	out := `goos: linux
pkg: github.com/agora-ledger/agora/internal/node
cpu: AMD EPYC
BenchmarkSubmit-2   	   20000	     64618 ns/op	    5123 B/op	      61 allocs/op
BenchmarkBlock-2    	   20000	      2170 ns/op
pkg: github.com/agora-ledger/agora/internal/smt
BenchmarkProve-2    	     300	   1530000 ns/op	       812.0 proof-bytes
PASS
`
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := writeGoBench(&b, path); err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{
		"| `internal/node` | Submit | 64.6 µs | 5123 | 61 |  |",
		"| `internal/node` | Block | 2.2 µs |  |  |  |",
		"| `internal/smt` | Prove | 1.53 ms |  |  | 812.0 proof-bytes |",
	} {
		if !strings.Contains(b.String(), row) {
			t.Errorf("no row %q in\n%s", row, b.String())
		}
	}
	if err := os.WriteFile(path, []byte("PASS\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeGoBench(&b, path); err == nil {
		t.Error("an output without benchmarks was tabulated")
	}
}

func TestWriteNetwork(t *testing.T) {
	reps := []bench.Report{
		{Validators: 4, Concurrency: 16, Batch: 100, TxPerSec: 2100, P99ms: 1800, Commit: "abc1234"},
		{Validators: 4, Concurrency: 24, Batch: 100, TxPerSec: 2300, P99ms: 2100, Commit: "abc1234"},
		{Validators: 4, Concurrency: 8, Batch: 100, TxPerSec: 1500, P99ms: 900, Commit: "old0000"},
	}
	at := func(r bench.Report) string {
		if r.Commit != "abc1234" {
			return " (at `" + r.Commit + "`)"
		}
		return ""
	}
	var b strings.Builder
	writeNetwork(&b, reps, at)
	for _, want := range []string{"A network of 4 validators", "| 16 × 100 | 2100 |", "| 8 × 100 (at `old0000`) | 1500 |", "met in 1 of 3 runs"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
}

func TestWriteGoals(t *testing.T) {
	scen := []bench.Report{
		{Scenario: "notary", TxPerSec: 15000, Ratio: 0.4, P99ms: 200},
		{Scenario: "resolve-proof", TxPerSec: 21000},
	}
	net := []bench.Report{
		{Validators: 4, Concurrency: 16, Batch: 100, TxPerSec: 2100, P99ms: 1500},
		{Validators: 4, Concurrency: 24, Batch: 100, TxPerSec: 1900, P99ms: 1500},
		{Validators: 4, Concurrency: 16, Batch: 100, TxPerSec: 2050, P99ms: 1900},
	}
	soak := []bench.Report{{DurationS: 1800, TxPerSec: 4000, CapacityEnd: 5000, LoadShare: 0.8, MemGrowth: 1.05, P99Spread: 1.8}}
	var b strings.Builder
	writeGoals(&b, scen, net, soak)
	for _, want := range []string{
		"ratio 0.400, p99 200 ms | **no** |",
		"21000 req/s | yes |",
		"16 × 100: 2 of 2 runs; 24 × 100: 0 of 1 runs | yes |",
		"30 minutes at 4000 tx/s, 80% of 5000; memory 1.05×, p99 spread 1.80× | yes |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
}
