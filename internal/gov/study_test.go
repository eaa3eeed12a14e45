package gov

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/agora-ledger/agora/internal/ledger"
)

// TestStudy walks the policy process of the governance study (004 §1.4,
// §2.1) end to end, and writes it as testdata/study.txt: a proposal and
// advice, a Board vote in which a non-voting seat is refused, public
// review with objections that return the change, reconsideration, a
// second round, ratification, and the ledger parameter really changing.
func TestStudy(t *testing.T) {
	s := newStory(t)
	before := s.params()
	s.logf("# ledger params: max_block_txs=%d", before.MaxBlockTxs)

	// A resource-direct community (both exchanges sign: its rule is 2 of 2).
	s.refused("unauthorized", "exchange-tokyo", "propose", &Propose{As: "exchanges", Resource: "root", Doc: doc("Smaller blocks")})
	s.must("exchange-tokyo,exchange-seoul", "propose", &Propose{As: "exchanges", Resource: "root", Doc: doc("Smaller blocks")})
	s.refused("unauthorized", "alice", "propose", &Propose{As: "users", Resource: "root", Doc: doc("Users propose")})
	// A resource-indirect community advises.
	s.must("alice", "advise", &Advise{As: "users", About: doc("Smaller blocks").ID(), Doc: doc("Users support smaller blocks")})
	s.refused("unauthorized", "mallory", "advise", &Advise{As: "users", About: doc("Smaller blocks").ID(), Doc: doc("Not a member")})

	// A director consolidates them into a proposed change.
	setParams := action(t, s.e, "ledger.set_params", `{"max_block_txs":5000,"max_block_bytes":16777216}`)
	s.refused("unauthorized", "alice", "draft", &Draft{Doc: doc("Not a director"), Actions: []ledger.Action{setParams}})
	s.refused("invalid", "dir-exchanges", "draft", &Draft{Doc: doc("Bad action"), Actions: []ledger.Action{{Target: "ledger", Type: "set_params", Body: []byte{0xa0}}}})
	s.must("dir-exchanges", "draft", &Draft{Doc: doc("Block limit 5000"), Proposals: []string{doc("Smaller blocks").ID()},
		Advice: []string{doc("Users support smaller blocks").ID()}, Actions: []ledger.Action{setParams}})

	// The Board votes; the users' seat speaks but cannot vote.
	s.refused("unauthorized", "dir-users", "vote", &CastVote{Change: 1, Choice: "yes"})
	s.must("dir-users", "comment", &Comment{Change: 1, As: "board", Doc: doc("Users' director: mind small wallets")})
	s.must("dir-exchanges", "vote", &CastVote{Change: 1, Choice: "yes"})
	s.refused("conflict", "dir-exchanges", "vote", &CastVote{Change: 1, Choice: "no"})
	s.replayLast()
	s.must("dir-custodians", "vote", &CastVote{Change: 1, Choice: "yes"})
	s.must("dir-identity", "vote", &CastVote{Change: 1, Choice: "no"})
	if c := s.change(1); c.Status != StatusApproved {
		t.Fatalf("after every vote, change 1 is %s", c.Status)
	}

	// Public review: the Secretariat opens it; two communities object.
	s.refused("unauthorized", "dir-exchanges", "open-review", &OpenReview{Change: 1})
	s.must("secretariat", "open-review", &OpenReview{Change: 1})
	s.must("bob", "comment", &Comment{Change: 1, As: "users", Doc: doc("Bob: what about fees?")})
	s.must("regulator", "object", &Object{Change: 1, As: "governments", Doc: doc("Governments object: too fast")})
	s.refused("conflict", "ministry", "object", &Object{Change: 1, As: "governments", Doc: doc("Governments object again")})
	s.must("custodian-ny", "object", &Object{Change: 1, As: "custodians", Doc: doc("Custodians object: need a transition")})
	s.wait(8)
	s.showChange(1)
	if c := s.change(1); c.Status != StatusReconsideration {
		t.Fatalf("after two objections, change 1 is %s", c.Status)
	}
	if s.params().MaxBlockTxs != before.MaxBlockTxs {
		t.Fatal("the parameter changed before ratification")
	}

	// Reconsideration: a director revises it; a new round.
	setParams2 := action(t, s.e, "ledger.set_params", `{"max_block_txs":6000,"max_block_bytes":16777216}`)
	s.must("dir-custodians", "revise", &Revise{Change: 1, Doc: doc("Block limit 6000, after a transition"), Actions: []ledger.Action{setParams2}})
	for _, d := range []string{"dir-exchanges", "dir-custodians", "dir-identity"} {
		s.must(d, "vote", &CastVote{Change: 1, Choice: "yes"})
	}
	s.must("secretariat", "open-review", &OpenReview{Change: 1})
	s.must("regulator", "object", &Object{Change: 1, As: "governments", Doc: doc("Governments still object")})
	s.wait(11) // the review ends with one objection: ratified
	if c := s.change(1); c.Status != StatusRatified {
		t.Fatalf("change 1 is %s, want ratified", c.Status)
	}
	if s.params().MaxBlockTxs != before.MaxBlockTxs {
		t.Fatal("the parameter changed before the execution delay")
	}
	s.wait(3)
	c := s.showChange(1)
	if c.Status != StatusExecuted || s.params().MaxBlockTxs != 6000 {
		t.Fatalf("change 1 is %s with max_block_txs %d; want executed, 6000", c.Status, s.params().MaxBlockTxs)
	}
	s.logf("# ledger params: max_block_txs=%d", s.params().MaxBlockTxs)
	if c.Ratified == "" {
		t.Fatal("no ratified change document")
	}
	if d, err := s.view().document(c.Ratified); err != nil || d.Kind != DocRatified {
		t.Fatalf("ratified document %+v %v", d, err)
	}

	// The review window for change 1 has not closed, but it is executed.
	s.refused("invalid", "auditor", "request-review", &RequestReview{Change: 1, As: "auditors", Doc: doc("Too late")})
	s.golden("study.txt")
}

