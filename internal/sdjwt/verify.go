package sdjwt

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agora-ledger/agora/internal/tx"
)

// DefaultAlgorithms are the JWS algorithms a Verification accepts unless told otherwise.
var DefaultAlgorithms = []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, ES256K}

// KeyFunc returns the issuer's public key for an Issuer-signed JWT, given its protected
// header and its payload, both not yet verified (so that "kid" or "iss" can pick the
// key). The key is a crypto public key (ed25519.PublicKey, *ecdsa.PublicKey,
// *secp256k1.PublicKey) or a *jose.JSONWebKey.
type KeyFunc func(header jose.Header, claims map[string]any) (any, error)

// StaticKey is a KeyFunc that always returns key.
func StaticKey(key any) KeyFunc {
	return func(jose.Header, map[string]any) (any, error) { return key, nil }
}

// Verification says how to verify an SD-JWT presentation (RFC 9901 Section 7).
type Verification struct {
	// IssuerKey finds the key the Issuer-signed JWT must verify with. Required.
	IssuerKey KeyFunc
	// Algorithms are the accepted JWS "alg" values; nil means DefaultAlgorithms.
	// "none" is never accepted.
	Algorithms []jose.SignatureAlgorithm
	// Type, if set, is the "typ" the Issuer-signed JWT's header must carry.
	Type string
	// Now is the verifier's time, against which exp, nbf, iat and the KB-JWT's iat are
	// judged. Required: this package reads no clock.
	Now time.Time
	// Leeway is the clock skew tolerated in every time check.
	Leeway time.Duration
	// KeyBinding, if set, requires a Key Binding JWT and says what it must bind to. If
	// nil, a presentation that carries a KB-JWT is refused: it cannot be checked, and
	// ignoring it would hide a caller's mistake.
	KeyBinding *KeyBindingPolicy
	// notDisclosable is refused as a Disclosure at the payload's top level (SD-JWT VC).
	notDisclosable map[string]bool
}

// KeyBindingPolicy is what a verifier requires of a Key Binding JWT (Section 7.3).
type KeyBindingPolicy struct {
	// Audience and Nonce must equal the KB-JWT's "aud" and "nonce".
	Audience, Nonce string
	// MaxAge is how long before Now the KB-JWT's "iat" may lie. Required.
	MaxAge time.Duration
}

// Verified is a presentation that passed verification.
type Verified struct {
	// Header is the Issuer-signed JWT's protected header.
	Header jose.Header
	// Claims is the processed payload: disclosed claims in place, digests, "_sd" and
	// "_sd_alg" removed (Section 7.1). Numbers are json.Number.
	Claims map[string]any
	// Disclosed lists the Disclosures and where each one sits, in a fixed order: at each
	// level the plain members' (by name) before the "_sd" array's (by digest order).
	Disclosed []DisclosedClaim
	// Holder is the "cnf" key the KB-JWT verified with; nil without key binding.
	Holder *jose.JSONWebKey
}

// DisclosedClaim is a Disclosure together with its place in the claims.
type DisclosedClaim struct {
	Path       Path
	Disclosure Disclosure
}

// Verify checks a presentation (an SD-JWT or SD-JWT+KB in compact serialization) as
// RFC 9901 Section 7 says: the issuer's signature, every Disclosure referenced exactly
// once, no digest twice, no reserved or clashing claim names, exp/nbf/iat at v.Now, and
// the Key Binding JWT if v asks for one.
func Verify(presentation string, v Verification) (*Verified, error) {
	t, err := Parse(presentation)
	if err != nil {
		return nil, err
	}
	if v.IssuerKey == nil || v.Now.IsZero() {
		return nil, fmt.Errorf("%w: verification needs an issuer key and a time", ErrClaims)
	}
	algs := v.Algorithms
	if algs == nil {
		algs = DefaultAlgorithms
	}
	header, payload, err := verifyJWS(t.JWT, v.Type, algs, v.IssuerKey)
	if err != nil {
		return nil, err
	}
	if err := checkTimes(payload, v.Now, v.Leeway); err != nil {
		return nil, err
	}
	p, err := newProcessor(t.Disclosures)
	if err != nil {
		return nil, err
	}
	p.topLevel = v.notDisclosable
	claims, err := p.run(payload)
	if err != nil {
		return nil, err
	}
	out := &Verified{Header: header, Claims: claims}
	for _, f := range p.found {
		out.Disclosed = append(out.Disclosed, DisclosedClaim{Path: f.Path, Disclosure: f.Disclosure})
	}
	switch {
	case v.KeyBinding == nil && t.KeyBinding != "":
		return nil, fmt.Errorf("%w: presentation has a key binding JWT but none was asked for", ErrKeyBinding)
	case v.KeyBinding != nil && t.KeyBinding == "":
		return nil, fmt.Errorf("%w: key binding JWT missing", ErrKeyBinding)
	case v.KeyBinding != nil:
		holder, err := verifyKeyBinding(t, claims, algs, v)
		if err != nil {
			return nil, err
		}
		out.Holder = holder
	}
	return out, nil
}

