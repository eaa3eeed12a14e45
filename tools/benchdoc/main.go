// Command benchdoc writes the generated part of docs/BENCHMARKS.md, and
// its charts, from the JSON reports of 'agora bench'. scripts/benchmarks.sh
// runs the benchmarks and then this; run that, not this.
//
//	go run ./tools/benchdoc -in results.json -doc docs/BENCHMARKS.md -charts docs/bench \
//	    -command "bash scripts/benchmarks.sh" -machine "2 vCPU, 24 GiB" -commit abc123
//
// The input is the reports one after another (as 'agora bench --json'
// prints them). The section between the lines "<!-- benchdoc:begin -->"
// and "<!-- benchdoc:end -->" of the document is replaced; the rest of the
// document is left as it is.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/agora-ledger/agora/internal/bench"
)

const (
	begin = "<!-- benchdoc:begin -->"
	end   = "<!-- benchdoc:end -->"
)

func main() {
	in := flag.String("in", "", "the reports, JSON objects one after another")
	doc := flag.String("doc", "docs/BENCHMARKS.md", "the document to update")
	charts := flag.String("charts", "docs/bench", "the directory for the SVG charts")
	command := flag.String("command", "bash scripts/benchmarks.sh", "the command that made the reports")
	machine := flag.String("machine", "", "the machine, for people")
	commit := flag.String("commit", "", "the commit measured")
	gobench := flag.String("gobench", "", "the output of 'go test -bench' to tabulate too")
	flag.Parse()
	if err := run(*in, *gobench, *doc, *charts, *command, *machine, *commit); err != nil {
		fmt.Fprintln(os.Stderr, "benchdoc:", err)
		os.Exit(1)
	}
}

