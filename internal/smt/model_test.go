package smt

import (
	"bytes"
	"crypto/sha256"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// This file holds the reference the tests compare the package against: the
// tree computed straight from its recursive definition in state-map.md,
// with the hashes written out again from the spec, and an in-memory store.

func specLeafHash(l Leaf) [32]byte {
	return sha256.Sum256(slices.Concat([]byte("agora/smt/v1\x00"), l.KeyHash[:], l.ValueHash[:]))
}

func specInteriorHash(left, right [32]byte) [32]byte {
	return sha256.Sum256(slices.Concat([]byte("agora/smt/v1\x01"), left[:], right[:]))
}

func specBit(h [32]byte, d int) int { return int(h[d/8]>>(7-d%8)) & 1 }

// modelRoot is the hash of the subtree at binary depth depth holding
// leaves (sorted by key hash, all sharing their first depth bits).
func modelRoot(leaves []Leaf, depth int) [32]byte {
	return memo{}.root(leaves, depth)
}

// memo remembers the hashes of subtrees, which are named by their depth
// and first leaf, so that modelNodes need not hash long paths again for
// every node on them.
type memo map[memoKey][32]byte

type memoKey struct {
	depth int
	first [32]byte
}

func (m memo) root(leaves []Leaf, depth int) [32]byte {
	switch len(leaves) {
	case 0:
		return [32]byte{}
	case 1:
		return specLeafHash(leaves[0])
	}
	k := memoKey{depth, leaves[0].KeyHash}
	if h, ok := m[k]; ok {
		return h
	}
	i := 0
	for i < len(leaves) && specBit(leaves[i].KeyHash, depth) == 0 {
		i++
	}
	h := specInteriorHash(m.root(leaves[:i], depth+1), m.root(leaves[i:], depth+1))
	m[k] = h
	return h
}

// modelNodes returns the stored nodes the tree of leaves consists of, by
// the rule of state-map.md section 5: the root's node if there is a leaf,
// and a node for every other nibble path under which two leaves or more
// lie.
func modelNodes(leaves []Leaf) map[string][]byte { return memo{}.nodes(leaves) }

func (m memo) nodes(leaves []Leaf) map[string][]byte {
	out := map[string][]byte{}
	var rec func(path []byte, leaves []Leaf)
	rec = func(path []byte, leaves []Leaf) {
		var n node
		for len(leaves) > 0 {
			i := nibble(&leaves[0].KeyHash, len(path))
			end := 1
			for end < len(leaves) && nibble(&leaves[end].KeyHash, len(path)) == i {
				end++
			}
			under := leaves[:end]
			leaves = leaves[end:]
			switch len(under) {
			case 0:
			case 1:
				n.slots[i] = slot{kind: leafSlot, key: under[0].KeyHash, value: under[0].ValueHash}
			default:
				p := append(slices.Clone(path), i)
				n.slots[i] = slot{kind: childSlot, key: m.root(under, 4*len(p))}
				rec(p, under)
			}
		}
		out[string(path)] = n.encode()
	}
	if len(leaves) > 0 {
		rec(nil, leaves)
	}
	return out
}

// model is a map of key hash to value hash.
type model map[[32]byte][32]byte

func (m model) leaves() []Leaf {
	out := make([]Leaf, 0, len(m))
	for _, k := range slices.SortedFunc(maps.Keys(m), func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) }) {
		out = append(out, Leaf{KeyHash: k, ValueHash: m[k]})
	}
	return out
}

// apply applies updates to the model.
func (m model) apply(updates []Update) {
	for _, u := range updates {
		if u.ValueHash == nil {
			delete(m, u.KeyHash)
		} else {
			m[u.KeyHash] = *u.ValueHash
		}
	}
}

// memStore is a NodeReader over a map, as the integrator's Pebble store
// would be over a prefix.
type memStore struct {
	nodes map[string][]byte
	reads int
}

func newMemStore() *memStore { return &memStore{nodes: map[string][]byte{}} }

func (s *memStore) GetNode(path []byte) ([]byte, bool, error) {
	s.reads++
	n, ok := s.nodes[string(path)]
	return n, ok, nil
}

func (s *memStore) write(ws []NodeWrite) {
	for _, w := range ws {
		if w.Node == nil {
			delete(s.nodes, string(w.Path))
		} else {
			s.nodes[string(w.Path)] = w.Node
		}
	}
}

