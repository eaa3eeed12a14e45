package vcdm

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestEmbeddedContextsAreTheManifests: every embedded context is the file
// jsonld-contexts/manifest.json gives for its URL, with the digest there;
// the base and status contexts have the digests their RECs publish.
func TestEmbeddedContextsAreTheManifests(t *testing.T) {
	m := manifestEntries(t)
	published := map[string]string{
		BaseContext:   "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734", // VC DM 2.0 REC, B.1
		StatusContext: "fda5add353231e6a6884a46b12e6c75464281900cb348284d9c360f62381d9f7", // Bitstring Status List REC, 5.2
	}
	for u, f := range embedded {
		i := slices.IndexFunc(m, func(e manifestEntry) bool { return e.URL == u })
		if i < 0 || "contexts/"+m[i].File != f {
			t.Errorf("%s: embedded from %s, not the manifest's file", u, f)
			continue
		}
		doc, err := contextFiles.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d := sha256.Sum256(doc)
		if got := hex.EncodeToString(d[:]); got != m[i].SHA256 || published[u] != "" && got != published[u] {
			t.Errorf("%s: SHA-256 %s", u, got)
		}
	}
	for u := range published {
		if !Embedded(u) {
			t.Errorf("%s is not embedded", u)
		}
	}
	if _, err := os.Stat(filepath.Join("contexts", "SOURCE.md")); err != nil {
		t.Error(err)
	}
}

// TestUndefinedTerms: term lookup follows the contexts' maps — a claim
// no context defines is reported, one a @vocab or a term defines is not,
// type-scoped terms hold only on their own object, and JSON literals
// (@json, e.g. cnf.jwk) are not looked into.
func TestUndefinedTerms(t *testing.T) {
	c := map[string]any{
		"@context": []any{BaseContext}, "type": []any{"VerifiableCredential"}, "issuer": "did:example:i",
		"credentialSubject": map[string]any{"id": "did:example:s", "age_over_18": true,
			"nested": map[string]any{"statusPurpose": "x"}},
		"credentialStatus": map[string]any{"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
			"statusListIndex": "1", "statusListCredential": "https://example.com/l"},
		"cnf": map[string]any{"jwk": map[string]any{"kty": "OKP"}},
		"iat": 1, "statusPurpose": "not on a credential",
	}
	got, err := Undefined(c)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"credentialSubject.age_over_18", "credentialSubject.nested", "statusPurpose"}
	if !slices.Equal(got, want) {
		t.Fatalf("undefined %v, want %v", got, want)
	}
	c["@context"] = []any{BaseContext, map[string]any{"@vocab": "urn:x:kyc:v1#"}}
	if got, _ := Undefined(c); len(got) != 0 {
		t.Fatalf("with a @vocab, undefined %v", got)
	}
}
