// Package custodyweb is the custody module's part of the console: the
// list of wallets, a wallet's page (its tier and chain, group key and
// address, where it is in its key's lifecycle, its holders, its policy in
// words, its signing requests and its audit log, the custodian draft's
// access log) and a request's page (the rule that decided it, its
// approvals, the holders' commitments and shares, and the signature),
// each fact checked in the browser against the signed checkpoint.
package custodyweb

import (
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/api/wire"
	"github.com/agora-ledger/agora/internal/console"
	"github.com/agora-ledger/agora/internal/custody"
)

//go:embed templates
var templates embed.FS

var (
	walletsPage = console.Parse(templates, "templates/wallets.html")
	walletPage  = console.Parse(templates, "templates/wallet.html")
	requestPage = console.Parse(templates, "templates/request.html")
)

// Section is the custody module's console section.
func Section() console.Section {
	return console.Section{
		Nav: "Custody", Home: "/custody",
		Pages: []console.Page{
			{Pattern: "GET /custody", Render: walletsView},
			{Pattern: "GET /custody/{wallet}", Render: walletView},
			{Pattern: "GET /custody/{wallet}/requests/{n}", Render: requestView},
		},
		Resolve: resolve,
		Glossary: []console.Term{
			{Word: "Custody wallet", Meaning: "A key that controls funds on another chain, held by a custodian for its customers. Here no one holds the whole key: its holders each hold a share, and a signature needs a threshold of them, under a policy the ledger enforces."},
			{Word: "Key holder", Meaning: "A person or machine that keeps one share of a wallet's key, encrypted, and runs the signer that takes part in making the key and in signing."},
			{Word: "Threshold (t of n)", Meaning: "How many of a wallet's n key holders must take part to sign: fewer learn nothing of the key and can sign nothing."},
			{Word: "Distributed key generation (DKG)", Meaning: "How a wallet's key is made: its holders exchange messages through the ledger so that each ends with a share, the ledger with the public key, and no one, ever, with the whole key."},
			{Word: "FROST", Meaning: "Flexible Round-Optimised Schnorr Threshold signatures (RFC 9591): t holders together make one ordinary signature, which any verifier of the chain checks as it would any other."},
			{Word: "Group key", Meaning: "A wallet's public key, which its holders' shares make together; the wallet's address on its chain derives from it."},
			{Word: "Signing request", Meaning: "A withdrawal asked of a wallet: an amount, a destination and the message to sign. The wallet's policy decides at once whether it is refused and which approvals it needs."},
			{Word: "Time lock", Meaning: "A wait a policy rule sets between a request's last approval and its signing, so that a wrongful request can be stopped."},
		},
	}
}

// resolve finds a wallet by its id.
func resolve(l console.Ledger, q string) string {
	q = strings.ToLower(strings.TrimSpace(q))
	if w, ok := strings.CutPrefix(q, "wallet "); ok {
		q = strings.TrimSpace(w)
	}
	if q == "" || strings.ContainsAny(q, " /?#") {
		return ""
	}
	if _, err := l.Query("/v1/custody/wallets/" + url.PathEscape(q)); err != nil {
		return ""
	}
	return "/custody/" + url.PathEscape(q)
}

// stateWords says where a wallet is in its key's lifecycle.
var stateWords = map[string]string{
	custody.Generation:   "in key generation: its holders are making its key together, through the ledger",
	custody.InActivation: "generated and waiting for its owner to activate it: the group key is on the ledger, and no signature can be asked for yet",
	custody.Active:       "active: it may be asked for signatures, under its policy",
	custody.InUse:        "in use: it has signed, and may be asked for more signatures, under its policy",
	custody.Suspended:    "suspended: it signs nothing until its owner resumes it; its holders keep their shares",
	custody.Destroyed:    "destroyed: its holders deleted their shares, and it will never sign again",
	custody.Failed:       "failed: its key generation did not complete, and it will never sign",
	custody.Rotating:     "rotating: its key is being reshared to a new set of holders, keeping its group key and address; it signs nothing until that ends",
}

// requestWords says where a request is.
var requestWords = map[string]string{
	custody.Pending:  "waiting for approvals",
	custody.Locked:   "approved, waiting out its time lock",
	custody.Approved: "approved: the holders may sign it",
	custody.Signing:  "being signed: enough holders committed",
	custody.Signed:   "signed",
	custody.Expired:  "expired unsigned",
}

