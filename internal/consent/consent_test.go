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

	"github.com/transparency-dev/merkle/rfc6962"

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
			d := Evaluate(rules, counts, tc.req, now)
			if d.Action != tc.action || d.Rule != tc.rule {
				t.Fatalf("decision %s by rule %d, want %s by rule %d", d.Action, d.Rule, tc.action, tc.rule)
			}
			// The ledger, shown only the proof, decides the same.
			salted, roots := seal(rules)
			p, _ := Prove(salted, counts, tc.req, now)
			got, err := Decide(roots, counts, p, tc.req, now)
			if err != nil || got != d {
				t.Fatalf("the ledger decided %+v (%v) from the proof, the policy %+v", got, err, d)
			}
		})
	}
	// The window's bounds: NotBefore inclusive, NotAfter exclusive.
	w := []Rule{{Event: EventUse, NotBefore: 10, NotAfter: 20, Action: ActAllow}}
	salted, roots := seal(w)
	for at, want := range map[int64]string{9: ActDeny, 10: ActAllow, 19: ActAllow, 20: ActDeny} {
		if d := Evaluate(w, []uint32{0}, Request{Event: EventUse}, at); d.Action != want {
			t.Errorf("at %d: %s, want %s", at, d.Action, want)
		}
		p, _ := Prove(salted, []uint32{0}, Request{Event: EventUse}, at)
		if d, err := Decide(roots, []uint32{0}, p, Request{Event: EventUse}, at); err != nil || d.Action != want {
			t.Errorf("at %d: the ledger decided %s (%v), want %s", at, d.Action, err, want)
		}
	}
}

