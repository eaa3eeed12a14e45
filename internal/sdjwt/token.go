package sdjwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Errors callers branch on. Each error this package returns wraps one of them.
var (
	// ErrMalformed: the input is not an SD-JWT, a Disclosure or a JWT of the expected shape.
	ErrMalformed = errors.New("malformed sd-jwt")
	// ErrSignature: the Issuer-signed JWT does not verify, or its header is not acceptable.
	ErrSignature = errors.New("issuer signature invalid")
	// ErrDisclosure: the Disclosures do not fit the payload (unreferenced, referenced twice,
	// a digest used twice, a reserved or clashing claim name, a disclosure where none may be).
	ErrDisclosure = errors.New("disclosures invalid")
	// ErrKeyBinding: the Key Binding JWT is missing, unexpected or does not verify.
	ErrKeyBinding = errors.New("key binding invalid")
	// ErrExpired: a time claim (exp, nbf, iat) does not hold at the verifier's time.
	ErrExpired = errors.New("sd-jwt not valid at this time")
	// ErrClaims: the issuer's or holder's input cannot be made into an SD-JWT.
	ErrClaims = errors.New("claims invalid")
	// ErrSign: signing failed.
	ErrSign = errors.New("signing failed")
)

// Token is an SD-JWT or SD-JWT+KB in parts (RFC 9901 Section 4). Its String is the
// compact serialization: JWT~Disclosure~...~Disclosure~[KB-JWT].
type Token struct {
	// JWT is the Issuer-signed JWT, compact JWS.
	JWT string
	// Disclosures are the base64url-encoded Disclosures, as they travel.
	Disclosures []string
	// KeyBinding is the compact Key Binding JWT, or empty.
	KeyBinding string
}

// String returns the compact serialization (RFC 9901 Section 4).
func (t Token) String() string {
	return t.sdJWT() + t.KeyBinding
}

// sdJWT is the SD-JWT without the Key Binding JWT: what sd_hash covers (Section 4.3.1).
func (t Token) sdJWT() string {
	var b strings.Builder
	n := len(t.JWT) + 1
	for _, d := range t.Disclosures {
		n += len(d) + 1
	}
	b.Grow(n)
	b.WriteString(t.JWT)
	b.WriteByte('~')
	for _, d := range t.Disclosures {
		b.WriteString(d)
		b.WriteByte('~')
	}
	return b.String()
}

// Parse splits a compact SD-JWT or SD-JWT+KB. It checks the shape only: three-part
// JWTs, non-empty base64url Disclosures; nothing is verified.
func Parse(s string) (Token, error) {
	parts := strings.Split(s, "~")
	if len(parts) < 2 {
		return Token{}, fmt.Errorf("%w: no '~' separator (a JWT alone is not an SD-JWT)", ErrMalformed)
	}
	t := Token{JWT: parts[0], KeyBinding: parts[len(parts)-1]}
	if strings.Count(t.JWT, ".") != 2 {
		return Token{}, fmt.Errorf("%w: issuer-signed JWT is not a compact JWS", ErrMalformed)
	}
	if t.KeyBinding != "" && strings.Count(t.KeyBinding, ".") != 2 {
		return Token{}, fmt.Errorf("%w: key binding JWT is not a compact JWS", ErrMalformed)
	}
	for i, d := range parts[1 : len(parts)-1] {
		if d == "" {
			return Token{}, fmt.Errorf("%w: disclosure %d is empty", ErrMalformed, i+1)
		}
		t.Disclosures = append(t.Disclosures, d)
	}
	return t, nil
}

// Disclosure is a decoded Disclosure (RFC 9901 Section 4.2).
type Disclosure struct {
	// Encoded is the base64url text as it travels; its Digest is what the payload holds.
	Encoded string
	Salt    string
	// Name is the claim name of an object property; empty for an array element
	// (IsElement tells the two apart, since "" is a valid claim name).
	Name      string
	IsElement bool
	// Value is the claim value as decoded JSON (json.Number for numbers).
	Value any
}

// DecodeDisclosure decodes and checks one Disclosure: base64url without padding, a JSON
// array of [salt, name, value] or [salt, value] with string salt and name.
func DecodeDisclosure(enc string) (Disclosure, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(enc)
	if err != nil {
		return Disclosure{}, fmt.Errorf("%w: disclosure is not base64url: %v", ErrMalformed, err)
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(raw, &arr); err != nil {
		return Disclosure{}, fmt.Errorf("%w: disclosure is not a JSON array: %v", ErrMalformed, err)
	}
	d := Disclosure{Encoded: enc}
	if len(arr) != 2 && len(arr) != 3 {
		return Disclosure{}, fmt.Errorf("%w: disclosure has %d elements, want 2 or 3", ErrMalformed, len(arr))
	}
	if err := json.Unmarshal(arr[0], &d.Salt); err != nil {
		return Disclosure{}, fmt.Errorf("%w: disclosure salt is not a string", ErrMalformed)
	}
	valRaw := arr[len(arr)-1]
	if len(arr) == 3 {
		if err := json.Unmarshal(arr[1], &d.Name); err != nil {
			return Disclosure{}, fmt.Errorf("%w: disclosure claim name is not a string", ErrMalformed)
		}
	} else {
		d.IsElement = true
	}
	if d.Value, err = decodeValue(valRaw); err != nil {
		return Disclosure{}, fmt.Errorf("%w: disclosure value: %v", ErrMalformed, err)
	}
	return d, nil
}

// decodeValue decodes JSON with numbers kept as json.Number.
func decodeValue(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// UnverifiedPayload decodes a compact JWS's payload (numbers as
// json.Number) without checking its signature: the holder uses it to find
// where its Disclosures sit, a verifier to find what to verify.
func UnverifiedPayload(jwt string) (map[string]any, error) {
	return decodeObject(payloadOf(jwt))
}

// payloadOf is a compact JWS's decoded payload, or nil (which no JSON decoder accepts).
func payloadOf(jwt string) []byte {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	return raw
}

func decodeObject(raw []byte) (map[string]any, error) {
	v, err := decodeValue(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not JSON: %v", ErrMalformed, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: payload is not a JSON object", ErrMalformed)
	}
	return m, nil
}
