package smt

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The measurements of state-map.md section 9. Benchmarks build their maps
// in memory; TestProofSizes runs only when given sizes:
//
//	go test ./internal/smt -run '^$' -bench . -benchtime 200x
//	go test ./internal/smt -run TestProofSizes -sizes 100000,1000000,10000000 -v -timeout 30m
//	go test ./internal/smt -run TestProofSizes -sizes 10000000 -sample 10000000 -v -timeout 60m

var (
	sizes  = flag.String("sizes", "", "comma-separated map sizes at which TestProofSizes measures proofs and updates")
	sample = flag.Int("sample", 20_000, "how many present and absent keys TestProofSizes proves; at least the map's size proves every key")
)

// benchKey is the key hash of the i-th key of a benchmark map: the
// SHA-256 of i, as KeyHash would give for an 8-byte key.
func benchKey(i uint64) [32]byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], i)
	return sha256.Sum256(b[:])
}

// buildMap stores a map of n keys, benchKey(0) to benchKey(n-1), built in
// one batch.
func buildMap(tb testing.TB, n int) *memStore {
	tb.Helper()
	keys := make([][32]byte, n)
	for i := range keys {
		keys[i] = benchKey(uint64(i))
	}
	slices.SortFunc(keys, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	ups := make([]Update, n)
	for i := range keys {
		ups[i] = Update{KeyHash: keys[i], ValueHash: &keys[i]} // any value will do
	}
	s := newMemStore()
	_, ws, err := Apply(s, ups)
	if err != nil {
		tb.Fatal(err)
	}
	s.write(ws)
	return s
}

// benchMaps holds the maps that benchmarks only read, built once.
var benchMaps = map[int]*memStore{}

func benchMap(b *testing.B, n int) *memStore {
	if s := benchMaps[n]; s != nil {
		return s
	}
	s := buildMap(b, n)
	benchMaps[n] = s
	return s
}

// applyBatch returns a block-like batch of 1,000 updates to a map of keys
// 0 to n-1: half change the value of a present key, half insert a new
// key, numbered from next.
func applyBatch(rng *rand.Rand, n int, next *uint64) []Update {
	ups := make([]Update, 0, 1000)
	vals := make([][32]byte, 1000)
	for i := range 1000 {
		vals[i] = benchKey(rng.Uint64())
		if i%2 == 0 {
			ups = append(ups, Update{KeyHash: benchKey(uint64(rng.IntN(n))), ValueHash: &vals[i]})
		} else {
			ups = append(ups, Update{KeyHash: benchKey(*next), ValueHash: &vals[i]})
			*next++
		}
	}
	return sortUpdates(ups)
}

// BenchmarkApply applies 1,000-update batches: the cost of a block's
// state commitment. Each batch's writes are stored before the next, in a
// map built afresh for each run.
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			s := buildMap(b, n)
			rng := rand.New(rand.NewPCG(1, uint64(n)))
			next := uint64(1 << 40)
			var writes, written, reads int
			for b.Loop() {
				b.StopTimer()
				ups := applyBatch(rng, n, &next)
				r0 := s.reads
				b.StartTimer()
				_, ws, err := Apply(s, ups)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				reads += s.reads - r0
				writes += len(ws)
				for _, w := range ws {
					written += len(w.Path) + len(w.Node)
				}
				s.write(ws)
				b.StartTimer()
			}
			b.ReportMetric(float64(reads)/float64(b.N), "nodes-read/op")
			b.ReportMetric(float64(writes)/float64(b.N), "nodes-written/op")
			b.ReportMetric(float64(written)/float64(b.N), "bytes-written/op")
		})
	}
}

// proofSample returns k present and k absent key hashes of a map of n
// keys; if k >= n, every present key.
func proofSample(n, k int, seed uint64) (present, absent [][32]byte) {
	rng := rand.New(rand.NewPCG(seed, 0))
	for i := range k {
		if k >= n {
			present = append(present, benchKey(uint64(i%n)))
		} else {
			present = append(present, benchKey(uint64(rng.IntN(n))))
		}
		absent = append(absent, benchKey(1<<50+(rng.Uint64()>>20)))
	}
	return present, absent
}

func BenchmarkProve(b *testing.B) {
	const n = 1_000_000
	s := benchMap(b, n)
	present, absent := proofSample(n, 512, 2)
	keys := slices.Concat(present, absent)
	var size, reads int
	i := 0
	for b.Loop() {
		r0 := s.reads
		p, err := Prove(s, keys[i%len(keys)])
		if err != nil {
			b.Fatal(err)
		}
		reads += s.reads - r0
		enc, _ := p.MarshalBinary()
		size += len(enc)
		i++
	}
	b.ReportMetric(float64(size)/float64(b.N), "proof-bytes")
	b.ReportMetric(float64(reads)/float64(b.N), "nodes-read/op")
}