func run(in, gobench, doc, charts, command, machine, commit string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	var reps []bench.Report
	dec := json.NewDecoder(f)
	for {
		var r bench.Report
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
		reps = append(reps, r)
	}
	if len(reps) == 0 {
		return fmt.Errorf("%s: no reports", in)
	}
	if err := os.MkdirAll(charts, 0o755); err != nil {
		return err
	}
	rel, err := filepath.Rel(filepath.Dir(doc), charts)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n## Regenerated runs\n\n", begin)
	fmt.Fprintf(&b, "Made by `%s` on %s", command, time.Now().UTC().Format("2006-01-02"))
	if commit != "" {
		fmt.Fprintf(&b, " at commit `%s`", commit)
	}
	if machine != "" {
		fmt.Fprintf(&b, ", on %s", machine)
	}
	fmt.Fprintf(&b, "; every run measured the ceiling (Ed25519 verifications per second on all cores) itself. "+
		"This section and the charts are rewritten by that command.\n\n")

	var scenarios, scale, soak, network []bench.Report
	for _, r := range reps {
		switch {
		case len(r.Samples) > 0:
			soak = append(soak, r)
		case r.Validators > 0:
			network = append(network, r)
		case r.Records > 0:
			scale = append(scale, r)
		default:
			scenarios = append(scenarios, r)
		}
	}
	at := func(r bench.Report) string { // the commit of a report made apart
		if r.Commit != "" && r.Commit != commit {
			return fmt.Sprintf(" (at `%s`)", r.Commit)
		}
		return ""
	}
	writeGoals(&b, scenarios, network, soak)
	if len(scenarios) > 0 {
		b.WriteString("### Scenarios (embedded node, empty ledger)\n\n")
		b.WriteString("| scenario | per second | p50 ms | p95 ms | p99 ms | ceiling verif./s | ratio | CPU cores | max RSS MB |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, r := range scenarios {
			fmt.Fprintf(&b, "| %s%s | %s | %.1f | %.1f | %.1f | %.0f | %s | %.2f | %.0f |\n",
				r.Scenario, at(r), small(r.TxPerSec, "%.0f", "%.2f"), r.P50ms, r.P95ms, r.P99ms, r.Ceiling, small(r.Ratio, "%.3f", "%.2g"), r.CPUCores, r.MaxRSSMB)
		}
		b.WriteString("\nRead scenarios (`resolve`, `resolve-proof`) count answered requests, not transactions; ceremonies " +
			"(`custody-dkg`, `custody-sign`) count key generations or signatures, each of several transactions.\n\n")
	}
	if len(scale) > 0 {
		b.WriteString("### Scale: the same load on a ledger that already holds N records\n\n")
		b.WriteString("| records | scenario | tx/s | p50 ms | p99 ms | ratio | proven answer bytes | store bytes per record | restart s | max RSS MB |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, r := range scale {
			fmt.Fprintf(&b, "| %d%s | %s | %.0f | %.1f | %.1f | %.3f | %d | %.0f | %.2f | %.0f |\n",
				r.Records, at(r), r.Scenario, r.TxPerSec, r.P50ms, r.P99ms, r.Ratio, r.ProofBytes, r.DiskBytesPerRecord, r.RestartS, r.MaxRSSMB)
		}
		if err := scaleCharts(scale, charts); err != nil {
			return err
		}
		fmt.Fprintf(&b, "\n![throughput and ratio to the ceiling against state size](%s/scale-throughput.svg)\n", filepath.ToSlash(rel))
		fmt.Fprintf(&b, "![commit latency against state size](%s/scale-latency.svg)\n\n", filepath.ToSlash(rel))
	}
	if len(network) > 0 {
		writeNetwork(&b, network, at)
	}
	if gobench != "" {
		if err := writeGoBench(&b, gobench); err != nil {
			return err
		}
	}
	for _, r := range soak {
		fmt.Fprintf(&b, "### Soak: %s at %.0f tx/s for %.0f minutes%s\n\n", r.Scenario, r.TxPerSec, r.DurationS/60, at(r))
		if r.CapacityEnd > 0 {
			fmt.Fprintf(&b, "It held %.0f tx/s, %.0f%% of the %.0f tx/s that an unpaced probe measured right after it on the ledger it "+
				"grew to (%d records more), where the capacity is lowest. ", r.TxPerSec, 100*r.LoadShare, r.CapacityEnd, r.Committed)
		}
		fmt.Fprintf(&b, "Over the run's second half (the node's caches fill to their bounds in the first), resident memory "+
			"grew %.2f× (goal: at most 1.10×), the Go heap %.2f×, and the worst sample's p99 was %.2f× the median sample's. "+
			"The store's caches are Pebble's block cache (at most 256 MiB) and memtables.\n\n", r.MemGrowth, r.HeapGrowth, r.P99Spread)
		b.WriteString("| minute | tx/s | p50 ms | p99 ms | RSS MB | Go heap MB | store caches MB |\n|---|---|---|---|---|---|---|\n")
		for _, s := range r.Samples {
			fmt.Fprintf(&b, "| %.0f | %.0f | %.1f | %.1f | %.0f | %.0f | %.0f |\n", s.ElapsedS/60, s.TxPerSec, s.P50ms, s.P99ms, s.RSSMB, s.HeapMB, s.CacheMB)
		}
		if err := soakChart(r, charts); err != nil {
			return err
		}
		fmt.Fprintf(&b, "\n![the soak over time](%s/soak.svg)\n\n", filepath.ToSlash(rel))
	}
	b.WriteString(end)
	return replaceSection(doc, b.String())
}

// replaceSection replaces the generated section of doc, or appends one.
func replaceSection(doc, section string) error {
	old, err := os.ReadFile(doc)
	if err != nil {
		return err
	}
	i, j := bytes.Index(old, []byte(begin)), bytes.Index(old, []byte(end))
	var out []byte
	switch {
	case i >= 0 && j > i:
		out = append(append(append([]byte{}, old[:i]...), section...), old[j+len(end):]...)
	case i < 0 && j < 0:
		out = append(append(bytes.TrimRight(old, "\n"), "\n\n"...), section...)
		out = append(out, '\n')
	default:
		return fmt.Errorf("%s: unbalanced %q and %q lines", doc, begin, end)
	}
	return os.WriteFile(doc, out, 0o644)
}

