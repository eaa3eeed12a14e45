// Command crosscheck checks Agora's SD-JWT VCs against an independent implementation,
// the OpenWallet Foundation's sd-jwt-js (@sd-jwt/sd-jwt-vc with @sd-jwt/crypto-nodejs
// and jose, and node's crypto for ES256K): it verifies presentations Agora issued
// (Ed25519, ES256 and ES256K, recursive and
// array disclosures, Key Binding, a status list entry read from Agora's statuslist+jwt
// token, a revoked entry that must be refused) with sd-jwt-js; the token, made as the
// ledger takes it (credential.SignListToken), alone: jose verifies it under its jwk
// header and @sd-jwt/jwt-status-list reads its entries; and a presentation
// sd-jwt-js issued with Agora's verifier, and requires both sides to agree on every
// claim and on refusing a presentation whose KB-JWT no longer covers it. It needs node and, in this folder, npm ci; .ci/run runs it:
//
//	npm ci --prefix tools/crosscheck && go run ./tools/crosscheck
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/agora-ledger/agora/internal/credential"
	"github.com/agora-ledger/agora/internal/credential/credentialcli"
	"github.com/agora-ledger/agora/internal/sdjwt"
	"github.com/agora-ledger/agora/internal/statuslist"
)

const (
	aud = "https://verifier.agora.example"
	// statusURI is an Agora list's token URL, the sub of the token the
	// ledger takes (credential.SignListToken, as agora vc publish signs it).
	statusURI  = "https://node.agora.example/v1/credential/lists/kyc-1/token"
	statusIss  = "did:agora:issuer"
	statusKID  = statusIss + "#key-0"
	revokedIdx = 3
)

func main() {
	dir := flag.String("dir", "tools/crosscheck", "the folder of crosscheck.mjs and its node_modules")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: go run ./tools/crosscheck [-dir tools/crosscheck]\n\n"+
			"Verifies Agora's SD-JWT VCs with sd-jwt-js and sd-jwt-js's with Agora.\n"+
			"Run npm ci --prefix tools/crosscheck first.\n")
	}
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "crosscheck:", err)
		os.Exit(1)
	}
}

// presentation is one of Agora's, as sd-jwt-js receives it.
type presentation struct {
	Name            string          `json:"name"`
	Presentation    string          `json:"presentation"`
	IssuerJWK       json.RawMessage `json:"issuerJwk"`
	StatusListToken string          `json:"statusListToken"`
	wantRefused     string          // the error sd-jwt-js must give, or "" to accept
	claims          map[string]any  // what Agora's own verifier made of it
}

type result struct {
	Verified []struct {
		Name   string         `json:"name"`
		OK     bool           `json:"ok"`
		Claims map[string]any `json:"claims"`
		Error  string         `json:"error"`
	} `json:"verified"`
	Theirs []theirs `json:"theirs"`
	// W3C is what @sd-jwt/core and jose made of Agora's W3C form: the
	// vc+sd-jwt credential and the holder's vp+sd-jwt presentation of it.
	W3C struct {
		OK           bool           `json:"ok"`
		Error        string         `json:"error"`
		Credential   map[string]any `json:"credential"`
		Types        []string       `json:"types"` // the credential's typ, then the presentation's
		Presentation map[string]any `json:"presentation"`
	} `json:"w3c"`
	// Token is what jose and @sd-jwt/jwt-status-list read of the first
	// presentation's status list token on their own.
	Token struct {
		Header   map[string]any `json:"header"`
		Sub      string         `json:"sub"`
		Iss      string         `json:"iss"`
		Statuses []int          `json:"statuses"`
		Error    string         `json:"error"`
	} `json:"token"`
}

