package smt

import (
	"math/rand/v2"
	"sync"
	"testing"
)

// TestProverMatchesProve: a Prover that remembers nodes gives exactly the
// proofs Prove gives, as the map changes under it, from many goroutines
// at once (go test -race), and with a memory smaller than the map so that
// it starts afresh now and then.
func TestProverMatchesProve(t *testing.T) {
	g := keyGen{rand.New(rand.NewPCG(7, 0))}
	s, m := newMemStore(), model{}
	pv := NewProver(8)
	for batch := range 40 {
		ups := randomBatch(g, m, 1+g.rng.IntN(40))
		s.apply(t, ups)
		m.apply(ups)
		var keys [][32]byte
		for _, l := range m.leaves() {
			keys = append(keys, l.KeyHash)
		}
		for range 10 {
			keys = append(keys, g.random()) // absent
		}
		want := make([]*Proof, len(keys))
		for i, k := range keys {
			p, err := Prove(s, k)
			if err != nil {
				t.Fatal(err)
			}
			want[i] = p
		}
		r := mapReader(s.nodes) // read only, by the goroutines
		var wg sync.WaitGroup
		errs := make([]string, 4)
		for w := range 4 {
			wg.Go(func() {
				for i, k := range keys {
					got, err := pv.Prove(r, k)
					if err != nil {
						errs[w] = err.Error()
						return
					}
					a, _ := got.MarshalBinary()
					b, _ := want[i].MarshalBinary()
					if string(a) != string(b) {
						errs[w] = "a proof differs"
						return
					}
				}
			})
		}
		wg.Wait()
		for _, e := range errs {
			if e != "" {
				t.Fatalf("batch %d: %s", batch, e)
			}
		}
	}
}

// mapReader reads nodes from a map without counting, for concurrent use.
type mapReader map[string][]byte

func (m mapReader) GetNode(path []byte) ([]byte, bool, error) {
	n, ok := m[string(path)]
	return n, ok, nil
}
