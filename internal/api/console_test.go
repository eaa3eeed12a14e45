package api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/api/wire"
	"github.com/agora-ledger/agora/internal/console"
	"github.com/agora-ledger/agora/internal/console/consoletest"
	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/gov/govweb"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/identity/identityweb"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/notary/notaryweb"
	"github.com/agora-ledger/agora/internal/witness"
)

// inlineScriptRE finds a script element without a src: the CSP refuses
// inline scripts, so a page must have none.
var inlineScriptRE = regexp.MustCompile(`<script(?:\s+[^>]*)?>[^<]`)

// TestConsolePages renders every page of the console (the console's own,
// identity's and the notary's) over a node with a DID and an anchor: each
// answers HTML with the strict CSP and no inline script, and every check
// on it verifies with the in-browser checks (package check) against the
// node's proofs, and finds the digest the page was rendered from.
func TestConsolePages(t *testing.T) {
	tn := newTestNode(t, nodeOptions{sections: []console.Section{identityweb.Section(), notaryweb.Section()}})
	ctrl, next := keyFor(t, "console controller"), keyFor(t, "console next")
	c := &identity.Create{Keys: []identity.KeySpec{{PublicKey: ctrl.Public(), Relationships: []string{identity.Authentication, identity.CapabilityInvocation}}},
		Next: identity.Commitment(next.Public())}
	did := c.DID()
	created := tn.commit(t, identityTx(t, ctrl, 0, "create", c))
	anchored := tn.commit(t, anchorTx(t, tn.alice, 0, digest("console file")))
	sum := hex.EncodeToString(digest("console file"))
	absent := hex.EncodeToString(digest("never anchored"))

	for _, pc := range []struct {
		desc, path string
		status     int
		checks     int // at least
	}{
		{desc: "home", path: "/", status: 200, checks: 1},
		{desc: "search form", path: "/search", status: 200},
		{desc: "block", path: fmt.Sprintf("/block/%d", created.Height), status: 200, checks: 1},
		{desc: "transaction", path: "/tx/" + created.Hash.String(), status: 200, checks: 1},
		{desc: "log", path: "/log", status: 200, checks: 1},
		{desc: "glossary", path: "/glossary", status: 200},
		{desc: "DID", path: "/did/" + did, status: 200, checks: 2},
		{desc: "anchor", path: "/anchor/" + sum, status: 200, checks: 1},
		{desc: "absent anchor", path: "/anchor/" + absent, status: 200, checks: 1},
		{desc: "unknown DID", path: "/did/did:agora:" + strings.Repeat("a", 52), status: 404},
		{desc: "unknown name", path: "/name/nobody.exchange", status: 404},
		{desc: "bad height", path: "/block/x", status: 400},
		{desc: "no such block", path: "/block/999999", status: 404},
		{desc: "unknown transaction", path: "/tx/" + strings.Repeat("ab", 32), status: 404},
	} {
		t.Run(pc.desc, func(t *testing.T) { consolePage(t, tn, pc.path, pc.status, pc.checks) })
	}
	// A signer is named by its label in the ledger, not by its key.
	if body := consolePage(t, tn, "/tx/"+anchored.Hash.String(), 200, 1); !strings.Contains(string(body), "alice (test)") {
		t.Errorf("the transaction's page does not name its signer by the ledger's label \"alice (test)\"\n%s", body)
	}

	// The search box finds each kind of thing.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, sc := range []struct{ q, want string }{
		{did, "/did/" + did},
		{created.Hash.String(), "/tx/" + created.Hash.String()},
		{fmt.Sprint(anchored.Height), fmt.Sprintf("/block/%d", anchored.Height)},
		{sum, "/anchor/" + sum},
	} {
		res, err := noFollow.Get(tn.srv.URL + "/search?q=" + sc.q)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != sc.want {
			t.Errorf("search %q: %d to %q, want %q", sc.q, res.StatusCode, loc, sc.want)
		}
	}
	if r := tn.get(t, "/search?q=nothing-like-this"); r.status != 200 || !strings.Contains(string(r.body), "Nothing on this ledger matches") {
		t.Errorf("a search that finds nothing: %d\n%s", r.status, r.body)
	}
}

