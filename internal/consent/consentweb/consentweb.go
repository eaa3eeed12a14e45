// Package consentweb is the consent module's part of the console: a
// data-usage contract's page (DTM-001), written for its data subject. It
// shows what the ledger holds and no more: the contract's status, the
// parties' pairwise DIDs (which signed it), its policy's shape (which
// events each rule covers, which kinds of conditions it sets, what it
// decides), the contracts derived from it and its parent, and the audit:
// every use the controller asked for, with the ledger's decision. The
// data items and the rules' values are salted fingerprints on the ledger,
// and the page says so. Each fact is checked in the browser.
package consentweb

import (
	"bytes"
	"embed"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/agora-ledger/agora/internal/api/wire"
	"github.com/agora-ledger/agora/internal/consent"
	"github.com/agora-ledger/agora/internal/console"
)

//go:embed templates
var templates embed.FS

var contractPage = console.Parse(templates, "templates/contract.html")

// Section is the consent module's console section.
func Section() console.Section {
	return console.Section{
		Pages:   []console.Page{{Pattern: "GET /consent/{id}", Render: contractView}},
		Resolve: resolve,
		Glossary: []console.Term{
			{Word: "Data-usage contract", Meaning: "A data subject's consent to a controller's use of some of their personal data, under rules the ledger enforces: before each use the controller asks the ledger, which decides and keeps a record the subject can audit. The ledger holds salted fingerprints of the data and the rules, never the data."},
			{Word: "Data subject", Meaning: "The person the personal data is about, who gives consent and may revoke it."},
			{Word: "Controller", Meaning: "The organisation that decides how the personal data is used, such as a bank; it asks the ledger before each use."},
			{Word: "Processor", Meaning: "An organisation the controller passes the data to, such as a scoring firm; it receives a derived contract, bound to and limited by the controller's."},
			{Word: "Purpose", Meaning: "What a use of personal data is for, such as credit checking or marketing, in the terms of the W3C Data Privacy Vocabulary (dpv:CreditChecking)."},
			{Word: "Revocation", Meaning: "The data subject withdrawing consent: every later use of the contract, and of every contract derived from it, is refused, and the attempt is recorded."},
			{Word: "Pairwise DID", Meaning: "An identity made for one relationship alone, so that two contracts of one person share nothing that links them."},
		},
	}
}

// resolve finds a contract by its id.
func resolve(l console.Ledger, q string) string {
	id, err := consent.ParseID(strings.ToLower(strings.TrimSpace(q)))
	if err != nil {
		return ""
	}
	if _, err := l.Query("/v1/consent/contracts/" + id); err != nil {
		return ""
	}
	return "/consent/" + id
}

// party is a pairwise DID the page names, with where it comes from.
type party struct {
	DID string
	// Via is how the ledger knows it ("signed the contract's creation").
	Via string
}

// rule is a rule of the policy as the ledger shows it: its shape.
type rule struct {
	N          int
	Event      string
	Conditions string
	Decides    string
	Permitted  uint32
	Permits    bool
}

// use is a logged use in words.
type use struct {
	consent.Record
	What     string
	Decision string
	Class    string // "problem" for a refused or denied use
	Asker    string // the DID whose key asked
	RuleN    int    // the rule that decided, from 1; 0 for none
}

func contractView(l console.Ledger, r *http.Request) (*console.View, error) {
	id, err := consent.ParseID(r.PathValue("id"))
	if err != nil {
		return nil, &wire.Error{Status: http.StatusBadRequest, Code: "invalid", Message: err.Error(),
			Hint: "a contract's id is 64 hexadecimal digits, as 'agora consent create' printed it"}
	}
	from := uint64(1)
	if s := r.URL.Query().Get("from"); s != "" {
		if from, err = strconv.ParseUint(s, 10, 64); err != nil || from == 0 {
			return nil, &wire.Error{Status: http.StatusBadRequest, Code: "invalid", Message: fmt.Sprintf("from=%q is not a use's number", s)}
		}
	}
	path := "/v1/consent/contracts/" + id
	c, cc, err := console.AskFor[consent.Contract](l, path, "this contract: its status, its parties' fingerprints, its policy's shape and its derived contracts")
	if err != nil {
		return nil, err
	}
	usesPath := path + "/uses"
	if from != 1 {
		usesPath += "?from=" + strconv.FormatUint(from, 10)
	}
	p, uc, err := console.AskFor[consent.Page](l, usesPath, "its audit: every use asked for on this page, and the ledger's decision")
	if err != nil {
		return nil, err
	}
	d := struct {
		Contract          consent.Contract
		Status, StatusWhy string
		Subject           *party
		Controller        *party
		Rules             []rule
		Uses              []use
		From, Last, Next  uint64
		Parent            *consent.Contract
		Checks            []console.Check
	}{Contract: c, From: from, Next: p.Next, Checks: []console.Check{cc, uc}}
	d.Last = from + uint64(len(p.Uses)) - 1
	for i, s := range c.Rules {
		d.Rules = append(d.Rules, shapeInWords(i, s, c.Counts))
	}
	for _, u := range p.Uses {
		d.Uses = append(d.Uses, useInWords(u))
	}
	if c.Parent != "" {
		pc, pcc, err := console.AskFor[consent.Contract](l, "/v1/consent/contracts/"+c.Parent, "the parent contract's status")
		if err != nil {
			return nil, err
		}
		d.Parent = &pc
		d.Checks = append(d.Checks, pcc)
	}
	var now int64
	if inf, err := l.Info(); err == nil {
		now = inf.Time.UnixMilli()
	}
	d.Status, d.StatusWhy = status(&c, d.Parent, now)
	if tc, subject, controller, ok := parties(l, &c); ok {
		d.Subject, d.Controller = subject, controller
		d.Checks = append(d.Checks, tc)
	}
	return &console.View{Title: "Data-usage contract " + id[:8] + "…", Template: contractPage, Data: d}, nil
}

