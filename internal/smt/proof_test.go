package smt

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// prove walks the binary tree of leaves towards keyHash, from the
// definition, and returns the proof it should have.
func (m memo) prove(leaves []Leaf, keyHash [32]byte) *Proof {
	p := &Proof{}
	for d := 0; ; d++ {
		switch len(leaves) {
		case 0:
			return p
		case 1:
			if leaves[0].KeyHash == keyHash {
				p.Present = true
			} else {
				p.Other = &leaves[0]
			}
			return p
		}
		i := 0
		for i < len(leaves) && specBit(leaves[i].KeyHash, d) == 0 {
			i++
		}
		if specBit(keyHash, d) == 0 {
			p.Siblings = append(p.Siblings, m.root(leaves[i:], d+1))
			leaves = leaves[:i]
		} else {
			p.Siblings = append(p.Siblings, m.root(leaves[:i], d+1))
			leaves = leaves[i:]
		}
	}
}

// proveCase is a key to prove in a map, and what the map says about it.
type proveCase struct {
	key   [32]byte
	value *[32]byte // nil: absent
}

// randomMap builds a map of n keys, many of them near neighbours, and
// returns it with keys to prove: present ones, absent ones whose path
// ends in an empty subtree, and absent ones whose path ends in another
// key's leaf.
func randomMap(t testing.TB, seed uint64, n int) (*memStore, model, [32]byte, []proveCase) {
	g := keyGen{rand.New(rand.NewPCG(seed, 0))}
	s, m := newMemStore(), model{}
	var ups []Update
	for len(m) < n {
		k := g.random()
		if len(ups) > 0 && g.rng.IntN(2) == 0 {
			k = g.near(ups[g.rng.IntN(len(ups))].KeyHash)
		}
		v := g.random()
		m[k] = v
		ups = append(ups, Update{KeyHash: k, ValueHash: &v})
	}
	root := s.apply(t, sortUpdates(ups))
	var cases []proveCase
	for _, l := range m.leaves() {
		if g.rng.IntN(4) == 0 {
			cases = append(cases, proveCase{l.KeyHash, &l.ValueHash})
		}
		for range 2 {
			k := g.near(l.KeyHash)
			if _, ok := m[k]; !ok && g.rng.IntN(4) == 0 {
				cases = append(cases, proveCase{k, nil})
			}
		}
	}
	return s, m, root, cases
}

func TestProveMatchesModel(t *testing.T) {
	var ends [3]int // empty subtree, own leaf, other leaf
	for _, n := range []int{0, 1, 2, 3, 17, 300} {
		s, m, root, cases := randomMap(t, uint64(n), n)
		g := keyGen{rand.New(rand.NewPCG(99, uint64(n)))}
		for range 20 {
			cases = append(cases, proveCase{key: g.random()})
		}
		leaves, mm := m.leaves(), memo{}
		for _, c := range cases {
			p, err := Prove(s, c.key)
			if err != nil {
				t.Fatalf("n=%d: Prove(%x): %v", n, c.key, err)
			}
			if diff := cmp.Diff(mm.prove(leaves, c.key), p); diff != "" {
				t.Fatalf("n=%d: Prove(%x) differs from the model (-want +got):\n%s", n, c.key, diff)
			}
			if err := p.Verify(root, c.key, c.value); err != nil {
				t.Fatalf("n=%d: Verify(%x): %v", n, c.key, err)
			}
			switch {
			case p.Present:
				ends[1]++
			case p.Other != nil:
				ends[2]++
			default:
				ends[0]++
			}
		}
	}
	for i, what := range []string{"an empty subtree", "the key's leaf", "another key's leaf"} {
		if ends[i] == 0 {
			t.Errorf("no proof ends in %s", what)
		}
	}
}

// TestVerifyRefuses checks that each proof proves its claim and nothing
// else: not with another value, another key off its path, another root,
// nor presence for absence or absence for presence; and that no change of
// one bit of its encoding still proves the claim.
func TestVerifyRefuses(t *testing.T) {
	s, _, root, cases := randomMap(t, 5, 200)
	g := keyGen{rand.New(rand.NewPCG(6, 0))}
	for i, c := range cases {
		p, err := Prove(s, c.key)
		if err != nil {
			t.Fatal(err)
		}
		refuse := func(what string, root, key [32]byte, value *[32]byte) {
			t.Helper()
			if err := p.Verify(root, key, value); !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("case %d: Verify with %s: %v, want ErrInvalidProof", i, what, err)
			}
		}
		other := g.random()
		if c.value != nil {
			refuse("another value", root, c.key, &other)
			refuse("the key claimed absent", root, c.key, nil)
			refuse("another key with the value", root, other, c.value)
			// The same path, recast as ending in another key's leaf.
			recast := &Proof{Siblings: p.Siblings, Other: &Leaf{c.key, *c.value}}
			if err := recast.Verify(root, c.key, nil); !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("case %d: an inclusion proof recast as absence: %v, want ErrInvalidProof", i, err)
			}
		} else {
			refuse("the key claimed present", root, c.key, &other)
			if p.Other != nil {
				refuse("the other leaf's value", root, c.key, &p.Other.ValueHash)
				refuse("the other leaf's key claimed absent", root, p.Other.KeyHash, nil)
			}
		}
		if d := len(p.Siblings); d > 0 {
			off := c.key
			b := g.rng.IntN(d) // a bit the path depends on
			off[b/8] ^= 0x80 >> (b % 8)
			refuse("a key off the path", root, off, c.value)
		}
		bad := root
		bad[g.rng.IntN(32)] ^= 1 << g.rng.IntN(8)
		refuse("another root", bad, c.key, c.value)

		enc, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseProof(enc)
		if err != nil {
			t.Fatalf("case %d: ParseProof of MarshalBinary: %v", i, err)
		}
		if diff := cmp.Diff(p, back); diff != "" {
			t.Fatalf("case %d: round trip (-want +got):\n%s", i, diff)
		}
		tampered := func(what string, b []byte) {
			t.Helper()
			q, err := ParseProof(b)
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("case %d: ParseProof of %s: %v, want ErrMalformed", i, what, err)
				}
				return
			}
			if err := q.Verify(root, c.key, c.value); err == nil {
				t.Fatalf("case %d: a proof %s still verifies", i, what)
			}
		}
		for n := range len(enc) {
			tampered("truncated", enc[:n])
		}
		tampered("extended", append(bytes.Clone(enc), 0))
		tampered("extended by a hash", append(bytes.Clone(enc), other[:]...))
		if i%10 == 0 { // every bit of some proofs
			for bit := range 8 * len(enc) {
				b := bytes.Clone(enc)
				b[bit/8] ^= 0x80 >> (bit % 8)
				tampered("with a bit flipped", b)
			}
		}
	}
}

