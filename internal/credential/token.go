package credential

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/statuslist"
	"github.com/agora-ledger/agora/internal/tx"
)

// Issuer-signed Status List Tokens. The ledger holds a list's bits; the
// issuer's key is the issuer's alone. So the issuer signs a token
// (statuslist+jwt) over the list as it is, and posts it by a
// "publish-token" transaction; the ledger takes it only if its bits are
// the list's bits in state, its key an assertionMethod key of the issuer
// and its "sub" the uri the list's credentials reference. The node then
// serves the latest token at that uri, with a state proof; a verifier
// checks the token's signature, that its bits are the proven list's, and
// its freshness. Every token is kept, so the token served at a past time
// is a point read too.

// Limits of tokens.
const (
	MaxToken     = 48 << 10 // bytes of a token (it travels in a transaction)
	MaxTokens    = 1 << 16  // tokens kept for a list
	MaxTokenLife = 366 * 24 * time.Hour
	// TokenSkew is how far a token's iat may be from the block's time:
	// ahead (the issuer's clock) or behind (the time it took to commit).
	TokenSkew = 5 * time.Minute
)

// TokenMediaType is the media type of a Status List Token in JWT form,
// which the token route serves when the request accepts it.
const TokenMediaType = "application/statuslist+jwt"

// PublishToken is the body of a "publish-token" transaction: Issuer posts
// Token, a Status List Token it signed over its list List as the ledger
// holds it now.
type PublishToken struct {
	Issuer string `cbor:"1,keyasint" json:"issuer"`
	List   string `cbor:"2,keyasint" json:"list"`
	Token  string `cbor:"3,keyasint" json:"token"`
}

// Validate checks the message without state.
func (m *PublishToken) Validate() error {
	if err := validIssuerList(m.Issuer, m.List); err != nil {
		return err
	}
	if len(m.Token) == 0 || len(m.Token) > MaxToken || strings.Count(m.Token, ".") != 2 {
		return fmt.Errorf("%w: the token is not a compact JWS of at most %d bytes", ledger.ErrInvalid, MaxToken)
	}
	return nil
}

// Published is a token the ledger took, kept under the list at its
// number (0 the first).
//
// Evolution: fields are numbered; new optional fields take new numbers.
type Published struct {
	Token string `cbor:"1,keyasint" json:"token"`
	// Version is the list's version (its status changes) the token's
	// bits are.
	Version  uint64   `cbor:"2,keyasint" json:"version"`
	KeyID    string   `cbor:"3,keyasint" json:"key_id"` // the issuer's key that signed it
	IssuedAt int64    `cbor:"4,keyasint" json:"iat"`    // its iat, Unix seconds
	Expires  int64    `cbor:"5,keyasint" json:"exp"`    // its exp, Unix seconds
	Time     gov.Time `cbor:"6,keyasint" json:"time"`   // when the ledger took it
	Height   uint64   `cbor:"7,keyasint" json:"height"`
	Number   uint32   `cbor:"8,keyasint" json:"number"`
}

// listPath is the end of the path of a list's routes: its URL is
// .../v1/credential/lists/<id>.
const listPath = "/v1/credential/lists/"

// ListURIs are the uris credentials of a list reference: the token's
// (an SD-JWT VC's status_list.uri, the token's sub) and the Bitstring
// Status List credential's (a W3C credential's statusListCredential).
// base is the list's URL, or "" for a list created without one, whose
// uris are both StatusURI(id), a name the verifier reads through any node.
func ListURIs(id, base string) (token, bitstring string) {
	if base == "" {
		return StatusURI(id), StatusURI(id)
	}
	return base + "/token", base + "/bitstring"
}

// URIs are l's ListURIs.
func (l *List) URIs() (token, bitstring string) { return ListURIs(l.ID, l.URI) }

// validListURL checks the URL a list is created with: http or https,
// whose path ends in /v1/credential/lists/<id>, no query or fragment.
func validListURL(id, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" ||
		!strings.HasSuffix(u.Path, listPath+id) || len(s) > 512 {
		return fmt.Errorf("%w: the list's uri %q is not an http(s) URL ending in %s%s", ledger.ErrInvalid, s, listPath, id)
	}
	return nil
}

// listOfURL returns the list id of a token or bitstring URL of a list.
func listOfURL(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", false
	}
	for _, form := range []string{"/token", "/bitstring"} {
		p, ok := strings.CutSuffix(u.Path, form)
		if !ok {
			continue
		}
		if i := strings.LastIndex(p, listPath); i >= 0 && validListID(p[i+len(listPath):]) == nil {
			return p[i+len(listPath):], true
		}
	}
	return "", false
}

