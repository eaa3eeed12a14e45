package frost

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
)

var suites = []*Suite{Ed25519, Secp256k1, Secp256k1Taproot}

// testRand is a seeded stream: the tests are reproducible, and the package
// takes its randomness from whatever reader it is given.
func testRand(seed uint64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return rand.NewChaCha8(s)
}

// signWith runs both rounds with the given signers and aggregates.
func signWith(t testing.TB, rnd io.Reader, pub *PublicKeyPackage, signers []*KeyPackage, msg []byte) ([]byte, []Commitments, []SignatureShare) {
	t.Helper()
	var list []Commitments
	var nonces []*Nonces
	for _, k := range signers {
		n, c, err := k.Commit(rnd)
		if err != nil {
			t.Fatal(err)
		}
		nonces = append(nonces, n)
		list = append(list, c)
	}
	var shares []SignatureShare
	for i, k := range signers {
		sh, err := k.Sign(nonces[i], msg, list)
		if err != nil {
			t.Fatal(err)
		}
		shares = append(shares, sh)
	}
	sig, err := pub.Aggregate(msg, list, shares)
	if err != nil {
		t.Fatal(err)
	}
	return sig, list, shares
}

// verifyExternally checks a signature with an independent verifier where
// the suite's signatures are a standard's: crypto/ed25519 and btcec's
// BIP-340 verifier.
func verifyExternally(t testing.TB, s *Suite, key, msg, sig []byte) {
	t.Helper()
	switch s {
	case Ed25519:
		if !ed25519.Verify(key, msg, sig) {
			t.Fatal("crypto/ed25519 refuses the signature")
		}
	case Secp256k1Taproot:
		pk, err := schnorr.ParsePubKey(key)
		if err != nil {
			t.Fatal(err)
		}
		bs, err := schnorr.ParseSignature(sig)
		if err != nil {
			t.Fatal(err)
		}
		if len(msg) != 32 {
			t.Fatalf("btcec verifies 32-byte messages only, got %d", len(msg))
		}
		if !bs.Verify(msg, pk) {
			t.Fatal("btcec's BIP-340 verifier refuses the signature")
		}
	}
}

func TestSignRoundTrip(t *testing.T) {
	msg := []byte("thirty-two bytes of message hash")
	for _, s := range suites {
		for _, p := range []struct{ t, n int }{{2, 2}, {2, 3}, {3, 5}, {5, 5}, {7, 10}} {
			t.Run(fmt.Sprintf("%s/%d-of-%d", s, p.t, p.n), func(t *testing.T) {
				rnd := testRand(uint64(p.t*100 + p.n))
				keys, pub, err := s.Deal(rnd, p.t, p.n)
				if err != nil {
					t.Fatal(err)
				}
				// Two different signer sets: the first t, and the last t.
				for _, signers := range [][]*KeyPackage{keys[:p.t], keys[p.n-p.t:]} {
					sig, _, _ := signWith(t, rnd, pub, signers, msg)
					if err := s.Verify(pub.GroupKey(), msg, sig); err != nil {
						t.Fatal(err)
					}
					verifyExternally(t, s, pub.GroupKey(), msg, sig)
					if err := s.Verify(pub.GroupKey(), []byte("another message"), sig); !errors.Is(err, ErrInvalidSignature) {
						t.Fatalf("signature verifies on another message: %v", err)
					}
				}
			})
		}
	}
}