func run(dir string) error {
	now := time.Now().Truncate(time.Second)
	nonce := rand.Text()
	_, edIssuer, _ := ed25519.GenerateKey(rand.Reader)
	_, edHolder, _ := ed25519.GenerateKey(rand.Reader)
	ecIssuer, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecHolder, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k1Issuer, _ := secp256k1.GeneratePrivateKey()
	k1Holder, _ := secp256k1.GeneratePrivateKey()
	// One key signs every status list token, whatever signed the credential.
	_, statusKey, _ := ed25519.GenerateKey(rand.Reader)

	var ps []*presentation
	for _, c := range []struct {
		name        string
		alg         jose.SignatureAlgorithm
		issuer      any
		holder      any
		idx         int64
		keep        func(sdjwt.Path) bool
		wantRefused string
	}{
		{"ed25519, everything disclosed", jose.EdDSA, edIssuer, edHolder, 5, sdjwt.Everything, ""},
		{"es256, some disclosed", jose.ES256, ecIssuer, ecHolder, 6, func(p sdjwt.Path) bool {
			s := p.String()
			return s == "/address/locality" || s == "/roles/1"
		}, ""},
		{"es256k, everything disclosed", sdjwt.ES256K, k1Issuer, k1Holder, 8, sdjwt.Everything, ""},
		{"ed25519, revoked", jose.EdDSA, edIssuer, edHolder, revokedIdx, sdjwt.Everything, "Status is not valid"},
	} {
		p, err := agoraPresentation(c.name, c.alg, c.issuer, c.holder, statusKey, c.idx, c.keep, nonce, now)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		p.wantRefused = c.wantRefused
		ps = append(ps, p)
	}

	// The first presentation with one Disclosure dropped after the holder signed: the
	// KB-JWT's sd_hash no longer matches, and both sides must say so.
	tok, err := sdjwt.Parse(ps[0].Presentation)
	if err != nil {
		return err
	}
	var kept []string
	for _, d := range tok.Disclosures {
		if dd, err := sdjwt.DecodeDisclosure(d); err != nil || dd.Name != "member_name" {
			kept = append(kept, d) // drop member_name's: a leaf, so nothing else breaks
		}
	}
	if len(kept) != len(tok.Disclosures)-1 {
		return fmt.Errorf("member_name's disclosure not found")
	}
	tok.Disclosures = kept
	tampered := *ps[0]
	tampered.Name, tampered.Presentation, tampered.wantRefused = "ed25519, disclosure dropped", tok.String(), "sd_hash"
	if _, err := sdjwt.VerifyVC(tampered.Presentation, sdjwt.Verification{
		IssuerKey: sdjwt.StaticKey(edIssuer.Public()), Now: now,
		KeyBinding: &sdjwt.KeyBindingPolicy{Audience: aud, Nonce: nonce, MaxAge: time.Minute},
	}); !errors.Is(err, sdjwt.ErrKeyBinding) {
		return fmt.Errorf("agora accepts a presentation whose disclosure was dropped: %v", err)
	}
	ps = append(ps, &tampered)

	// The W3C form: a vc+sd-jwt credential with some claims disclosed, and
	// the holder's vp+sd-jwt presentation enveloping it.
	const w3cIss, w3cSub = "did:agora:w3c-issuer", "did:agora:w3c-holder"
	w3cCred, w3cVP, err := credentialcli.W3CPresentation(edIssuer, edHolder, w3cIss, "urn:agora:vct:kyc:v1", w3cSub, statusURI, 9,
		sdjwt.Object{{Name: "age_over_18", Value: sdjwt.SD{Value: true}}, {Name: "country", Value: sdjwt.SD{Value: "JP"}},
			{Name: "given_name", Value: sdjwt.SD{Value: "Alice"}}},
		func(p sdjwt.Path) bool {
			s := p.String()
			return strings.HasSuffix(s, "/age_over_18") || strings.HasSuffix(s, "/country")
		},
		aud, nonce, now)
	if err != nil {
		return fmt.Errorf("the W3C form: %w", err)
	}
	in, err := json.Marshal(map[string]any{
		"presentations": ps, "nonce": nonce, "aud": aud, "now": now.Unix(), "statusListURI": statusURI,
		"statusJwk": publicJWK(statusKey),
		"w3c": map[string]any{"credential": w3cCred, "presentation": w3cVP,
			"issuerJwk": publicJWK(edIssuer), "holderJwk": publicJWK(edHolder)},
	})
	if err != nil {
		return err
	}
	cmd := exec.Command("node", filepath.Join(dir, "crosscheck.mjs"))
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("node: %w (did npm ci --prefix %s run?)", err, dir)
	}
	var r result
	if err := json.Unmarshal(out, &r); err != nil {
		return fmt.Errorf("node's answer: %w", err)
	}

	var errs []error
	if len(r.Verified) != len(ps) {
		return fmt.Errorf("sd-jwt-js answered for %d presentations, not %d", len(r.Verified), len(ps))
	}
	for i, v := range r.Verified {
		p := ps[i]
		switch {
		case p.wantRefused != "" && v.OK:
			errs = append(errs, fmt.Errorf("%s: sd-jwt-js accepted it", p.Name))
		case p.wantRefused != "" && !strings.Contains(v.Error, p.wantRefused):
			errs = append(errs, fmt.Errorf("%s: sd-jwt-js refused it for another reason: %s", p.Name, v.Error))
		case p.wantRefused == "" && !v.OK:
			errs = append(errs, fmt.Errorf("%s: sd-jwt-js refused it: %s", p.Name, v.Error))
		case p.wantRefused == "":
			if diff := cmp.Diff(p.claims, normalize(v.Claims)); diff != "" {
				errs = append(errs, fmt.Errorf("%s: claims differ (-agora +sd-jwt-js):\n%s", p.Name, diff))
			}
		}
		fmt.Printf("agora → sd-jwt-js: %-30s ok=%v %s\n", p.Name, v.OK, v.Error)
	}
	// The token alone: jose verifies it under the key of its jwk header
	// (which must be the status key) and jwt-status-list reads every entry.
	want := make([]int, 16)
	want[revokedIdx], want[7] = statuslist.Invalid, statuslist.Suspended
	tk := r.Token
	switch {
	case tk.Error != "":
		errs = append(errs, fmt.Errorf("the status list token: sd-jwt-js/jose: %s", tk.Error))
	case tk.Header["typ"] != statuslist.TokenType || tk.Header["kid"] != statusKID || tk.Sub != statusURI || tk.Iss != statusIss:
		errs = append(errs, fmt.Errorf("the status list token: header %v, sub %q, iss %q", tk.Header, tk.Sub, tk.Iss))
	case !slices.Equal(tk.Statuses, want):
		errs = append(errs, fmt.Errorf("the status list token: jwt-status-list reads %v, want %v", tk.Statuses, want))
	}
	fmt.Printf("agora → jose, jwt-status-list: the status list token, entries 0-15 %v ok=%v\n", tk.Statuses, len(errs) == 0)
	w := r.W3C
	subject, _ := w.Credential["credentialSubject"].(map[string]any)
	envelope := ""
	if vcs, _ := w.Presentation["verifiableCredential"].([]any); len(vcs) == 1 {
		if e, _ := vcs[0].(map[string]any); e["type"] == "EnvelopedVerifiableCredential" {
			envelope, _ = e["id"].(string)
		}
	}
	switch {
	case !w.OK:
		errs = append(errs, fmt.Errorf("the W3C form: @sd-jwt/core refused it: %s", w.Error))
	case !slices.Equal(w.Types, []string{"vc+sd-jwt", "vp+sd-jwt"}):
		errs = append(errs, fmt.Errorf("the W3C form: typ %v", w.Types))
	case subject["id"] != w3cSub || subject["age_over_18"] != true || subject["country"] != "JP" || subject["given_name"] != nil:
		errs = append(errs, fmt.Errorf("the W3C form: @sd-jwt/core read the subject %v, want the id, age_over_18 and country only", subject))
	case w.Credential["issuer"] != w3cIss:
		errs = append(errs, fmt.Errorf("the W3C form: issuer %v", w.Credential["issuer"]))
	case envelope != "data:application/vc+sd-jwt,"+w3cCred:
		errs = append(errs, fmt.Errorf("the W3C form: the presentation envelopes %.60q…, not the credential", envelope))
	case w.Presentation["holder"] != w3cSub || w.Presentation["aud"] != aud || w.Presentation["nonce"] != nonce:
		errs = append(errs, fmt.Errorf("the W3C form: the presentation's holder, aud, nonce: %v %v %v", w.Presentation["holder"], w.Presentation["aud"], w.Presentation["nonce"]))
	}
	fmt.Printf("agora → @sd-jwt/core, jose: the W3C form (vc+sd-jwt, vp+sd-jwt) ok=%v %s\n", w.OK, w.Error)
	if len(r.Theirs) != 2 {
		errs = append(errs, fmt.Errorf("sd-jwt-js issued %d presentations, not 2", len(r.Theirs)))
	}
	for _, t := range r.Theirs {
		err := checkTheirs(t, nonce, now)
		if err != nil {
			errs = append(errs, err)
		}
		fmt.Printf("sd-jwt-js → agora: %-30s ok=%v\n", strings.ToLower(t.Alg)+", some disclosed", err == nil)
	}
	return errors.Join(errs...)
}

