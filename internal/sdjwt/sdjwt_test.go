package sdjwt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

var (
	testNow   = time.Unix(1_800_000_000, 0)
	issuerKey = ed25519.NewKeyFromSeed(make([]byte, 32))
	holderKey = ed25519.NewKeyFromSeed([]byte("holder-key-seed-0123456789abcdef"))
	otherKey  = ed25519.NewKeyFromSeed([]byte("other--key-seed-0123456789abcdef"))
)

func seeded(n byte) *rand.ChaCha8 { return rand.NewChaCha8([32]byte{n}) }

func edKey(k ed25519.PrivateKey) jose.SigningKey {
	return jose.SigningKey{Algorithm: jose.EdDSA, Key: k}
}

func holderJWK() *jose.JSONWebKey { return &jose.JSONWebKey{Key: holderKey.Public()} }

// disc encodes a Disclosure the way Issue does.
func disc(t testing.TB, parts ...any) string {
	t.Helper()
	j, err := encode(parts)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(j)
}

// signedJWT signs an arbitrary payload as the issuer.
func signedJWT(t testing.TB, payload Object) string {
	t.Helper()
	body, err := encode(payload)
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := sign(edKey(issuerKey), "example+sd-jwt", nil, body)
	if err != nil {
		t.Fatal(err)
	}
	return jwt
}

func baseVerification() Verification {
	return Verification{IssuerKey: StaticKey(issuerKey.Public()), Now: testNow}
}

func kbPolicy() *KeyBindingPolicy {
	return &KeyBindingPolicy{Audience: "https://verifier.example", Nonce: "n-0S6_WzA2Mj", MaxAge: 5 * time.Minute}
}

func binding(at time.Time) *Binding {
	return &Binding{Key: edKey(holderKey), Audience: "https://verifier.example", Nonce: "n-0S6_WzA2Mj", IssuedAt: at}
}

func sampleClaims() Object {
	return Object{
		{"iss", "https://issuer.example"},
		{"iat", testNow.Unix() - 60},
		{"exp", testNow.Unix() + 3600},
		{"given_name", SD{"Ada"}},
		{"family_name", SD{"Lovelace"}},
		{"address", SD{Object{{"locality", SD{"London"}}, {"country", SD{"GB"}}}}},
		{"nationalities", []any{SD{"GB"}, "FR"}},
	}
}

func issueSample(t testing.TB) Token {
	t.Helper()
	tok, err := Issue(sampleClaims(), Issuance{Key: edKey(issuerKey), Type: "example+sd-jwt", Holder: holderJWK(), Rand: seeded(1)})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRoundTripEd25519(t *testing.T) {
	issued := issueSample(t)
	keep := func(p Path) bool { return p.String() == "/address/locality" || p.String() == "/nationalities/0" }
	pres, err := Present(issued, keep, binding(testNow))
	if err != nil {
		t.Fatal(err)
	}
	v := baseVerification()
	v.Type = "example+sd-jwt"
	v.KeyBinding = kbPolicy()
	got, err := Verify(pres.String(), v)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"iss":           "https://issuer.example",
		"iat":           normalize(t, testNow.Unix()-60),
		"exp":           normalize(t, testNow.Unix()+3600),
		"address":       map[string]any{"locality": "London"}, // the parent came along
		"nationalities": []any{"GB", "FR"},
		"cnf":           normalize(t, map[string]any{"jwk": holderJWK()}),
	}
	if diff := cmp.Diff(want, got.Claims); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	if len(pres.Disclosures) != 3 {
		t.Errorf("presented %d disclosures, want 3 (address, locality, GB)", len(pres.Disclosures))
	}
	if got.Holder == nil {
		t.Error("no holder key reported")
	}
	var paths []string
	for _, d := range got.Disclosed {
		paths = append(paths, d.Path.String())
	}
	if diff := cmp.Diff([]string{"/nationalities/0", "/address", "/address/locality"}, paths); diff != "" {
		t.Errorf("disclosed paths (-want +got):\n%s", diff)
	}
}

