package smt

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// Apply applies a batch of updates, sorted by KeyHash with no key twice,
// to the tree r holds. It returns the new root and the node writes that
// turn r's nodes into the new tree's, in ascending path order with no
// path twice; it writes nothing itself. Only nodes that change are
// written, and a node the new tree no longer has is deleted, so the
// stored nodes are always exactly those of the map's tree, however it
// was reached.
//
// Apply trusts r: it reads only the nodes on the updated keys' paths and
// does not check their hashes against their parents' (Prove does).
func Apply(r NodeReader, updates []Update) (root [32]byte, writes []NodeWrite, err error) {
	for i := 1; i < len(updates); i++ {
		if bytes.Compare(updates[i-1].KeyHash[:], updates[i].KeyHash[:]) >= 0 {
			return [32]byte{}, nil, fmt.Errorf("smt: updates not sorted by key hash, or a key twice, at %d: %x", i, updates[i].KeyHash)
		}
	}
	a := &applier{r: r}
	n, existed, err := a.read(nil)
	if err != nil {
		return [32]byte{}, nil, err
	}
	if n == nil {
		n = new(node)
	}
	changed, err := a.updateNode(nil, n, updates)
	if err != nil {
		return [32]byte{}, nil, err
	}
	// The root node stays while the map has a leaf, even a single one: it
	// is where that leaf is stored.
	if c, _ := n.count(); c == 0 {
		if existed {
			a.writes = append(a.writes, NodeWrite{Path: []byte{}})
		}
	} else {
		if changed || !existed {
			a.writes = append(a.writes, NodeWrite{Path: []byte{}, Node: n.encode()})
		}
		root = n.hash()
	}
	slices.SortFunc(a.writes, func(x, y NodeWrite) int { return bytes.Compare(x.Path, y.Path) })
	return root, a.writes, nil
}

// Root returns the root of the tree r holds.
func Root(r NodeReader) ([32]byte, error) {
	n, _, err := (&applier{r: r}).read(nil)
	if err != nil || n == nil {
		return [32]byte{}, err
	}
	return n.hash(), nil
}

type applier struct {
	r      NodeReader
	writes []NodeWrite
}

// read returns the node under path, or nil if there is none.
func (a *applier) read(path []byte) (n *node, ok bool, err error) {
	b, ok, err := a.r.GetNode(path)
	if err != nil {
		return nil, false, fmt.Errorf("smt: reading node %x: %w", path, err)
	}
	if !ok {
		return nil, false, nil
	}
	n, err = decodeNode(path, b)
	return n, err == nil, err
}

// child returns path extended by nibble i, in a new slice.
func child(path []byte, i byte) []byte {
	return append(append(make([]byte, 0, len(path)+1), path...), i)
}

// updateNode applies updates, all under path, to the node n at path, in
// place, and reports whether a slot changed.
func (a *applier) updateNode(path []byte, n *node, updates []Update) (changed bool, err error) {
	depth := len(path)
	for len(updates) > 0 {
		i := nibble(&updates[0].KeyHash, depth)
		end := 1
		for end < len(updates) && nibble(&updates[end].KeyHash, depth) == i {
			end++
		}
		s, err := a.updateSlot(child(path, i), n.slots[i], updates[:end])
		if err != nil {
			return false, err
		}
		if s != n.slots[i] {
			n.slots[i] = s
			changed = true
		}
		updates = updates[end:]
	}
	return changed, nil
}

// updateSlot applies updates, all under path, to the subtree at path,
// which cur describes, and returns the slot that describes it after.
func (a *applier) updateSlot(path []byte, cur slot, updates []Update) (slot, error) {
	if cur.kind != childSlot {
		// No node is stored at path: merge the leaf, if any, with the
		// updates and build what they make.
		leaves := merge(cur, updates)
		switch len(leaves) {
		case 0:
			return slot{}, nil
		case 1:
			return leaves[0], nil
		}
		return a.build(path, leaves), nil
	}
	n, ok, err := a.read(path)
	if err != nil {
		return slot{}, err
	}
	if !ok {
		return slot{}, fmt.Errorf("%w: node %x is missing", ErrCorrupt, path)
	}
	changed, err := a.updateNode(path, n, updates)
	if err != nil || !changed {
		return cur, err
	}
	switch c, last := n.count(); {
	case c == 0:
		a.writes = append(a.writes, NodeWrite{Path: path})
		return slot{}, nil
	case c == 1 && n.slots[last].kind == leafSlot:
		// A lone leaf moves up into the parent's slot.
		a.writes = append(a.writes, NodeWrite{Path: path})
		return n.slots[last], nil
	}
	a.writes = append(a.writes, NodeWrite{Path: path, Node: n.encode()})
	return slot{kind: childSlot, key: n.hash()}, nil
}

// merge returns the leaves of a subtree that holds at most the leaf cur,
// after updates, in key hash order.
func merge(cur slot, updates []Update) []slot {
	out := make([]slot, 0, len(updates)+1)
	pending := cur.kind == leafSlot
	for i := range updates {
		u := &updates[i]
		if pending {
			switch c := bytes.Compare(cur.key[:], u.KeyHash[:]); {
			case c < 0:
				out = append(out, cur)
				pending = false
			case c == 0:
				pending = false // replaced or deleted by u
			}
		}
		if u.ValueHash != nil {
			out = append(out, slot{kind: leafSlot, key: u.KeyHash, value: *u.ValueHash})
		}
	}
	if pending {
		out = append(out, cur)
	}
	return out
}

// build stores a new subtree at path holding leaves (two or more, sorted,
// all under path, where nothing is stored yet) and returns its slot.
func (a *applier) build(path []byte, leaves []slot) slot {
	depth := len(path)
	if depth > maxDepth {
		panic(errors.New("smt: two leaves with the same key hash")) // merge makes them unique
	}
	n := new(node)
	for len(leaves) > 0 {
		i := nibble(&leaves[0].key, depth)
		end := 1
		for end < len(leaves) && nibble(&leaves[end].key, depth) == i {
			end++
		}
		if end == 1 {
			n.slots[i] = leaves[0]
		} else {
			n.slots[i] = a.build(child(path, i), leaves[:end])
		}
		leaves = leaves[end:]
	}
	a.writes = append(a.writes, NodeWrite{Path: path, Node: n.encode()})
	return slot{kind: childSlot, key: n.hash()}
}
