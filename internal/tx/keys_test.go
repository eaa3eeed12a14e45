package tx_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/agora-ledger/agora/internal/tx"
)

var allAlgs = []tx.Alg{tx.Ed25519, tx.P256, tx.Secp256k1}

func TestKeyRoundTrips(t *testing.T) {
	for _, alg := range allAlgs {
		t.Run(alg.String(), func(t *testing.T) {
			k := testKey(t, alg, "round-trip")
			k2, err := tx.NewPrivateKey(alg, k.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if !k2.Public().Equal(k.Public()) || k2.Alg() != alg {
				t.Errorf("NewPrivateKey(Bytes()) gives another key")
			}
			pub := k.Public()
			if err := pub.Check(); err != nil {
				t.Fatal(err)
			}
			p, err := tx.ParsePublicKey(pub.String())
			if err != nil || !p.Equal(pub) {
				t.Fatalf("ParsePublicKey(%s) = %v, %v", pub, p, err)
			}
			text, _ := pub.MarshalText()
			var back tx.PublicKey
			if err := back.UnmarshalText(text); err != nil || !back.Equal(pub) {
				t.Fatalf("UnmarshalText(%s) = %v, %v", text, back, err)
			}
			if a := pub.Address(); len(a) != 40 || strings.ToLower(a) != a {
				t.Errorf("Address() = %q, want 40 lower-case hex digits", a)
			}
			g, err := tx.GenerateKey(alg, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if err := g.Public().Check(); err != nil || g.Alg() != alg {
				t.Errorf("GenerateKey made a bad %s key: %v", alg, err)
			}
		})
	}
}

// TestAddress pins the address derivation against a direct computation.
func TestAddress(t *testing.T) {
	for _, alg := range allAlgs {
		pub := testKey(t, alg, "address").Public()
		h := sha256.Sum256(append(append([]byte("agora/address/v1\x00"), byte(alg)), pub.Key...))
		if got, want := pub.Address(), bytesHex(h[:20]); got != want {
			t.Errorf("%s: Address() = %s, want %s", alg, got, want)
		}
	}
	// The algorithm is part of the address: the same bytes under another
	// algorithm are another account.
	a := tx.PublicKey{Alg: tx.P256, Key: bytes.Repeat([]byte{2}, 33)}
	b := tx.PublicKey{Alg: tx.Secp256k1, Key: a.Key}
	if a.Address() == b.Address() {
		t.Error("address does not depend on the algorithm")
	}
}

func bytesHex(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}

func TestParsePublicKey(t *testing.T) {
	ed := testKey(t, tx.Ed25519, "alice").Public().String()
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{name: "ed25519", in: ed, ok: true},
		{name: "p256", in: testKey(t, tx.P256, "bob").Public().String(), ok: true},
		{name: "secp256k1", in: testKey(t, tx.Secp256k1, "carol").Public().String(), ok: true},
		{name: "empty", in: ""},
		{name: "no colon", in: strings.Replace(ed, ":", "", 1)},
		{name: "unknown algorithm", in: strings.Replace(ed, "ed25519", "ed448", 1)},
		{name: "upper-case algorithm", in: strings.Replace(ed, "ed25519", "Ed25519", 1)},
		{name: "padded base64", in: ed + "="},
		{name: "standard base64 alphabet", in: "ed25519:" + strings.Repeat("+", 43)},
		{name: "newline inside", in: ed[:12] + "\n" + ed[12:]},
		{name: "nonzero padding bits", in: ed[:len(ed)-1] + string(nextB64(ed[len(ed)-1]))},
		{name: "short key", in: ed[:len(ed)-4]},
		{name: "p256 not on curve", in: "p256:" + b64(append([]byte{2}, append(make([]byte, 31), 1)...))},
		{name: "secp256k1 uncompressed", in: "secp256k1:" + b64(append([]byte{4}, make([]byte, 64)...))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := tx.ParsePublicKey(tt.in)
			if tt.ok {
				if err != nil {
					t.Fatalf("ParsePublicKey(%q) = %v", tt.in, err)
				}
				if k.String() != tt.in {
					t.Errorf("String() = %q, want %q", k.String(), tt.in)
				}
				return
			}
			if !errors.Is(err, tx.ErrMalformed) {
				t.Errorf("ParsePublicKey(%q) = %v, %v; want ErrMalformed", tt.in, k, err)
			}
		})
	}
}

// nextB64 returns the base64url digit after c, which for the last digit
// of a 32-byte key changes only the unused low bits.
func nextB64(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return alphabet[(strings.IndexByte(alphabet, c)+1)%64]
}

func b64(b []byte) string {
	return strings.SplitN(tx.PublicKey{Alg: tx.Ed25519, Key: b}.String(), ":", 2)[1]
}

