package login

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"rsc.io/qr"

	"github.com/agora-ledger/agora/internal/oid4vp"
)

const (
	rpDID    = "did:agora:rp"
	aliceDID = "did:agora:alice"
)

// fakeLedger answers as the ledger would, from its fields.
type fakeLedger struct {
	refuse     string // the code Credential refuses with, if any
	fail       error  // Credential's failure to ask
	aliceKey   ed25519.PublicKey
	credChecks int
}

func (f *fakeLedger) Credential(_ context.Context, pres, aud, nonce string) (*Checked, error) {
	f.credChecks++
	if f.fail != nil {
		return nil, f.fail
	}
	if f.refuse != "" {
		return &Checked{Refused: f.refuse, Reason: "status: revoked since 2026-01-01T00:00:00Z"}, nil
	}
	return &Checked{Subject: aliceDID, Disclosed: map[string]any{"age_over_18": true, "country": "JP"}, ProvenAt: "against the checkpoint of test"}, nil
}

func (f *fakeLedger) AuthenticationKey(_ context.Context, did, kid string) (any, error) {
	if did == aliceDID && kid == aliceDID+"#key-0" {
		return f.aliceKey, nil
	}
	return nil, fmt.Errorf("%s is not an authentication key of %s", kid, did)
}

type env struct {
	t      *testing.T
	s      *Server
	ts     *httptest.Server
	now    time.Time
	ledger *fakeLedger
	rpKey  ed25519.PrivateKey
	alice  ed25519.PrivateKey
	logs   strings.Builder
}

