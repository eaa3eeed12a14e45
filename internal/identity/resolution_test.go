package identity

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestVersionTimeMatchesMetadata: the metadata's times are to the second
// while block times have milliseconds, so resolving as of a version's own
// created or updated time must give that version, and version 1 has no
// updated (it was never updated).
func TestVersionTimeMatchesMetadata(t *testing.T) {
	h := newLedger(t)
	h.Tick = 1250 * time.Millisecond // block times with milliseconds
	k0, k1, k2 := keyFor(t, "vt0", tx.Ed25519), keyFor(t, "vt1", tx.P256), keyFor(t, "vt2", tx.Ed25519)
	did := h.create(k0, k1)
	h.must(k0, "add-key", &AddKey{DID: did, Key: KeySpec{PublicKey: k2.Public(), Relationships: []string{AssertionMethod}}})
	h.must(k0, "suspend", &SetStatus{DID: did, KeyID: "key-1"})
	h.must(k1, "rotate", &Rotate{DID: did, Key: k1.Public(), Next: Commitment(k0.Public())})
	for v := uint64(1); v <= 4; v++ {
		vid := strconv.FormatUint(v, 10)
		r, err := Resolve(h.view(nil), did, vid, "")
		if err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
		md := r.DocumentMetadata
		at := md.Updated
		if v == 1 {
			if md.Updated != "" {
				t.Errorf("version 1 has updated %q: it was never updated", md.Updated)
			}
			at = md.Created
		} else if md.Updated == "" || md.Updated < md.Created {
			t.Errorf("version %d: updated %q, created %q", v, md.Updated, md.Created)
		}
		byTime, err := Resolve(h.view(nil), did, "", at)
		if err != nil {
			t.Errorf("version %d: versionTime=%s (its own time): %v", v, at, err)
			continue
		}
		if byTime.DocumentMetadata.VersionID != vid {
			t.Errorf("versionTime=%s, version %d's own time, resolves version %s", at, v, byTime.DocumentMetadata.VersionID)
		}
	}
}

// TestDereference dereferences DID URLs: a fragment selects a
// verification method, a service parameter a service (none in did:agora),
// and errors carry their DID Resolution codes.
func TestDereference(t *testing.T) {
	h := newLedger(t)
	k0, k1 := keyFor(t, "deref0", tx.Ed25519), keyFor(t, "deref1", tx.P256)
	did := h.create(k0, k1)
	for _, frag := range []string{"key-0", "key-0-jwk"} {
		var rec ledger.Reads
		d, err := Dereference(h.view(&rec), did+"#"+frag, "", "", "")
		if err != nil {
			t.Fatalf("#%s: %v", frag, err)
		}
		if rec.Iterated {
			t.Error("dereferencing iterated: it could not be proven")
		}
		res, _ := d.Content.(*Resource)
		if res == nil || res.ID != did+"#"+frag || d.ContentMetadata.VersionID != "1" || !slices.Equal(res.Context, Contexts) ||
			d.Metadata.ContentType != ContentType {
			t.Errorf("#%s: %+v", frag, d)
		}
	}
	for _, c := range []struct {
		desc, url, service, code string
	}{
		{desc: "unknown fragment", url: did + "#key-9", code: NotFound},
		{desc: "a service", url: did, service: "files", code: NotFound},
		{desc: "two fragments", url: did + "#key-0#key-1", code: InvalidDidURL},
		{desc: "empty fragment", url: did + "#", code: InvalidDidURL},
		{desc: "unknown DID", url: "did:agora:" + strings.Repeat("a", 52) + "#key-0", code: NotFound},
		{desc: "another method", url: "did:example:123#key-0", code: MethodNotSupported},
		{desc: "not a DID URL", url: "bad:invalid", code: InvalidDid},
	} {
		d, err := Dereference(h.view(nil), c.url, "", "", c.service)
		if d != nil || ErrorCode(err) != c.code {
			t.Errorf("%s: %v (%s), want %s", c.desc, err, ErrorCode(err), c.code)
		}
	}
	if d, err := Dereference(h.view(nil), did, "", "", ""); err != nil || d.Content.(*Document).ID != did {
		t.Errorf("the DID itself: %v %+v", err, d)
	}
	// The query dereferences a DID URL and resolves a DID.
	var q ledger.Query
	for _, qq := range (Module{}).Queries() {
		if qq.Name == "resolve" {
			q = qq
		}
	}
	for arg, want := range map[string]any{did + "#key-0": &Dereferencing{}, did: &Resolution{}} {
		ans, err := q.Run(h.view(nil), func(name string) string { return map[string]string{"did": arg}[name] })
		if err != nil || (ans == nil) || (func() bool { _, ok := ans.(*Dereferencing); _, w := want.(*Dereferencing); return ok != w })() {
			t.Errorf("resolve %s: %T (%v)", arg, ans, err)
		}
	}
}

