// Package govweb is the governance module's part of the console: the
// Board (who sits, since when), the Bylaws' thresholds in words, every
// change with its timeline, emergencies, petitions, reviews, bodies and
// documents; and the search for a change by its number or its title.
package govweb

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/api/wire"
	"github.com/agora-ledger/agora/internal/console"
	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
)

//go:embed templates
var templates embed.FS

var (
	overviewPage = console.ParseWith(funcs, templates, "templates/overview.html", "templates/parts.html")
	changePage   = console.ParseWith(funcs, templates, "templates/change.html", "templates/parts.html")
	recordPage   = console.ParseWith(funcs, templates, "templates/record.html", "templates/parts.html")
	bodyPage     = console.ParseWith(funcs, templates, "templates/body.html", "templates/parts.html")
)

var funcs = template.FuncMap{
	"words":  words,
	"kind":   kindWords,
	"fields": fields,
	"period": func(d gov.Duration) string { return console.InWords(time.Duration(d) * time.Millisecond) },
}

// kinds says what each kind of body is, in words.
var kinds = map[string]string{
	"resource-direct":   "a community of those who run the ledger",
	"resource-indirect": "a community of those the ledger serves",
	"role":              "the legal entity that operates the ledger",
	"secretariat":       "the Secretariat, which runs the process",
	"ombudsman":         "the Ombudsman",
	"external":          "an outside party",
}

// fields writes an action's body: its fields in name order, each value
// for a reader.
func fields(body any) string {
	m, ok := body.(map[string]any)
	if !ok {
		return console.Value(body)
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = strings.ReplaceAll(k, "_", " ") + ": " + console.Value(m[k])
	}
	return strings.Join(parts, "; ")
}

func kindWords(kind string) string {
	if w, ok := kinds[kind]; ok {
		return w
	}
	return kind
}

// Section is the governance module's console section.
func Section() console.Section {
	return console.Section{
		Nav: "Governance", Home: "/gov",
		Pages: []console.Page{
			{Pattern: "GET /gov", Render: overview},
			{Pattern: "GET /gov/changes/{id}", Render: change},
			{Pattern: "GET /gov/emergencies/{id}", Render: record("emergency", "Emergency action", "this emergency action")},
			{Pattern: "GET /gov/petitions/{id}", Render: record("petition", "Petition", "this petition")},
			{Pattern: "GET /gov/reviews/{id}", Render: record("review", "Independent review", "this review")},
			{Pattern: "GET /gov/bodies/{id}", Render: body},
		},
		Resolve:  resolve,
		Glossary: glossary,
	}
}

var glossary = []console.Term{
	{Word: "Board of Directors", Meaning: "The directors chosen by the stakeholder communities. Directors of the communities that run the ledger vote; those of users and governments sit without a vote."},
	{Word: "Change", Meaning: "A proposed change to the ledger's rules: drafted by a director, voted by the Board, open to public review, then ratified. The ledger itself carries it out once ratified."},
	{Word: "Public review", Meaning: "A period in which anyone may comment on a change the Board approved, and the communities may object; enough objections send it back to the Board."},
	{Word: "Emergency action", Meaning: "A change the designated officer makes at once, within narrow limits the Bylaws set, with minutes. It lapses unless it is verified afterwards."},
	{Word: "Petition", Meaning: "The communities' way to overrule the Board: reject a decision, remove a director or recall the whole Board, with enough communities in support."},
	{Word: "Independent review", Meaning: "A review by an independent panel, requested by an outside party, of whether a change followed the rules; a pending review stays the change."},
	{Word: "Bylaws", Meaning: "The founding rules of governance: the seats, the periods and the thresholds. Only a supermajority of the Board, and the communities, can change them."},
	{Word: "Body", Meaning: "A group that acts together: a stakeholder community, the Secretariat, the Ombudsman. A body acts when enough of its members sign."},
}

// statusWords says a change's status in words.
var statusWords = map[string]string{
	gov.StatusVoting:          "the Board is voting",
	gov.StatusApproved:        "approved by the Board; public review opens next",
	gov.StatusRejected:        "rejected by the Board",
	gov.StatusReview:          "open for public review",
	gov.StatusReconsideration: "sent back to the Board to be revised",
	gov.StatusRatified:        "ratified; the ledger carries it out at the deadline",
	gov.StatusStayed:          "stayed while an independent review is pending",
	gov.StatusExecuted:        "carried out by the ledger",
	gov.StatusFailed:          "ratified, but the ledger could not carry it out",
	gov.StatusVetoed:          "rejected by the communities",
	gov.StatusApproval:        "waiting for the communities' approval",
	gov.StatusNotApproved:     "not approved by the communities in time",
	gov.StatusWithdrawn:       "withdrawn by its drafter",
	gov.StatusCancelled:       "cancelled by the Board",
}

