package credentialcli

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agora-ledger/agora/internal/credential"
	"github.com/agora-ledger/agora/internal/sdjwt"
	"github.com/agora-ledger/agora/internal/vcdm"
)

// TestW3CRoundTrip issues the W3C form, reads it back as the credential
// it stands for, and refuses it with a part of the data model missing.
func TestW3CRoundTrip(t *testing.T) {
	_, issuer, _ := ed25519.GenerateKey(nil)
	_, holder, _ := ed25519.GenerateKey(nil)
	iat := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	claims, err := sdClaims([]byte(`{"age_over_18": true, "country": "JP"}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := issueW3C(issuer, "did:agora:i#key-0", "did:agora:i", "urn:x:kyc:v1", "did:agora:h", credential.StatusURI("l"), 2, 7,
		&jose.JSONWebKey{Key: holder.Public()}, claims, iat, iat.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if typOf(s) != w3cTyp {
		t.Fatalf("typ %q", typOf(s))
	}
	v := sdjwt.Verification{IssuerKey: headerKey, Now: iat.Add(time.Minute), Type: w3cTyp}
	ver, err := sdjwt.Verify(s, v)
	if err != nil {
		t.Fatal(err)
	}
	vc, sub, gotIAT, err := w3cVC(ver)
	if err != nil {
		t.Fatal(err)
	}
	if vc.Type != "urn:x:kyc:v1" || vc.Issuer != "did:agora:i" || sub != "did:agora:h" || gotIAT != iat.Unix() ||
		vc.Status.Index != 7 || vc.Status.URI != "urn:agora:credential:list:l" {
		t.Fatalf("read back %+v %q %d %+v", vc, sub, gotIAT, vc.Status)
	}
	for _, d := range vc.Disclosed {
		if n, ok := claimName(d.Path); !ok || n != "age_over_18" && n != "country" {
			t.Errorf("disclosure at %v", d.Path)
		}
	}
	for _, tt := range []struct{ name, drop, want string }{
		{"no @context", "@context", "@context"},
		{"no type", "type", "no type"},
		{"no validFrom", "validFrom", "validFrom"},
		{"no credentialStatus", "credentialStatus", "credentialStatus"},
		{"no issuer", "issuer", "no issuer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := map[string]any{}
			for k, x := range ver.Claims {
				c[k] = x
			}
			delete(c, tt.drop)
			if _, _, _, err := w3cVC(&sdjwt.Verified{Claims: c}); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("w3cVC = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestW3CValid checks the validity period at a time.
func TestW3CValid(t *testing.T) {
	c := map[string]any{"validFrom": "2026-01-01T00:00:00Z", "validUntil": "2026-02-01T00:00:00Z"}
	for _, tt := range []struct {
		at   string
		want string
	}{
		{"2026-01-15T00:00:00Z", ""},
		{"2025-12-31T23:59:30Z", ""}, // within the leeway
		{"2025-12-31T00:00:00Z", "not valid before"},
		{"2026-02-02T00:00:00Z", "expired at"},
	} {
		now, _ := time.Parse(time.RFC3339, tt.at)
		err := w3cValid(c, now, time.Minute)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("at %s: %v, want %q", tt.at, err, tt.want)
		}
	}
	if err := w3cValid(map[string]any{"validUntil": "soon"}, time.Now(), 0); err == nil {
		t.Error("a validUntil that is no date-time passed")
	}
}

// TestW3CTermsDefined: the vc+sd-jwt credential Agora issues (1- and
// 2-bit status) names only @context URLs whose documents are the W3C
// contexts vcdm embeds (jsonld-contexts/), and every member it has — in
// the signed payload and in the credential with everything disclosed —
// is a term those contexts define (vcdm's term lookup; no JSON-LD
// processor).
func TestW3CTermsDefined(t *testing.T) {
	_, issuer, _ := ed25519.GenerateKey(nil)
	_, holder, _ := ed25519.GenerateKey(nil)
	iat := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	claims, err := sdClaims([]byte(`{"age_over_18": true, "country": "JP", "address": {"locality": "Kyoto"}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, bits := range []uint8{1, 2} {
		s, err := issueW3C(issuer, "did:agora:i#key-0", "did:agora:i", "urn:x:kyc:v1", "did:agora:h", credential.StatusURI("l"), bits, 7,
			&jose.JSONWebKey{Key: holder.Public()}, claims, iat, iat.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		ver, err := sdjwt.Verify(s, sdjwt.Verification{IssuerKey: headerKey, Now: iat, Type: w3cTyp})
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(strings.Split(s, "~")[0], ".")
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var payload map[string]any
		if err := json.Unmarshal(raw, &payload); err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]map[string]any{"payload": payload, "disclosed": ver.Claims} {
			for _, e := range c["@context"].([]any) {
				if u, ok := e.(string); ok && !vcdm.Embedded(u) {
					t.Errorf("%d bits, %s: @context %s is not one of jsonld-contexts/", bits, name, u)
				}
			}
			if err := vcdm.Check(c); err != nil {
				t.Errorf("%d bits, %s: %v", bits, name, err)
			}
			undef, err := vcdm.Undefined(c)
			if err != nil || len(undef) != 0 {
				t.Errorf("%d bits, %s: undefined terms %v (%v)", bits, name, undef, err)
			}
		}
	}
}