func scaleCharts(reps []bench.Report, dir string) error {
	tput, ratio, p50, p99 := plotter.XYs{}, plotter.XYs{}, plotter.XYs{}, plotter.XYs{}
	for _, r := range reps {
		x := float64(r.Records)
		tput = append(tput, plotter.XY{X: x, Y: r.TxPerSec})
		ratio = append(ratio, plotter.XY{X: x, Y: r.Ratio * 10000})
		p50 = append(p50, plotter.XY{X: x, Y: r.P50ms})
		p99 = append(p99, plotter.XY{X: x, Y: r.P99ms})
	}
	p := plot.New()
	p.Title.Text = "Committed transactions per second against state size"
	p.X.Label.Text = "records in the ledger"
	p.Y.Label.Text = "tx/s"
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	p.Y.Min = 0
	if err := plotutil.AddLinePoints(p, "committed tx/s", tput, "ratio to the ceiling × 10,000", ratio); err != nil {
		return err
	}
	if err := p.Save(7*vg.Inch, 4*vg.Inch, filepath.Join(dir, "scale-throughput.svg")); err != nil {
		return err
	}
	p = plot.New()
	p.Title.Text = "Submit-to-durable-commit latency against state size"
	p.X.Label.Text = "records in the ledger"
	p.Y.Label.Text = "ms"
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	p.Y.Min = 0
	if err := plotutil.AddLinePoints(p, "p50", p50, "p99", p99); err != nil {
		return err
	}
	return p.Save(7*vg.Inch, 4*vg.Inch, filepath.Join(dir, "scale-latency.svg"))
}

