// Package bench measures an Agora node: how many transactions per second
// it commits durably and how long each takes from submission to commit,
// beside the machine's ceiling measured in the same run.
//
// # The ceiling
//
// Every transaction costs at least one Ed25519 signature verification, so
// no node on this machine can commit more transactions per second than the
// machine can verify signatures on all its cores. Ceiling measures that
// rate; a report's Ratio is throughput divided by it.
package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/tx"
)

// Ceiling measures Ed25519 verifications per second on all cores for
// about d.
func Ceiling(d time.Duration) float64 {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 200)
	sig := ed25519.Sign(priv, msg)
	workers := runtime.GOMAXPROCS(0)
	var total atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := int64(0)
			for time.Now().Before(deadline) {
				for range 64 {
					if !ed25519.Verify(pub, msg, sig) {
						panic("bench: ed25519 self-check failed")
					}
				}
				n += 64
			}
			total.Add(n)
		}()
	}
	wg.Wait()
	return float64(total.Load()) / time.Since(start).Seconds()
}

// Scenario is a named workload. A write scenario's report counts
// committed transactions; a read scenario (Path set) first commits Setup
// of its transactions, then counts answered GET requests.
type Scenario struct {
	Name   string
	Module string
	Type   string
	// Body builds the body of the i-th transaction of a run, signed by
	// signer (the worker's account key).
	Body func(i uint64, signer tx.PublicKey) any
	// Path, if set, makes the scenario a read workload: the route to GET
	// for a body that Body built and the setup committed.
	Path func(body any) string
	// Chain, if set, replaces Body for a write workload whose
	// transactions each need a signer of their own: it signs n
	// transactions to run, and the setup transactions they depend on,
	// which Run commits before the clock starts.
	Chain func(chainID string, n int) (setup, run [][]byte, err error)
}

// Scenarios are the named workloads. More arrive with their modules.
var Scenarios = []Scenario{{
	Name: "notary", Module: notary.Name, Type: "anchor",
	Body: func(i uint64, _ tx.PublicKey) any {
		var sum [32]byte
		copy(sum[:], fmt.Sprintf("bench-%d", i))
		rand.Read(sum[16:]) // distinct across runs against the same node
		return &notary.Anchor{SHA256: sum[:], MediaType: "application/octet-stream"}
	},
}, {
	Name: "did-create", Module: identity.Name, Type: "create",
	Body: didCreate,
}, {
	Name: "did-rotate", Module: identity.Name, Type: "rotate",
	Chain: rotations,
}, {
	Name: "resolve", Module: identity.Name, Type: "create",
	Body: didCreate,
	Path: func(body any) string { return "/1.0/identifiers/" + body.(*identity.Create).DID() },
}, {
	Name: "resolve-proof", Module: identity.Name, Type: "create",
	Body: didCreate,
	Path: func(body any) string { return "/1.0/identifiers/" + body.(*identity.Create).DID() + "?proof=1" },
}}

// didCreate builds an inception controlled by the worker's key: a DID's
// id is the hash of its inception, so one key can control many DIDs as
// long as each commits to a different next key (here a random
// commitment, which nobody can rotate to: fine for a benchmark).
func didCreate(_ uint64, signer tx.PublicKey) any {
	next := make([]byte, 32)
	rand.Read(next)
	return &identity.Create{
		Keys: []identity.KeySpec{{PublicKey: signer, Relationships: []string{identity.Authentication, identity.CapabilityInvocation}}},
		Next: next,
	}
}

// rotations signs n key rotations: chains of up to identity.MaxKeys-1
// rotations of DIDs whose inceptions are the setup. Each rotation is
// signed by the key the previous event committed to, a fresh key whose
// account signs nothing else, and commits to the next one: the
// pre-rotation rule, as a holder would use it.
func rotations(chainID string, n int) (setup, run [][]byte, err error) {
	expiry := time.Now().Add(time.Hour).UnixMilli()
	sign := func(key *tx.PrivateKey, typ string, body any) ([]byte, error) {
		b, err := tx.Marshal(body)
		if err != nil {
			return nil, err
		}
		t := &tx.Tx{Version: tx.Version, ChainID: chainID, Module: identity.Name, Type: typ, Body: b,
			Signers: []tx.Signer{{Key: key.Public(), Sequence: 0}}, ExpiryTime: expiry}
		st, err := tx.Sign(t, key)
		if err != nil {
			return nil, err
		}
		return st.Encode()
	}
	const perDID = identity.MaxKeys - 1 // every rotation adds a key
	var did string
	var cur, next *tx.PrivateKey
	for i := range n {
		if i%perDID == 0 {
			if cur, err = tx.GenerateKey(tx.Ed25519, rand.Reader); err != nil {
				return nil, nil, err
			}
			if next, err = tx.GenerateKey(tx.Ed25519, rand.Reader); err != nil {
				return nil, nil, err
			}
			c := &identity.Create{Keys: []identity.KeySpec{{PublicKey: cur.Public(), Relationships: []string{identity.Authentication, identity.CapabilityInvocation}}},
				Next: identity.Commitment(next.Public())}
			raw, err := sign(cur, "create", c)
			if err != nil {
				return nil, nil, err
			}
			setup, did = append(setup, raw), c.DID()
		}
		cur = next
		if next, err = tx.GenerateKey(tx.Ed25519, rand.Reader); err != nil {
			return nil, nil, err
		}
		raw, err := sign(cur, "rotate", &identity.Rotate{DID: did, Key: cur.Public(), Next: identity.Commitment(next.Public())})
		if err != nil {
			return nil, nil, err
		}
		run = append(run, raw)
	}
	return setup, run, nil
}

