package bench

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"time"

	"github.com/agora-ledger/agora/internal/client"
)

// A ceremony scenario (Scenario.Ceremony) measures something that takes
// several transactions from several parties, each acting on what the
// last committed: a custody DKG, a threshold signature. It runs its
// ceremonies against the node, a wave of Concurrency at a time, until
// Count are done or Duration has passed (at least one wave), and
// returns each one's latency. The report counts ceremonies where a
// write scenario counts transactions: Committed the ceremonies done,
// TxPerSec ceremonies per second, the percentiles theirs, and Ratio that
// rate over the ceiling, as for every scenario.

// CeremonyOptions are what a ceremony scenario runs.
type CeremonyOptions struct {
	Count       int // ceremonies to complete; 0: as many as Duration allows
	Concurrency int // ceremonies in one wave
	Duration    time.Duration
	// Size is the scenario's parameter, such as "3-of-5" (t of n); ""
	// for its default.
	Size string
	// Every, if positive, samples the memory every that many
	// ceremonies.
	Every int
	// Signer, if set, starts a party's daemon (a custody signer) as a
	// process of its own; nil runs it in this process.
	Signer SignerProc
	// Log receives what the parties' daemons say; nil for nothing.
	Log io.Writer
	// Progress, if set, is called after each wave with the ceremonies
	// done.
	Progress func(elapsed time.Duration, done uint64)
}

// SignerProc starts the daemon 'agora ARGS...' with the passphrase pass
// for its key, its output to out, until ctx is done; it returns a
// function that reads its memory (resident, and the live heap its last
// garbage collection marked) and one that waits for it to end.
type SignerProc func(ctx context.Context, args []string, pass string, out io.Writer) (mem func() Memory, wait func() error, err error)

// CeremonyResult is what a ceremony scenario measured.
type CeremonyResult struct {
	Latencies []time.Duration
	// Elapsed is the time the ceremonies took, set-up excluded.
	Elapsed time.Duration
	// Samples, with CeremonyOptions.Every, are the memory of the
	// parties' daemons at intervals: Done ceremonies in, the process's
	// (or, for daemons in processes of their own, the largest of their
	// resident sets).
	Samples []Sample
}

// measureCeremony runs the ceremony scenario of cfg against the node at
// target and completes a report.
func measureCeremony(ctx context.Context, cfg Config, target string, progress func(string, ...any)) (*Report, error) {
	sc := cfg.Scenario
	c := client.New(target)
	count := cfg.Count
	progress("running %s ceremonies (%s), %d at a time...\n", sc.Name, orDefault(cfg.Size, "default size"), cfg.Concurrency)
	res, err := sc.Ceremony(ctx, c, CeremonyOptions{Count: count, Concurrency: cfg.Concurrency, Duration: cfg.Duration,
		Size: cfg.Size, Every: cfg.EveryN, Signer: cfg.Signer, Log: cfg.SignerLog,
		Progress: func(el time.Duration, done uint64) {
			progress("\r  %5.1fs  done %9d  %9.2f /s", el.Seconds(), done, float64(done)/el.Seconds())
		}})
	progress("\n")
	if res == nil {
		return nil, err
	}
	elapsed := res.Elapsed
	var h histogram
	for _, d := range res.Latencies {
		h.add(d, 1)
	}
	n := uint64(len(res.Latencies))
	rep := &Report{Scenario: sc.Name, DurationS: elapsed.Seconds(), Committed: n, TxPerSec: float64(n) / elapsed.Seconds(),
		Concurrency: cfg.Concurrency, Batch: 1, Cores: runtime.NumCPU(), Size: cfg.Size,
		P50ms: ms(h.percentile(0.50)), P95ms: ms(h.percentile(0.95)), P99ms: ms(h.percentile(0.99)), MaxMs: ms(h.percentile(1))}
	rep.Samples = res.Samples
	if s := res.Samples; len(s) >= 2 {
		if s[0].RSSMB > 0 {
			rep.MemGrowth = s[len(s)-1].RSSMB / s[0].RSSMB
		}
		if s[0].HeapMB > 0 {
			rep.HeapGrowth = s[len(s)-1].HeapMB / s[0].HeapMB
		}
	}
	return rep, err
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// liveHeapMB collects garbage and returns the Go heap's live objects in
// MB: what a process still holds, the measure of a leak.
func liveHeapMB() float64 {
	runtime.GC()
	heap := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(heap)
	return float64(heap[0].Value.Uint64()) / (1 << 20)
}

// ceremonyError names the ceremony that failed.
func ceremonyError(what string, err error) error { return fmt.Errorf("bench: %s: %w", what, err) }
