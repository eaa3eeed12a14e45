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
//
// # Measure
//
// Run loads a node for a while and reports. Measure is all of 'agora
// bench' but its flags (Config): the ceiling, an embedded node in a
// temporary home when it is given no node (Embedded: the binary says how
// to start one), a preloaded ledger and what it costs, a paced load and
// the capacity it held, and the process's cost; WriteText prints the
// report as the command does without --json.
package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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
	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/tx"
)

// Ceiling measures Ed25519 verifications per second on all cores for
// about d, with the verification every transaction's signatures get
// (tx.PublicKey.Verify).
func Ceiling(d time.Duration) float64 {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 200)
	sig := ed25519.Sign(priv, msg)
	key := tx.PublicKey{Alg: tx.Ed25519, Key: pub}
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
					if !key.Verify(msg, sig) {
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
	// Summary says what the workload does, for 'agora bench -h'.
	Summary string
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
	// Genesis, if set, is a scenario that needs state a genesis holds (a
	// governance Board whose directors are the workers): it runs on an
	// embedded node whose genesis Genesis completes, given the keys the
	// workers will sign with (Options.Keys) and the key that commits
	// Prepare's transactions (Options.SetupKey).
	Genesis func(g *ledger.Genesis, workers []tx.PublicKey, setup tx.PublicKey) error
	// Prepare, if set, returns the transactions the setup key commits
	// before the clock starts, when each worker will sign n.
	Prepare func(n int) (module, typ string, bodies []any)
	// Mix, if set, builds the i-th transaction of a mixed workload in
	// place of Module, Type and Body.
	Mix func(i uint64, signer tx.PublicKey) (module, typ string, body any)
	// Ceremony, if set, makes the scenario a ceremony (ceremony.go): it
	// runs ceremonies of several parties against the node and returns
	// their latencies, in place of every field above but the names.
	Ceremony func(ctx context.Context, c *client.Client, o CeremonyOptions) (*CeremonyResult, error)
}

// The named workloads. Each module lists its own in the binary's module
// registry (cmd/agora/registry.go), which is where 'agora bench' finds them.
var (
	Notary = Scenario{
		Name: "notary", Module: notary.Name, Type: "anchor",
		Summary: "each transaction anchors a new SHA-256 (notary/anchor)",
		Body:    anchor,
	}
	DIDCreate = Scenario{
		Name: "did-create", Module: identity.Name, Type: "create",
		Summary: "each transaction creates a new did:agora DID, controlled by the worker's key (identity/create)",
		Body:    didCreate,
	}
	DIDRotate = Scenario{
		Name: "did-rotate", Module: identity.Name, Type: "rotate",
		Summary: "each transaction rotates a DID's controller to the key its last event committed to, " +
			"signed by that key and committing to a new one (identity/rotate); the DIDs (one per 63 rotations, " +
			"a DID's most keys) are created before the clock",
		Chain: rotations,
	}
	Resolve = Scenario{
		Name: "resolve", Module: identity.Name, Type: "create",
		Summary: "reads: commits --setup DIDs first, then --concurrency workers resolve them round robin with " +
			"GET /1.0/identifiers/{did}, each over one keep-alive connection",
		Body: didCreate,
		Path: func(body any) string { return "/1.0/identifiers/" + body.(*identity.Create).DID() },
	}
	ResolveProof = Scenario{
		Name: "resolve-proof", Module: identity.Name, Type: "create",
		Summary: "the same reads with proof=1 (state proof and checkpoint)",
		Body:    didCreate,
		Path:    func(body any) string { return "/1.0/identifiers/" + body.(*identity.Create).DID() + "?proof=1" },
	}
	Mixed = Scenario{
		Name:    "mixed",
		Summary: "writes of two modules: every other transaction anchors a digest, the others create DIDs",
		Mix: func(i uint64, signer tx.PublicKey) (string, string, any) {
			if i%2 == 0 {
				return notary.Name, "anchor", anchor(i, signer)
			}
			return identity.Name, "create", didCreate(i, signer)
		},
	}
	GovVote = Scenario{
		Name: "gov-vote", Module: gov.Name, Type: "vote",
		Summary: "Board votes: the embedded node's genesis gives each worker a voting seat, the changes are " +
			"drafted before the clock starts, and each worker votes on change 1, 2, ... (a vote closes when " +
			"every seat has voted)",
		Body: func(i uint64, _ tx.PublicKey) any {
			return &gov.CastVote{Change: i&(1<<40-1) + 1, Choice: "yes"} // each worker votes on changes 1, 2, ...
		},
		Genesis: govGenesis,
		Prepare: func(n int) (string, string, []any) {
			params, _ := tx.Marshal(ptr(ledger.DefaultParams()))
			bodies := make([]any, n)
			for j := range n {
				bodies[j] = &gov.Draft{Doc: gov.NewDocRef(fmt.Sprintf("bench change %d", j+1), fmt.Sprintf("bench change %d", j+1)),
					Actions: []ledger.Action{{Target: ledger.Namespace, Type: "set_params", Body: params}}}
			}
			return gov.Name, "draft", bodies
		},
	}
)