// FindScenario returns the scenario called name.
func FindScenario(name string) (Scenario, error) {
	var names []string
	for _, s := range Scenarios {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return Scenario{}, fmt.Errorf("unknown scenario %q (have %v)", name, names)
}

// Options configure a run.
type Options struct {
	Scenario    Scenario
	Duration    time.Duration
	Concurrency int // workers, each with its own accounts
	Batch       int // transactions per request
	// Presign is how many transactions to sign before the clock starts.
	Presign int
	// Setup is how many transactions a read scenario commits before the
	// clock starts; its workers then read them round robin.
	Setup int
	// Started, if set, is called when signing is done and the clock starts.
	Started func()
	// Progress, if set, is called about once a second during the run.
	Progress func(elapsed time.Duration, committed uint64)
}

// Report is a run's outcome. Its JSON form is what "agora bench --json"
// prints.
type Report struct {
	Scenario string `json:"scenario"`
	// Committed is, for a read scenario, the requests answered 200 OK
	// (Failed the others), and TxPerSec requests per second; latency is
	// per request.
	Node        string  `json:"node"`
	DurationS   float64 `json:"duration_s"`
	Committed   uint64  `json:"committed"`
	Failed      uint64  `json:"failed"`
	TxPerSec    float64 `json:"tx_per_sec"`
	P50ms       float64 `json:"p50_ms"`
	P95ms       float64 `json:"p95_ms"`
	P99ms       float64 `json:"p99_ms"`
	Ceiling     float64 `json:"ceiling_verifies_per_sec"`
	Ratio       float64 `json:"ratio"`
	Concurrency int     `json:"concurrency"`
	Batch       int     `json:"batch"`
	Cores       int     `json:"cores"`
	// CPUCores is the average number of cores the process used during the
	// run (embedded node only: node and load generator share the process).
	CPUCores float64 `json:"cpu_cores,omitempty"`
	MaxRSSMB float64 `json:"max_rss_mb,omitempty"`
}

// Run signs and submits transactions to the node c talks to for
// o.Duration and reports what was committed.
func Run(ctx context.Context, c *client.Client, o Options) (*Report, error) {
	if o.Concurrency < 1 || o.Batch < 1 || o.Duration <= 0 {
		return nil, errors.New("bench: concurrency, batch and duration must be positive")
	}
	info, err := c.Info(ctx)
	if err != nil {
		return nil, err
	}
	if o.Scenario.Path != nil {
		return runReads(ctx, c, info.ChainID, o)
	}
	perWorker := max(o.Presign/o.Concurrency, o.Batch)
	perWorker = (perWorker + o.Batch - 1) / o.Batch * o.Batch
	work := make([][][]byte, o.Concurrency)
	setups := make([][][]byte, o.Concurrency)
	var wg sync.WaitGroup
	errs := make([]error, o.Concurrency)
	for w := range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if o.Scenario.Chain != nil {
				setups[w], work[w], errs[w] = o.Scenario.Chain(info.ChainID, perWorker)
				return
			}
			work[w], _, errs[w] = presign(info.ChainID, o.Scenario, uint64(w*perWorker), perWorker)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := commitAll(ctx, c, slices.Concat(setups...), o.Batch); err != nil {
		return nil, err
	}

	var committed, failed atomic.Uint64
	var exhausted atomic.Bool
	lat := make([][]time.Duration, o.Concurrency)
	if o.Started != nil {
		o.Started()
	}
	rctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	start := time.Now()
	done := progress(o, start, &committed)
	for w := range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			txs := work[w]
			i := 0
			defer func() {
				if i >= len(txs) && rctx.Err() == nil {
					exhausted.Store(true)
				}
			}()
			for ; i+o.Batch <= len(txs) && rctx.Err() == nil; i += o.Batch {
				t0 := time.Now()
				items, err := c.SubmitBatchWait(ctx, txs[i:i+o.Batch])
				if err != nil {
					errs[w] = err
					return
				}
				d := time.Since(t0)
				for _, it := range items {
					if it.Error != nil || it.Code != "ok" {
						failed.Add(1)
						continue
					}
					committed.Add(1)
					lat[w] = append(lat[w], d)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(done)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r := report(o, elapsed, committed.Load(), failed.Load(), lat)
	if exhausted.Load() {
		return r, fmt.Errorf("bench: a worker ran out of pre-signed transactions before the run ended; raise --presign")
	}
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// presign signs n transactions from a fresh account, sequences 0..n-1,
// and returns them with their bodies.
func presign(chainID string, s Scenario, first uint64, n int) ([][]byte, []any, error) {
	key, err := tx.GenerateKey(tx.Ed25519, rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	expiry := time.Now().Add(time.Hour).UnixMilli()
	out := make([][]byte, n)
	bodies := make([]any, n)
	for i := range n {
		bodies[i] = s.Body(first+uint64(i), key.Public())
		body, err := tx.Marshal(bodies[i])
		if err != nil {
			return nil, nil, err
		}
		t := &tx.Tx{Version: tx.Version, ChainID: chainID, Module: s.Module, Type: s.Type, Body: body,
			Signers: []tx.Signer{{Key: key.Public(), Sequence: uint64(i)}}, ExpiryTime: expiry}
		st, err := tx.Sign(t, key)
		if err != nil {
			return nil, nil, err
		}
		if out[i], err = st.Encode(); err != nil {
			return nil, nil, err
		}
	}
	return out, bodies, nil
}

// runReads commits o.Setup transactions of a read scenario, then has
// o.Concurrency workers GET their paths round robin for o.Duration, each
// over its own keep-alive connection.
func runReads(ctx context.Context, c *client.Client, chainID string, o Options) (*Report, error) {
	setup := max(o.Setup, 1)
	raws, bodies, err := presign(chainID, o.Scenario, 0, setup)
	if err != nil {
		return nil, err
	}
	if err := commitAll(ctx, c, raws, o.Batch); err != nil {
		return nil, err
	}
	paths := make([]string, len(bodies))
	for i, b := range bodies {
		paths[i] = o.Scenario.Path(b)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency}}
	var ok, failed atomic.Uint64
	lat := make([][]time.Duration, o.Concurrency)
	errs := make([]error, o.Concurrency)
	if o.Started != nil {
		o.Started()
	}
	rctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	start := time.Now()
	done := progress(o, start, &ok)
	var wg sync.WaitGroup
	for w := range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; rctx.Err() == nil; i += o.Concurrency {
				t0 := time.Now()
				code, err := get(rctx, hc, c.Base()+paths[i%len(paths)])
				if rctx.Err() != nil {
					return // cut off by the end of the run: not counted
				}
				if err != nil {
					errs[w] = err
					return
				}
				if code != http.StatusOK {
					failed.Add(1)
					continue
				}
				ok.Add(1)
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(done)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return report(o, elapsed, ok.Load(), failed.Load(), lat), nil
}

// commitAll commits the setup transactions raws, batch at a time, and
// fails unless every one succeeds.
func commitAll(ctx context.Context, c *client.Client, raws [][]byte, batch int) error {
	for i := 0; i < len(raws); i += batch {
		items, err := c.SubmitBatchWait(ctx, raws[i:min(i+batch, len(raws))])
		if err != nil {
			return fmt.Errorf("bench: setup: %w", err)
		}
		for _, it := range items {
			if it.Error != nil {
				return fmt.Errorf("bench: setup transaction refused: %s", it.Error.Message)
			}
			if it.Code != "ok" {
				return fmt.Errorf("bench: setup transaction committed with result %s", it.Code)
			}
		}
	}
	return nil
}

// progress calls o.Progress about once a second with the time since start
// and the count n, until the returned channel is closed.
func progress(o Options, start time.Time, n *atomic.Uint64) chan struct{} {
	done := make(chan struct{})
	if o.Progress == nil {
		return done
	}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				o.Progress(time.Since(start), n.Load())
			}
		}
	}()
	return done
}

// report summarises a run: counts, rate, and latency percentiles over the
// workers' latencies.
func report(o Options, elapsed time.Duration, ok, failed uint64, lat [][]time.Duration) *Report {
	all := slices.Concat(lat...)
	slices.Sort(all)
	return &Report{
		Scenario: o.Scenario.Name, DurationS: elapsed.Seconds(), Committed: ok, Failed: failed,
		TxPerSec: float64(ok) / elapsed.Seconds(), Concurrency: o.Concurrency, Batch: o.Batch,
		Cores: runtime.NumCPU(),
		P50ms: ms(percentile(all, 0.50)), P95ms: ms(percentile(all, 0.95)), P99ms: ms(percentile(all, 0.99)),
	}
}

// get GETs url and reads the whole answer, so the connection is reused.
func get(ctx context.Context, hc *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}