// TestContextsDefineEveryTerm expands a DID document's terms the way a
// JSON-LD processor does (the active context from the contexts the
// document names, type-scoped contexts for typed nodes) and requires
// every property and every type to be defined: a term that is not is
// dropped by JSON-LD processing.
func TestContextsDefineEveryTerm(t *testing.T) {
	h := newLedger(t)
	k0, k1 := keyFor(t, "ld0", tx.Ed25519), keyFor(t, "ld1", tx.P256)
	k2, k3 := keyFor(t, "ld2", tx.Secp256k1), keyFor(t, "ld3", tx.P256)
	did := h.create(k0, k1)
	h.must(k0, "add-key", &AddKey{DID: did, Key: KeySpec{PublicKey: k2.Public(), Relationships: []string{AssertionMethod, KeyAgreement}}})
	h.must(k0, "add-key", &AddKey{DID: did, Key: KeySpec{PublicKey: k3.Public(), Relationships: []string{Authentication}}})
	h.must(k0, "revoke", &Revoke{DID: did, KeyID: "key-1"})
	h.must(k0, "suspend", &SetStatus{DID: did, KeyID: "key-2"})
	r, err := Resolve(h.view(nil), did, "", "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r.Document)
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"agoraKeyStatus"`, `"revoked"`, `"publicKeyJwk"`, `"publicKeyMultibase"`} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("the document lacks %s: the test would prove nothing", want)
		}
	}
	active := map[string]any{}
	for _, c := range doc["@context"].([]any) {
		var raw []byte
		switch c {
		case "https://www.w3.org/ns/did/v1":
			raw, err = os.ReadFile("testdata/did-v1.jsonld")
		case Context:
			raw = ContextDocument
		default:
			t.Fatalf("@context %v: not a context the test (or an offline processor) has", c)
		}
		if err != nil {
			t.Fatal(err)
		}
		var cd struct {
			Context map[string]any `json:"@context"`
		}
		if err := json.Unmarshal(raw, &cd); err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		for k, v := range cd.Context {
			if prev, ok := active[k]; ok && !strings.HasPrefix(k, "@") && !jsonEqual(prev, v) {
				t.Errorf("%v redefines the protected term %q", c, k)
			}
			active[k] = v
		}
	}
	for _, problem := range undefinedTerms(doc, active, "") {
		t.Error(problem)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// undefinedTerms lists the properties and types of node (and the nodes
// in it) that active does not define.
func undefinedTerms(node map[string]any, active map[string]any, path string) []string {
	var out []string
	if typ, ok := node["type"].(string); ok {
		def, ok := active[typ]
		if !ok {
			out = append(out, path+": type "+typ+" is not defined")
		} else if d, ok := def.(map[string]any); ok {
			if scoped, ok := d["@context"].(map[string]any); ok {
				active = merged(active, scoped)
			}
		}
	}
	for k, v := range node {
		if strings.HasPrefix(k, "@") {
			continue
		}
		def, ok := active[k]
		if !ok {
			out = append(out, path+"/"+k+" is not defined: JSON-LD drops it")
			continue
		}
		inner := active
		if d, ok := def.(map[string]any); ok {
			if d["@type"] == "@json" {
				continue // a JSON literal: its members are not terms
			}
			if scoped, ok := d["@context"].(map[string]any); ok {
				inner = merged(active, scoped)
			}
		}
		var nodes []any
		switch v := v.(type) {
		case map[string]any:
			nodes = []any{v}
		case []any:
			nodes = v
		}
		for i, n := range nodes {
			if m, ok := n.(map[string]any); ok {
				out = append(out, undefinedTerms(m, inner, path+"/"+k+"/"+strconv.Itoa(i))...)
			}
		}
	}
	slices.Sort(out)
	return out
}

func merged(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// TestEd25519KeyAgreementRefused: an Ed25519 key signs and cannot agree
// on a key, so neither create nor add-key gives it keyAgreement.
func TestEd25519KeyAgreementRefused(t *testing.T) {
	h := newLedger(t)
	k0, k1, k2 := keyFor(t, "ka0", tx.Ed25519), keyFor(t, "ka1", tx.P256), keyFor(t, "ka2", tx.Ed25519)
	c := &Create{Keys: []KeySpec{{PublicKey: k0.Public(), Relationships: []string{KeyAgreement, CapabilityInvocation}}}, Next: Commitment(k1.Public())}
	if err := c.Validate(); !errors.Is(err, ledger.ErrInvalid) {
		t.Errorf("create with an Ed25519 keyAgreement key: %v", err)
	}
	did := h.create(k0, k1)
	if err := (&AddKey{DID: did, Key: KeySpec{PublicKey: k2.Public(), Relationships: []string{KeyAgreement}}}).Validate(); !errors.Is(err, ledger.ErrInvalid) {
		t.Errorf("add-key of an Ed25519 keyAgreement key: %v", err)
	}
	h.must(k0, "add-key", &AddKey{DID: did, Key: KeySpec{PublicKey: keyFor(t, "ka3", tx.Secp256k1).Public(), Relationships: []string{KeyAgreement}}})
}
