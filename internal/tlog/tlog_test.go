package tlog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	sumdb "golang.org/x/mod/sumdb/tlog"

	"github.com/agora-ledger/agora/internal/tlog"
)

// memStore is the in-memory HashReader the tests back the tree with.
type memStore map[compact.NodeID][]byte

var errMissing = errors.New("node not stored")

func (m memStore) ReadHashes(ids []compact.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := m[id]
		if !ok {
			return nil, fmt.Errorf("%w: (%d, %d)", errMissing, id.Level, id.Index)
		}
		out[i] = h
	}
	return out, nil
}

// testLog is a log under test, mirrored by an independent tree built with
// golang.org/x/mod/sumdb/tlog. Every append re-checks the invariants.
type testLog struct {
	t       testing.TB
	nodes   memStore
	entries [][]byte
	root    []byte

	// sumdb's stored hashes, in its own storage order.
	sumdb []sumdb.Hash
}

func newTestLog(t testing.TB) *testLog {
	return &testLog{t: t, nodes: memStore{}, root: tlog.EmptyRoot()}
}

func (l *testLog) size() uint64 { return uint64(len(l.entries)) }

func (l *testLog) ReadHashes(indexes []int64) ([]sumdb.Hash, error) {
	out := make([]sumdb.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(l.sumdb)) {
			return nil, fmt.Errorf("sumdb hash %d not stored", x)
		}
		out[i] = l.sumdb[x]
	}
	return out, nil
}

// append adds entries as one batch, as a block would.
func (l *testLog) append(entries ...[]byte) {
	l.t.Helper()
	leaves := make([][]byte, len(entries))
	for i, e := range entries {
		leaves[i] = tlog.LeafHash(e)
	}
	root, writes, err := tlog.Append(l.nodes, l.size(), leaves)
	if err != nil {
		l.t.Fatalf("Append at size %d: %v", l.size(), err)
	}
	for _, w := range writes {
		if _, ok := l.nodes[w.ID]; ok {
			l.t.Fatalf("Append at size %d rewrites node (%d, %d)", l.size(), w.ID.Level, w.ID.Index)
		}
		if b, e := w.ID.Coverage(); e > l.size()+uint64(len(entries)) || b > e {
			l.t.Fatalf("Append wrote node (%d, %d) beyond the tree", w.ID.Level, w.ID.Index)
		}
		l.nodes[w.ID] = w.Hash
	}
	for _, e := range entries {
		hs, err := sumdb.StoredHashes(int64(len(l.entries)), e, l)
		if err != nil {
			l.t.Fatal(err)
		}
		l.sumdb = append(l.sumdb, hs...)
		l.entries = append(l.entries, e)
	}
	l.root = root
	l.check()
}

// check re-verifies the invariants at the current size: the root matches
// the independent implementation and Root, and the store holds exactly
// the perfect subtrees (as many as sumdb stores).
func (l *testLog) check() {
	l.t.Helper()
	n := l.size()
	want := tlog.EmptyRoot()
	if n > 0 {
		th, err := sumdb.TreeHash(int64(n), l)
		if err != nil {
			l.t.Fatal(err)
		}
		want = th[:]
	}
	if !bytes.Equal(l.root, want) {
		l.t.Fatalf("size %d: Append's root %x, sumdb's TreeHash %x", n, l.root, want)
	}
	got, err := tlog.Root(l.nodes, n)
	if err != nil || !bytes.Equal(got, want) {
		l.t.Fatalf("size %d: Root = %x, %v; want %x", n, got, err, want)
	}
	if got, want := int64(len(l.nodes)), sumdb.StoredHashCount(int64(n)); got != want {
		l.t.Fatalf("size %d: %d nodes stored, sumdb stores %d", n, got, want)
	}
}

// rootAt returns the root of the tree of size n according to sumdb.
func (l *testLog) rootAt(n uint64) sumdb.Hash {
	l.t.Helper()
	if n == 0 {
		return sumdb.Hash(tlog.EmptyRoot())
	}
	th, err := sumdb.TreeHash(int64(n), l)
	if err != nil {
		l.t.Fatal(err)
	}
	return th
}

