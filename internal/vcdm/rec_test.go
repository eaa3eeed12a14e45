package vcdm

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/sdjwt"
	"github.com/agora-ledger/agora/internal/statuslist"
)

type recExample struct {
	Number int    `json:"number"`
	Title  string `json:"title"`
	Tabs   []struct {
		Tab       *string `json:"tab"`
		Content   string  `json:"content"`
		ValidJSON bool    `json:"valid_json"`
	} `json:"tabs"`
}

func recExamples(t *testing.T, path string) []recExample {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Examples []recExample `json:"examples"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	return rec.Examples
}

// recSkipped are the REC's credential examples (unsecured, valid JSON,
// typed VerifiableCredential) the checker does not accept, each with the
// reason: none is a credential Agora's vc+sd-jwt form would carry as is.
var recSkipped = map[int]string{
	24: "@context https://extension.example/my-contexts/v1 is only named by the REC, not given (Agora never fetches contexts)",
	27: "@context https://w3id.org/age/v1 is not in jsonld-contexts/ (Agora never fetches contexts)",
	30: "@context https://w3id.org/citizenship/v3 is not in jsonld-contexts/ (Agora never fetches contexts); a bbs-2023 Data Integrity credential",
	40: "@context https://achievement.example/multilingual/v2 is only named by the REC, not given (Agora never fetches contexts)",
}

// recContexts are contexts the REC itself gives: example 33 is the
// document of https://website.example/matrix/v1, which example 34 uses.
var recContexts = map[string]int{"https://website.example/matrix/v1": 33}

// TestRECExamples checks every unsecured credential of the VC Data Model
// 2.0 REC that is JSON as displayed (a tab without "..." elisions) and
// typed VerifiableCredential; presentations, contexts and fragments are
// not credentials and are counted apart. A credential without an issuer
// (the REC's prototype template) gets one, as an issuer would.
func TestRECExamples(t *testing.T) {
	examples := recExamples(t, "testdata/w3c-vc-data-model-2.0/rec-examples.json")
	docs := manifest(t)
	for u, n := range recContexts {
		docs[u] = []byte(examples[n-1].Tabs[0].Content)
	}
	k, err := New(docs)
	if err != nil {
		t.Fatal(err)
	}
	var checked, other []int
	for _, ex := range examples {
		tab := ex.Tabs[0]
		if tab.Tab != nil && *tab.Tab != "Unsecured credential" {
			t.Fatalf("example %d: first tab %q", ex.Number, *tab.Tab)
		}
		var c map[string]any
		if !tab.ValidJSON || json.Unmarshal([]byte(tab.Content), &c) != nil || !isCredential(c) {
			other = append(other, ex.Number)
			continue
		}
		if why, ok := recSkipped[ex.Number]; ok {
			t.Logf("example %d skipped: %s", ex.Number, why)
			continue
		}
		if _, ok := c["issuer"]; !ok {
			c["issuer"] = "did:example:issuer"
		}
		if err := k.Credential(c); err != nil {
			t.Errorf("example %d (%s): %v", ex.Number, ex.Title, err)
		}
		checked = append(checked, ex.Number)
	}
	t.Logf("credentials checked: %v; not credentials or not JSON as displayed: %v", checked, other)
	if len(checked) == 0 {
		t.Fatal("no example checked")
	}
}

func isCredential(c map[string]any) bool { return HasType(c, "VerifiableCredential") }

// TestRECSDJWT takes every "Secured with SD-JWT" tab of the REC (the
// vc+sd-jwt form Agora issues): the token parses, every Disclosure's
// digest is in the payload, the credential they rebuild passes the
// checker and equals the example's unsecured credential (less the JWT
// claims iat, exp, iss, cnf and _sd_alg). The signatures are not checked:
// the REC gives only the issuer key's kid, not the key.
func TestRECSDJWT(t *testing.T) {
	k := fullChecker(t)
	n := 0
	for _, ex := range recExamples(t, "testdata/w3c-vc-data-model-2.0/rec-examples.json") {
		for _, tab := range ex.Tabs {
			if tab.Tab == nil || *tab.Tab != "Secured with SD-JWT" {
				continue
			}
			n++
			c, err := rebuild(tab.Content)
			if err != nil {
				t.Errorf("example %d: %v", ex.Number, err)
				continue
			}
			if err := k.Credential(c); err != nil {
				t.Errorf("example %d: %v", ex.Number, err)
			}
			var want map[string]any
			if err := json.Unmarshal([]byte(ex.Tabs[0].Content), &want); err != nil {
				t.Logf("example %d: the unsecured tab is not JSON as displayed (%v); not compared", ex.Number, err)
				continue
			}
			for _, jwtClaim := range []string{"iat", "exp", "iss", "cnf", "_sd_alg"} {
				delete(c, jwtClaim)
			}
			got, _ := json.Marshal(c)
			exp, _ := json.Marshal(want)
			if string(got) != string(exp) {
				t.Errorf("example %d: rebuilt\n%s\nwant\n%s", ex.Number, got, exp)
			}
		}
	}
	t.Logf("%d SD-JWT examples rebuilt and checked", n)
	if n == 0 {
		t.Fatal("no SD-JWT tab found")
	}
}

// rebuild extracts the SD-JWT of a REC tab (the text from the first "eyJ"
// to the decoded header's "{", line breaks removed) and puts every
// Disclosure back where its digest is.
func rebuild(tab string) (map[string]any, error) {
	i := strings.Index(tab, "eyJ")
	if i < 0 {
		return nil, errors.New("no token in the tab")
	}
	enc, _, _ := strings.Cut(tab[i:], "{")
	enc = strings.Join(strings.Fields(enc), "")
	tok, err := sdjwt.Parse(enc)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(tok.JWT, ".")
	if len(parts) != 3 {
		return nil, errors.New("issuer JWT is not three parts")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var payload map[string]any
	if err := json.Unmarshal(raw, &payload); err != nil {
		return nil, err
	}
	if payload["_sd_alg"] != "sha-256" {
		return nil, fmt.Errorf("_sd_alg %v", payload["_sd_alg"])
	}
	byDigest := map[string]sdjwt.Disclosure{}
	for _, e := range tok.Disclosures {
		d, err := sdjwt.DecodeDisclosure(e)
		if err != nil {
			return nil, err
		}
		byDigest[sdjwt.Digest(e)] = d
	}
	out := disclose(payload, byDigest).(map[string]any)
	if len(byDigest) != 0 {
		return nil, fmt.Errorf("%d disclosures whose digest is nowhere in the payload", len(byDigest))
	}
	return out, nil
}

// disclose replaces _sd digests and {"...": digest} elements in v by the
// Disclosures (numbers as float64, like the unsecured tab), using each once.
func disclose(v any, byDigest map[string]sdjwt.Disclosure) any {
	use := func(dg string) (sdjwt.Disclosure, bool) {
		d, ok := byDigest[dg]
		delete(byDigest, dg)
		return d, ok
	}
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for name, x := range v {
			if name != "_sd" {
				out[name] = disclose(x, byDigest)
			}
		}
		digests, _ := v["_sd"].([]any)
		for _, dg := range digests {
			if d, ok := use(fmt.Sprint(dg)); ok && !d.IsElement {
				out[d.Name] = disclose(plain(d.Value), byDigest)
			}
		}
		return out
	case []any:
		var out []any
		for _, x := range v {
			if m, ok := x.(map[string]any); ok && len(m) == 1 && m["..."] != nil {
				if d, ok := use(fmt.Sprint(m["..."])); ok && d.IsElement {
					out = append(out, disclose(plain(d.Value), byDigest))
				}
				continue
			}
			out = append(out, disclose(x, byDigest))
		}
		return out
	}
	return v
}

// plain re-decodes v without json.Number.
func plain(v any) any {
	b, _ := json.Marshal(v)
	var out any
	json.Unmarshal(b, &out)
	return out
}

// TestBitstringRECExamples checks the Bitstring Status List REC's
// credentials that are JSON as displayed (examples 1, 3, 4, 5; 2, 6 and 7
// have "..." elisions or comments): each passes the checker, status
// entries included; the status list credential's encodedList decodes
// (internal/statuslist) to the 131,072 entries the REC gives, and the
// entries the examples point at in it read 0 (not revoked). The other
// lists they name (status/4, /5, /8) are not printed in the REC.
func TestBitstringRECExamples(t *testing.T) {
	k := fullChecker(t)
	examples := recExamples(t, "../statuslist/testdata/w3c-bitstring-status-list/rec-examples.json")
	lists := map[string]*statuslist.Bitstring{}
	var entries []map[string]any
	checked := 0
	for _, ex := range examples {
		tab := ex.Tabs[0]
		var c map[string]any
		if !tab.ValidJSON {
			continue
		}
		if err := json.Unmarshal([]byte(tab.Content), &c); err != nil {
			t.Fatalf("example %d: %v", ex.Number, err)
		}
		if err := k.Credential(c); err != nil {
			t.Errorf("example %d (%s): %v", ex.Number, ex.Title, err)
		}
		checked++
		if sub, ok := c["credentialSubject"].(map[string]any); ok && sub["type"] == "BitstringStatusList" {
			b, err := statuslist.DecodeBitstring(sub["encodedList"].(string), 1)
			if err != nil {
				t.Fatalf("example %d: %v", ex.Number, err)
			}
			if b.Len() != 131072 {
				t.Errorf("example %d: %d entries, want 131,072", ex.Number, b.Len())
			}
			lists[c["id"].(string)] = b
		}
		st, _ := objects("credentialStatus", c["credentialStatus"])
		entries = append(entries, st...)
	}
	if checked != 4 || len(lists) != 1 {
		t.Fatalf("%d credentials checked, %d lists, want 4 and 1", checked, len(lists))
	}
	read := 0
	for _, e := range entries {
		b, ok := lists[e["statusListCredential"].(string)]
		if !ok {
			continue
		}
		var i int
		fmt.Sscan(e["statusListIndex"].(string), &i)
		if v, err := b.Get(i); err != nil || v != 0 {
			t.Errorf("entry %d of %s: %d, %v; want 0", i, e["statusListCredential"], v, err)
		}
		read++
	}
	if read == 0 {
		t.Fatal("no status entry points at the REC's list")
	}
}

// TestBitstringEntryShape refuses BitstringStatusListEntry objects the
// Bitstring Status List spec forbids.
func TestBitstringEntryShape(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{
			"@context": []any{BaseContext}, "type": []any{"VerifiableCredential"}, "issuer": "did:example:i",
			"credentialSubject": map[string]any{"id": "did:example:s"},
			"credentialStatus": map[string]any{"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
				"statusListIndex": "7", "statusListCredential": "https://example.com/status/1"},
		}
	}
	if err := Check(base()); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(e map[string]any){
		"index a number":      func(e map[string]any) { e["statusListIndex"] = 7.0 },
		"index not decimal":   func(e map[string]any) { e["statusListIndex"] = "0x7" },
		"no purpose":          func(e map[string]any) { delete(e, "statusPurpose") },
		"list not a URL":      func(e map[string]any) { e["statusListCredential"] = "status 1" },
		"size 0":              func(e map[string]any) { e["statusSize"] = 0.0 },
		"size 2, no messages": func(e map[string]any) { e["statusSize"] = 2.0 },
	} {
		c := base()
		edit(c["credentialStatus"].(map[string]any))
		if err := Check(c); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
