package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdpnet "github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/credential/credentialcli"
)

// loginWorld is a dev node, an exchange's relying party and alice's
// wallet page, each the real binary in a process of its own, as a person
// runs them.
type loginWorld struct {
	bin, home, node   string
	rp, wallet        string // their URLs
	issuer, alice, ex string // DIDs
	logKey            string // the dev node's log key
	dir               string
	procs             map[string]*os.Process // the background processes, by command ("dev", "rp-run", ...)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// agora runs the binary against the world's node and home and returns
// its stdout.
func (w *loginWorld) agora(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(w.bin, args...)
	cmd.Env = append(os.Environ(), "AGORA_HOME="+w.home, "AGORA_NODE="+w.node, "AGORA_PASSPHRASE=dev")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("agora %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// start runs the binary in the background until the test ends, and waits
// until url answers /healthz.
func (w *loginWorld) start(t *testing.T, url string, args ...string) {
	t.Helper()
	cmd := exec.Command(w.bin, args...)
	cmd.Env = append(os.Environ(), "AGORA_HOME="+w.home, "AGORA_NODE="+w.node, "AGORA_PASSPHRASE=dev")
	log, err := os.Create(filepath.Join(w.dir, args[0]+"-"+args[1]+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if w.procs == nil {
		w.procs = map[string]*os.Process{}
	}
	w.procs[strings.Join(args[:min(2, len(args))], "-")] = cmd.Process
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		log.Close()
	})
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(log.Name())
			t.Fatalf("%s did not start: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
}

// startLoginWorld builds the binary and sets up examples/credentials.sh's
// world: an accredited KYC issuer that issued alice a credential, stored
// in her wallet; then the exchange's relying party, which links to
// alice's wallet page.
func startLoginWorld(t *testing.T, rpArgs ...string) *loginWorld {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a node, a relying party and a wallet; skipped with -short")
	}
	dir := t.TempDir()
	w := &loginWorld{bin: filepath.Join(dir, "agora"), home: filepath.Join(dir, "home"), dir: dir}
	build := exec.Command("go", "build", "-o", w.bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	w.node = "http://" + addr
	w.start(t, w.node, "dev", "--http", addr)
	if m := regexp.MustCompile(`"log_key": "([^"]+)"`).FindStringSubmatch(w.agora(t, "info", "--json")); m != nil {
		w.logKey = m[1]
	}
	logKey := w.logKey
	did := regexp.MustCompile(`did:agora:[a-z2-7]{52}`)
	w.issuer = did.FindString(w.agora(t, "did", "create", "--key", "exchange-tokyo"))
	w.alice = did.FindString(w.agora(t, "did", "create", "--key", "alice"))
	w.ex = did.FindString(w.agora(t, "did", "create", "--key", "exchange-seoul"))
	write := func(name, format string, a ...any) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, fmt.Appendf(nil, format, a...), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	w.agora(t, "gov", "set-entry", "issuers", w.issuer, "urn:agora:vct:kyc", "--key", "telco-id")
	w.agora(t, "credential", "send", "register-type", write("type.json", `{"issuer": %q, "vct": "urn:agora:vct:kyc:v1", "metadata": "{\"name\":\"KYC\"}", `+
		`"schema": "{\"type\":\"object\",\"properties\":{\"age_over_18\":{\"type\":\"boolean\"},\"country\":{\"type\":\"string\"},\"given_name\":{\"type\":\"string\"}},\"additionalProperties\":false}"}`, w.issuer), "--key", "exchange-tokyo")
	w.agora(t, "credential", "send", "create-list", write("list.json", `{"issuer": %q, "id": "kyc-1", "bits": 2, "capacity": 131072}`, w.issuer), "--key", "exchange-tokyo")
	aliceKey := strings.TrimSpace(w.agora(t, "keys", "export-public", "alice"))
	cred := filepath.Join(dir, "alice.sdjwt")
	w.agora(t, "vc", "issue", "--as", w.issuer, "--key", "exchange-tokyo", "--type", "urn:agora:vct:kyc:v1", "--list", "kyc-1",
		"--subject", w.alice, "--holder-key", aliceKey, "--claims", write("claims.json", `{"given_name": "Alice", "age_over_18": true, "country": "JP"}`), "--out", cred)
	w.agora(t, "vc", "store", cred, "--name", "kyc")
	rpAddr, walletAddr := freeAddr(t), freeAddr(t)
	w.rp, w.wallet = "http://"+rpAddr, "http://"+walletAddr
	w.start(t, w.wallet, "wallet", "serve", "--key", "alice", "--addr", walletAddr, "--log-key", logKey)
	w.start(t, w.rp, append([]string{"rp", "run", "--did", w.ex, "--key", "exchange-seoul", "--addr", rpAddr, "--wallet", w.wallet + "/", "--log-key", logKey}, rpArgs...)...)
	return w
}

// text is the text of the element sel on the tab's page, once visible.
func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel)))
	var s string
	if err == nil {
		s, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	}
	if err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		html, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("%s on %s: %v\n%s", sel, loc, err, html)
	}
	return s
}