func TestIssueES256AndDecoys(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), seeded(9))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Issue(sampleClaims(), Issuance{
		Key: jose.SigningKey{Algorithm: jose.ES256, Key: k}, Rand: seeded(2), MinDecoys: 2, MaxDecoys: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := UnverifiedPayload(tok.JWT)
	if err != nil {
		t.Fatal(err)
	}
	// Top level: 3 disclosable members and 2..4 decoys.
	if n := len(payload["_sd"].([]any)); n < 5 || n > 7 {
		t.Errorf("top-level _sd has %d digests, want 3 claims + 2..4 decoys", n)
	}
	v := baseVerification()
	v.IssuerKey = StaticKey(&k.PublicKey)
	got, err := Verify(tok.String(), v)
	if err != nil {
		t.Fatal(err)
	}
	if got.Claims["given_name"] != "Ada" || got.Claims["address"].(map[string]any)["country"] != "GB" {
		t.Errorf("claims: %v", got.Claims)
	}
}

func TestIssueRefuses(t *testing.T) {
	for _, tc := range []struct {
		desc   string
		claims Object
		opt    Issuance
	}{
		{"no randomness", Object{{"a", SD{1}}}, Issuance{Key: edKey(issuerKey)}},
		{"reserved _sd", Object{{"_sd", "x"}}, Issuance{Key: edKey(issuerKey), Rand: seeded(1)}},
		{"reserved ...", Object{{"o", Object{{"...", "x"}}}}, Issuance{Key: edKey(issuerKey), Rand: seeded(1)}},
		{"duplicate member", Object{{"a", 1}, {"a", SD{2}}}, Issuance{Key: edKey(issuerKey), Rand: seeded(1)}},
		{"cnf given as a claim", Object{{"cnf", "x"}}, Issuance{Key: edKey(issuerKey), Rand: seeded(1)}},
		{"SD as a bare value", Object{{"a", []any{[]any{SD{SD{1}}}}}}, Issuance{Key: edKey(issuerKey), Rand: seeded(1)}},
		{"decoy range reversed", Object{{"a", 1}}, Issuance{Key: edKey(issuerKey), Rand: seeded(1), MinDecoys: 3, MaxDecoys: 1}},
		{"unsupported value", Object{{"a", struct{}{}}}, Issuance{Key: edKey(issuerKey), Rand: seeded(1)}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if _, err := Issue(tc.claims, tc.opt); !errors.Is(err, ErrClaims) {
				t.Fatalf("err = %v, want ErrClaims", err)
			}
		})
	}
}

