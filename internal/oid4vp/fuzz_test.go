package oid4vp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParseQuery: a query that parses encodes to JSON that parses to the
// same query. Seeded with the specification's queries.
func FuzzParseQuery(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(vectors, "examples/query_lang/*.json"))
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := ParseQuery(b)
		if err != nil {
			return
		}
		out, err := json.Marshal(q)
		if err != nil {
			t.Fatal(err)
		}
		q2, err := ParseQuery(out)
		if err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if !reflect.DeepEqual(q, q2) {
			t.Fatalf("round trip changed the query: %s", out)
		}
	})
}

// FuzzParseVPToken: a vp_token that parses goes through a form and back
// unchanged. Seeded with the specification's vp_token.
func FuzzParseVPToken(f *testing.F) {
	b, _ := os.ReadFile(filepath.Join(vectors, "inline/18-examples.json"))
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseVPToken(b)
		if err != nil {
			return
		}
		back, err := ParseResponse(r.Form())
		if err != nil {
			t.Fatal(err)
		}
		if len(back.VPToken) != len(r.VPToken) {
			t.Fatalf("round trip changed the token")
		}
	})
}