// verifyJWS verifies a compact JWS and returns its header and decoded payload.
func verifyJWS(jwt, typ string, algs []jose.SignatureAlgorithm, keyOf KeyFunc) (jose.Header, map[string]any, error) {
	jws, err := jose.ParseSignedCompact(jwt, algs)
	if err != nil {
		return jose.Header{}, nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	h := jws.Signatures[0].Protected
	if typ != "" && h.ExtraHeaders[jose.HeaderType] != typ {
		return jose.Header{}, nil, fmt.Errorf("%w: typ is %v, want %q", ErrSignature, h.ExtraHeaders[jose.HeaderType], typ)
	}
	unverified, err := decodeObject(jws.UnsafePayloadWithoutVerification())
	if err != nil {
		return jose.Header{}, nil, err
	}
	key, err := keyOf(h, unverified)
	if err != nil {
		return jose.Header{}, nil, fmt.Errorf("%w: no key: %v", ErrSignature, err)
	}
	if pub, ok := ed25519Key(key); ok && h.Algorithm == string(jose.EdDSA) && h.ExtraHeaders["crit"] == nil {
		// EdDSA under the project's Ed25519 verifier (internal/tx: the
		// rules of crypto/ed25519, faster), over the compact form's
		// signing input, the text before its second dot.
		input := jwt[:strings.LastIndexByte(jwt, '.')]
		if !(tx.PublicKey{Alg: tx.Ed25519, Key: pub}).Verify([]byte(input), jws.Signatures[0].Signature) {
			return jose.Header{}, nil, fmt.Errorf("%w: go-jose/go-jose: error in cryptographic primitive", ErrSignature)
		}
		return h, unverified, nil // the payload just verified
	}
	if _, err := jws.Verify(joseVerificationKey(key)); err != nil {
		return jose.Header{}, nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return h, unverified, nil // the payload Verify checked: the same bytes
}

// ed25519Key returns k as an Ed25519 public key, if it is one.
func ed25519Key(k any) (ed25519.PublicKey, bool) {
	if j, ok := k.(*jose.JSONWebKey); ok {
		k = j.Key
	}
	pub, ok := k.(ed25519.PublicKey)
	return pub, ok && len(pub) == ed25519.PublicKeySize
}

// checkTimes applies exp, nbf and iat (RFC 7519) at now.
func checkTimes(claims map[string]any, now time.Time, leeway time.Duration) error {
	get := func(name string) (time.Time, bool, error) {
		v, ok := claims[name]
		if !ok {
			return time.Time{}, false, nil
		}
		n, ok := numberOf(v)
		if !ok {
			return time.Time{}, false, fmt.Errorf("%w: %s is not a number", ErrMalformed, name)
		}
		return time.Unix(n, 0), true, nil
	}
	if exp, ok, err := get("exp"); err != nil {
		return err
	} else if ok && !now.Before(exp.Add(leeway)) {
		return fmt.Errorf("%w: expired at %s", ErrExpired, exp.UTC().Format(time.RFC3339))
	}
	if nbf, ok, err := get("nbf"); err != nil {
		return err
	} else if ok && now.Add(leeway).Before(nbf) {
		return fmt.Errorf("%w: not valid before %s", ErrExpired, nbf.UTC().Format(time.RFC3339))
	}
	if iat, ok, err := get("iat"); err != nil {
		return err
	} else if ok && now.Add(leeway).Before(iat) {
		return fmt.Errorf("%w: issued in the future (%s)", ErrExpired, iat.UTC().Format(time.RFC3339))
	}
	return nil
}

// verifyKeyBinding checks the KB-JWT (Section 7.3) and returns the holder key.
func verifyKeyBinding(t Token, claims map[string]any, algs []jose.SignatureAlgorithm, v Verification) (*jose.JSONWebKey, error) {
	pol := v.KeyBinding
	jwk, err := HolderKey(claims)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyBinding, err)
	}
	_, kb, err := verifyJWS(t.KeyBinding, KeyBindingType, algs, StaticKey(jwk))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyBinding, err)
	}
	if kb["aud"] != pol.Audience {
		return nil, fmt.Errorf("%w: aud is %v, want %q", ErrKeyBinding, kb["aud"], pol.Audience)
	}
	if kb["nonce"] != pol.Nonce {
		return nil, fmt.Errorf("%w: nonce does not match", ErrKeyBinding)
	}
	n, ok := numberOf(kb["iat"])
	if !ok {
		return nil, fmt.Errorf("%w: iat missing or not a number", ErrKeyBinding)
	}
	iat := time.Unix(n, 0)
	if v.Now.Add(v.Leeway).Before(iat) {
		return nil, fmt.Errorf("%w: iat is in the future", ErrKeyBinding)
	}
	if iat.Before(v.Now.Add(-pol.MaxAge - v.Leeway)) {
		return nil, fmt.Errorf("%w: issued at %s, older than %s", ErrKeyBinding, iat.UTC().Format(time.RFC3339), pol.MaxAge)
	}
	if want := Digest(t.sdJWT()); kb["sd_hash"] != want {
		return nil, fmt.Errorf("%w: sd_hash does not match the presentation", ErrKeyBinding)
	}
	return jwk, nil
}

// HolderKey returns the key claims' "cnf" binds the SD-JWT to (its
// "jwk", RFC 7800): the key a Key Binding JWT verifies with, or whatever
// else the holder signs a presentation with.
func HolderKey(claims map[string]any) (*jose.JSONWebKey, error) {
	cnf, _ := claims["cnf"].(map[string]any)
	if cnf == nil || cnf["jwk"] == nil {
		return nil, fmt.Errorf("the SD-JWT has no cnf.jwk to bind to")
	}
	jwk, err := cnfKey(cnf["jwk"])
	if err != nil {
		return nil, fmt.Errorf("cnf.jwk: %v", err)
	}
	return jwk, nil
}

// cnfKey reads a cnf.jwk: a secp256k1 key by this package, any other by go-jose.
func cnfKey(v any) (*jose.JSONWebKey, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	if pub, ok, err := parseSecp256k1JWK(m); ok {
		if err != nil {
			return nil, err
		}
		return &jose.JSONWebKey{Key: pub, Algorithm: string(ES256K)}, nil
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil || !jwk.IsPublic() {
		return nil, fmt.Errorf("not a public JWK")
	}
	return &jwk, nil
}
