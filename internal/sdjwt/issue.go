package sdjwt

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/go-jose/go-jose/v4"
)

// HashAlg is the only `_sd_alg` this package issues and accepts (RFC 9901 Section 4.1.1).
const HashAlg = "sha-256"

// saltBytes is the salt's entropy: 128 bits, as RFC 9901 Section 9.3 recommends.
const saltBytes = 16

// Issuance says how to issue an SD-JWT.
type Issuance struct {
	// Key signs the Issuer-signed JWT: ed25519.PrivateKey with EdDSA, *ecdsa.PrivateKey
	// with ES256, *secp256k1.PrivateKey with ES256K, or a jose.OpaqueSigner.
	Key jose.SigningKey
	// Type is the JWS "typ" header, e.g. "dc+sd-jwt" (SD-JWT VC) or "example+sd-jwt".
	// Empty leaves "typ" out.
	Type string
	// Header holds further protected header parameters, e.g. "kid".
	Header map[jose.HeaderKey]any
	// Holder, if set, becomes the "cnf" claim ({"jwk": Holder}) that Key Binding checks
	// against (RFC 7800). Only its public part is written. Its Key may be a
	// *secp256k1.PublicKey, which go-jose cannot represent but this package can.
	Holder *jose.JSONWebKey
	// MinDecoys and MaxDecoys bound the number of decoy digests added to the "_sd" array
	// of every object of the payload (RFC 9901 Section 4.2.5): each object gets a number
	// drawn uniformly from [MinDecoys, MaxDecoys]. Zero adds none.
	MinDecoys, MaxDecoys int
	// Rand is the only source of randomness: the salts and the decoys. Pass
	// crypto/rand.Reader in production; tests pass a reader that replays known salts.
	Rand io.Reader
}

// Issue builds and signs an SD-JWT over claims. The payload keeps the claims' member
// order, with "_sd" first in each object that has disclosable members, "_sd_alg" after
// the claims, then "cnf". The Disclosures are listed in the order they were made: an
// object's or array's nested Disclosures before its own.
func Issue(claims Object, opt Issuance) (Token, error) {
	if opt.Rand == nil {
		return Token{}, fmt.Errorf("%w: no randomness source", ErrClaims)
	}
	if opt.MinDecoys < 0 || opt.MaxDecoys < opt.MinDecoys {
		return Token{}, fmt.Errorf("%w: decoy range [%d, %d]", ErrClaims, opt.MinDecoys, opt.MaxDecoys)
	}
	for _, m := range claims {
		switch m.Name {
		case "_sd_alg", "cnf":
			return Token{}, fmt.Errorf("%w: claim %q is set by the issuer", ErrClaims, m.Name)
		}
	}
	is := issuer{opt: opt}
	v, err := is.value(claims)
	if err != nil {
		return Token{}, err
	}
	payload := append(v.(Object), Member{"_sd_alg", HashAlg})
	if opt.Holder != nil {
		jwk, err := publicJWK(opt.Holder)
		if err != nil {
			return Token{}, err
		}
		payload = append(payload, Member{"cnf", Object{{"jwk", jwk}}})
	}
	body, err := encode(payload)
	if err != nil {
		return Token{}, err
	}
	jwt, err := sign(opt.Key, opt.Type, opt.Header, body)
	if err != nil {
		return Token{}, err
	}
	return Token{JWT: jwt, Disclosures: is.disclosures}, nil
}

// sign returns a compact JWS over payload.
func sign(key jose.SigningKey, typ string, header map[jose.HeaderKey]any, payload []byte) (string, error) {
	so := &jose.SignerOptions{}
	if typ != "" {
		so = so.WithType(jose.ContentType(typ))
	}
	for k, v := range header {
		so = so.WithHeader(k, v)
	}
	signer, err := jose.NewSigner(joseSigningKey(key), so)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrSign, err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrSign, err)
	}
	return jws.CompactSerialize()
}

// publicJWK returns k's public part as an Object in go-jose's member order.
func publicJWK(k *jose.JSONWebKey) (Object, error) {
	switch x := k.Key.(type) {
	case *secp256k1.PublicKey:
		return secp256k1JWK(x), nil
	case *secp256k1.PrivateKey:
		return secp256k1JWK(x.PubKey()), nil
	}
	pub := k.Public()
	if !pub.Valid() {
		return nil, fmt.Errorf("%w: holder key is not a valid public key", ErrClaims)
	}
	j, err := pub.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("%w: holder key: %v", ErrClaims, err)
	}
	return ParseObject(j)
}

