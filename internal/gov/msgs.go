package gov

import (
	"fmt"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Messages. Each names the body it acts as (As) where a body acts; the
// transaction's signers must meet that body's rule.

// Propose submits a resource-direct community's Proposal.
type Propose struct {
	As  string `cbor:"1,keyasint"`
	Doc DocRef `cbor:"2,keyasint"`
	// Resource is what the proposal is about: a resource id, or "bylaws".
	Resource string `cbor:"3,keyasint"`
}

// Advise submits a resource-indirect community's Advice about a
// proposal, a change or a working group's outcome (a document id or
// "change N"), or, About "emergency", its advice when the emergency
// officer consults it.
type Advise struct {
	As    string `cbor:"1,keyasint"`
	Doc   DocRef `cbor:"2,keyasint"`
	About string `cbor:"3,keyasint"`
}

// Draft is a director's consolidation of proposals and advice into a
// Proposed change, which opens the Board's vote.
type Draft struct {
	Doc       DocRef          `cbor:"1,keyasint"`
	Proposals []string        `cbor:"2,keyasint,omitempty"`
	Advice    []string        `cbor:"3,keyasint,omitempty"`
	Actions   []ledger.Action `cbor:"4,keyasint"`
	Confirms  uint64          `cbor:"5,keyasint,omitempty"`
}

// Revise is a director's revision of a change returned for
// reconsideration, which opens a new round of voting.
type Revise struct {
	Change  uint64          `cbor:"1,keyasint"`
	Doc     DocRef          `cbor:"2,keyasint"`
	Actions []ledger.Action `cbor:"3,keyasint"`
}

// CastVote is a director's vote: "yes", "no" or "abstain".
type CastVote struct {
	Change uint64 `cbor:"1,keyasint"`
	Choice string `cbor:"2,keyasint"`
}

// Comment is a member's or director's comment on a change in voting or
// public review. As is a body the signer is a member of, or "board".
type Comment struct {
	Change uint64 `cbor:"1,keyasint"`
	As     string `cbor:"2,keyasint"`
	Doc    DocRef `cbor:"3,keyasint"`
}

// OpenReview is the Secretariat opening an approved change's public
// review.
type OpenReview struct {
	Change uint64 `cbor:"1,keyasint"`
}

// Object is a community's objection to a change in public review.
type Object struct {
	Change uint64 `cbor:"1,keyasint"`
	As     string `cbor:"2,keyasint"`
	Doc    DocRef `cbor:"3,keyasint"`
}

// RequestReview asks for independent review of the Board's decision on a
// change. As is an External Entity (acting by its rule) or any body the
// signer is a member of.
type RequestReview struct {
	Change uint64 `cbor:"1,keyasint"`
	As     string `cbor:"2,keyasint"`
	Doc    DocRef `cbor:"3,keyasint"`
}

// AssignPanel is the Secretariat assigning a review's panel.
type AssignPanel struct {
	Review    uint64   `cbor:"1,keyasint"`
	Panel     []Member `cbor:"2,keyasint"`
	Threshold uint32   `cbor:"3,keyasint"`
}

// Declare is a panel's declaration: "uphold" or "return".
type Declare struct {
	Review   uint64 `cbor:"1,keyasint"`
	Decision string `cbor:"2,keyasint"`
	Doc      DocRef `cbor:"3,keyasint"`
}

// Emergency action by the Bylaws' emergency officer.
type Act struct {
	Title   string          `cbor:"1,keyasint"`
	Actions []ledger.Action `cbor:"2,keyasint"`
	Minutes DocRef          `cbor:"3,keyasint"`
	// Consulted is the advisory community consulted, and Advice the id
	// of the advice that community gave itself ("advise", about
	// "emergency"): the officer cannot write it.
	Consulted string `cbor:"4,keyasint"`
	Advice    string `cbor:"5,keyasint"`
}

// VerifyEmergency records the external verification of an emergency
// action by an External Entity or the Ombudsman (As).
type VerifyEmergency struct {
	Emergency uint64 `cbor:"1,keyasint"`
	As        string `cbor:"2,keyasint"`
	Report    DocRef `cbor:"3,keyasint"`
}

// Petition opens or supports a petition of the communities. Power is
// "reject" (Target: a change), "remove" (Target: a seat, and Director:
// the key of the director it is against), "recall", or "approve"
// (Target: a fundamental change awaiting approval). Petition 0 opens a
// new one.
type PetitionMsg struct {
	Petition uint64        `cbor:"1,keyasint,omitempty"`
	Power    string        `cbor:"2,keyasint,omitempty"`
	Target   uint64        `cbor:"3,keyasint,omitempty"`
	As       string        `cbor:"4,keyasint"`
	Doc      DocRef        `cbor:"5,keyasint"`
	Director *tx.PublicKey `cbor:"6,keyasint,omitempty"`
}

// Appoint is a community appointing the director of one of its vacant
// seats.
type Appoint struct {
	As       string `cbor:"1,keyasint"`
	Seat     uint32 `cbor:"2,keyasint"`
	Director Member `cbor:"3,keyasint"`
}

// SetEntry is a resource's controller setting (or, with Delete, removing)
// one of its entries under its Policy.
type SetEntry struct {
	Resource string `cbor:"1,keyasint" json:"resource"`
	Key      string `cbor:"2,keyasint" json:"key"`
	Value    string `cbor:"3,keyasint,omitempty" json:"value,omitempty"`
	Delete   bool   `cbor:"4,keyasint,omitempty" json:"delete,omitempty"`
}

// Report records a report or minutes by the Secretariat or Ombudsman
// (As), or by the working group's director.
type Report struct {
	As      string `cbor:"1,keyasint"`
	Kind    string `cbor:"2,keyasint"` // "report" or "minutes"
	Doc     DocRef `cbor:"3,keyasint"`
	Subject string `cbor:"4,keyasint,omitempty"`
}

// CreateGroup is the Secretariat establishing a working group.
type CreateGroup struct {
	ID       string   `cbor:"1,keyasint"`
	Theme    string   `cbor:"2,keyasint"`
	Director Member   `cbor:"3,keyasint"`
	Members  []Member `cbor:"4,keyasint,omitempty"`
}

// Agenda is a working group director adding an item (Item 0) or updating
// item Item (from 1).
type Agenda struct {
	Group    string `cbor:"1,keyasint"`
	Item     uint32 `cbor:"2,keyasint,omitempty"`
	Title    string `cbor:"3,keyasint,omitempty"`
	Status   string `cbor:"4,keyasint"`
	Progress string `cbor:"5,keyasint,omitempty"`
	Schedule string `cbor:"6,keyasint,omitempty"`
	Review   string `cbor:"7,keyasint,omitempty"`
}

// SendOutcome is a working group director sending an outcome to an
// advisory (resource-indirect) community for review.
type SendOutcome struct {
	Group string `cbor:"1,keyasint"`
	Doc   DocRef `cbor:"2,keyasint"`
	To    string `cbor:"3,keyasint"`
}

// Withdraw is a change's drafter withdrawing it before public review.
type Withdraw struct {
	Change uint64 `cbor:"1,keyasint"`
	Doc    DocRef `cbor:"2,keyasint"`
}

// Cancel is the Board cancelling a change not yet executed: signed by a
// majority of the seated voting directors.
type Cancel struct {
	Change uint64 `cbor:"1,keyasint"`
	Doc    DocRef `cbor:"2,keyasint"`
}

// SetMembers is a community replacing its own members, its rule (k of
// its n members) and its internal policy, by its own rule.
type SetMembers struct {
	As        string   `cbor:"1,keyasint"`
	Members   []Member `cbor:"2,keyasint"`
	Threshold uint32   `cbor:"3,keyasint"`
	// Policy is the SHA-256 of the community's internal policy, if any.
	Policy string `cbor:"4,keyasint,omitempty"`
}

// Validate implements ledger.Msg.
func (m *SetMembers) Validate() error {
	if err := checkAs(m.As); err != nil {
		return err
	}
	b := Body{ID: m.As, Name: m.As, Kind: Direct, Members: m.Members, Threshold: m.Threshold, Policy: m.Policy}
	return b.Validate()
}

// msgTypes are the governance message types, in the order of the spec.
var msgTypes = []ledger.MsgType{
	{Name: "propose", Summary: "a resource-direct community proposes a change to a resource or the bylaws", New: func() ledger.Msg { return &Propose{} }},
	{Name: "advise", Summary: "a resource-indirect community advises on a proposal, change, outcome or emergency", New: func() ledger.Msg { return &Advise{} }},
	{Name: "draft", Summary: "a director consolidates proposals and advice into a change with actions", New: func() ledger.Msg { return &Draft{} }},
	{Name: "revise", Summary: "a director revises a change returned for reconsideration", New: func() ledger.Msg { return &Revise{} }},
	{Name: "vote", Summary: "a director votes yes, no or abstain on a change", New: func() ledger.Msg { return &CastVote{} }},
	{Name: "comment", Summary: "a member or director comments on a change in voting or review", New: func() ledger.Msg { return &Comment{} }},
	{Name: "open-review", Summary: "the Secretariat opens an approved change's public review", New: func() ledger.Msg { return &OpenReview{} }},
	{Name: "object", Summary: "a community objects to a change in public review", New: func() ledger.Msg { return &Object{} }},
	{Name: "request-review", Summary: "a community asks for independent review of the Board's decision", New: func() ledger.Msg { return &RequestReview{} }},
	{Name: "assign-panel", Summary: "the Secretariat assigns a review's panel", New: func() ledger.Msg { return &AssignPanel{} }},
	{Name: "declare", Summary: "a review panel declares: uphold or return", New: func() ledger.Msg { return &Declare{} }},
	{Name: "emergency", Summary: "the emergency officer takes an emergency action", New: func() ledger.Msg { return &Act{} }},
	{Name: "verify-emergency", Summary: "an External Entity or the Ombudsman verifies an emergency action", New: func() ledger.Msg { return &VerifyEmergency{} }},
	{Name: "petition", Summary: "a community opens or supports a petition (reject, remove, recall, approve)", New: func() ledger.Msg { return &PetitionMsg{} }},
	{Name: "appoint", Summary: "a community appoints the director of one of its vacant seats", New: func() ledger.Msg { return &Appoint{} }},
	{Name: "set-entry", Summary: "a resource's controller sets or removes one of its entries", New: func() ledger.Msg { return &SetEntry{} }},
	{Name: "report", Summary: "the Secretariat or Ombudsman records a report or minutes", New: func() ledger.Msg { return &Report{} }},
	{Name: "create-group", Summary: "the Secretariat establishes a working group", New: func() ledger.Msg { return &CreateGroup{} }},
	{Name: "agenda", Summary: "a working group director adds or updates an agenda item", New: func() ledger.Msg { return &Agenda{} }},
	{Name: "send-outcome", Summary: "a working group director sends an outcome to a body", New: func() ledger.Msg { return &SendOutcome{} }},
	{Name: "withdraw", Summary: "a change's drafter withdraws it before public review", New: func() ledger.Msg { return &Withdraw{} }},
	{Name: "cancel", Summary: "the Board cancels a change not yet executed", New: func() ledger.Msg { return &Cancel{} }},
	{Name: "set-members", Summary: "a community replaces its own members and rule", New: func() ledger.Msg { return &SetMembers{} }},
}

// MsgTypes implements ledger.Declarer.
func (Module) MsgTypes() []ledger.MsgType { return msgTypes }

// Decode implements ledger.Module.
func (Module) Decode(typ string, body []byte) (ledger.Msg, error) {
	return ledger.DecodeMsg(msgTypes, typ, body)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ledger.ErrInvalid}, args...)...)
}