// agoraPresentation issues an SD-JWT VC, its status list token, and a presentation with
// Key Binding, and records what Agora's own verifier makes of it.
func agoraPresentation(name string, alg jose.SignatureAlgorithm, issuer, holder any, statusKey ed25519.PrivateKey,
	idx int64, keep func(sdjwt.Path) bool, nonce string, now time.Time) (*presentation, error) {
	issuerKey := jose.SigningKey{Algorithm: alg, Key: issuer}
	holderPub := &jose.JSONWebKey{Key: publicOf(holder)}
	claims := sdjwt.Object{
		{Name: "iss", Value: "https://issuer.agora.example"},
		{Name: "iat", Value: now.Unix()},
		{Name: "exp", Value: now.Add(time.Hour).Unix()},
		{Name: "vct", Value: "https://credentials.example/membership"},
		sdjwt.StatusClaim(idx, statusURI),
		{Name: "member_name", Value: sdjwt.SD{Value: "Ada"}},
		{Name: "address", Value: sdjwt.SD{Value: sdjwt.Object{
			{Name: "locality", Value: sdjwt.SD{Value: "London"}},
			{Name: "country", Value: sdjwt.SD{Value: "GB"}},
		}}},
		{Name: "roles", Value: []any{sdjwt.SD{Value: "board"}, sdjwt.SD{Value: "audit"}, "member"}},
	}
	issued, err := sdjwt.IssueVC(claims, sdjwt.Issuance{Key: issuerKey, Holder: holderPub, MinDecoys: 1, MaxDecoys: 3, Rand: rand.Reader})
	if err != nil {
		return nil, err
	}
	pres, err := sdjwt.Present(issued, keep, &sdjwt.Binding{
		Key: jose.SigningKey{Algorithm: alg, Key: holder}, Audience: aud, Nonce: nonce, IssuedAt: now,
	})
	if err != nil {
		return nil, err
	}
	list, err := statuslist.New(2, 64)
	if err != nil {
		return nil, err
	}
	if err := list.Set(revokedIdx, statuslist.Invalid); err != nil {
		return nil, err
	}
	if err := list.Set(7, statuslist.Suspended); err != nil {
		return nil, err
	}
	token, err := credential.SignListToken(statusKey, statusKID, statusIss, statusURI, list, now, now.Add(time.Hour), time.Hour)
	if err != nil {
		return nil, err
	}
	vc, err := sdjwt.VerifyVC(pres.String(), sdjwt.Verification{
		IssuerKey: sdjwt.StaticKey(publicOf(issuer)), Now: now,
		KeyBinding: &sdjwt.KeyBindingPolicy{Audience: aud, Nonce: nonce, MaxAge: time.Minute},
	})
	if err != nil {
		return nil, fmt.Errorf("agora refuses its own presentation: %w", err)
	}
	return &presentation{Name: name, Presentation: pres.String(), IssuerJWK: publicJWK(issuer), StatusListToken: token, claims: normalize(vc.Claims)}, nil
}

