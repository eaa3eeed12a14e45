package oid4vp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// The values of an authorization request that Agora uses.
const (
	ResponseTypeVPToken = "vp_token"
	ResponseModeDirect  = "direct_post"
	// RequestObjectType is the "typ" of a signed request object (§5).
	RequestObjectType = "oauth-authz-req+jwt"
	// RequestObjectMediaType is the Content-Type of a request_uri's
	// answer (RFC 9101 §10.2).
	RequestObjectMediaType = "application/oauth-authz-req+jwt"
	// SelfIssuedAudience is the "aud" of a request object for a wallet
	// whose metadata is not known (§5.8).
	SelfIssuedAudience = "https://self-issued.me/v2"
)

// Client identifier prefixes (§5.9.3).
const (
	PrefixRedirectURI = "redirect_uri"
	PrefixDID         = "decentralized_identifier"
)

// knownPrefixes are the prefixes §5.9.3 defines; a client_id with another
// one is pre-registered, its prefix part of the identifier.
var knownPrefixes = []string{PrefixRedirectURI, PrefixDID, "openid_federation", "verifier_attestation",
	"x509_san_dns", "x509_hash", "origin"}

// ErrRequest wraps every reason an authorization request is refused.
var ErrRequest = errors.New("authorization request")

// Request is an authorization request (§5), by value or as the claims of
// a request object.
type Request struct {
	ClientID     string `json:"client_id"`
	ResponseType string `json:"response_type"`
	ResponseMode string `json:"response_mode,omitempty"`
	ResponseURI  string `json:"response_uri,omitempty"`
	RedirectURI  string `json:"redirect_uri,omitempty"`
	Nonce        string `json:"nonce"`
	State        string `json:"state,omitempty"`
	Scope        string `json:"scope,omitempty"`
	DCQLQuery    *Query `json:"dcql_query,omitempty"`
	// ClientMetadata is the verifier's metadata (§5.1), kept as sent.
	ClientMetadata  json.RawMessage `json:"client_metadata,omitempty"`
	TransactionData []string        `json:"transaction_data,omitempty"`
	WalletNonce     string          `json:"wallet_nonce,omitempty"`
	// The claims of a request object (RFC 9101).
	Issuer   string `json:"iss,omitempty"`
	Audience string `json:"aud,omitempty"`
	IssuedAt int64  `json:"iat,omitempty"`
	Expiry   int64  `json:"exp,omitempty"`
}

// SplitClientID returns a client_id's prefix (one of §5.9.3's, or "" for
// a pre-registered client) and the identifier after it.
func SplitClientID(clientID string) (prefix, id string) {
	if p, rest, ok := strings.Cut(clientID, ":"); ok && slices.Contains(knownPrefixes, p) {
		return p, rest
	}
	return "", clientID
}

// Validate checks the request's parameters against each other (§5, §8.2),
// for a request that was signed or not.
func (r *Request) Validate(signed bool) error {
	if r.ClientID == "" {
		return fmt.Errorf("%w: no client_id", ErrRequest)
	}
	if r.ResponseType != ResponseTypeVPToken {
		return fmt.Errorf("%w: response_type %q, want %q", ErrRequest, r.ResponseType, ResponseTypeVPToken)
	}
	if r.Nonce == "" {
		return fmt.Errorf("%w: no nonce", ErrRequest)
	}
	if (r.DCQLQuery == nil) == (r.Scope == "") {
		return fmt.Errorf("%w: give exactly one of dcql_query and scope", ErrRequest)
	}
	if r.DCQLQuery != nil {
		if err := r.DCQLQuery.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrRequest, err)
		}
	}
	switch r.ResponseMode {
	case ResponseModeDirect, "direct_post.jwt":
		if r.ResponseURI == "" {
			return fmt.Errorf("%w: response_mode %s needs a response_uri", ErrRequest, r.ResponseMode)
		}
		if r.RedirectURI != "" {
			return fmt.Errorf("%w: response_mode %s forbids redirect_uri", ErrRequest, r.ResponseMode)
		}
	case "", "fragment", "query":
	default:
		return fmt.Errorf("%w: unknown response_mode %q", ErrRequest, r.ResponseMode)
	}
	prefix, id := SplitClientID(r.ClientID)
	switch prefix {
	case PrefixRedirectURI:
		if signed {
			return fmt.Errorf("%w: a client_id of prefix redirect_uri cannot sign its request", ErrRequest)
		}
		if uri := r.responseTo(); uri != id {
			return fmt.Errorf("%w: client_id %s but the response goes to %s", ErrRequest, r.ClientID, uri)
		}
	case PrefixDID:
		if !signed {
			return fmt.Errorf("%w: a client_id of prefix decentralized_identifier must sign its request", ErrRequest)
		}
		if !strings.HasPrefix(id, "did:") {
			return fmt.Errorf("%w: client_id %s does not name a DID", ErrRequest, r.ClientID)
		}
	}
	return nil
}

// responseTo is where the response goes.
func (r *Request) responseTo() string {
	if r.ResponseURI != "" {
		return r.ResponseURI
	}
	return r.RedirectURI
}

// requestAlgs are the algorithms a request object may be signed with.
var requestAlgs = []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256}