// textContains reports whether the text of the element sel comes to
// contain want within 30 s: a page's script may change it after the
// page shows (its script is fetched apart, later on a busy machine).
func (b *browser) textContains(t *testing.T, sel, want string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	js := fmt.Sprintf(`(document.querySelector(%q)?.textContent || "").includes(%q)`, sel, want)
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(50*time.Millisecond)))
	return err == nil
}

// logout logs out and waits for the login page.
func (b *browser) logout(t *testing.T) {
	t.Helper()
	b.click(t, "#logout")
	b.text(t, "#login-kyc")
}

func (b *browser) click(t *testing.T, sel string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("clicking %s: %v", sel, err)
	}
}

// login goes through a login at level ("kyc" or "did") in the browser:
// the exchange's page, the link to the wallet, the wallet's page (which
// must say what it discloses: want), its "Share and log in".
func (w *loginWorld) login(t *testing.T, b *browser, level, want string) {
	t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(w.rp+"/")); err != nil {
		t.Fatal(err)
	}
	b.click(t, "#login-"+level)
	b.click(t, "#wallet-link")
	b.text(t, "#share")
	if got := b.text(t, "main"); !strings.Contains(got, want) {
		t.Fatalf("the wallet's page does not say %q:\n%s", want, got)
	}
	b.click(t, "#share")
}

// refusal reads the refusal the tab's page shows: its code and reason.
func (b *browser) refusal(t *testing.T) (code, reason string) {
	t.Helper()
	return b.text(t, "#code"), b.text(t, "#reason")
}