// status says in one word whether the contract takes uses, and why not.
// now is the newest block's time: the ledger's clock, as it judges expiry.
func status(c, parent *consent.Contract, now int64) (string, string) {
	switch {
	case c.Revoked != 0 && c.RevokedVia != "":
		return "revoked", "the data subject revoked the contract it was derived from"
	case c.Revoked != 0:
		return "revoked", "the data subject revoked it"
	case parent != nil && parent.Revoked != 0:
		return "revoked", "the data subject revoked the contract it was derived from"
	case c.Expires != 0 && now >= c.Expires:
		return "expired", "its consent ran out"
	case c.Active != 0 && now < c.Active:
		return "not yet active", "the transfer that made it was delayed"
	}
	return "active", ""
}

// parties reads the transaction that created the contract: a creation
// names both pairwise DIDs, a transfer the processor's (this contract's
// controller). Each is shown only if it matches the contract's
// fingerprint; the check is the transaction's inclusion in the log with
// each shown DID at its place in the proven body.
func parties(l console.Ledger, c *consent.Contract) (console.Check, *party, *party, bool) {
	ans, err := l.Tx(c.TxID.String())
	if err != nil {
		return console.Check{}, nil, nil, false
	}
	t, ok := ans.(*wire.TxView)
	if !ok || t.TxCommit == nil || t.Module != consent.Name {
		return console.Check{}, nil, nil, false
	}
	body, err := hex.DecodeString(t.Body)
	if err != nil {
		return console.Check{}, nil, nil, false
	}
	msg, err := consent.Module{}.Decode(t.Type, body)
	if err != nil {
		return console.Check{}, nil, nil, false
	}
	// Each DID the page shows is claimed at its place in the body, so
	// the browser checks it there (internal/console/check).
	fields := map[string]string{}
	match := func(a *consent.Actor, fp []byte, ptr, via string) *party {
		if a == nil || !bytes.Equal(a.Fingerprint(), fp) {
			return nil
		}
		fields[ptr] = a.DID
		return &party{DID: a.DID, Via: via}
	}
	var subject, controller *party
	switch m := msg.(type) {
	case *consent.Create:
		subject = match(m.SubjectDID, c.Subject, "/subject_did/did", "signed the contract's creation")
		controller = match(m.ControllerDID, c.Controller, "/controller_did/did", "signed the contract's creation")
	case *consent.Transfer:
		controller = match(&m.Processor, c.Controller, "/processor/did", "signed the transfer that made this contract")
	}
	chk := console.TxCheck(wire.TxClaim{Hash: t.Hash.String(), Height: t.Height, Index: t.Index, Code: t.Result.Code,
		Module: t.Module, Type: t.Type, Fields: fields})
	chk.What = "that the transaction that made this contract, signed by its parties and naming the DIDs shown, is in the ledger"
	return chk, subject, controller, true
}

var events = map[string]string{
	consent.EventUse:      "a use",
	consent.EventStore:    "storing the data",
	consent.EventTransfer: "a transfer to a processor",
	consent.EventDelete:   "deleting the data",
}

var conditions = map[string]string{
	consent.CondPurpose:   "what it is for",
	consent.CondWindow:    "when",
	consent.CondCount:     "how many times",
	consent.CondRecipient: "to whom",
	consent.CondPlace:     "where",
}

var actions = map[string]string{
	consent.ActAllow:  "allows it",
	consent.ActDeny:   "refuses it",
	consent.ActModify: "allows it only on modified data (anonymised or aggregated)",
	consent.ActDelay:  "allows it after a delay",
}

func inWords(m map[string]string, k string) string {
	if s, ok := m[k]; ok {
		return s
	}
	return k
}

func shapeInWords(i int, s consent.Shape, counts []uint32) rule {
	r := rule{N: i + 1, Event: inWords(events, s.Event), Decides: inWords(actions, s.Action), Permits: s.Action != consent.ActDeny}
	var cs []string
	for _, k := range s.Conditions {
		cs = append(cs, inWords(conditions, k))
	}
	r.Conditions = strings.Join(cs, ", ")
	if i < len(counts) {
		r.Permitted = counts[i]
	}
	return r
}

func useInWords(u consent.Record) use {
	w := use{Record: u, What: inWords(events, u.Event), RuleN: int(u.Rule) + 1}
	w.Asker, _, _ = strings.Cut(u.Actor, "#")
	switch u.Decision {
	case consent.ActAllow:
		w.Decision = "allowed"
	case consent.ActDeny:
		w.Decision, w.Class = "denied", "problem"
	case consent.ActModify:
		w.Decision = "allowed only on modified data"
		if u.Method != "" {
			w.Decision += " (" + u.Method + "d)"
		}
	case consent.ActDelay:
		w.Decision = "delayed"
	case consent.DecRefused:
		w.Decision, w.Class = "refused", "problem"
	default:
		w.Decision = u.Decision
	}
	return w
}
