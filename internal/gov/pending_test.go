package gov

import (
	"fmt"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// pend posts a pending action: msg of type typ, to be executed as body
// as, signed by signers.
func (s *story) pend(code, signers, as, typ string, msg ledger.Msg, ttl time.Duration) {
	s.t.Helper()
	body, err := tx.Marshal(msg)
	if err != nil {
		s.t.Fatal(err)
	}
	r := s.doIn(ledger.Namespace, signers, "propose",
		&ledger.ProposeAction{Module: Name, Principal: as, Type: typ, Body: body, TTL: uint64(ttl / time.Millisecond)})
	if r.Code != code {
		s.t.Fatalf("pending %s as %s by %s: got %s (%s), want %s", typ, as, signers, r.Code, r.Error, code)
	}
}

// approve approves pending action id, wanting code.
func (s *story) approve(code, signers string, id uint64) {
	s.t.Helper()
	if r := s.doIn(ledger.Namespace, signers, "approve", &ledger.Approve{ID: id}); r.Code != code {
		s.t.Fatalf("approve %d by %s: got %s (%s), want %s", id, signers, r.Code, r.Error, code)
	}
}

// pending reads pending action id through the ledger's query and writes
// its status to the transcript.
func (s *story) pending(id uint64) *ledger.Pending {
	s.t.Helper()
	for _, q := range ledger.Queries() {
		if q.Name != "pending_action" {
			continue
		}
		ans, err := q.Run(ledger.NewReadView(s.state, ledger.Namespace, nil), func(string) string { return fmt.Sprint(id) })
		if err != nil {
			s.t.Fatal(err)
		}
		p := ans.(*ledger.Pending)
		s.logf("= pending %d as %s: %s, %d approvals%s", p.ID, p.Principal, p.Status, len(p.Approvals), prefix("; ", p.Result))
		return p
	}
	s.t.Fatal("no pending_action query")
	return nil
}

// author returns who a document is recorded as by, or "" if it is not.
func (s *story) author(d DocRef) string {
	doc, err := s.view().document(d.ID())
	if err != nil {
		return ""
	}
	return doc.Author
}

// TestBodyActsOverTime: a community acts by its own rule with its members
// approving over time, each in a transaction of its own (from its own
// machine); the approval that meets the rule executes the action; the
// ledger refuses non-members, second approvals and approvals of what is
// closed, and expires what is not approved in time.
func TestBodyActsOverTime(t *testing.T) {
	s := newStory(t)
	p := &Propose{As: "exchanges", Resource: RootResource, Doc: doc("Exchanges propose smaller blocks")}
	// exchanges acts when 2 of its 2 members sign: one alone cannot.
	s.refused("unauthorized", "exchange-tokyo", "propose", p)
	s.pend("unauthorized", "alice", "exchanges", "propose", p, time.Minute) // not a member
	s.pend("not_found", "alice", "nobody", "propose", p, time.Minute)
	s.pend("ok", "exchange-tokyo", "exchanges", "propose", p, time.Minute)
	if st := s.pending(1).Status; st != ledger.PendingOpen || s.author(p.Doc) != "" {
		t.Fatalf("after one approval: %s, proposal by %q", st, s.author(p.Doc))
	}
	s.approve("conflict", "exchange-tokyo", 1)
	s.approve("unauthorized", "custodian-zurich", 1)
	s.approve("ok", "exchange-seoul", 1)
	s.replayLast()
	if st := s.pending(1).Status; st != ledger.PendingExecuted || s.author(p.Doc) != "exchanges" {
		t.Fatalf("after two approvals: %s, proposal by %q", st, s.author(p.Doc))
	}
	s.approve("gone", "exchange-seoul", 1)

	// Met, but refused by the module: the action fails with the reason.
	s.pend("ok", "exchange-seoul", "exchanges", "propose", p, time.Minute)
	s.approve("ok", "exchange-tokyo", 2)
	if pa := s.pending(2); pa.Status != ledger.PendingFailed || pa.Result == "" {
		t.Fatalf("a duplicate proposal: %s %q", pa.Status, pa.Result)
	}

	// Not approved in time, it expires.
	late := &Propose{As: "exchanges", Resource: RootResource, Doc: doc("Too late")}
	s.pend("ok", "exchange-tokyo", "exchanges", "propose", late, 5*time.Second)
	s.wait(5)
	if st := s.pending(3).Status; st != ledger.PendingExpired {
		t.Fatalf("after its expiry: %s", st)
	}
	s.approve("gone", "exchange-seoul", 3)
	if s.author(late.Doc) != "" {
		t.Fatal("an expired action took effect")
	}
	s.golden("pending.txt")
}

// TestCommunityRulesItself: a community changes its own members and rule
// by its own rule, without the Board; it may take another body as a
// member, whose own rule then counts, approving from its own machines; it
// cannot change another body, nor make a cycle, and only communities
// rule themselves.
func TestCommunityRulesItself(t *testing.T) {
	s := newStory(t)
	newRule := &SetMembers{As: "exchanges", Members: []Member{member("exchange-tokyo"), member("exchange-seoul"),
		{Name: "the custodians", Body: "custodians"}}, Threshold: 2}
	s.refused("unauthorized", "exchange-tokyo", "set-members", newRule)
	s.refused("unauthorized", "custodian-zurich", "set-members", newRule)
	s.refused("unauthorized", "secretariat", "set-members", &SetMembers{As: "secretariat", Members: []Member{member("alice")}, Threshold: 1})
	s.must("exchange-tokyo,exchange-seoul", "set-members", newRule)
	b, err := s.view().body("exchanges")
	if err != nil || b.Threshold != 2 || len(b.Members) != 3 {
		t.Fatalf("exchanges after set-members: %+v, %v", b, err)
	}
	s.refused("invalid", "custodian-zurich", "set-members",
		&SetMembers{As: "custodians", Members: []Member{member("custodian-zurich"), {Name: "exchanges", Body: "exchanges"}}, Threshold: 1})

	// The custodians, a member body (1 of its 2), approve from their own
	// machine: with exchange-tokyo, 2 of exchanges' 3 members.
	p := &Propose{As: "exchanges", Resource: RootResource, Doc: doc("Exchanges and custodians propose")}
	s.pend("ok", "custodian-ny", "exchanges", "propose", p, time.Minute)
	s.approve("conflict", "custodian-ny", 1)
	if st := s.pending(1).Status; st != ledger.PendingOpen {
		t.Fatalf("one member body is 1 of 2: %s", st)
	}
	s.approve("ok", "exchange-tokyo", 1)
	if st := s.pending(1).Status; st != ledger.PendingExecuted || s.author(p.Doc) != "exchanges" {
		t.Fatalf("nested approvals: %s, proposal by %q", st, s.author(p.Doc))
	}

	// The same message as another body than the one approved is refused.
	q := &Propose{As: "custodians", Resource: RootResource, Doc: doc("Custodians' own proposal")}
	s.pend("ok", "exchange-tokyo", "exchanges", "propose", q, time.Minute)
	s.approve("ok", "custodian-ny", 2)
	if pa := s.pending(2); pa.Status != ledger.PendingFailed {
		t.Fatalf("a message as custodians approved as exchanges: %s", pa.Status)
	}
	s.golden("community.txt")
}

// TestEmergencyAdviceIsTheCommunitys: the advice an emergency records is
// the advice the consulted community gave itself; the officer cannot
// attribute advice to a community, reuse it, or name another's.
func TestEmergencyAdviceIsTheCommunitys(t *testing.T) {
	s := newStory(t)
	suspend := action(t, s.e, "gov.set_entry", `{"resource":"issuers","key":"issuer-acme","value":"suspended"}`)
	usersAdvice := doc("Users: suspend")
	act := &Act{Title: "Suspend issuer-acme", Actions: []ledger.Action{suspend}, Minutes: doc("Minutes"),
		Consulted: "governments", Advice: doc("Governments: suspend (written by the officer)").ID()}
	s.refused("not_found", "role-operator", "emergency", act)
	s.must("alice", "advise", &Advise{As: "users", About: "emergency", Doc: usersAdvice})
	act.Advice = usersAdvice.ID()
	s.refused("unauthorized", "role-operator", "emergency", act) // the users' advice, not the governments'
	act.Consulted = "users"
	s.must("role-operator", "emergency", act)
	d, err := s.view().document(usersAdvice.ID())
	if err != nil || d.Author != "users" || d.Subject != "emergency 1" {
		t.Fatalf("the advice: %+v, %v", d, err)
	}
	again := *act
	again.Minutes = doc("Minutes, again")
	s.refused("conflict", "role-operator", "emergency", &again)
	s.golden("advice.txt")
}
