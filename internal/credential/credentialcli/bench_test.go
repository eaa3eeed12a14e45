package credentialcli

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agora-ledger/agora/internal/credential"
	"github.com/agora-ledger/agora/internal/sdjwt"
)

// benchCredential issues a KYC credential of four disclosable claims in
// the form typ and presents two of them.
func benchCredential(b *testing.B, typ string) (issue func() (string, error), pres string, now time.Time) {
	_, issuer, _ := ed25519.GenerateKey(nil)
	_, holder, _ := ed25519.GenerateKey(nil)
	now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	issue, pres = kycCredential(b, typ, issuer, holder, "did:agora:i", "did:agora:h", credential.StatusURI("l"), now)
	return issue, pres, now
}

// kycCredential is benchCredential's credential: iss's, signed by
// issuer (iss#key-0), bound to holder, sub's; entry 7 of the list at uri.
func kycCredential(b *testing.B, typ string, issuer, holder ed25519.PrivateKey, iss, sub, uri string, now time.Time) (issue func() (string, error), pres string) {
	claims, err := sdClaims([]byte(`{"given_name": "Alice", "family_name": "Sato", "age_over_18": true, "country": "JP"}`))
	if err != nil {
		b.Fatal(err)
	}
	issue = func() (string, error) {
		if typ == w3cTyp {
			return issueW3C(issuer, iss+"#key-0", iss, "urn:x:kyc:v1", sub, uri, 2, 7,
				&jose.JSONWebKey{Key: holder.Public()}, claims, now, now.Add(time.Hour))
		}
		return issueVC(issuer, iss+"#key-0", iss, "urn:x:kyc:v1", sub, uri, 7,
			&jose.JSONWebKey{Key: holder.Public()}, claims, now, now.Add(time.Hour))
	}
	s, err := issue()
	if err != nil {
		b.Fatal(err)
	}
	tok, err := sdjwt.Parse(s)
	if err != nil {
		b.Fatal(err)
	}
	p, err := sdjwt.Present(tok, func(p sdjwt.Path) bool {
		n, ok := claimName(p)
		return ok && (n == "age_over_18" || n == "country")
	}, &sdjwt.Binding{Key: jose.SigningKey{Algorithm: jose.EdDSA, Key: holder}, Audience: "a", Nonce: "n", IssuedAt: now})
	if err != nil {
		b.Fatal(err)
	}
	return issue, p.String()
}

// BenchmarkIssue measures the signing of a credential (the ledger's
// allocation of its status entry, one transaction for up to 1000, apart).
func BenchmarkIssue(b *testing.B) {
	for _, typ := range []string{sdjwt.VCType, w3cTyp} {
		b.Run(typ, func(b *testing.B) {
			issue, _, _ := benchCredential(b, typ)
			for b.Loop() {
				if _, err := issue(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "issued/s")
		})
	}
}

// BenchmarkVerifyOffline measures what vc verify does offline apart from
// the ledger's proven answer: the signatures, the disclosures and the
// key-binding JWT, read in either form.
func BenchmarkVerifyOffline(b *testing.B) {
	for _, typ := range []string{sdjwt.VCType, w3cTyp} {
		b.Run(typ, func(b *testing.B) {
			_, pres, now := benchCredential(b, typ)
			v := sdjwt.Verification{IssuerKey: headerKey, Now: now,
				KeyBinding: &sdjwt.KeyBindingPolicy{Audience: "a", Nonce: "n", MaxAge: time.Minute}}
			for b.Loop() {
				if _, _, _, err := verifySD(pres, v); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verified/s")
		})
	}
}
