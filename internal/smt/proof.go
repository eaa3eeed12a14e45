package smt

import (
	"fmt"
	"math/bits"
	"sync"
)

// A Proof shows that a key hash is in the map with a value hash, or that
// it is absent, to anyone who holds the map's root. It is the path from
// the root towards the key: the hashes beside the path, and where the
// path ends, which is either the key's own leaf, or an empty subtree or
// another key's leaf where the key's would be.
type Proof struct {
	// Siblings holds, for each binary level d the path passes, the hash
	// of the subtree beside it: Siblings[d] is at depth d+1, under the
	// path's first d bits and the opposite of its bit d. The zero hash is
	// an empty subtree. The path ends at depth len(Siblings), at most
	// 256, and unless the path ends at the root, the last sibling is not
	// empty.
	Siblings [][32]byte
	// Present says the path ends in the key's own leaf: the proof is of
	// inclusion, and the verifier supplies the value hash it proves.
	Present bool
	// Other is the leaf where the path ends if it is another key's; nil
	// if the path ends in the key's own leaf or in an empty subtree.
	Other *Leaf
}

// Leaf is an entry of the map.
type Leaf struct {
	KeyHash, ValueHash [32]byte
}

// Prove returns a proof about keyHash in the tree r holds: of inclusion
// if the key is in the map, of absence otherwise. It checks every node it
// reads against the hash its parent holds, and reports an error wrapping
// ErrCorrupt if one does not match.
func Prove(r NodeReader, keyHash [32]byte) (*Proof, error) {
	return (*Prover)(nil).Prove(r, keyHash)
}

// Prover proves keys as Prove does, remembering the nodes it has decoded
// and hashed, by their encoding, so that the nodes near the root, which
// every proof passes through, are hashed once rather than for every
// proof. A node is remembered by its content, so the memory is right for
// any map and any version of it. It is safe for concurrent use, and holds
// at most the number of nodes it was made for (then it starts afresh).
// The nil *Prover remembers nothing.
type Prover struct {
	mu    sync.RWMutex
	nodes map[string]*provenNode
	max   int
}

// provenNode is a decoded node with its binary subtrees, read-only once
// remembered.
type provenNode struct {
	path string
	n    *node
	t    *[32]span
}

// NewProver returns a Prover that remembers up to max nodes.
func NewProver(max int) *Prover {
	return &Prover{nodes: map[string]*provenNode{}, max: max}
}

// read reads and decodes the node at path, with its spans.
func (pv *Prover) read(r NodeReader, path []byte) (*node, *[32]span, bool, error) {
	b, ok, err := r.GetNode(path)
	if err != nil {
		return nil, nil, false, fmt.Errorf("smt: reading node %x: %w", path, err)
	}
	if !ok {
		return nil, nil, false, nil
	}
	if pv != nil {
		pv.mu.RLock()
		e := pv.nodes[string(b)]
		pv.mu.RUnlock()
		if e != nil && e.path == string(path) {
			return e.n, e.t, true, nil
		}
	}
	n, err := decodeNode(path, b)
	if err != nil {
		return nil, nil, false, err
	}
	t := n.spans()
	if pv != nil {
		pv.mu.Lock()
		if len(pv.nodes) >= pv.max {
			clear(pv.nodes)
		}
		pv.nodes[string(b)] = &provenNode{path: string(path), n: n, t: t}
		pv.mu.Unlock()
	}
	return n, t, true, nil
}

// Prove is the package's Prove, with the Prover's memory of nodes.
func (pv *Prover) Prove(r NodeReader, keyHash [32]byte) (*Proof, error) {
	p := new(Proof)
	var path []byte
	n, t, ok, err := pv.read(r, nil)
	if err != nil {
		return nil, err
	}
	if !ok {
		return p, nil // the empty map
	}
	var want *[32]byte // the hash the parent holds for n
	for {
		if want != nil && t[1].hash != *want {
			return nil, fmt.Errorf("%w: node %x has hash %x, its parent holds %x", ErrCorrupt, path, t[1].hash, *want)
		}
		i := int(nibble(&keyHash, len(path)))
		for j := 0; ; j++ { // the span at binary level j of the node
			sp := &t[(16+i)>>(4-j)]
			switch {
			case sp.kind == emptySlot:
				return p, nil
			case sp.kind == leafSlot:
				if s := &n.slots[sp.leaf]; s.key == keyHash {
					p.Present = true
				} else {
					p.Other = &Leaf{KeyHash: s.key, ValueHash: s.value}
				}
				return p, nil
			case j < 4:
				p.Siblings = append(p.Siblings, t[(16+i)>>(3-j)^1].hash)
				continue
			}
			break // slot i holds a child: go down
		}
		want = &n.slots[i].key
		path = child(path, byte(i))
		n, t, ok, err = pv.read(r, path)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: node %x is missing", ErrCorrupt, path)
		}
	}
}

// misshapen returns why p is not shaped as ParseProof would accept, or
// "" if it is.
func (p *Proof) misshapen() string {
	d := len(p.Siblings)
	if d > 256 {
		return fmt.Sprintf("%d levels", d)
	}
	if d > 0 && p.Siblings[d-1] == ([32]byte{}) {
		return "the last sibling is empty"
	}
	if p.Present && p.Other != nil {
		return "the path ends in two leaves"
	}
	return ""
}