func toSumdb(p [][]byte) []sumdb.Hash {
	out := make([]sumdb.Hash, len(p))
	for i, h := range p {
		out[i] = sumdb.Hash(h)
	}
	return out
}

// checkInclusion proves leaf i in the tree of size n and verifies the
// proof with both libraries.
func (l *testLog) checkInclusion(i, n uint64) {
	l.t.Helper()
	p, err := tlog.InclusionProof(l.nodes, i, n)
	if err != nil {
		l.t.Fatalf("InclusionProof(%d, %d): %v", i, n, err)
	}
	root := l.rootAt(n)
	leaf := tlog.LeafHash(l.entries[i])
	if err := tlog.VerifyInclusion(i, n, leaf, p, root[:]); err != nil {
		l.t.Fatalf("VerifyInclusion(%d, %d): %v", i, n, err)
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, i, n, leaf, p, root[:]); err != nil {
		l.t.Fatalf("merkle VerifyInclusion(%d, %d): %v", i, n, err)
	}
	if err := sumdb.CheckRecord(toSumdb(p), int64(n), root, int64(i), sumdb.Hash(leaf)); err != nil {
		l.t.Fatalf("sumdb CheckRecord(%d, %d): %v", i, n, err)
	}
	// Proofs are unique: sumdb proves the same hashes.
	sp, err := sumdb.ProveRecord(int64(n), int64(i), l)
	if err != nil {
		l.t.Fatal(err)
	}
	if fmt.Sprint(sp) != fmt.Sprint(toSumdb(p)) {
		l.t.Fatalf("InclusionProof(%d, %d) differs from sumdb's ProveRecord", i, n)
	}
}

// checkConsistency proves size m is a prefix of size n and verifies the
// proof with both libraries.
func (l *testLog) checkConsistency(m, n uint64) {
	l.t.Helper()
	p, err := tlog.ConsistencyProof(l.nodes, m, n)
	if err != nil {
		l.t.Fatalf("ConsistencyProof(%d, %d): %v", m, n, err)
	}
	r1, r2 := l.rootAt(m), l.rootAt(n)
	if m == 0 && n > 0 {
		if len(p) != 0 {
			l.t.Fatalf("ConsistencyProof(0, %d) = %x, want an empty proof", n, p)
		}
		if err := tlog.VerifyConsistency(m, n, p, r1[:], r2[:]); !errors.Is(err, tlog.ErrInvalidProof) {
			l.t.Fatalf("VerifyConsistency(0, %d) = %v, want ErrInvalidProof (it proves nothing)", n, err)
		}
	} else if err := tlog.VerifyConsistency(m, n, p, r1[:], r2[:]); err != nil {
		l.t.Fatalf("VerifyConsistency(%d, %d): %v", m, n, err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, m, n, p, r1[:], r2[:]); err != nil {
		l.t.Fatalf("merkle VerifyConsistency(%d, %d): %v", m, n, err)
	}
	if m == 0 {
		return // sumdb has no proofs from the empty tree
	}
	if err := sumdb.CheckTree(toSumdb(p), int64(n), r2, int64(m), r1); err != nil {
		l.t.Fatalf("sumdb CheckTree(%d, %d): %v", m, n, err)
	}
	sp, err := sumdb.ProveTree(int64(n), int64(m), l)
	if err != nil {
		l.t.Fatal(err)
	}
	if fmt.Sprint(sp) != fmt.Sprint(toSumdb(p)) {
		l.t.Fatalf("ConsistencyProof(%d, %d) differs from sumdb's ProveTree", m, n)
	}
}

func entry(i int) []byte { return []byte(fmt.Sprintf("entry %d", i)) }

// growRandomly appends batches of random sizes (including empty ones)
// until the log has n entries, calling at after each batch.
func (l *testLog) growRandomly(rnd *rand.Rand, n int, at func()) {
	for len(l.entries) < n {
		k := min(rnd.IntN(40), n-len(l.entries))
		if rnd.IntN(20) == 0 {
			k = min(rnd.IntN(600), n-len(l.entries))
		}
		batch := make([][]byte, k)
		for i := range batch {
			batch[i] = entry(len(l.entries) + i)
		}
		l.append(batch...)
		if at != nil {
			at()
		}
	}
}

// TestSmallTreesExhaustively proves every leaf and every pair of sizes of
// trees up to 70 leaves.
func TestSmallTreesExhaustively(t *testing.T) {
	l := newTestLog(t)
	const max = 70
	for n := uint64(0); n <= max; n++ {
		for i := range n {
			l.checkInclusion(i, n)
		}
		for m := uint64(0); m <= n; m++ {
			l.checkConsistency(m, n)
		}
		if n < max {
			l.append(entry(int(n)))
		}
	}
}

// TestRandomTrees grows logs to a few thousand leaves in blocks of random
// sizes and, after every block, proves random leaves and random earlier
// sizes, and checks that old sizes keep their roots.
func TestRandomTrees(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(seed, 6962))
			l := newTestLog(t)
			roots := map[uint64][]byte{0: tlog.EmptyRoot()}
			target := 1000 + rnd.IntN(3000)
			l.growRandomly(rnd, target, func() {
				n := l.size()
				roots[n] = l.root
				for range 8 {
					if n > 0 {
						l.checkInclusion(rnd.Uint64N(n), n)
						m := rnd.Uint64N(n + 1)
						if m > 0 {
							l.checkInclusion(rnd.Uint64N(m), m)
						}
						l.checkConsistency(m, n)
					}
				}
			})
			for m, want := range roots {
				got, err := tlog.Root(l.nodes, m)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("Root(%d) = %x, %v after growing to %d; want %x", m, got, err, l.size(), want)
				}
			}
		})
	}
}