func words(status string) string {
	if w, ok := statusWords[status]; ok {
		return w
	}
	return strings.ReplaceAll(status, "-", " ")
}

var changeRE = regexp.MustCompile(`^(?i:change\s*#?|#)\s*(\d+)$`)

// resolve finds a change by "change 3" or "#3", or by words of its title.
func resolve(l console.Ledger, q string) string {
	if m := changeRE.FindStringSubmatch(strings.TrimSpace(q)); m != nil {
		return "/gov/changes/" + m[1]
	}
	raw, err := l.Query("/v1/gov/changes")
	if err != nil {
		return ""
	}
	var list []gov.Summary
	if err := json.Unmarshal(raw, &list); err != nil {
		return ""
	}
	q = strings.ToLower(q)
	for i := len(list) - 1; i >= 0; i-- { // the newest first
		if strings.Contains(strings.ToLower(list[i].Title), q) {
			return "/gov/changes/" + list[i].ID
		}
	}
	return ""
}

type seat struct {
	N      int
	Seat   gov.Seat
	Since  gov.Time
	Check  *console.Check
	Tenure uint64
}

type list struct {
	Items []gov.Summary
	Check console.Check
}

func overview(l console.Ledger, _ *http.Request) (*console.View, error) {
	d := struct {
		Board   []seat
		Voting  int
		Bylaws  gov.Bylaws
		Changes list
		Emerg   list
		Pets    list
		Reviews list
		Docs    list
		Bodies  []gov.Summary
		Checks  []console.Check
	}{}
	b, boardCheck, err := console.AskFor[gov.Board](l, "/v1/gov/board", "who sits on the Board")
	if err != nil {
		return nil, err
	}
	for i, s := range b.Seats {
		st := seat{N: i + 1, Seat: s, Tenure: s.Tenure}
		if s.Voting {
			d.Voting++
		}
		if s.Tenure != 0 {
			ten, c, err := console.AskFor[gov.Tenure](l, fmt.Sprintf("/v1/gov/tenures/%d", s.Tenure), fmt.Sprintf("since when seat %d's director sits", i+1))
			if err != nil {
				return nil, err
			}
			st.Since, st.Check = ten.From, &c
		}
		d.Board = append(d.Board, st)
	}
	var bylaws console.Check
	if d.Bylaws, bylaws, err = console.AskFor[gov.Bylaws](l, "/v1/gov/bylaws", "the Bylaws in force"); err != nil {
		return nil, err
	}
	d.Checks = append(d.Checks, boardCheck, bylaws)
	for _, x := range []struct {
		into       *list
		path, what string
	}{
		{&d.Changes, "/v1/gov/changes", "the list of changes"},
		{&d.Emerg, "/v1/gov/emergencies", "the list of emergency actions"},
		{&d.Pets, "/v1/gov/petitions", "the list of petitions"},
		{&d.Reviews, "/v1/gov/reviews", "the list of independent reviews"},
		{&d.Docs, "/v1/gov/documents", "the list of documents"},
	} {
		if x.into.Items, x.into.Check, err = console.AskFor[[]gov.Summary](l, x.path, x.what); err != nil {
			return nil, err
		}
		reverse(x.into.Items) // the newest first
	}
	raw, err := l.Query("/v1/gov/bodies")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &d.Bodies); err != nil {
		return nil, fmt.Errorf("govweb: bodies: %w", err)
	}
	return &console.View{Title: "Governance", Template: overviewPage, Data: d}, nil
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// changeView is a change as GET /v1/gov/changes/{id} answers it.
type changeView struct {
	ID            uint64              `json:"id"`
	Title         string              `json:"title"`
	Document      string              `json:"document"`
	Status        string              `json:"status"`
	Round         uint32              `json:"round"`
	Deadline      gov.Time            `json:"deadline"`
	Decided       gov.Time            `json:"decided"`
	Supermajority bool                `json:"supermajority"`
	Votes         []gov.Vote          `json:"votes"`
	Objections    []string            `json:"objections"`
	Comments      uint32              `json:"comments"`
	Timeline      []gov.Step          `json:"timeline"`
	Actions       []ledger.ActionJSON `json:"actions"`
	Failure       string              `json:"failure"`
}

func change(l console.Ledger, r *http.Request) (*console.View, error) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, badID(r.PathValue("id"))
	}
	c, changeCheck, err := console.AskFor[changeView](l, fmt.Sprintf("/v1/gov/changes/%d", id), "this change and its story")
	if err != nil {
		return nil, err
	}
	by, bylaws, err := console.AskFor[gov.Bylaws](l, "/v1/gov/bylaws", "the Bylaws' thresholds")
	if err != nil {
		return nil, err
	}
	need := by.Majority
	if c.Supermajority {
		need = by.Supermajority
	}
	return &console.View{Title: fmt.Sprintf("Change %d: %s", c.ID, c.Title), Template: changePage, Data: struct {
		Change changeView
		Status string
		Need   string
		Checks []console.Check
	}{c, words(c.Status), console.Share(need) + " of the voting directors", []console.Check{changeCheck, bylaws}}}, nil
}

