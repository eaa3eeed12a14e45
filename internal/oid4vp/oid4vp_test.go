package oid4vp

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// vectors are the specification's examples (testdata/README.md).
const vectors = "testdata/openid4vp-1.0"

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectors, name))
	if err != nil {
		t.Fatalf("vectors missing: %v", err)
	}
	return b
}

// jsonEqual compares two JSON texts as values.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// TestDCQLExamples parses every DCQL query of the specification's
// examples, validates it, and encodes it back to the same JSON.
func TestDCQLExamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(vectors, "examples/query_lang/*.json"))
	more, _ := filepath.Glob(filepath.Join(vectors, "examples/request/dcql_*.json"))
	files = append(files, more...)
	if len(files) < 9 {
		t.Fatalf("found %d DCQL examples", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, _ := os.ReadFile(f)
			q, err := ParseQuery(b)
			if err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(q)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, b, out) {
				t.Errorf("round trip:\n%s\nwant\n%s", out, b)
			}
		})
	}
}

// TestDCQLInvalid refuses queries that break the rules of §6.
func TestDCQLInvalid(t *testing.T) {
	for _, tt := range []struct{ name, q, want string }{
		{"no credentials", `{"credentials": []}`, "credentials is empty"},
		{"a bad id", `{"credentials": [{"id": "a b", "format": "dc+sd-jwt", "meta": {}}]}`, "not alphanumeric"},
		{"two ids", `{"credentials": [{"id": "a", "format": "f", "meta": {}}, {"id": "a", "format": "f", "meta": {}}]}`, "two credential queries"},
		{"no format", `{"credentials": [{"id": "a", "meta": {}}]}`, "no format"},
		{"no meta", `{"credentials": [{"id": "a", "format": "dc+sd-jwt"}]}`, "no meta"},
		{"empty path", `{"credentials": [{"id": "a", "format": "f", "meta": {}, "claims": [{"path": []}]}]}`, "empty path"},
		{"negative index", `{"credentials": [{"id": "a", "format": "f", "meta": {}, "claims": [{"path": ["x", -1]}]}]}`, "non-negative"},
		{"claim sets without ids", `{"credentials": [{"id": "a", "format": "f", "meta": {}, "claims": [{"path": ["x"]}], "claim_sets": [["x"]]}]}`, "needs an id"},
		{"claim set naming nothing", `{"credentials": [{"id": "a", "format": "f", "meta": {}, "claims": [{"id": "x", "path": ["x"]}], "claim_sets": [["y"]]}]}`, `names "y"`},
		{"object value", `{"credentials": [{"id": "a", "format": "f", "meta": {}, "claims": [{"path": ["x"], "values": [{}]}]}]}`, "not a string, number or boolean"},
		{"set naming nothing", `{"credentials": [{"id": "a", "format": "f", "meta": {}}], "credential_sets": [{"options": [["b"]]}]}`, `names "b"`},
		{"empty option", `{"credentials": [{"id": "a", "format": "f", "meta": {}}], "credential_sets": [{"options": [[]]}]}`, "empty option"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseQuery([]byte(tt.q))
			if !errors.Is(err, ErrQuery) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestClaimsPathPointer applies the pointers of §7.4 to its example.
func TestClaimsPathPointer(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(read(t, "inline/16-claims-path-pointer-example.json"), &doc); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path Path
		want []any
	}{
		{Path{"name"}, []any{"Arthur Dent"}},
		{Path{"address"}, []any{doc["address"]}},
		{Path{"address", "street_address"}, []any{"42 Market Street"}},
		{Path{"degrees", nil, "type"}, []any{"Bachelor of Science", "Master of Science"}},
		{Path{"nationalities", 1}, []any{"Betelgeusian"}},
		{Path{"nationalities", 2}, nil},
		{Path{"name", "first"}, nil},
		{Path{"missing"}, nil},
	} {
		if got := tt.path.Select(doc); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%v selects %v, want %v", tt.path, got, tt.want)
		}
	}
}

func query(t *testing.T, name string) *Query {
	t.Helper()
	q, err := ParseQuery(read(t, "examples/query_lang/"+name))
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestEvaluate runs the examples' queries over wallets that can and
// cannot answer them.
func TestEvaluate(t *testing.T) {
	const idType = "https://credentials.example.com/identity_credential"
	pid := &Credential{ID: "pid", Format: FormatSDJWTVC, Type: idType, Claims: map[string]any{
		"last_name": "Doe", "first_name": "John", "postal_code": "90210", "locality": "LA", "date_of_birth": "1970-01-01",
		"address": map[string]any{"street_address": "1 Main St"}}}
	other := &Credential{ID: "other", Format: FormatSDJWTVC, Type: "urn:other", Claims: pid.Claims}
	noStreet := &Credential{ID: "nostreet", Format: FormatSDJWTVC, Type: idType, Claims: map[string]any{"last_name": "Doe", "first_name": "John"}}
	roe := &Credential{ID: "roe", Format: FormatSDJWTVC, Type: idType, Claims: map[string]any{
		"last_name": "Roe", "first_name": "Ann", "postal_code": "90210", "address": map[string]any{"street_address": "2 Main St"}}}
	for _, tt := range []struct {
		name   string
		query  string
		wallet []*Credential
		chosen []string
		claims [][]Path // of the first match of each chosen id
		err    bool
	}{
		{name: "simple", query: "simple.json", wallet: []*Credential{other, pid}, chosen: []string{"my_credential"},
			claims: [][]Path{{{"last_name"}, {"first_name"}, {"address", "street_address"}}}},
		{name: "simple, a claim missing", query: "simple.json", wallet: []*Credential{noStreet, other}, err: true},
		{name: "values match", query: "value_matching_simple.json", wallet: []*Credential{roe, pid}, chosen: []string{"my_credential"},
			claims: [][]Path{{{"last_name"}, {"first_name"}, {"address", "street_address"}, {"postal_code"}}}},
		{name: "values do not match", query: "value_matching_simple.json", wallet: []*Credential{roe}, err: true},
		{name: "claim sets: the second", query: "claims_alternatives.json", wallet: []*Credential{pid},
			chosen: []string{"pid"}, claims: [][]Path{{{"last_name"}, {"postal_code"}, {"date_of_birth"}}}},
		{name: "an mdoc is missing", query: "multi_credentials.json", wallet: []*Credential{pid}, err: true},
		{name: "alternatives, the optional one absent", query: "credentials_alternatives.json", wallet: []*Credential{pid},
			chosen: []string{"pid"}, claims: [][]Path{{{"given_name"}, {"family_name"}, {"address", "street_address"}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "alternatives, the optional one absent" {
				// credentials_alternatives asks given_name and family_name.
				pid.Claims["given_name"], pid.Claims["family_name"] = "John", "Doe"
				defer func() { delete(pid.Claims, "given_name"); delete(pid.Claims, "family_name") }()
			}
			r, err := Evaluate(query(t, tt.query), tt.wallet)
			if tt.err {
				if !errors.Is(err, ErrUnsatisfied) {
					t.Fatalf("err = %v, want ErrUnsatisfied", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.Chosen, tt.chosen) {
				t.Fatalf("chosen %v, want %v", r.Chosen, tt.chosen)
			}
			for i, id := range r.Chosen {
				m := r.Matches[id][0]
				if !reflect.DeepEqual(m.Claims, tt.claims[i]) {
					t.Errorf("%s discloses %v, want %v", id, m.Claims, tt.claims[i])
				}
			}
		})
	}
}

// fill replaces the examples' elided objects ({...}, { ... }) with the
// simple DCQL query.
func fill(t *testing.T, b []byte) []byte {
	return regexp.MustCompile(`\{ ?\.\.\. ?\}`).ReplaceAll(b, read(t, "examples/query_lang/simple.json"))
}

// TestRequestExamples parses the specification's requests and checks
// each against the rules of its client identifier prefix.
func TestRequestExamples(t *testing.T) {
	for _, tt := range []struct {
		file, prefix string
		signed       bool
		want         string // the refusal, if any
	}{
		{file: "examples/request/request_object_client_id_did.json", prefix: PrefixDID, signed: true},
		{file: "inline/20-response-mode-direct-post.json.txt", prefix: PrefixRedirectURI},
		{file: "inline/12-request-uri-response.json.txt", prefix: "x509_san_dns", signed: true},
		// The example writes "https//" for "https://": its redirect_uri is
		// not its client_id's.
		{file: "inline/05-examples.json", prefix: PrefixRedirectURI, want: "but the response goes to https//client.example.org/cb"},
	} {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			var r Request
			if err := json.Unmarshal(fill(t, read(t, tt.file)), &r); err != nil {
				t.Fatal(err)
			}
			if p, _ := SplitClientID(r.ClientID); p != tt.prefix {
				t.Errorf("prefix %q, want %q", p, tt.prefix)
			}
			err := r.Validate(tt.signed)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
			if tt.signed && tt.prefix == PrefixRedirectURI {
				t.Fatal("bad table")
			}
			if tt.prefix == PrefixRedirectURI && r.Validate(true) == nil {
				t.Error("a signed request of a redirect_uri client passes")
			}
		})
	}
}

// httpQuery reads the query of an example HTTP request or URL written
// over several lines.
func httpQuery(t *testing.T, name string) url.Values {
	t.Helper()
	s := string(read(t, name))
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, " HTTP/1.1", "")), "")
	_, q, _ := strings.Cut(s, "?")
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestInvocationExamples reads the specification's invocation URLs.
func TestInvocationExamples(t *testing.T) {
	in, err := InvocationOf(httpQuery(t, "inline/06-examples.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if in.ClientID != "x509_san_dns:client.example.org" || in.RequestURI != "https://client.example.org/request/vapof4ql2i7m41m68uep" || in.RequestURIMethod != "post" {
		t.Errorf("06: %+v", in)
	}
	in, err = InvocationOf(httpQuery(t, "inline/21-response-mode-direct-post.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if p, id := SplitClientID(in.ClientID); p != "" || id != "https://client.example.org/cb" || in.RequestURI != "https://client.example.org/567545564" {
		t.Errorf("21: %+v", in)
	}
	in, err = InvocationOf(httpQuery(t, "inline/04-examples.txt"))
	if err != nil || in.RequestJWT != "eyJrd..." {
		t.Errorf("04: %+v, %v", in, err)
	}
	// By value (03), the query elided: put the simple one in.
	q := httpQuery(t, "inline/03-examples.txt")
	q.Set("dcql_query", string(read(t, "examples/query_lang/simple.json")))
	q.Del("transaction_data")
	in, err = InvocationOf(q)
	if err != nil {
		t.Fatal(err)
	}
	if r := in.Request; r == nil || r.Nonce != "n-0S6_WzA2Mj" || r.DCQLQuery.Credentials[0].ID != "my_credential" || r.Validate(false) != nil {
		t.Errorf("03: %+v", in.Request)
	}
	// Our own URL reads back as it was made.
	u, err := Invocation{ClientID: "decentralized_identifier:did:agora:x", RequestURI: "http://127.0.0.1:7790/request/abc"}.URL("openid4vp://")
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseInvocation(u)
	if err != nil || !strings.HasPrefix(u, "openid4vp://?client_id=") || back.ClientID != "decentralized_identifier:did:agora:x" || back.RequestURI != "http://127.0.0.1:7790/request/abc" {
		t.Errorf("%s reads back as %+v, %v", u, back, err)
	}
}

// TestResponseExamples reads the specification's vp_token, error and
// direct_post answer.
func TestResponseExamples(t *testing.T) {
	r, err := ParseVPToken(read(t, "inline/18-examples.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ps, err := r.StringPresentations("my_credential"); err != nil || len(ps) != 1 || ps[0] != "eyJhbGci...QMA" {
		t.Errorf("18: %v, %v", ps, err)
	}
	if err := r.CheckAnswers(query(t, "simple.json")); err != nil {
		t.Errorf("18 does not answer simple.json: %v", err)
	}
	if err := r.CheckAnswers(query(t, "multi_credentials.json")); err == nil {
		t.Error("18 answers multi_credentials.json")
	}
	body := string(read(t, "inline/23-response-mode-direct-post.txt"))
	_, form, _ := strings.Cut(body, "\n\n")
	f, err := url.ParseQuery(strings.Join(strings.Fields(form), ""))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseResponse(f)
	var e *ErrorResponse
	if !errors.As(err, &e) || e.Code != "invalid_request" || e.Description != "unsupported client_id_prefix" || e.State != "eyJhb...6-sVA" {
		t.Errorf("23: %v", err)
	}
	body = string(read(t, "inline/24-response-mode-direct-post.txt"))
	var a DirectPostAnswer
	if err := json.Unmarshal([]byte(body[strings.Index(body, "{"):]), &a); err != nil || !strings.Contains(a.RedirectURI, "response_code=") {
		t.Errorf("24: %+v, %v", a, err)
	}
	// Ours: form out, form in.
	mine := NewResponse("s-1", map[string]string{"kyc": "eyJ.x.y~"})
	back, err := ParseResponse(mine.Form())
	if err != nil || back.State != "s-1" || !reflect.DeepEqual(back.VPToken, mine.VPToken) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	for _, bad := range []string{`[]`, `{}`, `{"a": []}`, `{"a": "x"}`} {
		if _, err := ParseVPToken([]byte(bad)); !errors.Is(err, ErrResponse) {
			t.Errorf("vp_token %s: %v", bad, err)
		}
	}
}

// TestKeyBindingOf reads the audience and nonce of the examples'
// presentation's KB-JWT.
func TestKeyBindingOf(t *testing.T) {
	pres := strings.Join(strings.Fields(string(read(t, "examples/sd_jwt_vcld/01/sd_jwt_presentation.txt"))), "")
	var want struct{ Aud, Nonce string }
	json.Unmarshal(read(t, "examples/sd_jwt_vcld/01/kb_jwt_payload.json"), &want)
	if aud, nonce := KeyBindingOf(pres); aud != want.Aud || nonce != want.Nonce {
		t.Errorf("KeyBindingOf = %q, %q, want %q, %q", aud, nonce, want.Aud, want.Nonce)
	}
	if aud, nonce := KeyBindingOf("x.y.z~d~"); aud != "" || nonce != "" {
		t.Error("a presentation without KB-JWT has an audience")
	}
}

// TestSignedRequest signs a request object as a DID client does and
// verifies it as the wallet does, then spoils it one way at a time.
func TestSignedRequest(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	const did = "did:agora:rp"
	clientID := PrefixDID + ":" + did
	q := query(t, "simple.json")
	r := &Request{ClientID: clientID, ResponseType: ResponseTypeVPToken, ResponseMode: ResponseModeDirect,
		ResponseURI: "https://rp.example/response", Nonce: "n-1", State: "s-1", DCQLQuery: q, Audience: SelfIssuedAudience}
	sign := func(k ed25519.PrivateKey, kid string, r *Request) string {
		s, err := r.Sign(jose.SigningKey{Algorithm: jose.EdDSA, Key: k}, kid)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	keyOf := func(cid, kid string) (any, error) {
		if kid != did+"#key-1" {
			return nil, errors.New("no such key")
		}
		return priv.Public(), nil
	}
	jwt := sign(priv, did+"#key-1", r)
	// The header is the example's, with our algorithm.
	var hdr map[string]any
	h, _, _ := strings.Cut(jwt, ".")
	b, _ := jose.ParseSigned(jwt, requestAlgs)
	json.Unmarshal([]byte(mustB64(t, h)), &hdr)
	var ex map[string]any
	json.Unmarshal(read(t, "examples/request/request_header_client_id_did.json"), &ex)
	if hdr["typ"] != ex["typ"] || len(hdr) != len(ex) || b == nil {
		t.Errorf("header %v, the example's %v", hdr, ex)
	}
	got, err := ParseRequestObject(jwt, clientID, keyOf)
	if err != nil {
		t.Fatal(err)
	}
	if got.Nonce != "n-1" || got.DCQLQuery.Credentials[0].ID != "my_credential" {
		t.Errorf("got %+v", got)
	}
	parts := strings.Split(jwt, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "A") + "B." + parts[2]
	otherReq := *r
	otherReq.ClientID = PrefixDID + ":did:agora:mallory"
	for _, tt := range []struct{ name, jwt, clientID, want string }{
		{"another client's invocation", jwt, PrefixDID + ":did:agora:mallory", "is not the invocation's"},
		{"signed by another key", sign(other, did+"#key-1", r), clientID, "does not verify"},
		{"an unknown kid", sign(priv, did+"#key-9", r), clientID, "no such key"},
		{"tampered", tampered, clientID, "request"},
		{"kid of another DID", sign(priv, "did:agora:mallory#key-1", &otherReq), otherReq.ClientID, "no such key"},
		{"not a JWS", "x.y", clientID, "not a signed request object"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRequestObject(tt.jwt, tt.clientID, keyOf)
			if !errors.Is(err, ErrRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	// A DID client's request must be signed.
	if err := r.Validate(false); err == nil {
		t.Error("an unsigned request of a DID client passes")
	}
}

func mustB64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDIDAuth signs a DID authentication and verifies it, then refuses
// one for another verifier, another request, a stale one and a forgery.
func TestDIDAuth(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	const did, aud = "did:agora:alice", "decentralized_identifier:did:agora:rp"
	now := time.Unix(1_800_000_000, 0)
	keyOf := func(d, kid string) (any, error) {
		if d != did || kid != did+"#key-0" {
			return nil, errors.New("not an authentication key of " + d)
		}
		return priv.Public(), nil
	}
	sign := func(k ed25519.PrivateKey, kid, aud, nonce string, at time.Time) string {
		s, err := SignDIDAuth(jose.SigningKey{Algorithm: jose.EdDSA, Key: k}, kid, did, aud, nonce, at)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, kid, err := VerifyDIDAuth(sign(priv, did+"#key-0", aud, "n", now), aud, "n", now, time.Minute, keyOf)
	if err != nil || a.Issuer != did || kid != did+"#key-0" || a.VP.Holder != did {
		t.Fatalf("%+v %s %v", a, kid, err)
	}
	for _, tt := range []struct {
		name, jwt string
		want      error
		text      string
	}{
		{"another verifier", sign(priv, did+"#key-0", "redirect_uri:https://evil", "n", now), ErrAudience, ""},
		{"another request", sign(priv, did+"#key-0", aud, "m", now), ErrNonce, ""},
		{"stale", sign(priv, did+"#key-0", aud, "n", now.Add(-time.Hour)), nil, "not within"},
		{"forged", sign(other, did+"#key-0", aud, "n", now), nil, "does not verify"},
		{"another key", sign(priv, did+"#key-1", aud, "n", now), nil, "not an authentication key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := VerifyDIDAuth(tt.jwt, aud, "n", now, time.Minute, keyOf)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want %v %q", err, tt.want, tt.text)
			}
		})
	}
}