// forge starts a KYC login as a program does, reads its request's nonce,
// and has alice's wallet present her credential for aud and that nonce
// (then spoil changes it); it posts the answer to the exchange and
// returns the redirect_uri the wallet would send the person to.
func (w *loginWorld) forge(t *testing.T, aud string, spoil func(string) string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", w.rp+"/login", strings.NewReader("level=kyc"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	var started struct{ State, Link string }
	doJSON(t, req, &started)
	jwt := getText(t, w.rp+"/request/"+started.State)
	var claims struct {
		Nonce    string `json:"nonce"`
		ClientID string `json:"client_id"`
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[1])
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if aud == "" {
		aud = claims.ClientID
	}
	pres := strings.TrimSpace(w.agora(t, "vc", "present", "kyc", "--key", "alice", "--disclose", "age_over_18,country", "--audience", aud, "--nonce", claims.Nonce))
	form := url.Values{"vp_token": {fmt.Sprintf(`{"kyc": [%q]}`, spoil(pres))}, "state": {started.State}}
	post, _ := http.NewRequest("POST", w.rp+"/response", strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var a struct {
		RedirectURI string `json:"redirect_uri"`
	}
	doJSON(t, post, &a)
	return a.RedirectURI
}

func doJSON(t *testing.T, req *http.Request, v any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
}

func getText(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestLoginInBrowser: a person logs into the demo exchange in Chromium
// with the KYC credential in their Agora wallet, and with their DID; a
// replayed response, a tampered one, one made for another site and a
// revoked credential are refused, and the page says why. The exchange's
// and the wallet's pages pass axe-core's WCAG 2.1 AA checks.
func TestLoginInBrowser(t *testing.T) {
	b := newBrowser(t)
	w := startLoginWorld(t)
	axe := func(where string) {
		for _, v := range b.accessibility(t) {
			t.Errorf("%s: WCAG 2.1 AA: %s", where, v)
		}
	}
	// The wallet's redirects to the exchange, as the tab follows them.
	var mu sync.Mutex
	var redirects []string
	chromedp.Listen(b.ctx, func(ev any) {
		if e, ok := ev.(*cdpnet.EventRequestWillBeSent); ok && strings.Contains(e.Request.URL, "/done?response_code=") {
			mu.Lock()
			redirects = append(redirects, e.Request.URL)
			mu.Unlock()
		}
	})

	// The full login, at the KYC level: the wallet discloses two claims
	// only, the exchange shows them and no other.
	if err := chromedp.Do(b.ctx, chromedp.Navigate(w.rp+"/")); err != nil {
		t.Fatal(err)
	}
	b.text(t, "#login-kyc")
	axe("the login page")
	b.click(t, "#login-kyc")
	b.text(t, "#wallet-link")
	axe("the waiting page")
	b.click(t, "#wallet-link")
	b.text(t, "#share")
	page := b.text(t, "main")
	axe("the wallet's page")
	for _, want := range []string{"asks for your credential kyc", "age_over_18", "country"} {
		if !strings.Contains(page, want) {
			t.Errorf("the wallet's page does not say %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "given_name") {
		t.Errorf("the wallet would disclose given_name:\n%s", page)
	}
	b.click(t, "#share")
	if got := b.text(t, "#did"); got != w.alice {
		t.Fatalf("logged in as %q, want %s", got, w.alice)
	}
	account := b.text(t, "main")
	axe("the account page")
	if !strings.Contains(account, "KYC credential") || !strings.Contains(account, "JP") || strings.Contains(account, "Alice") {
		t.Errorf("the account page:\n%s", account)
	}
	for _, p := range b.take() {
		t.Errorf("the KYC login: %s", p)
	}

	// The wallet's redirect, replayed: its response code opened a session
	// once, and is refused now.
	mu.Lock()
	if len(redirects) != 1 {
		t.Fatalf("the tab followed %d redirects to the exchange: %q", len(redirects), redirects)
	}
	done := redirects[0]
	mu.Unlock()
	b.logout(t)
	if err := chromedp.Do(b.ctx, chromedp.Navigate(done)); err != nil {
		t.Fatal(err)
	}
	if code, reason := b.refusal(t); code != "replayed" || !strings.Contains(reason, "used already") {
		t.Errorf("a replayed response code: %s, %q", code, reason)
	}
	axe("the refusal page")

	// The "log in with your DID" level: no credential.
	w.login(t, b, "did", "asks only for your DID")
	if got := b.text(t, "#did"); got != w.alice {
		t.Fatalf("logged in with the DID as %q, want %s", got, w.alice)
	}
	if got := b.text(t, "#level"); got != "DID only" {
		t.Errorf("the DID login's level: %q", got)
	}
	b.logout(t)

	// Answers a dishonest wallet makes, each refused with its reason on
	// the page the person is sent to.
	for _, c := range []struct {
		name, aud, code, reason string
		spoil                   func(string) string
	}{
		{"made for another site", "decentralized_identifier:did:agora:elsewhere", "wrong_audience", "was made for", func(p string) string { return p }},
		{"tampered", "", "tampered", "signatures", func(p string) string {
			// One disclosure swapped for another claim's digest's: the
			// issuer's signature no longer covers what is shown.
			parts := strings.Split(p, "~")
			parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`["c2FsdA","country","FR"]`))
			return strings.Join(parts, "~")
		}},
	} {
		if err := chromedp.Do(b.ctx, chromedp.Navigate(w.forge(t, c.aud, c.spoil))); err != nil {
			t.Fatal(err)
		}
		if code, reason := b.refusal(t); code != c.code || !strings.Contains(reason, c.reason) {
			t.Errorf("%s: refused with %s, %q; want %s, %q", c.name, code, reason, c.code, c.reason)
		}
	}

	// Revoked: the issuer revokes alice's credential; her next login is
	// refused, and the page says so.
	status := filepath.Join(w.dir, "status.json")
	if err := os.WriteFile(status, fmt.Appendf(nil, `{"issuer": %q, "list": "kyc-1", "index": 0, "status": 1}`, w.issuer), 0o600); err != nil {
		t.Fatal(err)
	}
	w.agora(t, "credential", "send", "set-status", status, "--key", "exchange-tokyo")
	w.login(t, b, "kyc", "asks for your credential kyc")
	if code, reason := b.refusal(t); code != "revoked" || !strings.HasPrefix(reason, "status: revoked since ") {
		t.Errorf("a revoked credential: %s, %q", code, reason)
	}
	if *screenshots != "" {
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*screenshots, "login-refused.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Every decision is in the exchange's log.
	log, _ := os.ReadFile(filepath.Join(w.dir, "rp-run.log"))
	for _, want := range []string{"login accepted", "code=wrong_audience", "code=tampered", "code=revoked"} {
		if !bytes.Contains(log, []byte(want)) {
			t.Errorf("the exchange's log lacks %q:\n%s", want, log)
		}
	}
}

// respond answers the login link from alice's wallet on the command line
// (agora wallet respond, in this process: the wallet on another device)
// and returns what it printed and its exit code.
func (w *loginWorld) respond(t *testing.T, link string) (string, int) {
	t.Helper()
	t.Setenv("AGORA_PASSPHRASE", "dev")
	var out, errOut bytes.Buffer
	code := run([]string{"wallet", "respond", link, "--key", "alice", "--yes", "--home", w.home, "--node", w.node, "--log-key", w.logKey}, &out, &errOut)
	return out.String() + errOut.String(), code
}

// TestLoginCrossDevice: a person starts a login in Chromium and answers
// it from their wallet elsewhere (scanning the page's QR code; here
// 'agora wallet respond' with the same link): the waiting page, which
// the person does not touch, moves to their account by itself. After the
// issuer revokes the credential, the next answer is refused and the
// waiting page shows the code and the reason.
func TestLoginCrossDevice(t *testing.T) {
	b := newBrowser(t)
	w := startLoginWorld(t)
	wait := func(level string) (link string) {
		t.Helper()
		if err := chromedp.Do(b.ctx, chromedp.Navigate(w.rp+"/")); err != nil {
			t.Fatal(err)
		}
		b.click(t, "#login-"+level)
		b.text(t, "#wallet-link")
		if err := chromedp.Do(b.ctx, chromedp.WaitVisible(chromedp.CSS("svg.qr"))); err != nil {
			t.Fatal(err)
		}
		label, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS("svg.qr"), "aria-label"))
		if err != nil || !strings.Contains(label.Value, "QR code") {
			t.Errorf("the QR code's text alternative: %q, %v", label.Value, err)
		}
		href, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS("#wallet-link"), "href"))
		if err != nil || !href.Exists {
			t.Fatalf("the wallet link: %v", err)
		}
		link = href.Value
		if !b.textContains(t, "#status", "moves on by itself") {
			t.Errorf("the waiting page's script did not start: %q", b.text(t, "#status"))
		}
		return link
	}

	link := wait("kyc")
	out, code := w.respond(t, link)
	if code != 0 || !strings.Contains(out, "ACCEPTED") {
		t.Fatalf("agora wallet respond: exit %d\n%s", code, out)
	}
	if got := b.text(t, "#did"); got != w.alice {
		t.Fatalf("the waiting page moved to an account of %q, want %s", got, w.alice)
	}
	if got := b.text(t, "#level"); got != "KYC credential" {
		t.Errorf("the level: %q", got)
	}
	for _, p := range b.take() {
		t.Errorf("the cross-device login: %s", p)
	}
	b.logout(t)

	// Revoked: the wallet's answer is refused, and the waiting page says
	// why.
	status := filepath.Join(w.dir, "status.json")
	if err := os.WriteFile(status, fmt.Appendf(nil, `{"issuer": %q, "list": "kyc-1", "index": 0, "status": 1}`, w.issuer), 0o600); err != nil {
		t.Fatal(err)
	}
	w.agora(t, "credential", "send", "set-status", status, "--key", "exchange-tokyo")
	link = wait("kyc")
	if out, code := w.respond(t, link); code == 0 || !strings.Contains(out, "REFUSED (revoked)") {
		t.Fatalf("agora wallet respond with a revoked credential: exit %d\n%s", code, out)
	}
	if code, reason := b.refusal(t); code != "revoked" || !strings.HasPrefix(reason, "status: revoked since ") {
		t.Errorf("the waiting page shows %s, %q", code, reason)
	}
	if loc, _ := chromedp.Run(b.ctx, chromedp.Location()); !strings.Contains(loc, "/login") {
		t.Errorf("the refusal is shown at %s, not on the waiting page", loc)
	}
	for _, p := range b.take() {
		t.Errorf("the refused login: %s", p)
	}
}

