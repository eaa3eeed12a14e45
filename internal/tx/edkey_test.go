package tx

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"filippo.io/edwards25519"
)

// reencodes is the rule canonicalY stands for: the point b decodes to
// encodes back to b.
func reencodes(b []byte) bool {
	p, err := new(edwards25519.Point).SetBytes(b)
	return err == nil && bytes.Equal(p.Bytes(), b)
}

// TestCanonicalY checks checkEd25519Key's cheap canonical test against
// re-encoding: on the 19 spellings of y at or above the prime and the
// two y = ±1 spellings, each with both sign bits, on the small-order
// points, and on many points of the curve; and every key a node accepts
// re-encodes to itself.
func TestCanonicalY(t *testing.T) {
	var cases [][]byte
	for i := range 19 {
		b := bytes.Repeat([]byte{0xff}, 32)
		b[0], b[31] = byte(0xed+i), 0x7f // p + i
		cases = append(cases, b)
	}
	one := make([]byte, 32)
	one[0] = 1
	minusOne := bytes.Repeat([]byte{0xff}, 32)
	minusOne[0], minusOne[31] = 0xec, 0x7f
	cases = append(cases, one, minusOne)
	for i := range 4096 {
		h := sha256.Sum256([]byte{byte(i), byte(i >> 8)})
		cases = append(cases, h[:])
		g := edwards25519.NewGeneratorPoint()
		s, _ := edwards25519.NewScalar().SetUniformBytes(append(h[:], h[:]...))
		cases = append(cases, g.ScalarBaseMult(s).Bytes())
	}
	var accepted, refused int
	for _, c := range cases {
		for _, sign := range []byte{0, 0x80} {
			b := bytes.Clone(c)
			b[31] = b[31]&0x7f | sign
			err := checkEd25519Key(b)
			if err == nil {
				accepted++
				if !reencodes(b) {
					t.Fatalf("%x accepted, but it re-encodes otherwise", b)
				}
				continue
			}
			refused++
			if reencodes(b) {
				if p, _ := new(edwards25519.Point).SetBytes(b); new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) != 1 {
					t.Fatalf("%x refused (%v), but it is a canonical point of large order", b, err)
				}
			}
		}
	}
	if accepted < 4096 || refused < 42 {
		t.Fatalf("%d accepted, %d refused: the cases do not cover both sides", accepted, refused)
	}
}

func FuzzCanonicalY(f *testing.F) {
	f.Add(bytes.Repeat([]byte{0xff}, 32))
	f.Add(edwards25519.NewGeneratorPoint().Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != 32 {
			return
		}
		if checkEd25519Key(b) == nil && !reencodes(b) {
			t.Fatalf("%x accepted, but it re-encodes otherwise", b)
		}
		p, err := new(edwards25519.Point).SetBytes(b)
		if err == nil && reencodes(b) && new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) != 1 && checkEd25519Key(b) != nil {
			t.Fatalf("%x refused, but it is a canonical point of large order", b)
		}
	})
}
