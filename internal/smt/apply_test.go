package smt

import (
	"bytes"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomBatch returns a batch of updates to m: inserts (of random keys and
// of neighbours of present keys), updates, deletes, deletes of absent
// keys, and rewrites of a value with itself.
func randomBatch(g keyGen, m model, size int) []Update {
	present := slices.SortedFunc(maps.Keys(m), func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	pick := func() [32]byte { return present[g.rng.IntN(len(present))] }
	var ups []Update
	for range size {
		op := g.rng.IntN(10)
		if len(present) == 0 && op >= 3 {
			op = g.rng.IntN(3)
		}
		switch op {
		case 0, 1:
			ups = append(ups, Update{KeyHash: g.random(), ValueHash: g.value()})
		case 2:
			ups = append(ups, Update{KeyHash: g.random()}) // delete an absent key
		case 3, 4:
			ups = append(ups, Update{KeyHash: g.near(pick()), ValueHash: g.value()})
		case 5:
			ups = append(ups, Update{KeyHash: g.near(pick())}) // most likely absent
		case 6:
			ups = append(ups, Update{KeyHash: pick(), ValueHash: g.value()})
		case 7:
			k := pick()
			v := m[k]
			ups = append(ups, Update{KeyHash: k, ValueHash: &v}) // no change
		default:
			ups = append(ups, Update{KeyHash: pick()})
		}
	}
	return sortUpdates(ups)
}

// TestApplyMatchesModel applies many random batches and checks, after
// each, the root against the model's and the stored nodes against exactly
// the nodes of the model's tree: none missing, none orphaned, none stale.
func TestApplyMatchesModel(t *testing.T) {
	maxN := 0
	for _, seed := range []uint64{1, 2, 3} {
		g := keyGen{rand.New(rand.NewPCG(seed, 0))}
		s, m := newMemStore(), model{}
		for batch := range 300 {
			var size int
			switch g.rng.IntN(6) {
			case 0: // empty batch
			case 1:
				size = 1
			case 2:
				size = 60 + g.rng.IntN(60)
			default:
				size = 1 + g.rng.IntN(20)
			}
			ups := randomBatch(g, m, size)
			if batch%100 == 99 { // empty the map now and then
				ups = ups[:0]
				for _, l := range m.leaves() {
					ups = append(ups, Update{KeyHash: l.KeyHash})
				}
			}
			root := s.apply(t, ups)
			m.apply(ups)
			checkTree(t, s, root, m)
			maxN = max(maxN, len(m))
		}
	}
	t.Logf("largest map: %d keys", maxN)
}

// TestFreshBuild checks that building a map in one batch stores the same
// nodes as reaching it through many, and that batch boundaries do not
// matter.
func TestFreshBuild(t *testing.T) {
	g := keyGen{rand.New(rand.NewPCG(7, 0))}
	s, m := newMemStore(), model{}
	for range 100 {
		ups := randomBatch(g, m, 1+g.rng.IntN(30))
		s.apply(t, ups)
		m.apply(ups)
	}
	var all []Update
	for _, l := range m.leaves() {
		all = append(all, Update{KeyHash: l.KeyHash, ValueHash: &l.ValueHash})
	}
	fresh := newMemStore()
	root := fresh.apply(t, all)
	checkTree(t, fresh, root, m)
	if !maps.EqualFunc(s.nodes, fresh.nodes, bytes.Equal) {
		t.Fatal("fresh build stores other nodes than the incremental one")
	}
	oneByOne := newMemStore()
	for _, u := range all {
		root = oneByOne.apply(t, []Update{u})
	}
	checkTree(t, oneByOne, root, m)
}

func TestApplyEmpty(t *testing.T) {
	s := newMemStore()
	root := s.apply(t, nil)
	if root != ([32]byte{}) || len(s.nodes) != 0 {
		t.Fatalf("empty batch on the empty map: root %x, %d nodes", root, len(s.nodes))
	}
	root = s.apply(t, []Update{{KeyHash: KeyHash([]byte("absent"))}})
	if root != ([32]byte{}) || len(s.nodes) != 0 {
		t.Fatalf("deleting an absent key from the empty map: root %x, %d nodes", root, len(s.nodes))
	}
	k, v := KeyHash([]byte("k")), ValueHash([]byte("v"))
	root = s.apply(t, []Update{{KeyHash: k, ValueHash: &v}})
	if want := specLeafHash(Leaf{k, v}); root != want {
		t.Fatalf("one key: root %x, want its leaf hash %x", root, want)
	}
	if _, ok := s.nodes[""]; !ok || len(s.nodes) != 1 {
		t.Fatalf("one key: %d nodes, want the root alone", len(s.nodes))
	}
	root = s.apply(t, []Update{{KeyHash: k}})
	if root != ([32]byte{}) || len(s.nodes) != 0 {
		t.Fatalf("after deleting the only key: root %x, %d nodes", root, len(s.nodes))
	}
}

func TestApplyRefusesUnsortedUpdates(t *testing.T) {
	a, b := [32]byte{1}, [32]byte{2}
	for _, tt := range []struct {
		name string
		ups  []Update
	}{
		{"descending", []Update{{KeyHash: b}, {KeyHash: a}}},
		{"duplicate", []Update{{KeyHash: a}, {KeyHash: a}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Apply(newMemStore(), tt.ups); err == nil {
				t.Fatal("Apply accepted the updates")
			}
		})
	}
}

type failingReader struct{ err error }

func (f failingReader) GetNode([]byte) ([]byte, bool, error) { return nil, false, f.err }

func TestStorageErrorsPassThrough(t *testing.T) {
	boom := errors.New("boom")
	r := failingReader{boom}
	if _, _, err := Apply(r, nil); !errors.Is(err, boom) {
		t.Errorf("Apply: %v, want it to wrap the reader's error", err)
	}
	if _, err := Root(r); !errors.Is(err, boom) {
		t.Errorf("Root: %v, want it to wrap the reader's error", err)
	}
	if _, err := Prove(r, [32]byte{}); !errors.Is(err, boom) {
		t.Errorf("Prove: %v, want it to wrap the reader's error", err)
	}
}

// TestCorruptTree checks that a tampered or missing node is reported as
// ErrCorrupt: by Prove always, and by Apply when it reads it.
func TestCorruptTree(t *testing.T) {
	g := keyGen{rand.New(rand.NewPCG(11, 0))}
	s := newMemStore()
	s.apply(t, randomBatch(g, model{}, 200))
	var deep string // a stored node below the root
	for _, p := range slices.Sorted(maps.Keys(s.nodes)) {
		if len(p) == 2 {
			deep = p
			break
		}
	}
	if deep == "" {
		t.Fatal("no node at depth 2")
	}
	// A key hash whose path passes through the node.
	var k [32]byte
	k[0] = deep[0]<<4 | deep[1]

	for _, tt := range []struct {
		name   string
		tamper func(n []byte) []byte
	}{
		{"missing", func([]byte) []byte { return nil }},
		{"hash flipped", func(n []byte) []byte { n = slices.Clone(n); n[len(n)-1] ^= 1; return n }},
		{"truncated", func(n []byte) []byte { return n[:len(n)-1] }},
		{"empty", func([]byte) []byte { return []byte{0, 0, 0, 0} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newMemStore()
			maps.Copy(c.nodes, s.nodes)
			if n := tt.tamper(c.nodes[deep]); n == nil {
				delete(c.nodes, deep)
			} else {
				c.nodes[deep] = n
			}
			if _, err := Prove(c, k); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Prove: %v, want ErrCorrupt", err)
			}
			_, _, err := Apply(c, []Update{{KeyHash: k, ValueHash: &k}})
			if tt.name != "hash flipped" && !errors.Is(err, ErrCorrupt) {
				t.Errorf("Apply: %v, want ErrCorrupt", err)
			}
		})
	}
}
