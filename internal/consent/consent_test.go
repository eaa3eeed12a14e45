package consent

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestEvaluate covers each condition kind, the first-match order and the
// default (docs/spec/consent.md, "Evaluation").
func TestEvaluate(t *testing.T) {
	const now = 1_000_000
	rules := []Rule{
		{Event: EventUse, Purposes: []string{"p1"}, MaxCount: 2, Action: ActAllow, Notify: true},  // 0
		{Event: EventUse, Purposes: []string{"p1", "p2"}, Action: ActModify, Method: "aggregate"}, // 1
		{Event: EventUse, NotBefore: now + 1, Action: ActAllow},                                   // 2
		{Event: EventUse, NotAfter: now, Action: ActAllow},                                        // 3
		{Event: EventUse, Purposes: []string{"p3"}, Action: ActDelay, Delay: 60_000},              // 4
		{Event: EventStore, Places: []string{"EU"}, Action: ActAllow, DeleteAfter: 1000},          // 5
		{Event: EventTransfer, Recipients: []string{"r.example"}, Action: ActAllow},               // 6
		{Event: EventDelete, Action: ActAllow},                                                    // 7
	}
	present := func(event string) []Presented {
		var out []Presented
		for i, r := range rules {
			if r.Event == event {
				out = append(out, Presented{Index: uint32(i), Rule: r})
			}
		}
		return out
	}
	for _, tc := range []struct {
		desc   string
		req    Request
		counts []uint32
		action string
		rule   int
	}{
		{"purpose matches the first rule", Request{Event: EventUse, Purpose: "p1"}, nil, ActAllow, 0},
		{"count exhausted falls to the next rule", Request{Event: EventUse, Purpose: "p1"}, []uint32{2}, ActModify, 1},
		{"second purpose of a list", Request{Event: EventUse, Purpose: "p2"}, nil, ActModify, 1},
		{"window not yet open, window closed: denied", Request{Event: EventUse, Purpose: "x"}, nil, ActDeny, -1},
		{"delay", Request{Event: EventUse, Purpose: "p3"}, nil, ActDelay, 4},
		{"place in the list", Request{Event: EventStore, Place: "EU"}, nil, ActAllow, 5},
		{"place outside", Request{Event: EventStore, Place: "US"}, nil, ActDeny, -1},
		{"no place given", Request{Event: EventStore}, nil, ActDeny, -1},
		{"recipient", Request{Event: EventTransfer, Recipient: "r.example"}, nil, ActAllow, 6},
		{"other recipient", Request{Event: EventTransfer, Recipient: "ads.example"}, nil, ActDeny, -1},
		{"unconditional delete", Request{Event: EventDelete}, nil, ActAllow, 7},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			counts := make([]uint32, len(rules))
			copy(counts, tc.counts)
			d := Evaluate(present(tc.req.Event), counts, tc.req, now)
			if d.Action != tc.action || d.Rule != tc.rule {
				t.Fatalf("decision %s by rule %d, want %s by rule %d", d.Action, d.Rule, tc.action, tc.rule)
			}
		})
	}
	// The window's bounds: NotBefore inclusive, NotAfter exclusive.
	w := []Presented{{Index: 0, Rule: Rule{Event: EventUse, NotBefore: 10, NotAfter: 20, Action: ActAllow}}}
	for at, want := range map[int64]string{9: ActDeny, 10: ActAllow, 19: ActAllow, 20: ActDeny} {
		if d := Evaluate(w, []uint32{0}, Request{Event: EventUse}, at); d.Action != want {
			t.Errorf("at %d: %s, want %s", at, d.Action, want)
		}
	}
}

func terms() *Terms {
	t := &Terms{
		Subject:    Actor{DID: "did:agora:subject"},
		Controller: Actor{DID: "did:agora:controller"},
		Items:      []SaltedItem{{Item: Item{Type: "dpv-pd:EmailAddress", Value: "a@example.org"}}},
		Rules: []SaltedRule{
			{Rule: Rule{Event: EventUse, Purposes: []string{"dpv:CreditChecking"}, Action: ActAllow}},
			{Rule: Rule{Event: EventStore, Places: []string{"EU"}, Action: ActAllow, DeleteAfter: 86_400_000}},
			{Rule: Rule{Event: EventUse, Purposes: []string{"dpv:Marketing"}, Action: ActDeny}},
		},
	}
	if err := t.Seal(bytes.NewReader(bytes.Repeat([]byte{7}, 1024))); err != nil {
		panic(err)
	}
	return t
}