func newEnv(t *testing.T, rate float64) *env {
	e := &env{t: t, now: time.Unix(1_800_000_000, 0)}
	_, e.rpKey, _ = ed25519.GenerateKey(nil)
	var alicePub ed25519.PublicKey
	alicePub, e.alice, _ = ed25519.GenerateKey(nil)
	e.ledger = &fakeLedger{aliceKey: alicePub}
	e.ts = httptest.NewUnstartedServer(nil)
	s, err := New(Config{DID: rpDID, Key: jose.SigningKey{Algorithm: jose.EdDSA, Key: e.rpKey}, KeyID: rpDID + "#key-0",
		URL: "http://" + e.ts.Listener.Addr().String(), Type: "urn:agora:vct:kyc:v1", Claims: []string{"age_over_18", "country"},
		Require: map[string][]any{"age_over_18": {true}}, Ledger: e.ledger, RateLimit: rate, Burst: 5,
		Now: func() time.Time { return e.now }, Rand: rand.Reader, Log: slog.New(slog.NewTextHandler(&e.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	e.ts.Config.Handler = s.Handler()
	e.ts.Start()
	t.Cleanup(e.ts.Close)
	return e
}

// request starts a login at level and fetches and verifies its request
// object as a wallet does.
func (e *env) request(level string) *oid4vp.Request {
	e.t.Helper()
	_, link, _, err := e.s.Start(level)
	if err != nil {
		e.t.Fatal(err)
	}
	in, err := oid4vp.ParseInvocation(link)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.Get(in.RequestURI)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != oid4vp.RequestObjectMediaType {
		e.t.Fatalf("request_uri answered %s: %s", ct, b)
	}
	r, err := oid4vp.ParseRequestObject(string(b), in.ClientID, func(_, kid string) (any, error) {
		if kid != rpDID+"#key-0" {
			return nil, errors.New("unknown kid")
		}
		return e.rpKey.Public(), nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// fakePresentation is an SD-JWT presentation whose KB-JWT says aud and
// nonce (the fake ledger checks nothing else).
func fakePresentation(aud, nonce string) string {
	kb, _ := json.Marshal(map[string]any{"aud": aud, "nonce": nonce, "iat": 1})
	return "h.p.s~d~" + "e30." + base64.RawURLEncoding.EncodeToString(kb) + ".sig"
}

func (e *env) didAuth(key ed25519.PrivateKey, kid, aud, nonce string) string {
	s, err := oid4vp.SignDIDAuth(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, kid, aliceDID, aud, nonce, e.now)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// post sends a direct_post and returns the answer and its status.
func (e *env) post(form url.Values) (int, Answer) {
	e.t.Helper()
	resp, err := http.PostForm(e.ts.URL+"/response", form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var a Answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, a
}

// TestLogin is the threat table of docs/spec/login.md: each row a
// response, and the code it is refused with (none: a session).
func TestLogin(t *testing.T) {
	for _, tt := range []struct {
		name, level string
		respond     func(e *env, r *oid4vp.Request) url.Values
		code        string
	}{
		{name: "a KYC credential", level: LevelKYC, respond: func(e *env, r *oid4vp.Request) url.Values {
			return oid4vp.NewResponse(r.State, map[string]string{"kyc": fakePresentation(r.ClientID, r.Nonce)}).Form()
		}},
		{name: "a DID authentication", level: LevelDID, respond: func(e *env, r *oid4vp.Request) url.Values {
			return oid4vp.NewResponse(r.State, map[string]string{"did": e.didAuth(e.alice, aliceDID+"#key-0", r.ClientID, r.Nonce)}).Form()
		}},
		{name: "a revoked credential", level: LevelKYC, code: CodeRevoked, respond: func(e *env, r *oid4vp.Request) url.Values {
			e.ledger.refuse = CodeRevoked
			return oid4vp.NewResponse(r.State, map[string]string{"kyc": fakePresentation(r.ClientID, r.Nonce)}).Form()
		}},
		{name: "made for another site", level: LevelKYC, code: CodeAudience, respond: func(e *env, r *oid4vp.Request) url.Values {
			return oid4vp.NewResponse(r.State, map[string]string{"kyc": fakePresentation("redirect_uri:https://evil.example", r.Nonce)}).Form()
		}},
		{name: "another request's nonce", level: LevelKYC, code: CodeNonce, respond: func(e *env, r *oid4vp.Request) url.Values {
			return oid4vp.NewResponse(r.State, map[string]string{"kyc": fakePresentation(r.ClientID, "n-old")}).Form()
		}},
		{name: "a DID authentication for another site", level: LevelDID, code: CodeAudience, respond: func(e *env, r *oid4vp.Request) url.Values {
			return oid4vp.NewResponse(r.State, map[string]string{"did": e.didAuth(e.alice, aliceDID+"#key-0", "decentralized_identifier:did:agora:evil", r.Nonce)}).Form()
		}},
		{name: "a forged DID authentication", level: LevelDID, code: CodeTampered, respond: func(e *env, r *oid4vp.Request) url.Values {
			_, mallory, _ := ed25519.GenerateKey(nil)
			return oid4vp.NewResponse(r.State, map[string]string{"did": e.didAuth(mallory, aliceDID+"#key-0", r.ClientID, r.Nonce)}).Form()
		}},
		{name: "a key that does not authenticate", level: LevelDID, code: CodeNotAuthKey, respond: func(e *env, r *oid4vp.Request) url.Values {
			return oid4vp.NewResponse(r.State, map[string]string{"did": e.didAuth(e.alice, aliceDID+"#key-1", r.ClientID, r.Nonce)}).Form()
		}},
		{name: "an unknown state", level: LevelKYC, code: CodeUnknown, respond: func(e *env, r *oid4vp.Request) url.Values {
			return oid4vp.NewResponse("s-forged", map[string]string{"kyc": fakePresentation(r.ClientID, r.Nonce)}).Form()
		}},
		{name: "too late", level: LevelKYC, code: CodeExpired, respond: func(e *env, r *oid4vp.Request) url.Values {
			e.now = e.now.Add(6 * time.Minute)
			return oid4vp.NewResponse(r.State, map[string]string{"kyc": fakePresentation(r.ClientID, r.Nonce)}).Form()
		}},
		{name: "the wrong credential query", level: LevelKYC, code: CodeNotAnswered, respond: func(e *env, r *oid4vp.Request) url.Values {
			return oid4vp.NewResponse(r.State, map[string]string{"other": "x"}).Form()
		}},
		{name: "not a vp_token", level: LevelKYC, code: CodeMalformed, respond: func(e *env, r *oid4vp.Request) url.Values {
			return url.Values{"vp_token": {"[1]"}, "state": {r.State}}
		}},
		{name: "the wallet declines", level: LevelKYC, code: CodeWalletRefused, respond: func(e *env, r *oid4vp.Request) url.Values {
			return (&oid4vp.ErrorResponse{Code: "access_denied", Description: "the holder said no", State: r.State}).Form()
		}},
		{name: "the ledger cannot be asked", level: LevelKYC, code: CodeUnproven, respond: func(e *env, r *oid4vp.Request) url.Values {
			e.ledger.fail = errors.New("node unreachable")
			return oid4vp.NewResponse(r.State, map[string]string{"kyc": fakePresentation(r.ClientID, r.Nonce)}).Form()
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, -1)
			r := e.request(tt.level)
			if r.ClientID != "decentralized_identifier:"+rpDID || r.ResponseMode != oid4vp.ResponseModeDirect {
				t.Fatalf("request %+v", r)
			}
			status, a := e.post(tt.respond(e, r))
			if a.Code != tt.code {
				t.Fatalf("answered %d %+v, want code %q", status, a, tt.code)
			}
			// The redirect shows the outcome: a session, or the reason.
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar}
			resp, err := c.Get(a.RedirectURI)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tt.code == "" {
				if status != http.StatusOK || resp.Request.URL.Path != "/account" || !strings.Contains(string(page), aliceDID) {
					t.Fatalf("accepted, but the redirect shows %s %d:\n%s", resp.Request.URL, resp.StatusCode, page)
				}
				// A response code opens one session.
				resp, _ = http.Get(a.RedirectURI)
				page, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(page), CodeReplayed) {
					t.Errorf("a response code redeemed twice: %d\n%s", resp.StatusCode, page)
				}
			} else if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(page), `<code id="code">`+tt.code) {
				t.Fatalf("refused, but the redirect shows %d:\n%s", resp.StatusCode, page)
			}
			if !strings.Contains(e.logs.String(), "login ") {
				t.Error("no decision logged")
			}
		})
	}
}

// TestReplay posts an accepted response again: refused, and the ledger is
// not asked again.
func TestReplay(t *testing.T) {
	e := newEnv(t, -1)
	r := e.request(LevelKYC)
	form := oid4vp.NewResponse(r.State, map[string]string{"kyc": fakePresentation(r.ClientID, r.Nonce)}).Form()
	if _, a := e.post(form); a.Code != "" {
		t.Fatalf("first: %+v", a)
	}
	status, a := e.post(form)
	if status != http.StatusBadRequest || a.Code != CodeReplayed || e.ledger.credChecks != 1 {
		t.Fatalf("replay: %d %+v, %d checks", status, a, e.ledger.credChecks)
	}
	// The original login still holds: its outcome was not replaced.
	if _, _, sess, _ := e.s.Status(r.State, ""); sess == nil {
		t.Error("the replay spoiled the login")
	}
}

// browser is a client with its own cookies, as a browser.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// startIn starts a login at level in browser b as a person does, from
// the login page's form, and returns the waiting page, its wallet link
// and the login's state.
func (e *env) startIn(b *http.Client, level string) (page, link, state string) {
	e.t.Helper()
	resp, err := b.PostForm(e.ts.URL+"/login", url.Values{"level": {level}})
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page = string(body)
	m := regexp.MustCompile(`id="wallet-link" href="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		e.t.Fatalf("no wallet link:\n%s", page)
	}
	link = html.UnescapeString(m[1])
	in, err := oid4vp.ParseInvocation(link)
	if err != nil {
		e.t.Fatal(err)
	}
	return page, link, in.RequestURI[strings.LastIndex(in.RequestURI, "/")+1:]
}

// answer has alice's wallet answer the login state from elsewhere (the
// request fetched and checked as a wallet does), at its level, refused
// with the code refusal if not empty (kyc only); it returns the form
// posted.
func (e *env) answer(state, refusal string) url.Values {
	e.t.Helper()
	jwt, err := e.s.RequestObject(state)
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := oid4vp.ParseRequestObject(jwt, e.s.ClientID(), func(_, _ string) (any, error) { return e.rpKey.Public(), nil })
	if err != nil {
		e.t.Fatal(err)
	}
	form := oid4vp.NewResponse(r.State, map[string]string{"did": e.didAuth(e.alice, aliceDID+"#key-0", r.ClientID, r.Nonce)}).Form()
	if r.DCQLQuery.Credentials[0].ID == "kyc" {
		e.ledger.refuse = refusal
		form = oid4vp.NewResponse(r.State, map[string]string{"kyc": fakePresentation(r.ClientID, r.Nonce)}).Form()
	}
	if _, a := e.post(form); a.Code != refusal {
		e.t.Fatalf("answered %+v, want code %q", a, refusal)
	}
	return form
}

// status asks b's GET /login/STATE/status.
func (e *env) status(b *http.Client, state string) (int, LoginStatus) {
	e.t.Helper()
	resp, err := b.Get(e.ts.URL + "/login/" + state + "/status")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		e.t.Fatalf("the status is %s", ct)
	}
	var st LoginStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, st
}

// TestWaitingPage: the page that waits for the wallet shows its link as
// a QR code, an inline SVG image with a text alternative whose modules
// are those of the link's own encoding, and runs only the relying
// party's own script.
func TestWaitingPage(t *testing.T) {
	e := newEnv(t, -1)
	b := browser()
	page, link, state := e.startIn(b, LevelKYC)
	svg := regexp.MustCompile(`<svg class="qr" [^>]*viewBox="0 0 (\d+) (\d+)" role="img" aria-label="([^"]+)"[^>]*><title>[^<]+</title><rect[^>]*/><path fill="#000" d="([^"]*)"/></svg>`).FindStringSubmatch(page)
	if svg == nil {
		t.Fatalf("no QR code on the waiting page:\n%s", page)
	}
	if !strings.Contains(svg[3], "QR code") || !strings.Contains(svg[3], "wallet") {
		t.Errorf("the QR code's text alternative: %q", svg[3])
	}
	// The modules the SVG draws, back to a grid.
	want, err := qr.Encode(link, qr.M)
	if err != nil {
		t.Fatal(err)
	}
	if side := fmt.Sprint(want.Size + 2*quietZone); svg[1] != side || svg[2] != side {
		t.Fatalf("the QR code is %sx%s modules, want %s", svg[1], svg[2], side)
	}
	drawn := make([][]bool, want.Size)
	for y := range drawn {
		drawn[y] = make([]bool, want.Size)
	}
	runs := regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
	if rest := runs.ReplaceAllString(svg[4], ""); rest != "" {
		t.Fatalf("the QR path has more than runs: %q", rest)
	}
	for _, m := range runs.FindAllStringSubmatch(svg[4], -1) {
		var x, y, n int
		fmt.Sscan(m[1]+" "+m[2]+" "+m[3], &x, &y, &n)
		for i := range n {
			drawn[y-quietZone][x-quietZone+i] = true
		}
	}
	for y := range want.Size {
		for x := range want.Size {
			if drawn[y][x] != want.Black(x, y) {
				t.Fatalf("module (%d, %d) of the QR code is not the wallet link's", x, y)
			}
		}
	}
	// The link for this device, and the way to follow the login without
	// the script.
	for _, w := range []string{`href="/login/` + state + `"`, `data-poll="/login/` + state + `/status"`, `<script src="/static/wait.js"></script>`} {
		if !strings.Contains(page, w) {
			t.Errorf("the waiting page lacks %s", w)
		}
	}
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("%d scripts on the page, want the one from /static", n)
	}
	resp, err := b.Get(e.ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") || !strings.Contains(csp, "connect-src 'self';") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("Content-Security-Policy: %s", csp)
	}
	resp, err = b.Get(e.ts.URL + "/static/wait.js")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || !bytes.Contains(js, []byte("/status")) && !bytes.Contains(js, []byte("dataset.poll")) {
		t.Errorf("/static/wait.js: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), js)
	}
}

// TestCrossDevice: the browser that started a login follows it by its
// status and gets the session when the wallet answers from elsewhere;
// another browser, with no binding cookie or its own, learns nothing and
// gets no session.
func TestCrossDevice(t *testing.T) {
	e := newEnv(t, -1)
	b, other := browser(), browser()
	_, _, state := e.startIn(b, LevelDID)
	_, _, _ = e.startIn(other, LevelDID) // other holds a binding, of its own login
	stranger := &http.Client{}
	if code, st := e.status(b, state); code != http.StatusOK || st != (LoginStatus{Status: "pending"}) {
		t.Fatalf("before the answer: %d %+v", code, st)
	}
	e.answer(state, "")
	for name, c := range map[string]*http.Client{"another browser": other, "a client with no cookie": stranger} {
		if code, st := e.status(c, state); code != http.StatusForbidden || st.Status != "error" || st.Code != CodeOtherBrowser {
			t.Errorf("%s asks the status: %d %+v", name, code, st)
		}
		resp, _ := c.Get(e.ts.URL + "/login/" + state)
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(page), CodeOtherBrowser) {
			t.Errorf("%s follows the login: %d\n%s", name, resp.StatusCode, page)
		}
	}
	// A binding cookie forged for the state.
	forged := browser()
	u, _ := url.Parse(e.ts.URL)
	forged.Jar.SetCookies(u, []*http.Cookie{{Name: loginCookie, Value: state + ".AAAAAAAAAAAAAAAAAAAAAAAA"}})
	if code, st := e.status(forged, state); code != http.StatusForbidden || st.Code != CodeOtherBrowser {
		t.Errorf("a forged binding: %d %+v", code, st)
	}
	code, st := e.status(b, state)
	if code != http.StatusOK || st != (LoginStatus{Status: "done", Next: "/login/" + state}) {
		t.Fatalf("after the answer: %d %+v", code, st)
	}
	resp, err := b.Get(e.ts.URL + st.Next)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/account" || !strings.Contains(string(page), aliceDID) {
		t.Fatalf("the starting browser got %s:\n%s", resp.Request.URL, page)
	}
	// The session opens once: the binding is spent.
	if code, st := e.status(b, state); code != http.StatusForbidden || st.Code != CodeOtherBrowser {
		t.Errorf("after the session opened: %d %+v", code, st)
	}
}

// TestWalletsRedirect: the wallet's redirect opens the session in any
// browser while no page follows the login (same device, no script); once
// the starting page follows it, only in the starting browser, and a
// browser elsewhere (the wallet's phone) is sent back to it.
func TestWalletsRedirect(t *testing.T) {
	for _, tt := range []struct {
		desc           string
		follow, inSame bool
		want           string // where the redirect lands: the account, or the page that sends the person back
	}{
		{desc: "not followed, another browser", want: "/account"},
		{desc: "followed, the starting browser", follow: true, inSame: true, want: "/account"},
		{desc: "followed, another browser", follow: true, want: "/done"},
	} {
		t.Run(tt.desc, func(t *testing.T) {
			e := newEnv(t, -1)
			b := browser()
			_, _, state := e.startIn(b, LevelDID)
			if tt.follow {
				if code, st := e.status(b, state); code != http.StatusOK || st.Status != Pending {
					t.Fatalf("%d %+v", code, st)
				}
			}
			jwt, _ := e.s.RequestObject(state)
			r, err := oid4vp.ParseRequestObject(jwt, e.s.ClientID(), func(_, _ string) (any, error) { return e.rpKey.Public(), nil })
			if err != nil {
				t.Fatal(err)
			}
			_, a := e.post(oid4vp.NewResponse(r.State, map[string]string{"did": e.didAuth(e.alice, aliceDID+"#key-0", r.ClientID, r.Nonce)}).Form())
			opener := browser()
			if tt.inSame {
				opener = b
			}
			resp, err := opener.Get(a.RedirectURI)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != tt.want {
				t.Fatalf("the redirect lands at %s, %d:\n%s", resp.Request.URL, resp.StatusCode, page)
			}
			if tt.want == "/done" {
				if !strings.Contains(string(page), `id="elsewhere"`) || strings.Contains(string(page), aliceDID) {
					t.Errorf("the page elsewhere:\n%s", page)
				}
				// The starting page then opens the session.
				if _, st := e.status(b, state); st.Status != Done {
					t.Fatalf("the starting page: %+v", st)
				}
				resp, _ = b.Get(e.ts.URL + "/login/" + state)
				resp.Body.Close()
				if resp.Request.URL.Path != "/account" {
					t.Errorf("the starting browser lands at %s", resp.Request.URL)
				}
			}
		})
	}
}

// TestStatus: what GET /login/STATE/status answers the starting browser
// at each end of a login but success (TestCrossDevice).
func TestStatus(t *testing.T) {
	for _, tt := range []struct {
		name string
		then func(e *env, state string) string // the state to ask
		code int
		want LoginStatus
	}{
		{"the wallet's answer refused", func(e *env, state string) string {
			e.answer(state, CodeRevoked)
			return state
		}, http.StatusOK, LoginStatus{Status: "refused", Code: CodeRevoked, Reason: "status: revoked since 2026-01-01T00:00:00Z"}},
		{"the answer replayed", func(e *env, state string) string {
			form := e.answer(state, "")
			if _, a := e.post(form); a.Code != CodeReplayed {
				t.Fatalf("replayed: %+v", a)
			}
			return state
		}, http.StatusOK, LoginStatus{Status: "done", Next: "/login/"}},
		{"expired unanswered", func(e *env, state string) string {
			e.now = e.now.Add(6 * time.Minute)
			return state
		}, http.StatusGone, LoginStatus{Status: "error", Code: CodeExpired, Reason: "the request expired unanswered; start the login again"}},
		{"an unknown state", func(e *env, state string) string {
			return "s-forged"
		}, http.StatusNotFound, LoginStatus{Status: "error", Code: CodeUnknown, Reason: "no login is waiting with this state: it was never asked for, or it was forgotten; start the login again"}},
		{"a state forgotten", func(e *env, state string) string {
			e.now = e.now.Add(11 * time.Minute)
			e.s.Start(LevelDID) // forgets what is older than twice the TTL
			return state
		}, http.StatusNotFound, LoginStatus{Status: "error", Code: CodeUnknown, Reason: "no login is waiting with this state: it was never asked for, or it was forgotten; start the login again"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, -1)
			b := browser()
			_, _, state := e.startIn(b, LevelKYC)
			asked := tt.then(e, state)
			if tt.want.Next != "" {
				tt.want.Next += state
			}
			if code, st := e.status(b, asked); code != tt.code || st != tt.want {
				t.Errorf("%d %+v, want %d %+v", code, st, tt.code, tt.want)
			}
		})
	}
}

// TestRequestObjectExpires: a request object is served while its login
// waits, and not after.
func TestRequestObjectExpires(t *testing.T) {
	e := newEnv(t, -1)
	state, _, _, _ := e.s.Start(LevelKYC)
	e.now = e.now.Add(6 * time.Minute)
	resp, err := http.Get(e.ts.URL + "/request/" + state)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Errorf("an expired request: %d", resp.StatusCode)
	}
	resp, _ = http.Get(e.ts.URL + "/request/nope")
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown request: %d", resp.StatusCode)
	}
}