// seal salts rules (deterministically) and returns them with their roots.
func seal(rules []Rule) ([]SaltedRule, [][]byte) {
	var salted []SaltedRule
	var roots [][]byte
	for i, r := range rules {
		salt := bytes.Repeat([]byte{byte(i + 1)}, MaxSalt)
		salted = append(salted, SaltedRule{Rule: r, Salt: salt})
		roots = append(roots, r.Root(salt))
	}
	return salted, roots
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

// credit is terms()'s use for credit checking: its rule 0 decides.
func credit() *Use {
	u, _ := terms().Use(Request{Event: EventUse, Purpose: "dpv:CreditChecking"}, []uint32{0}, nil, 0)
	return u
}

func first[T any](v T, _ Decision) T { return v }

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
		{"a short fingerprint", func() ledger.Msg { c := terms().Create(); c.Items[0] = c.Items[0][:8]; return c }, "a fingerprint or a rule's root is 32 bytes"},
		{"no rules", func() ledger.Msg { c := terms().Create(); c.Rules = nil; return c }, "1 to 32 rules"},
		{"a short rule root", func() ledger.Msg { c := terms().Create(); c.Rules[0] = c.Rules[0][:31]; return c }, "is 32 bytes"},
		{"a use", func() ledger.Msg {
			return credit()
		}, ""},
		{"a use of event transfer", func() ledger.Msg {
			u, _ := terms().Use(Request{Event: EventTransfer}, []uint32{0}, nil, 0)
			return u
		}, "a transfer is its own message"},
		{"items out of order", func() ledger.Msg {
			u, _ := terms().Use(Request{Event: EventUse}, []uint32{1, 0}, nil, 0)
			return u
		}, "not distinct and in order"},
		{"an opened modify action without a method", func() ledger.Msg {
			u := credit()
			u.Proof.Match[SlotAction].Action.Action = ActModify
			return u
		}, "names a method"},
		{"an opened deny action with an obligation", func() ledger.Msg {
			u := credit()
			u.Proof.Match[SlotAction].Action = &Act{Action: ActDeny, Notify: true}
			return u
		}, "no obligations"},
		{"an opening that carries another slot's value", func() ledger.Msg {
			u := credit()
			u.Proof.Match[SlotEvent].Count = 3
			return u
		}, "carries a value of another slot"},
		{"the deciding rule's slots out of order", func() ledger.Msg {
			u := credit()
			u.Proof.Match[0], u.Proof.Match[1] = u.Proof.Match[1], u.Proof.Match[0]
			return u
		}, "in order"},
		{"a deciding rule's set opened whole", func() ledger.Msg {
			u := credit()
			u.Proof.Match[SlotPlace].Entries = append(u.Proof.Match[SlotPlace].Entries, u.Proof.Match[SlotPlace].Entries[0])
			return u
		}, "opens 1 entries"},
		{"a miss without its path", func() ledger.Msg {
			u, _ := terms().Use(Request{Event: EventUse, Purpose: "dpv:Marketing"}, []uint32{0}, nil, 0)
			u.Proof.Misses[0].Path = nil
			return u
		}, "carries its path"},
		{"a set shown not to apply by one entry", func() ledger.Msg {
			u, _ := terms().Use(Request{Event: EventUse, Purpose: "dpv:Marketing"}, []uint32{0}, nil, 0)
			u.Proof.Misses[0].Entries = u.Proof.Misses[0].Entries[:1]
			return u
		}, "opens 16 entries"},
		{"a transfer whose child names DIDs", func() ledger.Msg {
			tm := terms()
			ch, _ := tm.Derive([]uint32{0}, Actor{DID: "did:agora:p"}, tm.Rules[:1], 0, bytes.NewReader(bytes.Repeat([]byte{9}, 1024)))
			tr, _ := tm.Transfer(Request{}, []uint32{0}, ch, nil, 0)
			tr.Child.SubjectDID = &tm.Subject
			return tr
		}, "names no DIDs"},
		{"a transfer to another processor than the child's controller", func() ledger.Msg {
			tm := terms()
			ch, _ := tm.Derive([]uint32{0}, Actor{DID: "did:agora:p"}, tm.Rules[:1], 0, bytes.NewReader(bytes.Repeat([]byte{9}, 1024)))
			tr, _ := tm.Transfer(Request{}, []uint32{0}, ch, nil, 0)
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
// only canonical encodings of valid messages, and that the check of a
// valid use's proof never panics.
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
		{"use", credit()},
		{"use", first(tm.Use(Request{Event: EventUse, Purpose: "dpv:Marketing"}, []uint32{0}, nil, 0))},
		{"transfer", first(tm.Transfer(Request{Purpose: "p"}, []uint32{0}, ch, nil, 0))},
		{"revoke", tm.Revoke()},
	} {
		b, err := tx.Marshal(m.msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m.typ, b)
	}
	roots := tm.Create().Rules
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		// A valid use's proof, whatever it opens, is checked without a
		// panic: the ledger runs Decide on what any controller sends.
		var u *Use
		switch m := ledgertest.Decoded(t, Module{}, typ, body).(type) {
		case *Use:
			u = m
		case *Transfer:
			u = &m.Use
		default:
			return
		}
		Decide(roots, make([]uint32, len(roots)), &u.Proof, Request{Event: u.Event, Purpose: u.Purpose, Recipient: u.Recipient, Place: u.Place}, 1)
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
// items and policy, made with fresh salts, share no value on the ledger
// (the number of their rules aside).
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

func shapes(c *Create) [][]byte { return c.Rules }

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

// policy is the policy of TestDecideRefuses and TestBodyHidesUnopened.
var policy = []Rule{
	{Event: EventUse, Purposes: []string{"dpv:Marketing", "dpv:Advertising"}, Action: ActDeny},         // 0
	{Event: EventStore, Places: []string{"secret-place-1"}, Action: ActAllow, DeleteAfter: 86_400_000}, // 1
	{Event: EventUse, Purposes: []string{"dpv:CreditChecking", "secret-purpose-2"}, MaxCount: 1, Action: ActAllow, // 2
		Recipients: []string{"bank.example", "secret-recipient-2"}, NotAfter: 1 << 50, Notify: true},
	{Event: EventUse, Purposes: []string{"secret-purpose-3"}, Action: ActDeny},                          // 3
	{Event: EventTransfer, Recipients: []string{"secret-recipient-4"}, Action: ActDelay, Delay: 60_000}, // 4
}

// TestDecideRefuses acts out the threats to the hidden policy
// (docs/spec/consent.md, section 7): a proof that skips a rule, opens a
// slot that is not the rule's, claims a set excludes a value it holds,
// replays openings, or hides a deny is refused; the honest proof passes.
func TestDecideRefuses(t *testing.T) {
	const now = 1_000_000
	salted, roots := seal(policy)
	credit := Request{Event: EventUse, Purpose: "dpv:CreditChecking", Recipient: "bank.example"}
	marketing := Request{Event: EventUse, Purpose: "dpv:Marketing", Recipient: "bank.example"}
	honest := func(req Request) *Proof { p, _ := Prove(salted, nil, req, now); return p }
	tree0 := newTree(&salted[0].Rule, salted[0].Salt)
	// miss0 is an opening of rule 0's slot s, with its path, as a miss.
	miss0 := func(s uint32) Opening {
		o := tree0.scalar(s)
		if isSet(s) {
			o = Opening{Slot: s, Entries: tree0.sets[s]}
		}
		o.Path = path(tree0.slots, int(s))
		return o
	}
	for _, tc := range []struct {
		desc   string
		req    Request
		counts []uint32
		proof  func() *Proof
		want   error
		text   string
	}{
		{"the honest proof", credit, nil, func() *Proof { return honest(credit) }, nil, ""},
		{"omit a rule: the deny rule 0 left out", credit, nil, func() *Proof {
			p := honest(credit)
			p.Misses = p.Misses[1:]
			return p
		}, ledger.ErrUnauthorized, "not the rule's"},
		{"omit every rule: no rule shown to apply, none shown not to", credit, nil, func() *Proof { return &Proof{} },
			ledger.ErrInvalid, "none to apply"},
		{"open a wrong leaf: rule 2's recipient entry as its purpose", credit, nil, func() *Proof {
			p := honest(credit)
			p.Match[SlotPurpose].Entries = p.Match[SlotRecipient].Entries
			return p
		}, ledger.ErrUnauthorized, "not the rule's"},
		{"open a wrong leaf: rule 0's purposes as its places", credit, nil, func() *Proof {
			p := honest(credit)
			p.Misses[0].Slot = SlotPlace
			return p
		}, ledger.ErrUnauthorized, "not the rule's"},
		{"claim non-membership falsely: the asked purpose swapped for padding", marketing, nil, func() *Proof {
			p := honest(credit) // rule 2 decides, rule 0 shown not to apply
			o := &p.Misses[0]
			for i := range o.Entries {
				if o.Entries[i].Member.Value == "dpv:Marketing" {
					o.Entries[i] = Entry{Salt: bytes.Repeat([]byte{9}, SlotSalt)}
				}
			}
			return p
		}, ledger.ErrUnauthorized, "not the rule's"},
		{"claim non-membership falsely: the set opened without the asked purpose", marketing, nil, func() *Proof {
			p := honest(credit)
			o := &p.Misses[0]
			o.Entries = slices.DeleteFunc(o.Entries, func(e Entry) bool { return e.Member.Value == "dpv:Marketing" })
			return p
		}, ledger.ErrInvalid, "opens 16 entries"},
		{"claim a rule applies that does not: another purpose's entry", Request{Event: EventUse, Purpose: "secret-purpose-2", Recipient: "bank.example"}, nil,
			func() *Proof { return honest(credit) }, ledger.ErrInvalid, `its purpose entry is "dpv:CreditChecking"`},
		{"replay an opening: rule 0's miss as rule 1's", credit, nil, func() *Proof {
			p := honest(credit)
			p.Misses[1] = p.Misses[0]
			return p
		}, ledger.ErrUnauthorized, "rule 1: the opened purpose is not the rule's"},
		{"replay an opening: a proof made before rule 2's count was spent", credit, []uint32{0, 0, 1, 0, 0},
			func() *Proof { return honest(credit) }, ledger.ErrInvalid, "its 1 uses are spent"},
		{"replay an opening: another contract's proof of the same policy", credit, nil, func() *Proof {
			other := slices.Clone(salted)
			for i := range other {
				other[i].Salt = bytes.Repeat([]byte{byte(100 + i)}, MaxSalt)
			}
			p, _ := Prove(other, nil, credit, now)
			return p
		}, ledger.ErrUnauthorized, "not the rule's"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			counts := make([]uint32, len(policy))
			copy(counts, tc.counts)
			p := tc.proof()
			err := p.validate()
			if err == nil {
				_, err = Decide(roots, counts, p, tc.req, now)
			}
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != nil && (!errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text)):
				t.Fatalf("error %v, want %v with %q", err, tc.want, tc.text)
			}
		})
	}
	// Hide a deny: rule 0 denies marketing, and no slot of it shows that
	// it does not apply, so no proof of another decision passes.
	for s := uint32(0); s < Slots; s++ {
		p := honest(credit)
		p.Misses[0] = miss0(s) // its recipients and places are "any": they let it apply too
		_, err := Decide(roots, make([]uint32, len(policy)), p, marketing, now)
		if !errors.Is(err, ledger.ErrInvalid) || !strings.Contains(err.Error(), "rule 0: its opened "+SlotNames[s]+" does not show") {
			t.Errorf("rule 0's %s as a miss for marketing: %v", SlotNames[s], err)
		}
	}
	if d, err := Decide(roots, make([]uint32, len(policy)), honest(marketing), marketing, now); err != nil || d.Action != ActDeny || d.Rule != 0 {
		t.Errorf("marketing: %+v %v, want a deny by rule 0", d, err)
	}
}

