package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agora-ledger/agora/internal/bench"
	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
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

Ceremonies (custody-dkg, custody-sign): the report counts ceremonies,
each of several transactions from several parties, instead of
transactions; tx_per_sec is ceremonies per second (signatures per second
for custody-sign) and the ratio is that over the ceiling. The key holders
run the signer daemon of 'agora custody signer run', each with its own
home and keystore, following the event feed and checking every answer
against a proof; the bench is the wallet's owner and approver.
  --size T-of-N  the wallets' threshold and holders (default 3-of-5)
  --count N      stop after N ceremonies (0: when --duration is over);
                 --concurrency is how many run at once, a wave at a time
  --every-n N    sample the signers' memory every N ceremonies
  --signer-procs run each signer as a process of its own ('agora custody
                 signer run'), whose resident memory the samples read;
                 otherwise they run in the bench's process
  --signer-log FILE  append what the signers say to FILE

Examples:
  agora bench
  agora bench --scenario custody-dkg --size 3-of-5 --count 20 --concurrency 1
  agora bench --scenario custody-sign --count 10000 --concurrency 16 --every-n 1000 --signer-procs
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
	return strings.Replace(benchUsageText, "{scenarios}", bench.ScenarioList(scenarios()), 1)
}

// runBench parses the flags of 'agora bench'; internal/bench measures.
func runBench(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("bench", benchUsage(), stderr)
	scenario := fs.String("scenario", "notary", "workload to run")
	var cfg bench.Config
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to submit")
	fs.StringVar(&cfg.Node, "node", "", "node to measure (default: an embedded node in a temporary home)")
	fs.IntVar(&cfg.Concurrency, "concurrency", 32, "concurrent workers, each with its own account")
	fs.IntVar(&cfg.Batch, "batch", 100, "transactions per request")
	fs.IntVar(&cfg.Presign, "presign", 0, "transactions to sign before the run (default: enough for the ceiling rate)")
	fs.IntVar(&cfg.Setup, "setup", 10000, "read scenarios: transactions to commit before reading")
	fs.DurationVar(&cfg.CeilingFor, "ceiling-time", 2*time.Second, "how long to measure the ceiling")
	asJSON := fs.Bool("json", false, "print one JSON object")
	quiet := fs.Bool("q", false, "no progress output")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE`")
	fs.Uint64Var(&cfg.Preload, "preload", 0, "commit `N` notary anchors before the run")
	fs.StringVar(&cfg.Rate, "rate", "", "pace the load to `R` tx/s, or P% of a measured capacity")
	fs.DurationVar(&cfg.Every, "every", 0, "report a sample every `D`")
	list := fs.Bool("list", false, "list the scenarios' names and exit")
	fs.IntVar(&cfg.Count, "count", 0, "ceremonies: stop after `N` (0: when --duration is over)")
	fs.StringVar(&cfg.Size, "size", "", "ceremonies: the wallets' `T-of-N` (default 3-of-5)")
	fs.IntVar(&cfg.EveryN, "every-n", 0, "ceremonies: sample the signers' memory every `N` ceremonies")
	signerProcs := fs.Bool("signer-procs", false, "ceremonies: run each signer as a process of its own")
	signerLog := fs.String("signer-log", "", "ceremonies: append what the signers say to `FILE`")
	fs.StringVar(&cfg.PathsFile, "paths", "", "read scenarios: write the paths read, one a line, to `FILE` (for an outside load generator such as wrk)")
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *list {
		for _, sc := range scenarios() {
			fmt.Fprintln(stdout, sc.Name)
		}
		return nil
	}
	stopProfile, err := cli.StartCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	if cfg.Scenario, err = bench.FindScenario(scenarios(), *scenario); err != nil {
		return cli.UsageError("%v", err)
	}
	if cfg.Duration <= 0 || cfg.Concurrency < 1 || cfg.Batch < 1 {
		return cli.UsageError("--duration, --concurrency and --batch must be positive")
	}
	if !*quiet {
		cfg.Log = stderr
	}
	if *signerProcs {
		cfg.Signer = signerProcess
	}
	if *signerLog != "" {
		f, err := os.OpenFile(*signerLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.SignerLog = f
	}
	rep, err := bench.Measure(context.Background(), cfg, benchNode(stderr))
	if rep == nil {
		return err
	}
	if *asJSON {
		if perr := cli.PrintJSON(stdout, rep); perr != nil {
			return perr
		}
	} else {
		rep.WriteText(stdout, cfg.Scenario)
	}
	return err
}

// benchNode is the embedded node of 'agora bench' when it is given no
// --node: a node of a fresh home, logging warnings to stderr.
func benchNode(stderr io.Writer) bench.Embedded {
	const pass = "bench"
	return bench.Embedded{
		Init: func(dir string, g *ledger.Genesis) error {
			if err := writeGenesis(home(dir), g); err != nil {
				return err
			}
			_, err := ensureNodeKey(home(dir), pass)
			return err
		},
		Start: func(ctx context.Context, dir string) (*bench.Node, error) {
			rn, err := startNode(ctx, home(dir), node.Config{HTTP: "127.0.0.1:0", LogLevel: "warn"}, newLogger(stderr, "warn"), pass)
			if err != nil {
				return nil, err
			}
			st := rn.driver.Store()
			return &bench.Node{Addr: rn.addr, Data: rn.home.data(), Stop: rn.stop, Caches: func() uint64 {
				m := st.Memory()
				return uint64(m.BlockCache + m.MemTables)
			}}, nil
		},
	}
}

// signerProcess starts 'agora ARGS...' from this binary, with the key's
// passphrase in its environment, and interrupts it when ctx is done. Its
// runtime traces each garbage collection (GODEBUG=gctrace=1) on stderr,
// which the bench reads for the live heap and does not pass on.
func signerProcess(ctx context.Context, args []string, pass string, out io.Writer) (func() bench.Memory, func() error, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), "AGORA_PASSPHRASE="+pass, "GODEBUG=gctrace=1")
	trace := &gcTrace{out: out}
	cmd.Stdout, cmd.Stderr = out, trace
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	pid := cmd.Process.Pid
	mem := func() bench.Memory { return bench.Memory{RSSMB: bench.ProcessRSSMB(pid), HeapMB: trace.live()} }
	return mem, func() error { cmd.Wait(); return nil }, nil
}

// gcTrace reads a process's stderr: the runtime's gctrace lines ("gc 7
// @1.2s 0%: ..., 4->4->1 MB, ...") give the live heap the collection
// marked; the other lines go to out.
type gcTrace struct {
	out     io.Writer
	mu      sync.Mutex
	partial []byte
	liveMB  float64
}

var gcLine = regexp.MustCompile(`^gc \d+ @.* (\d+)->(\d+)->(\d+) MB`)

func (g *gcTrace) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.partial = append(g.partial, p...)
	for {
		i := bytes.IndexByte(g.partial, '\n')
		if i < 0 {
			break
		}
		line := g.partial[:i+1]
		if m := gcLine.FindSubmatch(line); m != nil {
			g.liveMB, _ = strconv.ParseFloat(string(m[3]), 64)
		} else {
			g.out.Write(line)
		}
		g.partial = g.partial[i+1:]
	}
	return len(p), nil
}

func (g *gcTrace) live() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.liveMB
}