// TestValidate: static validation refuses malformed messages with
// ErrInvalid, before any state is read.
func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		desc string
		msg  func() ledger.Msg
		want string // "" valid
	}{
		{"a create", func() ledger.Msg { return terms().Create() }, ""},
		{"a create without the parties' DIDs", func() ledger.Msg { c := terms().Create(); c.SubjectDID = nil; return c }, "created by its subject and its controller"},
		{"a subject DID that is not the fingerprinted one", func() ledger.Msg {
			c := terms().Create()
			c.SubjectDID = &Actor{DID: "did:agora:other", Salt: c.SubjectDID.Salt}
			return c
		}, "do not match its fingerprint"},
		{"a short salt", func() ledger.Msg { c := terms().Create(); c.Nonce = c.Nonce[:8]; return c }, "a salt is 16 to 32 bytes"},
		{"a short fingerprint", func() ledger.Msg { c := terms().Create(); c.Items[0] = c.Items[0][:8]; return c }, "a fingerprint is 32 bytes"},
		{"no rules", func() ledger.Msg { c := terms().Create(); c.Rules = nil; return c }, "1 to 32 rules"},
		{"a shape's conditions out of order", func() ledger.Msg {
			c := terms().Create()
			c.Rules[0].Conditions = []string{CondPlace, CondPurpose}
			return c
		}, "not distinct kinds"},
		{"a use", func() ledger.Msg {
			tm := terms()
			return tm.Use(Request{Event: EventUse, Purpose: "dpv:CreditChecking"}, []uint32{0})
		}, ""},
		{"a use of event transfer", func() ledger.Msg {
			tm := terms()
			return tm.Use(Request{Event: EventTransfer}, []uint32{0})
		}, "a transfer is its own message"},
		{"items out of order", func() ledger.Msg {
			return terms().Use(Request{Event: EventUse}, []uint32{1, 0})
		}, "not distinct and in order"},
		{"a presented modify rule without a method", func() ledger.Msg {
			u := terms().Use(Request{Event: EventUse}, []uint32{0})
			u.Rules[0].Rule.Action = ActModify
			return u
		}, "names a method"},
		{"a presented deny rule with an obligation", func() ledger.Msg {
			u := terms().Use(Request{Event: EventUse}, []uint32{0})
			u.Rules[1].Rule.Notify = true
			return u
		}, "no obligations"},
		{"a transfer whose child names DIDs", func() ledger.Msg {
			tm := terms()
			ch, _ := tm.Derive([]uint32{0}, Actor{DID: "did:agora:p"}, tm.Rules[:1], 0, bytes.NewReader(bytes.Repeat([]byte{9}, 1024)))
			tr := tm.Transfer(Request{}, []uint32{0}, ch)
			tr.Child.SubjectDID = &tm.Subject
			return tr
		}, "names no DIDs"},
		{"a transfer to another processor than the child's controller", func() ledger.Msg {
			tm := terms()
			ch, _ := tm.Derive([]uint32{0}, Actor{DID: "did:agora:p"}, tm.Rules[:1], 0, bytes.NewReader(bytes.Repeat([]byte{9}, 1024)))
			tr := tm.Transfer(Request{}, []uint32{0}, ch)
			tr.Processor.DID = "did:agora:q"
			return tr
		}, "do not match the child's controller"},
		{"a revoke with a bad id", func() ledger.Msg { return &Revoke{Contract: "ABC", Subject: terms().Subject} }, "64 lower-case hex"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			err := tc.msg().Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted; want %q", tc.want)
			case tc.want != "" && (!errors.Is(err, ledger.ErrInvalid) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v; want ErrInvalid with %q", err, tc.want)
			}
		})
	}
}

// FuzzDecode checks that every message decoder never panics and accepts
// only canonical encodings of valid messages.
func FuzzDecode(f *testing.F) {
	tm := terms()
	ch, err := tm.Derive([]uint32{0}, Actor{DID: "did:agora:p", Salt: bytes.Repeat([]byte{3}, 16)}, tm.Rules[:1], 0, bytes.NewReader(bytes.Repeat([]byte{9}, 1024)))
	if err != nil {
		f.Fatal(err)
	}
	for _, m := range []struct {
		typ string
		msg any
	}{
		{"create", tm.Create()},
		{"use", tm.Use(Request{Event: EventUse, Purpose: "dpv:CreditChecking"}, []uint32{0})},
		{"transfer", tm.Transfer(Request{Purpose: "p"}, []uint32{0}, ch)},
		{"revoke", tm.Revoke()},
	} {
		b, err := tx.Marshal(m.msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m.typ, b)
	}
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		ledgertest.Decoded(t, Module{}, typ, body)
	})
}