// TestBodyHidesUnopened: a use's body, and the contract's creation, hold
// none of the policy's contents but those the decision needs: of the
// deciding rule the asked purpose and recipient, not its other ones; of
// the rules before it one slot each; of the rules after it nothing; and no
// rule's salt.
func TestBodyHidesUnopened(t *testing.T) {
	tm := terms()
	tm.Rules = nil
	for _, r := range policy {
		tm.Rules = append(tm.Rules, SaltedRule{Rule: r})
	}
	if err := tm.Seal(bytes.NewReader(bytes.Repeat([]byte{5}, 4096))); err != nil {
		t.Fatal(err)
	}
	create, err := tx.Marshal(tm.Create())
	if err != nil {
		t.Fatal(err)
	}
	u, d := tm.Use(Request{Event: EventUse, Purpose: "dpv:CreditChecking", Recipient: "bank.example"}, []uint32{0}, nil, 1_000_000)
	if d.Rule != 2 {
		t.Fatalf("rule %d decided, want 2", d.Rule)
	}
	use, err := tx.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"dpv:Marketing", "dpv:CreditChecking", "secret", "bank.example", "store"} {
		if bytes.Contains(create, []byte(s)) {
			t.Errorf("the contract's creation shows %q", s)
		}
	}
	for _, s := range []string{"secret-place-1", "secret-purpose-2", "secret-recipient-2", "secret-purpose-3", "secret-recipient-4", "transfer"} {
		if bytes.Contains(use, []byte(s)) {
			t.Errorf("the use shows %q, which its decision does not need", s)
		}
	}
	for i, r := range tm.Rules {
		if bytes.Contains(use, r.Salt) {
			t.Errorf("the use shows rule %d's salt", i)
		}
	}
	// What it shows: rule 0's purposes (whole: the asked one is not among
	// them), rule 1's event, rule 2's asked purpose and recipient.
	for _, s := range []string{"dpv:Marketing", "dpv:Advertising", EventStore, "dpv:CreditChecking", "bank.example"} {
		if !bytes.Contains(use, []byte(s)) {
			t.Errorf("the use does not show %q", s)
		}
	}
}

