package store_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/agora-ledger/agora/internal/smt"
	"github.com/agora-ledger/agora/internal/store"
)

// TestNodeCache: snapshots of every age read the state map's nodes as
// they were at the snapshot's block, whatever the cache of upper nodes
// holds, across commits, reopening, and snapshots older than the cache.
func TestNodeCache(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	st := open(t, dir)
	paths := [][]byte{{}, {1}, {2}, {1, 3}, {1, 4}, {2, 15}, {1, 3, 5}, {2, 15, 0}}
	model := []map[string]string{{}} // the nodes as of each height
	if err := st.Init([]byte("genesis"), stateOutcome(0), nil); err != nil {
		t.Fatal(err)
	}
	type snap struct {
		s *store.Snapshot
		h int
	}
	var snaps []snap
	check := func(when string) {
		t.Helper()
		for _, sn := range snaps {
			for _, p := range paths {
				n, ok, err := sn.s.GetNode(p)
				want, wok := model[sn.h][string(p)]
				if err != nil || ok != wok || string(n) != want {
					t.Fatalf("%s: snapshot of height %d, node %x: %q %v %v, want %q %v", when, sn.h, p, n, ok, err, want, wok)
				}
			}
		}
	}
	for h := 1; h <= 60; h++ {
		if h == 30 { // reopen: the cache starts empty
			for _, sn := range snaps {
				sn.s.Close()
			}
			snaps = nil
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			st = open(t, dir)
		}
		next := map[string]string{}
		for k, v := range model[h-1] {
			next[k] = v
		}
		out := stateOutcome(uint64(h))
		for _, p := range paths {
			switch rng.IntN(4) {
			case 0:
				v := fmt.Sprintf("node %x at %d", p, h)
				out.MapNodes = append(out.MapNodes, smt.NodeWrite{Path: p, Node: []byte(v)})
				next[string(p)] = v
			case 1:
				out.MapNodes = append(out.MapNodes, smt.NodeWrite{Path: p})
				delete(next, string(p))
			}
		}
		if rng.IntN(3) == 0 { // read through a fresh snapshot before the commit
			snaps = append(snaps, snap{st.Snapshot(), h - 1})
			check(fmt.Sprintf("before block %d", h))
		}
		if err := st.Commit(out, nil); err != nil {
			t.Fatal(err)
		}
		model = append(model, next)
		snaps = append(snaps, snap{st.Snapshot(), h})
		check(fmt.Sprintf("after block %d", h))
	}
	for _, sn := range snaps {
		sn.s.Close()
	}
	st.Close()
}
