package smt

import (
	"bytes"
	"testing"
)

// FuzzParseProof checks that ParseProof never panics and accepts only
// canonical encodings: whatever it accepts marshals back to the same
// bytes, and can be verified without panicking.
func FuzzParseProof(f *testing.F) {
	for _, v := range readVectors(f).Maps {
		for _, p := range v.Proofs {
			f.Add([]byte(p.Proof))
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0x00, 0x00})
	f.Add([]byte{0x00, 0x01, 0x01})
	f.Add(append([]byte{0x00, 0x20}, make([]byte, 32)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := ParseProof(in)
		if err != nil {
			if p != nil {
				t.Fatalf("ParseProof returned a proof with error %v", err)
			}
			return
		}
		out, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("accepted proof does not marshal: %v", err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("accepted non-canonical proof:\n in  %x\n out %x", in, out)
		}
		var k [32]byte // must not panic, whatever the claim
		_ = p.Verify([32]byte{}, k, nil)
		_ = p.Verify([32]byte{}, k, &k)
		if p.Other != nil {
			_ = p.Verify([32]byte{}, p.Other.KeyHash, nil)
		}
	})
}

// fuzzKeys are the key hashes FuzzApply works on: one key and others that
// share long prefixes with it, down to all but the last bit, so a few
// operations reach every shape of the tree.
var fuzzKeys = func() [16][32]byte {
	base := KeyHash([]byte("fuzz"))
	var ks [16][32]byte
	for i, flips := range [16][]int{
		{}, {255}, {254}, {252}, {251, 255}, {200}, {128}, {64},
		{63}, {8}, {4}, {3}, {1}, {0}, {0, 255}, {1, 2, 3},
	} {
		ks[i] = base
		for _, d := range flips {
			ks[i][d/8] ^= 0x80 >> (d % 8)
		}
	}
	return ks
}()

// FuzzApply applies batches of operations on fuzzKeys chosen by the input
// and checks the tree against the model after each batch, and every
// key's proof. Each input byte is an operation: 0xff ends a batch; else
// the low nibble picks a key and the high nibble a value (0 to 11) or a
// delete (12 to 15).
func FuzzApply(f *testing.F) {
	f.Add([]byte{0x00, 0x01, 0xff, 0xc0})
	f.Add([]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0xff, 0xc1, 0xd2, 0xff, 0xc0, 0xe3, 0xf4})
	f.Add([]byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xff, 0x10, 0xc5, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 64 { // enough for every shape; longer inputs only slow the fuzzer
			return
		}
		s, m := newMemStore(), model{}
		for len(in) > 0 {
			var ups []Update
			for len(in) > 0 {
				b := in[0]
				in = in[1:]
				if b == 0xff {
					break
				}
				u := Update{KeyHash: fuzzKeys[b&0x0f]}
				if b>>4 < 12 {
					v := ValueHash([]byte{b >> 4})
					u.ValueHash = &v
				}
				ups = append(ups, u)
			}
			ups = sortUpdates(ups)
			root := s.apply(t, ups)
			m.apply(ups)
			checkTree(t, s, root, m)
			for _, k := range fuzzKeys {
				p, err := Prove(s, k)
				if err != nil {
					t.Fatal(err)
				}
				var v *[32]byte
				if x, ok := m[k]; ok {
					v = &x
				}
				if err := p.Verify(root, k, v); err != nil {
					t.Fatalf("proof of %x: %v", k, err)
				}
			}
		}
	})
}
