// Package login is a relying party's passwordless login with OpenID for
// Verifiable Presentations (issue 18): an off-ledger service that asks a
// holder's wallet for a credential (level "kyc": an SD-JWT VC of a type,
// with claims) or for their DID alone (level "did": a DID
// authentication), verifies the answer offline against the ledger's
// proven facts, and opens a session.
//
// # Flow
//
// A person opens the relying party's page and picks a level (POST
// /login). The relying party makes a transaction: a fresh nonce and
// state, a DCQL query, and a request object signed with a key of its own
// DID, served at /request/{state} (request_uri). The page links to the
// wallet with client_id and request_uri. The wallet fetches and checks the
// request, shows what it asks, and posts the answer to /response
// (direct_post). The relying party verifies it (Ledger) and answers the
// wallet with a redirect_uri carrying a response_code, which, opened in
// the person's browser, sets the session cookie.
//
// Across devices, the waiting page shows the same link as a QR code for
// a wallet elsewhere (a phone, or 'agora wallet respond' on the command
// line). Its script asks GET /login/{state}/status (Progress) until the
// wallet has answered, then opens GET /login/{state} (Status), which
// gives the session only to the browser that holds the login's binding
// cookie, set when it began, and only once; from the first question on,
// the wallet's redirect opens the session in that browser only.
//
// # Refusals
//
// Every refusal has a stable code (Refusal.Code) and a reason for the
// person, which both the wallet and the page show: a replayed response
// (each state and nonce answers once), one for another verifier or
// request, a tampered one, an expired request, a revoked or suspended
// credential, an issuer not accredited, a key binding that does not hold.
// Every decision is logged. Requests are rate-limited per client address.
package login

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agora-ledger/agora/internal/oid4vp"
)

// Name is the service's name in cmd/agora's registry.
const Name = "login"

// The levels of access a login asks for.
const (
	LevelKYC = "kyc"
	LevelDID = "did"
)

// Config configures a relying party. DID, Key, KeyID, URL, Type, Ledger,
// Now, Rand and Log must be set; the rest have defaults.
type Config struct {
	// DID is the relying party's DID; its client_id is
	// "decentralized_identifier:" + DID, the audience of every
	// presentation made for it.
	DID string
	// Key signs the request objects; KeyID is its DID URL, a key of DID.
	Key   jose.SigningKey
	KeyID string
	// URL is where the relying party is served, as the browser and the
	// wallet reach it (http://127.0.0.1:7790): the request_uri and
	// response_uri are under it.
	URL string
	// Wallet is the wallet endpoint the login page links to, with the
	// request's client_id and request_uri (default "openid4vp://"; a
	// browser wallet's page, such as 'agora wallet serve''s).
	Wallet string
	// Type is the vct of the credential level kyc asks for, and Claims
	// the claims it must disclose; Require are claims whose value must
	// be one of those given (DCQL values), such as age_over_18: [true].
	Type    string
	Claims  []string
	Require map[string][]any
	// Ledger verifies presentations against the ledger's proven facts.
	Ledger Ledger
	// RequestTTL bounds how long a request may wait for its answer
	// (default 5 minutes).
	RequestTTL time.Duration
	// RateLimit is how many requests a second one client address may
	// make, Burst how many at once (default 20 and 40; RateLimit < 0:
	// no limit).
	RateLimit float64
	Burst     int
	// Now and Rand are the clock and the randomness (nonces, states,
	// cookies).
	Now  func() time.Time
	Rand io.Reader
	// Log receives one record per decision.
	Log *slog.Logger
}

// Ledger is what the relying party asks the ledger, each answer proven
// (the caller's policy) and checked offline: no call to an issuer.
type Ledger interface {
	// Credential verifies an SD-JWT VC presentation bound to audience
	// and nonce. A presentation that fails a check is a *Checked with
	// Refused set; an error is a failure to ask.
	Credential(ctx context.Context, presentation, audience, nonce string) (*Checked, error)
	// AuthenticationKey returns the public key of kid if it is, now, an
	// authentication key of did; an error saying why not otherwise
	// (wrapping ErrUnproven when the ledger could not be asked).
	AuthenticationKey(ctx context.Context, did, kid string) (any, error)
}

// ErrUnproven wraps a failure to get a proven answer from the ledger.
var ErrUnproven = errors.New("the ledger's answer could not be proven")