var (
	loginBench   = flag.Duration("login.bench", 0, "run TestLoginThroughput for this long (docs/BENCHMARKS.md)")
	loginProfile = flag.String("login.cpuprofile", "", "with -login.bench: the relying party writes its CPU profile to this `FILE`")
)

// TestLoginThroughput measures logins verified per second by one relying
// party (agora rp run, its own process) against a dev node, proofs
// included, and the latency from the wallet's response to the session:
// workers each start a KYC login, fetch and read its request, present
// alice's credential for it (in process: the wallet's work is not the
// relying party's) and time the direct_post and the redirect that opens
// the session. Run with -login.bench 20s. It logs the CPU each process
// spent a login (node, relying party, this load); with -login.cpuprofile
// FILE the relying party writes its CPU profile there.
func TestLoginThroughput(t *testing.T) {
	if *loginBench == 0 {
		t.Skip("a measurement: give -login.bench DURATION")
	}
	rpArgs := []string{"--rate", "-1"}
	if *loginProfile != "" {
		abs, err := filepath.Abs(*loginProfile)
		if err != nil {
			t.Fatal(err)
		}
		rpArgs = append(rpArgs, "--cpuprofile", abs)
	}
	w := startLoginWorld(t, rpArgs...)
	// The load stands for many wallets elsewhere; on this machine it
	// shares the cores with the relying party: as the relying party does,
	// it collects its garbage less often.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	k, err := cli.Keys(w.home).Unlock("alice", "dev")
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := k.Ed25519()
	held, err := credentialcli.Wallet(w.home)
	if err != nil || len(held) != 1 {
		t.Fatalf("the wallet: %v", err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	login := func() (time.Duration, error) {
		req, _ := http.NewRequest("POST", w.rp+"/login", strings.NewReader("level=kyc"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		resp, err := noRedirect.Do(req)
		if err != nil {
			return 0, err
		}
		var started struct{ State string }
		json.NewDecoder(resp.Body).Decode(&started)
		drain(resp)
		resp, err = noRedirect.Get(w.rp + "/request/" + started.State)
		if err != nil {
			return 0, err
		}
		jwt, _ := io.ReadAll(resp.Body)
		drain(resp)
		var claims struct {
			Nonce    string `json:"nonce"`
			ClientID string `json:"client_id"`
		}
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(string(jwt), ".")[1])
		json.Unmarshal(payload, &claims)
		pres, err := held[0].Present(priv, []string{"age_over_18", "country"}, claims.ClientID, claims.Nonce, time.Now())
		if err != nil {
			return 0, err
		}
		form := url.Values{"vp_token": {fmt.Sprintf(`{"kyc": [%q]}`, pres)}, "state": {started.State}}
		start := time.Now()
		resp, err = noRedirect.PostForm(w.rp+"/response", form)
		if err != nil {
			return 0, err
		}
		var a struct {
			RedirectURI string `json:"redirect_uri"`
			Code        string `json:"agora_code"`
			Description string `json:"error_description"`
		}
		json.NewDecoder(resp.Body).Decode(&a)
		drain(resp)
		if a.Code != "" {
			return 0, fmt.Errorf("refused: %s: %s", a.Code, a.Description)
		}
		resp, err = noRedirect.Get(a.RedirectURI)
		if err != nil {
			return 0, err
		}
		drain(resp)
		if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) == 0 {
			return 0, fmt.Errorf("no session: %s", resp.Status)
		}
		return time.Since(start), nil
	}
	const workers = 16
	var mu sync.Mutex
	var lat []time.Duration
	var failed error
	end := time.Now().Add(*loginBench)
	cpu0 := w.cpu(t)
	began := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				d, err := login()
				mu.Lock()
				if err != nil && failed == nil {
					failed = err
				}
				if err == nil {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	cpu1 := w.cpu(t)
	if failed != nil {
		t.Fatal(failed)
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	t.Logf("%d logins in %s: %.0f logins/s verified; response to session p50 %s, p95 %s, p99 %s (%d workers)",
		len(lat), elapsed.Round(time.Millisecond), float64(len(lat))/elapsed.Seconds(), q(0.5).Round(100*time.Microsecond),
		q(0.95).Round(100*time.Microsecond), q(0.99).Round(100*time.Microsecond), workers)
	names := slices.Sorted(maps.Keys(cpu1))
	for _, name := range names {
		d := cpu1[name] - cpu0[name]
		t.Logf("  %-12s %6.2f s of CPU, %4.0f µs a login", name, d.Seconds(), float64(d.Microseconds())/float64(len(lat)))
	}
}

// drain reads the rest of resp's body and closes it, so that its
// connection is used again: a load that dials a connection per request
// measures its own dialling and the server's accepting.
func drain(resp *http.Response) {
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// cpu is the CPU time (user and system) each background process and
// this test's own have used so far, read from /proc (Linux).
func (w *loginWorld) cpu(t *testing.T) map[string]time.Duration {
	t.Helper()
	out := map[string]time.Duration{}
	read := func(name, path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Logf("no CPU time of %s: %v", name, err)
			return
		}
		// Fields after the command's closing parenthesis: utime and
		// stime are the 12th and 13th, in clock ticks of 1/100 s.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 13 {
			return
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		out[name] = time.Duration(u+s) * 10 * time.Millisecond
	}
	for name, p := range w.procs {
		read(name, fmt.Sprintf("/proc/%d/stat", p.Pid))
	}
	read("the load (this test)", "/proc/self/stat")
	return out
}
