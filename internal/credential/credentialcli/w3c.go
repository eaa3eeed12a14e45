package credentialcli

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agora-ledger/agora/internal/sdjwt"
	"github.com/agora-ledger/agora/internal/vcdm"
)

// The W3C form: a Verifiable Credential of the VC Data Model 2.0 secured
// with SD-JWT (media type application/vc+sd-jwt, typ "vc+sd-jwt"). The
// credential type (vct) is its second "type"; the subject's claims are
// selectively disclosable members of credentialSubject; its status is a
// BitstringStatusListEntry of the same ledger list, whose Bitstring
// Status List credential the ledger serves. Its @context is the VC 2.0
// base context and an object whose @vocab is the credential type, so the
// subject's claims are terms (vct#claim) without naming them in the
// clear. internal/vcdm checks it against the data model on issuance and
// on verification.
const (
	w3cTyp     = "vc+sd-jwt"
	w3cContext = vcdm.BaseContext
	subjectKey = "credentialSubject"
)

// claimVocab is the @vocab of the subject's claims of credential type vct.
func claimVocab(vct string) string {
	if strings.Contains(vct, "#") {
		return vct + "/"
	}
	return vct + "#"
}

// issueW3C signs the W3C form of the credential issueVC signs.
func issueW3C(priv ed25519.PrivateKey, kid, iss, vct, sub, uri string, bits uint8, idx uint32, holder *jose.JSONWebKey,
	claims sdjwt.Object, iat, exp time.Time) (string, error) {
	status := sdjwt.Object{{Name: "id", Value: fmt.Sprintf("%s#%d", uri, idx)},
		{Name: "type", Value: "BitstringStatusListEntry"}, {Name: "statusPurpose", Value: "revocation"},
		{Name: "statusListIndex", Value: strconv.FormatUint(uint64(idx), 10)},
		{Name: "statusListCredential", Value: uri}}
	if bits == 2 {
		status[2].Value = "message"
		status = append(status, sdjwt.Member{Name: "statusSize", Value: 2}, sdjwt.Member{Name: "statusMessage", Value: []any{
			map[string]any{"status": "0x0", "message": "valid"}, map[string]any{"status": "0x1", "message": "revoked"},
			map[string]any{"status": "0x2", "message": "suspended"}}})
	}
	subject := append(sdjwt.Object{{Name: "id", Value: sub}}, claims...)
	all := sdjwt.Object{
		{Name: "@context", Value: []any{w3cContext, map[string]any{"@vocab": claimVocab(vct)}}},
		{Name: "type", Value: []any{"VerifiableCredential", vct}},
		{Name: "issuer", Value: iss},
		{Name: "validFrom", Value: iat.UTC().Format(time.RFC3339)},
		{Name: "validUntil", Value: exp.UTC().Format(time.RFC3339)},
		{Name: subjectKey, Value: subject},
		{Name: "credentialStatus", Value: status},
		{Name: "iat", Value: iat.Unix()}, {Name: "exp", Value: exp.Unix()},
	}
	if err := checkW3C(all); err != nil {
		return "", err
	}
	tok, err := sdjwt.Issue(all, sdjwt.Issuance{
		Key:    jose.SigningKey{Algorithm: jose.EdDSA, Key: priv},
		Type:   w3cTyp,
		Header: map[jose.HeaderKey]any{"jwk": &jose.JSONWebKey{Key: priv.Public()}, "kid": kid},
		Holder: holder,
		Rand:   rand.Reader,
	})
	if err != nil {
		return "", err
	}
	return tok.String(), nil
}

// checkW3C checks a credential, as an issuer is about to sign it,
// against the VC 2.0 data model.
func checkW3C(o sdjwt.Object) error {
	c, _ := disclosed(o).(map[string]any)
	return vcdm.Check(c)
}

// disclosed is v with every selectively disclosable part disclosed, its
// Objects as maps: the credential a holder disclosing all of it shows.
func disclosed(v any) any {
	switch v := v.(type) {
	case sdjwt.Object:
		m := make(map[string]any, len(v))
		for _, mem := range v {
			m[mem.Name] = disclosed(mem.Value)
		}
		return m
	case sdjwt.SD:
		return disclosed(v.Value)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = disclosed(x)
		}
		return out
	}
	return v
}

// typOf returns the "typ" of the issuer-signed JWT of an SD-JWT, without
// verifying anything.
func typOf(s string) string {
	h, _, _ := strings.Cut(s, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return ""
	}
	var hdr struct {
		Typ string `json:"typ"`
	}
	json.Unmarshal(b, &hdr)
	return hdr.Typ
}

// w3cVC reads a verified W3C credential as the SD-JWT VC it stands for
// (type, issuer, status) with its subject and the time it is valid from.
func w3cVC(v *sdjwt.Verified) (*sdjwt.VC, string, int64, error) {
	c := v.Claims
	if err := vcdm.Check(c); err != nil {
		return nil, "", 0, err
	}
	types, _ := c["type"].([]any)
	if len(types) != 2 || !slices.Contains(types, any("VerifiableCredential")) {
		return nil, "", 0, fmt.Errorf("type is not VerifiableCredential and one credential type")
	}
	vc := &sdjwt.VC{Verified: v}
	for _, t := range types {
		if t != "VerifiableCredential" {
			vc.Type, _ = t.(string)
		}
	}
	vc.Issuer, _ = c["issuer"].(string)
	from, _ := c["validFrom"].(string)
	iat, err := time.Parse(time.RFC3339, from)
	if err != nil {
		return nil, "", 0, fmt.Errorf("validFrom %q is not a date-time", from)
	}
	subject, _ := c[subjectKey].(map[string]any)
	sub, _ := subject["id"].(string)
	st, _ := c["credentialStatus"].(map[string]any)
	uri, _ := st["statusListCredential"].(string)
	idx, err := strconv.ParseInt(fmt.Sprint(st["statusListIndex"]), 10, 64)
	if st["type"] != "BitstringStatusListEntry" || uri == "" || err != nil {
		return nil, "", 0, fmt.Errorf("credentialStatus is not a BitstringStatusListEntry with a list and an index")
	}
	vc.Status = &sdjwt.StatusRef{Index: idx, URI: uri}
	if vc.Type == "" || vc.Issuer == "" || sub == "" {
		return nil, "", 0, fmt.Errorf("an Agora credential has a type, an issuer and a subject id")
	}
	return vc, sub, iat.Unix(), nil
}

// claimName is the name of the subject's claim at p: a top-level claim
// of an SD-JWT VC, or a member of a W3C credential's credentialSubject.
func claimName(p sdjwt.Path) (string, bool) {
	if len(p) == 2 && p[0] == subjectKey {
		p = p[1:]
	}
	n, ok := p[0].(string)
	return n, ok && len(p) == 1
}

// w3cValid checks a W3C credential's validity period at now, within
// leeway: validFrom not after it, validUntil, if any, not before it (the
// JWT's nbf and exp, which sdjwt checks, need not be there).
func w3cValid(c map[string]any, now time.Time, leeway time.Duration) error {
	for _, f := range []struct {
		claim  string
		future bool // the claim must not be after now
	}{{"validFrom", true}, {"validUntil", false}} {
		s, ok := c[f.claim].(string)
		if !ok {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		switch {
		case err != nil:
			return fmt.Errorf("%s %q is not a date-time", f.claim, s)
		case f.future && t.After(now.Add(leeway)):
			return fmt.Errorf("not valid before %s (validFrom)", s)
		case !f.future && now.After(t.Add(leeway)):
			return fmt.Errorf("expired at %s (validUntil)", s)
		}
	}
	return nil
}