// Verify checks that the proof shows, against root, that keyHash has
// valueHash in the map, or if valueHash is nil, that keyHash is absent.
// It returns nil if so, and otherwise an error wrapping ErrInvalidProof.
func (p *Proof) Verify(root [32]byte, keyHash [32]byte, valueHash *[32]byte) error {
	if why := p.misshapen(); why != "" {
		return fmt.Errorf("%w: %s", ErrInvalidProof, why)
	}
	depth := len(p.Siblings)
	var h [32]byte // the hash where the path ends; zero if empty
	switch {
	case p.Present && valueHash == nil:
		return fmt.Errorf("%w: the proof is of inclusion, not absence", ErrInvalidProof)
	case p.Present:
		h = leafHash(&keyHash, valueHash)
	case valueHash != nil:
		return fmt.Errorf("%w: the proof is of absence, not inclusion", ErrInvalidProof)
	case p.Other != nil:
		if p.Other.KeyHash == keyHash {
			return fmt.Errorf("%w: the proof's leaf is the key's own", ErrInvalidProof)
		}
		for d := range depth {
			if bit(&p.Other.KeyHash, d) != bit(&keyHash, d) {
				return fmt.Errorf("%w: the proof's leaf is not on the key's path", ErrInvalidProof)
			}
		}
		h = leafHash(&p.Other.KeyHash, &p.Other.ValueHash)
	}
	for d := depth - 1; d >= 0; d-- {
		if bit(&keyHash, d) == 0 {
			h = interiorHash(&h, &p.Siblings[d])
		} else {
			h = interiorHash(&p.Siblings[d], &h)
		}
	}
	if h != root {
		return fmt.Errorf("%w: the path leads to root %x, not %x", ErrInvalidProof, h, root)
	}
	return nil
}

// Proof encoding (state-map.md, section 6):
//
//	end (1 byte: 0x00 an empty subtree, 0x01 the key's own leaf,
//	     0x02 another key's leaf)
//	[keyHash || valueHash of the other key's leaf, if end is 0x02]
//	n (1 byte, 0 to 32) || bitmap (n bytes) || hashes (32 bytes each)
//
// Bit d of the bitmap (byte d/8, mask 0x80>>(d%8)) is set if sibling d
// is not empty, and the hashes are those siblings, in order. The path's
// depth is one more than the last set bit (0 if none), so the bitmap's
// last byte is never zero. A future version of the format will start
// with another byte.
const (
	endEmpty = 0x00
	endKey   = 0x01
	endOther = 0x02
)

// MarshalBinary returns the proof's canonical encoding.
func (p *Proof) MarshalBinary() ([]byte, error) {
	if why := p.misshapen(); why != "" {
		return nil, fmt.Errorf("%w: %s", ErrMalformed, why)
	}
	depth := len(p.Siblings)
	nb := (depth + 7) / 8
	b := make([]byte, 0, 2+64+nb+32*depth)
	switch {
	case p.Present:
		b = append(b, endKey)
	case p.Other != nil:
		b = append(b, endOther)
		b = append(b, p.Other.KeyHash[:]...)
		b = append(b, p.Other.ValueHash[:]...)
	default:
		b = append(b, endEmpty)
	}
	b = append(b, byte(nb))
	bm := len(b)
	b = append(b, make([]byte, nb)...)
	for d := range p.Siblings {
		if p.Siblings[d] != ([32]byte{}) {
			b[bm+d/8] |= 0x80 >> (d % 8)
			b = append(b, p.Siblings[d][:]...)
		}
	}
	return b, nil
}

// ParseProof decodes a proof from its canonical encoding. Any other
// bytes, including trailing ones, are an error wrapping ErrMalformed.
func ParseProof(b []byte) (*Proof, error) {
	if len(b) < 1 {
		return nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	p := new(Proof)
	switch b[0] {
	case endEmpty:
		b = b[1:]
	case endKey:
		p.Present = true
		b = b[1:]
	case endOther:
		if len(b) < 65 {
			return nil, fmt.Errorf("%w: truncated leaf", ErrMalformed)
		}
		p.Other = new(Leaf)
		copy(p.Other.KeyHash[:], b[1:33])
		copy(p.Other.ValueHash[:], b[33:65])
		b = b[65:]
	default:
		return nil, fmt.Errorf("%w: unknown first byte 0x%02x", ErrMalformed, b[0])
	}
	if len(b) < 1 {
		return nil, fmt.Errorf("%w: truncated bitmap", ErrMalformed)
	}
	nb := int(b[0])
	b = b[1:]
	switch {
	case nb > 32:
		return nil, fmt.Errorf("%w: %d-byte bitmap", ErrMalformed, nb)
	case len(b) < nb:
		return nil, fmt.Errorf("%w: truncated bitmap", ErrMalformed)
	case nb > 0 && b[nb-1] == 0:
		return nil, fmt.Errorf("%w: bitmap ends in a zero byte", ErrMalformed)
	}
	bitmap, b := b[:nb], b[nb:]
	ones := 0
	for _, x := range bitmap {
		ones += bits.OnesCount8(x)
	}
	if len(b) != 32*ones {
		return nil, fmt.Errorf("%w: %d bytes of hashes for %d hashes", ErrMalformed, len(b), ones)
	}
	depth := 0
	if nb > 0 {
		depth = 8*nb - bits.TrailingZeros8(bitmap[nb-1])
	}
	p.Siblings = make([][32]byte, depth)
	for d := range depth {
		if bitmap[d/8]&(0x80>>(d%8)) == 0 {
			continue
		}
		copy(p.Siblings[d][:], b[:32])
		b = b[32:]
		if p.Siblings[d] == ([32]byte{}) {
			return nil, fmt.Errorf("%w: sibling %d is the empty hash, not marked empty", ErrMalformed, d)
		}
	}
	return p, nil
}
