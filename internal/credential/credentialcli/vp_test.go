package credentialcli

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agora-ledger/agora/internal/credential"
	"github.com/agora-ledger/agora/internal/sdjwt"
	"github.com/agora-ledger/agora/internal/vcdm"
)

// vpFixture is a W3C credential issued to the holder key and the means
// to present it.
type vpFixture struct {
	issued sdjwt.Token
	holder ed25519.PrivateKey
	iat    time.Time
}

func newVPFixture(t testing.TB) *vpFixture {
	t.Helper()
	_, issuer, _ := ed25519.GenerateKey(nil)
	_, holder, _ := ed25519.GenerateKey(nil)
	iat := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	claims, err := sdClaims([]byte(`{"age_over_18": true, "country": "JP", "given_name": "Alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := issueW3C(issuer, "did:agora:i#key-0", "did:agora:i", "urn:x:kyc:v1", "did:agora:h", credential.StatusURI("l"), 2, 7,
		&jose.JSONWebKey{Key: holder.Public()}, claims, iat, iat.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := sdjwt.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return &vpFixture{issued: tok, holder: holder, iat: iat}
}

// credential is the issued credential disclosing only the claims named.
func (f *vpFixture) credential(t testing.TB, claims ...string) sdjwt.Token {
	t.Helper()
	cred, err := sdjwt.Present(f.issued, func(p sdjwt.Path) bool {
		n, ok := claimName(p)
		return ok && strings.Contains(strings.Join(claims, ","), n)
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// signVP signs payload as a vp+sd-jwt presentation with key: what a
// holder, or an attacker, can make.
func signVP(t *testing.T, key ed25519.PrivateKey, payload sdjwt.Object) string {
	t.Helper()
	tok, err := sdjwt.Issue(payload, sdjwt.Issuance{Key: jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, Type: vpTyp, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	return tok.String()
}

func vpPayload(cred string, aud, nonce string, iat time.Time) sdjwt.Object {
	return sdjwt.Object{
		{Name: "@context", Value: []any{vcdm.BaseContext}},
		{Name: "type", Value: []any{"VerifiablePresentation"}},
		{Name: "holder", Value: "did:agora:h"},
		{Name: "verifiableCredential", Value: []any{map[string]any{"@context": vcdm.BaseContext,
			"id": "data:" + vcMedia + "," + cred, "type": "EnvelopedVerifiableCredential"}}},
		{Name: "aud", Value: aud}, {Name: "nonce", Value: nonce}, {Name: "iat", Value: iat.Unix()},
	}
}

func set(o sdjwt.Object, name string, v any) sdjwt.Object {
	for i := range o {
		if o[i].Name == name {
			if v == nil {
				return append(o[:i:i], o[i+1:]...)
			}
			o[i].Value = v
			return o
		}
	}
	return append(o, sdjwt.Member{Name: name, Value: v})
}

// TestPresentVP makes the W3C presentation as 'agora vc present --format
// vp+sd-jwt' does and checks its form: typ and cty, a VerifiablePresentation
// that vcdm accepts, one EnvelopedVerifiableCredential whose data: URL is
// the vc+sd-jwt credential with the chosen disclosures and no key-binding
// JWT, aud, nonce and iat in the signed payload, signed by the holder's
// key; verifyVP passes every step and reads the credential back.
func TestPresentVP(t *testing.T) {
	f := newVPFixture(t)
	cred := f.credential(t, "country")
	now := f.iat.Add(time.Hour)
	vp, err := presentVP(cred, "did:agora:h", f.holder, "exchange-b", "n-1", now)
	if err != nil {
		t.Fatal(err)
	}
	if typOf(vp) != vpTyp || !strings.HasSuffix(vp, "~") || strings.Count(vp, "~") != 1 {
		t.Fatalf("not a vp+sd-jwt SD-JWT without disclosures: typ %q, %q", typOf(vp), vp[len(vp)-20:])
	}
	h, _ := base64.RawURLEncoding.DecodeString(strings.Split(vp, ".")[0])
	var hdr map[string]any
	json.Unmarshal(h, &hdr)
	if hdr["cty"] != "vp" || hdr["alg"] != "EdDSA" {
		t.Fatalf("header %v", hdr)
	}
	ver, err := sdjwt.Verify(vp, sdjwt.Verification{IssuerKey: sdjwt.StaticKey(f.holder.Public()), Type: vpTyp, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := vcdm.CheckPresentation(ver.Claims); err != nil {
		t.Fatal(err)
	}
	if ver.Claims["aud"] != "exchange-b" || ver.Claims["nonce"] != "n-1" || ver.Claims["iat"] != json.Number(fmt.Sprint(now.Unix())) {
		t.Fatalf("aud, nonce, iat: %v %v %v", ver.Claims["aud"], ver.Claims["nonce"], ver.Claims["iat"])
	}
	got, err := envelope(vp)
	if err != nil || got != cred.String() {
		t.Fatalf("envelope = %q, %v; want the credential presented", got, err)
	}
	r := &report{}
	vc, sub, iat, ok := verifyVP(r, vp, "exchange-b", "n-1", 10*time.Minute, now.Add(time.Minute))
	if !ok || r.Reason != "" {
		t.Fatalf("refused: %s", r.Reason)
	}
	var steps []string
	for _, s := range r.Steps {
		steps = append(steps, s.Name)
	}
	if want := "envelope,signatures,holder signature,audience,nonce,freshness,data model,holder"; strings.Join(steps, ",") != want {
		t.Fatalf("steps %s, want %s", strings.Join(steps, ","), want)
	}
	if sub != "did:agora:h" || iat != f.iat.Unix() || vc.Type != "urn:x:kyc:v1" || len(vc.Disclosed) != 1 ||
		vc.Disclosed[0].Disclosure.Name != "country" {
		t.Fatalf("read back %q %d %+v", sub, iat, vc)
	}
	if k, err := keyOfJWK(vc.Holder); err != nil || string(k.Key) != string(f.holder.Public().(ed25519.PublicKey)) {
		t.Fatalf("holder key %v, %v", k, err)
	}
}

// TestVerifyVPRefuses spoils a presentation one way at a time and checks
// the step that refuses it and why.
func TestVerifyVPRefuses(t *testing.T) {
	f := newVPFixture(t)
	_, other, _ := ed25519.GenerateKey(nil)
	now := f.iat.Add(time.Hour)
	cred := f.credential(t, "country").String()
	good := func() sdjwt.Object { return vpPayload(cred, "exchange-b", "n-1", now) }
	for _, tt := range []struct {
		name, step, reason string
		make               func() string
	}{
		{"as it should be", "", "", func() string { return signVP(t, f.holder, good()) }},
		{"holder an object", "", "", func() string {
			return signVP(t, f.holder, set(good(), "holder", map[string]any{"id": "did:agora:h"}))
		}},
		{"no holder named", "", "", func() string { return signVP(t, f.holder, set(good(), "holder", nil)) }},
		{"aud among several", "", "", func() string {
			return signVP(t, f.holder, set(good(), "aud", []any{"exchange-a", "exchange-b"}))
		}},
		{"signed by another key than the cnf key", "holder signature", "not signed by the key the credential binds (cnf)", func() string {
			return signVP(t, other, good())
		}},
		{"another audience", "audience", `aud is "exchange-c", want "exchange-b"`, func() string {
			return signVP(t, f.holder, set(good(), "aud", "exchange-c"))
		}},
		{"no audience", "audience", "names no audience", func() string { return signVP(t, f.holder, set(good(), "aud", nil)) }},
		{"another nonce", "nonce", "does not match", func() string { return signVP(t, f.holder, set(good(), "nonce", "n-2")) }},
		{"too old", "freshness", "older than 10m0s", func() string {
			return signVP(t, f.holder, set(good(), "iat", now.Add(-15*time.Minute).Unix()))
		}},
		{"from the future", "freshness", "issued in the future", func() string {
			return signVP(t, f.holder, set(good(), "iat", now.Add(time.Hour).Unix()))
		}},
		{"no iat", "freshness", "no issuance time", func() string { return signVP(t, f.holder, set(good(), "iat", nil)) }},
		{"the payload tampered after signing", "holder signature", "not signed by the key", func() string {
			vp := signVP(t, f.holder, good())
			parts := strings.Split(vp, ".")
			raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
			if !strings.Contains(string(raw), `"n-1"`) {
				t.Fatalf("no nonce in %s", raw)
			}
			raw = []byte(strings.Replace(string(raw), `"n-1"`, `"n-9"`, 1))
			parts[1] = base64.RawURLEncoding.EncodeToString(raw)
			return strings.Join(parts, ".")
		}},
		{"the enveloped credential tampered", "signatures", "the enveloped credential", func() string {
			// A disclosure the issuer never made, in place of one it did.
			forged := sdjwt.Disclosure{Salt: "c2FsdA", Name: "country", Value: "FR"}
			enc, _ := json.Marshal([]any{forged.Salt, forged.Name, forged.Value})
			tok, _ := sdjwt.Parse(cred)
			tok.Disclosures = []string{base64.RawURLEncoding.EncodeToString(enc)}
			return signVP(t, f.holder, vpPayload(tok.String(), "exchange-b", "n-1", now))
		}},
		{"a key-binding JWT attached", "envelope", "carries no key-binding JWT", func() string {
			return signVP(t, f.holder, good()) + strings.Split(cred, "~")[0]
		}},
		{"two credentials", "envelope", "2 credentials", func() string {
			env := map[string]any{"@context": vcdm.BaseContext, "id": "data:" + vcMedia + "," + cred, "type": "EnvelopedVerifiableCredential"}
			return signVP(t, f.holder, set(good(), "verifiableCredential", []any{env, env}))
		}},
		{"an embedded credential", "envelope", "not an EnvelopedVerifiableCredential", func() string {
			return signVP(t, f.holder, set(good(), "verifiableCredential", []any{map[string]any{"@context": []any{vcdm.BaseContext},
				"type": []any{"VerifiableCredential"}, "issuer": "did:agora:i", "credentialSubject": map[string]any{"id": "did:agora:h"}}}))
		}},
		{"another media type", "envelope", "not application/vc+sd-jwt", func() string {
			return signVP(t, f.holder, set(good(), "verifiableCredential", []any{map[string]any{"@context": vcdm.BaseContext,
				"id": "data:application/dc+sd-jwt," + cred, "type": "EnvelopedVerifiableCredential"}}))
		}},
		{"not a VerifiablePresentation", "data model", "type does not include VerifiablePresentation", func() string {
			return signVP(t, f.holder, set(good(), "type", []any{"VerifiableCredential"}))
		}},
		{"a holder that is no URL", "data model", `holder "alice" is not a URL`, func() string {
			return signVP(t, f.holder, set(good(), "holder", "alice"))
		}},
		{"another holder than the subject", "holder", "holder did:agora:mallory is not the credential's subject did:agora:h", func() string {
			return signVP(t, f.holder, set(good(), "holder", "did:agora:mallory"))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := &report{}
			_, _, _, ok := verifyVP(r, tt.make(), "exchange-b", "n-1", 10*time.Minute, now)
			if tt.step == "" {
				if !ok || r.Reason != "" {
					t.Fatalf("refused: %s", r.Reason)
				}
				return
			}
			if ok || !strings.HasPrefix(r.Reason, tt.step+": ") || !strings.Contains(r.Reason, tt.reason) {
				t.Fatalf("ok %v, reason %q; want step %q saying %q", ok, r.Reason, tt.step, tt.reason)
			}
		})
	}
}

// FuzzVerifyVP gives verifyVP any text, seeded with a presentation that
// passes: no panic, and a presentation either passes every step or is
// refused for the first one that failed.
func FuzzVerifyVP(f *testing.F) {
	fx := newVPFixture(f)
	now := fx.iat.Add(time.Hour)
	vp, err := presentVP(fx.credential(f, "country"), "did:agora:h", fx.holder, "a", "n", now)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(vp)
	f.Add(strings.TrimSuffix(vp, "~"))
	f.Fuzz(func(t *testing.T, pres string) {
		r := &report{}
		_, _, _, ok := verifyVP(r, pres, "a", "n", 10*time.Minute, now)
		last := r.Steps[len(r.Steps)-1]
		if ok != (r.Reason == "") || ok != last.OK || !ok && r.Reason != last.Name+": "+last.Detail {
			t.Fatalf("ok %v, reason %q, last step %+v", ok, r.Reason, last)
		}
	})
}

// TestW3CPresentation: what tools/crosscheck hands the npm libraries
// verifies with Agora's own checks too, and discloses only what keep
// names.
func TestW3CPresentation(t *testing.T) {
	_, issuer, _ := ed25519.GenerateKey(nil)
	_, holder, _ := ed25519.GenerateKey(nil)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	claims, err := sdClaims([]byte(`{"age_over_18": true, "country": "JP", "given_name": "Alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	keep := func(p sdjwt.Path) bool { n, ok := claimName(p); return ok && n != "given_name" }
	cred, vp, err := W3CPresentation(issuer, holder, "did:agora:i", "urn:x:kyc:v1", "did:agora:h", credential.StatusURI("l"), 7,
		claims, keep, "exchange-b", "n-1", now)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := envelope(vp); err != nil || got != cred {
		t.Fatalf("envelope = %q, %v; want the credential", got, err)
	}
	r := &report{}
	vc, sub, _, ok := verifyVP(r, vp, "exchange-b", "n-1", time.Minute, now)
	if !ok {
		t.Fatalf("refused: %s", r.Reason)
	}
	var names []string
	for _, d := range vc.Disclosed {
		names = append(names, d.Disclosure.Name)
	}
	slices.Sort(names)
	if sub != "did:agora:h" || strings.Join(names, ",") != "age_over_18,country" {
		t.Fatalf("subject %s, disclosed %v", sub, names)
	}
}