func TestAppendEdgeCases(t *testing.T) {
	nodes := memStore{}
	root, writes, err := tlog.Append(nodes, 0, nil)
	if err != nil || len(writes) != 0 || !bytes.Equal(root, tlog.EmptyRoot()) {
		t.Fatalf("Append(empty) = %x, %v, %v; want the empty root and no writes", root, writes, err)
	}
	if _, _, err := tlog.Append(nodes, 0, [][]byte{[]byte("short")}); err == nil {
		t.Error("Append accepted a leaf hash of 5 bytes")
	}
	// A size beyond the stored tree is refused, not guessed.
	if _, _, err := tlog.Append(nodes, 3, [][]byte{tlog.LeafHash(nil)}); !errors.Is(err, errMissing) {
		t.Errorf("Append at a size the store does not have: %v, want the reader's error", err)
	}
	if _, err := tlog.Root(nodes, 1); !errors.Is(err, errMissing) {
		t.Errorf("Root beyond the store: %v, want the reader's error", err)
	}
	l := newTestLog(t)
	l.append(entry(0), entry(1), entry(2))
	if _, err := tlog.InclusionProof(l.nodes, 3, 3); err == nil {
		t.Error("InclusionProof(3, 3) succeeded")
	}
	if _, err := tlog.ConsistencyProof(l.nodes, 3, 2); err == nil {
		t.Error("ConsistencyProof(3, 2) succeeded")
	}
	if _, err := tlog.InclusionProof(l.nodes, 0, 5); !errors.Is(err, errMissing) {
		t.Errorf("InclusionProof beyond the store: %v, want the reader's error", err)
	}
	// A reader returning a damaged hash is caught.
	bad := memStore{}
	for id, h := range l.nodes {
		bad[id] = h
	}
	bad[compact.NewNodeID(1, 0)] = []byte("short")
	if _, err := tlog.Root(bad, 3); err == nil {
		t.Error("Root accepted a stored hash of 5 bytes")
	}
}