// TestVerifyChecksTheLeafIsOnThePath checks that a proof ending in a
// leaf whose key hash leaves the key's path is refused even against a
// root made to match it. No tree built by the rules has such a root, so
// the check is a second line of defence, and tested here alone.
func TestVerifyChecksTheLeafIsOnThePath(t *testing.T) {
	var k, other [32]byte
	other[0] = 0x80 // differs from k in bit 0
	sib := [32]byte{1}
	p := &Proof{Siblings: [][32]byte{sib}, Other: &Leaf{KeyHash: other}}
	h := specLeafHash(*p.Other)
	root := specInteriorHash(h, sib) // as the fold goes for k, whose bit 0 is 0
	if err := p.Verify(root, k, nil); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("Verify: %v, want ErrInvalidProof", err)
	}
	other[0] = 0x40 // agrees with k in bit 0: the same proof shape passes
	p.Other.KeyHash = other
	root = specInteriorHash(specLeafHash(*p.Other), sib)
	if err := p.Verify(root, k, nil); err != nil {
		t.Fatalf("Verify with the leaf on the path: %v", err)
	}
}

func TestProofShape(t *testing.T) {
	h := [32]byte{7}
	for _, tt := range []struct {
		name string
		p    Proof
	}{
		{"last sibling empty", Proof{Siblings: [][32]byte{h, {}}}},
		{"only an empty sibling", Proof{Siblings: [][32]byte{{}}}},
		{"257 levels", Proof{Siblings: append(make([][32]byte, 256), h)}},
		{"two leaves", Proof{Siblings: [][32]byte{h}, Present: true, Other: &Leaf{}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.p.MarshalBinary(); !errors.Is(err, ErrMalformed) {
				t.Errorf("MarshalBinary: %v, want ErrMalformed", err)
			}
			if err := tt.p.Verify([32]byte{}, [32]byte{}, nil); !errors.Is(err, ErrInvalidProof) {
				t.Errorf("Verify: %v, want ErrInvalidProof", err)
			}
		})
	}
}

func TestParseProofRefuses(t *testing.T) {
	h := bytes.Repeat([]byte{0xab}, 32)
	zero := make([]byte, 32)
	leaf := bytes.Repeat([]byte{0xcd}, 64)
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	for _, tt := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"unknown end", []byte{0x03, 0x00}},
		{"no bitmap length", []byte{0x00}},
		{"no bitmap length after the key's leaf", []byte{0x01}},
		{"truncated leaf", cat([]byte{0x02}, leaf[:63])},
		{"leaf without bitmap length", cat([]byte{0x02}, leaf)},
		{"leaf bytes after the key's own leaf", cat([]byte{0x01}, leaf, []byte{0x00})},
		{"bitmap longer than 32 bytes", cat([]byte{0x00, 33}, make([]byte, 32), []byte{0x80}, h)},
		{"truncated bitmap", []byte{0x00, 0x02, 0x80}},
		{"bitmap ending in a zero byte", cat([]byte{0x00, 0x02, 0x80, 0x00}, h)},
		{"missing hash", []byte{0x00, 0x01, 0xc0}},
		{"extra hash", cat([]byte{0x00, 0x01, 0x80}, h, h)},
		{"trailing byte", cat([]byte{0x00, 0x01, 0x80}, h, []byte{0})},
		{"empty hash marked present", cat([]byte{0x00, 0x01, 0xc0}, zero, h)},
		{"trailing byte after empty proof", []byte{0x00, 0x00, 0x00}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := ParseProof(tt.in); !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseProof(%x) = %+v, %v; want ErrMalformed", tt.in, p, err)
			}
		})
	}
}

func TestProveEmptyAndSingle(t *testing.T) {
	s := newMemStore()
	k := KeyHash([]byte("k"))
	p, err := Prove(s, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify([32]byte{}, k, nil); err != nil {
		t.Fatalf("absence in the empty map: %v", err)
	}
	if b, _ := p.MarshalBinary(); !bytes.Equal(b, []byte{0x00, 0x00}) {
		t.Fatalf("absence in the empty map encodes as %x, want 0000", b)
	}
	v := ValueHash([]byte("v"))
	root := s.apply(t, []Update{{KeyHash: k, ValueHash: &v}})
	if p, err = Prove(s, k); err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(root, k, &v); err != nil || len(p.Siblings) != 0 {
		t.Fatalf("inclusion in a map of one: %v, %d siblings", err, len(p.Siblings))
	}
	other := KeyHash([]byte("other"))
	if p, err = Prove(s, other); err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(root, other, nil); err != nil || p.Other == nil || p.Other.KeyHash != k {
		t.Fatalf("absence in a map of one: %v, leaf %+v", err, p.Other)
	}
}
