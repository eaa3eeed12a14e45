package gov

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// query runs one of the module's queries over the story's state.
func (s *story) query(name string, args map[string]string) (any, error) {
	s.t.Helper()
	for _, q := range (Module{}).Queries() {
		if q.Name == name {
			return q.Run(ledger.NewReadView(s.state, Name, nil), func(k string) string { return args[k] })
		}
	}
	s.t.Fatalf("no query %s", name)
	return nil, nil
}

// entry returns issuers/issuer-acme with its provenance, and writes it.
func (s *story) entry() *EntryJSON {
	s.t.Helper()
	v, err := s.query("entry", map[string]string{"id": "issuers", "key": "issuer-acme"})
	if err != nil {
		s.t.Fatal(err)
	}
	e := v.(*EntryJSON)
	s.logf("# issuers/issuer-acme = %q: %s", e.Value, e.Provenance)
	return e
}

// TestStackedEmergencies (issue 13, findings 2 and 3): two emergency
// actions on one key both lapse, and the key gets back its ratified value,
// not the first emergency's; the entry says which emergency set it and
// whether that is pending, and after confirmation which change ratified it.
func TestStackedEmergencies(t *testing.T) {
	s := newStory(t)
	set := func(v string) ledger.Action {
		return action(t, s.e, "gov.set_entry", `{"resource":"issuers","key":"issuer-acme","value":"`+v+`"}`)
	}
	act := func(title, v string) *Act {
		return &Act{Title: title, Actions: []ledger.Action{set(v)}, Minutes: doc("Minutes: " + title), Consulted: "users", Advice: s.advice("Advice: " + title)}
	}
	s.must("role-operator", "emergency", act("Suspend issuer-acme", "suspended"))
	if e := s.entry(); e.Emergency != 1 || !strings.Contains(e.Provenance, "emergency 1, pending") {
		t.Fatalf("entry %+v: want set by emergency 1, pending", e)
	}
	s.must("role-operator", "emergency", act("Put issuer-acme under review", "under-review"))
	s.wait(31) // both lapse, the first one first
	for _, id := range []uint64{1, 2} {
		if e, _ := s.view().emergency(id); e.Status != EmergencyLapsed {
			t.Fatalf("emergency %d is %s", id, e.Status)
		}
	}
	if e := s.entry(); e.Value != "accredited" || e.Emergency != 0 {
		t.Fatalf("after both lapsed, issuer-acme is %q (%s); want the ratified accredited", e.Value, e.Provenance)
	}

	// A confirmed emergency's entry says so; so does the ratified one.
	s.must("auditor", "verify-emergency", &VerifyEmergency{Emergency: 1, As: "auditors", Report: doc("Verified 1")})
	s.must("auditor", "verify-emergency", &VerifyEmergency{Emergency: 2, As: "auditors", Report: doc("Verified 2")})
	s.must("role-operator", "emergency", act("Suspend issuer-acme, third", "suspended"))
	s.must("dir-identity", "draft", &Draft{Doc: doc("Confirm emergency 3"), Actions: []ledger.Action{set("suspended")}, Confirms: 3})
	for _, d := range []string{"dir-exchanges", "dir-custodians", "dir-identity"} {
		s.must(d, "vote", &CastVote{Change: 1, Choice: "yes"})
	}
	s.must("secretariat", "open-review", &OpenReview{Change: 1})
	s.wait(15)
	if e := s.entry(); e.Change != 1 || e.Provenance != "ratified by change 1" {
		t.Fatalf("entry %+v: want ratified by change 1", e)
	}
	s.golden("stacked.txt")
}

