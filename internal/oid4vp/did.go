package oid4vp

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// DIDAuthType is the "typ" of a DID authentication (see the package doc).
const DIDAuthType = "agora-did-auth+jwt"

// Errors of a DID authentication or key binding that a verifier tells
// apart: the presentation is for another verifier, or another request.
var (
	ErrAudience = errors.New("wrong audience")
	ErrNonce    = errors.New("wrong nonce")
)

// DIDAuth is the claims of a DID authentication.
type DIDAuth struct {
	Issuer   string `json:"iss"`
	Audience string `json:"aud"`
	Nonce    string `json:"nonce"`
	IssuedAt int64  `json:"iat"`
	// VP is the W3C presentation: a holder, no credential.
	VP struct {
		Context []string `json:"@context"`
		Type    []string `json:"type"`
		Holder  string   `json:"holder"`
	} `json:"vp"`
}

// SignDIDAuth returns a DID authentication of did for the verifier aud
// and its nonce, signed with key, an authentication key of did named by
// kid (a DID URL), at time iat.
func SignDIDAuth(key jose.SigningKey, kid, did, aud, nonce string, iat time.Time) (string, error) {
	if !strings.HasPrefix(kid, did+"#") {
		return "", fmt.Errorf("kid %s is not a key of %s", kid, did)
	}
	a := DIDAuth{Issuer: did, Audience: aud, Nonce: nonce, IssuedAt: iat.Unix()}
	a.VP.Context = []string{"https://www.w3.org/ns/credentials/v2"}
	a.VP.Type = []string{"VerifiablePresentation"}
	a.VP.Holder = did
	return signJWT(key, DIDAuthType, kid, a)
}

// VerifyDIDAuth verifies a DID authentication for the verifier aud and
// its nonce, made at most maxAge before now (and not after it, beyond a
// minute's leeway): its typ, that its kid is a key of its iss, and its
// signature by the key keyOf returns for the DID and the kid. It returns
// the claims and the kid.
func VerifyDIDAuth(jwt, aud, nonce string, now time.Time, maxAge time.Duration, keyOf func(did, kid string) (any, error)) (*DIDAuth, string, error) {
	jws, err := jose.ParseSigned(jwt, requestAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, "", fmt.Errorf("not a signed JWT: %v", err)
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != DIDAuthType {
		return nil, "", fmt.Errorf("typ %q, want %s", typ, DIDAuthType)
	}
	var a DIDAuth
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &a); err != nil {
		return nil, "", fmt.Errorf("claims: %v", err)
	}
	if !strings.HasPrefix(h.KeyID, a.Issuer+"#") || !strings.HasPrefix(a.Issuer, "did:") {
		return nil, "", fmt.Errorf("kid %q is not a key of iss %q", h.KeyID, a.Issuer)
	}
	key, err := keyOf(a.Issuer, h.KeyID)
	if err != nil {
		return nil, h.KeyID, err
	}
	if _, err := jws.Verify(key); err != nil {
		return nil, h.KeyID, fmt.Errorf("the signature does not verify with %s", h.KeyID)
	}
	if a.Audience != aud {
		return nil, h.KeyID, fmt.Errorf("%w: made for %q, not %q", ErrAudience, a.Audience, aud)
	}
	if a.Nonce != nonce {
		return nil, h.KeyID, fmt.Errorf("%w: nonce %q is not the request's", ErrNonce, a.Nonce)
	}
	iat := time.Unix(a.IssuedAt, 0)
	if iat.After(now.Add(time.Minute)) || now.Sub(iat) > maxAge {
		return nil, h.KeyID, fmt.Errorf("made at %s, not within %s of now", iat.UTC().Format(time.RFC3339), maxAge)
	}
	return &a, h.KeyID, nil
}

// KeyBindingOf reads, without verifying anything, the "aud" and "nonce"
// of an SD-JWT presentation's Key Binding JWT, so that a verifier can say
// that a presentation was made for another verifier or request before
// it spends work on the rest. Empty strings if it has none.
func KeyBindingOf(presentation string) (aud, nonce string) {
	i := strings.LastIndexByte(presentation, '~')
	if i < 0 {
		return "", ""
	}
	parts := strings.Split(presentation[i+1:], ".")
	if len(parts) != 3 {
		return "", ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", ""
	}
	var c struct {
		Aud   string `json:"aud"`
		Nonce string `json:"nonce"`
	}
	json.Unmarshal(b, &c)
	return c.Aud, c.Nonce
}