// TestReviewStaysExecution: an External Entity's request for independent
// review stays a ratified change; the panel upholds it and it executes;
// a second change is returned to the Board by its panel.
func TestReviewStaysExecution(t *testing.T) {
	s := newStory(t)
	delegate := action(t, s.e, "gov.delegate", `{"id":"names.jp","parent":"root","name":"The .jp namespace","controller":"identity"}`)
	pass := func(id uint64, title string, acts ...ledger.Action) {
		s.must("dir-identity", "draft", &Draft{Doc: doc(title), Actions: acts})
		for _, d := range []string{"dir-exchanges", "dir-custodians", "dir-identity"} {
			s.must(d, "vote", &CastVote{Change: id, Choice: "yes"})
		}
		s.must("secretariat", "open-review", &OpenReview{Change: id})
	}
	pass(1, "Delegate .jp", delegate)
	s.must("auditor", "request-review", &RequestReview{Change: 1, As: "auditors", Doc: doc("Auditors: .jp needs a policy first")})
	s.wait(14) // ratified, then due: stayed
	if c := s.change(1); c.Status != StatusStayed {
		t.Fatalf("change 1 is %s, want stayed", c.Status)
	}
	if _, err := s.view().resource("names.jp"); err == nil {
		t.Fatal("executed while a review was pending")
	}
	s.refused("unauthorized", "auditor", "assign-panel", &AssignPanel{Review: 1, Panel: []Member{member("ombudsman")}, Threshold: 1})
	s.must("secretariat", "assign-panel", &AssignPanel{Review: 1, Panel: []Member{member("panelist-a"), member("panelist-b"), member("panelist-c")}, Threshold: 2})
	s.refused("unauthorized", "panelist-a", "declare", &Declare{Review: 1, Decision: "uphold", Doc: doc("Panel upholds (one panelist)")})
	s.must("panelist-a,panelist-c", "declare", &Declare{Review: 1, Decision: "uphold", Doc: doc("Panel upholds")})
	c := s.showChange(1)
	if c.Status != StatusExecuted {
		t.Fatalf("change 1 is %s after the panel upheld it", c.Status)
	}
	if r, err := s.view().resource("names.jp"); err != nil || r.Controller != "identity" {
		t.Fatalf("names.jp %+v %v", r, err)
	}

	// A member (not only an External Entity) may request review; the panel
	// returns the decision to the Board.
	policy := action(t, s.e, "gov.set_policy", `{"resource":"names.jp","policy":"`+doc("jp policy").ID()+`"}`)
	pass(2, "A policy for .jp", policy)
	s.must("bob", "request-review", &RequestReview{Change: 2, As: "users", Doc: doc("Bob asks for review")})
	s.must("secretariat", "assign-panel", &AssignPanel{Review: 2, Panel: []Member{member("panelist-a")}, Threshold: 1})
	s.must("panelist-a", "declare", &Declare{Review: 2, Decision: "return", Doc: doc("Panel returns it")})
	if c := s.showChange(2); c.Status != StatusReconsideration {
		t.Fatalf("change 2 is %s", c.Status)
	}
	s.wait(8)
	if r, _ := s.view().resource("names.jp"); r.Policy != "" {
		t.Fatal("a returned change executed")
	}

	// The Secretariat does not open public review: when its deadline
	// passes, review opens without it, and the change goes on to execute.
	s.must("dir-identity", "draft", &Draft{Doc: doc("Another policy for .jp"), Actions: []ledger.Action{policy}})
	for _, d := range []string{"dir-exchanges", "dir-custodians", "dir-identity"} {
		s.must(d, "vote", &CastVote{Change: 3, Choice: "yes"})
	}
	s.wait(60)
	if c := s.showChange(3); c.Status != StatusExecuted || c.Timeline[5].By != "the ledger" {
		t.Fatalf("change 3 is %s after the Secretariat's deadline; timeline %+v", c.Status, c.Timeline)
	}
	s.refused("invalid", "auditor", "request-review", &RequestReview{Change: 3, As: "auditors", Doc: doc("Past the window")})
	s.golden("review.txt")
}