func TestVerify(t *testing.T) {
	msg := tx.SignedMessage([]byte("some tx bytes"))
	for _, alg := range allAlgs {
		t.Run(alg.String(), func(t *testing.T) {
			k := testKey(t, alg, "signer")
			pub := k.Public()
			sig, err := k.Sign(nil, msg)
			if alg == tx.P256 {
				sig, err = k.Sign(randReader{}, msg)
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(sig) != 64 {
				t.Fatalf("signature is %d bytes, want 64", len(sig))
			}
			if !pub.Verify(msg, sig) {
				t.Fatal("signature does not verify")
			}
			other := testKey(t, alg, "someone else")
			flipped := bytes.Clone(msg)
			flipped[len(flipped)-1] ^= 1
			badSig := bytes.Clone(sig)
			badSig[10] ^= 0x40
			tests := []struct {
				name string
				key  tx.PublicKey
				msg  []byte
				sig  []byte
			}{
				{name: "wrong key", key: other.Public(), msg: msg, sig: sig},
				{name: "modified message", key: pub, msg: flipped, sig: sig},
				{name: "message without domain prefix", key: pub, msg: msg[len(tx.Domain):], sig: sig},
				{name: "modified signature", key: pub, msg: msg, sig: badSig},
				{name: "short signature", key: pub, msg: msg, sig: sig[:63]},
				{name: "long signature", key: pub, msg: msg, sig: append(bytes.Clone(sig), 0)},
				{name: "empty signature", key: pub, msg: msg, sig: nil},
				{name: "zero signature", key: pub, msg: msg, sig: make([]byte, 64)},
				{name: "unknown algorithm", key: tx.PublicKey{Alg: 9, Key: pub.Key}, msg: msg, sig: sig},
				{name: "truncated key", key: tx.PublicKey{Alg: alg, Key: pub.Key[:len(pub.Key)-1]}, msg: msg, sig: sig},
			}
			for _, o := range allAlgs {
				if o != alg {
					// The same key bytes read under another algorithm.
					tests = append(tests, struct {
						name string
						key  tx.PublicKey
						msg  []byte
						sig  []byte
					}{name: "key bytes as " + o.String(), key: tx.PublicKey{Alg: o, Key: pub.Key}, msg: msg, sig: sig})
				}
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					if tt.key.Verify(tt.msg, tt.sig) {
						t.Error("Verify accepted")
					}
				})
			}
		})
	}
}

// randReader is a reader of a fixed non-random stream; ECDSA signing in
// Go mixes it with secure randomness, so signatures still differ.
type randReader struct{}

func (randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

// TestCrossAlgorithmSignatures checks that a signature by one algorithm
// never verifies under another, with either key.
func TestCrossAlgorithmSignatures(t *testing.T) {
	msg := tx.SignedMessage([]byte("cross"))
	for _, a := range allAlgs {
		ka := testKey(t, a, "cross")
		sig, err := ka.Sign(randReader{}, msg)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range allAlgs {
			if a == b {
				continue
			}
			kb := testKey(t, b, "cross")
			if kb.Public().Verify(msg, sig) {
				t.Errorf("%s signature verified under %s key", a, b)
			}
		}
	}
}

// TestHighS checks that ECDSA signatures with s above half the group
// order are refused, although the curve arithmetic accepts them: otherwise
// anyone could derive a second valid envelope from a signed one.
func TestHighS(t *testing.T) {
	msg := tx.SignedMessage([]byte("malleable?"))
	h := sha256.Sum256(msg)
	t.Run("p256", func(t *testing.T) {
		k := testKey(t, tx.P256, "high-s")
		pub := k.Public()
		sig, err := k.Sign(randReader{}, msg)
		if err != nil {
			t.Fatal(err)
		}
		n := elliptic.P256().Params().N
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if s.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
			t.Fatalf("Sign produced a high-S signature")
		}
		high := new(big.Int).Sub(n, s)
		hsig := make([]byte, 64)
		r.FillBytes(hsig[:32])
		high.FillBytes(hsig[32:])
		x, y := elliptic.UnmarshalCompressed(elliptic.P256(), pub.Key)
		if !ecdsa.Verify(&ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}, h[:], r, high) {
			t.Fatal("test is broken: the high-S signature does not verify as plain ECDSA")
		}
		if pub.Verify(msg, hsig) {
			t.Error("Verify accepted a high-S P-256 signature")
		}
		// s = n would read as zero; also refused.
		n.FillBytes(hsig[32:])
		if pub.Verify(msg, hsig) {
			t.Error("Verify accepted s = n")
		}
	})
	t.Run("secp256k1", func(t *testing.T) {
		k := testKey(t, tx.Secp256k1, "high-s")
		pub := k.Public()
		sig, err := k.Sign(nil, msg)
		if err != nil {
			t.Fatal(err)
		}
		var r, s secp256k1.ModNScalar
		r.SetByteSlice(sig[:32])
		s.SetByteSlice(sig[32:])
		if s.IsOverHalfOrder() {
			t.Fatal("Sign produced a high-S signature")
		}
		var high secp256k1.ModNScalar
		high.NegateVal(&s)
		key, err := secp256k1.ParsePubKey(pub.Key)
		if err != nil {
			t.Fatal(err)
		}
		if !k1ecdsa.NewSignature(&r, &high).Verify(h[:], key) {
			t.Fatal("test is broken: the high-S signature does not verify as plain ECDSA")
		}
		hsig := bytes.Clone(sig)
		hb := high.Bytes()
		copy(hsig[32:], hb[:])
		if pub.Verify(msg, hsig) {
			t.Error("Verify accepted a high-S secp256k1 signature")
		}
		// r or s at or above the group order is refused, not reduced.
		over := bytes.Clone(sig)
		copy(over[32:], secp256k1.S256().N.FillBytes(make([]byte, 32)))
		if pub.Verify(msg, over) {
			t.Error("Verify accepted s = n")
		}
	})
	t.Run("secp256k1 uncompressed key", func(t *testing.T) {
		// Check refuses uncompressed keys; Verify must not accept them
		// either, or the same signer would have two key encodings.
		k := testKey(t, tx.Secp256k1, "uncompressed")
		sig, err := k.Sign(nil, msg)
		if err != nil {
			t.Fatal(err)
		}
		key, err := secp256k1.ParsePubKey(k.Public().Key)
		if err != nil {
			t.Fatal(err)
		}
		long := tx.PublicKey{Alg: tx.Secp256k1, Key: key.SerializeUncompressed()}
		if long.Check() == nil {
			t.Error("Check accepted an uncompressed secp256k1 key")
		}
		if long.Verify(msg, sig) {
			t.Error("Verify accepted a signature under an uncompressed secp256k1 key")
		}
	})
}