// theirs is a presentation sd-jwt-js issued.
type theirs struct {
	Alg          string          `json:"alg"`
	IssuerJWK    json.RawMessage `json:"issuerJwk"`
	Presentation string          `json:"presentation"`
}

// checkTheirs verifies one of sd-jwt-js's presentations with Agora.
func checkTheirs(t theirs, nonce string, now time.Time) error {
	issuer, err := parseJWK(t.IssuerJWK)
	if err != nil {
		return fmt.Errorf("sd-jwt-js's %s issuer key: %w", t.Alg, err)
	}
	vc, err := sdjwt.VerifyVC(t.Presentation, sdjwt.Verification{
		IssuerKey: sdjwt.StaticKey(issuer), Now: now,
		KeyBinding: &sdjwt.KeyBindingPolicy{Audience: aud, Nonce: nonce, MaxAge: time.Minute},
	})
	if err != nil {
		return fmt.Errorf("agora refuses sd-jwt-js's %s presentation: %w", t.Alg, err)
	}
	got := normalize(vc.Claims)
	delete(got, "cnf")
	want := normalize(map[string]any{
		"iss": "https://sd-jwt-js.example", "iat": now.Unix(), "vct": "https://credentials.example/membership",
		"member_name": "Ada", "address": map[string]any{"locality": "London"}, "roles": []any{"audit"},
	})
	if diff := cmp.Diff(want, got); diff != "" {
		return fmt.Errorf("sd-jwt-js's %s presentation: claims differ (-want +agora):\n%s", t.Alg, diff)
	}
	return nil
}