// Sign returns r as a request object signed with key, whose "kid" is kid
// (for a DID client, a DID URL of the verification method).
func (r *Request) Sign(key jose.SigningKey, kid string) (string, error) {
	if err := r.Validate(true); err != nil {
		return "", err
	}
	return signJWT(key, RequestObjectType, kid, r)
}

// signJWT signs claims as a compact JWS with the header's typ and kid.
func signJWT(key jose.SigningKey, typ, kid string, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	s, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", kid))
	if err != nil {
		return "", err
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// KeyFunc returns the public key that must have signed a request object
// whose header names kid, for the client clientID; an error refuses the
// request.
type KeyFunc func(clientID, kid string) (any, error)

// ParseRequestObject verifies a signed request object (§5, RFC 9101):
// its typ, its algorithm, its signature by the key keyOf names, and that
// its client_id is clientID, the one of the invocation that pointed to
// it (§5.10: else the wallet must refuse it).
func ParseRequestObject(jwt, clientID string, keyOf KeyFunc) (*Request, error) {
	jws, err := jose.ParseSigned(jwt, requestAlgs)
	if err != nil {
		return nil, fmt.Errorf("%w: not a signed request object: %v", ErrRequest, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: want one signature", ErrRequest)
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != RequestObjectType {
		return nil, fmt.Errorf("%w: typ %q, want %s", ErrRequest, typ, RequestObjectType)
	}
	key, err := keyOf(clientID, h.KeyID)
	if err != nil {
		return nil, fmt.Errorf("%w: the signing key %s: %w", ErrRequest, h.KeyID, err)
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, fmt.Errorf("%w: the signature does not verify with %s", ErrRequest, h.KeyID)
	}
	var r Request
	if err := json.Unmarshal(payload, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRequest, err)
	}
	if r.ClientID != clientID {
		return nil, fmt.Errorf("%w: the request object's client_id %q is not the invocation's %q", ErrRequest, r.ClientID, clientID)
	}
	if prefix, id := SplitClientID(clientID); prefix == PrefixDID && !strings.HasPrefix(h.KeyID, id+"#") {
		return nil, fmt.Errorf("%w: kid %s is not a key of %s", ErrRequest, h.KeyID, id)
	}
	return &r, r.Validate(true)
}

// Invocation is what a wallet is invoked with (§5.7, §5.10): the
// parameters of an authorization request URL, by reference (ClientID and
// RequestURI) or by value (Request).
type Invocation struct {
	ClientID   string
	RequestURI string
	// RequestURIMethod is "get" (or empty) or "post".
	RequestURIMethod string
	// Request is the request sent by value, or a signed request object
	// sent by value (RequestJWT).
	Request    *Request
	RequestJWT string
}

// URL returns the invocation as a URL of base, the wallet's endpoint
// ("openid4vp://" or a wallet's web page).
func (in Invocation) URL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("client_id", in.ClientID)
	switch {
	case in.RequestURI != "":
		q.Set("request_uri", in.RequestURI)
		if in.RequestURIMethod != "" {
			q.Set("request_uri_method", in.RequestURIMethod)
		}
	case in.RequestJWT != "":
		q.Set("request", in.RequestJWT)
	case in.Request != nil:
		for k, v := range in.Request.values() {
			q[k] = v
		}
	}
	if u.Host == "" && u.Path == "" && strings.HasSuffix(base, "://") {
		// url.URL drops the "//" of a scheme with no host: the
		// conventional wallet link is "openid4vp://?...".
		return base + "?" + q.Encode(), nil
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// values are r's parameters as a query string carries them: objects as
// JSON (§5.1).
func (r *Request) values() url.Values {
	q := url.Values{}
	b, _ := json.Marshal(r)
	var m map[string]json.RawMessage
	json.Unmarshal(b, &m)
	for k, v := range m {
		var s string
		if json.Unmarshal(v, &s) == nil {
			q.Set(k, s)
		} else {
			q.Set(k, string(v))
		}
	}
	return q
}

// ParseInvocation parses an authorization request URL.
func ParseInvocation(s string) (*Invocation, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRequest, err)
	}
	return InvocationOf(u.Query())
}

// InvocationOf reads an invocation from a URL's query parameters.
func InvocationOf(q url.Values) (*Invocation, error) {
	in := &Invocation{ClientID: q.Get("client_id"), RequestURI: q.Get("request_uri"),
		RequestURIMethod: q.Get("request_uri_method"), RequestJWT: q.Get("request")}
	if in.ClientID == "" {
		return nil, fmt.Errorf("%w: no client_id", ErrRequest)
	}
	switch in.RequestURIMethod {
	case "", "get", "post":
	default:
		return nil, fmt.Errorf("%w: request_uri_method %q is neither get nor post", ErrRequest, in.RequestURIMethod)
	}
	if in.RequestURI != "" || in.RequestJWT != "" {
		if in.RequestURI != "" && in.RequestJWT != "" {
			return nil, fmt.Errorf("%w: both request and request_uri", ErrRequest)
		}
		return in, nil
	}
	// By value: every parameter in the query, objects as JSON.
	m := map[string]any{}
	for k, vs := range q {
		v := vs[0]
		switch k {
		case "dcql_query", "client_metadata", "transaction_data":
			m[k] = json.RawMessage(v)
		case "iat", "exp":
			m[k] = json.RawMessage(v)
		default:
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRequest, err)
	}
	in.Request = &Request{}
	if err := json.Unmarshal(b, in.Request); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRequest, err)
	}
	return in, nil
}
