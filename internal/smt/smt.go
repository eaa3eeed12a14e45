// Package smt implements Agora's authenticated map of current state: a
// sparse Merkle tree over 256-bit key hashes whose 32-byte root commits to
// every key and value, with short proofs that a key holds a value or is
// absent. The format is specified in docs/spec/state-map.md; this package
// is its reference implementation.
//
// # The tree
//
// Each entry of the map is a leaf (KeyHash(key), ValueHash(value)), placed
// by the bits of its key hash. A subtree holding one leaf is that leaf, and
// an empty subtree is the zero hash, so a path is only as deep as it takes
// to tell its key apart from the others: about log2(N)+1 levels for N
// random keys. The root of the empty map is the zero hash.
//
// # Storage
//
// The tree is kept in 16-ary nodes, one per nibble of the key hash,
// addressed by their nibble path; a node's hash is still the binary Merkle
// root over its sixteen slots, so proofs hold one hash per binary level.
// The package does no I/O: it reads nodes through a NodeReader and Apply
// returns the node writes a batch of updates makes, which the caller
// stores in the same atomic batch as the block. Nodes are not versioned:
// the stored tree is the current state, and a NodeReader must present the
// nodes as they were after the previous Apply's writes.
//
// Everything is deterministic: the same nodes and updates give the same
// root and the same writes, in the same order, on every machine.
//
// # Proofs
//
// Prove returns a Proof for any key hash: of inclusion if the key is in
// the map, of absence otherwise. Proof.Verify checks it against a root
// with nothing else; MarshalBinary and ParseProof give its one canonical
// encoding: 32 bytes per level whose sibling is not empty, about 760
// bytes on average for a key of a map of 10 million.
//
// The package keeps no state between calls: Apply, Root and Prove read
// only through the NodeReader they are given. The example shows the
// conversion of a block's write set into updates.
package smt

import (
	"crypto/sha256"
	"errors"
)

// Sentinel errors. Errors returned by the package wrap one of them, or
// an error of the NodeReader.
var (
	// ErrInvalidProof: the proof does not prove the claim against the
	// root. Nothing is known about the key; do not trust the claim.
	ErrInvalidProof = errors.New("smt: invalid proof")
	// ErrMalformed: bytes passed to ParseProof, or a Proof, are not a
	// well-formed proof in its canonical form.
	ErrMalformed = errors.New("smt: malformed proof")
	// ErrCorrupt: the stored nodes are not a tree this package wrote
	// (a malformed node, a missing child, a hash that does not match).
	// It is a storage failure, never a property of the input.
	ErrCorrupt = errors.New("smt: corrupt tree")
)

// NodeReader reads the stored nodes of a tree. It is the one seam between
// the tree and its storage.
type NodeReader interface {
	// GetNode returns the node stored under the nibble path (one byte,
	// 0x00 to 0x0f, per nibble; the root's path is empty) and ok=true,
	// or ok=false if there is none. An error is a failure of the storage;
	// the package passes it on wrapped. The package never modifies node
	// and is done with it before it calls GetNode again, so a reader may
	// reuse one buffer.
	GetNode(path []byte) (node []byte, ok bool, err error)
}

// Update is one change to the map.
type Update struct {
	KeyHash [32]byte
	// ValueHash is the new value's hash; nil deletes the key. Deleting a
	// key that is absent changes nothing.
	ValueHash *[32]byte
}

// NodeWrite is one change to the stored nodes.
type NodeWrite struct {
	// Path is the node's nibble path, as passed to NodeReader.GetNode.
	Path []byte
	// Node is the node's new encoding, or nil to delete the node.
	Node []byte
}

// KeyHash returns the key hash of a key: its SHA-256.
func KeyHash(key []byte) [32]byte { return sha256.Sum256(key) }

// ValueHash returns the value hash of a value: its SHA-256. An empty
// value is a value, different from an absent one.
func ValueHash(value []byte) [32]byte { return sha256.Sum256(value) }

// tag separates the tree's hashes from every other SHA-256 in Agora.
const tag = "agora/smt/v1"

const (
	leafPrefix     = 0x00
	interiorPrefix = 0x01
)

// leafHash is SHA-256("agora/smt/v1" || 0x00 || keyHash || valueHash).
func leafHash(keyHash, valueHash *[32]byte) [32]byte {
	var b [len(tag) + 1 + 64]byte
	copy(b[:], tag)
	b[len(tag)] = leafPrefix
	copy(b[len(tag)+1:], keyHash[:])
	copy(b[len(tag)+33:], valueHash[:])
	return sha256.Sum256(b[:])
}

// interiorHash is SHA-256("agora/smt/v1" || 0x01 || left || right).
func interiorHash(left, right *[32]byte) [32]byte {
	var b [len(tag) + 1 + 64]byte
	copy(b[:], tag)
	b[len(tag)] = interiorPrefix
	copy(b[len(tag)+1:], left[:])
	copy(b[len(tag)+33:], right[:])
	return sha256.Sum256(b[:])
}

// bit returns bit d of h, counting from the most significant bit of h[0].
func bit(h *[32]byte, d int) byte { return h[d/8] >> (7 - d%8) & 1 }

// nibble returns nibble i of h, counting from the high nibble of h[0].
func nibble(h *[32]byte, i int) byte {
	if i%2 == 0 {
		return h[i/2] >> 4
	}
	return h[i/2] & 0x0f
}
