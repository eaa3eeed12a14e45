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
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agora-ledger/agora/internal/client"
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

// Scenario builds the body of the i-th transaction of a run.
type Scenario struct {
	Name   string
	Module string
	Type   string
	Body   func(i uint64) any
}

// Scenarios are the named workloads. More arrive with their modules.
var Scenarios = []Scenario{{
	Name: "notary", Module: notary.Name, Type: "anchor",
	Body: func(i uint64) any {
		var sum [32]byte
		copy(sum[:], fmt.Sprintf("bench-%d", i))
		rand.Read(sum[16:]) // distinct across runs against the same node
		return &notary.Anchor{SHA256: sum[:], MediaType: "application/octet-stream"}
	},
}}

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
	// Started, if set, is called when signing is done and the clock starts.
	Started func()
	// Progress, if set, is called about once a second during the run.
	Progress func(elapsed time.Duration, committed uint64)
}

// Report is a run's outcome. Its JSON form is what "agora bench --json"
// prints.
type Report struct {
	Scenario    string  `json:"scenario"`
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
	perWorker := max(o.Presign/o.Concurrency, o.Batch)
	perWorker = (perWorker + o.Batch - 1) / o.Batch * o.Batch
	work := make([][][]byte, o.Concurrency)
	var wg sync.WaitGroup
	errs := make([]error, o.Concurrency)
	for w := range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work[w], errs[w] = presign(info.ChainID, o.Scenario, uint64(w*perWorker), perWorker)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
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
	done := make(chan struct{})
	if o.Progress != nil {
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					o.Progress(time.Since(start), committed.Load())
				}
			}
		}()
	}
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
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := &Report{
		Scenario: o.Scenario.Name, DurationS: elapsed.Seconds(), Committed: committed.Load(), Failed: failed.Load(),
		TxPerSec: float64(committed.Load()) / elapsed.Seconds(), Concurrency: o.Concurrency, Batch: o.Batch,
		Cores: runtime.NumCPU(),
		P50ms: ms(percentile(all, 0.50)), P95ms: ms(percentile(all, 0.95)), P99ms: ms(percentile(all, 0.99)),
	}
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

// presign signs n transactions from a fresh account, sequences 0..n-1.
func presign(chainID string, s Scenario, first uint64, n int) ([][]byte, error) {
	key, err := tx.GenerateKey(tx.Ed25519, rand.Reader)
	if err != nil {
		return nil, err
	}
	expiry := time.Now().Add(time.Hour).UnixMilli()
	out := make([][]byte, n)
	for i := range n {
		body, err := tx.Marshal(s.Body(first + uint64(i)))
		if err != nil {
			return nil, err
		}
		t := &tx.Tx{Version: tx.Version, ChainID: chainID, Module: s.Module, Type: s.Type, Body: body,
			Signers: []tx.Signer{{Key: key.Public(), Sequence: uint64(i)}}, ExpiryTime: expiry}
		st, err := tx.Sign(t, key)
		if err != nil {
			return nil, err
		}
		if out[i], err = st.Encode(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