func checkAs(as string) error {
	if !validID(as) {
		return invalid("as %q: name the body that acts", as)
	}
	return nil
}

func checkRefs(what string, refs []string) error {
	if len(refs) > MaxRefs {
		return invalid("%d %s, at most %d", len(refs), what, MaxRefs)
	}
	for _, r := range refs {
		if !validDigest(r) {
			return invalid("%s %q is not a document id (64 hex digits)", what, r)
		}
	}
	return nil
}

func checkActions(acts []ledger.Action, need bool) error {
	if need && len(acts) == 0 {
		return invalid("no actions: a change executes at least one")
	}
	if len(acts) > MaxActions {
		return invalid("%d actions, at most %d", len(acts), MaxActions)
	}
	for i, a := range acts {
		if a.Target == "" || a.Type == "" || len(a.Body) == 0 {
			return invalid("action %d is incomplete", i+1)
		}
	}
	return nil
}

func checkChange(id uint64) error {
	if id == 0 {
		return invalid("change 0: changes are numbered from 1")
	}
	return nil
}

// Validate implements ledger.Msg.
func (m *Propose) Validate() error {
	if err := checkAs(m.As); err != nil {
		return err
	}
	if m.Resource != "bylaws" && !validResourceID(m.Resource) {
		return invalid("resource %q: name a resource or \"bylaws\"", m.Resource)
	}
	return m.Doc.validate("proposal")
}

