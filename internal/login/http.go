package login

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/agora-ledger/agora/internal/oid4vp"
)

//go:embed templates/*.html
var templates embed.FS

var pages = template.Must(template.ParseFS(templates, "templates/*.html"))

// static holds the pages' scripts, served under /static/: the only
// scripts the pages' Content-Security-Policy lets run.
//
//go:embed static
var static embed.FS

// contentPolicy is the pages' Content-Security-Policy: scripts and
// fetches from this site only, no inline script, no frame around them.
const contentPolicy = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self' openid4vp: http: https:; frame-ancestors 'none'"

// pollEvery is how often, in milliseconds, the waiting page's script
// asks whether the wallet has answered.
const pollEvery = 1500

const (
	sessionCookie = "agora_rp_session"
	loginCookie   = "agora_rp_login"
	// maxResponse bounds a direct_post body.
	maxResponse = 256 << 10
)

// Handler returns the relying party's routes, rate-limited per client
// address.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("POST /login", s.startLogin)
	mux.HandleFunc("GET /login/{state}", s.loginStatus)
	mux.HandleFunc("GET /login/{state}/status", s.progress)
	mux.HandleFunc("GET /request/{state}", s.request)
	mux.HandleFunc("POST /response", s.response)
	mux.HandleFunc("GET /done", s.done)
	mux.HandleFunc("GET /account", s.account)
	mux.HandleFunc("POST /logout", s.logout)
	scripts, _ := fs.Sub(static, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", noSniff(http.FileServerFS(scripts))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	return s.limited(mux)
}

// view is what a page shows.
type view struct {
	Title    string
	Site     string
	ClientID string
	Session  *Session
	Level    string
	State    string
	// Link is the wallet link: ours, so trusted with any scheme
	// (openid4vp:).
	Link template.URL
	// QR is Link as a QR code, an inline SVG image.
	QR      template.HTML
	Poll    int
	Refusal *Refusal
}

func (s *Server) render(w http.ResponseWriter, status int, name string, v view) {
	v.ClientID = s.clientID
	if v.Site == "" {
		v.Site = "Agora Exchange"
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", contentPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, v); err != nil {
		s.cfg.Log.Error("page", "name", name, "err", err)
	}
}

func (s *Server) cookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: strings.HasPrefix(s.cfg.URL, "https:"), MaxAge: maxAge})
}

func (s *Server) sessionOf(r *http.Request) (string, *Session) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", nil
	}
	return c.Value, s.SessionOf(c.Value)
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	if _, sess := s.sessionOf(r); sess != nil {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	s.render(w, http.StatusOK, "index.html", view{Title: "Log in"})
}

func (s *Server) startLogin(w http.ResponseWriter, r *http.Request) {
	level := r.FormValue("level")
	state, link, binding, err := s.Start(level)
	if err != nil {
		s.render(w, http.StatusBadRequest, "refused.html", view{Title: "Login refused", Refusal: refuse(CodeMalformed, "%v", err)})
		return
	}
	s.cookie(w, loginCookie, state+"."+binding, int(2*s.cfg.RequestTTL/time.Second))
	if r.Header.Get("Accept") == "application/json" {
		// For a program (a test, a kiosk): the link to show as a code.
		writeJSON(w, http.StatusOK, Started{State: state, Link: link, Status: s.cfg.URL + "/login/" + state})
		return
	}
	s.wait(w, state, level, link)
}

// wait renders the page that waits for the wallet's answer: the link,
// the same link as a QR code for a wallet on another device, and the
// script that follows the login.
func (s *Server) wait(w http.ResponseWriter, state, level, link string) {
	code, err := qrSVG(link, "QR code of the link that opens your wallet on this login")
	if err != nil {
		s.cfg.Log.Error("qr code", "err", err) // the page still has the link
	}
	s.render(w, http.StatusOK, "wait.html", view{Title: "Open your wallet", Level: level, State: state, Link: template.URL(link), QR: code, Poll: pollEvery})
}

// bindingOf is the binding secret r's browser holds for the login state,
// if it started it.
func bindingOf(r *http.Request, state string) string {
	if c, err := r.Cookie(loginCookie); err == nil {
		if st, b, ok := strings.Cut(c.Value, "."); ok && st == state {
			return b
		}
	}
	return ""
}

func (s *Server) loginStatus(w http.ResponseWriter, r *http.Request) {
	state := r.PathValue("state")
	pending, cookie, _, ref := s.Status(state, bindingOf(r, state))
	switch {
	case pending:
		link, _ := s.WalletLink(state)
		s.wait(w, state, "", link)
	case ref != nil:
		s.render(w, http.StatusForbidden, "refused.html", view{Title: "Login refused", Refusal: ref})
	case cookie != "":
		s.cookie(w, sessionCookie, cookie, 0)
		s.cookie(w, loginCookie, "", -1)
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	default:
		// Answered, for a browser that did not start it.
		s.render(w, http.StatusForbidden, "refused.html", view{Title: "Login refused",
			Refusal: refuse(CodeOtherBrowser, "this login was answered, but was started in another browser; only that browser is logged in")})
	}
}