func BenchmarkVerify(b *testing.B) {
	const n = 1_000_000
	s := benchMap(b, n)
	present, absent := proofSample(n, 512, 3)
	type claim struct {
		key   [32]byte
		value *[32]byte
		proof []byte
	}
	var claims []claim
	for _, k := range slices.Concat(present, absent) {
		p, err := Prove(s, k)
		if err != nil {
			b.Fatal(err)
		}
		c := claim{key: k, value: lookup(b, s, k)}
		c.proof, _ = p.MarshalBinary()
		claims = append(claims, c)
	}
	root, err := Root(s)
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() { // parse and verify, as a client does
		c := &claims[i%len(claims)]
		p, err := ParseProof(c.proof)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Verify(root, c.key, c.value); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

type sizeStats struct {
	n, sum, max, depthSum, hashSum, maxDepth int
	all                                      []int
}

func (st *sizeStats) add(p *Proof) {
	enc, _ := p.MarshalBinary()
	st.n++
	st.sum += len(enc)
	st.max = max(st.max, len(enc))
	st.all = append(st.all, len(enc))
	st.depthSum += len(p.Siblings)
	st.maxDepth = max(st.maxDepth, len(p.Siblings))
	for _, h := range p.Siblings {
		if h != ([32]byte{}) {
			st.hashSum++
		}
	}
}

func (st *sizeStats) String() string {
	slices.Sort(st.all)
	return fmt.Sprintf("bytes mean %.0f p99 %d max %d; depth mean %.2f max %d; hashes mean %.2f",
		float64(st.sum)/float64(st.n), st.all[len(st.all)*99/100], st.max,
		float64(st.depthSum)/float64(st.n), st.maxDepth, float64(st.hashSum)/float64(st.n))
}

// TestProofSizes builds maps of the sizes given with -sizes and reports
// the size of proofs of present and absent keys, the depth of their
// paths, the nodes stored, and the cost of 1,000-update batches.
func TestProofSizes(t *testing.T) {
	if *sizes == "" {
		t.Skip("give map sizes with -sizes, e.g. -sizes 1000000,10000000")
	}
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("-sizes: %v", err)
		}
		start := time.Now()
		s := buildMap(t, n)
		built := time.Since(start)
		var stored int
		for p, v := range s.nodes {
			stored += len(p) + len(v)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		t.Logf("%d keys: built in %v; %d nodes, %.1f MB of paths and nodes (%.0f B/key); heap %.1f GB",
			n, built.Round(time.Millisecond), len(s.nodes), float64(stored)/1e6, float64(stored)/float64(n), float64(ms.HeapAlloc)/1e9)

		root, err := Root(s)
		if err != nil {
			t.Fatal(err)
		}
		present, absent := proofSample(n, *sample, 4)
		var ps, ae, ao sizeStats
		for _, k := range present {
			p, err := Prove(s, k)
			if err != nil || !p.Present {
				t.Fatalf("Prove(%x): %v, %+v", k, err, p)
			}
			if err := p.Verify(root, k, lookup(t, s, k)); err != nil {
				t.Fatal(err)
			}
			ps.add(p)
		}
		for _, k := range absent {
			p, err := Prove(s, k)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Verify(root, k, nil); err != nil {
				t.Fatal(err)
			}
			if p.Other != nil {
				ao.add(p)
			} else {
				ae.add(p)
			}
		}
		t.Logf("%d keys: present (%d): %v", n, ps.n, &ps)
		t.Logf("%d keys: absent, path ends in an empty subtree (%d): %v", n, ae.n, &ae)
		t.Logf("%d keys: absent, path ends in another key's leaf (%d): %v", n, ao.n, &ao)

		rng := rand.New(rand.NewPCG(5, uint64(n)))
		next := uint64(1 << 40)
		const batches = 20
		var elapsed time.Duration
		var reads, writes, written int
		for range batches {
			ups := applyBatch(rng, n, &next)
			r0 := s.reads
			start := time.Now()
			_, ws, err := Apply(s, ups)
			elapsed += time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			reads += s.reads - r0
			writes += len(ws)
			for _, w := range ws {
				written += len(w.Path) + len(w.Node)
			}
			s.write(ws)
		}
		t.Logf("%d keys: 1,000-update batch: %v, %d nodes read, %d written, %.0f KB written",
			n, (elapsed / batches).Round(10*time.Microsecond), reads/batches, writes/batches, float64(written)/batches/1e3)
		s = nil
		runtime.GC()
	}
}