// TestPowersActOnPersons (issue 13, findings 4 and 5): a remove petition
// names a director and cannot unseat their successor; the Board's history
// says who was removed by what; an unseated director's vote stops counting
// at once.
func TestPowersActOnPersons(t *testing.T) {
	s := newStory(t)
	against := func(name string) *PetitionMsg {
		return &PetitionMsg{Power: PowerRemove, Target: 1, As: "custodians", Doc: doc("Remove " + name), Director: member(name).Key}
	}
	s.refused("invalid", "custodian-zurich", "petition", against("dir-custodians")) // not seat 1's director
	s.must("custodian-zurich", "petition", against("dir-exchanges"))
	// A second petition removes the director first; the exchanges appoint
	// another.
	s.must("telco-id", "petition", &PetitionMsg{Power: PowerRemove, Target: 1, As: "identity", Doc: doc("Identity: remove dir-exchanges"), Director: member("dir-exchanges").Key})
	s.must("alice", "petition", &PetitionMsg{Petition: 2, As: "users", Doc: doc("Users agree with identity")})
	s.must("exchange-tokyo,exchange-seoul", "appoint", &Appoint{As: "exchanges", Seat: 1, Director: member("dir-exchanges-2")})
	// Support for the first petition no longer unseats anyone.
	s.refused("invalid", "regulator", "petition", &PetitionMsg{Petition: 1, As: "governments", Doc: doc("Governments support petition 1")})
	if bd, _ := s.view().board(); bd.Seats[0].Director == nil || bd.Seats[0].Director.Name != "dir-exchanges-2" {
		t.Fatalf("seat 1 is %+v; the new director was unseated", bd.Seats[0].Director)
	}
	v, err := s.query("tenures", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range v.([]Summary) {
		s.logf("# tenure %s: %s: %s", l.ID, l.Title, l.Status)
	}
	if l := v.([]Summary); len(l) != 6 || l[0].Status != "removed by petition 2 of identity, users" || l[5].Title != "dir-exchanges-2 in seat 1 (exchanges)" {
		t.Fatalf("tenures %+v", l)
	}

	// Votes by directors the Board no longer seats do not count.
	setParams := action(t, s.e, "ledger.set_params", `{"max_block_txs":7000,"max_block_bytes":16777216}`)
	s.must("dir-custodians", "draft", &Draft{Doc: doc("Block limit 7000"), Actions: []ledger.Action{setParams}})
	s.must("dir-exchanges-2", "vote", &CastVote{Change: 1, Choice: "yes"})
	s.must("dir-custodians", "vote", &CastVote{Change: 1, Choice: "yes"})
	s.must("alice", "petition", &PetitionMsg{Power: PowerRecall, As: "users", Doc: doc("Users: recall")})
	for i, as := range []string{"governments", "custodians", "identity"} {
		s.must([]string{"ministry", "custodian-ny", "university-id"}[i], "petition", &PetitionMsg{Petition: 3, As: as, Doc: doc("Recall: " + as)})
	}
	s.must("telco-id", "appoint", &Appoint{As: "identity", Seat: 3, Director: member("dir-identity-2")})
	s.must("dir-identity-2", "vote", &CastVote{Change: 1, Choice: "no"})
	c := s.showChange(1)
	if c.Status != StatusRejected || !strings.Contains(c.Timeline[len(c.Timeline)-1].Note, "0 yes, 1 no, 0 abstain of 1 voting directors") {
		t.Fatalf("change 1 is %s: %+v; want rejected by the one seated director's no", c.Status, c.Timeline[len(c.Timeline)-1])
	}
	s.golden("persons.txt")
}

// TestBoundedPowers (issue 13, findings 6 and 8): the review panel's
// deadline moves a stayed change on; stays are limited per requester and
// per change; a change can be withdrawn and cancelled; periods have a
// floor; an emergency may not touch the validator set, and an overdue
// verification stops the next emergency.
func TestBoundedPowers(t *testing.T) {
	s := newStory(t)
	setParams := func(n int) []ledger.Action {
		return []ledger.Action{action(t, s.e, "ledger.set_params", fmt.Sprintf(`{"max_block_txs":%d,"max_block_bytes":16777216}`, n))}
	}
	pass := func(id uint64, title string, acts []ledger.Action) {
		s.must("dir-identity", "draft", &Draft{Doc: doc(title), Actions: acts})
		for _, d := range []string{"dir-exchanges", "dir-custodians", "dir-identity"} {
			s.must(d, "vote", &CastVote{Change: id, Choice: "yes"})
		}
	}
	pass(1, "Block limit 7000", setParams(7000))
	s.must("secretariat", "open-review", &OpenReview{Change: 1})
	s.must("alice", "request-review", &RequestReview{Change: 1, As: "users", Doc: doc("Alice asks for review")})
	s.refused("conflict", "alice", "request-review", &RequestReview{Change: 1, As: "users", Doc: doc("Alice asks again")})
	s.must("bob", "request-review", &RequestReview{Change: 1, As: "users", Doc: doc("Bob asks for review")})
	s.must("auditor", "request-review", &RequestReview{Change: 1, As: "auditors", Doc: doc("Auditors ask for review")})
	s.refused("conflict", "regulator", "request-review", &RequestReview{Change: 1, As: "governments", Doc: doc("A fourth request")})
	s.must("secretariat", "assign-panel", &AssignPanel{Review: 1, Panel: []Member{member("panelist-a")}, Threshold: 1})
	s.wait(40) // no panel declares: every review lapses, the decision stands
	c := s.showChange(1)
	if c.Status != StatusExecuted || s.params().MaxBlockTxs != 7000 {
		t.Fatalf("change 1 is %s, max_block_txs %d: the lapsed reviews still stay it", c.Status, s.params().MaxBlockTxs)
	}
	if r, _ := s.view().review(1); r.Status != ReviewLapsed {
		t.Fatalf("review 1 is %s", r.Status)
	}

	// Withdraw and cancel.
	pass(2, "Block limit 8000", setParams(8000))
	s.refused("unauthorized", "dir-exchanges", "withdraw", &Withdraw{Change: 2, Doc: doc("Not mine to withdraw")})
	s.must("dir-identity", "withdraw", &Withdraw{Change: 2, Doc: doc("Withdrawn: superseded")})
	pass(3, "Block limit 9000", setParams(9000))
	s.must("secretariat", "open-review", &OpenReview{Change: 3})
	s.refused("invalid", "dir-identity", "withdraw", &Withdraw{Change: 3, Doc: doc("Too late to withdraw")})
	s.refused("unauthorized", "dir-identity", "cancel", &Cancel{Change: 3, Doc: doc("One director cancels")})
	s.must("dir-identity,dir-custodians", "cancel", &Cancel{Change: 3, Doc: doc("The Board cancels change 3")})
	s.wait(16)
	if c2, c3 := s.change(2), s.change(3); c2.Status != StatusWithdrawn || c3.Status != StatusCancelled || s.params().MaxBlockTxs != 7000 {
		t.Fatalf("changes 2 and 3 are %s and %s; max_block_txs %d", c2.Status, c3.Status, s.params().MaxBlockTxs)
	}

	// Periods have a floor.
	bl, _ := s.view().bylaws()
	nb := *bl
	nb.ReviewPeriod = 1
	raw, err := tx.Marshal(&nb)
	if err != nil {
		t.Fatal(err)
	}
	s.refused("invalid", "dir-identity", "draft", &Draft{Doc: doc("A 1 ms review"), Actions: []ledger.Action{{Target: Name, Type: "set_bylaws", Body: raw}}})

	// An emergency's scope: not the validator set; its verification is due.
	val := ledger.Action{Target: ledger.Namespace, Type: "set_validator", Body: []byte{0xa0}}
	em := func(title string, acts ...ledger.Action) *Act {
		return &Act{Title: title, Actions: acts, Minutes: doc("Minutes: " + title), Consulted: "users", Advice: s.advice("Advice: " + title)}
	}
	s.refused("invalid", "role-operator", "emergency", em("Add a validator", val))
	s.must("role-operator", "emergency", em("Halve blocks", setParams(3500)...))
	s.wait(60) // it lapses; its verification falls overdue
	s.refused("invalid", "role-operator", "emergency", em("Another emergency", setParams(3000)...))
	s.must("ombudsman", "verify-emergency", &VerifyEmergency{Emergency: 1, As: "ombudsman", Report: doc("Late verification")})
	s.must("role-operator", "emergency", em("Another emergency", setParams(3000)...))
	s.golden("bounds.txt")
}

// TestVisibleProcess (issue 13, findings 9 and 10): the deadlines list
// holds no stale deadline; advice of a community an outcome was not sent
// to does not review it; a missing record is an error without an empty
// record; emergencies, petitions, reviews and documents are listed by
// point lookups, which a state proof covers.
func TestVisibleProcess(t *testing.T) {
	s := newStory(t)
	s.must("dir-identity", "draft", &Draft{Doc: doc("Block limit 7000"), Actions: []ledger.Action{action(t, s.e, "ledger.set_params", `{"max_block_txs":7000,"max_block_bytes":16777216}`)}})
	for _, d := range []string{"dir-exchanges", "dir-custodians", "dir-identity"} {
		s.must(d, "vote", &CastVote{Change: 1, Choice: "yes"})
	}
	s.must("secretariat", "open-review", &OpenReview{Change: 1})
	v, err := s.query("deadlines", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := s.change(1)
	if dl := v.([]Deadline); len(dl) != 1 || dl[0].Time != c.Deadline {
		t.Fatalf("deadlines %+v; want only change 1's review ending at %d", dl, c.Deadline)
	}

	s.must("secretariat", "create-group", &CreateGroup{ID: "security", Theme: "Security", Director: member("telco-id")})
	s.must("telco-id", "send-outcome", &SendOutcome{Group: "security", To: "users", Doc: doc("Baseline v1")})
	s.must("regulator", "advise", &Advise{As: "governments", About: doc("Baseline v1").ID(), Doc: doc("Governments on the baseline")})
	if g, _ := s.view().group("security"); g.Outcomes[0].Advice != "" || g.Timeline[len(g.Timeline)-1].What == "outcome reviewed" {
		t.Fatalf("the wrong community's advice reviewed the outcome: %+v", g)
	}

	for _, q := range []struct{ name, id string }{{"entry", ""}, {"body", "nobody"}, {"change", "9"}, {"petition", "9"}, {"review", "9"}, {"tenure", "99"}} {
		ans, err := s.query(q.name, map[string]string{"id": q.id, "key": "missing"})
		if !errors.Is(err, ledger.ErrNotFound) || ans != nil {
			t.Errorf("%s %q: answer %v, error %v; want no answer and not_found", q.name, q.id, ans, err)
		}
	}

	s.must("role-operator", "emergency", &Act{Title: "Suspend", Actions: []ledger.Action{action(t, s.e, "gov.set_entry", `{"resource":"issuers","key":"issuer-acme","value":"suspended"}`)},
		Minutes: doc("Minutes"), Consulted: "users", Advice: s.advice("Advice")})
	s.must("alice", "petition", &PetitionMsg{Power: PowerRecall, As: "users", Doc: doc("Recall")})
	s.must("auditor", "request-review", &RequestReview{Change: 1, As: "auditors", Doc: doc("Review please")})
	for _, name := range []string{"emergencies", "petitions", "reviews", "documents", "changes", "tenures"} {
		var reads ledger.Reads
		var ans any
		for _, q := range (Module{}).Queries() {
			if q.Name == name {
				ans, err = q.Run(ledger.NewReadView(s.state, Name, &reads), func(string) string { return "" })
			}
		}
		if err != nil || reads.Iterated {
			t.Fatalf("%s: %v; iterated %v (a range cannot be proven)", name, err, reads.Iterated)
		}
		for _, l := range ans.([]Summary) {
			s.logf("# %s %s: %s: %s", name, short(l.ID), l.Title, l.Status)
		}
	}
	s.golden("visible.txt")
}

// TestGenesisDefaults: a genesis section written before the Bylaws had
// their bounds (an `agora init --gov` file) loads, each bound derived from
// a field it has.
func TestGenesisDefaults(t *testing.T) {
	var g map[string]any
	b, err := json.Marshal(Demo(pubFor))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	bl := g["bylaws"].(map[string]any)
	for _, f := range []string{"secretariat_period", "panel_period", "stays_per_requester", "stays_per_change", "emergency_scope", "verification_period", "approve"} {
		delete(bl, f)
	}
	old, _ := json.Marshal(g)
	e, err := ledger.NewExecutor(testChain, Module{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.InitGenesis(&ledger.Genesis{ChainID: testChain, Time: genesisTime, Params: ledger.DefaultParams(), Modules: map[string]json.RawMessage{Name: old}})
	if err != nil {
		t.Fatalf("an older genesis section: %v", err)
	}
	st := memState{}
	st.ApplyOutcome(out)
	got, err := reader(ledger.NewReadView(st, Name, nil)).bylaws()
	if err != nil {
		t.Fatal(err)
	}
	want := Demo(pubFor).Bylaws
	want.SecretariatPeriod, want.PanelPeriod, want.VerificationPeriod = want.VotingPeriod, want.ReviewWindow, 2*want.EmergencyPeriod
	want.StaysPerRequester, want.StaysPerChange, want.Approve = 1, 3, want.Reject
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

// TestFundamentalNeedsApproval: a Bylaws change the Board passed and
// public review let through is not ratified when too few communities
// approve it within the petition window.
func TestFundamentalNeedsApproval(t *testing.T) {
	s := newStory(t)
	bl, _ := s.view().bylaws()
	nb := *bl
	nb.Objections = 3
	s.must("dir-identity", "draft", &Draft{Doc: doc("Bylaws v2: three objections"), Actions: []ledger.Action{action(t, s.e, "gov.set_bylaws", mustJSON(t, &nb))}})
	for _, d := range []string{"dir-exchanges", "dir-custodians", "dir-identity"} {
		s.must(d, "vote", &CastVote{Change: 1, Choice: "yes"})
	}
	s.must("secretariat", "open-review", &OpenReview{Change: 1})
	s.wait(12)
	s.must("alice", "petition", &PetitionMsg{Power: PowerApprove, Target: 1, As: "users", Doc: doc("Users approve")})
	s.wait(20)
	if c := s.change(1); c.Status != StatusNotApproved {
		t.Fatalf("change 1 is %s, want %s", c.Status, StatusNotApproved)
	}
	if bl, _ := s.view().bylaws(); bl.Version != 1 || bl.Objections != 2 {
		t.Fatalf("the Bylaws changed without the communities' approval: %+v", bl)
	}
}

// advice is the users' advice about an emergency, recorded by the users
// themselves (alice) the first time it is named: an emergency names the
// consulted community's own advice by its id.
func (s *story) advice(text string) string {
	s.t.Helper()
	d := doc(text)
	if s.advised == nil {
		s.advised = map[string]bool{}
	}
	if !s.advised[d.ID()] {
		s.must("alice", "advise", &Advise{As: "users", About: "emergency", Doc: d})
		s.advised[d.ID()] = true
	}
	return d.ID()
}