func TestVerifyEnvelope(t *testing.T) {
	alice := testKey(t, tx.Ed25519, "alice")
	bob := testKey(t, tx.P256, "bob")
	carol := testKey(t, tx.Secp256k1, "carol")
	x := validTx(t, alice, bob, carol)
	s, err := tx.Sign(x, alice, bob, carol)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Verify(s, x); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(s *tx.Signed, x *tx.Tx)
		signer string
	}{
		{name: "signatures swapped", mutate: func(s *tx.Signed, _ *tx.Tx) { s.Sigs[0], s.Sigs[1] = s.Sigs[1], s.Sigs[0] }, signer: "signer 0"},
		{name: "last signature corrupted", mutate: func(s *tx.Signed, _ *tx.Tx) { s.Sigs[2][5] ^= 1 }, signer: "signer 2"},
		{name: "sequence changed after signing", mutate: func(s *tx.Signed, x *tx.Tx) {
			x.Signers[1].Sequence++
			s.Tx = mustMarshal(t, x)
		}, signer: "signer 0"},
		{name: "chain changed after signing", mutate: func(s *tx.Signed, x *tx.Tx) {
			x.ChainID = "agora-other"
			s.Tx = mustMarshal(t, x)
		}, signer: "signer 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s2 := &tx.Signed{Tx: bytes.Clone(s.Tx)}
			for _, sig := range s.Sigs {
				s2.Sigs = append(s2.Sigs, bytes.Clone(sig))
			}
			x2 := validTx(t, alice, bob, carol)
			tt.mutate(s2, x2)
			env := mustMarshal(t, s2)
			s3, x3, err := tx.Decode(env)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			err = tx.Verify(s3, x3)
			if !errors.Is(err, tx.ErrBadSignature) {
				t.Fatalf("Verify() = %v, want ErrBadSignature", err)
			}
			if !strings.Contains(err.Error(), tt.signer) {
				t.Errorf("Verify() = %q, want it to name %s", err, tt.signer)
			}
		})
	}
}

func TestAlgNames(t *testing.T) {
	for _, alg := range allAlgs {
		got, err := tx.ParseAlg(alg.String())
		if err != nil || got != alg {
			t.Errorf("ParseAlg(%q) = %v, %v", alg, got, err)
		}
	}
	if s := tx.Alg(0).String(); s != "alg(0)" {
		t.Errorf("Alg(0).String() = %q", s)
	}
	for _, bad := range []string{"", "alg(0)", "ED25519", "p-256", "rsa"} {
		if _, err := tx.ParseAlg(bad); !errors.Is(err, tx.ErrMalformed) {
			t.Errorf("ParseAlg(%q) = %v, want ErrMalformed", bad, err)
		}
	}
	for _, alg := range allAlgs {
		if _, err := tx.NewPrivateKey(alg, make([]byte, 31)); !errors.Is(err, tx.ErrMalformed) {
			t.Errorf("%s: NewPrivateKey of 31 bytes = %v", alg, err)
		}
	}
	// A zero scalar or one at the group order is not an ECDSA key.
	for _, alg := range []tx.Alg{tx.P256, tx.Secp256k1} {
		if _, err := tx.NewPrivateKey(alg, make([]byte, 32)); err == nil {
			t.Errorf("%s: NewPrivateKey(0) succeeded", alg)
		}
	}
	if _, err := tx.NewPrivateKey(tx.Secp256k1, secp256k1.S256().N.FillBytes(make([]byte, 32))); err == nil {
		t.Error("secp256k1: NewPrivateKey(n) succeeded")
	}
	if _, err := tx.NewPrivateKey(tx.P256, elliptic.P256().Params().N.FillBytes(make([]byte, 32))); err == nil {
		t.Error("p256: NewPrivateKey(n) succeeded")
	}
}
