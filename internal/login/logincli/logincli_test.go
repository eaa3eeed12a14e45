package logincli

import (
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/credential/credentialcli"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/login"
)

// TestRefusalOf maps each failed step of 'agora vc verify' to the
// relying party's stable code.
func TestRefusalOf(t *testing.T) {
	for _, tt := range []struct{ step, detail, want string }{
		{"signatures", "key binding invalid: issued at 2026-01-01T00:00:00Z, older than 5m0s", login.CodeStale},
		{"signatures", "issuer signature invalid", login.CodeTampered},
		{"issuer key", "not a key", login.CodeIssuerKey},
		{"accreditation", "not an accredited issuer", login.CodeAccreditation},
		{"type", "not a registered credential type", login.CodeType},
		{"schema", "country: not a string", login.CodeType},
		{"status", "revoked since 2026-01-01T00:00:00Z (entry 0 of kyc-1)", login.CodeRevoked},
		{"status", "suspended since 2026-01-01T00:00:00Z (entry 0 of kyc-1)", login.CodeSuspended},
		{"status", "entry 9 of kyc-1 was not allocated", login.CodeStatus},
		{"binding", "the cnf key does not act for the subject", login.CodeBinding},
		{"proof", "?", login.CodeUnproven},
	} {
		if got := refusalOf(credentialcli.Step{Name: tt.step, Detail: tt.detail}); got != tt.want {
			t.Errorf("%s: %s is %s, want %s", tt.step, tt.detail, got, tt.want)
		}
	}
}

// TestAuthKey reads an authentication key from a DID document, and
// refuses a key of another relationship, a revoked one, and one that is
// not Ed25519.
func TestAuthKey(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	const did = "did:agora:alice"
	x := base64.RawURLEncoding.EncodeToString(pub)
	doc := &identity.Document{ID: did,
		VerificationMethod: []identity.VerificationMethod{
			{ID: did + "#key-0", Type: "Multikey"},
			{ID: did + "#key-0-jwk", Type: "JsonWebKey2020", PublicKeyJwk: &identity.JWK{Kty: "OKP", Crv: "Ed25519", X: x}},
			{ID: did + "#key-1-jwk", Type: "JsonWebKey2020", PublicKeyJwk: &identity.JWK{Kty: "OKP", Crv: "Ed25519", X: x}},
			{ID: did + "#key-2-jwk", Type: "JsonWebKey2020", PublicKeyJwk: &identity.JWK{Kty: "EC", Crv: "secp256k1", X: x, Y: x}},
		},
		Authentication:  []string{did + "#key-0", did + "#key-0-jwk", did + "#key-2", did + "#key-2-jwk"},
		AssertionMethod: []string{did + "#key-1", did + "#key-1-jwk"},
	}
	k, err := authKey(doc, did+"#key-0")
	if err != nil || !k.Equal(pub) {
		t.Fatalf("key-0: %v, %v", k, err)
	}
	for kid, want := range map[string]string{
		did + "#key-1": "not an authentication key",
		did + "#key-2": "logins take Ed25519",
		did + "#key-9": "not an authentication key",
	} {
		if _, err := authKey(doc, kid); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", kid, err, want)
		}
	}
}

// TestSubjectOf reads the subject of either form of credential.
func TestSubjectOf(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tt := range []struct{ payload, want string }{
		{`{"sub": "did:agora:a"}`, "did:agora:a"},
		{`{"credentialSubject": {"id": "did:agora:b"}}`, "did:agora:b"},
		{`{}`, ""},
	} {
		if got := subjectOf("h." + enc(tt.payload) + ".s~d~kb"); got != tt.want {
			t.Errorf("%s: %q", tt.payload, got)
		}
	}
}