// TestForgedProofs checks that proofs for a different tree, or altered,
// truncated or extended proofs, are refused.
func TestForgedProofs(t *testing.T) {
	a, b := newTestLog(t), newTestLog(t)
	for i := range 100 {
		a.append(entry(i))
		if i == 37 {
			b.append([]byte("forged"))
		} else {
			b.append(entry(i))
		}
	}
	rootA50, _ := tlog.Root(a.nodes, 50)
	rootA100 := a.root
	leaf := tlog.LeafHash(entry(60))

	incl, err := tlog.InclusionProof(a.nodes, 60, 100)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := tlog.ConsistencyProof(a.nodes, 50, 100)
	if err != nil {
		t.Fatal(err)
	}
	forkCons, err := tlog.ConsistencyProof(b.nodes, 50, 100)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(p [][]byte, i int) [][]byte {
		q := make([][]byte, len(p))
		for j := range p {
			q[j] = bytes.Clone(p[j])
		}
		q[i][0] ^= 1
		return q
	}
	tests := []struct {
		name string
		err  error
	}{
		{"inclusion: good", tlog.VerifyInclusion(60, 100, leaf, incl, rootA100)},
		{"inclusion: other leaf", tlog.VerifyInclusion(60, 100, tlog.LeafHash(entry(61)), incl, rootA100)},
		{"inclusion: other index", tlog.VerifyInclusion(61, 100, leaf, incl, rootA100)},
		{"inclusion: other size", tlog.VerifyInclusion(60, 64, leaf, incl, rootA100)},
		{"inclusion: forked root", tlog.VerifyInclusion(60, 100, leaf, incl, b.root)},
		{"inclusion: flipped bit", tlog.VerifyInclusion(60, 100, leaf, flip(incl, 2), rootA100)},
		{"inclusion: truncated", tlog.VerifyInclusion(60, 100, leaf, incl[:len(incl)-1], rootA100)},
		{"inclusion: extended", tlog.VerifyInclusion(60, 100, leaf, append(incl[:len(incl):len(incl)], rootA100), rootA100)},
		{"consistency: good", tlog.VerifyConsistency(50, 100, cons, rootA50, rootA100)},
		{"consistency: forked new root", tlog.VerifyConsistency(50, 100, cons, rootA50, b.root)},
		{"consistency: fork's own proof against the old root", tlog.VerifyConsistency(50, 100, forkCons, rootA50, b.root)},
		{"consistency: swapped roots", tlog.VerifyConsistency(50, 100, cons, rootA100, rootA50)},
		{"consistency: flipped bit", tlog.VerifyConsistency(50, 100, flip(cons, 0), rootA50, rootA100)},
		{"consistency: truncated", tlog.VerifyConsistency(50, 100, cons[:len(cons)-1], rootA50, rootA100)},
		{"consistency: extended", tlog.VerifyConsistency(50, 100, append(cons[:len(cons):len(cons)], rootA50), rootA50, rootA100)},
		{"consistency: other sizes", tlog.VerifyConsistency(51, 100, cons, rootA50, rootA100)},
		{"consistency: rewind", tlog.VerifyConsistency(100, 50, cons, rootA100, rootA50)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := strings.HasSuffix(tt.name, ": good")
			if good && tt.err != nil {
				t.Fatalf("refused: %v", tt.err)
			}
			if !good && !errors.Is(tt.err, tlog.ErrInvalidProof) {
				t.Fatalf("got %v, want ErrInvalidProof", tt.err)
			}
		})
	}
}

// The RFC 6962 vectors of transparency-dev/merkle (testdata/rfc6962).
type inclusionVector struct {
	LeafIdx  uint64   `json:"leafIdx"`
	TreeSize uint64   `json:"treeSize"`
	Root     []byte   `json:"root"`
	LeafHash []byte   `json:"leafHash"`
	Proof    [][]byte `json:"proof"`
	Desc     string   `json:"desc"`
	WantErr  bool     `json:"wantErr"`
}

