package vcdm

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPresentation takes a presentation with one enveloped and one
// embedded credential, spoils one part at a time and checks the reason
// it is refused for; the unspoiled one passes.
func TestPresentation(t *testing.T) {
	good := func() map[string]any {
		return map[string]any{
			"@context": []any{BaseContext},
			"type":     []any{"VerifiablePresentation"},
			"id":       "urn:uuid:9c9a36f8-518f-4976-a934-6649502d0008",
			"holder":   "did:agora:holder",
			"verifiableCredential": []any{
				map[string]any{"@context": BaseContext, "type": "EnvelopedVerifiableCredential",
					"id": "data:application/vc+sd-jwt,eyJhbGciOiJFZERTQSJ9.e30.c2ln~WyJzYWx0IiwiYSIsMV0~"},
				map[string]any{"@context": []any{BaseContext}, "type": []any{"VerifiableCredential"},
					"issuer": "did:agora:issuer", "credentialSubject": map[string]any{"id": "did:agora:holder"}},
			},
		}
	}
	vc := func(p map[string]any, i int) map[string]any {
		return p["verifiableCredential"].([]any)[i].(map[string]any)
	}
	for _, tt := range []struct {
		name, want string
		spoil      func(map[string]any)
	}{
		{"as it should be", "", func(map[string]any) {}},
		{"holder an object with an id", "", func(p map[string]any) { p["holder"] = map[string]any{"id": "did:agora:holder", "name": "Alice"} }},
		{"one credential, not an array", "", func(p map[string]any) { p["verifiableCredential"] = vc(p, 0) }},
		{"no credential at all", "", func(p map[string]any) { delete(p, "verifiableCredential") }},
		{"a base64url data URL", "", func(p map[string]any) {
			vc(p, 0)["id"] = "data:application/vc-ld+jwt;base64url,eyJhbGciOiJFUzI1NiJ9.e30.c2ln"
		}},
		{"the base context not first", "does not start with", func(p map[string]any) {
			p["@context"] = []any{map[string]any{"x": "urn:x"}, BaseContext}
		}},
		{"not a VerifiablePresentation", "does not include VerifiablePresentation", func(p map[string]any) { p["type"] = "VerifiableCredential" }},
		{"an id that is no URL", "id \"presentation-1\" is not a URL", func(p map[string]any) { p["id"] = "presentation-1" }},
		{"a holder that is no URL", "holder \"alice\" is not a URL", func(p map[string]any) { p["holder"] = "alice" }},
		{"a holder that is a number", "holder is neither", func(p map[string]any) { p["holder"] = 7.0 }},
		{"a holder object without id", "holder object has no id", func(p map[string]any) { p["holder"] = map[string]any{"name": "Alice"} }},
		{"a credential as a string", "verifiableCredential[0] is not an object", func(p map[string]any) {
			p["verifiableCredential"] = []any{"eyJhbGciOiJFUzI1NiJ9.e30.c2ln"}
		}},
		{"no credentials in the array", "verifiableCredential is empty", func(p map[string]any) { p["verifiableCredential"] = []any{} }},
		{"an enveloped credential whose id is no data: URL", "verifiableCredential[0]: an enveloped credential's id \"https://example.org/vc\" is not a data: URL",
			func(p map[string]any) { vc(p, 0)["id"] = "https://example.org/vc" }},
		{"an enveloped credential without id", "is not a data: URL", func(p map[string]any) { delete(vc(p, 0), "id") }},
		{"an enveloped credential without data", "holds no data", func(p map[string]any) { vc(p, 0)["id"] = "data:application/vc+sd-jwt," }},
		{"an enveloped credential without media type", "has no media type", func(p map[string]any) { vc(p, 0)["id"] = "data:,abc" }},
		{"an enveloped credential without @context", "verifiableCredential[0]: no @context", func(p map[string]any) { delete(vc(p, 0), "@context") }},
		{"an enveloped credential without type", "verifiableCredential[0]: no type", func(p map[string]any) { delete(vc(p, 0), "type") }},
		{"an embedded credential without issuer", "verifiableCredential[1]: no issuer", func(p map[string]any) { delete(vc(p, 1), "issuer") }},
		{"an untyped proof", "no proof type", func(p map[string]any) { p["proof"] = map[string]any{"proofValue": "z"} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := good()
			tt.spoil(p)
			err := CheckPresentation(p)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want ErrInvalid saying %q", err, tt.want)
			}
		})
	}
}

