package smt

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json from the definitions in vectors_test.go")

const (
	vectorsPath = "testdata/vectors.json"
	specPath    = "../../docs/spec/state-map.md"
)

// The vectors file is the byte-level companion of docs/spec/state-map.md:
// maps, the nodes their trees are stored as, their roots, and proofs with
// the hashes a verifier computes on the way up. Everything in it is
// derived from the definitions below.

type vectorFile struct {
	Comment []string    `json:"comment"`
	Maps    []vectorMap `json:"maps"`
}

type vectorMap struct {
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Entries     []vectorEntry `json:"entries"`
	Root        hexBytes      `json:"root"`
	// Nodes are the stored nodes in path order; a path is one byte per
	// nibble.
	Nodes  []vectorNode  `json:"nodes"`
	Proofs []vectorProof `json:"proofs"`
}

type vectorEntry struct {
	// Key and Value are the entry's text, when it has one; otherwise the
	// hashes are given directly.
	Key       string   `json:"key,omitempty"`
	Value     string   `json:"value,omitempty"`
	KeyHash   hexBytes `json:"key_hash"`
	ValueHash hexBytes `json:"value_hash"`
	LeafHash  hexBytes `json:"leaf_hash"`
}

type vectorNode struct {
	Path hexBytes `json:"path"`
	Node hexBytes `json:"node"`
}

type vectorProof struct {
	Description string   `json:"description"`
	Key         string   `json:"key,omitempty"`
	KeyHash     hexBytes `json:"key_hash"`
	// ValueHash is set for a proof of inclusion, absent for absence.
	ValueHash hexBytes `json:"value_hash,omitempty"`
	Proof     hexBytes `json:"proof"`
	// PathHashes are the hashes a verifier computes, from where the path
	// ends (depth len-1) up to the root (depth 0).
	PathHashes []hexBytes `json:"path_hashes"`
}

type hexBytes []byte

func (h hexBytes) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h)), nil }

func (h *hexBytes) UnmarshalText(b []byte) error {
	d, err := hex.DecodeString(string(b))
	*h = d
	return err
}

// Definitions.

type defEntry struct {
	key, value         string
	keyHash, valueHash [32]byte // when key is ""
}

type defProof struct {
	desc    string
	key     string
	keyHash [32]byte // when key is ""
}

type defMap struct {
	name, desc string
	entries    []defEntry
	proofs     []defProof
}

func hashOf(s string) [32]byte {
	var h [32]byte
	if _, err := hex.Decode(h[:], []byte(s)); err != nil || len(s) != 64 {
		panic("bad hash " + s)
	}
	return h
}

var definitions = []defMap{
	{
		name: "empty",
		desc: "The empty map: its root is 32 zero bytes and it stores no node.",
		proofs: []defProof{
			{desc: "absence: the path ends at once, in the empty root", key: "alice"},
		},
	},
	{
		name: "one",
		desc: "A map of one entry: the root is the leaf's hash, and the root node holds the leaf.",
		entries: []defEntry{
			{key: "alice", value: "1"},
		},
		proofs: []defProof{
			{desc: "inclusion: the leaf is the root", key: "alice"},
			{desc: "absence: the path ends at once, in another key's leaf", key: "bob"},
		},
	},
	{
		name: "example",
		desc: "The worked example of state-map.md, section 7.",
		entries: []defEntry{
			{key: "alice", value: "1"},
			{key: "bob", value: "2"},
			{key: "carol", value: "3"},
			{key: "dave", value: "4"},
			{key: "erin", value: ""},
			{key: "peggy", value: "5"},
		},
		proofs: []defProof{
			{desc: "inclusion", key: "alice"},
			{desc: "inclusion of an empty value", key: "erin"},
			{desc: "absence: the path ends in an empty subtree", key: "heidi"},
			{desc: "absence: the path ends in another key's leaf", key: "frank"},
		},
	},
	{
		name: "deep",
		desc: "Key hashes given directly, two of them differing only in the last bit: their leaves are at depth 256, below a node at the last level (nibble path of 63 bytes).",
		entries: []defEntry{
			{keyHash: hashOf("0000000000000000000000000000000000000000000000000000000000000000"), valueHash: ValueHash([]byte("a"))},
			{keyHash: hashOf("0000000000000000000000000000000000000000000000000000000000000001"), valueHash: ValueHash([]byte("b"))},
			{keyHash: hashOf("8000000000000000000000000000000000000000000000000000000000000000"), valueHash: ValueHash([]byte("c"))},
		},
		proofs: []defProof{
			{desc: "inclusion at depth 256", keyHash: hashOf("0000000000000000000000000000000000000000000000000000000000000001")},
			{desc: "absence: the path ends in an empty subtree at depth 255", keyHash: hashOf("0000000000000000000000000000000000000000000000000000000000000002")},
			{desc: "absence: the path ends in a leaf at depth 1", keyHash: hashOf("c000000000000000000000000000000000000000000000000000000000000000")},
		},
	},
}

// pathHashes returns the hashes Verify computes, from where p's path ends
// up to the root.
func pathHashes(p *Proof, keyHash [32]byte, valueHash *[32]byte) []hexBytes {
	var h [32]byte
	switch {
	case p.Present:
		h = specLeafHash(Leaf{keyHash, *valueHash})
	case p.Other != nil:
		h = specLeafHash(*p.Other)
	}
	out := []hexBytes{bytes.Clone(h[:])}
	for d := len(p.Siblings) - 1; d >= 0; d-- {
		if specBit(keyHash, d) == 0 {
			h = specInteriorHash(h, p.Siblings[d])
		} else {
			h = specInteriorHash(p.Siblings[d], h)
		}
		out = append(out, bytes.Clone(h[:]))
	}
	return out
}

