package identity

import (
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

func TestBase58(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want string
	}{
		{nil, ""},
		{[]byte("hello world"), "StV1DL6CwTryKyV"},
		{[]byte{0, 0, 1}, "112"},
		{[]byte{0}, "1"},
		{[]byte{58}, "21"},
	} {
		if got := base58(c.in); got != c.want {
			t.Errorf("base58(%x) = %q, want %q", c.in, got, c.want)
		}
	}
}

var fragmentURL = regexp.MustCompile(`^did:agora:[a-z2-7]{52}#[A-Za-z0-9._-]+$`)

// checkDocument checks a document against DID Core: the required
// properties, the DID syntax, verification methods identified by DID URLs
// with fragments and unique, relationships that reference existing
// methods, and key material of the right form for each key.
func checkDocument(t *testing.T, d *Document, keys []Key) {
	t.Helper()
	if d.Context[0] != "https://www.w3.org/ns/did/v1" {
		t.Errorf("@context starts with %q", d.Context[0])
	}
	if _, err := ParseDID(d.ID); err != nil {
		t.Errorf("id: %v", err)
	}
	if d.Controller != d.ID {
		t.Errorf("controller %q, want the DID itself", d.Controller)
	}
	ids := map[string]*VerificationMethod{}
	for i := range d.VerificationMethod {
		vm := &d.VerificationMethod[i]
		if !fragmentURL.MatchString(vm.ID) || !strings.HasPrefix(vm.ID, d.ID+"#") {
			t.Errorf("method id %q is not a DID URL of %s with a fragment", vm.ID, d.ID)
		}
		if ids[vm.ID] != nil {
			t.Errorf("method id %q twice", vm.ID)
		}
		ids[vm.ID] = vm
		if vm.Controller != d.ID {
			t.Errorf("%s: controller %q", vm.ID, vm.Controller)
		}
		// One form of key material per method.
		switch vm.Type {
		case "Multikey":
			if vm.PublicKeyMultibase == "" || vm.PublicKeyJwk != nil {
				t.Errorf("%s: Multikey needs publicKeyMultibase alone", vm.ID)
			}
		case "JsonWebKey2020":
			if vm.PublicKeyJwk == nil || vm.PublicKeyMultibase != "" {
				t.Errorf("%s: JsonWebKey2020 needs publicKeyJwk alone", vm.ID)
			}
		default:
			t.Errorf("%s: type %q", vm.ID, vm.Type)
		}
	}
	for _, k := range keys {
		mk, jk := ids[d.ID+"#"+k.ID], ids[d.ID+"#"+k.ID+"-jwk"]
		if mk == nil || jk == nil {
			t.Errorf("key %s lacks a method", k.ID)
			continue
		}
		checkMultibase(t, mk.PublicKeyMultibase, k.PublicKey)
		checkJWK(t, jk.PublicKeyJwk, k.PublicKey)
	}
	for name, refs := range map[string][]string{Authentication: d.Authentication, AssertionMethod: d.AssertionMethod,
		KeyAgreement: d.KeyAgreement, CapabilityInvocation: d.CapabilityInvocation, CapabilityDelegation: d.CapabilityDelegation} {
		for _, r := range refs {
			if ids[r] == nil {
				t.Errorf("%s references %q, which is not a verification method", name, r)
			} else if ids[r].Status != "" {
				t.Errorf("%s references %q, which is %s", name, r, ids[r].Status)
			}
		}
	}
}

func checkMultibase(t *testing.T, mb string, k tx.PublicKey) {
	t.Helper()
	// The well-known prefixes of Multikey values.
	want := map[tx.Alg]string{tx.Ed25519: "z6Mk", tx.P256: "zDn", tx.Secp256k1: "zQ3s"}[k.Alg]
	if !strings.HasPrefix(mb, want) {
		t.Errorf("%s key: publicKeyMultibase %q does not start with %q", k.Alg, mb, want)
	}
	if mb != "z"+base58(append(slices.Clone(multicodec[k.Alg]), k.Key...)) {
		t.Errorf("%s key: publicKeyMultibase %q is not of the key", k.Alg, mb)
	}
}

