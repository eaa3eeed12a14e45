package sdjwt

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/go-jose/go-jose/v4"
)

func k1Key(seed byte) *secp256k1.PrivateKey {
	var b [32]byte
	b[31] = seed
	return secp256k1.PrivKeyFromBytes(b[:])
}

func TestES256KRoundTrip(t *testing.T) {
	issuer, holder := k1Key(1), k1Key(2)
	issued, err := IssueVC(vcClaims(), Issuance{
		Key:    jose.SigningKey{Algorithm: ES256K, Key: issuer},
		Holder: &jose.JSONWebKey{Key: holder.PubKey()}, Rand: seeded(4),
	})
	if err != nil {
		t.Fatal(err)
	}
	b := binding(testNow)
	b.Key = jose.SigningKey{Algorithm: ES256K, Key: holder}
	pres, err := Present(issued, Everything, b)
	if err != nil {
		t.Fatal(err)
	}
	v := baseVerification()
	v.IssuerKey = StaticKey(issuer.PubKey())
	v.KeyBinding = kbPolicy()
	vc, err := VerifyVC(pres.String(), v)
	if err != nil {
		t.Fatal(err)
	}
	jwk := vc.Claims["cnf"].(map[string]any)["jwk"].(map[string]any)
	if jwk["crv"] != "secp256k1" || !vc.Holder.Key.(*secp256k1.PublicKey).IsEqual(holder.PubKey()) {
		t.Errorf("cnf %v, holder %v", jwk, vc.Holder.Key)
	}
	if !strings.HasPrefix(issued.JWT, base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256K"`))) {
		t.Errorf("header of %s", issued.JWT)
	}

	// The same signature with S replaced by n-S is as valid (RFC 8812 does not ask for
	// a low S); any other change is not.
	parts := strings.Split(issued.JWT, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	var s secp256k1.ModNScalar
	s.SetByteSlice(sig[32:])
	s.Negate()
	sBytes := s.Bytes()
	highS := append(append([]byte{}, sig[:32]...), sBytes[:]...)
	flipped := append([]byte{}, sig...)
	flipped[5] ^= 1
	for _, tc := range []struct {
		desc string
		sig  []byte
		key  any
		algs []jose.SignatureAlgorithm
		want error
	}{
		{"high S", highS, issuer.PubKey(), nil, nil},
		{"flipped bit", flipped, issuer.PubKey(), nil, ErrSignature},
		{"short", sig[:63], issuer.PubKey(), nil, ErrSignature},
		{"other key", sig, holder.PubKey(), nil, ErrSignature},
		{"ES256K not allowed", sig, issuer.PubKey(), []jose.SignatureAlgorithm{jose.EdDSA}, ErrSignature},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			tok := issued
			tok.JWT = parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(tc.sig)
			_, err := VerifyVC(tok.String(), Verification{IssuerKey: StaticKey(tc.key), Algorithms: tc.algs, Now: testNow})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseSecp256k1JWK(t *testing.T) {
	good := secp256k1JWK(k1Key(3).PubKey())
	m := asMap(good)
	if pub, ok, err := parseSecp256k1JWK(m); !ok || err != nil || !pub.IsEqual(k1Key(3).PubKey()) {
		t.Fatalf("round trip: %v %v", ok, err)
	}
	offCurve := asMap(good)
	offCurve["y"] = offCurve["x"]
	short := asMap(good)
	short["x"] = "AAAA"
	for name, jwk := range map[string]map[string]any{"off the curve": offCurve, "short x": short} {
		if _, ok, err := parseSecp256k1JWK(jwk); !ok || err == nil {
			t.Errorf("%s: ok %v err %v", name, ok, err)
		}
	}
	if _, ok, _ := parseSecp256k1JWK(map[string]any{"kty": "EC", "crv": "P-256"}); ok {
		t.Error("P-256 taken for secp256k1")
	}
}