type issuer struct {
	opt         Issuance
	disclosures []string
}

func (is *issuer) value(v any) (any, error) {
	switch x := v.(type) {
	case Object:
		return is.object(x)
	case []any:
		return is.array(x)
	case SD:
		return nil, fmt.Errorf("%w: SD outside an object member or array element", ErrClaims)
	default:
		return v, nil
	}
}

// unwrap processes a member's value or an array element, telling whether it was SD.
func (is *issuer) unwrap(v any) (sub any, disclosable bool, err error) {
	if sd, ok := v.(SD); ok {
		v, disclosable = sd.Value, true
	}
	sub, err = is.value(v)
	return sub, disclosable, err
}

func (is *issuer) object(o Object) (any, error) {
	var digests []string
	out := Object{}
	seen := map[string]bool{}
	for _, m := range o {
		if seen[m.Name] {
			return nil, fmt.Errorf("%w: duplicate claim %q", ErrClaims, m.Name)
		}
		seen[m.Name] = true
		if m.Name == "_sd" || m.Name == "..." {
			return nil, fmt.Errorf("%w: claim name %q is reserved", ErrClaims, m.Name)
		}
		sub, disclosable, err := is.unwrap(m.Value)
		if err != nil {
			return nil, err
		}
		if !disclosable {
			out = append(out, Member{m.Name, sub})
			continue
		}
		d, err := is.disclose([]any{m.Name, sub})
		if err != nil {
			return nil, err
		}
		digests = append(digests, d)
	}
	n, err := is.decoyCount()
	if err != nil {
		return nil, err
	}
	for range n {
		d, err := is.decoy()
		if err != nil {
			return nil, err
		}
		digests = append(digests, d)
	}
	if len(digests) == 0 {
		return out, nil
	}
	// Sorted, so that the order says nothing about the claims (Section 4.2.4.1).
	sort.Strings(digests)
	return append(Object{{"_sd", digests}}, out...), nil
}

func (is *issuer) array(a []any) (any, error) {
	out := make([]any, 0, len(a))
	for _, e := range a {
		sub, disclosable, err := is.unwrap(e)
		if err != nil {
			return nil, err
		}
		if !disclosable {
			out = append(out, sub)
			continue
		}
		d, err := is.disclose([]any{sub})
		if err != nil {
			return nil, err
		}
		out = append(out, Object{{"...", d}})
	}
	return out, nil
}

// disclose makes the Disclosure [salt, rest...] and returns its digest.
func (is *issuer) disclose(rest []any) (string, error) {
	salt, err := is.salt()
	if err != nil {
		return "", err
	}
	j, err := encode(append([]any{salt}, rest...))
	if err != nil {
		return "", err
	}
	d := base64.RawURLEncoding.EncodeToString(j)
	is.disclosures = append(is.disclosures, d)
	return Digest(d), nil
}

func (is *issuer) salt() (string, error) {
	var b [saltBytes]byte
	if _, err := io.ReadFull(is.opt.Rand, b[:]); err != nil {
		return "", fmt.Errorf("%w: reading a salt: %v", ErrClaims, err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// decoy is the digest of a fresh salt: indistinguishable from a Disclosure's digest.
func (is *issuer) decoy() (string, error) {
	s, err := is.salt()
	if err != nil {
		return "", err
	}
	return Digest(s), nil
}

func (is *issuer) decoyCount() (int, error) {
	lo, hi := is.opt.MinDecoys, is.opt.MaxDecoys
	if hi == 0 {
		return 0, nil
	}
	span := uint32(hi - lo + 1)
	limit := ^uint32(0) - ^uint32(0)%span // reject above the largest multiple of span
	for {
		var b [4]byte
		if _, err := io.ReadFull(is.opt.Rand, b[:]); err != nil {
			return 0, fmt.Errorf("%w: reading a decoy count: %v", ErrClaims, err)
		}
		if x := binary.BigEndian.Uint32(b[:]); x < limit {
			return lo + int(x%span), nil
		}
	}
}

// Digest is the base64url SHA-256 digest of a Disclosure's (or SD-JWT's) ASCII text.
func Digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// intOf reads an integer claim: a json.Number without fraction, or a Go int.
func intOf(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		i, err := x.Int64()
		return i, err == nil
	case int:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// numberOf is json.Number's int64, for claims such as exp and iat.
func numberOf(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil {
		f, ferr := n.Float64()
		if ferr != nil {
			return 0, false
		}
		return int64(f), true
	}
	return i, true
}
