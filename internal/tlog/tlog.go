// Package tlog implements Agora's transparency log: an append-only RFC 6962
// (RFC 9162) Merkle tree over committed transactions, its inclusion and
// consistency proofs, the C2SP tlog-tiles resources that serve it, and the
// C2SP tlog-checkpoint signed notes that commit to it.
//
// The package is deterministic: it does no I/O, reads no clock and starts
// no goroutines. The caller stores the tree's node hashes (in Pebble, in
// the same batch as the block that adds the leaves) and hands them back
// through a HashReader.
//
// # Storage
//
// The tree is kept as the hashes of its perfect subtrees, addressed by
// compact.NodeID (level, index): level 0 holds the leaf hashes, and node
// (l, i) is the root of the perfect subtree over leaves [i·2^l, (i+1)·2^l).
// A perfect subtree never changes once its last leaf is appended, so every
// stored hash is immutable, and a tree of n leaves stores fewer than 2n
// hashes. The roots of imperfect subtrees (the right edge of the tree) are
// never stored; they are recomputed from at most 64 stored nodes.
//
// Append extends the tree by a block's leaves and returns the root and the
// new node hashes; the caller writes those in its block batch. The tree
// size is the caller's to keep (it is the number of committed
// transactions), and must be passed back exactly.
//
// # Proofs
//
// InclusionProof and ConsistencyProof read the nodes a proof needs and
// build it with github.com/transparency-dev/merkle/proof; VerifyInclusion
// and VerifyConsistency check proofs with the same library.
//
// # Tiles
//
// A Tile names a C2SP tlog-tiles resource: a hash tile tile/<L>/<N>[.p/<W>]
// or an entry bundle tile/entries/<N>[.p/<W>]. ParseTilePath accepts only
// the canonical path of a tile; ReadTile returns the bytes of a hash tile
// for a given tree size; MarshalBundle and ParseBundle encode entry
// bundles.
//
// # Checkpoints
//
// A Checkpoint is the C2SP tlog-checkpoint note text: origin, tree size,
// root hash and optional extension lines. Sign makes it a C2SP signed note
// with an Ed25519 signature; Open verifies one and parses it strictly.
package tlog

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// HashSize is the size of every hash in the tree (SHA-256).
const HashSize = sha256.Size

// HashReader reads stored node hashes.
//
// ReadHashes returns the hash of each node in ids, in the same order, each
// HashSize bytes. The nodes are always perfect subtrees that Append
// returned as writes. If any node is not stored, ReadHashes returns an
// error (the tree is smaller than the caller said, or the store is
// damaged); tlog wraps it. The returned slices are the caller's to keep:
// tlog does not modify them.
type HashReader interface {
	ReadHashes(ids []compact.NodeID) ([][]byte, error)
}

// NodeHash is a node hash to store: the root of the perfect subtree ID.
type NodeHash struct {
	ID   compact.NodeID
	Hash []byte
}

var hasher = rfc6962.DefaultHasher

var factory = &compact.RangeFactory{Hash: hasher.HashChildren}

// ErrInvalidProof means a proof does not prove what it claims: the log
// that made it is broken or lying, or the proof was damaged on the way.
var ErrInvalidProof = errors.New("tlog: invalid proof")

// LeafHash returns the RFC 6962 hash of a log entry: SHA-256(0x00 || entry).
func LeafHash(entry []byte) []byte { return hasher.HashLeaf(entry) }

// EmptyRoot returns the root hash of the empty tree: SHA-256 of nothing.
func EmptyRoot() []byte { return hasher.EmptyRoot() }

// readHashes reads ids and checks the answer's shape.
func readHashes(r HashReader, ids []compact.NodeID) ([][]byte, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	hashes, err := r.ReadHashes(ids)
	if err != nil {
		return nil, fmt.Errorf("tlog: read node hashes: %w", err)
	}
	if len(hashes) != len(ids) {
		return nil, fmt.Errorf("tlog: read %d node hashes, asked for %d", len(hashes), len(ids))
	}
	for i, h := range hashes {
		if len(h) != HashSize {
			return nil, fmt.Errorf("tlog: node (%d, %d) hash is %d bytes, want %d", ids[i].Level, ids[i].Index, len(h), HashSize)
		}
	}
	return hashes, nil
}

// compactRange rebuilds the compact range [0, size) from stored nodes.
func compactRange(r HashReader, size uint64) (*compact.Range, error) {
	ids := compact.RangeNodes(0, size, nil)
	hashes, err := readHashes(r, ids)
	if err != nil {
		return nil, err
	}
	return factory.NewRange(0, size, hashes)
}

func rootOf(rng *compact.Range) ([]byte, error) {
	if rng.End() == 0 {
		return EmptyRoot(), nil
	}
	return rng.GetRootHash(nil)
}

