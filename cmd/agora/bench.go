package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/agora-ledger/agora/internal/bench"
	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/tx"
)

const benchUsageText = `
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
{scenarios}

For the read scenarios the report counts requests, not transactions:
committed is the requests answered 200 OK, tx_per_sec is requests per
second, and latency is per request. The ceiling is still the machine's
Ed25519 verifications per second (a proven answer carries a signed
checkpoint but costs the node no verification).

Scale and soak:
  --preload N    first commit N notary anchors (as fast as the node takes
                 them), then run the scenario on that ledger; the report
                 adds the records, the size of a proven answer about one
                 of them, the store's bytes per record and, for an
                 embedded node, the time it takes to start again
  --rate R       pace the load to R tx/s, or to P% of the capacity that a
                 10 s probe measures first ("80%"), signing as it goes; a
                 second probe after the run measures the capacity left on
                 the ledger it grew, and the report says which share of
                 it the run held (capacity falls as the state grows, so
                 80% of the first probe is more than a long run holds)
  --every D      report a sample (throughput, p50, p99, resident memory)
                 every D, with the memory growth and p99 spread over the
                 run's second half (the caches fill in the first)

Examples:
  agora bench
  agora bench --preload 1000000 --scenario notary --duration 10s --json
  agora bench --rate 80% --duration 30m --every 1m --json    # a soak
  agora bench --scenario notary --duration 10s --json
  agora bench --scenario did-create --duration 10s --json
  agora bench --scenario did-rotate --duration 10s --json
  agora bench --scenario resolve-proof --setup 10000 --duration 10s --json
  agora bench --node http://127.0.0.1:7780 --concurrency 32
`

// benchUsage is the usage of 'agora bench', with the registry's
// scenarios.
func benchUsage() string {
	var b strings.Builder
	for _, sc := range scenarios() {
		fmt.Fprintf(&b, "  %-15s%s\n", sc.Name, wrap(sc.Summary, 17, 75))
	}
	return strings.Replace(benchUsageText, "{scenarios}", strings.TrimSuffix(b.String(), "\n"), 1)
}