func publishToken(ctx *ledger.Context, m *PublishToken) error {
	// An issuer no longer accredited still publishes its revocations.
	if _, _, err := signedByIssuer(ctx, m.Issuer, false); err != nil {
		return err
	}
	l, err := issuersList(ctx, m.Issuer, m.List)
	if err != nil {
		return err
	}
	if l.Tokens >= MaxTokens {
		return fmt.Errorf("%w: list %s has %d tokens, the most", ledger.ErrConflict, l.ID, MaxTokens)
	}
	now := ctx.Block.Time
	tok, st, err := checkToken(ctx.View(identity.Name), l, m.Token, now)
	if err != nil {
		return err
	}
	if d := tok.IssuedAt.Sub(now); d > TokenSkew || d < -TokenSkew {
		return fmt.Errorf("%w: the token's iat %s is more than %s from the block's time %s", ledger.ErrInvalid,
			tok.IssuedAt.UTC().Format(time.RFC3339), TokenSkew, now.UTC().Format(time.RFC3339))
	}
	if tok.Expires.IsZero() || tok.Expires.Sub(tok.IssuedAt) > MaxTokenLife {
		return fmt.Errorf("%w: a token has an exp at most %s after its iat", ledger.ErrInvalid, MaxTokenLife)
	}
	if l.Tokens > 0 {
		prev, err := PublishedIn(ctx.KV, l.ID, l.Tokens-1)
		if err != nil {
			return err
		}
		if tok.IssuedAt.Unix() < prev.IssuedAt {
			return fmt.Errorf("%w: the token's iat is before the last token's", ledger.ErrConflict)
		}
	}
	state, err := Entries(ctx.KV, l)
	if err != nil {
		return err
	}
	if tok.List.Bits() != int(l.Bits) || !bytes.Equal(tok.List.Bytes(), state.Bytes()) {
		return ledger.WithHint(fmt.Errorf("%w: the token's list is not list %s as the ledger holds it (version %d)", ledger.ErrConflict, l.ID, l.Version),
			"sign the list as it is now (its status changed meanwhile?)")
	}
	p := Published{Token: m.Token, Version: l.Version, KeyID: st.KeyID, IssuedAt: tok.IssuedAt.Unix(), Expires: tok.Expires.Unix(),
		Time: gov.Time(now.UnixMilli()), Height: ctx.Block.Height, Number: l.Tokens}
	if err := ctx.KV.SetValue(tokenKey(l.ID, p.Number), &p); err != nil {
		return err
	}
	l.Tokens++
	ctx.Emit("token-published", ledger.Attr{Key: "list", Value: l.ID}, ledger.Attr{Key: "number", Value: fmt.Sprint(p.Number)},
		ledger.Attr{Key: "version", Value: fmt.Sprint(l.Version)})
	return ctx.KV.SetValue(listKey(l.ID), l)
}

// checkToken verifies jwt as a Status List Token of l: typ
// statuslist+jwt, EdDSA under the Ed25519 key in its header's "jwk",
// which must act for l's issuer as assertionMethod at now (iv is a view
// of identity's namespace), its "kid" that key's DID URL, its "sub" the
// list's token uri, its "iss" the issuer, not expired at now. It returns
// the token and the key's standing.
func checkToken(iv *ledger.KV, l *List, jwt string, now time.Time) (*statuslist.Token, *identity.Standing, error) {
	key, kid, err := TokenKey(jwt)
	if err != nil {
		return nil, nil, err
	}
	st, err := identity.ActsFor(iv, l.Issuer, tx.PublicKey{Alg: tx.Ed25519, Key: key}, AssertionMethod, now)
	if err != nil {
		return nil, nil, fmt.Errorf("the token's key: %w", err)
	}
	if kid != l.Issuer+"#"+st.KeyID {
		return nil, nil, fmt.Errorf("%w: the token's kid %q is not its key's DID URL %s#%s", ledger.ErrInvalid, kid, l.Issuer, st.KeyID)
	}
	uri, _ := l.URIs()
	tok, err := statuslist.VerifyToken(jwt, key, uri, now)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ledger.ErrInvalid, err)
	}
	if tok.Issuer != l.Issuer {
		return nil, nil, fmt.Errorf("%w: the token's iss %q is not the list's issuer %s", ledger.ErrInvalid, tok.Issuer, l.Issuer)
	}
	return tok, st, nil
}

// TokenKey returns the Ed25519 key in a token's "jwk" header and its
// "kid", without verifying anything.
func TokenKey(jwt string) (ed25519.PublicKey, string, error) {
	jws, err := jose.ParseSignedCompact(jwt, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return nil, "", fmt.Errorf("%w: the token: %v (an EdDSA compact JWS)", ledger.ErrInvalid, err)
	}
	h := jws.Signatures[0].Protected
	key, ok := func() (ed25519.PublicKey, bool) {
		if h.JSONWebKey == nil || !h.JSONWebKey.Valid() || !h.JSONWebKey.IsPublic() {
			return nil, false
		}
		k, ok := h.JSONWebKey.Key.(ed25519.PublicKey)
		return k, ok
	}()
	if !ok {
		return nil, "", fmt.Errorf("%w: the token's header has no Ed25519 public key (jwk)", ledger.ErrInvalid)
	}
	return key, h.KeyID, nil
}

