package sdjwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// The official vectors, copied into testdata/ (read-only; see testdata/README.md).
const testdata = "testdata"

func vectorDir(t testing.TB, sub string) string {
	t.Helper()
	dir := filepath.Join(testdata, sub)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("vectors missing: %v", err)
	}
	return dir
}

// spec is a generator input (specification.yml) of sd-jwt-python.
type spec struct {
	UserClaims       yaml.Node      `yaml:"user_claims"`
	HolderDisclosed  any            `yaml:"holder_disclosed_claims"`
	Expect           any            `yaml:"expect_verified_user_claims"`
	KeyBinding       bool           `yaml:"key_binding"`
	Serialization    string         `yaml:"serialization_format"`
	AddDecoys        bool           `yaml:"add_decoy_claims"`
	ExtraHeader      map[string]any `yaml:"extra_header_parameters"`
	SettingsOverride *settings      `yaml:"settings_override"`
	DefaultClaims    *bool          `yaml:"include_default_claims"`
	claims           Object
}

type settings struct {
	Identifiers struct {
		Issuer   string `yaml:"issuer"`
		Verifier string `yaml:"verifier"`
	} `yaml:"identifiers"`
	KeySettings struct {
		IssuerKey  map[string]any   `yaml:"issuer_key"`
		IssuerKeys []map[string]any `yaml:"issuer_keys"`
		HolderKey  map[string]any   `yaml:"holder_key"`
	} `yaml:"key_settings"`
	Nonce string `yaml:"key_binding_nonce"`
	Iat   int64  `yaml:"iat"`
	Exp   int64  `yaml:"exp"`
}

// keys returns the issuer's and the holder's private keys.
func (st settings) keys(t testing.TB) (issuer, holder *jose.JSONWebKey) {
	ik := st.KeySettings.IssuerKey
	if ik == nil {
		ik = st.KeySettings.IssuerKeys[0]
	}
	return jwkFrom(t, ik), jwkFrom(t, st.KeySettings.HolderKey)
}

func readYAML(t testing.TB, path string, v any) {
	t.Helper()
	if err := yaml.Unmarshal([]byte(readText(t, path)), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func loadSpec(t testing.TB, dir string) *spec {
	t.Helper()
	var s spec
	readYAML(t, filepath.Join(dir, "specification.yml"), &s)
	v, err := fromYAML(&s.UserClaims)
	if err != nil {
		t.Fatal(err)
	}
	s.claims = v.(Object)
	return &s
}

// fromYAML turns a YAML node into claims, the tag !sd becoming SD.
func fromYAML(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		return fromYAML(n.Content[0])
	case yaml.MappingNode:
		o := Object{}
		for i := 0; i < len(n.Content); i += 2 {
			k, vn := n.Content[i], n.Content[i+1]
			v, err := fromYAML(vn)
			if err != nil {
				return nil, err
			}
			if k.Tag == "!sd" {
				v = SD{v}
			}
			o = append(o, Member{k.Value, v})
		}
		return o, nil
	case yaml.SequenceNode:
		a := []any{}
		for _, e := range n.Content {
			v, err := fromYAML(e)
			if err != nil {
				return nil, err
			}
			if e.Tag == "!sd" {
				v = SD{v}
			}
			a = append(a, v)
		}
		return a, nil
	}
	plain := *n
	if plain.Tag == "!sd" {
		plain.Tag = ""
	}
	var v any
	if err := plain.Decode(&v); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case int:
		return json.Number(strconv.Itoa(x)), nil
	case float64:
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64)), nil
	}
	return v, nil
}