func TestEnvelopedData(t *testing.T) {
	for _, tt := range []struct{ id, media, data string }{
		{"data:application/vc+sd-jwt,eyJ.e30.c2ln~WyJ~", "application/vc+sd-jwt", "eyJ.e30.c2ln~WyJ~"},
		{"data:application/vc-ld+jwt;base64url,eyJ.e30.c2ln", "application/vc-ld+jwt", "eyJ.e30.c2ln"},
		{"data:application/vc+sd-jwt,a%7Eb", "application/vc+sd-jwt", "a~b"},
	} {
		m, d, err := EnvelopedData(tt.id)
		if err != nil || m != tt.media || d != tt.data {
			t.Errorf("EnvelopedData(%q) = %q, %q, %v; want %q, %q", tt.id, m, d, err, tt.media, tt.data)
		}
	}
	for _, id := range []string{"", "https://x.example/", "data:application/vc+sd-jwt", "data:application/vc+sd-jwt,%zz"} {
		if _, _, err := EnvelopedData(id); !errors.Is(err, ErrInvalid) {
			t.Errorf("EnvelopedData(%q) = %v, want ErrInvalid", id, err)
		}
	}
}

// TestRECPresentation: example 18 of the REC, a presentation enveloping
// a vc+sd-jwt credential (elided in the REC), passes with the examples
// context, and its credential reads as application/vc+sd-jwt.
func TestRECPresentation(t *testing.T) {
	examples := recExamples(t, "testdata/w3c-vc-data-model-2.0/rec-examples.json")
	ex := examples[17]
	if ex.Number != 18 || !strings.Contains(ex.Title, "presentation") {
		t.Fatalf("example 18 is %d %q", ex.Number, ex.Title)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(ex.Tabs[0].Content), &p); err != nil {
		t.Fatal(err)
	}
	if err := fullChecker(t).Presentation(p); err != nil {
		t.Fatal(err)
	}
	env := p["verifiableCredential"].([]any)[0].(map[string]any)
	if m, d, err := EnvelopedData(env["id"].(string)); err != nil || m != "application/vc+sd-jwt" || d != "QzVjV...RMjU" {
		t.Fatalf("EnvelopedData = %q, %q, %v", m, d, err)
	}
	if err := defaultChecker.Presentation(p); err == nil {
		t.Fatal("accepted without the examples context, which vcdm does not embed")
	}
}

// FuzzPresentation checks any JSON as a presentation, seeded with the
// suite's presentation fixtures: no panic, the same verdict twice, and
// what passes starts with the base context and is a
// VerifiablePresentation.
func FuzzPresentation(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join(suiteDir, "input", "presentation-*.json"))
	if err != nil || len(seeds) != 25 {
		f.Fatalf("%d presentation fixtures (%v), want 25", len(seeds), err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p map[string]any
		if json.Unmarshal(b, &p) != nil {
			return
		}
		err := CheckPresentation(p)
		if again := CheckPresentation(p); fmt.Sprint(err) != fmt.Sprint(again) {
			t.Fatalf("two verdicts: %v, then %v", err, again)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("a refusal that is not ErrInvalid: %v", err)
			}
			return
		}
		ctx, _ := p["@context"].([]any)
		if p["@context"] != BaseContext && (len(ctx) == 0 || ctx[0] != BaseContext) || !HasType(p, "VerifiablePresentation") {
			t.Fatalf("accepted %s", b)
		}
	})
}

// FuzzEnvelopedData: what EnvelopedData accepts is a data: URL with a
// media type and data.
func FuzzEnvelopedData(f *testing.F) {
	f.Add("data:application/vc+sd-jwt,eyJ.e30.c2ln~")
	f.Add("data:application/vc-ld+jwt;base64url,eyJ.e30.c2ln")
	f.Add("data:,x")
	f.Fuzz(func(t *testing.T, id string) {
		m, d, err := EnvelopedData(id)
		if err != nil {
			return
		}
		if !strings.HasPrefix(id, "data:"+m) || !strings.Contains(m, "/") || d == "" {
			t.Fatalf("EnvelopedData(%q) = %q, %q", id, m, d)
		}
	})
}
