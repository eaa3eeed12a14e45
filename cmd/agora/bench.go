package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/agora-ledger/agora/internal/bench"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
)

const benchUsage = `
Usage: agora bench [--scenario NAME] [--duration 10s] [--node URL] [--json]

Measures committed transactions per second and submit-to-commit latency
(p50/p95/p99), beside this machine's ceiling: Ed25519 verifications per
second on all cores, measured in the same run. Without --node it starts
its own embedded node in a temporary home (removed afterwards), durable
as always: every block is fsynced before its transactions count.

Transactions are signed before the clock starts, each worker from its own
fresh account, and submitted in batches with POST /v1/txs?wait=commit; a
transaction's latency is that of its batch, from submission to commit.

Scenarios:
  notary         each transaction anchors a new SHA-256 (notary/anchor)
  did-create     each transaction creates a new did:agora DID, controlled
                 by the worker's key (identity/create)
  did-rotate     each transaction rotates a DID's controller to the key its
                 last event committed to, signed by that key and committing
                 to a new one (identity/rotate); the DIDs (one per 63
                 rotations, a DID's most keys) are created before the clock
  resolve        reads: commits --setup DIDs first, then --concurrency
                 workers resolve them round robin with
                 GET /1.0/identifiers/{did}, each over one keep-alive
                 connection
  resolve-proof  the same reads with proof=1 (state proof and checkpoint)

For the read scenarios the report counts requests, not transactions:
committed is the requests answered 200 OK, tx_per_sec is requests per
second, and latency is per request. The ceiling is still the machine's
Ed25519 verifications per second (a proven answer carries a signed
checkpoint but costs the node no verification).

Examples:
  agora bench
  agora bench --scenario notary --duration 10s --json
  agora bench --scenario did-create --duration 10s --json
  agora bench --scenario did-rotate --duration 10s --json
  agora bench --scenario resolve-proof --setup 10000 --duration 10s --json
  agora bench --node http://127.0.0.1:7780 --concurrency 32
`

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", benchUsage, stderr)
	scenario := fs.String("scenario", "notary", "workload to run")
	duration := fs.Duration("duration", 10*time.Second, "how long to submit")
	nodeURL := fs.String("node", "", "node to measure (default: an embedded node in a temporary home)")
	concurrency := fs.Int("concurrency", 32, "concurrent workers, each with its own account")
	batch := fs.Int("batch", 100, "transactions per request")
	presign := fs.Int("presign", 0, "transactions to sign before the run (default: enough for the ceiling rate)")
	setup := fs.Int("setup", 10000, "read scenarios: transactions to commit before reading")
	ceilingFor := fs.Duration("ceiling-time", 2*time.Second, "how long to measure the ceiling")
	asJSON := fs.Bool("json", false, "print one JSON object")
	quiet := fs.Bool("q", false, "no progress output")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE`")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	sc, err := bench.FindScenario(*scenario)
	if err != nil {
		return usageError("%v", err)
	}
	if *duration <= 0 || *concurrency < 1 || *batch < 1 {
		return usageError("--duration, --concurrency and --batch must be positive")
	}
	progress := func(format string, a ...any) {
		if !*quiet {
			fmt.Fprintf(stderr, format, a...)
		}
	}

	progress("measuring the ceiling (Ed25519 verifications/s on %d cores)...\n", runtime.GOMAXPROCS(0))
	ceiling := bench.Ceiling(*ceilingFor)
	progress("ceiling: %.0f verifications/s\n", ceiling)

	ctx := context.Background()
	target := *nodeURL
	embedded := target == ""
	var rn *running
	if embedded {
		dir, err := os.MkdirTemp("", "agora-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		h := home(dir)
		g := &ledger.Genesis{ChainID: "agora-bench", Time: time.Now().UTC().Truncate(time.Second), Params: ledger.DefaultParams()}
		if err := setNotaryGenesis(g, "open", nil); err != nil {
			return err
		}
		if err := writeGenesis(h, g); err != nil {
			return err
		}
		const pass = "bench"
		if _, err := ensureNodeKey(h, pass); err != nil {
			return err
		}
		rn, err = startNode(ctx, h, node.Config{HTTP: "127.0.0.1:0", LogLevel: "warn"}, newLogger(stderr, "warn"), pass)
		if err != nil {
			return err
		}
		defer rn.stop()
		target = "http://" + rn.addr
		progress("embedded node at %s (home %s)\n", target, dir)
	}
	n := *presign
	if n == 0 {
		n = int(ceiling*duration.Seconds()) + *concurrency**batch
	}
	if sc.Path != nil {
		progress("signing and committing %d transactions to read...\n", *setup)
	} else {
		progress("signing %d transactions...\n", n)
	}
	unit := struct{ done, rate, noun, latency string }{"committed", "tx", "transactions", "submit to durable commit"}
	if sc.Path != nil {
		unit.done, unit.rate, unit.noun, unit.latency = "answered", "req", "requests (200 OK)", "per request"
	}
	var ru0 syscall.Rusage
	var t0 time.Time
	rep, err := bench.Run(ctx, client.New(target), bench.Options{
		Scenario: sc, Duration: *duration, Concurrency: *concurrency, Batch: *batch, Presign: n, Setup: *setup,
		Started: func() {
			t0 = time.Now()
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		},
		Progress: func(el time.Duration, committed uint64) {
			progress("\r  %5.1fs  %s %9d  %9.0f %s/s", el.Seconds(), unit.done, committed, float64(committed)/el.Seconds(), unit.rate)
		},
	})
	progress("\n")
	if rep == nil {
		return err
	}
	rep.Ceiling = ceiling
	rep.Ratio = rep.TxPerSec / ceiling
	rep.Node = target
	if embedded {
		rep.Node = "embedded"
		var ru1 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		if !t0.IsZero() {
			cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond
			rep.CPUCores = cpu.Seconds() / time.Since(t0).Seconds()
		}
		rep.MaxRSSMB = float64(ru1.Maxrss) / 1024
	}
	if *asJSON {
		if perr := printJSON(stdout, rep); perr != nil {
			return perr
		}
	} else {
		fmt.Fprintf(stdout, `scenario     %s (%s node)
%-12s %d %s in %.1fs (%d failed)
throughput   %.0f %s/s
latency      p50 %.1f ms   p95 %.1f ms   p99 %.1f ms (%s)
ceiling      %.0f Ed25519 verifications/s on %d cores
ratio        %.2f of the ceiling
`, rep.Scenario, rep.Node, unit.done, rep.Committed, unit.noun, rep.DurationS, rep.Failed, rep.TxPerSec, unit.rate, rep.P50ms, rep.P95ms, rep.P99ms, unit.latency, rep.Ceiling, rep.Cores, rep.Ratio)
		if rep.CPUCores > 0 {
			fmt.Fprintf(stdout, "process      %.2f cores busy, max RSS %.0f MB (node and load generator together)\n", rep.CPUCores, rep.MaxRSSMB)
		}
	}
	return err
}
