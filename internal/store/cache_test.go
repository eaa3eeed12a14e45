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

// TestRecentAndCosigned: snapshots read the last block's header and
// checkpoint, and cosignatures, the same from memory as from the disk,
// after a reopen too.
func TestRecentAndCosigned(t *testing.T) {
	dir := t.TempDir()
	st := open(t, dir)
	if err := st.Init([]byte("genesis"), stateOutcome(0), []byte("checkpoint 0\n")); err != nil {
		t.Fatal(err)
	}
	for h := uint64(1); h <= 3; h++ {
		if err := st.Commit(stateOutcome(h), fmt.Appendf(nil, "checkpoint %d\n", h)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AddCosignatures(2, []byte("— w1 AAAA\n")); err != nil {
		t.Fatal(err)
	}
	check := func(st *store.Store) {
		t.Helper()
		sn := st.Snapshot()
		defer sn.Close()
		for h := uint64(0); h <= 3; h++ {
			hdr, err := sn.Header(h)
			if err != nil || hdr.Height != h {
				t.Fatalf("header %d: %+v %v", h, hdr, err)
			}
			cp, err := sn.Checkpoint(h)
			if err != nil || string(cp) != fmt.Sprintf("checkpoint %d\n", h) {
				t.Fatalf("checkpoint %d: %q %v", h, cp, err)
			}
			cs, err := sn.Cosignatures(h)
			want := ""
			if h == 2 {
				want = "— w1 AAAA\n"
			}
			if err != nil || string(cs) != want {
				t.Fatalf("cosignatures %d: %q %v, want %q", h, cs, err, want)
			}
		}
	}
	check(st)
	st.Close()
	st = open(t, dir)
	defer st.Close()
	check(st)
}