// parseJWK reads a public JWK: secp256k1 by hand, any other by go-jose.
func parseJWK(raw json.RawMessage) (any, error) {
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err == nil && m["crv"] == "secp256k1" {
		x, errX := base64.RawURLEncoding.DecodeString(m["x"])
		y, errY := base64.RawURLEncoding.DecodeString(m["y"])
		if errX != nil || errY != nil {
			return nil, fmt.Errorf("secp256k1 JWK: bad x or y")
		}
		return secp256k1.ParsePubKey(append(append([]byte{4}, x...), y...))
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	return &jwk, nil
}

func publicOf(k any) any {
	switch k := k.(type) {
	case ed25519.PrivateKey:
		return k.Public()
	case *ecdsa.PrivateKey:
		return &k.PublicKey
	case *secp256k1.PrivateKey:
		return k.PubKey()
	}
	panic(fmt.Sprintf("crosscheck: key type %T", k))
}

// publicJWK is the public JWK of a private key; go-jose has no secp256k1 JWK, so that
// one is written here (RFC 8812 Section 3.1).
func publicJWK(k any) json.RawMessage {
	if k1, ok := k.(*secp256k1.PrivateKey); ok {
		b := k1.PubKey().SerializeUncompressed()
		j, _ := json.Marshal(map[string]string{
			"kty": "EC", "crv": "secp256k1",
			"x": base64.RawURLEncoding.EncodeToString(b[1:33]), "y": base64.RawURLEncoding.EncodeToString(b[33:]),
		})
		return j
	}
	j, err := (&jose.JSONWebKey{Key: publicOf(k)}).MarshalJSON()
	if err != nil {
		panic(err)
	}
	return j
}

// normalize makes claims from either side comparable: JSON, numbers as float64.
func normalize(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	return m
}