// TestEmergencyLapses: the emergency officer suspends a compromised
// issuer at once, with minutes and an advisory consultation; unconfirmed,
// the action lapses and the issuer is accredited again; an external
// verification is recorded. A second emergency is confirmed by a ratified
// change and stays.
func TestEmergencyLapses(t *testing.T) {
	s := newStory(t)
	entry := func() string {
		var e Entry
		if err := s.view().get(entryKey("issuers", "issuer-acme"), &e, "entry"); err != nil {
			t.Fatal(err)
		}
		return e.Value
	}
	suspend := action(t, s.e, "gov.set_entry", `{"resource":"issuers","key":"issuer-acme","value":"suspended: key compromise"}`)
	s.must("alice", "advise", &Advise{As: "users", About: "emergency", Doc: doc("Users' advisory committee: suspend now")})
	act := &Act{Title: "Suspend issuer-acme", Actions: []ledger.Action{suspend}, Minutes: doc("Minutes of the emergency call"),
		Consulted: "users", Advice: doc("Users' advisory committee: suspend now").ID()}
	s.refused("unauthorized", "secretariat", "emergency", act)
	bad := *act
	bad.Consulted, bad.Minutes = "exchanges", doc("Minutes 2")
	s.refused("invalid", "role-operator", "emergency", &bad)
	grab := *act
	grab.Minutes = doc("Minutes 3")
	bl, _ := s.view().bylaws()
	grab.Actions = []ledger.Action{action(t, s.e, "gov.set_bylaws", mustJSON(t, bl))}
	s.refused("invalid", "role-operator", "emergency", &grab)
	s.must("role-operator", "emergency", act)
	if entry() != "suspended: key compromise" {
		t.Fatalf("entry is %q during the emergency", entry())
	}
	s.wait(30)
	e, err := s.view().emergency(1)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != EmergencyLapsed || entry() != "accredited" {
		t.Fatalf("emergency %s, entry %q; want lapsed and accredited", e.Status, entry())
	}
	s.refused("unauthorized", "alice", "verify-emergency", &VerifyEmergency{Emergency: 1, As: "users", Report: doc("Alice verifies")})
	s.must("auditor", "verify-emergency", &VerifyEmergency{Emergency: 1, As: "auditors", Report: doc("External verification of emergency 1")})
	s.refused("conflict", "ombudsman", "verify-emergency", &VerifyEmergency{Emergency: 1, As: "ombudsman", Report: doc("Second verification")})
	for _, st := range e.Timeline {
		s.logf("    emergency 1: %s%s", st.What, prefix(": ", st.Note))
	}

	// Confirmed in time, it stays.
	s.must("regulator", "advise", &Advise{As: "governments", About: "emergency", Doc: doc("Governments: suspend")})
	act2 := &Act{Title: "Suspend issuer-acme again", Actions: []ledger.Action{suspend}, Minutes: doc("Minutes, second call"),
		Consulted: "governments", Advice: doc("Governments: suspend").ID()}
	s.must("role-operator", "emergency", act2)
	s.must("dir-identity", "draft", &Draft{Doc: doc("Confirm emergency 2"), Actions: []ledger.Action{suspend}, Confirms: 2})
	for _, d := range []string{"dir-exchanges", "dir-custodians", "dir-identity"} {
		s.must(d, "vote", &CastVote{Change: 1, Choice: "yes"})
	}
	s.must("secretariat", "open-review", &OpenReview{Change: 1})
	// Public review ends 12 s after it opened, execution 3 s later: 20 s
	// after the emergency action, inside its 30 s period.
	s.wait(15)
	e2, _ := s.view().emergency(2)
	if c := s.change(1); c.Status != StatusExecuted || e2.Status != EmergencyConfirmed || e2.ConfirmedBy != 1 {
		t.Fatalf("change %s, emergency %+v", c.Status, e2)
	}
	s.wait(11) // past the emergency period: confirmed, it does not lapse
	e2, _ = s.view().emergency(2)
	if e2.Status != EmergencyConfirmed || entry() != "suspended: key compromise" {
		t.Fatalf("emergency 2 %s, entry %q", e2.Status, entry())
	}
	s.logf("# emergency 2: %s, confirmed by change %d; issuer-acme %q", e2.Status, e2.ConfirmedBy, entry())
	s.golden("emergency.txt")
}