// LoginStatus is GET /login/{state}/status's answer, for the waiting
// page's script.
type LoginStatus struct {
	// Status is "pending", "done", "refused" (the wallet's answer was
	// refused) or "error" (the login is unknown, expired, or not this
	// browser's).
	Status string `json:"status"`
	// Next, when done, is the page that opens the session in the browser
	// that started the login (once).
	Next string `json:"next,omitempty"`
	// Code and Reason say why, when refused or an error.
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
}

func (s *Server) progress(w http.ResponseWriter, r *http.Request) {
	state := r.PathValue("state")
	p, ref := s.Progress(state, bindingOf(r, state))
	switch {
	case p == "":
		writeJSON(w, status(ref), LoginStatus{Status: "error", Code: ref.Code, Reason: ref.Reason})
	case p == Refused:
		writeJSON(w, http.StatusOK, LoginStatus{Status: p, Code: ref.Code, Reason: ref.Reason})
	case p == Done:
		writeJSON(w, http.StatusOK, LoginStatus{Status: p, Next: "/login/" + url.PathEscape(state)})
	default:
		writeJSON(w, http.StatusOK, LoginStatus{Status: p})
	}
}

func noSniff(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// Started is POST /login's answer to a program (Accept:
// application/json).
type Started struct {
	State string `json:"state"`
	// Link opens the wallet on the request.
	Link string `json:"link"`
	// Status is the page that follows the login.
	Status string `json:"status"`
}

// status maps a refusal of a request to its HTTP status.
func status(ref *Refusal) int {
	switch ref.Code {
	case CodeUnknown:
		return http.StatusNotFound
	case CodeOtherBrowser:
		return http.StatusForbidden
	case CodeExpired:
		return http.StatusGone
	case CodeRateLimited:
		return http.StatusTooManyRequests
	case CodeUnproven:
		return http.StatusBadGateway
	}
	return http.StatusBadRequest
}

func (s *Server) request(w http.ResponseWriter, r *http.Request) {
	jwt, err := s.RequestObject(r.PathValue("state"))
	var ref *Refusal
	if errors.As(err, &ref) {
		writeJSON(w, status(ref), oid4vp.ErrorResponse{Code: "invalid_request", Description: ref.Reason})
		return
	}
	if err != nil {
		s.cfg.Log.Error("request object", "err", err)
		writeJSON(w, http.StatusInternalServerError, oid4vp.ErrorResponse{Code: "server_error"})
		return
	}
	w.Header().Set("Content-Type", oid4vp.RequestObjectMediaType)
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte(jwt))
}

// Answer is the relying party's answer to a direct_post: where the wallet
// sends the person next, and, if refused, why.
type Answer struct {
	RedirectURI string `json:"redirect_uri"`
	Error       string `json:"error,omitempty"`
	Description string `json:"error_description,omitempty"`
	Code        string `json:"agora_code,omitempty"`
}

func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxResponse)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, Answer{Error: "invalid_request", Description: "the body is not a form: " + err.Error(), Code: CodeMalformed})
		return
	}
	code, _, ref := s.Respond(r.Context(), r.PostForm)
	a := Answer{RedirectURI: s.cfg.URL + "/done?response_code=" + code}
	if ref != nil {
		a.Error, a.Description, a.Code = "access_denied", ref.Reason, ref.Code
		writeJSON(w, status(ref), a)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) done(w http.ResponseWriter, r *http.Request) {
	login := ""
	if c, err := r.Cookie(loginCookie); err == nil {
		login = c.Value
	}
	cookie, _, ref := s.Redeem(r.URL.Query().Get("response_code"), login)
	if ref != nil && ref.Code == CodeOtherDevice {
		s.render(w, http.StatusOK, "elsewhere.html", view{Title: "Go back to where you began", Refusal: ref})
		return
	}
	if ref != nil {
		s.render(w, http.StatusForbidden, "refused.html", view{Title: "Login refused", Refusal: ref})
		return
	}
	s.cookie(w, sessionCookie, cookie, 0)
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

func (s *Server) account(w http.ResponseWriter, r *http.Request) {
	_, sess := s.sessionOf(r)
	if sess == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, http.StatusOK, "account.html", view{Title: "Your account", Session: sess})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, _ := s.sessionOf(r); c != "" {
		s.Logout(c)
	}
	s.cookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// limited refuses a client address beyond its rate.
func (s *Server) limited(h http.Handler) http.Handler {
	if s.limit == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		if !s.limit.allow(host, s.cfg.Now()) {
			ref := refuse(CodeRateLimited, "too many requests from %s; wait a moment", host)
			s.cfg.Log.Info("rate limited", "client", host, "path", r.URL.Path)
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusTooManyRequests, Answer{Error: "temporarily_unavailable", Description: ref.Reason, Code: ref.Code})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// limiter is a token bucket per client address.
type limiter struct {
	rate  float64
	burst float64
	mu    sync.Mutex
	by    map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	if rate < 0 {
		return nil
	}
	return &limiter{rate: rate, burst: math.Max(float64(burst), 1), by: map[string]*bucket{}}
}

func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.by[key]
	if b == nil {
		if len(l.by) > 100_000 { // forget idle clients rather than grow without bound
			clear(l.by)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.by[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
