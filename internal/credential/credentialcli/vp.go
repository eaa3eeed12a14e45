package credentialcli

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agora-ledger/agora/internal/sdjwt"
	"github.com/agora-ledger/agora/internal/vcdm"
)

// The W3C presentation form (W3C VC-JOSE-COSE, "Securing Verifiable
// Presentations with SD-JWT"; media type application/vp+sd-jwt): a
// VerifiablePresentation, secured with SD-JWT by the holder, whose one
// credential is an EnvelopedVerifiableCredential: its id is a data: URL
// holding the vc+sd-jwt credential with the disclosures the holder
// chose and no key-binding JWT. The holder signs with the key the
// credential's cnf binds, and puts the verifier's aud and nonce and the
// time (iat) in the signed payload: the signature does what the
// key-binding JWT does in the SD-JWT form.
const (
	vpTyp = "vp+sd-jwt"
	// vcMedia is the enveloped credential's media type, in its data: URL.
	vcMedia = "application/" + w3cTyp
	// kbForm is present's default form: the SD-JWT with a key-binding JWT.
	kbForm = "sd-jwt+kb"
)

// presentVP signs, with the holder's key priv, the W3C presentation of
// cred (a vc+sd-jwt credential with the chosen disclosures, no
// key-binding JWT) by holder (the subject's DID) to audience aud with
// nonce, at now.
func presentVP(cred sdjwt.Token, holder string, priv ed25519.PrivateKey, aud, nonce string, now time.Time) (string, error) {
	if cred.KeyBinding != "" {
		return "", fmt.Errorf("the enveloped credential carries a key-binding JWT")
	}
	vp := sdjwt.Object{
		{Name: "@context", Value: []any{vcdm.BaseContext}},
		{Name: "type", Value: []any{"VerifiablePresentation"}},
		{Name: "holder", Value: holder},
		{Name: "verifiableCredential", Value: []any{map[string]any{
			"@context": vcdm.BaseContext,
			"id":       "data:" + vcMedia + "," + cred.String(),
			"type":     "EnvelopedVerifiableCredential",
		}}},
		{Name: "aud", Value: aud},
		{Name: "nonce", Value: nonce},
		{Name: "iat", Value: now.Unix()},
	}
	if err := vcdm.CheckPresentation(disclosed(vp).(map[string]any)); err != nil {
		return "", err
	}
	tok, err := sdjwt.Issue(vp, sdjwt.Issuance{
		Key:    jose.SigningKey{Algorithm: jose.EdDSA, Key: priv},
		Type:   vpTyp,
		Header: map[jose.HeaderKey]any{jose.HeaderContentType: "vp"},
		Rand:   rand.Reader,
	})
	if err != nil {
		return "", err
	}
	return tok.String(), nil
}

// envelope reads, without verifying anything, the one credential a
// vp+sd-jwt presentation envelopes: a vc+sd-jwt SD-JWT.
func envelope(pres string) (string, error) {
	tok, err := sdjwt.Parse(pres)
	if err != nil {
		return "", err
	}
	if tok.KeyBinding != "" {
		return "", fmt.Errorf("a %s presentation carries no key-binding JWT (the holder's signature binds it)", vpTyp)
	}
	payload, err := sdjwt.UnverifiedPayload(tok.JWT)
	if err != nil {
		return "", err
	}
	vcs, ok := payload["verifiableCredential"].([]any)
	if !ok {
		vcs = []any{payload["verifiableCredential"]}
	}
	if len(vcs) != 1 || vcs[0] == nil {
		return "", fmt.Errorf("%d credentials: Agora verifies a presentation of one credential", len(vcs))
	}
	env, _ := vcs[0].(map[string]any)
	if env == nil || !vcdm.HasType(env, "EnvelopedVerifiableCredential") {
		return "", fmt.Errorf("the credential is not an EnvelopedVerifiableCredential")
	}
	id, _ := env["id"].(string)
	media, data, err := vcdm.EnvelopedData(id)
	if err != nil {
		return "", err
	}
	if media != vcMedia || typOf(data) != w3cTyp {
		return "", fmt.Errorf("the enveloped credential is %s (typ %q), not %s", media, typOf(data), vcMedia)
	}
	return data, nil
}