// TestCommunityPowers: communities remove a director, who may then no
// longer vote; the community appoints another; communities reject a Board
// decision; a petition that gathers too little support expires; and the
// Board is recalled.
func TestCommunityPowers(t *testing.T) {
	s := newStory(t)
	s.refused("unauthorized", "role-operator", "petition", &PetitionMsg{Power: PowerRemove, Target: 1, As: "role", Doc: doc("The ROLE is not a community"), Director: member("dir-exchanges").Key})
	s.must("custodian-zurich", "petition", &PetitionMsg{Power: PowerRemove, Target: 1, As: "custodians", Doc: doc("Remove the exchanges' director"), Director: member("dir-exchanges").Key})
	s.refused("conflict", "custodian-ny", "petition", &PetitionMsg{Petition: 1, As: "custodians", Doc: doc("Custodians again")})
	s.must("alice", "petition", &PetitionMsg{Petition: 1, As: "users", Doc: doc("Users agree")})
	bd, _ := s.view().board()
	if bd.Seats[0].Director != nil {
		t.Fatal("director not removed")
	}
	s.must("dir-custodians", "draft", &Draft{Doc: doc("Anything"), Actions: []ledger.Action{action(t, s.e, "ledger.set_params", `{"max_block_txs":7000,"max_block_bytes":16777216}`)}})
	s.refused("unauthorized", "dir-exchanges", "vote", &CastVote{Change: 1, Choice: "yes"})
	s.refused("unauthorized", "custodian-zurich", "appoint", &Appoint{As: "custodians", Seat: 1, Director: member("dir-exchanges-2")})
	s.must("exchange-tokyo,exchange-seoul", "appoint", &Appoint{As: "exchanges", Seat: 1, Director: member("dir-exchanges-2")})
	s.refused("conflict", "custodian-zurich", "appoint", &Appoint{As: "custodians", Seat: 2, Director: member("dir-x")})
	s.must("dir-exchanges-2", "vote", &CastVote{Change: 1, Choice: "yes"})
	s.must("dir-custodians", "vote", &CastVote{Change: 1, Choice: "yes"})
	s.must("dir-identity", "vote", &CastVote{Change: 1, Choice: "yes"})

	// Three communities reject the Board's decision before it executes.
	s.must("alice", "petition", &PetitionMsg{Power: PowerReject, Target: 1, As: "users", Doc: doc("Users reject change 1")})
	s.must("regulator", "petition", &PetitionMsg{Petition: 2, As: "governments", Doc: doc("Governments reject change 1")})
	s.must("telco-id", "petition", &PetitionMsg{Petition: 2, As: "identity", Doc: doc("Identity deployers reject change 1")})
	if c := s.showChange(1); c.Status != StatusVetoed {
		t.Fatalf("change 1 is %s", c.Status)
	}
	s.refused("invalid", "secretariat", "open-review", &OpenReview{Change: 1})

	// A recall that too few support expires.
	s.must("alice", "petition", &PetitionMsg{Power: PowerRecall, As: "users", Doc: doc("Users: recall the Board")})
	s.wait(20)
	s.refused("invalid", "regulator", "petition", &PetitionMsg{Petition: 3, As: "governments", Doc: doc("Too late")})
	// A recall with four communities carries.
	s.must("alice", "petition", &PetitionMsg{Power: PowerRecall, As: "users", Doc: doc("Users: recall, again")})
	for i, as := range []string{"governments", "custodians", "identity"} {
		signer := []string{"ministry", "custodian-ny", "university-id"}[i]
		s.must(signer, "petition", &PetitionMsg{Petition: 4, As: as, Doc: doc("Recall: " + as)})
	}
	bd, _ = s.view().board()
	for i, st := range bd.Seats {
		if st.Director != nil {
			t.Fatalf("seat %d keeps its director after a recall", i+1)
		}
	}
	p, _ := s.view().petition(4)
	s.logf("# petition 4: %s by %s", p.Status, strings.Join(p.Supporters, ", "))
	s.golden("powers.txt")

	// The whole state, process records included, exports to a genesis that
	// loads back to the same state.
	g, err := s.e.ExportGenesis(s.state, genesisTime)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.e.InitGenesis(g)
	if err != nil {
		t.Fatal(err)
	}
	back := memState{}
	back.ApplyOutcome(out)
	if diff := cmp.Diff(stateOnly(s.state), stateOnly(back)); diff != "" {
		t.Errorf("exported and loaded state differs:\n%s", diff)
	}
}