func checkJWK(t *testing.T, j *JWK, k tx.PublicKey) {
	t.Helper()
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Errorf("JWK coordinate %q: %v", s, err)
		}
		return b
	}
	switch k.Alg {
	case tx.Ed25519:
		if j.Kty != "OKP" || j.Crv != "Ed25519" || string(dec(j.X)) != string(k.Key) || j.Y != "" {
			t.Errorf("Ed25519 JWK %+v", j)
		}
	case tx.P256:
		x, y := dec(j.X), dec(j.Y)
		if j.Kty != "EC" || j.Crv != "P-256" || len(x) != 32 || len(y) != 32 {
			t.Fatalf("P-256 JWK %+v", j)
		}
		bx, by := new(big.Int).SetBytes(x), new(big.Int).SetBytes(y)
		if !elliptic.P256().IsOnCurve(bx, by) || string(elliptic.MarshalCompressed(elliptic.P256(), bx, by)) != string(k.Key) {
			t.Errorf("P-256 JWK is not the key")
		}
	case tx.Secp256k1:
		if j.Kty != "EC" || j.Crv != "secp256k1" || len(dec(j.X)) != 32 || len(dec(j.Y)) != 32 {
			t.Errorf("secp256k1 JWK %+v", j)
		}
	}
}

func TestResolve(t *testing.T) {
	h := newLedger(t)
	k0 := keyFor(t, "k0", tx.Ed25519)
	k1 := keyFor(t, "k1", tx.P256)
	k2 := keyFor(t, "k2", tx.Ed25519)
	k3 := keyFor(t, "k3", tx.Secp256k1)
	did := h.create(k0, k1)
	created := h.Head.Time
	h.must(k0, "add-key", &AddKey{DID: did, Key: KeySpec{PublicKey: k3.Public(), Relationships: []string{AssertionMethod, KeyAgreement}}})
	h.must(k1, "rotate", &Rotate{DID: did, Key: k1.Public(), Next: Commitment(k2.Public())})
	rotated := h.Head.Time

	var rec ledger.Reads
	r, err := Resolve(h.view(&rec), did, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Iterated {
		t.Error("resolution iterated: it could not be proven")
	}
	st, _ := load(h.view(nil), did)
	checkDocument(t, r.Document, st.Keys)
	if r.ResolutionMetadata != (ResolutionMetadata{}) {
		t.Errorf("the resolve function's metadata has %+v, want nothing (DID Core § 7.1.2: no contentType)", r.ResolutionMetadata)
	}
	md := r.DocumentMetadata
	if md.VersionID != "3" || md.Deactivated || md.Created != stamp(created) || md.Updated != stamp(rotated) || md.NextVersionID != "" {
		t.Errorf("metadata %+v", md)
	}
	// The rotated-out key is listed with its status and referenced by no
	// relationship; the new controller invokes capabilities.
	wantCI := []string{did + "#key-2", did + "#key-2-jwk"}
	if !slices.Equal(r.Document.CapabilityInvocation, wantCI) {
		t.Errorf("capabilityInvocation %v, want %v", r.Document.CapabilityInvocation, wantCI)
	}
	if !slices.Equal(r.Document.KeyAgreement, []string{did + "#key-1", did + "#key-1-jwk"}) {
		t.Errorf("keyAgreement %v", r.Document.KeyAgreement)
	}
	if r.Document.VerificationMethod[0].Status != Rotated {
		t.Errorf("old controller %+v", r.Document.VerificationMethod[0])
	}
	// Stable JSON property names of DID Core and DID Resolution.
	b, _ := json.Marshal(r)
	for _, p := range []string{`"didDocument"`, `"didResolutionMetadata"`, `"didDocumentMetadata"`, `"verificationMethod"`, `"publicKeyJwk"`, `"publicKeyMultibase"`, `"versionId"`} {
		if !strings.Contains(string(b), p) {
			t.Errorf("resolution lacks %s", p)
		}
	}

	// Historical resolution, by version and by time.
	old, err := Resolve(h.view(nil), did, "1", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(old.Document.VerificationMethod) != 2 || old.DocumentMetadata.VersionID != "1" || old.DocumentMetadata.NextVersionID != "2" ||
		!slices.Equal(old.Document.CapabilityInvocation, []string{did + "#key-0", did + "#key-0-jwk"}) {
		t.Errorf("version 1: %+v", old)
	}
	checkDocument(t, old.Document, nil)
	at := time.UnixMilli(created).UTC().Add(500 * time.Millisecond).Format(time.RFC3339Nano)
	byTime, err := Resolve(h.view(nil), did, "", at)
	if err != nil || byTime.DocumentMetadata.VersionID != "1" {
		t.Errorf("at %s: %v %+v", at, err, byTime)
	}
	now, err := Resolve(h.view(nil), did, "", time.UnixMilli(rotated).UTC().Add(time.Hour).Format(time.RFC3339))
	if err != nil || now.DocumentMetadata.VersionID != "3" {
		t.Errorf("an hour later: %v %+v", err, now)
	}

	for _, c := range []struct {
		desc, did, vid, vt string
		err                error
		code               string
	}{
		{desc: "not a DID", did: "alice", err: ledger.ErrInvalid, code: InvalidDid},
		{desc: "DID syntax, method with upper case", did: "did:Agora:x", err: ledger.ErrInvalid, code: InvalidDid},
		{desc: "DID syntax, ends with a colon", did: "did:web:example.com:", err: ledger.ErrInvalid, code: InvalidDid},
		{desc: "another method", did: "did:web:example.com", err: ledger.ErrInvalid, code: MethodNotSupported},
		{desc: "did:agora with a malformed id", did: "did:agora:nope", err: ledger.ErrInvalid, code: InvalidDid},
		{desc: "a DID URL", did: did + "#key-0", err: ledger.ErrInvalid, code: InvalidDid},
		{desc: "unknown", did: "did:agora:" + strings.Repeat("a", 52), err: ledger.ErrNotFound, code: NotFound},
		{desc: "version 0", did: did, vid: "0", err: ledger.ErrInvalid, code: InvalidOptions},
		{desc: "a version to come", did: did, vid: "4", err: ledger.ErrNotFound, code: NotFound},
		{desc: "both", did: did, vid: "1", vt: at, err: ledger.ErrInvalid, code: InvalidOptions},
		{desc: "bad time", did: did, vt: "yesterday", err: ledger.ErrInvalid, code: InvalidOptions},
		{desc: "before creation", did: did, vt: "2000-01-01T00:00:00Z", err: ledger.ErrNotFound, code: NotFound},
	} {
		if r, err := Resolve(h.view(nil), c.did, c.vid, c.vt); !errors.Is(err, c.err) || r != nil || ErrorCode(err) != c.code {
			t.Errorf("%s: %v (%s), want %v (%s)", c.desc, err, ErrorCode(err), c.err, c.code)
		}
	}

	// Deactivated: the last document comes back with ErrGone, without
	// relationships; earlier versions still resolve.
	h.must(k1, "deactivate", &Deactivate{DID: did})
	h.must(k1, "complete-change", &ChangeStep{DID: did, complete: true})
	r, err = Resolve(h.view(nil), did, "", "")
	if !errors.Is(err, ledger.ErrGone) || r == nil || !r.DocumentMetadata.Deactivated {
		t.Fatalf("deactivated: %v %+v", err, r)
	}
	if len(r.Document.CapabilityInvocation)+len(r.Document.Authentication) != 0 {
		t.Errorf("a deactivated document still has relationships: %+v", r.Document)
	}
	if _, err := Resolve(h.view(nil), did, "3", ""); err != nil {
		t.Errorf("version 3 of a deactivated DID: %v", err)
	}
}