// wrap breaks s into lines of at most width columns, indenting the lines
// after the first by indent spaces; the first line starts at indent.
func wrap(s string, indent, width int) string {
	var b strings.Builder
	col := indent
	for i, w := range strings.Fields(s) {
		switch {
		case i == 0:
		case col+1+len(w) > width:
			b.WriteString("\n" + strings.Repeat(" ", indent))
			col = indent
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("bench", benchUsage(), stderr)
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
	preload := fs.Uint64("preload", 0, "commit `N` notary anchors before the run")
	rate := fs.String("rate", "", "pace the load to `R` tx/s, or P% of a measured capacity")
	every := fs.Duration("every", 0, "report a sample every `D`")
	list := fs.Bool("list", false, "list the scenarios' names and exit")
	pathsOut := fs.String("paths", "", "read scenarios: write the paths read, one a line, to `FILE` (for an outside load generator such as wrk)")
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *list {
		for _, sc := range scenarios() {
			fmt.Fprintln(stdout, sc.Name)
		}
		return nil
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
	sc, err := bench.FindScenario(scenarios(), *scenario)
	if err != nil {
		return cli.UsageError("%v", err)
	}
	if *duration <= 0 || *concurrency < 1 || *batch < 1 {
		return cli.UsageError("--duration, --concurrency and --batch must be positive")
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
	if sc.Genesis != nil && !embedded {
		return cli.UsageError("scenario %s sets up its own ledger: run it without --node", sc.Name)
	}
	if sc.Genesis != nil && *concurrency > 63 {
		return cli.UsageError("scenario %s gives each worker a Board seat: at most 63 workers", sc.Name)
	}
	var workerKeys []*tx.PrivateKey
	var setupKey *tx.PrivateKey
	var rn *running
	if embedded {
		dir, err := os.MkdirTemp("", "agora-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		h := home(dir)
		g := &ledger.Genesis{ChainID: "agora-bench", Time: time.Now().UTC().Truncate(time.Second), Params: ledger.DefaultParams()}
		// The workers sign from fresh keys: the free quota for keys
		// without standing is the whole block, so that the run measures
		// the node, not the quota.
		g.Params.FreeBlockTxs, g.Params.FreeBlockBytes = &g.Params.MaxBlockTxs, &g.Params.MaxBlockBytes
		if sc.Genesis != nil {
			if workerKeys, setupKey, err = scenarioKeys(*concurrency); err != nil {
				return err
			}
			pubs := make([]tx.PublicKey, len(workerKeys))
			for i, k := range workerKeys {
				pubs[i] = k.Public()
			}
			if err := sc.Genesis(g, pubs, setupKey.Public()); err != nil {
				return err
			}
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
	var samples [][]byte
	if *preload > 0 {
		progress("preloading %d notary anchors...\n", *preload)
		t := time.Now()
		samples, err = bench.Preload(ctx, client.New(target), *preload, *concurrency, *batch, func(done uint64) {
			progress("\r  %5.0fs  committed %10d  %8.0f tx/s", time.Since(t).Seconds(), done, float64(done)/time.Since(t).Seconds())
		})
		progress("\n")
		if err != nil {
			return err
		}
	}
	var pace float64
	if *rate != "" {
		if pace, err = benchRate(ctx, *rate, client.New(target), sc, *concurrency, *batch, progress); err != nil {
			return err
		}
		progress("pacing the load at %.0f tx/s\n", pace)
	}
	n := *presign
	if n == 0 && pace == 0 {
		n = int(1.25*ceiling*duration.Seconds()) + *concurrency**batch // the ceiling bounds the rate; a quarter more, as a run on a busy machine may measure it low
	}
	if sc.Path != nil {
		progress("signing and committing %d transactions to read...\n", *setup)
	} else if pace > 0 {
		progress("signing each batch as it goes\n")
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
		Rate: pace, Every: *every, Memory: nodeMemory(rn), Keys: workerKeys, SetupKey: setupKey,
		Paths: func(paths []string) error {
			if *pathsOut == "" {
				return nil
			}
			return os.WriteFile(*pathsOut, []byte(strings.Join(paths, "\n")+"\n"), 0o644)
		},
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
	if pace > 0 {
		progress("probing the capacity left at the end for 10s...\n")
		end, err := probeCapacity(ctx, client.New(target), sc, *concurrency, *batch)
		if err != nil {
			return err
		}
		rep.CapacityEnd, rep.LoadShare = end, rep.TxPerSec/end
		progress("capacity at the end: %.0f tx/s; the run held %.0f%% of it\n", end, 100*rep.LoadShare)
	}
	rep.Node = target
	rep.Commit = buildCommit()
	if !embedded {
		var vals []json.RawMessage
		if err := client.New(target).Get(ctx, "/v1/ledger/validators", &vals); err == nil {
			rep.Validators = len(vals)
		}
	}
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
	if *preload > 0 {
		if err := measureScale(ctx, rep, *preload, samples, target, rn, stderr); err != nil {
			return err
		}
	}
	if *asJSON {
		if perr := cli.PrintJSON(stdout, rep); perr != nil {
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
		if rep.Records > 0 {
			fmt.Fprintf(stdout, "scale        %d records: a proven answer %d bytes, %.0f bytes of store per record", rep.Records, rep.ProofBytes, rep.DiskBytesPerRecord)
			if rep.RestartS > 0 {
				fmt.Fprintf(stdout, ", restart %.2fs", rep.RestartS)
			}
			fmt.Fprintln(stdout)
		}
		for _, sm := range rep.Samples {
			fmt.Fprintf(stdout, "  %6.0fs  %8.0f tx/s  p50 %6.1f ms  p99 %6.1f ms  rss %5.0f MB  heap %5.0f MB  store caches %5.0f MB\n",
				sm.ElapsedS, sm.TxPerSec, sm.P50ms, sm.P99ms, sm.RSSMB, sm.HeapMB, sm.CacheMB)
		}
		if rep.MemGrowth > 0 {
			fmt.Fprintf(stdout, "soak         second half: memory %.2f× (Go heap %.2f×) from its start to the end; worst p99 %.2f× the median\n", rep.MemGrowth, rep.HeapGrowth, rep.P99Spread)
		}
	}
	return err
}

// benchRate parses --rate: a rate in tx/s, or a share of the capacity a
// 10 s probe measures first, signing as it goes as the paced run will.
func benchRate(ctx context.Context, s string, c *client.Client, sc bench.Scenario, conc, batch int, progress func(string, ...any)) (float64, error) {
	pct, isPct := strings.CutSuffix(s, "%")
	v, err := strconv.ParseFloat(pct, 64)
	if err != nil || v <= 0 || (isPct && v > 100) {
		return 0, cli.UsageError("--rate %q: want tx/s (5000) or a share of the capacity (80%%)", s)
	}
	if !isPct {
		return v, nil
	}
	progress("probing capacity for 10s...\n")
	capacity, err := probeCapacity(ctx, c, sc, conc, batch)
	if err != nil {
		return 0, err
	}
	progress("capacity: %.0f tx/s (signing as it goes)\n", capacity)
	return capacity * v / 100, nil
}

// probeCapacity measures for 10 s the throughput the node takes when not
// paced, signing as it goes as a paced run does.
func probeCapacity(ctx context.Context, c *client.Client, sc bench.Scenario, conc, batch int) (float64, error) {
	probe, err := bench.Run(ctx, c, bench.Options{Scenario: sc, Duration: 10 * time.Second, Concurrency: conc, Batch: batch, Live: true})
	if err != nil {
		return 0, err
	}
	return probe.TxPerSec, nil
}

// nodeMemory returns the memory of the embedded node rn (nil: the node
// is another process's, and unmeasured). The load generator shares the
// process and its heap, and adds to both.
func nodeMemory(rn *running) func() bench.Memory {
	if rn == nil {
		return nil
	}
	st := rn.driver.Store()
	heap := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	return func() bench.Memory {
		metrics.Read(heap)
		m := st.Memory()
		return bench.Memory{RSSMB: rssMB(), HeapMB: float64(heap[0].Value.Uint64()) / (1 << 20),
			CacheMB: float64(m.BlockCache+m.MemTables) / (1 << 20)}
	}
}

// rssMB returns this process's resident memory in MB (Linux), 0 elsewhere.
func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// measureScale adds to rep what a preloaded ledger costs: the size of a
// proven answer about a preloaded record, the store's bytes per record
// and, for an embedded node (rn), how long it takes to start again.
func measureScale(ctx context.Context, rep *bench.Report, records uint64, samples [][]byte, target string, rn *running, stderr io.Writer) error {
	rep.Records = records
	c := client.New(target)
	if len(samples) > 0 {
		_, body, err := c.GetRaw(ctx, "/v1/notary/anchors/"+hex.EncodeToString(samples[0])+"?proof=1")
		if err != nil {
			return err
		}
		rep.ProofBytes = len(body)
	}
	if rn == nil {
		return nil
	}
	h := rn.home
	if err := rn.stop(); err != nil {
		return err
	}
	var size int64
	filepath.WalkDir(h.data(), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	rep.DiskBytesPerRecord = float64(size) / float64(records+rep.Committed)
	t := time.Now()
	again, err := startNode(ctx, h, node.Config{HTTP: "127.0.0.1:0", LogLevel: "warn"}, newLogger(stderr, "warn"), "bench")
	if err != nil {
		return err
	}
	rep.RestartS = time.Since(t).Seconds()
	return again.stop()
}

// scenarioKeys makes the keys of a scenario that sets up its own ledger:
// one per worker, and the setup key.
func scenarioKeys(n int) ([]*tx.PrivateKey, *tx.PrivateKey, error) {
	keys := make([]*tx.PrivateKey, n+1)
	for i := range keys {
		k, err := tx.GenerateKey(tx.Ed25519, rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		keys[i] = k
	}
	return keys[:n], keys[n], nil
}

// buildCommit is the commit this binary was built from (Go records it
// when building in a Git checkout), shortened, with "+dirty" if the tree
// had changes; "" if unknown.
func buildCommit() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 7 {
		rev = rev[:7]
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}