// TestBylawsNeedSupermajority: a change to the Bylaws (the module's own
// parameters: seats, periods, thresholds) fails with two of three votes
// when the Bylaws ask for 667 thousandths... and passes with three, then
// waits for the communities' approval (the Empowered Community's power
// over fundamental changes) before it is ratified.
func TestBylawsNeedSupermajority(t *testing.T) {
	s := newStory(t)
	bl, _ := s.view().bylaws()
	nb := *bl
	nb.VotingPeriod = 6000
	nb.Seats = append([]Allocation{}, bl.Seats...)
	nb.Seats[3].Seats = 2 // a second users' seat
	body := mustJSON(t, &nb)
	setBylaws := action(t, s.e, "gov.set_bylaws", body)
	s.must("dir-identity", "draft", &Draft{Doc: doc("Bylaws v2: a second users' seat"), Actions: []ledger.Action{setBylaws}})
	s.must("dir-exchanges", "vote", &CastVote{Change: 1, Choice: "yes"})
	s.must("dir-custodians", "vote", &CastVote{Change: 1, Choice: "yes"})
	s.must("dir-identity", "vote", &CastVote{Change: 1, Choice: "no"})
	if c := s.showChange(1); c.Status != StatusRejected {
		t.Fatalf("2 of 3 passed a Bylaws change: %s", c.Status)
	}
	s.must("dir-identity", "draft", &Draft{Doc: doc("Bylaws v2, again"), Actions: []ledger.Action{setBylaws}})
	for _, d := range []string{"dir-exchanges", "dir-custodians", "dir-identity"} {
		s.must(d, "vote", &CastVote{Change: 2, Choice: "yes"})
	}
	s.must("secretariat", "open-review", &OpenReview{Change: 2})
	s.wait(12) // public review ends: a fundamental change awaits the communities' approval
	if c := s.change(2); c.Status != StatusApproval {
		t.Fatalf("after review, the Bylaws change is %s, want %s", c.Status, StatusApproval)
	}
	s.refused("invalid", "alice", "petition", &PetitionMsg{Power: PowerApprove, Target: 1, As: "users", Doc: doc("Approve the rejected change")})
	s.must("alice", "petition", &PetitionMsg{Power: PowerApprove, Target: 2, As: "users", Doc: doc("Users approve Bylaws v2")})
	s.must("regulator", "petition", &PetitionMsg{Petition: 1, As: "governments", Doc: doc("Governments approve Bylaws v2")})
	if bl, _ := s.view().bylaws(); bl.Version != 1 {
		t.Fatal("the Bylaws changed before the communities approved them")
	}
	s.must("telco-id", "petition", &PetitionMsg{Petition: 1, As: "identity", Doc: doc("Identity deployers approve Bylaws v2")})
	s.wait(3)
	s.showChange(2)
	bl, _ = s.view().bylaws()
	bd, _ := s.view().board()
	if bl.Version != 2 || bl.VotingPeriod != 6000 || len(bd.Seats) != 6 || bd.Seats[4].Voting || bd.Seats[4].Director != nil || bd.Seats[0].Director == nil {
		t.Fatalf("bylaws v%d period %d, board %+v", bl.Version, bl.VotingPeriod, bd.Seats)
	}
	s.logf("# bylaws version %d, %d seats; seat 5 (users, non-voting) is vacant", bl.Version, len(bd.Seats))
	s.golden("bylaws.txt")
}