func badID(s string) error {
	return &wire.Error{Status: http.StatusBadRequest, Code: "invalid", Message: fmt.Sprintf("%q is not a number", s),
		Hint: "changes, emergencies, petitions and reviews are numbered from 1"}
}

// record renders one emergency, petition or review: its facts and its
// timeline.
func record(kind, title, what string) func(console.Ledger, *http.Request) (*console.View, error) {
	return func(l console.Ledger, r *http.Request) (*console.View, error) {
		id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
		if err != nil {
			return nil, badID(r.PathValue("id"))
		}
		a, err := console.Ask(l, fmt.Sprintf("/v1/gov/%s/%d", plural(kind), id), what)
		if err != nil {
			return nil, err
		}
		var fields map[string]any
		if err := a.Decode(&fields); err != nil {
			return nil, fmt.Errorf("govweb: %s %d: %w", kind, id, err)
		}
		var steps struct {
			Timeline []gov.Step `json:"timeline"`
		}
		a.Decode(&steps)
		delete(fields, "timeline")
		return &console.View{Title: fmt.Sprintf("%s %d", title, id), Template: recordPage, Data: struct {
			Facts    []fact
			Timeline []gov.Step
			Check    console.Check
		}{factsOf(fields), steps.Timeline, a.Check}}, nil
	}
}

func plural(kind string) string {
	if kind == "emergency" {
		return "emergencies"
	}
	return kind + "s"
}

// fact is one field of a record, with its name in words.
type fact struct {
	Name  string
	Value any
}

// recordFacts names a record's fields in words, in the order a reader
// reads them; a field named "" is left out (the title says the number;
// state keys are for the technical reader of the API). A field not
// named here follows, its JSON name in words.
var recordFacts = []struct{ key, name string }{
	{"title", "Title"}, {"power", "What it asks"}, {"target", "Concerning"}, {"director", "Director concerned"},
	{"status", "Status"}, {"officer", "Taken by"}, {"requester", "Requested by"}, {"change", "Change reviewed"},
	{"actions", "What it changes"},
	{"consulted", "Community consulted"}, {"supporters", "Supported by"}, {"needed", "Communities needed"},
	{"deadline", "Deadline"}, {"verify_by", "To be verified by"},
	{"minutes", "Minutes (document fingerprint)"}, {"advice", "Advice (document fingerprint)"},
	{"request", "Request (document fingerprint)"},
	{"id", ""}, {"changed_keys", ""},
}

// powerWords says what a petition asks.
var powerWords = map[string]string{
	gov.PowerReject:  "to reject a change the Board decided",
	gov.PowerRemove:  "to remove a director",
	gov.PowerRecall:  "to recall the whole Board",
	gov.PowerApprove: "to approve a change",
}

// factsOf lists a record's fields with their names and values in words.
func factsOf(m map[string]any) []fact {
	var out []fact
	named := map[string]bool{}
	for _, rf := range recordFacts {
		named[rf.key] = true
		if v, ok := m[rf.key]; ok && rf.name != "" {
			out = append(out, fact{rf.name, factValue(rf.key, v)})
		}
	}
	var rest []fact
	for k, v := range m {
		if !named[k] {
			rest = append(rest, fact{strings.ToUpper(k[:1]) + strings.ReplaceAll(k[1:], "_", " "), factValue(k, v)})
		}
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].Name < rest[j].Name })
	return append(out, rest...)
}

// factValue writes one field of a record for a reader.
func factValue(key string, v any) any {
	switch x := v.(type) {
	case string:
		switch key {
		case "status":
			return words(x)
		case "power":
			if w, ok := powerWords[x]; ok {
				return w
			}
		}
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if a, ok := e.(map[string]any); ok && a["action"] != nil {
				parts[i] = console.Value(a["action"])
				if a["body"] != nil {
					parts[i] += " (" + fields(a["body"]) + ")"
				}
				continue
			}
			parts[i] = console.Value(e)
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, "; ")
	case map[string]any:
		if n, ok := x["name"].(string); ok {
			return n
		}
		return fields(x)
	}
	return v
}

func body(l console.Ledger, r *http.Request) (*console.View, error) {
	id := r.PathValue("id")
	b, c, err := console.AskFor[gov.Body](l, "/v1/gov/bodies/"+url.PathEscape(id), "this body's members and rule")
	if err != nil {
		return nil, err
	}
	return &console.View{Title: b.Name, Template: bodyPage, Data: struct {
		Body  gov.Body
		Check console.Check
	}{b, c}}, nil
}