func deriveVectors(t testing.TB) *vectorFile {
	vf := &vectorFile{Comment: []string{
		"Test vectors for Agora's state map, docs/spec/state-map.md. Generated by",
		"go test ./internal/smt -run TestVectors -update; do not edit by hand.",
		"Hashes, nodes and proofs are hex. A node's path is one byte (0x00 to 0x0f)",
		"per nibble; the root's path is empty. path_hashes run from where the",
		"proof's path ends up to the root, as the verifier computes them.",
	}}
	for _, d := range definitions {
		vm := vectorMap{Name: d.name, Description: d.desc, Entries: []vectorEntry{}, Nodes: []vectorNode{}}
		s := newMemStore()
		var ups []Update
		values := map[[32]byte][32]byte{}
		for _, e := range d.entries {
			k, v := e.keyHash, e.valueHash
			if e.key != "" {
				k, v = KeyHash([]byte(e.key)), ValueHash([]byte(e.value))
			}
			values[k] = v
			l := specLeafHash(Leaf{k, v})
			vm.Entries = append(vm.Entries, vectorEntry{
				Key: e.key, Value: e.value,
				KeyHash: bytes.Clone(k[:]), ValueHash: bytes.Clone(v[:]), LeafHash: l[:],
			})
			ups = append(ups, Update{KeyHash: k, ValueHash: &v})
		}
		root := s.apply(t, sortUpdates(ups))
		vm.Root = root[:]
		for _, p := range slices.Sorted(maps.Keys(s.nodes)) { // a node before its children
			vm.Nodes = append(vm.Nodes, vectorNode{Path: []byte(p), Node: s.nodes[p]})
		}
		for _, dp := range d.proofs {
			k := dp.keyHash
			if dp.key != "" {
				k = KeyHash([]byte(dp.key))
			}
			p, err := Prove(s, k)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := p.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var vh *[32]byte
			if v, ok := values[k]; ok {
				vh = &v
			}
			vp := vectorProof{Description: dp.desc, Key: dp.key, KeyHash: bytes.Clone(k[:]), Proof: enc, PathHashes: pathHashes(p, k, vh)}
			if vh != nil {
				vp.ValueHash = bytes.Clone(vh[:])
			}
			if err := p.Verify(root, k, vh); err != nil {
				t.Fatalf("%s: %s: %v", d.name, dp.desc, err)
			}
			// The description says how the path ends; hold it to that.
			switch {
			case strings.HasPrefix(dp.desc, "inclusion"):
				if vh == nil {
					t.Fatalf("%s: %s: the key is absent", d.name, dp.desc)
				}
			case strings.Contains(dp.desc, "empty"):
				if vh != nil || p.Other != nil {
					t.Fatalf("%s: %s: the path does not end in an empty subtree", d.name, dp.desc)
				}
			case strings.Contains(dp.desc, "leaf"):
				if vh != nil || p.Other == nil {
					t.Fatalf("%s: %s: the path does not end in another key's leaf", d.name, dp.desc)
				}
			}
			vm.Proofs = append(vm.Proofs, vp)
		}
		vf.Maps = append(vf.Maps, vm)
	}
	return vf
}

func readVectors(t testing.TB) *vectorFile {
	t.Helper()
	b, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	var vf vectorFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&vf); err != nil {
		t.Fatalf("%s: %v", vectorsPath, err)
	}
	return &vf
}

// TestVectors derives the vectors from the definitions and compares them
// with the pinned file, so any change to hashing, node encoding or proof
// encoding shows as a diff of testdata/vectors.json.
func TestVectors(t *testing.T) {
	got := deriveVectors(t)
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsPath, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readVectors(t)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("vectors differ from %s (-pinned +derived); if the change is intended, run with -update:\n%s", vectorsPath, diff)
	}
	// The pinned proofs verify by themselves.
	for _, vm := range want.Maps {
		for _, vp := range vm.Proofs {
			p, err := ParseProof(vp.Proof)
			if err != nil {
				t.Fatalf("%s: %s: %v", vm.Name, vp.Description, err)
			}
			var vh *[32]byte
			if vp.ValueHash != nil {
				vh = (*[32]byte)(vp.ValueHash)
			}
			if err := p.Verify([32]byte(vm.Root), [32]byte(vp.KeyHash), vh); err != nil {
				t.Errorf("%s: %s: %v", vm.Name, vp.Description, err)
			}
		}
	}
}

// TestSpecExample checks that the worked example in state-map.md shows
// the pinned values: every hash, node and proof of the example map.
func TestSpecExample(t *testing.T) {
	b, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	// The spec wraps long hex strings; compare without white space and
	// list punctuation.
	spec := strings.NewReplacer(" ", "", "\n", "", "|", "", "`", "").Replace(string(b))
	var example *vectorMap
	for _, vm := range readVectors(t).Maps {
		if vm.Name == "example" {
			example = &vm
		}
	}
	if example == nil {
		t.Fatal("no example in the vectors")
	}
	var want []hexBytes
	want = append(want, example.Root)
	for _, e := range example.Entries {
		want = append(want, e.KeyHash, e.ValueHash, e.LeafHash)
	}
	for _, n := range example.Nodes {
		want = append(want, n.Node)
	}
	for _, p := range example.Proofs {
		want = append(want, p.Proof)
		want = append(want, p.PathHashes...)
	}
	for _, h := range want {
		if bytes.Equal(h, make([]byte, 32)) {
			continue // the spec writes it Z
		}
		if !strings.Contains(spec, hex.EncodeToString(h)) {
			t.Errorf("%s does not show %x; update section 7 from %s", specPath, h, vectorsPath)
		}
	}
}
