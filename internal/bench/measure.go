package bench

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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Config is what 'agora bench' measures, from its flags; Measure runs it.
type Config struct {
	Scenario    Scenario
	Duration    time.Duration
	Node        string // the node's API URL; "": an embedded node
	Concurrency int
	Batch       int
	Presign     int // 0: enough for the ceiling rate
	Setup       int
	CeilingFor  time.Duration // how long to measure the ceiling
	Preload     uint64        // notary anchors to commit first
	Rate        string        // "", tx/s, or a share of the capacity ("80%")
	Every       time.Duration
	PathsFile   string // read scenarios: where to write the paths read
	// Count, Size, EveryN and Signer are a ceremony scenario's
	// (CeremonyOptions: Count, Size, Every, Signer); SignerLog receives
	// what its daemons say.
	Count     int
	Size      string
	EveryN    int
	Signer    SignerProc
	SignerLog io.Writer
	// Log receives the progress; nil for none.
	Log io.Writer
}

// Embedded runs the node a measurement loads when it is given none, in a
// temporary home directory that Measure makes and removes.
type Embedded struct {
	// Init writes a new ledger with genesis g into the empty home.
	Init func(home string, g *ledger.Genesis) error
	// Start runs the node of home, serving its API on a free local port;
	// again, after its Stop, on the ledger it left.
	Start func(ctx context.Context, home string) (*Node, error)
}

// A Node is a running embedded node.
type Node struct {
	Addr string // its API's host:port
	Data string // the directory of its store
	// Caches returns the bytes the store's bounded caches hold (Pebble's
	// block cache and memtables).
	Caches func() uint64
	// Stop stops it and waits; later calls return the first one's result.
	Stop func() error
}

// units are the words of a report: a read scenario counts requests
// answered, the others transactions committed.
type units struct{ done, rate, noun, latency string }