// Checked is the outcome of a credential's verification.
type Checked struct {
	// Refused is the stable code of the first check that failed, Reason
	// why; both empty when every check passed.
	Refused, Reason string
	// Subject is the credential's subject (a DID), Disclosed its
	// disclosed claims, Steps what was checked, for the record.
	Subject   string
	Disclosed map[string]any
	Steps     []string
	// ProvenAt says which checkpoint the facts were proven against.
	ProvenAt string
}

// Refusal codes: stable, for programs; Reason is for people.
const (
	CodeMalformed     = "malformed"
	CodeUnknown       = "unknown_request"
	CodeExpired       = "expired"
	CodeReplayed      = "replayed"
	CodeWalletRefused = "wallet_refused"
	CodeAudience      = "wrong_audience"
	CodeNonce         = "wrong_nonce"
	CodeTampered      = "tampered"
	CodeNotAnswered   = "not_answered"
	CodeStale         = "stale"
	CodeIssuerKey     = "issuer_key"
	CodeAccreditation = "not_accredited"
	CodeType          = "wrong_type"
	CodeRevoked       = "revoked"
	CodeSuspended     = "suspended"
	CodeStatus        = "status"
	CodeBinding       = "not_bound"
	CodeNotAuthKey    = "not_authentication_key"
	CodeUnproven      = "unproven"
	CodeRateLimited   = "rate_limited"
	CodeOtherBrowser  = "other_browser"
	CodeOtherDevice   = "other_device"
)

// Refusal is a refused response.
type Refusal struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

func (r *Refusal) Error() string { return r.Code + ": " + r.Reason }

func refuse(code, format string, a ...any) *Refusal {
	return &Refusal{Code: code, Reason: fmt.Sprintf(format, a...)}
}

// Session is a person logged in.
type Session struct {
	DID       string         `json:"did"`
	Level     string         `json:"level"`
	Disclosed map[string]any `json:"disclosed,omitempty"`
	Since     time.Time      `json:"since"`
	ProvenAt  string         `json:"proven_at,omitempty"`
}

// txn is one login: a request and, once answered, its outcome.
type txn struct {
	state, nonce, level, binding string
	created                      time.Time
	query                        *oid4vp.Query
	answered                     bool
	// followed: the starting browser's page has asked the status, so
	// it opens the session itself (cross device).
	followed bool
	outcome  *outcome
}

// boundTo reports whether binding is the secret of the browser that
// started t (its login cookie's), compared in constant time.
func (t *txn) boundTo(binding string) bool {
	return binding != "" && subtle.ConstantTimeCompare([]byte(binding), []byte(t.binding)) == 1
}

// outcome is what a response came to.
type outcome struct {
	session  *Session // nil if refused
	refusal  *Refusal
	redeemed bool
	at       time.Time
	txn      *txn // the login it answered; nil for a response that named none, or a replay
}

// Server is a relying party.
type Server struct {
	cfg      Config
	clientID string
	limit    *limiter

	mu         sync.Mutex
	txns       map[string]*txn     // by state
	codes      map[string]*outcome // by response_code
	sessions   map[string]*Session // by cookie
	lastExpire time.Time
}

// SessionTTL is how long a session lasts.
const SessionTTL = 12 * time.Hour

// New returns a relying party for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.DID == "" || cfg.KeyID == "" || cfg.URL == "" || cfg.Ledger == nil || cfg.Type == "" || cfg.Now == nil || cfg.Rand == nil || cfg.Log == nil {
		return nil, errors.New("login: the configuration lacks a DID, key id, URL, ledger, type, clock, randomness or log")
	}
	if cfg.Wallet == "" {
		cfg.Wallet = "openid4vp://"
	}
	if cfg.RequestTTL == 0 {
		cfg.RequestTTL = 5 * time.Minute
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit, cfg.Burst = 20, 40
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	return &Server{cfg: cfg, clientID: oid4vp.PrefixDID + ":" + cfg.DID, limit: newLimiter(cfg.RateLimit, cfg.Burst),
		txns: map[string]*txn{}, codes: map[string]*outcome{}, sessions: map[string]*Session{}}, nil
}

// ClientID is the relying party's client_id.
func (s *Server) ClientID() string { return s.clientID }