// TestISO27560 holds the exported consent record to the fields of the
// DPV guide's "Consent Record with only the required fields" (example
// 39 of testdata/iso27560, the official vectors): every one is there but
// those docs/spec/consent.md lists as not carried.
func TestISO27560(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "iso27560", "dpv-27560-guide-examples.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Examples []struct {
			Number int `json:"number"`
			Tabs   []struct {
				Content string `json:"content"`
			} `json:"tabs"`
		} `json:"examples"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range doc.Examples {
		if e.Number == 39 {
			// The example is JSON-LD as displayed, not valid JSON: its
			// top-level keys are those indented by four spaces.
			for _, m := range regexp.MustCompile(`(?m)^    "([^"]+)":`).FindAllStringSubmatch(e.Tabs[0].Content, -1) {
				if !slices.Contains(want, m[1]) {
					want = append(want, m[1])
				}
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("no example 39")
	}
	notCarried := []string{"dpv:hasApplicableLaw", "dpv:hasJurisdiction", "dpv:hasNotice"}
	tm := terms()
	c := &Contract{ID: tm.ID(), Created: 1_735_689_600_000, Revoked: 1_735_776_000_000}
	rec := ISO27560(tm, c, []string{"did:agora:processor"})
	for _, k := range want {
		if _, ok := rec[k]; !ok && !slices.Contains(notCarried, k) {
			t.Errorf("the record has no %s", k)
		}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"dpv:ConsentWithdrawn"`, `"dpv:hasPurpose":["dpv:CreditChecking"]`, `"dpv:hasDuration":"PT86400S"`,
		`"dpv:hasPersonalData":["dpv-pd:EmailAddress"]`, RecordProfile} {
		if !strings.Contains(string(b), s) {
			t.Errorf("the record lacks %s:\n%s", s, b)
		}
	}
	for _, s := range []string{"a@example.org", "dpv:Marketing"} { // an item's value, a deny rule
		if strings.Contains(string(b), s) {
			t.Errorf("the record shows %s", s)
		}
	}
}

// TestFingerprintsUnlinkable: two contracts of one subject over the same
// items, made with fresh salts, share no value on the ledger but the
// policy's shape.
func TestFingerprintsUnlinkable(t *testing.T) {
	a := terms()
	b := terms()
	b.Nonce, b.Subject.Salt, b.Controller.Salt = nil, nil, nil
	for i := range b.Items {
		b.Items[i].Salt = nil
	}
	for i := range b.Rules {
		b.Rules[i].Salt = nil
	}
	if err := b.Seal(bytes.NewReader(bytes.Repeat([]byte{8}, 1024))); err != nil {
		t.Fatal(err)
	}
	ca, cb := a.Create(), b.Create()
	ca.SubjectDID, ca.ControllerDID, cb.SubjectDID, cb.ControllerDID = nil, nil, nil, nil
	seen := map[string]bool{}
	for _, f := range append(append([][]byte{ca.Nonce, ca.Subject, ca.Controller}, ca.Items...), shapes(ca)...) {
		seen[string(f)] = true
	}
	for _, f := range append(append([][]byte{cb.Nonce, cb.Subject, cb.Controller}, cb.Items...), shapes(cb)...) {
		if seen[string(f)] {
			t.Fatalf("the two contracts share %x", f)
		}
	}
}

func shapes(c *Create) [][]byte {
	var out [][]byte
	for _, s := range c.Rules {
		out = append(out, s.Fingerprint)
	}
	return out
}

// TestThreatTable checks that each row of docs/spec/consent.md's threat
// table names a test that exists: a test function of this package, or a
// transcript (testdata/*.txt, testdata/script/*.txtar) holding the text
// after its name.
func TestThreatTable(t *testing.T) {
	spec, err := os.ReadFile(filepath.Join("..", "..", "docs", "spec", "consent.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(spec), "## 7. Threats")
	if !ok {
		t.Fatal("no threat table")
	}
	var src []byte
	files, _ := filepath.Glob("*_test.go")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	rows := 0
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 6 || strings.HasPrefix(strings.TrimSpace(cells[1]), "threat") || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		rows++
		ref := strings.Trim(strings.TrimSpace(cells[4]), "`")
		if file, text, ok := strings.Cut(ref, ": "); ok {
			path := filepath.Join("testdata", file)
			if strings.HasSuffix(file, ".txtar") {
				path = filepath.Join("testdata", "script", file)
			}
			b, err := os.ReadFile(path)
			if err != nil || !strings.Contains(string(b), text) {
				t.Errorf("threat %q: %s holds no %q (%v)", strings.TrimSpace(cells[1]), path, text, err)
			}
		} else if !regexp.MustCompile(`(?m)^func ` + regexp.QuoteMeta(ref) + `\(`).Match(src) {
			t.Errorf("threat %q: no test %s", strings.TrimSpace(cells[1]), ref)
		}
	}
	if rows < 10 {
		t.Fatalf("only %d rows in the threat table", rows)
	}
}

