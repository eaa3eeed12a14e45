package sdjwt

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

func vcClaims(extra ...Member) Object {
	return append(Object{
		{"iss", "https://issuer.example"},
		{"iat", testNow.Unix()},
		{"vct", "https://credentials.example/membership"},
		StatusClaim(7, "https://issuer.example/statuslists/1"),
		{"member_name", SD{"Ada"}},
	}, extra...)
}

func TestVCRoundTrip(t *testing.T) {
	issued, err := IssueVC(vcClaims(), Issuance{Key: edKey(issuerKey), Holder: holderJWK(), Rand: seeded(3)})
	if err != nil {
		t.Fatal(err)
	}
	pres, err := Present(issued, Everything, binding(testNow))
	if err != nil {
		t.Fatal(err)
	}
	v := baseVerification()
	v.KeyBinding = kbPolicy()
	vc, err := VerifyVC(pres.String(), v)
	if err != nil {
		t.Fatal(err)
	}
	want := &StatusRef{Index: 7, URI: "https://issuer.example/statuslists/1"}
	if vc.Type != "https://credentials.example/membership" || vc.Issuer != "https://issuer.example" || !cmp.Equal(vc.Status, want) {
		t.Errorf("got vct %q iss %q status %+v", vc.Type, vc.Issuer, vc.Status)
	}
	if vc.Header.ExtraHeaders[jose.HeaderType] != VCType {
		t.Errorf("typ %v", vc.Header.ExtraHeaders[jose.HeaderType])
	}
	if vc.Claims["member_name"] != "Ada" {
		t.Errorf("claims %v", vc.Claims)
	}
}

func TestIssueVCRefuses(t *testing.T) {
	for _, tc := range []struct {
		desc   string
		claims Object
		typ    string
	}{
		{"vct disclosable", Object{{"vct", SD{"x"}}}, ""},
		{"iss disclosable", Object{{"vct", "x"}, {"iss", SD{"https://i.example"}}}, ""},
		{"status disclosable", Object{{"vct", "x"}, {"status", SD{Object{}}}}, ""},
		{"exp disclosable", Object{{"vct", "x"}, {"exp", SD{1}}}, ""},
		{"vct#integrity disclosable", Object{{"vct", "x"}, {"vct#integrity", SD{"sha256-x"}}}, ""},
		{"no vct", Object{{"iss", "https://i.example"}}, ""},
		{"vct not a string", Object{{"vct", 1}}, ""},
		{"iss not a URI", Object{{"vct", "x"}, {"iss", "issuer"}}, ""},
		{"status_list without idx", Object{{"vct", "x"}, {"status", Object{{"status_list", Object{{"uri", "https://s.example"}}}}}}, ""},
		{"negative idx", Object{{"vct", "x"}, StatusClaim(-1, "https://s.example")}, ""},
		{"other typ", Object{{"vct", "x"}}, "vc+sd-jwt"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := IssueVC(tc.claims, Issuance{Key: edKey(issuerKey), Type: tc.typ, Rand: seeded(1)})
			if !errors.Is(err, ErrClaims) {
				t.Fatalf("err = %v, want ErrClaims", err)
			}
		})
	}
}

// TestVerifyVCRefuses: an issuer that is not ours may disclose what SD-JWT VC fixes.
func TestVerifyVCRefuses(t *testing.T) {
	for _, tc := range []struct {
		desc   string
		claims Object
		typ    string
		want   error
	}{
		{"vct disclosed", Object{{"vct", SD{"x"}}}, VCType, ErrDisclosure},
		{"status disclosed", Object{{"vct", "x"}, {"status", SD{Object{}}}}, VCType, ErrDisclosure},
		{"no vct", Object{{"a", 1}}, VCType, ErrMalformed},
		{"typ of a plain SD-JWT", Object{{"vct", "x"}}, "example+sd-jwt", ErrSignature},
		{"legacy typ", Object{{"vct", "x"}}, "vc+sd-jwt", ErrSignature},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			// Issue (not IssueVC) builds what a careless issuer could send.
			tok, err := Issue(tc.claims, Issuance{Key: edKey(issuerKey), Type: tc.typ, Rand: seeded(1)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = VerifyVC(tok.String(), baseVerification())
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestVerifyVCRefusesDisclosedCnf: Issue will not write a cnf claim, so the payload
// with a disclosed cnf is signed by hand.
func TestVerifyVCRefusesDisclosedCnf(t *testing.T) {
	d := disc(t, "salt", "cnf", Object{})
	body, err := encode(Object{{"_sd", []string{Digest(d)}}, {"vct", "x"}})
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := sign(edKey(issuerKey), VCType, nil, body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyVC(jwt+"~"+d+"~", baseVerification()); !errors.Is(err, ErrDisclosure) {
		t.Fatalf("err = %v, want ErrDisclosure", err)
	}
	// The same Disclosure below the top level is an ordinary claim.
	body, _ = encode(Object{{"vct", "x"}, {"o", Object{{"_sd", []string{Digest(d)}}}}})
	jwt, _ = sign(edKey(issuerKey), VCType, nil, body)
	if _, err := VerifyVC(jwt+"~"+d+"~", baseVerification()); err != nil {
		t.Fatalf("nested cnf refused: %v", err)
	}
}

// TestStatusListReferencedToken: the Token Status List draft's referenced SD-JWT
// (Section 6.2) verifies with the RFC 9901 example key, and its status claim is the
// one StatusClaim writes.
func TestStatusListReferencedToken(t *testing.T) {
	dir := vectorDir(t, "token-status-list")
	var pub jose.JSONWebKey
	if err := pub.UnmarshalJSON([]byte(readText(t, filepath.Join(testdata, "sd-jwt/rfc9901-examples/issuer_public_key.jwk.json")))); err != nil {
		t.Fatal(err)
	}
	got, err := Verify(readText(t, filepath.Join(dir, "referenced_token_sd_jwt.txt")),
		Verification{IssuerKey: StaticKey(&pub), Type: "example+sd-jwt", Now: time.Unix(1683000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	var payload map[string]any
	readJSON(t, filepath.Join(dir, "referenced_token_sd_jwt_payload.json"), &payload)
	if diff := cmp.Diff(payload["status"], got.Claims["status"]); diff != "" {
		t.Errorf("status claim (-document +verified):\n%s", diff)
	}
	ours, err := encode(Object{StatusClaim(0, "https://example.com/statuslists/1")})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := decodeValue(ours)
	if diff := cmp.Diff(payload["status"], v.(map[string]any)["status"]); diff != "" {
		t.Errorf("StatusClaim (-document +ours):\n%s", diff)
	}
}