func inWords(m map[string]string, k string) string {
	if s, ok := m[k]; ok {
		return s
	}
	return k
}

func walletPath(id string) string { return "/v1/custody/wallets/" + url.PathEscape(id) }

// walletsView lists the wallets, a hundred a page, from the wallets
// query, whose proof shows the page complete.
func walletsView(l console.Ledger, r *http.Request) (*console.View, error) {
	path := "/v1/custody/wallets"
	if from := r.URL.Query().Get("from"); from != "" {
		if _, err := strconv.ParseUint(from, 10, 64); err != nil {
			return nil, &wire.Error{Status: http.StatusBadRequest, Code: "invalid", Message: fmt.Sprintf("from=%q is not a wallet's number", from)}
		}
		path += "?from=" + from
	}
	list, c, err := console.AskFor[custody.Wallets](l, path, "the list of wallets, complete: how many there are and each on this page")
	if err != nil {
		return nil, err
	}
	type row struct {
		custody.WalletSummary
		State string
	}
	d := struct {
		Wallets []row
		List    custody.Wallets
		Last    uint64
		Checks  []console.Check
	}{List: list, Checks: []console.Check{c}}
	for _, s := range list.Wallets {
		d.Wallets = append(d.Wallets, row{WalletSummary: s, State: strings.ReplaceAll(s.State, "_", " ")})
		d.Last = s.N
	}
	return &console.View{Title: "Custody wallets", Template: walletsPage, Data: d}, nil
}

// maxRequests is how many of a wallet's requests its page shows, newest
// first.
const maxRequests = 20

// rule is a policy rule in words.
type rule struct {
	custody.Rule
	N       int
	Amounts string
	To      string
	Delay   string
}

// request is a request as a wallet's page lists it.
type request struct {
	*custody.Req
	State string
}

func walletView(l console.Ledger, r *http.Request) (*console.View, error) {
	id := r.PathValue("wallet")
	w, wc, err := console.AskFor[custody.Wallet](l, walletPath(id), "this wallet: its tier, chain, holders, state, group key, address and policy")
	if err != nil {
		return nil, err
	}
	auditPath := walletPath(id) + "/audit"
	if after := r.URL.Query().Get("after"); after != "" {
		if _, err := strconv.ParseUint(after, 10, 64); err != nil {
			return nil, &wire.Error{Status: http.StatusBadRequest, Code: "invalid", Message: fmt.Sprintf("after=%q is not an entry's number", after)}
		}
		auditPath += "?after=" + after
	}
	a, ac, err := console.AskFor[custody.Audit](l, auditPath, "its audit log: every lifecycle step, key operation, approval and signing on this page")
	if err != nil {
		return nil, err
	}
	d := struct {
		Wallet     custody.Wallet
		StateWords string
		Rules      []rule
		Limits     []string
		Requests   []request
		Older      bool
		Audit      custody.Audit
		What       []template.HTML // each audit entry's What, in words
		NextAudit  uint64
		AuditFirst uint64
		AuditLast  uint64
		Checks     []console.Check
	}{Wallet: w, StateWords: inWords(stateWords, w.State), Audit: a, Checks: []console.Check{wc, ac}}
	for i, x := range w.Policy.Rules {
		d.Rules = append(d.Rules, ruleInWords(i, x))
	}
	d.Limits = limitsInWords(&w.Policy, w.Asset)
	for _, e := range a.Entries {
		d.What = append(d.What, what(e.What))
	}
	if len(a.Entries) > 0 {
		d.AuditFirst, d.AuditLast = a.Entries[0].N, a.Entries[len(a.Entries)-1].N
		if a.More {
			d.NextAudit = d.AuditLast
		}
	}
	for n := w.Requests; n >= 1 && w.Requests-n < maxRequests; n-- {
		q, qc, err := console.AskFor[custody.Req](l, fmt.Sprintf("%s/requests/%d", walletPath(id), n), fmt.Sprintf("request %d", n))
		if err != nil {
			return nil, err
		}
		d.Requests = append(d.Requests, request{Req: &q, State: inWords(requestWords, q.State)})
		d.Checks = append(d.Checks, qc)
	}
	d.Older = w.Requests > maxRequests
	return &console.View{Title: "Custody wallet " + w.ID, Template: walletPage, Data: d}, nil
}