// TestODRL renders a policy with every kind of condition, action and
// obligation as an ODRL 2.2 Agreement, and checks that each ODRL term it
// uses (keys, actions, left operands, operators, types) is one the ODRL
// context defines.
func TestODRL(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "odrl", "odrl.jsonld"))
	if err != nil {
		t.Fatal(err)
	}
	var ctx struct {
		Context map[string]any `json:"@context"`
	}
	if err := json.Unmarshal(raw, &ctx); err != nil {
		t.Fatal(err)
	}
	tm := terms()
	tm.Rules = append(tm.Rules,
		SaltedRule{Rule: Rule{Event: EventUse, Purposes: []string{"p"}, NotBefore: 1, NotAfter: 2, MaxCount: 3, Action: ActModify, Method: "anonymise", Notify: true}},
		SaltedRule{Rule: Rule{Event: EventTransfer, Recipients: []string{"r"}, Action: ActDelay, Delay: 1500}},
		SaltedRule{Rule: Rule{Event: EventDelete, Action: ActAllow}})
	p := ODRL(tm)
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	json.Unmarshal(b, &doc)
	var walk func(v any, key string)
	used := map[string]bool{}
	walk = func(v any, key string) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if !strings.HasPrefix(k, "@") && !strings.HasPrefix(k, "agora:") {
					used[k] = true
				}
				if k != "@context" {
					walk(x, k)
				}
			}
		case []any:
			for _, x := range v {
				walk(x, key)
			}
		case string:
			if key == "action" || key == "leftOperand" || key == "operator" || key == "conflict" || (key == "@type" && !strings.HasPrefix(v, "xsd:")) {
				used[v] = true
			}
		}
	}
	walk(doc, "")
	for term := range used {
		if _, ok := ctx.Context[term]; !ok && term != "agora" && term != "xsd" {
			t.Errorf("%s is not an ODRL 2.2 term", term)
		}
	}
	for _, s := range []string{`"action":"anonymize"`, `"leftOperand":"delayPeriod"`, `"@value":"PT1.500S"`,
		`"leftOperand":"count","operator":"lt","rightOperand":3`, `"action":"inform"`, `"prohibition":[`, `"action":"archive"`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("the policy lacks %s:\n%s", s, b)
		}
	}
	if strings.Contains(string(b), "a@example.org") {
		t.Error("the policy shows an item's value")
	}
}

// TestGenesisRefused: a genesis section whose contracts or uses no
// transaction could have made is refused.
func TestGenesisRefused(t *testing.T) {
	c := terms().Create()
	good := Contract{ID: ContractID(c.Nonce), Subject: c.Subject, Controller: c.Controller, Items: c.Items, Rules: c.Rules,
		Counts: make([]uint32, len(c.Rules)), Uses: 1}
	for _, tc := range []struct {
		desc string
		g    func() Genesis
		want string
	}{
		{"a bad id", func() Genesis { b := good; b.ID = "x"; return Genesis{Contracts: []Contract{b}} }, "64 lower-case hex"},
		{"counts that are not the rules'", func() Genesis { b := good; b.Counts = nil; return Genesis{Contracts: []Contract{b}} }, "counts"},
		{"a short fingerprint", func() Genesis { b := good; b.Items = [][]byte{{1}}; return Genesis{Contracts: []Contract{b}} }, "32 bytes"},
		{"a use of no contract", func() Genesis { return Genesis{Uses: []Record{{Contract: good.ID, Seq: 1}}} }, "no contract"},
		{"a use beyond the count", func() Genesis {
			return Genesis{Contracts: []Contract{good}, Uses: []Record{{Contract: good.ID, Seq: 2}}}
		}, "uses 1 to 1"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			raw, err := json.Marshal(tc.g())
			if err != nil {
				t.Fatal(err)
			}
			e, err := ledger.NewExecutor(ledgertest.ChainID, Module{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.InitGenesis(ledgertest.Genesis(map[string]json.RawMessage{Name: raw})); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