// Root returns the root hash of the tree of size leaves.
func Root(r HashReader, size uint64) ([]byte, error) {
	rng, err := compactRange(r, size)
	if err != nil {
		return nil, err
	}
	return rootOf(rng)
}

// Append extends the tree of size leaves with leafHashes (see LeafHash),
// and returns the root of the new tree and the node hashes the caller must
// store, atomically with whatever records the new size. size must be the
// tree's current size: Append cannot tell a wrong size from a right one
// when the nodes it reads exist.
func Append(r HashReader, size uint64, leafHashes [][]byte) (root []byte, writes []NodeHash, err error) {
	if size+uint64(len(leafHashes)) < size {
		return nil, nil, fmt.Errorf("tlog: tree size overflows")
	}
	rng, err := compactRange(r, size)
	if err != nil {
		return nil, nil, err
	}
	writes = make([]NodeHash, 0, 2*len(leafHashes)+1)
	visit := func(id compact.NodeID, h []byte) {
		writes = append(writes, NodeHash{ID: id, Hash: bytes.Clone(h)})
	}
	for i, h := range leafHashes {
		if len(h) != HashSize {
			return nil, nil, fmt.Errorf("tlog: leaf hash %d is %d bytes, want %d", i, len(h), HashSize)
		}
		if err := rng.Append(h, visit); err != nil {
			return nil, nil, fmt.Errorf("tlog: append leaf %d: %w", size+uint64(i), err)
		}
	}
	root, err = rootOf(rng)
	if err != nil {
		return nil, nil, err
	}
	return root, writes, nil
}

// buildProof reads the nodes of a proof and hashes them into the proof.
func buildProof(r HashReader, nodes proof.Nodes) ([][]byte, error) {
	hashes, err := readHashes(r, nodes.IDs)
	if err != nil {
		return nil, err
	}
	if len(hashes) == 0 {
		return [][]byte{}, nil
	}
	return nodes.Rehash(hashes, hasher.HashChildren)
}

// InclusionProof returns the RFC 6962 proof that leaf index is in the tree
// of size leaves. It requires index < size.
func InclusionProof(r HashReader, index, size uint64) ([][]byte, error) {
	if index >= size {
		return nil, fmt.Errorf("tlog: no leaf %d in a tree of size %d", index, size)
	}
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("tlog: inclusion proof: %w", err)
	}
	return buildProof(r, nodes)
}

// ConsistencyProof returns the RFC 6962 proof that the tree of size m is a
// prefix of the tree of size n. It requires m <= n. The proof is empty when
// m is 0 or m equals n.
func ConsistencyProof(r HashReader, m, n uint64) ([][]byte, error) {
	if m > n {
		return nil, fmt.Errorf("tlog: no consistency proof from size %d to the smaller size %d", m, n)
	}
	nodes, err := proof.Consistency(m, n)
	if err != nil {
		return nil, fmt.Errorf("tlog: consistency proof: %w", err)
	}
	return buildProof(r, nodes)
}

// VerifyInclusion checks that proof proves the leaf with leafHash is at
// index in the tree of size leaves with the given root. The error wraps
// ErrInvalidProof.
func VerifyInclusion(index, size uint64, leafHash []byte, proofHashes [][]byte, root []byte) error {
	if err := proof.VerifyInclusion(hasher, index, size, leafHash, proofHashes, root); err != nil {
		return fmt.Errorf("%w: inclusion of leaf %d in tree of size %d: %v", ErrInvalidProof, index, size, err)
	}
	return nil
}

// VerifyConsistency checks that proof proves the tree of size m with root1
// is a prefix of the tree of size n with root2. The error wraps
// ErrInvalidProof.
//
// A proof from the empty tree proves nothing, so, as the RFC 6962 test
// vectors expect, VerifyConsistency refuses m = 0 unless n = 0 too, the
// proof is empty and both roots are the empty tree's. A caller that has
// seen no tree yet (a witness meeting a log for the first time) has no
// proof to check and does not call VerifyConsistency.
func VerifyConsistency(m, n uint64, proofHashes [][]byte, root1, root2 []byte) error {
	if m == 0 {
		if n != 0 || len(proofHashes) != 0 || !bytes.Equal(root1, EmptyRoot()) || !bytes.Equal(root2, EmptyRoot()) {
			return fmt.Errorf("%w: consistency from size 0 to %d proves nothing", ErrInvalidProof, n)
		}
		return nil
	}
	if err := proof.VerifyConsistency(hasher, m, n, proofHashes, root1, root2); err != nil {
		return fmt.Errorf("%w: consistency from size %d to %d: %v", ErrInvalidProof, m, n, err)
	}
	return nil
}