// verifyVP checks a vp+sd-jwt presentation as far as it needs no
// ledger, adding a step for each check: envelope (one enveloped
// vc+sd-jwt credential), signatures (the issuer's, of the enveloped
// credential, and its disclosures), holder signature (the presentation
// signed by the credential's cnf key), audience, nonce, freshness (iat at
// most maxAge old, not in the future), data model (internal/vcdm's
// presentation checks) and holder (the presentation's holder, if named,
// is the credential's subject). It returns the credential, its subject
// and issuance time, its Holder the cnf key; ok is false once a step
// failed.
func verifyVP(r *report, pres, aud, nonce string, maxAge time.Duration, now time.Time) (vc *sdjwt.VC, sub string, iat int64, ok bool) {
	const leeway = time.Minute
	cred, err := envelope(pres)
	if err != nil {
		r.add("envelope", false, "%v", err)
		return nil, "", 0, false
	}
	r.add("envelope", true, "a VerifiablePresentation (%s) enveloping one %s credential", vpTyp, w3cTyp)
	vc, sub, iat, err = verifySD(cred, sdjwt.Verification{IssuerKey: headerKey, Now: now, Leeway: leeway})
	if err != nil {
		r.add("signatures", false, "the enveloped credential: %v", err)
		return nil, "", 0, false
	}
	r.add("signatures", true, "the issuer's JWT (%s) and %d disclosure(s) of the enveloped credential", w3cTyp, len(vc.Disclosed))
	cnf, err := sdjwt.HolderKey(vc.Claims)
	if err != nil {
		r.add("holder signature", false, "%v", err)
		return nil, "", 0, false
	}
	ver, err := sdjwt.Verify(pres, sdjwt.Verification{IssuerKey: sdjwt.StaticKey(cnf), Type: vpTyp, Now: now, Leeway: leeway})
	switch {
	case errors.Is(err, sdjwt.ErrExpired):
		r.add("freshness", false, "%v", err)
		return nil, "", 0, false
	case err != nil:
		r.add("holder signature", false, "not signed by the key the credential binds (cnf): %v", err)
		return nil, "", 0, false
	}
	r.add("holder signature", true, "by the key the credential binds (cnf)")
	c := ver.Claims
	switch a := c["aud"].(type) {
	case string:
		if a != aud {
			r.add("audience", false, "aud is %q, want %q", a, aud)
			return nil, "", 0, false
		}
	case []any:
		if !slices.Contains(a, any(aud)) {
			r.add("audience", false, "aud is %v, which has no %q", a, aud)
			return nil, "", 0, false
		}
	default:
		r.add("audience", false, "the presentation names no audience (aud)")
		return nil, "", 0, false
	}
	r.add("audience", true, "%s", aud)
	if c["nonce"] != nonce {
		r.add("nonce", false, "the nonce does not match")
		return nil, "", 0, false
	}
	r.add("nonce", true, "%s", nonce)
	n, _ := c["iat"].(json.Number)
	at, err := n.Int64()
	if err != nil {
		r.add("freshness", false, "the presentation has no issuance time (iat)")
		return nil, "", 0, false
	}
	signed := time.Unix(at, 0)
	if signed.Before(now.Add(-maxAge - leeway)) {
		r.add("freshness", false, "signed at %s, older than %s", signed.UTC().Format(time.RFC3339), maxAge)
		return nil, "", 0, false
	}
	r.add("freshness", true, "signed at %s, within %s", signed.UTC().Format(time.RFC3339), maxAge)
	if err := vcdm.CheckPresentation(c); err != nil {
		r.add("data model", false, "%v", err)
		return nil, "", 0, false
	}
	r.add("data model", true, "a VC 2.0 VerifiablePresentation (§4.13) with an EnvelopedVerifiableCredential")
	h, named := c["holder"].(string)
	if o, isObj := c["holder"].(map[string]any); isObj {
		h, named = o["id"].(string)
	}
	switch {
	case named && h != sub:
		r.add("holder", false, "the presentation's holder %s is not the credential's subject %s", h, sub)
		return nil, "", 0, false
	case named:
		r.add("holder", true, "%s, the credential's subject", h)
	default:
		r.add("holder", true, "none named: the cnf key binds the presentation")
	}
	vc.Holder = cnf
	return vc, sub, iat, true
}

// W3CPresentation issues the W3C form (vc+sd-jwt) of a credential with
// claims, as agora vc issue --format vc+sd-jwt does (a 2-bit status entry idx
// of the list at statusURI), selects the disclosures keep names, and has
// the holder present them as a vp+sd-jwt for aud and nonce, as agora vc
// present --format vp+sd-jwt does. It returns the selected credential
// and the presentation: what tools/crosscheck gives independent
// libraries to verify.
func W3CPresentation(issuer, holder ed25519.PrivateKey, iss, vct, sub, statusURI string, idx uint32, claims sdjwt.Object,
	keep func(sdjwt.Path) bool, aud, nonce string, now time.Time) (cred, vp string, err error) {
	issued, err := issueW3C(issuer, iss+"#key-1", iss, vct, sub, statusURI, 2, idx, &jose.JSONWebKey{Key: holder.Public()},
		claims, now, now.Add(time.Hour))
	if err != nil {
		return "", "", err
	}
	tok, err := sdjwt.Parse(issued)
	if err != nil {
		return "", "", err
	}
	sel, err := sdjwt.Present(tok, keep, nil)
	if err != nil {
		return "", "", err
	}
	vp, err = presentVP(sel, sub, holder, aud, nonce, now)
	return sel.String(), vp, err
}