// Validate implements ledger.Msg.
func (m *Advise) Validate() error {
	if err := checkAs(m.As); err != nil {
		return err
	}
	if err := checkLabel("about", m.About); err != nil {
		return err
	}
	return m.Doc.validate("advice")
}

// Validate implements ledger.Msg.
func (m *Draft) Validate() error {
	if err := checkRefs("proposals", m.Proposals); err != nil {
		return err
	}
	if err := checkRefs("advice", m.Advice); err != nil {
		return err
	}
	if err := checkActions(m.Actions, true); err != nil {
		return err
	}
	return m.Doc.validate("proposed change")
}

// Validate implements ledger.Msg.
func (m *Revise) Validate() error {
	if err := checkChange(m.Change); err != nil {
		return err
	}
	if err := checkActions(m.Actions, true); err != nil {
		return err
	}
	return m.Doc.validate("revised change")
}

// Validate implements ledger.Msg.
func (m *CastVote) Validate() error {
	if err := checkChange(m.Change); err != nil {
		return err
	}
	if !contains([]string{"yes", "no", "abstain"}, m.Choice) {
		return invalid("vote %q: yes, no or abstain", m.Choice)
	}
	return nil
}

// Validate implements ledger.Msg.
func (m *Comment) Validate() error {
	if err := checkChange(m.Change); err != nil {
		return err
	}
	if m.As != "board" {
		if err := checkAs(m.As); err != nil {
			return err
		}
	}
	return m.Doc.validate("comment")
}

