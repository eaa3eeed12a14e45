package credential

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

// sdjwtvc is the folder of the SD-JWT VC draft's examples (copied from
// ../shared/testdata/sd-jwt-vc into internal/sdjwt).
var sdjwtvc = filepath.Join("..", "sdjwt", "testdata", "sd-jwt-vc", "draft-18-inline")

// runQuery answers the module's query name as the API does.
func runQuery(t *testing.T, kv *ledger.KV, name string, args map[string]string) (any, error) {
	t.Helper()
	for _, q := range (Module{}).Queries() {
		if q.Name == name {
			return q.Run(kv, func(n string) string { return args[n] })
		}
	}
	t.Fatalf("no query %s", name)
	return nil, nil
}

// asJSON is v marshalled and decoded again, as a client reads it.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWellKnownIssuerPath derives the route of issuer metadata by the
// draft's rule (the well-known segment between the issuer identifier
// URL's host and its path), checked first on the draft's own example
// requests, then on the issuer identifier of Agora's issuers.
func TestWellKnownIssuerPath(t *testing.T) {
	wellKnown := func(issuer string) string {
		u, err := url.Parse(issuer)
		if err != nil {
			t.Fatal(err)
		}
		return "/.well-known/jwt-vc-issuer" + strings.TrimSuffix(u.Path, "/")
	}
	for file, issuer := range map[string]string{
		"04-http-request-jwt-vc-issuer-metadata.txt":             "https://example.com",
		"05-http-request-jwt-vc-issuer-metadata-tenant-1234.txt": "https://example.com/tenant/1234",
	} {
		f, err := os.Open(filepath.Join(sdjwtvc, file))
		if err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		if want := "GET " + wellKnown(issuer) + " HTTP/1.1"; strings.TrimSpace(line) != want {
			t.Errorf("%s: %q, the rule gives %q", file, line, want)
		}
	}
	if got := "GET " + wellKnown("https://node.example/v1/credential/issuers/{did}"); got != IssuerMetadataPattern {
		t.Errorf("the route is %q, the rule gives %q", IssuerMetadataPattern, got)
	}
}

// TestIssuerMetadata reads an issuer's metadata: the draft's members
// (example 06), every key that acts for it as assertionMethod now, one
// a JWK Set parser (go-jose) takes as the issuer's keys, and none once a
// key is revoked or the issuer is no longer accredited.
func TestIssuerMetadata(t *testing.T) {
	c, issuer := newIssuer(t)
	second := ledgertest.Key(keySeed, "second", tx.Ed25519)
	if res := c.Do(identity.Name, []*tx.PrivateKey{issuer.key}, "add-key", &identity.AddKey{DID: issuer.did,
		Key: identity.KeySpec{PublicKey: second.Public(), Relationships: []string{AssertionMethod}}}); res.Code != "ok" {
		t.Fatalf("add-key: %s %s", res.Code, res.Error)
	}
	kv := func() *ledger.KV { return c.View(Name, nil) }
	ans, err := runQuery(t, kv(), "issuer-metadata", map[string]string{"did": issuer.did})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(ans)

	// The members of the draft's example, and in each key those of its keys.
	b, err := os.ReadFile(filepath.Join(sdjwtvc, "06-example-metadata-jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var example, ours struct {
		Issuer string `json:"issuer"`
		JWKS   struct {
			Keys []map[string]any `json:"keys"`
		} `json:"jwks"`
	}
	for _, x := range []struct {
		b []byte
		v any
	}{{b, &example}, {raw, &ours}} {
		dec := json.NewDecoder(bytes.NewReader(x.b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(x.v); err != nil {
			t.Fatalf("%s: %v", x.b, err)
		}
	}
	if ours.Issuer != issuer.did || len(ours.JWKS.Keys) != 2 {
		t.Fatalf("metadata %s", raw)
	}
	exampleMembers := slices.Sorted(maps.Keys(example.JWKS.Keys[0]))
	for _, k := range ours.JWKS.Keys {
		for m := range k {
			if !slices.Contains(exampleMembers, m) {
				t.Errorf("key member %q is not one of the example's %v", m, exampleMembers)
			}
		}
	}

	// A JOSE library reads the set as the issuer's two keys.
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(mustMarshal(t, ans.(*IssuerMetadata).JWKS)), &set); err != nil {
		t.Fatal(err)
	}
	for i, want := range []*tx.PrivateKey{issuer.key, second} {
		k := set.Keys[i]
		if pub, ok := k.Key.(ed25519.PublicKey); !ok || !bytes.Equal(pub, want.Public().Key) || k.KeyID != issuer.did+"#key-"+string('0'+rune(i)) {
			t.Errorf("key %d: %+v", i, k)
		}
	}

	// Revoked, a key leaves the set; withdrawn, the issuer has none.
	if res := c.Do(identity.Name, []*tx.PrivateKey{issuer.key}, "revoke", &identity.Revoke{DID: issuer.did, KeyID: "key-1"}); res.Code != "ok" {
		t.Fatalf("revoke: %s %s", res.Code, res.Error)
	}
	ans, err = runQuery(t, kv(), "issuer-metadata", map[string]string{"did": issuer.did})
	if err != nil || len(ans.(*IssuerMetadata).JWKS.Keys) != 1 {
		t.Fatalf("after a revocation: %+v, %v", ans, err)
	}
	if res := c.Do(gov.Name, []*tx.PrivateKey{ledgertest.Key(keySeed, "telco-id", tx.Ed25519)}, "set-entry",
		&gov.SetEntry{Resource: IssuersResource, Key: issuer.did, Delete: true}); res.Code != "ok" {
		t.Fatalf("withdraw: %s %s", res.Code, res.Error)
	}
	if _, err := runQuery(t, kv(), "issuer-metadata", map[string]string{"did": issuer.did}); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("withdrawn: %v", err)
	}
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTypeMetadataDocument registers the draft's Type Metadata examples
// as types and resolves each vct: the served document is the example.
func TestTypeMetadataDocument(t *testing.T) {
	c, issuer := newIssuer(t)
	if res := c.Do(gov.Name, []*tx.PrivateKey{ledgertest.Key(keySeed, "telco-id", tx.Ed25519)}, "set-entry",
		&gov.SetEntry{Resource: IssuersResource, Key: issuer.did, Value: "urn:,https:"}); res.Code != "ok" {
		t.Fatalf("accredit: %s %s", res.Code, res.Error)
	}
	for _, file := range []string{"09-example-type-metadata-document.json", "12-example-base-type-metadata.json",
		"13-example-child-type-metadata.json", "16-example-type-metadata.json"} {
		t.Run(file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(sdjwtvc, file))
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			vct := doc["vct"].(string)
			mustDo(t, c, issuer.key, "register-type", &RegisterType{Issuer: issuer.did, VCT: vct, Metadata: string(b)})
			ans, err := runQuery(t, c.View(Name, nil), "type-metadata", map[string]string{"vct": vct})
			if err != nil {
				t.Fatal(err)
			}
			if got := asJSON(t, ans); !reflect.DeepEqual(got, any(doc)) {
				t.Errorf("served %v\nwant the example %v", got, doc)
			}
		})
	}
	if _, err := runQuery(t, c.View(Name, nil), "type-metadata", map[string]string{"vct": "urn:x:none"}); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("an unregistered vct: %v", err)
	}
}