// TestVerifyRefuses holds every rule of RFC 9901 Sections 7.1 and 7.3 to a presentation
// that breaks it.
func TestVerifyRefuses(t *testing.T) {
	dGiven := disc(t, "salt-given", "given_name", "Ada")
	dElem := disc(t, "salt-elem", "GB")
	dSD := disc(t, "salt-sd", "_sd", "x")
	dDots := disc(t, "salt-dots", "...", "x")
	dClash := disc(t, "salt-clash", "iss", "https://evil.example")
	dNested := disc(t, "salt-nested", "address", Object{{"_sd", []string{Digest(dGiven)}}})
	issued := issueSample(t)
	withKB, err := Present(issued, Everything, binding(testNow))
	if err != nil {
		t.Fatal(err)
	}
	tamper := func(f func(*Token)) string {
		c := withKB
		c.Disclosures = append([]string(nil), c.Disclosures...)
		f(&c)
		return c.String()
	}
	base := Object{{"iss", "https://issuer.example"}, {"_sd_alg", HashAlg}}
	with := func(extra ...Member) Object { return append(append(Object{}, extra...), base...) }
	noneJWT := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"x"}`)) + "."
	dTrailing := base64.RawURLEncoding.EncodeToString([]byte(`["salt-trailing","given_name","Ada"] {}`))
	trailingPayload := func() string {
		body, _ := encode(base)
		jwt, err := sign(edKey(issuerKey), "example+sd-jwt", nil, append(body, " {}"...))
		if err != nil {
			t.Fatal(err)
		}
		return jwt + "~"
	}()
	otherIssuer, err := Issue(sampleClaims(), Issuance{Key: edKey(otherKey), Rand: seeded(1)})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		desc string
		in   string
		v    func(*Verification)
		want error
	}{
		{"no tilde", signedJWT(t, base), nil, ErrMalformed},
		{"empty disclosure", signedJWT(t, base) + "~~", nil, ErrMalformed},
		{"disclosure not base64url", signedJWT(t, base) + "~a+b~", nil, ErrMalformed},
		{"disclosure with padding", signedJWT(t, with(Member{"_sd", []string{Digest(dGiven + "=")}})) + "~" + dGiven + "=~", nil, ErrMalformed},
		{"disclosure of four elements", signedJWT(t, base) + "~" + disc(t, "s", "a", 1, 2) + "~", nil, ErrMalformed},
		{"disclosure with data after its array", signedJWT(t, with(Member{"_sd", []string{Digest(dTrailing)}})) + "~" + dTrailing + "~", nil, ErrMalformed},
		{"payload with data after its object", trailingPayload, nil, ErrMalformed},
		{"salt not a string", signedJWT(t, base) + "~" + disc(t, 1, "a", 1) + "~", nil, ErrMalformed},
		{"_sd not an array", signedJWT(t, with(Member{"_sd", "x"})) + "~", nil, ErrMalformed},
		{"unreferenced disclosure", signedJWT(t, base) + "~" + dGiven + "~", nil, ErrDisclosure},
		{"same disclosure twice", signedJWT(t, with(Member{"_sd", []string{Digest(dGiven)}})) + "~" + dGiven + "~" + dGiven + "~", nil, ErrDisclosure},
		{"digest twice in _sd", signedJWT(t, with(Member{"_sd", []string{Digest(dGiven), Digest(dGiven)}})) + "~" + dGiven + "~", nil, ErrDisclosure},
		{"undisclosed digest twice", signedJWT(t, with(Member{"_sd", []string{"abc"}}, Member{"o", Object{{"_sd", []string{"abc"}}}})) + "~", nil, ErrDisclosure},
		{"digest in _sd and inside a disclosure", signedJWT(t, with(Member{"_sd", []string{Digest(dGiven), Digest(dNested)}})) + "~" + dGiven + "~" + dNested + "~", nil, ErrDisclosure},
		{"claim name _sd", signedJWT(t, with(Member{"_sd", []string{Digest(dSD)}})) + "~" + dSD + "~", nil, ErrDisclosure},
		{"claim name ...", signedJWT(t, with(Member{"_sd", []string{Digest(dDots)}})) + "~" + dDots + "~", nil, ErrDisclosure},
		{"claim name clashes", signedJWT(t, with(Member{"_sd", []string{Digest(dClash)}})) + "~" + dClash + "~", nil, ErrDisclosure},
		{"array disclosure in _sd", signedJWT(t, with(Member{"_sd", []string{Digest(dElem)}})) + "~" + dElem + "~", nil, ErrDisclosure},
		{"object disclosure in array", signedJWT(t, with(Member{"a", []any{Object{{"...", Digest(dGiven)}}}})) + "~" + dGiven + "~", nil, ErrDisclosure},
		{"_sd_alg sha-512", signedJWT(t, Object{{"_sd_alg", "sha-512"}}) + "~", nil, ErrDisclosure},
		{"other issuer", otherIssuer.String(), nil, ErrSignature},
		{"alg none", noneJWT + "~", nil, ErrSignature},
		{"alg not allowed", signedJWT(t, base) + "~", func(v *Verification) { v.Algorithms = []jose.SignatureAlgorithm{jose.ES256} }, ErrSignature},
		{"wrong typ", signedJWT(t, base) + "~", func(v *Verification) { v.Type = "dc+sd-jwt" }, ErrSignature},
		{"tampered payload", func() string {
			parts := strings.SplitN(issued.String(), ".", 3)
			payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
			forged := bytes.Replace(payload, []byte("https://issuer.example"), []byte("https://issuer.exampl3"), 1)
			if bytes.Equal(forged, payload) {
				t.Fatal("the sample's payload names no https://issuer.example")
			}
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]
		}(), nil, ErrSignature},
		{"payload prefixed by another object", strings.Replace(issued.String(), ".", ".e30", 1), nil, ErrMalformed},
		{"expired", signedJWT(t, with(Member{"exp", testNow.Unix()})) + "~", nil, ErrExpired},
		{"not yet valid", signedJWT(t, with(Member{"nbf", testNow.Unix() + 10})) + "~", nil, ErrExpired},
		{"issued in the future", signedJWT(t, with(Member{"iat", testNow.Unix() + 10})) + "~", nil, ErrExpired},
		{"exp not a number", signedJWT(t, with(Member{"exp", "soon"})) + "~", nil, ErrMalformed},
		{"KB-JWT not asked for", withKB.String(), nil, ErrKeyBinding},
		{"KB-JWT missing", issued.String(), func(v *Verification) { v.KeyBinding = kbPolicy() }, ErrKeyBinding},
		{"KB wrong audience", withKB.String(), func(v *Verification) { v.KeyBinding = kbPolicy(); v.KeyBinding.Audience = "https://other.example" }, ErrKeyBinding},
		{"KB wrong nonce", withKB.String(), func(v *Verification) { v.KeyBinding = kbPolicy(); v.KeyBinding.Nonce = "other" }, ErrKeyBinding},
		{"KB too old", withKB.String(), func(v *Verification) { v.KeyBinding = kbPolicy(); v.Now = testNow.Add(6 * time.Minute) }, ErrKeyBinding},
		{"KB from the future", withKB.String(), func(v *Verification) { v.KeyBinding = kbPolicy(); v.Now = testNow.Add(-time.Minute) }, ErrKeyBinding},
		{"KB sd_hash after a disclosure was dropped", tamper(func(c *Token) { c.Disclosures = c.Disclosures[1:] }), func(v *Verification) { v.KeyBinding = kbPolicy() }, ErrKeyBinding},
		{"KB signed by another key", tamper(func(c *Token) {
			b := binding(testNow)
			b.Key = edKey(otherKey)
			c.KeyBinding, _ = keyBindingJWT(c.sdJWT(), *b)
		}), func(v *Verification) { v.KeyBinding = kbPolicy() }, ErrKeyBinding},
		{"KB wrong typ", tamper(func(c *Token) {
			body, _ := encode(Object{{"nonce", "n-0S6_WzA2Mj"}, {"aud", "https://verifier.example"}, {"iat", testNow.Unix()}, {"sd_hash", Digest(c.sdJWT())}})
			c.KeyBinding, _ = sign(edKey(holderKey), "JWT", nil, body)
		}), func(v *Verification) { v.KeyBinding = kbPolicy() }, ErrKeyBinding},
		{"KB without cnf", func() string {
			tok, _ := Issue(sampleClaims(), Issuance{Key: edKey(issuerKey), Rand: seeded(1)})
			p, _ := Present(tok, Nothing, binding(testNow))
			return p.String()
		}(), func(v *Verification) { v.KeyBinding = kbPolicy() }, ErrKeyBinding},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			v := baseVerification()
			if tc.v != nil {
				tc.v(&v)
			}
			_, err := Verify(tc.in, v)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestVerifyNeedsKeyAndTime(t *testing.T) {
	issued := issueSample(t)
	if _, err := Verify(issued.String(), Verification{IssuerKey: StaticKey(issuerKey.Public())}); err == nil {
		t.Fatal("verified without a time")
	}
}

func TestParseRoundTrip(t *testing.T) {
	for _, s := range []string{"a.b.c~", "a.b.c~d1~d2~", "a.b.c~d1~x.y.z"} {
		tok, err := Parse(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if tok.String() != s {
			t.Errorf("Parse(%q).String() = %q", s, tok.String())
		}
	}
}

// TestSection4InlineExamples: the Disclosures given in RFC 9901's prose decode to the
// printed arrays; each equivalent encoding of the same claim is accepted.
func TestSection4InlineExamples(t *testing.T) {
	var ex struct {
		Object struct {
			Array, Disclosure, SHA256 string
		} `json:"object_property_disclosure"`
		Equivalent map[string]any `json:"equivalent_encodings_of_same_claim"`
		Element    struct {
			Array, Disclosure string
		} `json:"array_element_disclosure"`
	}
	readJSON(t, vectorDir(t, "sd-jwt")+"/rfc9901-examples/section4_inline_examples.json", &ex)
	if got := Digest(ex.Object.Disclosure); got != ex.Object.SHA256 {
		t.Errorf("digest %s, document says %s", got, ex.Object.SHA256)
	}
	d, err := DecodeDisclosure(ex.Object.Disclosure)
	if err != nil || d.Name != "family_name" || d.Value != "Möbius" {
		t.Errorf("decoded %+v, %v", d, err)
	}
	for name, enc := range ex.Equivalent {
		if name == "section" || name == "note" {
			continue
		}
		d, err := DecodeDisclosure(enc.(string))
		if err != nil || d.Name != "family_name" || d.Value != "Möbius" || d.Salt != "_26bc4LT-ac6q2KI6cBW5es" {
			t.Errorf("%s: decoded %+v, %v", name, d, err)
		}
	}
	e, err := DecodeDisclosure(ex.Element.Disclosure)
	if err != nil || !e.IsElement || e.Value != "FR" {
		t.Errorf("array element: %+v, %v", e, err)
	}
}

func TestEncodeEscapes(t *testing.T) {
	got, err := encode([]any{"a\"\\\n\x01ü😀/<>", 1.5, nil, true})
	if err != nil {
		t.Fatal(err)
	}
	// Python: json.dumps(["a\"\\\n\x01ü😀/<>", 1.5, None, True])
	want := `["a\"\\\n\u0001\u00fc\ud83d\ude00/<>", 1.5, null, true]`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// FuzzVerify: no input makes Verify panic, and whatever it accepts re-parses to itself.
func FuzzVerify(f *testing.F) {
	f.Add(issueSample(f).String())
	if p, err := Present(issueSample(f), Everything, binding(testNow)); err == nil {
		f.Add(p.String())
	}
	f.Add("a.b.c~WyJzIiwgImEiLCAxXQ~")
	f.Fuzz(func(t *testing.T, s string) {
		v := baseVerification()
		got, err := Verify(s, v)
		if err != nil {
			return
		}
		tok, _ := Parse(s)
		if tok.String() != s || got.Claims == nil {
			t.Fatalf("accepted %q but it does not round-trip", s)
		}
	})
}

// FuzzDecodeDisclosure: decoding never panics, and a decoded Disclosure re-encodes to a
// Disclosure with the same salt, name and value.
func FuzzDecodeDisclosure(f *testing.F) {
	for _, d := range issueSample(f).Disclosures {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := DecodeDisclosure(s)
		if err != nil {
			return
		}
		parts := []any{d.Salt, d.Name, d.Value}
		if d.IsElement {
			parts = []any{d.Salt, d.Value}
		}
		again, err := DecodeDisclosure(disc(t, parts...))
		if err != nil {
			t.Fatalf("re-encoding %q: %v", s, err)
		}
		if !cmp.Equal(d.Value, again.Value) || d.Name != again.Name || d.Salt != again.Salt {
			t.Fatalf("%q: %+v became %+v", s, d, again)
		}
	})
}

// FuzzParseObject: an ordered object re-encodes to JSON that parses to the same object,
// and encoding is stable from then on.
func FuzzParseObject(f *testing.F) {
	f.Add([]byte(`{"a": [1, {"b": null}], "c": "\u00fc"}`))
	f.Add(payloadOf(issueSample(f).JWT))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseObject(data)
		if err != nil {
			return
		}
		enc, err := encode(o)
		if err != nil {
			return // e.g. a string that is not UTF-8
		}
		again, err := ParseObject(enc)
		if err != nil {
			t.Fatalf("%s: re-parsing %s: %v", data, enc, err)
		}
		enc2, err := encode(again)
		if err != nil || string(enc2) != string(enc) {
			t.Fatalf("%s: encodes to %s, then %s", data, enc, enc2)
		}
	})
}

func TestParseJSONRefuses(t *testing.T) {
	for _, tc := range []struct{ desc, in string }{
		{"not JSON", `eyJ.eyJ.sig~`},
		{"no signature", `{"payload":"e30","protected":"e30"}`},
		{"both forms", `{"payload":"e30","protected":"e30","signature":"c2ln","signatures":[{"protected":"e30","signature":"c2ln"}]}`},
		{"disclosures on the second signature", `{"payload":"e30","signatures":[{"protected":"e30","signature":"c2ln"},{"protected":"e30","signature":"c2ln","header":{"disclosures":["WyJhIiwgMV0"]}}]}`},
		{"a tilde in a disclosure", `{"payload":"e30","protected":"e30","signature":"c2ln","header":{"disclosures":["a~b"]}}`},
		{"an empty disclosure", `{"payload":"e30","protected":"e30","signature":"c2ln","header":{"disclosures":[""]}}`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if _, err := ParseJSON([]byte(tc.in)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
	tok, err := ParseJSON([]byte(`{"payload":"e30","protected":"e30","signature":"c2ln","header":{"disclosures":["WyJhIiwgMV0"],"kb_jwt":"a.b.c"}}`))
	if err != nil || tok.String() != "e30.e30.c2ln~WyJhIiwgMV0~a.b.c" {
		t.Fatalf("flattened: %q, %v", tok.String(), err)
	}
}