// Python's json.dumps of an sd-jwt-python SDObj has the same shape, so v re-encoded
// from YAML values compares with decoded JSON once both went through JSON.
func normalize(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeValue(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func jwkFrom(t testing.TB, m map[string]any) *jose.JSONWebKey {
	t.Helper()
	b, _ := json.Marshal(m)
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	return &k
}

// keepTree is sd-jwt-python's holder selection: a tree of booleans shaped like the claims.
func keepTree(tree any) func(Path) bool {
	return func(p Path) bool {
		n := tree
		for _, c := range p {
			switch x := n.(type) {
			case map[string]any:
				n = x[c.(string)] // a string path element under an object
			case []any:
				i, ok := c.(int)
				if !ok || i >= len(x) {
					return false
				}
				n = x[i]
			default:
				return false // true at a parent does not reach into its Disclosures
			}
		}
		switch x := n.(type) {
		case bool:
			return x
		case nil:
			return false
		case map[string]any:
			return len(x) > 0 || isIndex(p)
		case []any:
			return len(x) > 0 || isIndex(p)
		}
		return true
	}
}

// isIndex: sd-jwt-python discloses an array element unless its selection is false or null.
func isIndex(p Path) bool {
	_, ok := p[len(p)-1].(int)
	return ok
}

type vectorDisclosure struct {
	Claim      *string `json:"claim"`
	SHA256     string  `json:"sha256"`
	Disclosure string  `json:"disclosure"`
	Contents   string  `json:"contents"`
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(readText(t, path)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readText(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

// saltsOf replays the salts of the vector's Disclosures, in order, as the randomness.
func saltsOf(t testing.TB, ds []vectorDisclosure) *bytes.Reader {
	t.Helper()
	var all []byte
	for _, d := range ds {
		dd, err := DecodeDisclosure(d.Disclosure)
		if err != nil {
			t.Fatal(err)
		}
		b, err := base64.RawURLEncoding.DecodeString(dd.Salt)
		if err != nil || len(b) != saltBytes {
			t.Fatalf("salt %q is not 16 bytes of base64url", dd.Salt)
		}
		all = append(all, b...)
	}
	return bytes.NewReader(all)
}

func payloadBytes(t testing.TB, jwt string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stripDigests removes the given digests from every _sd array of an ordered payload.
func stripDigests(v any, drop map[string]bool) any {
	switch x := v.(type) {
	case Object:
		out := Object{}
		for _, m := range x {
			if m.Name == "_sd" {
				var keep []string
				for _, d := range m.Value.([]any) {
					if !drop[d.(string)] {
						keep = append(keep, d.(string))
					}
				}
				if len(keep) == 0 {
					continue
				}
				out = append(out, Member{"_sd", keep})
				continue
			}
			out = append(out, Member{m.Name, stripDigests(m.Value, drop)})
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stripDigests(e, drop)
		}
		return out
	}
	return v
}

// exampleSet is one folder of examples generated by sd-jwt-python from specification.yml.
type exampleSet struct {
	dir      string
	settings settings
	typ      string // the generator's default typ
	vc       bool   // issue with IssueVC, verify with VerifyVC
}

// TestRFC9901Examples reproduces and verifies every example of RFC 9901 (compact
// serialization): the Disclosures byte for byte from the examples' salts, the payload
// byte for byte (ES256 signatures are randomized, so the JWS signature cannot match),
// the holder's selection and KB-JWT payload byte for byte over the example's own
// SD-JWT, and the verification result against verified_contents.json.
func TestRFC9901Examples(t *testing.T) {
	set := exampleSet{dir: vectorDir(t, "sd-jwt/rfc9901-examples"), typ: "example+sd-jwt"}
	readYAML(t, filepath.Join(set.dir, "settings.yml"), &set.settings)
	runExamples(t, set)
}

// TestSDJWTVCExamples does the same with the SD-JWT VC draft's examples, through
// IssueVC and VerifyVC.
func TestSDJWTVCExamples(t *testing.T) {
	set := exampleSet{dir: vectorDir(t, "sd-jwt-vc/draft-18-examples"), typ: VCType, vc: true}
	readYAML(t, filepath.Join(set.dir, "settings.yml"), &set.settings)
	runExamples(t, set)
}

func runExamples(t *testing.T, set exampleSet) {
	eachCase(t, set.dir, func(t *testing.T, name, dir string) {
		if strings.HasPrefix(name, "json_serialization") {
			runJSONExample(t, set, dir)
			return
		}
		runExample(t, set, dir)
	})
}

// eachCase runs f as a subtest for every folder of dir, and fails if f skipped them all.
func eachCase(t *testing.T, dir string, f func(t *testing.T, name, dir string)) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, e := range entries {
		if e.IsDir() {
			t.Run(e.Name(), func(t *testing.T) {
				f(t, e.Name(), filepath.Join(dir, e.Name()))
				ran++ // not reached when f skips
			})
		}
	}
	if ran == 0 {
		t.Fatal("no case ran")
	}
}

func runExample(t *testing.T, set exampleSet, dir string) {
	s := loadSpec(t, dir)
	st := set.settings
	var vds []vectorDisclosure
	var salts io.Reader
	if p := filepath.Join(dir, "disclosures.json"); exists(p) {
		readJSON(t, p, &vds)
		salts = saltsOf(t, vds)
	} else {
		// address_only_structured_one_open and sd-jwt-vc's 02 do not print their
		// Disclosures: their salts are unknown, so the payload is compared with every
		// digest masked and the holder's bytes are not compared.
		salts = rand.NewChaCha8([32]byte{})
	}

	// The generator's claims: iss, iat, exp first, then the user claims (a user "iss"
	// keeps the first place but overrides the value).
	claims := Object{{"iss", st.Identifiers.Issuer}, {"iat", st.Iat}, {"exp", st.Exp}}
	if s.DefaultClaims != nil && !*s.DefaultClaims {
		claims = Object{}
	}
	for _, m := range s.claims {
		if i := indexOf(claims, m.Name); i >= 0 {
			claims[i].Value = m.Value
			continue
		}
		claims = append(claims, m)
	}
	issuerKey, holderKey := st.keys(t)
	opt := Issuance{
		Key:    jose.SigningKey{Algorithm: jose.ES256, Key: issuerKey.Key},
		Type:   set.typ,
		Rand:   salts,
		Header: map[jose.HeaderKey]any{},
	}
	for k, v := range s.ExtraHeader {
		if k == "typ" {
			opt.Type = v.(string)
			continue
		}
		opt.Header[jose.HeaderKey(k)] = v
	}
	if s.KeyBinding {
		opt.Holder = holderKey
	}
	// Decoy digests are hashes of salts the document does not print, so they cannot be
	// replayed: issue without them and drop them from the example's payload instead.
	issue := Issue
	if set.vc {
		issue = IssueVC
	}
	issued, err := issue(claims, opt)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := opt.Rand.(*bytes.Reader); ok && r.Len() != 0 {
		t.Errorf("%d salt bytes left unused", r.Len())
	}

	// Disclosures: byte for byte, in the document's order.
	var all []string
	for _, d := range vds {
		all = append(all, d.Disclosure)
		if Digest(d.Disclosure) != d.SHA256 {
			t.Errorf("digest of %s: got %s, document says %s", d.Disclosure, Digest(d.Disclosure), d.SHA256)
		}
	}
	if diff := cmp.Diff(all, issued.Disclosures); vds != nil && diff != "" {
		t.Errorf("disclosures (-document +ours):\n%s", diff)
	}
	checkPayload(t, dir, payloadBytes(t, issued.JWT), vds == nil)
	if !exists(filepath.Join(dir, "sd_jwt_presentation.txt")) {
		return
	}
	presentation := readText(t, filepath.Join(dir, "sd_jwt_presentation.txt"))
	pt, err := Parse(presentation)
	if err != nil {
		t.Fatal(err)
	}
	var b *Binding
	if pt.KeyBinding != "" {
		var kb struct {
			Iat int64 `json:"iat"`
		}
		if err := json.Unmarshal(payloadBytes(t, pt.KeyBinding), &kb); err != nil {
			t.Fatal(err)
		}
		b = &Binding{
			Key:      jose.SigningKey{Algorithm: jose.ES256, Key: holderKey.Key},
			Audience: st.Identifiers.Verifier, Nonce: st.Nonce,
			IssuedAt: time.Unix(kb.Iat, 0),
		}
	}
	presentations := []struct{ who, text string }{{"document", presentation}}
	ours, err := Present(issued, keepTree(s.HolderDisclosed), b)
	if err != nil {
		t.Fatal(err)
	}
	presentations = append(presentations, struct{ who, text string }{"ours", ours.String()})
	if vds != nil {
		checkHolder(t, Token{JWT: pt.JWT, Disclosures: all}, pt, keepTree(s.HolderDisclosed), b)
	}

	// The verifier: the document's presentation, and ours, give verified_contents.json.
	var verified any
	readJSON(t, filepath.Join(dir, "verified_contents.json"), &verified)
	issuerPub := issuerKey.Public()
	for _, p := range presentations {
		v := Verification{IssuerKey: StaticKey(&issuerPub), Type: opt.Type, Now: time.Unix(st.Iat, 0)}
		if b != nil {
			v.Now = b.IssuedAt.Add(time.Minute)
			v.KeyBinding = &KeyBindingPolicy{Audience: b.Audience, Nonce: b.Nonce, MaxAge: 5 * time.Minute}
		}
		var got *Verified
		if set.vc {
			vc, err := VerifyVC(p.text, v)
			if err != nil {
				t.Fatalf("%s presentation: %v", p.who, err)
			}
			got = vc.Verified
		} else if got, err = Verify(p.text, v); err != nil {
			t.Fatalf("%s presentation: %v", p.who, err)
		}
		if diff := cmp.Diff(verified, any(got.Claims)); diff != "" {
			t.Errorf("%s presentation: verified claims (-document +ours):\n%s", p.who, diff)
		}
	}
}

// checkPayload compares our payload with the example's: byte for byte with its JWS
// payload (decoys removed), as JSON where only sd_jwt_payload.json is printed, and with
// digests masked where the salts are unknown.
func checkPayload(t *testing.T, dir string, ours []byte, masked bool) {
	var exampleJWT string
	for _, f := range []string{"sd_jwt_issuance.txt", "sd_jwt_presentation.txt"} {
		if p := filepath.Join(dir, f); exists(p) {
			exampleJWT = strings.Split(readText(t, p), "~")[0]
			break
		}
	}
	var theirs []byte
	if exampleJWT != "" {
		theirs = payloadBytes(t, exampleJWT)
	} else {
		theirs = []byte(readText(t, filepath.Join(dir, "sd_jwt_payload.json")))
	}
	if masked || exampleJWT == "" {
		a, _ := decodeValue(theirs)
		b, _ := decodeValue(ours)
		if masked {
			a, b = maskDigests(a), maskDigests(b)
		}
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("payload (-document +ours):\n%s", diff)
		}
		return
	}
	drop := map[string]bool{}
	if p := filepath.Join(dir, "decoy_digests.json"); exists(p) {
		var decoys []string
		readJSON(t, p, &decoys)
		for _, d := range decoys {
			drop[d] = true
		}
	}
	o, err := ParseObject(theirs)
	if err != nil {
		t.Fatal(err)
	}
	want, err := encode(stripDigests(o, drop))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, want) {
		t.Errorf("payload differs:\nours     %s\ndocument %s", ours, want)
	}
}

// checkHolder presents the example's own SD-JWT and compares with its presentation:
// the same text up to the KB-JWT, whose payload must match byte for byte (ES256
// signatures are randomized, so the KB-JWT's signature cannot).
func checkHolder(t *testing.T, issued, want Token, keep func(Path) bool, b *Binding) {
	got, err := Present(issued, keep, b)
	if err != nil {
		t.Fatal(err)
	}
	if got.sdJWT() != want.sdJWT() {
		t.Errorf("presentation differs:\nours     %s\ndocument %s", got.sdJWT(), want.sdJWT())
	}
	if b == nil {
		return
	}
	if g, w := payloadBytes(t, got.KeyBinding), payloadBytes(t, want.KeyBinding); !bytes.Equal(g, w) {
		t.Errorf("KB-JWT payload differs:\nours     %s\ndocument %s", g, w)
	}
}

// runJSONExample checks the examples of the JWS JSON serialization (Section 8), which
// this package reads but does not write: the example's issuance, presented by us with
// its holder_disclosed_claims, gives the example's presentation (KB-JWT payload byte for
// byte), and the example's presentation verifies to exactly those claims.
func runJSONExample(t *testing.T, set exampleSet, dir string) {
	s := loadSpec(t, dir)
	st := set.settings
	if s.SettingsOverride != nil {
		st.KeySettings = s.SettingsOverride.KeySettings
	}
	issuerKey, holderKey := st.keys(t)
	pres, err := ParseJSON([]byte(readText(t, filepath.Join(dir, "sd_jwt_presentation.json"))))
	if err != nil {
		t.Fatal(err)
	}
	var kb struct {
		Iat int64 `json:"iat"`
	}
	if err := json.Unmarshal(payloadBytes(t, pres.KeyBinding), &kb); err != nil {
		t.Fatal(err)
	}
	b := &Binding{
		Key:      jose.SigningKey{Algorithm: jose.ES256, Key: holderKey.Key},
		Audience: st.Identifiers.Verifier, Nonce: st.Nonce, IssuedAt: time.Unix(kb.Iat, 0),
	}
	if p := filepath.Join(dir, "sd_jwt_issuance.json"); exists(p) {
		issued, err := ParseJSON([]byte(readText(t, p)))
		if err != nil {
			t.Fatal(err)
		}
		checkHolder(t, issued, pres, keepTree(s.HolderDisclosed), b)
	}
	pub := issuerKey.Public()
	got, err := Verify(pres.String(), Verification{
		IssuerKey: StaticKey(&pub), Type: set.typ, Now: b.IssuedAt,
		KeyBinding: &KeyBindingPolicy{Audience: b.Audience, Nonce: b.Nonce, MaxAge: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range got.Disclosed {
		names = append(names, d.Path.String())
	}
	sort.Strings(names)
	if diff := cmp.Diff([]string{"/family_name", "/given_name"}, names); diff != "" {
		t.Errorf("disclosed (-holder_disclosed_claims +verified):\n%s", diff)
	}
}

// maskDigests replaces the digests of a decoded payload with a placeholder.
func maskDigests(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			switch k {
			case "_sd":
				n := len(e.([]any))
				out[k] = strings.Repeat("<digest>", n)
			case "...":
				out[k] = "<digest>"
			default:
				out[k] = maskDigests(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = maskDigests(e)
		}
		return out
	}
	return v
}

func indexOf(o Object, name string) int {
	for i, m := range o {
		if m.Name == name {
			return i
		}
	}
	return -1
}

// TestPythonTestCases runs sd-jwt-python's round-trip cases: issue, present the chosen
// claims, verify, compare with expect_verified_user_claims. Their salts are random in
// the reference implementation, so there are no bytes to compare; ours come from a
// seeded generator.
func TestPythonTestCases(t *testing.T) {
	dir := vectorDir(t, "sd-jwt/sd-jwt-python-testcases")
	var st settings
	readYAML(t, filepath.Join(dir, "settings.yml"), &st)
	eachCase(t, dir, func(t *testing.T, name, dir string) {
		s := loadSpec(t, dir)
		if s.Serialization == "json" {
			// These cases need an issuer that writes the JWS JSON serialization;
			// this package reads it (ParseJSON, TestRFC9901Examples) but writes
			// only the compact one.
			t.Skip("writing the JWS JSON serialization is out of scope")
		}
		cst := st
		if s.SettingsOverride != nil {
			cst.KeySettings = s.SettingsOverride.KeySettings
		}
		issuerKey := jwkFrom(t, cst.KeySettings.IssuerKeys[0])
		holderKey := jwkFrom(t, cst.KeySettings.HolderKey)
		claims := append(Object{{"iss", cst.Identifiers.Issuer}}, s.claims...)
		opt := Issuance{
			Key:  jose.SigningKey{Algorithm: jose.ES256, Key: issuerKey.Key},
			Type: "example+sd-jwt",
			Rand: rand.NewChaCha8([32]byte{1}),
		}
		if s.AddDecoys {
			opt.MinDecoys, opt.MaxDecoys = 2, 5
		}
		if len(s.ExtraHeader) > 0 {
			opt.Header = map[jose.HeaderKey]any{}
			for k, v := range s.ExtraHeader {
				if k == "kid" {
					// header_mod sets kid to the number 42, but RFC 7515 Section
					// 4.1.4 makes kid a string and go-jose refuses anything else;
					// the case is run with the string "42".
					v = fmt.Sprint(v)
				}
				opt.Header[jose.HeaderKey(k)] = v
			}
		}
		if s.KeyBinding {
			opt.Holder = holderKey
		}
		issued, err := Issue(claims, opt)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Unix(cst.Iat, 0)
		var b *Binding
		v := Verification{IssuerKey: StaticKey(issuerKey.Public().Key), Type: "example+sd-jwt", Now: now}
		if s.KeyBinding {
			b = &Binding{
				Key:      jose.SigningKey{Algorithm: jose.ES256, Key: holderKey.Key},
				Audience: cst.Identifiers.Verifier, Nonce: cst.Nonce, IssuedAt: now,
			}
			v.KeyBinding = &KeyBindingPolicy{Audience: b.Audience, Nonce: b.Nonce, MaxAge: time.Minute}
		}
		presented, err := Present(issued, keepTree(s.HolderDisclosed), b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Verify(presented.String(), v)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"iss": cst.Identifiers.Issuer}
		if m, ok := normalize(t, s.Expect).(map[string]any); ok {
			for k, x := range m {
				want[k] = x
			}
		}
		if s.KeyBinding {
			want["cnf"] = normalize(t, map[string]any{"jwk": holderKey.Public()})
		}
		if diff := cmp.Diff(want, got.Claims); diff != "" {
			t.Errorf("verified claims (-expected +ours):\n%s", diff)
		}
	})
}
