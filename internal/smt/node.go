package smt

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// A node is one stored 16-ary node: the subtree under a nibble path, as
// its sixteen child slots. A slot is empty, holds the subtree's only leaf,
// or refers to a child node holding two leaves or more.
//
// Encoding (state-map.md, section 5):
//
//	present (uint16, big-endian) || leaves (uint16, big-endian) || slots
//
// where bit i (value 1<<i) of present says slot i is not empty, bit i of
// leaves says it holds a leaf, and for each present slot in ascending
// order, a leaf is keyHash || valueHash (64 bytes) and a child is its
// hash (32 bytes).
type node struct {
	slots [16]slot
}

type slotKind uint8

const (
	emptySlot slotKind = iota
	leafSlot
	childSlot
)

type slot struct {
	kind slotKind
	// A leaf's keyHash and valueHash; a child's hash is in key.
	key, value [32]byte
}

const maxNodeSize = 4 + 16*64

// maxDepth is the most nibbles a node's path can have: a node at depth
// 63 splits keys by their last nibble.
const maxDepth = 63

func (n *node) encode() []byte {
	var present, leaves uint16
	size := 4
	for i := range n.slots {
		switch n.slots[i].kind {
		case leafSlot:
			present |= 1 << i
			leaves |= 1 << i
			size += 64
		case childSlot:
			present |= 1 << i
			size += 32
		}
	}
	b := make([]byte, 4, size)
	binary.BigEndian.PutUint16(b[0:], present)
	binary.BigEndian.PutUint16(b[2:], leaves)
	for i := range n.slots {
		s := &n.slots[i]
		switch s.kind {
		case leafSlot:
			b = append(b, s.key[:]...)
			b = append(b, s.value[:]...)
		case childSlot:
			b = append(b, s.key[:]...)
		}
	}
	return b
}

// decodeNode decodes the node stored under path, refusing any encoding
// this package would not have written there.
func decodeNode(path []byte, b []byte) (*node, error) {
	if len(path) > maxDepth {
		return nil, fmt.Errorf("%w: node at depth %d", ErrCorrupt, len(path))
	}
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: node %x: %d bytes", ErrCorrupt, path, len(b))
	}
	present := binary.BigEndian.Uint16(b[0:])
	leaves := binary.BigEndian.Uint16(b[2:])
	nLeaves, nChildren := bits.OnesCount16(leaves), bits.OnesCount16(present&^leaves)
	switch {
	case present == 0:
		return nil, fmt.Errorf("%w: node %x is empty", ErrCorrupt, path)
	case leaves&^present != 0:
		return nil, fmt.Errorf("%w: node %x: leaf bits outside the present bits", ErrCorrupt, path)
	case len(b) != 4+64*nLeaves+32*nChildren:
		return nil, fmt.Errorf("%w: node %x: %d bytes for %d leaves and %d children", ErrCorrupt, path, len(b), nLeaves, nChildren)
	case len(path) > 0 && nLeaves == 1 && nChildren == 0:
		return nil, fmt.Errorf("%w: node %x holds a single leaf", ErrCorrupt, path)
	case len(path) == maxDepth && nChildren > 0:
		return nil, fmt.Errorf("%w: node %x at the last level has children", ErrCorrupt, path)
	}
	n := new(node)
	off := 4
	for i := range n.slots {
		if present&(1<<i) == 0 {
			continue
		}
		s := &n.slots[i]
		copy(s.key[:], b[off:off+32])
		off += 32
		if leaves&(1<<i) == 0 {
			s.kind = childSlot
			if s.key == ([32]byte{}) {
				return nil, fmt.Errorf("%w: node %x: child %x has the empty hash", ErrCorrupt, path, i)
			}
			continue
		}
		s.kind = leafSlot
		copy(s.value[:], b[off:off+32])
		off += 32
		for d, nib := range path {
			if nibble(&s.key, d) != nib {
				return nil, fmt.Errorf("%w: node %x: leaf %x is not under the node", ErrCorrupt, path, s.key)
			}
		}
		if nibble(&s.key, len(path)) != byte(i) {
			return nil, fmt.Errorf("%w: node %x: leaf %x is in slot %x", ErrCorrupt, path, s.key, i)
		}
	}
	return n, nil
}

// count returns the number of non-empty slots and the index of the last.
func (n *node) count() (count, last int) {
	for i := range n.slots {
		if n.slots[i].kind != emptySlot {
			count++
			last = i
		}
	}
	return count, last
}

// A span is a binary subtree inside a node: a run of slots.
type span struct {
	// kind is emptySlot (no leaf below), leafSlot (exactly one leaf, in
	// slot leaf) or childSlot (two leaves or more).
	kind slotKind
	leaf int
	hash [32]byte
}

// spans returns the node's binary subtrees in heap order: t[1] is the
// whole node, t[2k] and t[2k+1] are the halves of t[k], and t[16+i] is
// slot i. A span holding one leaf has that leaf's hash, so the leaf sits
// at the top of the largest span it has to itself; an empty span has the
// zero hash; any other span is the interior hash of its halves.
func (n *node) spans() *[32]span {
	var t [32]span
	for i := range n.slots {
		s := &n.slots[i]
		sp := &t[16+i]
		sp.kind, sp.leaf = s.kind, i
		switch s.kind {
		case leafSlot:
			sp.hash = leafHash(&s.key, &s.value)
		case childSlot:
			sp.hash = s.key
		}
	}
	for k := 15; k >= 1; k-- {
		l, r := &t[2*k], &t[2*k+1]
		switch {
		case l.kind == emptySlot && r.kind != childSlot:
			t[k] = *r
		case r.kind == emptySlot && l.kind == leafSlot:
			t[k] = *l
		default:
			t[k] = span{kind: childSlot, hash: interiorHash(&l.hash, &r.hash)}
		}
	}
	return &t
}

// hash returns the node's hash: the root of the subtree it holds.
func (n *node) hash() [32]byte { return n.spans()[1].hash }
