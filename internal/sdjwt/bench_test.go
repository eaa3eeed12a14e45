package sdjwt

import (
	"crypto/ed25519"
	"testing"
)

// The cost of an SD-JWT VC next to the signature it rests on: issuing (salts, digests,
// one Ed25519 signature), presenting with Key Binding (one more signature), verifying a
// presentation (two Ed25519 verifications, the digests, the processing), and one plain
// Ed25519 verification for scale.

func BenchmarkIssue(b *testing.B) {
	opt := Issuance{Key: edKey(issuerKey), Holder: holderJWK(), Rand: seeded(1)}
	for b.Loop() {
		if _, err := IssueVC(vcClaims(), opt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPresent(b *testing.B) {
	issued, err := IssueVC(vcClaims(), Issuance{Key: edKey(issuerKey), Holder: holderJWK(), Rand: seeded(1)})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Present(issued, Everything, binding(testNow)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPresentation(b *testing.B) {
	issued, err := IssueVC(vcClaims(), Issuance{Key: edKey(issuerKey), Holder: holderJWK(), Rand: seeded(1)})
	if err != nil {
		b.Fatal(err)
	}
	pres, err := Present(issued, Everything, binding(testNow))
	if err != nil {
		b.Fatal(err)
	}
	s := pres.String()
	v := baseVerification()
	v.KeyBinding = kbPolicy()
	for b.Loop() {
		if _, err := VerifyVC(s, v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEd25519Verify(b *testing.B) {
	msg := []byte(issueSample(b).JWT)
	sig := ed25519.Sign(issuerKey, msg)
	pub := issuerKey.Public().(ed25519.PublicKey)
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("bad signature")
		}
	}
}