// TestWorkingGroup: the Secretariat establishes a working group; its
// director keeps the agenda and its progress; an outcome goes to an
// advisory community, whose advice marks it reviewed.
func TestWorkingGroup(t *testing.T) {
	s := newStory(t)
	s.refused("unauthorized", "alice", "create-group", &CreateGroup{ID: "security", Theme: "Security", Director: member("telco-id")})
	s.must("secretariat", "create-group", &CreateGroup{ID: "security", Theme: "Security", Director: member("telco-id"), Members: []Member{member("exchange-tokyo")}})
	s.must("telco-id", "agenda", &Agenda{Group: "security", Title: "Key custody baseline", Status: "new", Schedule: "Q1"})
	s.must("telco-id", "agenda", &Agenda{Group: "security", Item: 1, Status: "continued", Progress: "draft circulated", Review: "on track"})
	s.refused("unauthorized", "exchange-tokyo", "agenda", &Agenda{Group: "security", Item: 1, Status: "done"})
	s.refused("invalid", "telco-id", "send-outcome", &SendOutcome{Group: "security", To: "exchanges", Doc: doc("Baseline v1")})
	s.must("telco-id", "send-outcome", &SendOutcome{Group: "security", To: "users", Doc: doc("Baseline v1")})
	s.must("bob", "advise", &Advise{As: "users", About: doc("Baseline v1").ID(), Doc: doc("Users review the baseline")})
	g, err := s.view().group("security")
	if err != nil {
		t.Fatal(err)
	}
	if g.Agenda[0].Status != "continued" || g.Outcomes[0].Advice != doc("Users review the baseline").ID() {
		t.Fatalf("group %+v", g)
	}
	s.must("secretariat", "report", &Report{As: "secretariat", Kind: DocMinutes, Doc: doc("Minutes of the security WG"), Subject: "group security"})
	s.refused("unauthorized", "alice", "report", &Report{As: "users", Kind: DocReport, Doc: doc("A report")})
	s.golden("group.txt")
}

// stateOnly is the state without the ledger's accounts (genesis sets
// their sequences, not their history) and without map and log nodes.
func stateOnly(m memState) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if !strings.HasPrefix(k, "\xff") {
			out[k] = fmt.Sprintf("%x", v)
		}
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
