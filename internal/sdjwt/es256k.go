package sdjwt

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"github.com/go-jose/go-jose/v4"
)

// ES256K is ECDSA over secp256k1 with SHA-256 (RFC 8812), the curve of Agora's
// secp256k1 keys. go-jose has no such algorithm; it is plugged in through go-jose's
// opaque signer and verifier interfaces, so the JWS itself is still go-jose's. Pass a
// *secp256k1.PrivateKey as a SigningKey's Key with this algorithm, and a
// *secp256k1.PublicKey from a KeyFunc.
const ES256K jose.SignatureAlgorithm = "ES256K"

// es256kSigner is a go-jose OpaqueSigner for a secp256k1 key.
type es256kSigner struct{ key *secp256k1.PrivateKey }

// Public returns nil: go-jose's JSONWebKey cannot hold a secp256k1 key (it is only
// asked for one to embed a "jwk" header, which this package never does).
func (es256kSigner) Public() *jose.JSONWebKey        { return nil }
func (es256kSigner) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{ES256K} }
func (s es256kSigner) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != ES256K {
		return nil, jose.ErrUnsupportedAlgorithm
	}
	h := sha256.Sum256(payload)
	compact := k1ecdsa.SignCompact(s.key, h[:], true) // RFC 6979; [recovery byte, R, S]
	return compact[1:], nil
}

// es256kVerifier is a go-jose OpaqueVerifier for a secp256k1 key. It accepts R||S of
// 32 bytes each with R and S in [1, n-1]; a high S is accepted, as RFC 8812 does not
// forbid it.
type es256kVerifier struct{ key *secp256k1.PublicKey }

var errES256K = errors.New("es256k: invalid signature")

func (v es256kVerifier) VerifyPayload(payload, sig []byte, alg jose.SignatureAlgorithm) error {
	if alg != ES256K || len(sig) != 64 {
		return errES256K
	}
	var r, s secp256k1.ModNScalar
	if r.SetByteSlice(sig[:32]) || s.SetByteSlice(sig[32:]) || r.IsZero() || s.IsZero() {
		return errES256K
	}
	h := sha256.Sum256(payload)
	if !k1ecdsa.NewSignature(&r, &s).Verify(h[:], v.key) {
		return errES256K
	}
	return nil
}

// joseSigningKey wraps a secp256k1 private key for go-jose.
func joseSigningKey(k jose.SigningKey) jose.SigningKey {
	if priv, ok := k.Key.(*secp256k1.PrivateKey); ok {
		k.Key = es256kSigner{priv}
	}
	return k
}

// joseVerificationKey wraps a secp256k1 public key for go-jose.
func joseVerificationKey(k any) any {
	switch x := k.(type) {
	case *secp256k1.PublicKey:
		return es256kVerifier{x}
	case *jose.JSONWebKey:
		if pub, ok := x.Key.(*secp256k1.PublicKey); ok {
			return es256kVerifier{pub}
		}
	}
	return k
}

// secp256k1JWK is the JWK of a secp256k1 public key (RFC 8812 Section 3.1), members
// in go-jose's order for EC keys.
func secp256k1JWK(pub *secp256k1.PublicKey) Object {
	b := pub.SerializeUncompressed() // 0x04 || x || y
	enc := base64.RawURLEncoding.EncodeToString
	return Object{{"kty", "EC"}, {"crv", "secp256k1"}, {"x", enc(b[1:33])}, {"y", enc(b[33:])}}
}

// parseSecp256k1JWK reads a JWK with "crv" "secp256k1"; ok is false for other curves.
func parseSecp256k1JWK(jwk map[string]any) (pub *secp256k1.PublicKey, ok bool, err error) {
	if jwk["kty"] != "EC" || jwk["crv"] != "secp256k1" {
		return nil, false, nil
	}
	xs, _ := jwk["x"].(string)
	ys, _ := jwk["y"].(string)
	x, errX := base64.RawURLEncoding.DecodeString(xs)
	y, errY := base64.RawURLEncoding.DecodeString(ys)
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
		return nil, true, fmt.Errorf("secp256k1 JWK needs 32-byte x and y")
	}
	pub, err = secp256k1.ParsePubKey(append(append([]byte{4}, x...), y...))
	if err != nil {
		return nil, true, fmt.Errorf("secp256k1 JWK: %v", err)
	}
	return pub, true, nil
}