// apply runs Apply, checks the shape of its writes, and stores them.
func (s *memStore) apply(t testing.TB, updates []Update) [32]byte {
	t.Helper()
	root, ws, err := Apply(s, updates)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	for i, w := range ws {
		if i > 0 && bytes.Compare(ws[i-1].Path, w.Path) >= 0 {
			t.Fatalf("writes not in ascending path order: %x then %x", ws[i-1].Path, w.Path)
		}
		if _, ok := s.nodes[string(w.Path)]; w.Node == nil && !ok {
			t.Fatalf("deletes %x, which is not stored", w.Path)
		}
		if old, ok := s.nodes[string(w.Path)]; ok && bytes.Equal(old, w.Node) {
			t.Fatalf("rewrites %x unchanged", w.Path)
		}
	}
	s.write(ws)
	return root
}

// checkTree checks that the store holds exactly the nodes of the model's
// tree, and that its root is the model's.
func checkTree(t testing.TB, s *memStore, root [32]byte, m model) {
	t.Helper()
	leaves, mm := m.leaves(), memo{}
	if want := mm.root(leaves, 0); root != want {
		t.Fatalf("root %x, model has %x", root, want)
	}
	if got, err := Root(s); err != nil || got != root {
		t.Fatalf("Root = %x, %v; Apply returned %x", got, err, root)
	}
	want := mm.nodes(leaves)
	for p, n := range s.nodes {
		w, ok := want[p]
		if !ok {
			t.Fatalf("stored node %x is not in the tree (orphan)", p)
		}
		if !bytes.Equal(n, w) {
			t.Fatalf("node %x:\n got  %x\n want %x", p, n, w)
		}
		if d, err := decodeNode([]byte(p), n); err != nil {
			t.Fatalf("node %x does not decode: %v", p, err)
		} else if !bytes.Equal(d.encode(), n) {
			t.Fatalf("node %x does not re-encode to itself", p)
		}
	}
	for p := range want {
		if _, ok := s.nodes[p]; !ok {
			t.Fatalf("node %x is missing", p)
		}
	}
}

// lookup returns the value hash of k in the tree r holds, or nil if k is
// absent, by walking the nodes.
func lookup(t testing.TB, r NodeReader, k [32]byte) *[32]byte {
	t.Helper()
	var path []byte
	for {
		b, ok, err := r.GetNode(path)
		if err != nil || !ok {
			if err != nil {
				t.Fatal(err)
			}
			return nil
		}
		n, err := decodeNode(path, b)
		if err != nil {
			t.Fatal(err)
		}
		i := nibble(&k, len(path))
		switch s := n.slots[i]; s.kind {
		case leafSlot:
			if s.key == k {
				return &s.value
			}
			return nil
		case childSlot:
			path = child(path, i)
		default:
			return nil
		}
	}
}

// keyGen makes key hashes: mostly random, but often a near neighbour of
// an existing key (one bit flipped at a random depth), so that paths go
// deep and split at every level, down to the last bit.
type keyGen struct{ rng *rand.Rand }

func (g keyGen) random() (k [32]byte) {
	for i := range 4 {
		x := g.rng.Uint64()
		for j := range 8 {
			k[8*i+j] = byte(x >> (8 * j))
		}
	}
	return k
}

func (g keyGen) near(k [32]byte) [32]byte {
	var d int
	switch g.rng.IntN(8) {
	case 0:
		d = 255 - g.rng.IntN(8) // the last levels
	case 1:
		d = g.rng.IntN(256)
	default:
		d = g.rng.IntN(32)
	}
	k[d/8] ^= 0x80 >> (d % 8)
	for e := d + 1; e < 256; e++ { // and anything after
		if g.rng.IntN(2) == 0 {
			k[e/8] ^= 0x80 >> (e % 8)
		}
	}
	return k
}

func (g keyGen) value() *[32]byte {
	v := g.random()
	return &v
}

// sortUpdates sorts updates by key hash, keeping the last update of each
// key.
func sortUpdates(updates []Update) []Update {
	slices.SortStableFunc(updates, func(a, b Update) int { return bytes.Compare(a.KeyHash[:], b.KeyHash[:]) })
	out := updates[:0]
	for _, u := range updates {
		if len(out) > 0 && out[len(out)-1].KeyHash == u.KeyHash {
			out[len(out)-1] = u
		} else {
			out = append(out, u)
		}
	}
	return out
}