// SignListToken signs sl, the list of issuer's list at uri (its token
// uri, the "sub"), as a Status List Token with priv, an assertionMethod
// key of issuer whose DID URL is kid: iat, exp and ttl (0 for none) as
// given. The header carries kid and the public key (jwk).
func SignListToken(priv ed25519.PrivateKey, kid, issuer, uri string, sl *statuslist.List, iat, exp time.Time, ttl time.Duration) (string, error) {
	return statuslist.SignTokenWith(statuslist.Token{Subject: uri, Issuer: issuer, IssuedAt: iat, Expires: exp, TTL: ttl, List: sl},
		jose.SigningKey{Algorithm: jose.EdDSA, Key: priv},
		map[jose.HeaderKey]any{"kid": kid, "jwk": &jose.JSONWebKey{Key: priv.Public()}})
}

// PublishedIn returns token n of list id. Errors wrap ledger.ErrNotFound
// when there is none.
func PublishedIn(kv *ledger.KV, id string, n uint32) (*Published, error) {
	var p Published
	found, err := kv.GetValue(tokenKey(id, n), &p)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: list %s has no token %d", ledger.ErrNotFound, id, n)
	}
	return &p, nil
}

// ListToken is the token query's answer: the list, the latest token the
// ledger took for it by the time asked, the key's standing at the
// token's publication as the ledger holds it now (a key since revoked as
// compromised by then voids it), and, asked for now, the list's entries
// as the ledger holds them: a verifier checks that the token's bits are
// these (Token is then current) and that it has not expired.
type ListToken struct {
	List      List               `json:"list"`
	At        gov.Time           `json:"at,omitempty"`
	Published *Published         `json:"published,omitempty"`
	Key       *identity.Standing `json:"key,omitempty"`
	// State is the list in state now, as a token's claims (not asked
	// with at: the pages are kept as they are now only).
	State *TokenClaims `json:"state,omitempty"`
}

// ListTokenOf answers the token query: list id's latest token published
// at or before at (latest for now), found by bisection over the kept
// tokens (point reads, so provable). With no token by then the answer
// comes with an error wrapping ledger.ErrNotFound.
func ListTokenOf(kv *ledger.KV, id string, at time.Time) (*ListToken, error) {
	l, err := ListIn(kv, id)
	if err != nil {
		return nil, err
	}
	ans := &ListToken{List: *l}
	if at.Equal(latest) {
		if ans.State, err = TokenOf(kv, id); err != nil {
			return nil, err
		}
	} else {
		ans.At = gov.Time(at.UnixMilli())
	}
	// The first n tokens were published at or before at.
	lo, hi := uint32(0), l.Tokens
	for lo < hi {
		mid := lo + (hi-lo)/2
		p, err := PublishedIn(kv, id, mid)
		if err != nil {
			return nil, err
		}
		if int64(p.Time) <= at.UnixMilli() {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return ans, fmt.Errorf("%w: list %s has no token published by then (the issuer publishes one with agora vc publish)", ledger.ErrNotFound, id)
	}
	if ans.Published, err = PublishedIn(kv, id, lo-1); err != nil {
		return nil, err
	}
	ans.Key, err = identity.KeyIDStanding(kv.View(identity.Name), l.Issuer, ans.Published.KeyID, AssertionMethod,
		time.UnixMilli(int64(ans.Published.Time)))
	return ans, err
}

// CheckListToken judges a token answer as a verifier does, at now: the
// token's signature under its header's key, which must be the key the
// ledger recorded and still act (not compromised by the publication),
// its sub the list's token uri, not expired at now; and, if the answer
// has the list's state, that the token's bits are the state's. It
// returns the token; an error says what failed, for people.
func CheckListToken(a *ListToken, now time.Time) (*statuslist.Token, error) {
	p := a.Published
	if p == nil {
		return nil, fmt.Errorf("no token")
	}
	key, kid, err := TokenKey(p.Token)
	if err != nil {
		return nil, err
	}
	if a.Key == nil || !a.Key.Acts {
		why := "unknown"
		if a.Key != nil {
			why = a.Key.Reason
		}
		return nil, fmt.Errorf("its key does not sign for %s: %s", a.List.Issuer, why)
	}
	if kid != a.List.Issuer+"#"+p.KeyID {
		return nil, fmt.Errorf("its kid %q is not the key the ledger recorded, %s#%s", kid, a.List.Issuer, p.KeyID)
	}
	uri, _ := a.List.URIs()
	tok, err := statuslist.VerifyToken(p.Token, key, uri, now)
	if err != nil {
		return nil, err
	}
	if a.State != nil {
		state, err := statuslist.Decode(a.State.StatusList)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(tok.List.Bytes(), state.Bytes()) {
			return tok, fmt.Errorf("%w: its bits are list %s at version %d, the ledger's is at version %d", ErrStaleToken, a.List.ID, p.Version, a.List.Version)
		}
	}
	return tok, nil
}

// ErrStaleToken: the token's list is not the ledger's any more: a status
// changed after the issuer signed it (it publishes a new one).
var ErrStaleToken = fmt.Errorf("stale status list token")

func tokenKey(id string, n uint32) []byte { return fmt.Appendf(nil, "k/%s/%08x", id, n) }
