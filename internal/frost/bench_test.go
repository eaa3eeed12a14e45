package frost

import (
	"crypto/ed25519"
	"fmt"
	"testing"
)

// BenchmarkDKG is a whole DKG: every participant's three steps, and the
// ledger's derivation of the public keys.
func BenchmarkDKG(b *testing.B) {
	for _, s := range suites[:2] {
		for _, p := range []struct{ t, n int }{{2, 3}, {3, 5}, {7, 10}} {
			b.Run(fmt.Sprintf("%s/%d-of-%d", s, p.t, p.n), func(b *testing.B) {
				rnd := testRand(1)
				for b.Loop() {
					r := runDKGRounds(b, s, rnd, p.t, p.n)
					r.finish(b)
					if _, err := s.DKGPublicKeys(r.session, p.t, p.n, r.round1); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// signingFixture is a 3-of-5 group with the commitments of signers 1, 2, 3.
func signingFixture(b *testing.B, s *Suite) ([]*KeyPackage, *PublicKeyPackage, []byte) {
	keys, pub, err := s.Deal(testRand(2), 3, 5)
	if err != nil {
		b.Fatal(err)
	}
	return keys, pub, []byte("thirty-two bytes of message hash")
}

// BenchmarkSign is one signer's work for one signature: Commit and Sign,
// in a 3-of-5 group.
func BenchmarkSign(b *testing.B) {
	for _, s := range suites {
		b.Run(s.String(), func(b *testing.B) {
			keys, _, msg := signingFixture(b, s)
			rnd := testRand(3)
			_, c2, _ := keys[1].Commit(rnd)
			_, c3, _ := keys[2].Commit(rnd)
			for b.Loop() {
				n, c1, err := keys[0].Commit(rnd)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := keys[0].Sign(n, msg, []Commitments{c1, c2, c3}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAggregate is the coordinator's (or the ledger's) work: combine
// three shares and verify the signature.
func BenchmarkAggregate(b *testing.B) {
	for _, s := range suites {
		b.Run(s.String(), func(b *testing.B) {
			keys, pub, msg := signingFixture(b, s)
			_, list, shares := signWith(b, testRand(4), pub, keys[:3], msg)
			for b.Loop() {
				if _, err := pub.Aggregate(msg, list, shares); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyShare is the ledger's check of one signature share.
func BenchmarkVerifyShare(b *testing.B) {
	for _, s := range suites {
		b.Run(s.String(), func(b *testing.B) {
			keys, pub, msg := signingFixture(b, s)
			_, list, shares := signWith(b, testRand(4), pub, keys[:3], msg)
			for b.Loop() {
				if err := pub.VerifyShare(msg, list, shares[0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEd25519Sign is one plain crypto/ed25519 signature, for scale.
func BenchmarkEd25519Sign(b *testing.B) {
	_, priv, err := ed25519.GenerateKey(testRand(5))
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("thirty-two bytes of message hash")
	for b.Loop() {
		ed25519.Sign(priv, msg)
	}
}
