package statuslist

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TokenType is the "typ" of a Status List Token in JWT format (Section 5.1).
const TokenType = "statuslist+jwt"

// Algorithms are the JWS algorithms VerifyToken accepts.
var Algorithms = []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256}

// Token is a Status List Token's claims.
type Token struct {
	// Subject ("sub") is the token's own URI: the "uri" of the Referenced Tokens'
	// status_list claims. Required.
	Subject string
	// Issuer ("iss") is optional.
	Issuer string
	// IssuedAt ("iat") is required.
	IssuedAt time.Time
	// Expires ("exp") is optional; zero leaves it out.
	Expires time.Time
	// TTL ("ttl") is how long a consumer may cache the token; zero leaves it out.
	TTL time.Duration
	// List is the status list. Required.
	List *List
}

// tokenClaims is the JWT payload, members in the order the draft's example has them.
type tokenClaims struct {
	Exp        int64   `json:"exp,omitempty"`
	Iat        int64   `json:"iat"`
	Iss        string  `json:"iss,omitempty"`
	StatusList *JSON   `json:"status_list"`
	Sub        string  `json:"sub"`
	TTL        float64 `json:"ttl,omitempty"`
}

// SignToken signs t as a Status List Token in JWT format with key. kid, if not empty,
// becomes the header's "kid".
func SignToken(t Token, key jose.SigningKey, kid string) (string, error) {
	var h map[jose.HeaderKey]any
	if kid != "" {
		h = map[jose.HeaderKey]any{"kid": kid}
	}
	return SignTokenWith(t, key, h)
}

// SignTokenWith is SignToken with more header parameters (such as "kid" and "jwk").
func SignTokenWith(t Token, key jose.SigningKey, header map[jose.HeaderKey]any) (string, error) {
	if t.Subject == "" || t.IssuedAt.IsZero() || t.List == nil {
		return "", fmt.Errorf("%w: a status list token needs a subject, a time of issue and a list", ErrToken)
	}
	j, err := t.List.Encode()
	if err != nil {
		return "", err
	}
	c := tokenClaims{Iat: t.IssuedAt.Unix(), Iss: t.Issuer, StatusList: &j, Sub: t.Subject, TTL: t.TTL.Seconds()}
	if !t.Expires.IsZero() {
		c.Exp = t.Expires.Unix()
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{}).WithType(TokenType)
	for k, v := range header {
		opts = opts.WithHeader(k, v)
	}
	signer, err := jose.NewSigner(key, opts)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrToken, err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrToken, err)
	}
	return jws.CompactSerialize()
}

// VerifyToken verifies a Status List Token in JWT format (Section 8.3): its signature
// with key, its typ, its "sub" equal to uri (the Referenced Token's status_list.uri;
// empty skips the check), "iat" present, "exp" (if any) after now, "ttl" (if any)
// positive, and its status list well formed.
func VerifyToken(jwt string, key any, uri string, now time.Time) (*Token, error) {
	jws, err := jose.ParseSignedCompact(jwt, Algorithms)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrToken, err)
	}
	if typ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType]; typ != TokenType {
		return nil, fmt.Errorf("%w: typ is %v, want %q", ErrToken, typ, TokenType)
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrToken, err)
	}
	var c struct {
		Exp        *json.Number `json:"exp"`
		Iat        *json.Number `json:"iat"`
		Iss        string       `json:"iss"`
		StatusList *JSON        `json:"status_list"`
		Sub        string       `json:"sub"`
		TTL        *json.Number `json:"ttl"`
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	if c.Sub == "" || c.Iat == nil || c.StatusList == nil {
		return nil, fmt.Errorf("%w: sub, iat and status_list are required", ErrMalformed)
	}
	if uri != "" && c.Sub != uri {
		return nil, fmt.Errorf("%w: token is for %q, not %q", ErrToken, c.Sub, uri)
	}
	t := &Token{Subject: c.Sub, Issuer: c.Iss}
	iat, err := seconds(c.Iat)
	if err != nil {
		return nil, err
	}
	t.IssuedAt = time.Unix(iat, 0)
	if c.Exp != nil {
		exp, err := seconds(c.Exp)
		if err != nil {
			return nil, err
		}
		t.Expires = time.Unix(exp, 0)
		if !now.Before(t.Expires) {
			return nil, fmt.Errorf("%w: expired at %s", ErrToken, t.Expires.UTC().Format(time.RFC3339))
		}
	}
	if c.TTL != nil {
		ttl, err := c.TTL.Float64()
		if err != nil || ttl <= 0 {
			return nil, fmt.Errorf("%w: ttl must be a positive number", ErrMalformed)
		}
		t.TTL = time.Duration(ttl * float64(time.Second))
	}
	if t.List, err = Decode(*c.StatusList); err != nil {
		return nil, err
	}
	return t, nil
}

func seconds(n *json.Number) (int64, error) {
	i, err := n.Int64()
	if err != nil {
		return 0, fmt.Errorf("%w: %s is not a whole number of seconds", ErrMalformed, n)
	}
	return i, nil
}