type consistencyVector struct {
	Size1   uint64   `json:"size1"`
	Size2   uint64   `json:"size2"`
	Root1   []byte   `json:"root1"`
	Root2   []byte   `json:"root2"`
	Proof   [][]byte `json:"proof"`
	Desc    string   `json:"desc"`
	WantErr bool     `json:"wantErr"`
}

func readVectors[V any](t *testing.T, dir string) map[string]V {
	t.Helper()
	out := map[string]V{}
	root := filepath.Join("testdata", "rfc6962", dir)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var v V
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		rel, _ := filepath.Rel(root, path)
		out[rel] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no vectors in %s", root)
	}
	return out
}

// rfc6962Leaves are the leaves of the tree the vectors' happy paths are
// proofs in (transparency-dev/merkle/testonly).
var rfc6962Leaves = [][]byte{
	{},
	{0x00},
	{0x10},
	{0x20, 0x21},
	{0x30, 0x31},
	{0x40, 0x41, 0x42, 0x43},
	{0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57},
	{0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f},
}

// TestRFC6962Vectors runs the vectors through VerifyInclusion and
// VerifyConsistency, and checks that the proofs we generate for the
// vectors' tree are exactly the happy paths'.
func TestRFC6962Vectors(t *testing.T) {
	l := newTestLog(t)
	l.append(rfc6962Leaves...)
	ours := func(n uint64) []byte {
		if n > uint64(len(rfc6962Leaves)) {
			return nil
		}
		r, err := tlog.Root(l.nodes, n)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	generated := 0
	for name, v := range readVectors[inclusionVector](t, "inclusion") {
		t.Run("inclusion/"+name, func(t *testing.T) {
			err := tlog.VerifyInclusion(v.LeafIdx, v.TreeSize, v.LeafHash, v.Proof, v.Root)
			if (err != nil) != v.WantErr {
				t.Fatalf("%s: VerifyInclusion = %v, wantErr %v", v.Desc, err, v.WantErr)
			}
			if err != nil && !errors.Is(err, tlog.ErrInvalidProof) {
				t.Fatalf("error %v does not wrap ErrInvalidProof", err)
			}
			if !v.WantErr && bytes.Equal(ours(v.TreeSize), v.Root) && v.LeafIdx < v.TreeSize &&
				bytes.Equal(tlog.LeafHash(rfc6962Leaves[v.LeafIdx]), v.LeafHash) {
				p, err := tlog.InclusionProof(l.nodes, v.LeafIdx, v.TreeSize)
				if err != nil || fmt.Sprint(p) != fmt.Sprint(v.Proof) && len(v.Proof)+len(p) > 0 {
					t.Fatalf("InclusionProof(%d, %d) = %x, %v; want %x", v.LeafIdx, v.TreeSize, p, err, v.Proof)
				}
				generated++
			}
		})
	}
	for name, v := range readVectors[consistencyVector](t, "consistency") {
		t.Run("consistency/"+name, func(t *testing.T) {
			err := tlog.VerifyConsistency(v.Size1, v.Size2, v.Proof, v.Root1, v.Root2)
			if (err != nil) != v.WantErr {
				t.Fatalf("%s: VerifyConsistency = %v, wantErr %v", v.Desc, err, v.WantErr)
			}
			if err != nil && !errors.Is(err, tlog.ErrInvalidProof) {
				t.Fatalf("error %v does not wrap ErrInvalidProof", err)
			}
			if !v.WantErr && v.Size1 > 0 && bytes.Equal(ours(v.Size1), v.Root1) && bytes.Equal(ours(v.Size2), v.Root2) {
				p, err := tlog.ConsistencyProof(l.nodes, v.Size1, v.Size2)
				if err != nil || fmt.Sprint(p) != fmt.Sprint(v.Proof) && len(v.Proof)+len(p) > 0 {
					t.Fatalf("ConsistencyProof(%d, %d) = %x, %v; want %x", v.Size1, v.Size2, p, err, v.Proof)
				}
				generated++
			}
		})
	}
	if generated < 5 {
		t.Errorf("only %d happy paths were in the vectors' tree; the leaves are wrong", generated)
	}
}