// TestTaprootParity signs under many keys, so that both parities of the
// group key and of the group commitment occur, and checks every signature
// with btcec's BIP-340 verifier.
func TestTaprootParity(t *testing.T) {
	rnd := testRand(7)
	msg := []byte("thirty-two bytes of message hash")
	var oddKey, oddR int
	for range 16 {
		keys, pub, err := Secp256k1Taproot.Deal(rnd, 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		if pub.groupKey.(*k1Element).oddY() {
			oddKey++
		}
		sig, list, _ := signWith(t, rnd, pub, keys[1:], msg)
		set, err := pub.prepare(msg, list)
		if err != nil {
			t.Fatal(err)
		}
		if set.negR {
			oddR++
		}
		verifyExternally(t, Secp256k1Taproot, pub.GroupKey(), msg, sig)
	}
	if oddKey == 0 || oddKey == 16 || oddR == 0 || oddR == 16 {
		t.Fatalf("parities not both covered: %d odd keys, %d odd R of 16", oddKey, oddR)
	}
}

func TestNonceIsConsumed(t *testing.T) {
	for _, s := range suites {
		t.Run(s.String(), func(t *testing.T) {
			rnd := testRand(1)
			keys, _, err := s.Deal(rnd, 2, 3)
			if err != nil {
				t.Fatal(err)
			}
			n1, c1, _ := keys[0].Commit(rnd)
			_, c2, _ := keys[1].Commit(rnd)
			list := []Commitments{c1, c2}
			if _, err := keys[0].Sign(n1, []byte("a"), list); err != nil {
				t.Fatal(err)
			}
			if _, err := keys[0].Sign(n1, []byte("b"), list); !errors.Is(err, ErrNonceUsed) {
				t.Fatalf("second use of the nonces: %v, want ErrNonceUsed", err)
			}
			// A copy of used nonces is refused too: its scalars were zeroed.
			n2, c2b, _ := keys[0].Commit(rnd)
			copied := *n2
			if _, err := keys[0].Sign(n2, []byte("a"), []Commitments{c2b, c2}); err != nil {
				t.Fatal(err)
			}
			if _, err := keys[0].Sign(&copied, []byte("b"), []Commitments{c2b, c2}); !errors.Is(err, ErrNonceUsed) {
				t.Fatalf("copy of used nonces: %v, want ErrNonceUsed", err)
			}
			// A failed Sign consumes the nonces too.
			n3, c3, _ := keys[0].Commit(rnd)
			if _, err := keys[0].Sign(n3, []byte("a"), []Commitments{c2, c3}); !errors.Is(err, ErrParameters) {
				t.Fatalf("unordered list: %v", err)
			}
			if _, err := keys[0].Sign(n3, []byte("a"), []Commitments{c3, c2}); !errors.Is(err, ErrNonceUsed) {
				t.Fatalf("nonces after a failed Sign: %v, want ErrNonceUsed", err)
			}
		})
	}
}

// TestSavedNonces: nonces saved before the commitment leaves restore to
// the same commitments and sign as the originals would; used nonces
// cannot be saved, and a restore for another participant is refused.
func TestSavedNonces(t *testing.T) {
	for _, s := range suites {
		t.Run(s.String(), func(t *testing.T) {
			rnd := testRand(2)
			keys, pub, err := s.Deal(rnd, 2, 3)
			if err != nil {
				t.Fatal(err)
			}
			n1, c1, _ := keys[0].Commit(rnd)
			n2, c2, _ := keys[1].Commit(rnd)
			saved, err := n1.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := keys[1].DecodeNonces(saved); !errors.Is(err, ErrParameters) {
				t.Fatalf("another participant's nonces: %v, want ErrParameters", err)
			}
			// The signer restarts: its nonces come back from the saved bytes.
			restored, err := keys[0].DecodeNonces(saved)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(restored.commitments.Bytes(), c1.Bytes()) {
				t.Fatal("restored nonces commit to other points")
			}
			msg := []byte("m")
			list := []Commitments{c1, c2}
			sh1, err := keys[0].Sign(restored, msg, list)
			if err != nil {
				t.Fatal(err)
			}
			sh2, err := keys[1].Sign(n2, msg, list)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := pub.Aggregate(msg, list, []SignatureShare{sh1, sh2})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Verify(pub.GroupKey(), msg, sig); err != nil {
				t.Fatal(err)
			}
			if _, err := restored.Bytes(); !errors.Is(err, ErrNonceUsed) {
				t.Fatalf("saving used nonces: %v, want ErrNonceUsed", err)
			}
		})
	}
}

// TestBadShareIsAttributed: a signer that sends a wrong share is named by
// VerifyShare and by Aggregate, and the honest shares still verify.
func TestBadShareIsAttributed(t *testing.T) {
	msg := []byte("thirty-two bytes of message hash")
	for _, s := range suites {
		t.Run(s.String(), func(t *testing.T) {
			rnd := testRand(2)
			keys, pub, err := s.Deal(rnd, 3, 5)
			if err != nil {
				t.Fatal(err)
			}
			_, list, shares := signWith(t, rnd, pub, []*KeyPackage{keys[0], keys[2], keys[4]}, msg)
			shares[1].z = shares[1].z.add(s.g.scalarFromUint(1))
			var se *ShareError
			if err := pub.VerifyShare(msg, list, shares[1]); !errors.As(err, &se) || se.ID != 3 || !errors.Is(err, ErrInvalidShare) {
				t.Fatalf("VerifyShare of the bad share: %v", err)
			}
			for _, i := range []int{0, 2} {
				if err := pub.VerifyShare(msg, list, shares[i]); err != nil {
					t.Fatalf("honest share %d: %v", shares[i].ID, err)
				}
			}
			if _, err := pub.Aggregate(msg, list, shares); !errors.As(err, &se) || se.ID != 3 {
				t.Fatalf("Aggregate with a bad share: %v, want participant 3 named", err)
			}
		})
	}
}

func TestSigningParameters(t *testing.T) {
	rnd := testRand(3)
	keys, pub, err := Ed25519.Deal(rnd, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	_, other, err := Ed25519.Deal(rnd, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	_, c1, _ := keys[0].Commit(rnd)
	_, c2, _ := keys[1].Commit(rnd)
	stranger := c2
	stranger.ID = 9
	for _, tc := range []struct {
		desc string
		pub  *PublicKeyPackage
		list []Commitments
	}{
		{"below the threshold", pub, []Commitments{c1}},
		{"duplicate signer", pub, []Commitments{c1, c1}},
		{"descending order", pub, []Commitments{c2, c1}},
		{"unknown participant", pub, []Commitments{c1, stranger}},
		{"empty commitments", pub, []Commitments{c1, {ID: 2}}},
		{"another group's threshold", other, []Commitments{c1}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if err := tc.pub.VerifyShare([]byte("m"), tc.list, SignatureShare{ID: 1}); !errors.Is(err, ErrParameters) {
				t.Fatalf("got %v, want ErrParameters", err)
			}
		})
	}
	if _, _, err := Ed25519.Deal(rnd, 1, 3); !errors.Is(err, ErrParameters) {
		t.Fatalf("1-of-3: %v", err)
	}
	if _, _, err := Ed25519.Deal(rnd, 4, 3); !errors.Is(err, ErrParameters) {
		t.Fatalf("4-of-3: %v", err)
	}
	if _, _, err := Ed25519.Deal(io.LimitReader(rnd, 10), 2, 3); !errors.Is(err, ErrRandom) {
		t.Fatalf("short randomness: %v", err)
	}
}

// TestWideReduction checks the constant-time reduction of 48- and 64-byte
// big-endian integers mod n against math/big.
func TestWideReduction(t *testing.T) {
	rnd := testRand(4)
	n, _ := new(big.Int).SetString("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", 16)
	for i := range 200 {
		b := make([]byte, 48+16*(i%2))
		io.ReadFull(rnd, b)
		if i%7 == 0 {
			for j := range b {
				b[j] = 0xff
			}
		}
		want := new(big.Int).Mod(new(big.Int).SetBytes(b), n)
		got := new(big.Int).SetBytes(k1ScalarWide(b).bytes())
		if got.Cmp(want) != 0 {
			t.Fatalf("%x mod n = %x, want %x", b, got, want)
		}
	}
}

// TestEd25519VerifyAcceptsStdlib: the Ed25519 suite's Verify accepts what
// crypto/ed25519 signs, so the ledger can check any Ed25519 signature with
// it, and refuses it on another message or key.
func TestEd25519VerifyAcceptsStdlib(t *testing.T) {
	rnd := testRand(13)
	for i := range 20 {
		pub, priv, err := ed25519.GenerateKey(rnd)
		if err != nil {
			t.Fatal(err)
		}
		msg := []byte(fmt.Sprintf("message %d", i))
		sig := ed25519.Sign(priv, msg)
		if err := Ed25519.Verify(pub, msg, sig); err != nil {
			t.Fatalf("stdlib signature %d: %v", i, err)
		}
		if err := Ed25519.Verify(pub, msg[1:], sig); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("signature %d on another message: %v", i, err)
		}
		other, _, _ := ed25519.GenerateKey(rnd)
		if err := Ed25519.Verify(other, msg, sig); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("signature %d under another key: %v", i, err)
		}
	}
}

// FuzzVerify feeds any key, message and signature to every suite's Verify,
// which the ledger runs on input from the network: it must not panic, and
// it refuses with ErrInvalidSignature only.
func FuzzVerify(f *testing.F) {
	msg := []byte("thirty-two bytes of message hash")
	for i, s := range suites {
		keys, pub, err := s.Deal(testRand(14), 2, 2)
		if err != nil {
			f.Fatal(err)
		}
		sig, _, _ := signWith(f, testRand(15), pub, keys, msg)
		f.Add(byte(i), pub.GroupKey(), msg, sig)
	}
	f.Fuzz(func(t *testing.T, si byte, key, msg, sig []byte) {
		s := suites[int(si)%len(suites)]
		if err := s.Verify(key, msg, sig); err != nil && !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("%s: error %v is not ErrInvalidSignature", s, err)
		}
	})
}