func ptr[T any](v T) *T { return &v }

// anchor builds the i-th notary anchor of a run.
func anchor(i uint64, _ tx.PublicKey) any {
	var sum [32]byte
	copy(sum[:], fmt.Sprintf("bench-%d", i))
	rand.Read(sum[16:]) // distinct across runs against the same node
	return &notary.Anchor{SHA256: sum[:], MediaType: "application/octet-stream"}
}

// govGenesis is the governance of the gov-vote scenario: a Board with a
// voting seat for each worker, in one resource-direct community, and a
// non-voting seat whose director (the setup key) drafts the changes they
// vote on; the voting period is an hour, so every vote counts.
func govGenesis(g *ledger.Genesis, workers []tx.PublicKey, setup tx.PublicKey) error {
	member := func(name string, k tx.PublicKey) gov.Member { return gov.Member{Name: name, Key: &k} }
	voters := gov.Body{ID: "voters", Name: "Bench voters", Kind: gov.Direct, Threshold: 1}
	var seats []gov.Seat
	for i, k := range workers {
		m := member(fmt.Sprintf("worker-%d", i), k)
		voters.Members = append(voters.Members, m)
		seats = append(seats, gov.Seat{Body: "voters", Voting: true, Director: &m})
	}
	s := member("setup", setup)
	seats = append(seats, gov.Seat{Body: "drafters", Director: &s})
	one := func(id, kind string) gov.Body {
		return gov.Body{ID: id, Name: id, Kind: kind, Threshold: 1, Members: []gov.Member{s}}
	}
	hour := gov.Duration(time.Hour / time.Millisecond)
	sec := gov.Genesis{
		Bylaws: gov.Bylaws{Document: hex.EncodeToString(make([]byte, 32)), Version: 1,
			Seats:        []gov.Allocation{{Body: "voters", Seats: uint32(len(workers))}, {Body: "drafters", Seats: 1}},
			VotingPeriod: hour, Quorum: 500, Majority: 501, Supermajority: 667, ReviewPeriod: hour, Objections: 1,
			ExecutionDelay: hour, ReviewWindow: hour, PetitionWindow: hour, Reject: 1, Remove: 1, Recall: 1,
			EmergencyOfficer: "role", EmergencyPeriod: hour, ROLE: "role", Secretariat: "secretariat", Ombudsman: "ombudsman"},
		Bodies:    []gov.Body{voters, one("drafters", gov.Indirect), one("role", gov.ROLE), one("secretariat", gov.Secretariat), one("ombudsman", gov.Ombudsman)},
		Board:     seats,
		Resources: []gov.Resource{{ID: gov.RootResource, Name: "root", Controller: "role"}},
	}
	b, err := json.Marshal(&sec)
	if err != nil {
		return err
	}
	if g.Modules == nil {
		g.Modules = map[string]json.RawMessage{}
	}
	g.Modules[gov.Name] = b
	return nil
}

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