func (s *Server) random() string {
	b := make([]byte, 18)
	if _, err := io.ReadFull(s.cfg.Rand, b); err != nil {
		panic("login: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Query is the DCQL query of a level.
func (s *Server) Query(level string) (*oid4vp.Query, error) {
	switch level {
	case LevelKYC:
		cq := oid4vp.CredentialQuery{ID: "kyc", Format: oid4vp.FormatSDJWTVC, Meta: &oid4vp.Meta{VCTValues: []string{s.cfg.Type}}}
		for _, c := range s.cfg.Claims {
			cq.Claims = append(cq.Claims, oid4vp.ClaimsQuery{Path: oid4vp.Path{c}, Values: s.cfg.Require[c]})
		}
		return &oid4vp.Query{Credentials: []oid4vp.CredentialQuery{cq}}, nil
	case LevelDID:
		return &oid4vp.Query{Credentials: []oid4vp.CredentialQuery{{ID: "did", Format: oid4vp.FormatDID, Meta: &oid4vp.Meta{}}}}, nil
	}
	return nil, fmt.Errorf("no level %q (want %s or %s)", level, LevelKYC, LevelDID)
}

// Start begins a login at level and returns its state and the wallet
// link; binding is a secret the starting browser keeps in a cookie, to
// be given the session when the wallet answers from another device.
func (s *Server) Start(level string) (state, link, binding string, err error) {
	q, err := s.Query(level)
	if err != nil {
		return "", "", "", err
	}
	t := &txn{state: s.random(), nonce: s.random(), binding: s.random(), level: level, created: s.cfg.Now(), query: q}
	s.mu.Lock()
	s.expire(t.created)
	s.txns[t.state] = t
	s.mu.Unlock()
	link, err = s.WalletLink(t.state)
	return t.state, link, t.binding, err
}

// WalletLink is the link that opens the wallet on the login state's
// request: the wallet endpoint with client_id and request_uri.
func (s *Server) WalletLink(state string) (string, error) {
	return oid4vp.Invocation{ClientID: s.clientID, RequestURI: s.cfg.URL + "/request/" + state}.URL(s.cfg.Wallet)
}

// expire forgets, at most once a second, the transactions and response
// codes older than twice the TTL (a request older than the TTL is refused
// as expired before that) and the sessions older than SessionTTL. s.mu
// held.
func (s *Server) expire(now time.Time) {
	if now.Sub(s.lastExpire) < time.Second {
		return
	}
	s.lastExpire = now
	for k, t := range s.txns {
		if now.Sub(t.created) > 2*s.cfg.RequestTTL {
			delete(s.txns, k)
		}
	}
	for k, o := range s.codes {
		if now.Sub(o.at) > 2*s.cfg.RequestTTL {
			delete(s.codes, k)
		}
	}
	for k, sess := range s.sessions {
		if now.Sub(sess.Since) > SessionTTL {
			delete(s.sessions, k)
		}
	}
}

// RequestObject returns the signed request object of the login state.
func (s *Server) RequestObject(state string) (string, error) {
	s.mu.Lock()
	t := s.txns[state]
	s.mu.Unlock()
	if t == nil {
		return "", refuse(CodeUnknown, "no login is waiting with this state")
	}
	now := s.cfg.Now()
	if now.Sub(t.created) > s.cfg.RequestTTL {
		return "", refuse(CodeExpired, "the request expired at %s; start the login again", t.created.Add(s.cfg.RequestTTL).UTC().Format(time.RFC3339))
	}
	r := &oid4vp.Request{ClientID: s.clientID, ResponseType: oid4vp.ResponseTypeVPToken, ResponseMode: oid4vp.ResponseModeDirect,
		ResponseURI: s.cfg.URL + "/response", Nonce: t.nonce, State: t.state, DCQLQuery: t.query,
		Issuer: s.clientID, Audience: oid4vp.SelfIssuedAudience, IssuedAt: now.Unix(), Expiry: t.created.Add(s.cfg.RequestTTL).Unix()}
	return r.Sign(s.cfg.Key, s.cfg.KeyID)
}

// Respond takes a direct_post response and returns its response_code,
// the key to its outcome: a session, or a refusal (also returned).
func (s *Server) Respond(ctx context.Context, form url.Values) (code string, sess *Session, ref *Refusal) {
	start := s.cfg.Now()
	t, sess, ref := s.respond(ctx, form)
	o := &outcome{session: sess, refusal: ref, at: s.cfg.Now()}
	code = s.random()
	s.mu.Lock()
	s.expire(o.at)
	s.codes[code] = o
	if t != nil && t.outcome == nil {
		t.outcome, o.txn = o, t
	}
	s.mu.Unlock()
	attrs := []any{"access", "", "state", form.Get("state"), "took", s.cfg.Now().Sub(start)}
	if t != nil {
		attrs[1] = t.level
	}
	if ref != nil {
		s.cfg.Log.Info("login refused", append(attrs, "code", ref.Code, "reason", ref.Reason)...)
	} else {
		s.cfg.Log.Info("login accepted", append(attrs, "did", sess.DID, "proven_at", sess.ProvenAt)...)
	}
	return code, sess, ref
}

func (s *Server) respond(ctx context.Context, form url.Values) (*txn, *Session, *Refusal) {
	resp, err := oid4vp.ParseResponse(form)
	var werr *oid4vp.ErrorResponse
	if errors.As(err, &werr) {
		t, ref := s.take(werr.State)
		if ref != nil {
			return t, nil, ref
		}
		return t, nil, refuse(CodeWalletRefused, "the wallet declined: %s", werr.Error())
	}
	if err != nil {
		return nil, nil, refuse(CodeMalformed, "%v", err)
	}
	t, ref := s.take(resp.State)
	if ref != nil {
		return t, nil, ref
	}
	if err := resp.CheckAnswers(t.query); err != nil {
		return t, nil, refuse(CodeNotAnswered, "%v", err)
	}
	switch t.level {
	case LevelKYC:
		sess, ref := s.credential(ctx, t, resp)
		return t, sess, ref
	default:
		sess, ref := s.didAuth(ctx, t, resp)
		return t, sess, ref
	}
}

// take returns the transaction of state and marks it answered: a state
// (and so its nonce) answers once.
func (s *Server) take(state string) (*txn, *Refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.txns[state]
	if t == nil {
		return nil, refuse(CodeUnknown, "no login is waiting with this state: it was never asked for, or it was forgotten")
	}
	if t.answered {
		return nil, refuse(CodeReplayed, "this login was answered already; a response is accepted once")
	}
	t.answered = true
	if s.cfg.Now().Sub(t.created) > s.cfg.RequestTTL {
		return t, refuse(CodeExpired, "the request expired at %s; start the login again", t.created.Add(s.cfg.RequestTTL).UTC().Format(time.RFC3339))
	}
	return t, nil
}

func (s *Server) credential(ctx context.Context, t *txn, resp *oid4vp.Response) (*Session, *Refusal) {
	ps, err := resp.StringPresentations("kyc")
	if err != nil {
		return nil, refuse(CodeMalformed, "%v", err)
	}
	pres := ps[0]
	if aud, nonce := oid4vp.KeyBindingOf(pres); aud != s.clientID {
		return nil, refuse(CodeAudience, "the presentation was made for %q, not for this site (%s)", aud, s.clientID)
	} else if nonce != t.nonce {
		return nil, refuse(CodeNonce, "the presentation answers another request (its nonce is not this login's)")
	}
	chk, err := s.cfg.Ledger.Credential(ctx, pres, s.clientID, t.nonce)
	if err != nil {
		return nil, refuse(CodeUnproven, "the ledger's facts could not be proven: %v", err)
	}
	if chk.Refused != "" {
		return nil, &Refusal{Code: chk.Refused, Reason: chk.Reason}
	}
	return &Session{DID: chk.Subject, Level: t.level, Disclosed: chk.Disclosed, Since: s.cfg.Now(), ProvenAt: chk.ProvenAt}, nil
}

func (s *Server) didAuth(ctx context.Context, t *txn, resp *oid4vp.Response) (*Session, *Refusal) {
	ps, err := resp.StringPresentations("did")
	if err != nil {
		return nil, refuse(CodeMalformed, "%v", err)
	}
	var keyErr error
	a, kid, err := oid4vp.VerifyDIDAuth(ps[0], s.clientID, t.nonce, s.cfg.Now(), s.cfg.RequestTTL,
		func(did, kid string) (any, error) {
			k, err := s.cfg.Ledger.AuthenticationKey(ctx, did, kid)
			keyErr = err
			return k, err
		})
	switch {
	case err == nil:
		return &Session{DID: a.Issuer, Level: t.level, Since: s.cfg.Now(), ProvenAt: "the DID's document, proven"}, nil
	case errors.Is(keyErr, ErrUnproven):
		return nil, refuse(CodeUnproven, "%v", keyErr)
	case keyErr != nil:
		return nil, refuse(CodeNotAuthKey, "%s: %v", kid, keyErr)
	case errors.Is(err, oid4vp.ErrAudience):
		return nil, refuse(CodeAudience, "the DID authentication was made for another site: %v", err)
	case errors.Is(err, oid4vp.ErrNonce):
		return nil, refuse(CodeNonce, "the DID authentication answers another request")
	case strings.Contains(err.Error(), "not within"):
		return nil, refuse(CodeStale, "the DID authentication is %v", err)
	default:
		return nil, refuse(CodeTampered, "the DID authentication does not verify: %v", err)
	}
}

// Redeem turns a response_code into its outcome, once: a session and
// its cookie value, or the refusal. login is the browser's login cookie
// (state.binding), if any: once the page that started the login follows
// it (Progress), the session opens only in that browser, and another
// (the browser of the wallet's device) is refused CodeOtherDevice, to
// leave it to that page.
func (s *Server) Redeem(code, login string) (cookie string, sess *Session, ref *Refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.codes[code]
	if o == nil {
		return "", nil, refuse(CodeUnknown, "no login answered with this response code")
	}
	if o.refusal != nil {
		return "", nil, o.refusal
	}
	if o.redeemed {
		return "", nil, refuse(CodeReplayed, "this response code was used already")
	}
	if st, b, _ := strings.Cut(login, "."); o.txn != nil && o.txn.followed && !(st == o.txn.state && o.txn.boundTo(b)) {
		return "", nil, refuse(CodeOtherDevice, "your wallet has answered; the page where you began this login logs you in")
	}
	o.redeemed = true
	cookie = s.random()
	s.sessions[cookie] = o.session
	return cookie, o.session, nil
}

// Status is the state of a login, for the page that started it: pending,
// or its outcome. With the binding the starting browser holds, an
// accepted login's session is opened for it (once).
func (s *Server) Status(state, binding string) (pending bool, cookie string, sess *Session, ref *Refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.txns[state]
	switch {
	case t == nil:
		return false, "", nil, refuse(CodeUnknown, "no login is waiting with this state")
	case t.outcome == nil && s.cfg.Now().Sub(t.created) > s.cfg.RequestTTL:
		return false, "", nil, refuse(CodeExpired, "the request expired unanswered; start the login again")
	case t.outcome == nil:
		return true, "", nil, nil
	case t.outcome.refusal != nil:
		return false, "", nil, t.outcome.refusal
	case !t.boundTo(binding):
		return false, "", t.outcome.session, nil
	case t.outcome.redeemed:
		return false, "", t.outcome.session, refuse(CodeReplayed, "this login's session was opened already")
	}
	t.outcome.redeemed = true
	cookie = s.random()
	s.sessions[cookie] = t.outcome.session
	return false, cookie, t.outcome.session, nil
}

// The states of a login, as Progress tells them.
const (
	Pending = "pending"
	Done    = "done"
	Refused = "refused"
)

// Progress is the state of a login for the page that waits for it, with
// the binding the starting browser holds: Pending, Done (the wallet's
// answer was accepted; the session is opened by Status) or Refused (ref,
// the answer's refusal). From then on the session opens in that browser
// only (Redeem). A login that is unknown,
// expired unanswered, or not this browser's (no binding, or another)
// is an error: ref, with its code.
func (s *Server) Progress(state, binding string) (progress string, ref *Refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.txns[state]
	switch {
	case t == nil:
		return "", refuse(CodeUnknown, "no login is waiting with this state: it was never asked for, or it was forgotten; start the login again")
	case !t.boundTo(binding):
		return "", refuse(CodeOtherBrowser, "this login was started in another browser; only that browser follows it")
	}
	t.followed = true
	switch {
	case t.outcome == nil && s.cfg.Now().Sub(t.created) > s.cfg.RequestTTL:
		return "", refuse(CodeExpired, "the request expired unanswered; start the login again")
	case t.outcome == nil:
		return Pending, nil
	case t.outcome.refusal != nil:
		return Refused, t.outcome.refusal
	}
	return Done, nil
}

// SessionOf returns the session of a cookie value.
func (s *Server) SessionOf(cookie string) *Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess := s.sessions[cookie]; sess != nil && s.cfg.Now().Sub(sess.Since) <= SessionTTL {
		return sess
	}
	return nil
}

// Logout ends the session of a cookie value.
func (s *Server) Logout(cookie string) {
	s.mu.Lock()
	delete(s.sessions, cookie)
	s.mu.Unlock()
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