// format prints a rate: whole transactions or requests, ceremonies (a
// few a second) to two decimals.
func (u units) format(v float64) string {
	if u.rate == "ceremonies" {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// formatRatio prints a ratio to the ceiling: to two decimals, or for a
// ceremony (far below the ceiling) to three significant digits.
func (u units) formatRatio(v float64) string {
	if u.rate == "ceremonies" {
		return fmt.Sprintf("%.3g", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func unitsOf(sc Scenario) units {
	if sc.Ceremony != nil {
		return units{"done", "ceremonies", "ceremonies", "per ceremony"}
	}
	if sc.Path != nil {
		return units{"answered", "req", "requests (200 OK)", "per request"}
	}
	return units{"committed", "tx", "transactions", "submit to durable commit"}
}

// Measure runs cfg: it measures the ceiling, starts the embedded node
// (emb) if cfg names none, preloads and paces as cfg says, runs the
// scenario and completes the report. A report comes back with the run's
// error if the run failed partway.
func Measure(ctx context.Context, cfg Config, emb Embedded) (*Report, error) {
	sc := cfg.Scenario
	progress := func(format string, a ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format, a...)
		}
	}
	progress("measuring the ceiling (Ed25519 verifications/s on %d cores)...\n", runtime.GOMAXPROCS(0))
	ceiling := Ceiling(cfg.CeilingFor)
	progress("ceiling: %.0f verifications/s\n", ceiling)

	target := cfg.Node
	embedded := target == ""
	if sc.Genesis != nil && !embedded {
		return nil, cli.UsageError("scenario %s sets up its own ledger: run it without --node", sc.Name)
	}
	if sc.Genesis != nil && cfg.Concurrency > 63 {
		return nil, cli.UsageError("scenario %s gives each worker a Board seat: at most 63 workers", sc.Name)
	}
	var workerKeys []*tx.PrivateKey
	var setupKey *tx.PrivateKey
	var rn *Node
	var dir string
	if embedded {
		var err error
		if dir, err = os.MkdirTemp("", "agora-bench-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		g := &ledger.Genesis{ChainID: "agora-bench", Time: time.Now().UTC().Truncate(time.Second), Params: ledger.DefaultParams()}
		// The workers sign from fresh keys: the free quota for keys
		// without standing is the whole block, so that the run measures
		// the node, not the quota.
		g.Params.FreeBlockTxs, g.Params.FreeBlockBytes = &g.Params.MaxBlockTxs, &g.Params.MaxBlockBytes
		if sc.Genesis != nil {
			if workerKeys, setupKey, err = scenarioKeys(cfg.Concurrency); err != nil {
				return nil, err
			}
			pubs := make([]tx.PublicKey, len(workerKeys))
			for i, k := range workerKeys {
				pubs[i] = k.Public()
			}
			if err := sc.Genesis(g, pubs, setupKey.Public()); err != nil {
				return nil, err
			}
		}
		if err := emb.Init(dir, g); err != nil {
			return nil, err
		}
		if rn, err = emb.Start(ctx, dir); err != nil {
			return nil, err
		}
		defer rn.Stop()
		target = "http://" + rn.Addr
		progress("embedded node at %s (home %s)\n", target, dir)
	}
	if sc.Ceremony != nil {
		rep, err := measureCeremony(ctx, cfg, target, progress)
		if rep == nil {
			return nil, err
		}
		rep.Ceiling, rep.Ratio = ceiling, rep.TxPerSec/ceiling
		rep.Node, rep.Commit = target, buildCommit()
		if embedded {
			rep.Node = "embedded"
		}
		return rep, err
	}
	var samples [][]byte
	if cfg.Preload > 0 {
		progress("preloading %d notary anchors...\n", cfg.Preload)
		t := time.Now()
		var err error
		samples, err = Preload(ctx, client.New(target), cfg.Preload, cfg.Concurrency, cfg.Batch, func(done uint64) {
			progress("\r  %5.0fs  committed %10d  %8.0f tx/s", time.Since(t).Seconds(), done, float64(done)/time.Since(t).Seconds())
		})
		progress("\n")
		if err != nil {
			return nil, err
		}
	}
	var pace float64
	if cfg.Rate != "" {
		var err error
		if pace, err = rate(ctx, cfg.Rate, client.New(target), sc, cfg.Concurrency, cfg.Batch, progress); err != nil {
			return nil, err
		}
		progress("pacing the load at %.0f tx/s\n", pace)
	}
	n := cfg.Presign
	if n == 0 && pace == 0 {
		n = int(1.25*ceiling*cfg.Duration.Seconds()) + cfg.Concurrency*cfg.Batch // the ceiling bounds the rate; a quarter more, as a run on a busy machine may measure it low
	}
	if sc.Path != nil {
		progress("signing and committing %d transactions to read...\n", cfg.Setup)
	} else if pace > 0 {
		progress("signing each batch as it goes\n")
	} else {
		progress("signing %d transactions...\n", n)
	}
	unit := unitsOf(sc)
	var ru0 syscall.Rusage
	var t0 time.Time
	rep, err := Run(ctx, client.New(target), Options{
		Scenario: sc, Duration: cfg.Duration, Concurrency: cfg.Concurrency, Batch: cfg.Batch, Presign: n, Setup: cfg.Setup,
		Rate: pace, Every: cfg.Every, Memory: nodeMemory(rn), Keys: workerKeys, SetupKey: setupKey,
		Paths: func(paths []string) error {
			if cfg.PathsFile == "" {
				return nil
			}
			return os.WriteFile(cfg.PathsFile, []byte(strings.Join(paths, "\n")+"\n"), 0o644)
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
		return nil, err
	}
	rep.Ceiling = ceiling
	rep.Ratio = rep.TxPerSec / ceiling
	if pace > 0 {
		progress("probing the capacity left at the end for 10s...\n")
		end, err := probeCapacity(ctx, client.New(target), sc, cfg.Concurrency, cfg.Batch)
		if err != nil {
			return nil, err
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
	if cfg.Preload > 0 {
		if err := measureScale(ctx, rep, cfg.Preload, samples, target, rn, func() (*Node, error) { return emb.Start(ctx, dir) }); err != nil {
			return nil, err
		}
	}
	return rep, err
}

// WriteText writes the report as 'agora bench' prints it without --json;
// sc is the scenario it measured.
func (rep *Report) WriteText(w io.Writer, sc Scenario) {
	unit := unitsOf(sc)
	fmt.Fprintf(w, `scenario     %s (%s node)
%-12s %d %s in %.1fs (%d failed)
throughput   %s %s/s
latency      p50 %.1f ms   p95 %.1f ms   p99 %.1f ms (%s)
ceiling      %.0f Ed25519 verifications/s on %d cores
ratio        %s of the ceiling
`, rep.Scenario, rep.Node, unit.done, rep.Committed, unit.noun, rep.DurationS, rep.Failed, unit.format(rep.TxPerSec), unit.rate, rep.P50ms, rep.P95ms, rep.P99ms, unit.latency, rep.Ceiling, rep.Cores, unit.formatRatio(rep.Ratio))
	if rep.CPUCores > 0 {
		fmt.Fprintf(w, "process      %.2f cores busy, max RSS %.0f MB (node and load generator together)\n", rep.CPUCores, rep.MaxRSSMB)
	}
	if rep.Records > 0 {
		fmt.Fprintf(w, "scale        %d records: a proven answer %d bytes, %.0f bytes of store per record", rep.Records, rep.ProofBytes, rep.DiskBytesPerRecord)
		if rep.RestartS > 0 {
			fmt.Fprintf(w, ", restart %.2fs", rep.RestartS)
		}
		fmt.Fprintln(w)
	}
	if sc.Ceremony != nil {
		fmt.Fprintf(w, "size         %s, slowest %.1f ms\n", orDefault(rep.Size, "default"), rep.MaxMs)
		for _, sm := range rep.Samples {
			fmt.Fprintf(w, "  %8d done  %6.0fs  rss %6.1f MB", sm.Done, sm.ElapsedS, sm.RSSMB)
			if sm.HeapMB > 0 {
				fmt.Fprintf(w, "  live heap %6.1f MB", sm.HeapMB)
			}
			fmt.Fprintln(w)
		}
		if rep.MemGrowth > 0 {
			fmt.Fprintf(w, "memory       last sample over first: resident %.2f×", rep.MemGrowth)
			if rep.HeapGrowth > 0 {
				fmt.Fprintf(w, ", live heap %.2f×", rep.HeapGrowth)
			}
			fmt.Fprintln(w)
		}
		return
	}
	for _, sm := range rep.Samples {
		fmt.Fprintf(w, "  %6.0fs  %8.0f tx/s  p50 %6.1f ms  p99 %6.1f ms  rss %5.0f MB  heap %5.0f MB  store caches %5.0f MB\n",
			sm.ElapsedS, sm.TxPerSec, sm.P50ms, sm.P99ms, sm.RSSMB, sm.HeapMB, sm.CacheMB)
	}
	if rep.MemGrowth > 0 {
		fmt.Fprintf(w, "soak         second half: memory %.2f× (Go heap %.2f×) from its start to the end; worst p99 %.2f× the median\n", rep.MemGrowth, rep.HeapGrowth, rep.P99Spread)
	}
}

// ScenarioList lists scenarios for a usage text: one a line, each name
// with its summary wrapped at 75 columns, the lines indented by two.
func ScenarioList(scenarios []Scenario) string {
	var b strings.Builder
	for _, sc := range scenarios {
		fmt.Fprintf(&b, "  %-15s%s\n", sc.Name, wrap(sc.Summary, 17, 75))
	}
	return strings.TrimSuffix(b.String(), "\n")
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

// rate parses --rate: a rate in tx/s, or a share of the capacity a 10 s
// probe measures first, signing as it goes as the paced run will.
func rate(ctx context.Context, s string, c *client.Client, sc Scenario, conc, batch int, progress func(string, ...any)) (float64, error) {
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
func probeCapacity(ctx context.Context, c *client.Client, sc Scenario, conc, batch int) (float64, error) {
	probe, err := Run(ctx, c, Options{Scenario: sc, Duration: 10 * time.Second, Concurrency: conc, Batch: batch, Live: true})
	if err != nil {
		return 0, err
	}
	return probe.TxPerSec, nil
}

// nodeMemory returns the memory of the embedded node rn (nil: the node
// is another process's, and unmeasured). The load generator shares the
// process and its heap, and adds to both.
func nodeMemory(rn *Node) func() Memory {
	if rn == nil {
		return nil
	}
	heap := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	return func() Memory {
		metrics.Read(heap)
		return Memory{RSSMB: rssMB(), HeapMB: float64(heap[0].Value.Uint64()) / (1 << 20),
			CacheMB: float64(rn.Caches()) / (1 << 20)}
	}
}

// rssMB returns this process's resident memory in MB (Linux), 0 elsewhere.
func rssMB() float64 { return statusRSS("/proc/self/status") }

// ProcessRSSMB returns process pid's resident memory in MB (Linux), 0
// elsewhere.
func ProcessRSSMB(pid int) float64 { return statusRSS(fmt.Sprintf("/proc/%d/status", pid)) }

func statusRSS(path string) float64 {
	b, err := os.ReadFile(path)
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
// and, for an embedded node (rn, which restart starts again), how long it
// takes to start again.
func measureScale(ctx context.Context, rep *Report, records uint64, samples [][]byte, target string, rn *Node, restart func() (*Node, error)) error {
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
	if err := rn.Stop(); err != nil {
		return err
	}
	var size int64
	filepath.WalkDir(rn.Data, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	rep.DiskBytesPerRecord = float64(size) / float64(records+rep.Committed)
	t := time.Now()
	again, err := restart()
	if err != nil {
		return err
	}
	rep.RestartS = time.Since(t).Seconds()
	return again.Stop()
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
