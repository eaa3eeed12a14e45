package gov

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

// FuzzDecode: whatever bytes arrive, Decode either refuses them or
// returns a valid message whose canonical encoding is exactly the input.
func FuzzDecode(f *testing.F) {
	act := ledger.Action{Target: "ledger", Type: "set_params", Body: []byte{0xa2, 0x01, 0x01, 0x02, 0x01}}
	d := doc("A document")
	for _, s := range []struct {
		typ string
		msg ledger.Msg
	}{
		{"propose", &Propose{As: "exchanges", Resource: "root", Doc: d}},
		{"advise", &Advise{As: "users", About: d.ID(), Doc: d}},
		{"draft", &Draft{Doc: d, Proposals: []string{d.ID()}, Actions: []ledger.Action{act}, Confirms: 1}},
		{"revise", &Revise{Change: 1, Doc: d, Actions: []ledger.Action{act}}},
		{"vote", &CastVote{Change: 1, Choice: "yes"}},
		{"comment", &Comment{Change: 1, As: "board", Doc: d}},
		{"open-review", &OpenReview{Change: 1}},
		{"object", &Object{Change: 1, As: "users", Doc: d}},
		{"request-review", &RequestReview{Change: 1, As: "auditors", Doc: d}},
		{"assign-panel", &AssignPanel{Review: 1, Panel: []Member{member("p")}, Threshold: 1}},
		{"declare", &Declare{Review: 1, Decision: "uphold", Doc: d}},
		{"emergency", &Act{Title: "t", Actions: []ledger.Action{act}, Minutes: d, Consulted: "users", Advice: d.ID()}},
		{"verify-emergency", &VerifyEmergency{Emergency: 1, As: "auditors", Report: d}},
		{"petition", &PetitionMsg{Power: PowerRemove, Target: 1, As: "users", Doc: d, Director: member("d").Key}},
		{"withdraw", &Withdraw{Change: 1, Doc: d}},
		{"cancel", &Cancel{Change: 1, Doc: d}},
		{"appoint", &Appoint{As: "users", Seat: 1, Director: member("d")}},
		{"set-entry", &SetEntry{Resource: "issuers", Key: "k", Value: "v"}},
		{"report", &Report{As: "secretariat", Kind: DocMinutes, Doc: d}},
		{"create-group", &CreateGroup{ID: "g", Theme: "t", Director: member("d")}},
		{"agenda", &Agenda{Group: "g", Title: "t", Status: "new"}},
		{"send-outcome", &SendOutcome{Group: "g", To: "users", Doc: d}},
		{"set-members", &SetMembers{As: "users", Members: []Member{member("a"), {Name: "b", Body: "consumers"}}, Threshold: 2}},
	} {
		b, err := tx.Marshal(s.msg)
		if err != nil {
			f.Fatal(err)
		}
		if _, err := (Module{}).Decode(s.typ, b); err != nil {
			f.Fatalf("seed %s: %v", s.typ, err)
		}
		f.Add(s.typ, b)
	}
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		ledgertest.Decoded(t, Module{}, typ, body)
	})
}

// FuzzGenesis: a genesis section either loads or is refused, never
// panics; one that loads exports and loads again to the same state.
func FuzzGenesis(f *testing.F) {
	demo, err := json.Marshal(Demo(pubFor))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(demo)
	f.Add([]byte(`{"bylaws":{},"bodies":[],"resources":[]}`))
	e, err := ledger.NewExecutor(testChain, Module{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := ledgertest.StartChain(t, e, ledgertest.Genesis(map[string]json.RawMessage{Name: raw}))
		if err != nil {
			return
		}
		back, err := e.ExportGenesis(c.State, c.Start)
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		again, err := e.InitGenesis(back)
		if err != nil {
			t.Fatalf("the exported genesis does not load: %v", err)
		}
		if !bytes.Equal(again.Header.AppHash, c.Head.AppHash) {
			t.Fatal("the exported genesis loads to another state")
		}
	})
}
