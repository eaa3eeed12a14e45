package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdpnet "github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/agora-ledger/agora/internal/console"
	"github.com/agora-ledger/agora/internal/console/consoletest"
	"github.com/agora-ledger/agora/internal/custody/custodycli"
	"github.com/agora-ledger/agora/internal/node"
)

// consoleLedger is a dev node for the console's tests, with one of each
// thing the console shows: a governance change, a DID, an anchored file.
type consoleLedger struct {
	url, logKey   string
	did, name     string
	anchorTx, sum string
	file          string // the anchored file
	change        string // the change's title
	did2          string // a second DID: the receiver of parcel-1's trigger
	issuer        string // an accredited credential issuer's DID, with list kyc-1: entry 0 revoked, 1 valid
	// contract is a data-usage contract with a use and a transfer, and
	// derived the processor's contract the transfer made.
	contract, derived string
	// agora runs the CLI against the node and returns what it printed;
	// agoraIn does so with another home.
	agora   func(args ...string) string
	agoraIn func(h home, args ...string) string
}

// startConsoleLedger starts a dev node (with the demo Community) and
// fills it through the CLI.
func startConsoleLedger(t *testing.T) *consoleLedger {
	t.Helper()
	h, url := startDevNode(t)
	l := &consoleLedger{url: url, change: "Raise the block size"}
	agoraIn := func(h home, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		full := append([]string{}, args...)
		full = append(full, "--home", string(h))
		if args[0] != "keys" {
			full = append(full, "--node", l.url)
		}
		if code := run(full, &out, &errOut); code != 0 {
			t.Fatalf("agora %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
		}
		return out.String()
	}
	agora := func(args ...string) string {
		t.Helper()
		return agoraIn(h, args...)
	}
	l.agora, l.agoraIn = agora, agoraIn
	agora("gov", "draft", "--key", "dir-exchanges", "--title", l.change, "--text", "Blocks may hold up to 5,000 transactions.",
		"--action", `ledger.set_params={"max_block_txs":5000,"max_block_bytes":16777216}`)
	agora("keys", "new", "holder")
	agora("keys", "new", "holder-next")
	l.did = regexp.MustCompile(`did:agora:[a-z0-9]+`).FindString(agora("did", "create", "--key", "holder", "--next-key", "holder-next"))
	agora("keys", "new", "commons")
	agora("keys", "new", "commons-next")
	l.did2 = regexp.MustCompile(`did:agora:[a-z0-9]+`).FindString(agora("did", "create", "--key", "commons", "--next-key", "commons-next"))
	// The credential issuer's DID is made early (agora vc issue signs with
	// iat in whole seconds; it waits for the next second when the key is
	// newer than that, which this spares the test).
	l.issuer = regexp.MustCompile(`did:agora:[a-z0-9]+`).FindString(agora("did", "create", "--key", "exchange-tokyo"))
	l.name = "holder.exchange"
	agora("name", "register", l.name, "--did", l.did, "--key", "holder", "--sponsor-key", "exchange-tokyo")
	file := filepath.Join(t.TempDir(), "minutes.txt")
	if err := os.WriteFile(file, []byte("Minutes of the Board's meeting."), 0o600); err != nil {
		t.Fatal(err)
	}
	l.file = file
	out := agora("notary", "anchor", file, "--key", "holder")
	l.anchorTx = regexp.MustCompile(`(?m)^\s*tx\s+([0-9a-f]{64})`).FindStringSubmatch(out)[1]
	l.sum = regexp.MustCompile(`[0-9a-f]{64}`).FindString(agora("notary", "verify", file))
	// Lithopia's parcel, with a rule that one accredited provider fired.
	agora("asset", "register", "parcel-1", "--key", "holder", "--owner", l.did, "--place", "50.087451,14.420671", "--description", "Parcel 1")
	agora("keys", "new", "sat-a")
	agora("gov", "set-entry", "oracles", "sat-a", strings.TrimSpace(agora("keys", "export-public", "sat-a")))
	agora("asset", "rule", "parcel-1", "--key", "holder", "--type", "marker", "--radius", "50", "--from", "2020-01-01T00:00:00Z",
		"--until", "2100-01-01T00:00:00Z", "--providers", "sat-a", "--threshold", "1", "--to", l.did2, "--dispute-window", "1h")
	obs := filepath.Join(t.TempDir(), "obs.json")
	agora("oracle", "observe", "--key", "sat-a", "--type", "marker", "--place", "50.087500,14.420700", "--value", "90",
		"--time", "2026-01-01T00:00:00Z", "--out", obs)
	agora("oracle", "submit", "parcel-1", "1", obs, "--key", "holder")
	l.credentials(t)

	// A data-usage contract, as examples/consent.sh makes it: a subject, a
	// bank as controller that uses the data once, and a scoring firm as
	// processor that the bank passes an item to.
	pairwise := func(name string) string {
		return regexp.MustCompile(`did:agora:[a-z0-9]+`).FindString(agora("did", "create", "--pairwise", name))
	}
	alice, bank, scorer := pairwise("alice-bank"), pairwise("bank-alice"), pairwise("scorer-alice")
	terms, child := filepath.Join(t.TempDir(), "terms.json"), filepath.Join(t.TempDir(), "scorer.json")
	if err := os.WriteFile(terms, fmt.Appendf(nil, `{"subject": {"did": %q}, "controller": {"did": %q},
  "items": [{"type": "dpv-pd:EmailAddress", "value": "alice@example.org"}, {"type": "dpv-pd:Income", "value": "52000 EUR"}],
  "rules": [
    {"event": "use", "purposes": ["dpv:CreditChecking"], "max_count": 3, "action": "allow", "notify": true},
    {"event": "use", "purposes": ["dpv:Marketing"], "action": "deny"},
    {"event": "transfer", "recipients": ["scoring.example"], "purposes": ["dpv:CreditChecking"], "action": "allow"}]}`, alice, bank), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(child, fmt.Appendf(nil, `{"controller": {"did": %q},
  "rules": [{"event": "use", "purposes": ["dpv:CreditChecking"], "action": "modify", "method": "anonymise"}]}`, scorer), 0o600); err != nil {
		t.Fatal(err)
	}
	l.contract = regexp.MustCompile(`created contract ([0-9a-f]{64})`).FindStringSubmatch(
		agora("consent", "create", terms, "--subject-key", "pairwise-alice-bank", "--controller-key", "pairwise-bank-alice"))[1]
	agora("consent", "use", terms, "--key", "pairwise-bank-alice", "--event", "use", "--items", "1", "--purpose", "dpv:CreditChecking")
	l.derived = regexp.MustCompile(`derived\s+([0-9a-f]{64})`).FindStringSubmatch(
		agora("consent", "transfer", terms, "--key", "pairwise-bank-alice", "--processor-key", "pairwise-scorer-alice", "--child", child,
			"--items", "1", "--purpose", "dpv:CreditChecking", "--recipient", "scoring.example"))[1]
	agora("consent", "use", child, "--key", "pairwise-scorer-alice", "--event", "use", "--items", "0", "--purpose", "dpv:CreditChecking")
	var info struct {
		LogKey string `json:"log_key"`
	}
	getJSON(t, l.url+"/v1/node/info", &info)
	l.logKey = info.LogKey
	l.custody(t)
	return l
}

// custody makes wallet treasury as examples/custody.sh does, at 2 of 3:
// three holders, each with a home of its own where its signer daemon
// (run in this process until the wallet has signed) keeps its share;
// holder's DID owns it and asks for two withdrawals, commons's approves
// the first, which is signed; the second waits for approval.
func (l *consoleLedger) custody(t *testing.T) {
	t.Helper()
	did := regexp.MustCompile(`did:agora:[a-z0-9]+`)
	ctx, cancel := context.WithCancel(context.Background())
	var signers sync.WaitGroup
	defer func() { cancel(); signers.Wait() }()
	var holders []string
	for i := 1; i <= 3; i++ {
		hh := filepath.Join(t.TempDir(), fmt.Sprintf("h%d", i))
		l.agoraIn(home(hh), "keys", "new", "h")
		holders = append(holders, did.FindString(l.agoraIn(home(hh), "did", "create", "--key", "h")))
		args := []string{"--home", hh, "--node", l.url, "--key", "h", "--did", holders[i-1], "--log-key", l.logKey}
		signers.Go(func() { custodycli.RunSigner(ctx, args, "dev", io.Discard, io.Discard) })
	}
	policy := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(policy, fmt.Appendf(nil, `{"groups":[{"name":"ops","members":[%q,%q],"quorum":1}],
  "rules":[{"name":"cap","action":"deny","min_amount":1001,"destination":"*"},{"name":"ops","action":"allow","destination":"*","group":"ops","approvals":1}],
  "change_group":"ops","per_tx":1000}`, l.did2, l.did), 0o600); err != nil {
		t.Fatal(err)
	}
	l.agora("custody", "create", "treasury", "--key", "holder", "--owner", l.did, "--holders", strings.Join(holders, ","), "--threshold", "2",
		"--policy", policy, "--asset", "BTC", "--network", "bitcoin-testnet")
	l.agora("custody", "show", "treasury", "--wait", "in_activation", "--timeout", "2m")
	l.agora("custody", "activate", "treasury", "--key", "holder")
	l.agora("custody", "request", "treasury", "--key", "holder", "--initiator", l.did, "--amount", "10", "--to", "exchange-1", "--message", "68656c6c6f")
	l.agora("custody", "approve", "treasury", "1", "--key", "commons", "--approver", l.did2)
	l.agora("custody", "status", "treasury", "1", "--wait", "signed", "--timeout", "2m")
	l.agora("custody", "request", "treasury", "--key", "holder", "--initiator", l.did, "--amount", "20", "--to", "exchange-2", "--message", "776f726c64")
}

// credentials sets up what examples/credentials.sh does: governance
// accredits exchange-tokyo's DID (l.issuer) as a KYC issuer, which
// registers the KYC type, creates list kyc-1 and issues the holder two
// credentials, then suspends and revokes the first.
func (l *consoleLedger) credentials(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	write := func(name, format string, args ...any) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, fmt.Appendf(nil, format, args...), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	issuer := l.issuer
	l.agora("gov", "set-entry", "issuers", issuer, "urn:agora:vct:kyc", "--key", "telco-id")
	l.agora("credential", "send", "register-type", write("type.json", `{"issuer": %q, "vct": "urn:agora:vct:kyc:v1", "metadata": "{\"name\":\"Know your customer\",\"description\":\"The holder's identity was checked by the issuer.\"}", `+
		`"schema": "{\"type\":\"object\",\"properties\":{\"age_over_18\":{\"type\":\"boolean\"},\"country\":{\"type\":\"string\"}},\"additionalProperties\":false}"}`, issuer), "--key", "exchange-tokyo")
	l.agora("credential", "send", "create-list", write("list.json", `{"issuer": %q, "id": "kyc-1", "bits": 2, "capacity": 131072}`, issuer), "--key", "exchange-tokyo")
	claims := write("claims.json", `{"age_over_18": true, "country": "JP"}`)
	holderKey := strings.TrimSpace(l.agora("keys", "export-public", "holder"))
	for _, out := range []string{"kyc-0.sdjwt", "kyc-1.sdjwt"} {
		l.agora("vc", "issue", "--as", issuer, "--key", "exchange-tokyo", "--type", "urn:agora:vct:kyc:v1", "--list", "kyc-1",
			"--subject", l.did, "--holder-key", holderKey, "--claims", claims, "--out", filepath.Join(dir, out))
	}
	for _, st := range []int{2, 1} { // suspended, then revoked
		l.agora("credential", "send", "set-status", write("status.json", `{"issuer": %q, "list": "kyc-1", "index": 0, "status": %d}`, issuer, st), "--key", "exchange-tokyo")
	}
}

// startDevNode runs a dev node (passphrase "dev") in a temporary home on a
// free port until the test ends, and returns its home and API URL.
func startDevNode(t testing.TB) (home, string) {
	t.Helper()
	const pass = "dev"
	t.Setenv("AGORA_PASSPHRASE", pass)
	h := home(t.TempDir())
	if err := writeDevHome(h, pass, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := ensureNodeKey(h, pass); err != nil {
		t.Fatal(err)
	}
	cfg, err := node.LoadConfig(h.config())
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP = "127.0.0.1:0"
	r, err := startNode(context.Background(), h, cfg.WithDefaults(), newLogger(io.Discard, "warn"), pass)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.stop() })
	return h, "http://" + r.addr
}

func getJSON(t testing.TB, url string, v any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// pages are the console's main pages on l.
func (l *consoleLedger) pages() []string {
	return []string{"/", "/search", "/block/1", "/tx/" + l.anchorTx, "/log", "/glossary", "/gov", "/gov/changes/1",
		"/gov/bodies/exchanges", "/did/" + l.did, "/name/" + l.name, "/anchor/" + l.sum,
		"/assets", "/asset/parcel-1", "/trigger/1",
		"/credentials", "/credentials/issuers/" + l.issuer, "/credentials/lists/kyc-1", "/credentials/lists/kyc-1/0", "/credentials/lists/kyc-1/1",
		"/consent/" + l.derived, "/consent/" + l.contract,
		"/custody", "/custody/treasury", "/custody/treasury/requests/1", "/custody/treasury/requests/2"}
}

// TestConsoleServesEveryModule renders the console of a dev node, whose
// registry gives it identity's, the notary's and governance's sections:
// every page answers, every check on it verifies as the browser would
// check it, and the search box finds a DID, a change (by number and by
// title), a transaction and a file's digest.
func TestConsoleServesEveryModule(t *testing.T) {
	l := startConsoleLedger(t)
	// The list of triggers' second page, whose check's path has a query.
	for _, p := range append(l.pages(), "/assets?before=2") {
		res, err := http.Get(l.url + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Security-Policy") != console.CSP {
			t.Errorf("GET %s: %d, CSP %q\n%s", p, res.StatusCode, res.Header.Get("Content-Security-Policy"), body)
			continue
		}
		for _, c := range consoletest.Checks(body) {
			if rep := consoletest.Run(t, l.url, c, consoletest.Trust(l.logKey), time.Now().UnixMilli(), nil); !rep.OK {
				t.Errorf("%s: check %s %s: %s", p, c.Kind, c.Path, rep.Error)
			}
		}
	}
	// The citizens' dashboard lists parcel-1's trigger, linked, and the
	// navigation leads to it.
	res, err := http.Get(l.url + "/assets")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`href="/trigger/1"`, `href="/asset/parcel-1"`, `href="/did/` + l.did2 + `"`, `<a href="/assets"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/assets lacks %s", want)
		}
	}
	// The credential pages say what the ledger holds, in words.
	for p, want := range map[string][]string{
		"/credentials":                     {l.issuer, "Know your customer", "urn:agora:vct:kyc:v1", "age_over_18, country"},
		"/credentials/issuers/" + l.issuer: {"Know your customer", "identity was checked by the issuer.", `href="/credentials/lists/kyc-1"`},
		"/credentials/lists/kyc-1":         {"holds the status of 2 credentials", `href="/credentials/lists/kyc-1/1"`},
		"/credentials/lists/kyc-1/0":       {"is <strong>revoked</strong> since", "<strong>suspended</strong>, signed by", "withdrew it for good"},
		"/credentials/lists/kyc-1/1":       {"is <strong>valid</strong>: its status never changed"},
		"/custody":                         {`href="/custody/treasury"`, "BTC on bitcoin-testnet", "2 of 3 holders, ed25519", "1 wallet; numbers 1 to 1", "The list is proven complete"},
		"/custody/treasury": {"is in use: it has signed", "Rule <strong>cap</strong>: an amount of 1,001 or more to any destination is <strong>refused</strong>",
			"at most 1,000 BTC a request", `href="/custody/treasury/requests/2"`, "waiting for approvals", "<td>generated, in"},
		"/custody/treasury/requests/1": {"is <strong>signed</strong>", "It is an ordinary signature, Ed25519 (RFC 8032)"},
		"/custody/treasury/requests/2": {"is <strong>waiting for approvals</strong>", "No signature yet"},
	} {
		res, err := http.Get(l.url + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, w := range want {
			if !strings.Contains(string(body), w) {
				t.Errorf("GET %s: no %q", p, w)
			}
		}
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range []struct{ q, want string }{
		{l.did, "/did/" + l.did},
		{l.name, "/name/" + l.name},
		{"change 1", "/gov/changes/1"},
		{"block size", "/gov/changes/1"},
		{l.anchorTx, "/tx/" + l.anchorTx},
		{l.sum, "/anchor/" + l.sum},
		{"parcel-1", "/asset/parcel-1"},
		{"trigger 1", "/trigger/1"},
		{"list kyc-1 0", "/credentials/lists/kyc-1/0"},
		{"list kyc-1", "/credentials/lists/kyc-1"},
		{"urn:agora:credential:list:kyc-1", "/credentials/lists/kyc-1"},
		{"urn:agora:vct:kyc:v1", "/credentials/issuers/" + l.issuer},
		{l.contract, "/consent/" + l.contract},
		{l.derived, "/consent/" + l.derived},
		{"treasury", "/custody/treasury"},
		{"wallet treasury", "/custody/treasury"},
		{strings.Repeat("ab", 32), "/anchor/" + strings.Repeat("ab", 32)}, // a digest never anchored
	} {
		res, err := noFollow.Get(l.url + "/search?q=" + url.QueryEscape(c.q))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Location"); got != c.want {
			t.Errorf("search %q: %d to %q, want %q", c.q, res.StatusCode, got, c.want)
		}
	}
}

var screenshots = flag.String("console.screenshots", "", "write screenshots of the console's main pages into this directory (docs/console)")

// chromium finds Debian's Chromium for the browser tests. Without it they
// are skipped, and say why; in CI (CI set) they fail instead, since
// .ci/run installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium: .ci/run installs Debian's chromium package for the console's browser tests")
	}
	t.Skip("no Chromium on this machine (apt-get install chromium): the console's browser tests are skipped")
	return ""
}

// browser is a headless Chromium tab that records every console error,
// uncaught exception and failed request of the pages it loads.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	b := &browser{ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		var p string
		switch e := ev.(type) {
		case *cdpruntime.EventConsoleAPICalled:
			if e.Type == cdpruntime.ConsoleAPICalledTypeError || e.Type == cdpruntime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				p = fmt.Sprintf("console %s: %s", e.Type, strings.Join(args, " "))
			}
		case *cdpruntime.EventExceptionThrown:
			p = fmt.Sprintf("exception: %s (line %d)", e.ExceptionDetails.Text, e.ExceptionDetails.LineNumber)
			if ex := e.ExceptionDetails.Exception; ex != nil {
				p += ": " + ex.Description
			}
		case *cdpnet.EventLoadingFailed:
			// A request the page's leaving cut short (its live
			// throughput's, say) is not a failure.
			if e.ErrorText != "net::ERR_ABORTED" {
				p = "request failed: " + e.ErrorText
			}
		case *cdpnet.EventResponseReceived:
			if e.Response.Status >= 400 {
				p = fmt.Sprintf("%s answered %d", e.Response.URL, e.Response.Status)
			}
		}
		if p != "" {
			b.mu.Lock()
			b.problems = append(b.problems, p)
			b.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatal(err)
	}
	return b
}

// take returns and forgets the problems recorded so far.
func (b *browser) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

// leave waits until the tab has left the page at url (a form's answer
// is a redirect, or the script navigates) and returns where it is; asking
// while it navigates may fail, so it asks again.
func (b *browser) leave(url string) string {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if loc, err := chromedp.Run(b.ctx, chromedp.Location()); err == nil && loc != url {
			return loc
		}
	}
	return url
}

// checksEnded is, once the page has loaded and every check on it has
// ended, their results ("checked: …" or "failed: …"); until then false.
// One expression, so that a page left or reloaded between a wait and a
// read cannot be half seen, nor a page still being parsed, whose checks
// are not all there yet.
const checksEnded = `document.readyState === "complete" &&
	[...document.querySelectorAll(".check")].every(b => b.dataset.result) &&
	[...document.querySelectorAll(".check")].map(b => b.dataset.result + ": " + b.innerText)`

// results waits until the page's checks have ended and returns them.
func (b *browser) results(t *testing.T) []string {
	t.Helper()
	// A page whose facts changed since it was made reloads itself once:
	// a poll it interrupts is asked again.
	var err error
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		var res []string
		res, err = chromedp.Run(ctx, chromedp.Poll[[]string](checksEnded, chromedp.WithPollingInterval(100*time.Millisecond)))
		cancel()
		if err == nil {
			return res
		}
	}
	t.Fatalf("waiting for the checks: %v", err)
	return nil
}

// axeScript is axe-core, installed by npm ci --prefix tools/axe.
const axeScript = "../../tools/axe/node_modules/axe-core/axe.min.js"

// accessibility runs axe-core on the page for WCAG 2.1 A and AA and
// returns its violations. Without axe-core installed it says so and
// returns none, unless CI is set (then it fails: .ci/run installs it).
func (b *browser) accessibility(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile(axeScript)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("axe-core is not installed (npm ci --prefix tools/axe): %v", err)
		}
		t.Log("axe-core is not installed (npm ci --prefix tools/axe): accessibility not checked")
		return nil
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](string(src))); err != nil {
		t.Fatalf("loading axe-core: %v", err)
	}
	const run = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
		.then(r => r.violations.map(v => v.id + " (" + v.impact + "): " + v.help + " at " + v.nodes.map(n => n.target.join(" ")).join(", ")))`
	found, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running axe-core: %v", err)
	}
	return found
}

// TestConsoleInBrowser loads every main page of a dev node's console in
// headless Chromium: no console error, no failed request, every check on
// the page passes in the browser, and axe-core finds no WCAG 2.1 AA
// violation. A reader finds a DID, a governance
// change, a transaction and a credential's status from the search box,
// each checked. Through a
// proxy that tampers with one proven answer, the page flags it.
func TestConsoleInBrowser(t *testing.T) {
	b := newBrowser(t)
	l := startConsoleLedger(t)
	for _, p := range l.pages() {
		if err := chromedp.Do(b.ctx, chromedp.Navigate(l.url+p)); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, r := range b.results(t) {
			if !strings.HasPrefix(r, "checked: ✓ Checked in your browser: ") {
				t.Errorf("%s: a check %s", p, r)
			}
		}
		for _, v := range b.accessibility(t) {
			t.Errorf("%s: WCAG 2.1 AA: %s", p, v)
		}
		if *screenshots != "" {
			png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			name := strings.Trim(strings.NewReplacer("/", "-", ":", "-").Replace(p), "-")
			if strings.HasPrefix(name, "did") || strings.HasPrefix(name, "tx") || strings.HasPrefix(name, "anchor") || strings.HasPrefix(name, "name") ||
				strings.HasPrefix(name, "consent") {
				name, _, _ = strings.Cut(name, "-")
			}
			if name == "" {
				name = "home"
			}
			if err := os.WriteFile(filepath.Join(*screenshots, name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, pr := range b.take() {
			t.Errorf("%s: %s", p, pr)
		}
	}

	for _, c := range []struct{ desc, q, page string }{
		{"a DID", l.did, "/did/" + l.did},
		{"a governance change", l.change, "/gov/changes/1"},
		{"a transaction", l.anchorTx, "/tx/" + l.anchorTx},
		{"a credential's status", "list kyc-1 0", "/credentials/lists/kyc-1/0"},
	} {
		if err := chromedp.Do(b.ctx, chromedp.Navigate(l.url+"/"), chromedp.SendKeys(chromedp.ID("q"), c.q),
			chromedp.Submit(chromedp.ID("q"))); err != nil {
			t.Fatalf("searching for %s: %v", c.desc, err)
		}
		if at := b.leave(l.url + "/"); at != l.url+c.page {
			t.Errorf("searching for %s led to %s, want %s", c.desc, at, c.page)
		}
		res := b.results(t)
		if len(res) == 0 {
			t.Errorf("the page of %s has no check", c.desc)
		}
		for _, r := range res {
			if !strings.HasPrefix(r, "checked: ") {
				t.Errorf("searching for %s: a check %s", c.desc, r)
			}
		}
		for _, pr := range b.take() {
			t.Errorf("searching for %s: %s", c.desc, pr)
		}
	}

	// A file chosen on the search page is looked up by its digest, which
	// the browser computes.
	if err := chromedp.Do(b.ctx, chromedp.Navigate(l.url+"/search"), chromedp.WaitVisible(chromedp.ID("file")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{l.file})); err != nil {
		t.Fatalf("choosing a file: %v", err)
	}
	if at := b.leave(l.url + "/search"); at != l.url+"/anchor/"+l.sum {
		t.Errorf("choosing the anchored file led to %s, want its record /anchor/%s", at, l.sum)
	}
	for _, r := range b.results(t) {
		if !strings.HasPrefix(r, "checked: ") {
			t.Errorf("the chosen file's record: a check %s", r)
		}
	}
	for _, pr := range b.take() {
		t.Errorf("choosing a file: %s", pr)
	}

	// The home page follows the ledger: a file anchored while it is open
	// shows in the log's size its script reads, and the throughput is
	// the script's.
	if err := chromedp.Do(b.ctx, chromedp.Navigate(l.url+"/")); err != nil {
		t.Fatal(err)
	}
	b.results(t)
	logSize := func() int {
		n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`Number(document.getElementById("throughput").dataset.logSize)`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := logSize()
	another := filepath.Join(t.TempDir(), "agenda.txt")
	if err := os.WriteFile(another, []byte("Agenda of the Board's next meeting."), 0o600); err != nil {
		t.Fatal(err)
	}
	l.agora("notary", "anchor", another, "--key", "holder")
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`Number(document.getElementById("throughput").dataset.logSize) > %d`, before),
		chromedp.WithPollingInterval(200*time.Millisecond)))
	cancel()
	if err != nil {
		t.Errorf("the home page's live throughput did not see the new transaction (log size %d): %v", before, err)
	}
	if live, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById("throughput").textContent`)); err != nil || !regexp.MustCompile(`^\d+\.\d transactions a second$`).MatchString(live) {
		t.Errorf("the live throughput reads %q (%v)", live, err)
	}
	for _, pr := range b.take() {
		t.Errorf("the live home page: %s", pr)
	}

	// A reader in Tokyo reads times in Tokyo's time zone; the UTC form is
	// the time's title.
	tokyo, cancelTokyo := chromedp.NewContext(b.ctx)
	defer cancelTokyo()
	if _, err := chromedp.Call(tokyo, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tokyo, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: "en_US"}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tokyo, chromedp.Navigate(l.url+"/did/"+l.did)); err != nil {
		t.Fatal(err)
	}
	times, err := chromedp.Run(tokyo, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main time[datetime]")].map(t => t.textContent + " | " + t.title)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(times) == 0 {
		t.Error("the DID page shows no time")
	}
	for _, tm := range times {
		if !regexp.MustCompile(`GMT\+9 \| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`).MatchString(tm) {
			t.Errorf("in Tokyo, a time reads %q, want Tokyo's time and the UTC form as its title", tm)
		}
	}
	b.take()

	// With JavaScript off, the page reads in full, in UTC, and says that
	// nothing was checked.
	nojs, cancel := chromedp.NewContext(b.ctx)
	defer cancel()
	if _, err := chromedp.Call(nojs, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(nojs, chromedp.Navigate(l.url+"/did/"+l.did)); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(nojs, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Its keys", "key-0", "Not checked. With JavaScript on, your browser checks this identity's document", " UTC"} {
		if !strings.Contains(text, want) {
			t.Errorf("with JavaScript off, the DID page lacks %q:\n%s", want, text)
		}
	}
	b.take()

	// A proxy that changes the anchored file's media type in the proven
	// answer, and only there: the page shows the genuine record, and its
	// check fails, visibly.
	target, err := url.Parse(l.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	// It also turns wallet treasury's tier from hot to cold, the tier
	// whose policy asks more approvals.
	tamper := map[string][2]string{
		"/v1/notary/anchors/" + l.sum:  {`"media_type":"text/plain"`, `"media_type":"application/pdf"`},
		"/v1/custody/wallets/treasury": {`"tier":"hot"`, `"tier":"cold"`},
	}
	proxy.ModifyResponse = func(res *http.Response) error {
		change, ok := tamper[res.Request.URL.Path]
		if !ok || res.Request.URL.Query().Get("proof") != "1" {
			return nil
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return err
		}
		body = bytes.Replace(body, []byte(change[0]), []byte(change[1]), 1)
		res.Body = io.NopCloser(bytes.NewReader(body))
		res.ContentLength = int64(len(body))
		res.Header.Set("Content-Length", fmt.Sprint(len(body)))
		return nil
	}
	tampering := httptest.NewServer(proxy)
	t.Cleanup(tampering.Close)
	if err := chromedp.Do(b.ctx, chromedp.Navigate(tampering.URL+"/anchor/"+l.sum)); err != nil {
		t.Fatal(err)
	}
	res := b.results(t)
	if len(res) != 1 || !strings.HasPrefix(res[0], "failed: ✗ The check failed.") {
		t.Errorf("through the tampering proxy, the checks are %q, want one that failed", res)
	}
	visible, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { const b = document.querySelector(".check.bad"); return !!b && b.offsetHeight > 0 && getComputedStyle(b).display !== "none"; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if !visible {
		t.Error("the failed check is not visible on the page")
	}
	for _, v := range b.accessibility(t) {
		t.Errorf("the tampered page: WCAG 2.1 AA: %s", v)
	}
	if *screenshots != "" {
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*screenshots, "tampered.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// On the wallet's page only the wallet's check fails: its audit log
	// and its requests are the ledger's.
	if err := chromedp.Do(b.ctx, chromedp.Navigate(tampering.URL+"/custody/treasury")); err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, r := range b.results(t) {
		if !strings.HasPrefix(r, "checked: ") {
			failed = append(failed, r)
		}
	}
	if len(failed) != 1 || !strings.Contains(failed[0], "could not confirm this wallet") {
		t.Errorf("through the tampering proxy, the wallet's page has the failed checks %q, want the wallet's alone", failed)
	}
	b.take()
}