// BenchmarkCheck is the ledger's work on a use's policy, the consent-use
// scenario's (internal/bench): decode the body, validate it, and check its
// proof (the deny rule shown not to apply by its 16 purpose entries, the
// allow rule's seven slots opened) against the roots.
//
//	go test ./internal/consent -run '^$' -bench Check
func BenchmarkCheck(b *testing.B) {
	tm := terms()
	tm.Rules = []SaltedRule{
		{Rule: Rule{Event: EventUse, Purposes: []string{"dpv:Marketing"}, Action: ActDeny}},
		{Rule: Rule{Event: EventUse, Purposes: []string{"dpv:CreditChecking"}, Action: ActAllow}},
	}
	if err := tm.Seal(bytes.NewReader(bytes.Repeat([]byte{4}, 1024))); err != nil {
		b.Fatal(err)
	}
	roots := tm.Create().Rules
	u, _ := tm.Use(Request{Event: EventUse, Purpose: "dpv:CreditChecking"}, []uint32{0}, nil, 0)
	body, err := tx.Marshal(u)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(body)), "body-bytes")
	counts := make([]uint32, len(roots))
	for b.Loop() {
		m, err := Module{}.Decode("use", body)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Validate(); err != nil {
			b.Fatal(err)
		}
		u := m.(*Use)
		if d, err := Decide(roots, counts, &u.Proof, Request{Event: u.Event, Purpose: u.Purpose}, 0); err != nil || d.Action != ActAllow {
			b.Fatal(d, err)
		}
	}
}

// TestHasher: the tree hasher is RFC 6962's.
func TestHasher(t *testing.T) {
	std := rfc6962.DefaultHasher
	for _, n := range []int{0, 31, 32, 33} {
		a, b := bytes.Repeat([]byte{1}, n), bytes.Repeat([]byte{2}, n)
		if !bytes.Equal(hasher.HashLeaf(a), std.HashLeaf(a)) || !bytes.Equal(hasher.HashChildren(a, b), std.HashChildren(a, b)) {
			t.Errorf("%d bytes: not RFC 6962's hashes", n)
		}
	}
	if !bytes.Equal(hasher.EmptyRoot(), std.EmptyRoot()) || hasher.Size() != std.Size() {
		t.Error("not RFC 6962's empty root or size")
	}
}