func ruleInWords(i int, x custody.Rule) rule {
	r := rule{Rule: x, N: i + 1}
	switch {
	case x.MinAmount == 0 && x.MaxAmount == 0:
		r.Amounts = "any amount"
	case x.MaxAmount == 0:
		r.Amounts = "an amount of " + console.Num(x.MinAmount) + " or more"
	case x.MinAmount == 0:
		r.Amounts = "an amount up to " + console.Num(x.MaxAmount)
	default:
		r.Amounts = "an amount from " + console.Num(x.MinAmount) + " to " + console.Num(x.MaxAmount)
	}
	switch x.Destination {
	case "*":
		r.To = "any destination"
	case "allowlist":
		r.To = "a destination on the allow-list"
	default:
		r.To = "the destination " + x.Destination
	}
	if x.DelayMS > 0 {
		r.Delay = console.InWords(time.Duration(x.DelayMS) * time.Millisecond)
	}
	return r
}

func limitsInWords(p *custody.Policy, asset string) []string {
	var out []string
	ms := func(v int64) string { return console.InWords(time.Duration(v) * time.Millisecond) }
	if p.PerTx > 0 {
		out = append(out, fmt.Sprintf("at most %s %s a request", console.Num(p.PerTx), asset))
	}
	if p.PeriodLimit > 0 && p.PeriodMS > 0 {
		out = append(out, fmt.Sprintf("at most %s %s every %s", console.Num(p.PeriodLimit), asset, ms(p.PeriodMS)))
	}
	if p.LifetimeLimit > 0 {
		out = append(out, fmt.Sprintf("at most %s %s in the wallet's lifetime", console.Num(p.LifetimeLimit), asset))
	}
	if p.ColdExtra > 0 {
		out = append(out, fmt.Sprintf("on the cold tier, %d more approval(s) than a rule asks", p.ColdExtra))
	}
	ttl := p.RequestTTLMS
	if ttl == 0 {
		ttl = int64(24 * time.Hour / time.Millisecond)
	}
	out = append(out, "a request expires unsigned "+ms(ttl)+" after it is made")
	return out
}

func requestView(l console.Ledger, r *http.Request) (*console.View, error) {
	id := r.PathValue("wallet")
	n, err := strconv.ParseUint(r.PathValue("n"), 10, 64)
	if err != nil || n == 0 {
		return nil, &wire.Error{Status: http.StatusBadRequest, Code: "invalid", Message: fmt.Sprintf("request %q is not a number from 1", r.PathValue("n")),
			Hint: "requests are numbered from 1 in each wallet"}
	}
	w, wc, err := console.AskFor[custody.Wallet](l, walletPath(id), "the wallet: its group key and suite, which the signature verifies under")
	if err != nil {
		return nil, err
	}
	q, qc, err := console.AskFor[custody.Req](l, fmt.Sprintf("%s/requests/%d", walletPath(id), n),
		"this request: its amount, destination, message, the rule that decided it, its approvals, commitments, shares and signature")
	if err != nil {
		return nil, err
	}
	d := struct {
		Wallet   custody.Wallet
		Request  custody.Req
		State    string
		Message  string
		Delay    string
		Verifier string
		Checks   []console.Check
	}{Wallet: w, Request: q, State: inWords(requestWords, q.State), Message: hex.EncodeToString(q.Message), Checks: []console.Check{qc, wc}}
	if q.Decision.DelayMS > 0 {
		d.Delay = console.InWords(time.Duration(q.Decision.DelayMS) * time.Millisecond)
	}
	switch w.Suite {
	case "ed25519":
		d.Verifier = "Ed25519 (RFC 8032), as crypto/ed25519 and OpenSSL check it"
	case "taproot":
		d.Verifier = "BIP-340 Schnorr, as Bitcoin's Taproot checks it"
	default:
		d.Verifier = "FROST(" + w.Suite + ") Schnorr (RFC 9591)"
	}
	return &console.View{Title: fmt.Sprintf("Request %d of wallet %s", n, w.ID), Template: requestPage, Data: d}, nil
}

// longHex finds a key's or a signature's hex in an audit entry.
var longHex = regexp.MustCompile(`[0-9a-f]{32,}`)

// what writes an audit entry's text as the console writes a module's
// text, with a long hexadecimal value shortened (its whole value in its
// title, with a copy button).
func what(s string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range longHex.FindAllStringIndex(s, -1) {
		b.WriteString(string(console.Text(s[last:m[0]])))
		b.WriteString(string(console.Short(s[m[0]:m[1]])))
		last = m[1]
	}
	b.WriteString(string(console.Text(s[last:])))
	return template.HTML(b.String())
}
