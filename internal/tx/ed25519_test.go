package tx

import (
	stdlib "crypto/ed25519"
	"encoding/hex"
	"math/big"
	"testing"
)

// edgeCases are Ed25519 inputs on which implementations are known to
// differ (see "Taming the many EdDSAs", Chalkias et al. 2020): small-order
// and non-canonically encoded A and R, non-canonical S, short inputs.
func edgeCases(t testing.TB) [][3][]byte {
	pub, priv, err := stdlib.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("agora ed25519 edge cases")
	sig := stdlib.Sign(priv, msg)
	identity := make([]byte, 32) // the neutral point: y = 1
	identity[0] = 1
	nonCanonicalIdentity := le(new(big.Int).Add(p25519(), big.NewInt(1))) // y = p + 1
	zeroS := make([]byte, 32)
	// S + L: the same scalar, not reduced.
	s := new(big.Int).SetBytes(reverse(sig[32:]))
	sPlusL := le(s.Add(s, l25519()))
	cat := func(a, b []byte) []byte { return append(append([]byte{}, a...), b...) }
	cases := [][3][]byte{
		{pub, msg, sig},
		{pub, msg, cat(sig[:32], sPlusL)},
		{identity, msg, cat(identity, zeroS)},
		{nonCanonicalIdentity, msg, cat(identity, zeroS)},
		{identity, msg, cat(nonCanonicalIdentity, zeroS)},
		{pub, msg, sig[:63]},
		{pub, nil, sig},
	}
	flipped := append([]byte{}, sig...)
	flipped[5] ^= 1
	return append(cases, [3][]byte{pub, msg, flipped})
}

func p25519() *big.Int {
	p := new(big.Int).Lsh(big.NewInt(1), 255)
	return p.Sub(p, big.NewInt(19))
}

func l25519() *big.Int {
	l, _ := new(big.Int).SetString("1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed", 16)
	return l
}

// le is n as 32 little-endian bytes.
func le(n *big.Int) []byte {
	b := make([]byte, 32)
	return reverse(n.FillBytes(b))
}

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[len(b)-1-i] = c
	}
	return out
}

// stdlibVerify is crypto/ed25519's answer, the reference.
func stdlibVerify(pub, msg, sig []byte) bool {
	return len(pub) == stdlib.PublicKeySize && stdlib.Verify(pub, msg, sig)
}

func TestEd25519EdgeCasesMatchStdlib(t *testing.T) {
	accepted := 0
	for i, c := range edgeCases(t) {
		want := stdlibVerify(c[0], c[1], c[2])
		if got := verifyEd25519(c[0], c[1], c[2]); got != want {
			t.Errorf("case %d (pub %s sig %s): verifyEd25519 = %v, crypto/ed25519 = %v",
				i, hex.EncodeToString(c[0]), hex.EncodeToString(c[2]), got, want)
		}
		if want {
			accepted++
		}
	}
	// The valid signature and the small-order ones with canonical R.
	if accepted != 3 {
		t.Errorf("crypto/ed25519 accepted %d edge cases, want 3", accepted)
	}
}

func TestEd25519ManyKeysMatchStdlib(t *testing.T) {
	for i := range 300 {
		pub, priv, _ := stdlib.GenerateKey(nil)
		msg := []byte{byte(i), byte(i >> 8)}
		sig := stdlib.Sign(priv, msg)
		if !verifyEd25519(pub, msg, sig) {
			t.Fatalf("key %d: a valid signature refused", i)
		}
		sig[i%64] ^= 1 << (i % 8)
		if got, want := verifyEd25519(pub, msg, sig), stdlibVerify(pub, msg, sig); got != want {
			t.Fatalf("key %d: altered signature: verifyEd25519 = %v, crypto/ed25519 = %v", i, got, want)
		}
	}
}

// FuzzEd25519MatchesStdlib checks that verifyEd25519 accepts exactly
// what crypto/ed25519 accepts.
func FuzzEd25519MatchesStdlib(f *testing.F) {
	for _, c := range edgeCases(f) {
		f.Add(c[0], c[1], c[2])
	}
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		if got, want := verifyEd25519(pub, msg, sig), stdlibVerify(pub, msg, sig); got != want {
			t.Fatalf("pub %x msg %x sig %x: verifyEd25519 = %v, crypto/ed25519 = %v", pub, msg, sig, got, want)
		}
	})
}

// BenchmarkVerifyEd25519 compares crypto/ed25519 with verifyEd25519.
func BenchmarkVerifyEd25519(b *testing.B) {
	pub, priv, _ := stdlib.GenerateKey(nil)
	msg := make([]byte, 200)
	sig := stdlib.Sign(priv, msg)
	b.Run("crypto-ed25519", func(b *testing.B) {
		for b.Loop() {
			if !stdlib.Verify(pub, msg, sig) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("curve25519-voi", func(b *testing.B) {
		for b.Loop() {
			if !verifyEd25519(pub, msg, sig) {
				b.Fatal("refused")
			}
		}
	})
}