func soakChart(r bench.Report, dir string) error {
	tput, p99, rss := plotter.XYs{}, plotter.XYs{}, plotter.XYs{}
	for _, s := range r.Samples {
		x := s.ElapsedS / 60
		tput = append(tput, plotter.XY{X: x, Y: s.TxPerSec / 10})
		p99 = append(p99, plotter.XY{X: x, Y: s.P99ms})
		rss = append(rss, plotter.XY{X: x, Y: s.RSSMB})
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Soak: %s at %.0f tx/s", r.Scenario, r.TxPerSec)
	p.X.Label.Text = "minutes"
	p.Y.Min = 0
	if err := plotutil.AddLinePoints(p, "tx/s ÷ 10", tput, "p99 ms", p99, "resident MB", rss); err != nil {
		return err
	}
	return p.Save(7*vg.Inch, 4*vg.Inch, filepath.Join(dir, "soak.svg"))
}

// The goals the issues set, which the runs are held against.
const (
	embeddedRatio = 0.5   // issue 2: notary throughput over the ceiling
	embeddedP99   = 250   // ms, issue 2
	resolveGoal   = 20000 // proven resolutions per second, issue 5
	networkGoal   = 2000  // tx/s of a 4-validator network, issue 6
	networkP99    = 2000  // ms, issue 6
	soakGrowth    = 1.10  // resident memory over a soak's second half, issue 7
	soakSpread    = 3.0   // worst sample's p99 over the median's: "stable p99", issue 7
	soakShare     = 0.75  // a soak's throughput over the capacity left at its end: "80% of capacity", issue 7
)

// writeGoals states each goal beside what the runs show.
func writeGoals(b *strings.Builder, scenarios, network, soak []bench.Report) {
	b.WriteString("### Against the goals\n\n| goal | runs | met |\n|---|---|---|\n")
	yes := map[bool]string{true: "yes", false: "**no**"}
	for _, r := range scenarios {
		switch r.Scenario {
		case "notary":
			fmt.Fprintf(b, "| embedded node: notary at ≥ %.1f of the ceiling, p99 < %d ms (issue 2) | %.0f tx/s, ratio %.3f, p99 %.0f ms | %s |\n",
				embeddedRatio, embeddedP99, r.TxPerSec, r.Ratio, r.P99ms, yes[r.Ratio >= embeddedRatio && r.P99ms < embeddedP99])
		case "resolve-proof":
			fmt.Fprintf(b, "| proven DID resolution ≥ %d/s (issue 5) | %.0f req/s | %s |\n", resolveGoal, r.TxPerSec, yes[r.TxPerSec >= resolveGoal])
		}
	}
	if len(network) > 0 {
		// The goal is met at an offered load (workers × batch) if every
		// run at that load meets it.
		type load struct{ workers, batch int }
		var loads []load
		runs, met := map[load]int{}, map[load]int{}
		for _, r := range network {
			l := load{r.Concurrency, r.Batch}
			if runs[l] == 0 {
				loads = append(loads, l)
			}
			runs[l]++
			if r.TxPerSec >= networkGoal && r.P99ms < networkP99 {
				met[l]++
			}
		}
		var parts []string
		anyLoad := false
		for _, l := range loads {
			parts = append(parts, fmt.Sprintf("%d × %d: %d of %d runs", l.workers, l.batch, met[l], runs[l]))
			anyLoad = anyLoad || met[l] == runs[l]
		}
		fmt.Fprintf(b, "| %d-validator network: ≥ %d tx/s, p99 < %d ms, at some offered load in every run (issue 6) | %s | %s |\n",
			network[0].Validators, networkGoal, networkP99, strings.Join(parts, "; "), yes[anyLoad])
	}
	for _, r := range soak {
		fmt.Fprintf(b, "| soak: 30 minutes at ≥ %.0f%% of the capacity left at its end, memory growth ≤ %.2f×, worst p99 ≤ %.0f× the median (issue 7) "+
			"| %.0f minutes at %.0f tx/s, %.0f%% of %.0f; memory %.2f×, p99 spread %.2f× | %s |\n",
			100*soakShare, soakGrowth, soakSpread, r.DurationS/60, r.TxPerSec, 100*r.LoadShare, r.CapacityEnd, r.MemGrowth, r.P99Spread,
			yes[r.DurationS >= 30*60-1 && r.LoadShare >= soakShare && r.MemGrowth <= soakGrowth && r.P99Spread <= soakSpread])
	}
	b.WriteString("\n")
}

// writeNetwork tabulates the runs that loaded a network of validators.
func writeNetwork(b *strings.Builder, reps []bench.Report, at func(bench.Report) string) {
	fmt.Fprintf(b, "### A network of %d validators (CometBFT) on this machine\n\n", reps[0].Validators)
	b.WriteString("Each validator is its own `agora node start` process on loopback; the load goes to node0, and a " +
		"transaction counts once node0 has committed its block durably.\n\n")
	b.WriteString("| workers × batch | tx/s | p50 ms | p95 ms | p99 ms | ceiling verif./s | ratio |\n|---|---|---|---|---|---|---|\n")
	met := 0
	for _, r := range reps {
		fmt.Fprintf(b, "| %d × %d%s | %.0f | %.0f | %.0f | %.0f | %.0f | %.3f |\n",
			r.Concurrency, r.Batch, at(r), r.TxPerSec, r.P50ms, r.P95ms, r.P99ms, r.Ceiling, r.Ratio)
		if r.TxPerSec >= networkGoal && r.P99ms < networkP99 {
			met++
		}
	}
	fmt.Fprintf(b, "\nAgainst the goal (at least %d tx/s with p99 under %d ms): met in %d of %d runs.\n\n",
		networkGoal, networkP99, met, len(reps))
}

// writeGoBench tabulates the benchmarks in the output of 'go test -bench'
// (lines "pkg: ..." and "BenchmarkName-N  iterations  value unit ...").
func writeGoBench(b *strings.Builder, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	b.WriteString("### Per operation (`go test -bench`)\n\n")
	b.WriteString("| package | benchmark | per op | B/op | allocs/op | other |\n|---|---|---|---|---|---|\n")
	pkg, rows := "", 0
	for _, line := range strings.Split(string(raw), "\n") {
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(p, "github.com/agora-ledger/agora/")
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i] // the GOMAXPROCS suffix
		}
		cols := map[string]string{}
		var other []string
		for i := 2; i+1 < len(f); i += 2 {
			switch unit := f[i+1]; unit {
			case "ns/op", "B/op", "allocs/op":
				cols[unit] = f[i]
			default:
				other = append(other, f[i]+" "+unit)
			}
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s | %s |\n", pkg, name, perOp(cols["ns/op"]), cols["B/op"], cols["allocs/op"], strings.Join(other, ", "))
		rows++
	}
	if rows == 0 {
		return fmt.Errorf("%s: no benchmark results", path)
	}
	b.WriteString("\n")
	return nil
}

// perOp writes a ns/op value in the unit that reads best.
func perOp(ns string) string {
	v, err := strconv.ParseFloat(ns, 64)
	switch {
	case err != nil:
		return ns
	case v >= 1e6:
		return fmt.Sprintf("%.2f ms", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f µs", v/1e3)
	}
	return fmt.Sprintf("%.0f ns", v)
}

// small formats v with format, or with fine when it is too small for
// format to show (a ceremony's rate, a few a second, and its ratio).
func small(v float64, format, fine string) string {
	if out := fmt.Sprintf(format, v); v == 0 || strings.Trim(out, "0.") != "" {
		return out
	}
	return fmt.Sprintf(fine, v)
}