// Validate implements ledger.Msg.
func (m *OpenReview) Validate() error { return checkChange(m.Change) }

// Validate implements ledger.Msg.
func (m *Object) Validate() error {
	if err := checkChange(m.Change); err != nil {
		return err
	}
	if err := checkAs(m.As); err != nil {
		return err
	}
	return m.Doc.validate("objection")
}

// Validate implements ledger.Msg.
func (m *RequestReview) Validate() error {
	if err := checkChange(m.Change); err != nil {
		return err
	}
	if err := checkAs(m.As); err != nil {
		return err
	}
	return m.Doc.validate("review request")
}

// Validate implements ledger.Msg.
func (m *AssignPanel) Validate() error {
	if m.Review == 0 {
		return invalid("review 0: reviews are numbered from 1")
	}
	if len(m.Panel) == 0 || len(m.Panel) > MaxMembers {
		return invalid("a panel has 1 to %d members", MaxMembers)
	}
	seen := map[string]bool{}
	for i := range m.Panel {
		p := &m.Panel[i]
		if err := p.validate("panelist"); err != nil {
			return err
		}
		if p.Key == nil {
			return invalid("panelist %s must be a key", p.Name)
		}
		if seen[p.Key.Address()] {
			return invalid("panelist %s listed twice", p.Name)
		}
		seen[p.Key.Address()] = true
	}
	if m.Threshold == 0 || int(m.Threshold) > len(m.Panel) {
		return invalid("panel threshold %d of %d", m.Threshold, len(m.Panel))
	}
	return nil
}

// Validate implements ledger.Msg.
func (m *Declare) Validate() error {
	if m.Review == 0 {
		return invalid("review 0: reviews are numbered from 1")
	}
	if m.Decision != "uphold" && m.Decision != "return" {
		return invalid("declaration %q: uphold or return", m.Decision)
	}
	return m.Doc.validate("declaration")
}

// Validate implements ledger.Msg.
func (m *Act) Validate() error {
	if err := checkLabel("title", m.Title); err != nil {
		return err
	}
	if err := checkActions(m.Actions, true); err != nil {
		return err
	}
	if err := checkAs(m.Consulted); err != nil {
		return invalid("consulted: name the advisory community consulted")
	}
	if !validDigest(m.Advice) {
		return invalid("advice %q: name the document id of the advice the consulted community gave", m.Advice)
	}
	return m.Minutes.validate("minutes")
}

// Validate implements ledger.Msg.
func (m *VerifyEmergency) Validate() error {
	if m.Emergency == 0 {
		return invalid("emergency 0: emergencies are numbered from 1")
	}
	if err := checkAs(m.As); err != nil {
		return err
	}
	return m.Report.validate("verification report")
}