// TestRateLimit: beyond its burst, a client is refused until time
// passes.
func TestRateLimit(t *testing.T) {
	e := newEnv(t, 1)
	get := func() int {
		resp, err := http.Get(e.ts.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 5 {
		if s := get(); s != http.StatusOK {
			t.Fatalf("request %d: %d", i, s)
		}
	}
	if s := get(); s != http.StatusTooManyRequests {
		t.Fatalf("beyond the burst: %d", s)
	}
	e.now = e.now.Add(time.Second)
	if s := get(); s != http.StatusOK {
		t.Fatalf("a second later: %d", s)
	}
}

// TestForgets: a relying party keeps no login, response code or session
// for ever, even those of responses that named no login.
func TestForgets(t *testing.T) {
	e := newEnv(t, -1)
	r := e.request(LevelKYC)
	_, a := e.post(oid4vp.NewResponse(r.State, map[string]string{"kyc": fakePresentation(r.ClientID, r.Nonce)}).Form())
	_, bogus := e.post(oid4vp.NewResponse("s-forged", map[string]string{"kyc": "x"}).Form())
	code := strings.TrimPrefix(a.RedirectURI, e.ts.URL+"/done?response_code=")
	cookie, sess, ref := e.s.Redeem(code, "")
	if sess == nil || ref != nil {
		t.Fatalf("redeem: %v", ref)
	}
	e.now = e.now.Add(11 * time.Minute)
	e.s.Start(LevelDID) // expires what is older than twice the TTL
	e.s.mu.Lock()
	txns, codes := len(e.s.txns), len(e.s.codes)
	e.s.mu.Unlock()
	if txns != 1 || codes != 0 {
		t.Errorf("after twice the TTL: %d logins, %d response codes kept; want 1 and 0 (%s)", txns, codes, bogus.Code)
	}
	if e.s.SessionOf(cookie) == nil {
		t.Error("the session ended before SessionTTL")
	}
	e.now = e.now.Add(SessionTTL)
	if e.s.SessionOf(cookie) != nil {
		t.Error("the session outlived SessionTTL")
	}
}