// consolePage gets the console's page at path and checks that it answers
// status with HTML under the strict CSP and no inline script, and that it
// carries at least checks checks, each verifying as in the browser. It
// returns the page.
func consolePage(t *testing.T, tn *testNode, path string, status, checks int) []byte {
	t.Helper()
	r := tn.get(t, path)
	if r.status != status {
		t.Fatalf("GET %s: %d, want %d\n%s", path, r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if csp := r.header.Get("Content-Security-Policy"); csp != console.CSP || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	if m := inlineScriptRE.Find(r.body); m != nil {
		t.Errorf("an inline script: %s", m)
	}
	found := consoletest.Checks(r.body)
	if len(found) < checks {
		t.Errorf("%d checks, want at least %d", len(found), checks)
	}
	for _, c := range found {
		if rep := consoletest.Run(t, tn.srv.URL, c, consoletest.Trust(tn.logKey), fakeClock().UnixMilli(), nil); !rep.OK {
			t.Errorf("check %s %s: %s", c.Kind, c.Path, rep.Error)
		}
	}
	return r.body
}

// TestConsoleGovPages renders governance's section over a node with the
// demo Community, a drafted change, an emergency action and a petition:
// the overview, each record's page and a body's page answer with the
// strict CSP, and every check on them verifies with the browser's code;
// the search box finds the change by its title.
func TestConsoleGovPages(t *testing.T) {
	var clock atomic.Int64
	clock.Store(fakeClock().UnixMilli())
	tn := newTestNode(t, nodeOptions{gov: true, sections: []console.Section{govweb.Section()},
		clock: func() time.Time { return time.UnixMilli(clock.Load()) }})
	tn.commit(t, msgTx(t, keyFor(t, "dir-identity"), 0, gov.Name, "draft", &gov.Draft{Doc: gov.NewDocRef("Accredit issuer-y", "accredit issuer-y"),
		Actions: []ledger.Action{{Target: gov.Name, Type: "set_entry", Body: setEntryBody(t, "issuers", "issuer-y", "accredited")}}}))
	// The Board approves the change (its vote closes in the first block
	// after its 30 s), and the users ask for an independent review.
	boardApproves(t, tn, &clock, anchorTx(t, tn.alice, 0, digest("the vote closes")))
	tn.commit(t, msgTx(t, keyFor(t, "bob"), 0, gov.Name, "request-review", &gov.RequestReview{Change: 1, As: "users",
		Doc: gov.NewDocRef("Review change 1", "the users ask for review")}))
	emergency(t, tn, "bob", 1)
	tn.commit(t, msgTx(t, keyFor(t, "bob"), 2, gov.Name, "petition", &gov.PetitionMsg{Power: gov.PowerRecall, As: "users",
		Doc: gov.NewDocRef("Recall the Board", "the users recall the Board")}))
	for _, pc := range []struct {
		path, want string
		checks     int // at least
	}{
		{path: "/gov", want: "Accredit issuer-y", checks: 4},
		{path: "/gov/changes/1", want: "more than half of the voting directors", checks: 2},
		{path: "/gov/emergencies/1", want: "Suspend issuer-x", checks: 1},
		{path: "/gov/petitions/1", want: "to recall the whole Board", checks: 1},
		{path: "/gov/reviews/1", want: "<dt>Requested by</dt><dd>bob of users</dd>", checks: 1},
		{path: "/gov/bodies/users", want: "bob", checks: 1},
	} {
		t.Run(pc.path, func(t *testing.T) {
			if body := consolePage(t, tn, pc.path, 200, pc.checks); !strings.Contains(string(body), pc.want) {
				t.Errorf("the page does not show %q\n%s", pc.want, body)
			}
		})
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(tn.srv.URL + "/search?q=accredit+issuer-y")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); loc != "/gov/changes/1" {
		t.Errorf("searching for the change's title: %d to %q, want /gov/changes/1", res.StatusCode, loc)
	}
}

// TestConsoleChecksRefuseTampering tampers with one proven answer of each
// kind the console checks, as a proxy between the node and the reader
// could: every check refuses it.
func TestConsoleChecksRefuseTampering(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	committed := tn.commit(t, anchorTx(t, tn.alice, 0, digest("tampered file")))
	sum := hex.EncodeToString(digest("tampered file"))
	trust := consoletest.Trust(tn.logKey)
	anchor := "/v1/notary/anchors/" + sum
	page := console.Digest(tn.get(t, anchor).body)
	tx := "/v1/tx/" + committed.Hash.String()
	var view wire.TxView
	if err := json.Unmarshal(tn.get(t, tx).body, &view); err != nil {
		t.Fatal(err)
	}
	// claim is what the transaction page shows, after change.
	claim := func(change func(*wire.TxClaim)) string {
		c := console.ViewClaim(&view)
		if change != nil {
			change(&c)
		}
		b, _ := json.Marshal(c)
		return string(b)
	}
	at := claim(nil)
	for _, c := range []struct {
		desc, kind, path, claim string
		tamper                  func(string) string
		want                    bool
	}{
		{desc: "genuine answer", kind: "answer", path: anchor, claim: page, want: true},
		{desc: "another media type", kind: "answer", path: anchor, claim: page,
			tamper: func(s string) string {
				return strings.Replace(s, `"media_type":"text/plain"`, `"media_type":"text/html"`, 1)
			}},
		{desc: "a page rendered from another answer", kind: "answer", path: anchor, claim: console.Digest([]byte(`{}`))},
		{desc: "genuine absence", kind: "answer", path: "/v1/notary/anchors/" + hex.EncodeToString(digest("other")), claim: "", want: true},
		{desc: "a record shown as absent", kind: "answer", path: anchor, claim: ""},
		{desc: "genuine transaction", kind: "tx", path: tx, claim: at, want: true},
		{desc: "another result", kind: "tx", path: tx, claim: at,
			tamper: func(s string) string { return strings.Replace(s, `"code":"ok"`, `"code":"unauthorized"`, 1) }},
		{desc: "another block", kind: "tx", path: tx, claim: claim(func(c *wire.TxClaim) { c.Height++ })},
		{desc: "a page showing another outcome", kind: "tx", path: tx, claim: claim(func(c *wire.TxClaim) { c.Code = "unauthorized" })},
		{desc: "a page showing another body", kind: "tx", path: tx, claim: claim(func(c *wire.TxClaim) { c.Body = strings.Repeat("00", 8) })},
		{desc: "a page showing another signer", kind: "tx", path: tx, claim: claim(func(c *wire.TxClaim) { c.Signers[0].Address = strings.Repeat("ab", 20) })},
		{desc: "a page hiding a signer", kind: "tx", path: tx, claim: claim(func(c *wire.TxClaim) { c.Signers = []wire.ClaimSigner{} })},
		{desc: "a page showing another event", kind: "tx", path: tx, claim: claim(func(c *wire.TxClaim) { c.Events = []ledger.Event{{Module: "notary", Type: "forged"}} })},
		{desc: "a page showing another log position", kind: "tx", path: tx, claim: claim(func(c *wire.TxClaim) { *c.LeafIndex++ })},
		{desc: "a page showing a field of the body", kind: "tx", path: tx, want: true,
			claim: claim(func(c *wire.TxClaim) { c.Fields = map[string]string{"/MediaType": "text/plain"} })},
		{desc: "a page showing a field of the body otherwise", kind: "tx", path: tx, claim: claim(func(c *wire.TxClaim) { c.Fields = map[string]string{"/MediaType": "text/html"} })},
		{desc: "a page showing a field the body lacks", kind: "tx", path: tx, claim: claim(func(c *wire.TxClaim) { c.Fields = map[string]string{"/nothing": "x"} })},
		{desc: "genuine checkpoint", kind: "checkpoint", path: "/log/checkpoint", want: true},
		{desc: "another size", kind: "checkpoint", path: "/log/checkpoint",
			tamper: func(s string) string {
				lines := strings.SplitN(s, "\n", 3)
				return lines[0] + "\n9999\n" + lines[2]
			}},
	} {
		t.Run(c.desc, func(t *testing.T) {
			rep := consoletest.Run(t, tn.srv.URL, console.Check{Kind: c.kind, Path: c.path, Digest: c.claim}, trust, fakeClock().UnixMilli(), c.tamper)
			if rep.OK != c.want {
				t.Errorf("ok %v (%s), want %v", rep.OK, rep.Error, c.want)
			}
		})
	}
	// Another log key: nothing verifies.
	rep := consoletest.Run(t, tn.srv.URL, console.Check{Kind: "checkpoint", Path: "/log/checkpoint"}, consoletest.Trust(otherLogKey(t)), fakeClock().UnixMilli(), nil)
	if rep.OK {
		t.Error("a checkpoint verified under another log key")
	}
}

// TestConsoleLogPageWitnessed shows the log page of a node with a
// witness: its check demands the witness's cosignature, and passes once
// the checkpoint /log/checkpoint serves carries it, saying so; against a
// witness that never cosigned, it fails.
func TestConsoleLogPageWitnessed(t *testing.T) {
	skey, vkey := logKeys(t)
	tw := newTestWitness(t, "witness.test", vkey)
	ws := tw.serve(t)
	tn := newTestNode(t, nodeOptions{cfg: node.Config{Witnesses: []node.WitnessConfig{ws.config(tw)}}, logSKey: skey, logVKey: vkey})
	sr := tn.commit(t, anchorTx(t, tn.alice, 0, digest("witnessed")))
	// The test's clock is an hour after the genesis: the genesis's
	// checkpoint, witnessed first, is stale by it.
	waitUntil(t, "the anchor's block witnessed", func() bool { w, ok := tn.node.Witnessed(); return ok && w.Height >= sr.Height })

	checks := consoletest.Checks(tn.get(t, "/log").body)
	if len(checks) != 1 || len(checks[0].Witnesses) != 1 || checks[0].Witnesses[0] != tw.key {
		t.Fatalf("the log page's checks %+v, want one demanding %s", checks, tw.key)
	}
	rep := consoletest.Run(t, tn.srv.URL, checks[0], consoletest.Trust(vkey), fakeClock().UnixMilli(), nil)
	if !rep.OK || rep.Signers != "signed by the ledger's key and cosigned by the witness" {
		t.Errorf("the witnessed checkpoint: %+v", rep)
	}
	_, otherKey, err := witness.GenerateKey(rand.Reader, "other.test")
	if err != nil {
		t.Fatal(err)
	}
	checks[0].Witnesses = append(checks[0].Witnesses, otherKey)
	if rep := consoletest.Run(t, tn.srv.URL, checks[0], consoletest.Trust(vkey), fakeClock().UnixMilli(), nil); rep.OK {
		t.Errorf("a checkpoint passed demanding a witness that never cosigned: %+v", rep)
	}
}