// Validate implements ledger.Msg.
func (m *PetitionMsg) Validate() error {
	if err := checkAs(m.As); err != nil {
		return err
	}
	if m.Petition == 0 {
		switch m.Power {
		case PowerReject, PowerRemove, PowerApprove:
			if m.Target == 0 {
				return invalid("a %s petition names its target", m.Power)
			}
			if (m.Director != nil) != (m.Power == PowerRemove) {
				return invalid("a remove petition, and only it, names the director it is against (director: their key)")
			}
			if m.Director != nil {
				if err := m.Director.Check(); err != nil {
					return invalid("director: %v", err)
				}
			}
		case PowerRecall:
			if m.Target != 0 || m.Director != nil {
				return invalid("a recall petition has no target")
			}
		default:
			return invalid("power %q: reject, remove, recall or approve", m.Power)
		}
	} else if m.Power != "" || m.Target != 0 || m.Director != nil {
		return invalid("supporting petition %d: give only the petition", m.Petition)
	}
	return m.Doc.validate("petition statement")
}

// Validate implements ledger.Msg.
func (m *Appoint) Validate() error {
	if err := checkAs(m.As); err != nil {
		return err
	}
	if m.Seat == 0 {
		return invalid("seat 0: seats are numbered from 1")
	}
	if err := m.Director.validate("director"); err != nil {
		return err
	}
	if m.Director.Key == nil {
		return invalid("a director is a key")
	}
	return nil
}

// Validate implements ledger.Msg.
func (m *SetEntry) Validate() error {
	if !validResourceID(m.Resource) {
		return invalid("resource %q", m.Resource)
	}
	if err := checkLabel("entry key", m.Key); err != nil {
		return err
	}
	if m.Delete && m.Value != "" {
		return invalid("a deletion has no value")
	}
	if !m.Delete && (m.Value == "" || len(m.Value) > MaxEntryValue) {
		return invalid("entry value must be 1 to %d bytes", MaxEntryValue)
	}
	return nil
}

// Validate implements ledger.Msg.
func (m *Report) Validate() error {
	if err := checkAs(m.As); err != nil {
		return err
	}
	if m.Kind != DocReport && m.Kind != DocMinutes {
		return invalid("kind %q: report or minutes", m.Kind)
	}
	if m.Subject != "" {
		if err := checkLabel("subject", m.Subject); err != nil {
			return err
		}
	}
	return m.Doc.validate(m.Kind)
}

// Validate implements ledger.Msg.
func (m *CreateGroup) Validate() error {
	if !validID(m.ID) {
		return invalid("group id %q: use 1 to 40 of a-z, 0-9 and -", m.ID)
	}
	if err := checkLabel("theme", m.Theme); err != nil {
		return err
	}
	if err := m.Director.validate("director"); err != nil {
		return err
	}
	if m.Director.Key == nil {
		return invalid("a working group's director is a key")
	}
	if len(m.Members) > MaxMembers {
		return invalid("at most %d members", MaxMembers)
	}
	for i := range m.Members {
		if err := m.Members[i].validate("member"); err != nil {
			return err
		}
	}
	return nil
}

// Validate implements ledger.Msg.
func (m *Agenda) Validate() error {
	if !validID(m.Group) {
		return invalid("group %q", m.Group)
	}
	if m.Item == 0 {
		if err := checkLabel("agenda item title", m.Title); err != nil {
			return err
		}
	}
	if !contains([]string{"new", "continued", "done"}, m.Status) {
		return invalid("item status %q: new, continued or done", m.Status)
	}
	for _, f := range []struct{ name, v string }{{"progress", m.Progress}, {"schedule", m.Schedule}, {"review", m.Review}, {"title", m.Title}} {
		if f.v != "" {
			if err := checkLabel(f.name, f.v); err != nil {
				return err
			}
		}
	}
	return nil
}

// Validate implements ledger.Msg.
func (m *SendOutcome) Validate() error {
	if !validID(m.Group) {
		return invalid("group %q", m.Group)
	}
	if err := checkAs(m.To); err != nil {
		return invalid("to: name the advisory community")
	}
	return m.Doc.validate("outcome")
}

// Validate implements ledger.Msg.
func (m *Withdraw) Validate() error {
	if err := checkChange(m.Change); err != nil {
		return err
	}
	return m.Doc.validate("withdrawal")
}

// Validate implements ledger.Msg.
func (m *Cancel) Validate() error {
	if err := checkChange(m.Change); err != nil {
		return err
	}
	return m.Doc.validate("cancellation")
}