// FindScenario returns the scenario of scenarios called name.
func FindScenario(scenarios []Scenario, name string) (Scenario, error) {
	var names []string
	for _, s := range scenarios {
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
	// Rate, if positive, paces a write scenario to about that many
	// transactions per second in all (an open load, for a soak) instead
	// of as many as the node takes. A paced run signs as it goes.
	Rate float64
	// Live makes the workers sign each batch as they go rather than
	// before the clock starts (as a paced run does), for runs too long to
	// sign in advance.
	Live bool
	// Every, if positive, makes the report carry a Sample per interval of
	// that length; Memory, if set, returns the node's memory then.
	Every  time.Duration
	Memory func() Memory
	// Paths, if set, receives a read scenario's paths once its setup is
	// committed, for an outside load generator (wrk) to read too.
	Paths func(paths []string) error
	// Keys and SetupKey are the workers' keys and the setup key of a
	// scenario with a Genesis; otherwise each worker signs from a fresh
	// account.
	Keys     []*tx.PrivateKey
	SetupKey *tx.PrivateKey
}

// Sample is one interval of a run.
type Sample struct {
	ElapsedS float64 `json:"elapsed_s"`
	// Done is, for a ceremony scenario, the ceremonies done by then.
	Done     uint64  `json:"done,omitempty"`
	TxPerSec float64 `json:"tx_per_sec"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	Memory
}

// Memory is a node's memory at a sample, in MB: resident, the Go heap's
// live and not yet swept objects, and the store's bounded caches
// (Pebble's block cache and memtables), which fill in a run's first
// minutes; what grows beyond them is what a soak watches.
type Memory struct {
	RSSMB   float64 `json:"rss_mb,omitempty"`
	HeapMB  float64 `json:"heap_mb,omitempty"`
	CacheMB float64 `json:"cache_mb,omitempty"`
}

// Report is a run's outcome. Its JSON form is what "agora bench --json"
// prints.
type Report struct {
	Scenario string `json:"scenario"`
	// Committed is, for a read scenario, the requests answered 200 OK
	// (Failed the others), and TxPerSec requests per second; latency is
	// per request.
	Node string `json:"node"`
	// Validators is the size of the validator set of the network the run
	// loaded through one of its nodes (0: the embedded node).
	Validators int `json:"validators,omitempty"`
	// Commit is the commit the agora binary was built from, if known.
	Commit    string  `json:"commit,omitempty"`
	DurationS float64 `json:"duration_s"`
	Committed uint64  `json:"committed"`
	Failed    uint64  `json:"failed"`
	TxPerSec  float64 `json:"tx_per_sec"`
	P50ms     float64 `json:"p50_ms"`
	P95ms     float64 `json:"p95_ms"`
	P99ms     float64 `json:"p99_ms"`
	// MaxMs is, for a ceremony scenario, its slowest ceremony, and Size
	// the size it ran ("3-of-5").
	MaxMs       float64 `json:"max_ms,omitempty"`
	Size        string  `json:"size,omitempty"`
	Ceiling     float64 `json:"ceiling_verifies_per_sec"`
	Ratio       float64 `json:"ratio"`
	Concurrency int     `json:"concurrency"`
	Batch       int     `json:"batch"`
	Cores       int     `json:"cores"`
	// CPUCores is the average number of cores the process used during the
	// run (embedded node only: node and load generator share the process).
	CPUCores float64 `json:"cpu_cores,omitempty"`
	MaxRSSMB float64 `json:"max_rss_mb,omitempty"`
	// Records is how many records the ledger held when the run began (a
	// preloaded ledger); ProofBytes the size of a proven answer about one
	// of them; DiskBytesPerRecord the store's size over Records after the
	// run; RestartS how long the node took to start again after it.
	Records            uint64  `json:"records,omitempty"`
	ProofBytes         int     `json:"proof_bytes,omitempty"`
	DiskBytesPerRecord float64 `json:"disk_bytes_per_record,omitempty"`
	RestartS           float64 `json:"restart_s,omitempty"`
	// CapacityEnd is, for a paced run (Options.Rate), the throughput a
	// 10 s unpaced probe measured right after it, on the ledger the run
	// left (the lowest capacity of the run, as it falls while the state
	// grows), and LoadShare the run's throughput over it.
	CapacityEnd float64 `json:"capacity_end,omitempty"`
	LoadShare   float64 `json:"load_share,omitempty"`
	// Samples are the run's intervals (Options.Every); MemGrowth is the
	// last interval's resident memory over that of the run's midpoint
	// (the caches fill to their bounds in the first half), HeapGrowth the
	// same of the Go heap, P99Spread the largest interval p99 over the
	// median one in the second half. For a ceremony scenario the samples
	// are taken every so many ceremonies, and the growths are the last
	// sample's over the first.
	Samples    []Sample `json:"samples,omitempty"`
	MemGrowth  float64  `json:"mem_growth,omitempty"`
	HeapGrowth float64  `json:"heap_growth,omitempty"`
	P99Spread  float64  `json:"p99_spread,omitempty"`
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
	// A paced run (a soak) may be too long to sign in advance: its
	// workers sign each batch as they go.
	live := o.Live || o.Rate > 0
	if live && o.Scenario.Chain != nil {
		return nil, fmt.Errorf("bench: scenario %s signs its chains before the clock starts: it cannot be paced or signed as it goes", o.Scenario.Name)
	}
	perWorker := max(o.Presign/o.Concurrency, o.Batch)
	perWorker = (perWorker + o.Batch - 1) / o.Batch * o.Batch
	work := make([][][]byte, o.Concurrency)
	setups := make([][][]byte, o.Concurrency)
	signers := make([]*signer, o.Concurrency)
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
			var key *tx.PrivateKey
			if w < len(o.Keys) {
				key = o.Keys[w]
			}
			signers[w], errs[w] = newSigner(info.ChainID, o.Scenario, uint64(w)<<40, key)
			if errs[w] == nil && !live {
				work[w], _, errs[w] = signers[w].sign(perWorker)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := commitAll(ctx, c, slices.Concat(setups...), o.Batch); err != nil {
		return nil, err
	}
	if o.Scenario.Prepare != nil {
		if err := prepare(ctx, c, info.ChainID, o, perWorker); err != nil {
			return nil, err
		}
	}

	var committed, failed atomic.Uint64
	var exhausted atomic.Bool
	lat := make([]histogram, o.Concurrency)
	if o.Started != nil {
		o.Started()
	}
	rctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	start := time.Now()
	done := progress(o, start, &committed)
	win := newWindow(o, start)
	for w := range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			txs := work[w]
			i := 0
			defer func() {
				if !live && i >= len(txs) && rctx.Err() == nil {
					exhausted.Store(true)
				}
			}()
			var pace *time.Ticker
			if o.Rate > 0 { // each worker's share of the rate, a batch at a time
				pace = time.NewTicker(time.Duration(float64(time.Second) * float64(o.Batch*o.Concurrency) / o.Rate))
				defer pace.Stop()
			}
			for rctx.Err() == nil {
				var batch [][]byte
				if live {
					var err error
					if batch, _, err = signers[w].sign(o.Batch); err != nil {
						errs[w] = err
						return
					}
				} else {
					if i+o.Batch > len(txs) {
						return
					}
					batch = txs[i : i+o.Batch]
					i += o.Batch
				}
				if pace != nil {
					select {
					case <-pace.C:
					case <-rctx.Done():
						return
					}
				}
				t0 := time.Now()
				items, err := c.SubmitBatchWait(ctx, batch)
				if err != nil {
					errs[w] = err
					return
				}
				d := time.Since(t0)
				n := 0
				for _, it := range items {
					if it.Error != nil || it.Code != "ok" {
						failed.Add(1)
						continue
					}
					committed.Add(1)
					n++
				}
				lat[w].add(d, n)
				win.add(d, n)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(done)
	samples := win.stop()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r := report(o, elapsed, committed.Load(), failed.Load(), lat)
	r.summarise(samples)
	if exhausted.Load() {
		return r, fmt.Errorf("bench: a worker ran out of pre-signed transactions before the run ended; raise --presign")
	}
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// signer signs a worker's transactions from its own fresh account, in
// sequence.
type signer struct {
	key     *tx.PrivateKey
	chainID string
	s       Scenario
	first   uint64 // the index of the next body
	seq     uint64
	expiry  int64
}

func newSigner(chainID string, s Scenario, first uint64, key *tx.PrivateKey) (*signer, error) {
	if key == nil {
		var err error
		if key, err = tx.GenerateKey(tx.Ed25519, rand.Reader); err != nil {
			return nil, err
		}
	}
	return &signer{key: key, chainID: chainID, s: s, first: first, expiry: time.Now().Add(24 * time.Hour).UnixMilli()}, nil
}

// sign signs the next n transactions and returns them with their bodies.
func (g *signer) sign(n int) ([][]byte, []any, error) {
	out := make([][]byte, n)
	bodies := make([]any, n)
	for i := range n {
		module, typ := g.s.Module, g.s.Type
		if g.s.Mix != nil {
			module, typ, bodies[i] = g.s.Mix(g.first, g.key.Public())
		} else {
			bodies[i] = g.s.Body(g.first, g.key.Public())
		}
		g.first++
		body, err := tx.Marshal(bodies[i])
		if err != nil {
			return nil, nil, err
		}
		t := &tx.Tx{Version: tx.Version, ChainID: g.chainID, Module: module, Type: typ, Body: body,
			Signers: []tx.Signer{{Key: g.key.Public(), Sequence: g.seq}}, ExpiryTime: g.expiry}
		g.seq++
		st, err := tx.Sign(t, g.key)
		if err != nil {
			return nil, nil, err
		}
		if out[i], err = st.Encode(); err != nil {
			return nil, nil, err
		}
	}
	return out, bodies, nil
}

// prepare commits a scenario's setup transactions, signed by the setup
// key, before the clock starts.
func prepare(ctx context.Context, c *client.Client, chainID string, o Options, perWorker int) error {
	if o.SetupKey == nil {
		return fmt.Errorf("bench: scenario %s needs its own embedded node", o.Scenario.Name)
	}
	module, typ, bodies := o.Scenario.Prepare(perWorker)
	setup := Scenario{Name: "setup", Module: module, Type: typ, Body: func(i uint64, _ tx.PublicKey) any { return bodies[i] }}
	g, err := newSigner(chainID, setup, 0, o.SetupKey)
	if err != nil {
		return err
	}
	for len(bodies) > int(g.first) {
		raws, _, err := g.sign(min(o.Batch, len(bodies)-int(g.first)))
		if err != nil {
			return err
		}
		items, err := c.SubmitBatchWait(ctx, raws)
		if err != nil {
			return fmt.Errorf("bench: setup: %w", err)
		}
		for _, it := range items {
			if it.Error != nil || it.Code != "ok" {
				return fmt.Errorf("bench: setup transaction refused (%v, %s)", it.Error, it.Code)
			}
		}
	}
	return nil
}

// runReads commits o.Setup transactions of a read scenario, then has
// o.Concurrency workers GET their paths round robin for o.Duration, each
// over its own keep-alive connection.
func runReads(ctx context.Context, c *client.Client, chainID string, o Options) (*Report, error) {
	setup := max(o.Setup, 1)
	g, err := newSigner(chainID, o.Scenario, 0, nil)
	if err != nil {
		return nil, err
	}
	raws, bodies, err := g.sign(setup)
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
	if o.Paths != nil {
		if err := o.Paths(paths); err != nil {
			return nil, err
		}
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency}}
	var ok, failed atomic.Uint64
	lat := make([]histogram, o.Concurrency)
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
				lat[w].add(time.Since(t0), 1)
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
func report(o Options, elapsed time.Duration, ok, failed uint64, lat []histogram) *Report {
	var all histogram
	for i := range lat {
		all.merge(&lat[i])
	}
	return &Report{
		Scenario: o.Scenario.Name, DurationS: elapsed.Seconds(), Committed: ok, Failed: failed,
		TxPerSec: float64(ok) / elapsed.Seconds(), Concurrency: o.Concurrency, Batch: o.Batch,
		Cores: runtime.NumCPU(),
		P50ms: ms(all.percentile(0.50)), P95ms: ms(all.percentile(0.95)), P99ms: ms(all.percentile(0.99)),
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

// Preload commits n notary anchors through the node c talks to, as fast
// as it takes them: workers each sign from their own fresh account,
// batch by batch, so memory stays flat however large n is. It calls
// progress about once a second and returns the digests of a few anchors
// it committed, for later reads.
func Preload(ctx context.Context, c *client.Client, n uint64, workers, batch int, progress func(done uint64)) ([][]byte, error) {
	info, err := c.Info(ctx)
	if err != nil {
		return nil, err
	}
	var next, done atomic.Uint64
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if progress != nil {
					progress(done.Load())
				}
			}
		}
	}()
	defer close(stop)
	samples := make([][]byte, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			g, err := newSigner(info.ChainID, Notary, uint64(w)<<40, nil)
			if err != nil {
				errs[w] = err
				return
			}
			for ctx.Err() == nil {
				first := next.Add(uint64(batch)) - uint64(batch)
				if first >= n {
					return
				}
				raws, bodies, err := g.sign(int(min(uint64(batch), n-first)))
				if err != nil {
					errs[w] = err
					return
				}
				if samples[w] == nil {
					samples[w] = bodies[0].(*notary.Anchor).SHA256
				}
				items, err := c.SubmitBatchWait(ctx, raws)
				if err != nil {
					errs[w] = fmt.Errorf("bench: preload: %w", err)
					return
				}
				for _, it := range items {
					if it.Error != nil || it.Code != "ok" {
						errs[w] = fmt.Errorf("bench: preload: a transaction was refused (%v, %s)", it.Error, it.Code)
						return
					}
				}
				done.Add(uint64(len(raws)))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out [][]byte
	for _, s := range samples {
		if s != nil {
			out = append(out, s)
		}
	}
	return out, ctx.Err()
}

// window gathers a run's latencies per interval (Options.Every).
type window struct {
	o       Options
	start   time.Time
	mu      sync.Mutex
	lat     *histogram
	n       int
	last    time.Time
	samples []Sample
	done    chan struct{}
	wg      sync.WaitGroup
}

func newWindow(o Options, start time.Time) *window {
	w := &window{o: o, start: start, last: start, lat: new(histogram), done: make(chan struct{})}
	if o.Every <= 0 {
		return w
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(o.Every)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-t.C:
				w.cut()
			}
		}
	}()
	return w
}

// add records n transactions committed with latency d.
func (w *window) add(d time.Duration, n int) {
	if w.o.Every <= 0 || n == 0 {
		return
	}
	w.mu.Lock()
	w.lat.add(d, n)
	w.n += n
	w.mu.Unlock()
}

// cut closes the current interval as a Sample.
func (w *window) cut() {
	w.mu.Lock()
	lat, n := w.lat, w.n
	w.lat, w.n = new(histogram), 0
	now := time.Now()
	span := now.Sub(w.last)
	w.last = now
	w.mu.Unlock()
	s := Sample{ElapsedS: now.Sub(w.start).Seconds(), TxPerSec: float64(n) / span.Seconds(),
		P50ms: ms(lat.percentile(0.50)), P99ms: ms(lat.percentile(0.99))}
	if w.o.Memory != nil {
		s.Memory = w.o.Memory()
	}
	w.mu.Lock()
	w.samples = append(w.samples, s)
	w.mu.Unlock()
}

func (w *window) stop() []Sample {
	close(w.done)
	w.wg.Wait()
	return w.samples
}

// summarise sets the report's samples, and over the run's second half
// (the node's caches fill to their bounds in the first) its memory growth
// and p99 spread.
func (r *Report) summarise(samples []Sample) {
	r.Samples = samples
	if len(samples) < 4 {
		return
	}
	half := samples[len(samples)/2:]
	if first, last := half[0].RSSMB, half[len(half)-1].RSSMB; first > 0 {
		r.MemGrowth = last / first
	}
	if first, last := half[0].HeapMB, half[len(half)-1].HeapMB; first > 0 {
		r.HeapGrowth = last / first
	}
	p99 := make([]float64, 0, len(half))
	for _, s := range half {
		p99 = append(p99, s.P99ms)
	}
	slices.Sort(p99)
	if med := p99[len(p99)/2]; med > 0 {
		r.P99Spread = p99[len(p99)-1] / med
	}
}
