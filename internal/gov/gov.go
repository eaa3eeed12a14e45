// Package gov implements multi-stakeholder governance that the ledger
// executes: the ICANN-style model of the governance study (seeds/004,
// sections 1.4, 2.1 and 2.2.2.2) with its outcomes applied to the ledger's
// own state. docs/spec/governance.md is the user's guide.
//
// # Entities
//
// Every entity is a Body: a named set of members (keys, or other bodies —
// the study's recursive structure) with a rule, k of its n members. A body
// acts when its members meet its rule: together in one transaction, or
// over time, each approving a pending action of the ledger from its own
// machine (Module.Consent gives the ledger the rule). A community sets its
// own members by its own rule ("set-members"). Bodies are of one kind: resource-direct and resource-indirect stakeholder communities,
// the Resource Operating Legal Entity (ROLE), the Secretariat, the
// Ombudsman, and External Entities. The Board of Directors is a list of
// seats that the Bylaws allocate to communities: a resource-direct
// community's seats vote, a resource-indirect community's seats may speak
// (comment) but not vote. Each community appoints the directors of its
// vacant seats.
//
// # Resources and documents
//
// Resources form a tree: the root, operated by the ROLE under the Bylaws,
// and delegated parts, each controlled by a resource-direct community under
// its Policy. A resource holds entries (accredited issuers, names, ...)
// that its controller sets. Documents (Bylaws, Policies, Proposals, Advice,
// Proposed and Ratified changes, Reviews, Reports, Minutes, Comments) are
// content-addressed: the ledger holds the SHA-256 of the text, its kind,
// author, version and the transaction that carried it; the text itself is
// in that transaction or off the ledger at a URI.
//
// # The policy process
//
// A resource-direct community submits a Proposal ("propose"); a
// resource-indirect community submits Advice ("advise"). A director
// consolidates them into a Proposed change ("draft") carrying typed,
// executable actions (ledger.Action), which the Board votes on ("vote")
// until the voting period ends or every voting seat has voted: quorum and
// majority from the Bylaws, a supermajority when the change touches the
// Bylaws or the bodies. An approved change goes to Public review when the
// Secretariat opens it ("open-review"): any member may comment, and if
// enough communities object ("object") by the deadline it returns to the
// Board ("revise" starts a new round of voting); otherwise it is ratified,
// and after the execution delay its actions execute atomically
// (ledger.Context.Enact). A failed execution records why.
//
// # Review, emergencies and community powers
//
// An External Entity or a member may request independent review of a
// Board decision within the review window ("request-review"); the
// Secretariat assigns a panel ("assign-panel"), whose declaration
// ("declare") upholds the decision or returns it to the Board. Execution
// stays while a review is pending. The Bylaws' emergency officer may act
// at once ("emergency") with recorded minutes and a recorded consultation
// of an advisory (resource-indirect) community; the action lapses — its
// changes are reverted — unless a ratified change confirms it within the
// emergency period, and an external verification is recorded afterwards
// ("verify-emergency"). Communities together can reject a Board decision,
// remove a director or recall the Board ("petition"), each when enough of
// them support it within the petition window. Working groups have a
// theme, a director, members and agenda items with progress; their
// outcomes go to an advisory community for review.
//
// # Time
//
// Every deadline is in block time and is an entry in the ledger's
// scheduler, under the record's key ("c/<change>", "e/<emergency>",
// "ev/<emergency>" for its external verification, "v/<review>",
// "p/<petition>"). The module is a ledger.Scheduled: when the ledger runs
// a deadline that fell due (a vote closing, a review ending, a change
// executing, an emergency lapsing, a petition expiring) Due settles it,
// recording each step in the object's timeline.
//
// # State
//
// "bylaws", "board", "b/<body>", "r/<resource>", "re/<resource>/<key>",
// "d/<document>", "c/<change>", "e/<emergency>", "v/<review>",
// "p/<petition>", "g/<group>" and "n/<kind>" (counters); the deadlines
// are in the ledger's namespace, "ledger/sched/…".
package gov

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Name is the module's name; the ledger lets only it enact actions.
const Name = ledger.GovernanceModule

// Kinds of body.
const (
	Direct      = "resource-direct"   // stakeholder community with voting seats
	Indirect    = "resource-indirect" // stakeholder community with non-voting seats
	ROLE        = "role"              // Resource Operating Legal Entity
	Secretariat = "secretariat"
	Ombudsman   = "ombudsman"
	External    = "external"
)

var kinds = []string{Direct, Indirect, ROLE, Secretariat, Ombudsman, External}

// Limits.
const (
	MaxMembers    = 64
	MaxSeats      = 64
	MaxActions    = 16
	MaxText       = 16 << 10 // a document's inline text
	MaxTitle      = 200
	MaxRefs       = 32
	MaxNesting    = 4 // bodies within bodies
	MaxTimeline   = 512
	MaxAgenda     = 64
	MaxEntryValue = 1024
	maxPeriod     = Duration(366 * 24 * time.Hour / time.Millisecond)
)

// Time is a block time in Unix milliseconds: an integer in CBOR, RFC 3339
// in JSON.
type Time int64

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.UnixMilli(int64(t)).UTC().Format(time.RFC3339Nano))
}

// JSONSchema describes Time's JSON, for the API's OpenAPI document.
func (Time) JSONSchema() map[string]any {
	return map[string]any{"type": "string", "format": "date-time"}
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	*t = Time(v.UnixMilli())
	return err
}

// Duration is a period in milliseconds: an integer in CBOR, a Go duration
// string ("72h", "4s") in JSON.
type Duration uint64

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal((time.Duration(d) * time.Millisecond).String())
}

// JSONSchema describes Duration's JSON, for the API's OpenAPI document.
func (Duration) JSONSchema() map[string]any {
	return map[string]any{"type": "string", "description": `a Go duration, such as "72h" or "4s"`}
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v < 0 || v%time.Millisecond != 0 {
		return fmt.Errorf("duration %s is negative or finer than a millisecond", s)
	}
	*d = Duration(v / time.Millisecond)
	return nil
}

func (d Duration) String() string { return (time.Duration(d) * time.Millisecond).String() }

// Member is one member of a body: a key (a person or an organisation's
// signer) or another body, whose own rule must then be met.
type Member struct {
	Name string        `cbor:"1,keyasint" json:"name"`
	Key  *tx.PublicKey `cbor:"2,keyasint,omitempty" json:"key,omitempty"`
	Body string        `cbor:"3,keyasint,omitempty" json:"body,omitempty"`
}

func (m *Member) validate(what string) error {
	if err := checkLabel(what+" name", m.Name); err != nil {
		return err
	}
	switch {
	case m.Key != nil && m.Body == "":
		if err := m.Key.Check(); err != nil {
			return fmt.Errorf("%w: %s %s: %v", ledger.ErrInvalid, what, m.Name, err)
		}
	case m.Key == nil && m.Body != "":
		if !validID(m.Body) {
			return fmt.Errorf("%w: %s %s names body %q, not a valid id", ledger.ErrInvalid, what, m.Name, m.Body)
		}
	default:
		return fmt.Errorf("%w: %s %s must have exactly one of key and body", ledger.ErrInvalid, what, m.Name)
	}
	return nil
}

// Body is an entity of the governance model: a community, the ROLE, the
// Secretariat, the Ombudsman or an External Entity.
type Body struct {
	ID      string   `cbor:"1,keyasint" json:"id"`
	Name    string   `cbor:"2,keyasint" json:"name"`
	Kind    string   `cbor:"3,keyasint" json:"kind"`
	Members []Member `cbor:"4,keyasint" json:"members"`
	// Threshold is how many members must act for the body to act.
	Threshold uint32 `cbor:"5,keyasint" json:"threshold"`
	// Policy is the SHA-256 of the body's own internal policy, if any.
	Policy string `cbor:"6,keyasint,omitempty" json:"policy,omitempty"`
}

// Validate implements ledger.Msg.
func (b *Body) Validate() error {
	if !validID(b.ID) {
		return fmt.Errorf("%w: body id %q: use 1 to 40 of a-z, 0-9 and -", ledger.ErrInvalid, b.ID)
	}
	if err := checkLabel("body name", b.Name); err != nil {
		return err
	}
	if !contains(kinds, b.Kind) {
		return fmt.Errorf("%w: body kind %q (want one of %s)", ledger.ErrInvalid, b.Kind, strings.Join(kinds, ", "))
	}
	if len(b.Members) == 0 || len(b.Members) > MaxMembers {
		return fmt.Errorf("%w: body %s has %d members, want 1 to %d", ledger.ErrInvalid, b.ID, len(b.Members), MaxMembers)
	}
	seen := map[string]bool{}
	for i := range b.Members {
		m := &b.Members[i]
		if err := m.validate("member"); err != nil {
			return err
		}
		id := m.Body
		if m.Key != nil {
			id = m.Key.Address()
		}
		if seen[id] {
			return fmt.Errorf("%w: body %s lists member %s twice", ledger.ErrInvalid, b.ID, m.Name)
		}
		seen[id] = true
		if m.Body == b.ID {
			return fmt.Errorf("%w: body %s cannot be its own member", ledger.ErrInvalid, b.ID)
		}
	}
	if b.Threshold == 0 || int(b.Threshold) > len(b.Members) {
		return fmt.Errorf("%w: body %s threshold %d of %d members", ledger.ErrInvalid, b.ID, b.Threshold, len(b.Members))
	}
	if b.Policy != "" && !validDigest(b.Policy) {
		return fmt.Errorf("%w: body %s policy is not a SHA-256 digest", ledger.ErrInvalid, b.ID)
	}
	return nil
}

// Community reports whether the body is a stakeholder community.
func (b *Body) Community() bool { return b.Kind == Direct || b.Kind == Indirect }

// Allocation gives a community seats on the Board.
type Allocation struct {
	Body  string `cbor:"1,keyasint" json:"body"`
	Seats uint32 `cbor:"2,keyasint" json:"seats"`
}

// Bylaws are the rules of the whole Community: how the Board is made up
// and every period and threshold of the process. They change only by a
// ratified change (action gov.set_bylaws), which needs a supermajority.
// Proportions are in thousandths.
type Bylaws struct {
	// Document is the SHA-256 of the Bylaws' text; Version counts its
	// ratified versions from 1.
	Document string `cbor:"1,keyasint" json:"document"`
	Version  uint64 `cbor:"2,keyasint" json:"version"`
	// Seats allocates the Board's seats to communities, in seat order.
	Seats []Allocation `cbor:"3,keyasint" json:"seats"`
	// VotingPeriod is how long the Board votes on a change.
	VotingPeriod Duration `cbor:"4,keyasint" json:"voting_period"`
	// Quorum is the share of voting seats that must vote (yes, no or
	// abstain) for a vote to count.
	Quorum uint32 `cbor:"5,keyasint" json:"quorum"`
	// Majority is the share of yes among yes and no votes a change needs;
	// Supermajority the share a change to the Bylaws or bodies needs.
	Majority      uint32 `cbor:"6,keyasint" json:"majority"`
	Supermajority uint32 `cbor:"7,keyasint" json:"supermajority"`
	// ReviewPeriod is how long Public review lasts; Objections how many
	// communities objecting return the change to the Board.
	ReviewPeriod Duration `cbor:"8,keyasint" json:"review_period"`
	Objections   uint32   `cbor:"9,keyasint" json:"objections"`
	// ExecutionDelay separates ratification from execution; ReviewWindow
	// is how long after the Board's decision independent review may be
	// requested.
	ExecutionDelay Duration `cbor:"10,keyasint" json:"execution_delay"`
	ReviewWindow   Duration `cbor:"11,keyasint" json:"review_window"`
	// PetitionWindow is how long a petition gathers support; Reject,
	// Remove and Recall are how many communities carry a petition to
	// reject a Board decision, remove a director or recall the Board.
	PetitionWindow Duration `cbor:"12,keyasint" json:"petition_window"`
	Reject         uint32   `cbor:"13,keyasint" json:"reject"`
	Remove         uint32   `cbor:"14,keyasint" json:"remove"`
	Recall         uint32   `cbor:"15,keyasint" json:"recall"`
	// EmergencyOfficer is the body that may take emergency action;
	// EmergencyPeriod how long such an action lasts unconfirmed.
	EmergencyOfficer string   `cbor:"16,keyasint" json:"emergency_officer"`
	EmergencyPeriod  Duration `cbor:"17,keyasint" json:"emergency_period"`
	// ROLE, Secretariat and Ombudsman name the bodies in those roles.
	ROLE        string `cbor:"18,keyasint" json:"role"`
	Secretariat string `cbor:"19,keyasint" json:"secretariat"`
	Ombudsman   string `cbor:"20,keyasint" json:"ombudsman"`
	// SecretariatPeriod is how long the Secretariat has to open public
	// review of an approved change; when it passes, review opens without
	// it.
	SecretariatPeriod Duration `cbor:"21,keyasint" json:"secretariat_period"`
	// PanelPeriod is how long an independent review may take, from the
	// request to the panel's declaration; when it passes undeclared, the
	// review lapses and the Board's decision stands.
	PanelPeriod Duration `cbor:"22,keyasint" json:"panel_period"`
	// StaysPerRequester and StaysPerChange bound the reviews (each of which
	// stays execution) one requester, and all requesters together, may
	// request of one change.
	StaysPerRequester uint32 `cbor:"23,keyasint" json:"stays_per_requester"`
	StaysPerChange    uint32 `cbor:"24,keyasint" json:"stays_per_change"`
	// EmergencyScope lists the actions ("gov.set_entry") an emergency may
	// take; never the Bylaws, the bodies or the validator set.
	EmergencyScope []string `cbor:"25,keyasint" json:"emergency_scope"`
	// VerificationPeriod is how long after an emergency action its
	// external verification is due; while one is overdue, the officer
	// takes no new emergency action.
	VerificationPeriod Duration `cbor:"26,keyasint" json:"verification_period"`
	// Approve is how many communities must approve a fundamental change
	// (one to the Bylaws or the bodies) after public review for it to be
	// ratified: the Empowered Community's approval action.
	Approve uint32 `cbor:"27,keyasint" json:"approve"`
}

// Minimum periods: every deliberation must span several blocks (one a
// second in the dev configuration) so that each party has blocks in
// which to act; the execution delay, a pause, at least one block.
const (
	MinPeriod         = Duration(5 * time.Second / time.Millisecond)
	MinExecutionDelay = Duration(time.Second / time.Millisecond)
)

// outOfScope are actions no emergency may take, whatever the Bylaws say:
// the rules themselves and the validator set change only by the full
// process.
var outOfScope = []string{"gov.set_bylaws", "gov.set_body", "ledger.set_validator"}

// DefaultEmergencyScope is the emergency scope a genesis without one gets.
var DefaultEmergencyScope = []string{"gov.set_entry", "gov.set_policy", "ledger.set_params", "identity.set_params"}

// withDefaults fills the Bylaws fields a genesis section written before
// they existed leaves zero: each from a field it already has.
func (b *Bylaws) withDefaults() {
	if b.SecretariatPeriod == 0 {
		b.SecretariatPeriod = b.VotingPeriod
	}
	if b.PanelPeriod == 0 {
		b.PanelPeriod = b.ReviewWindow
	}
	if b.StaysPerRequester == 0 {
		b.StaysPerRequester = 1
	}
	if b.StaysPerChange == 0 {
		b.StaysPerChange = 3
	}
	if b.EmergencyScope == nil {
		b.EmergencyScope = DefaultEmergencyScope
	}
	if b.VerificationPeriod == 0 {
		b.VerificationPeriod = 2 * b.EmergencyPeriod
	}
	if b.Approve == 0 {
		b.Approve = b.Reject
	}
}

// Validate implements ledger.Msg: the checks that need no state.
func (b *Bylaws) Validate() error {
	if !validDigest(b.Document) {
		return fmt.Errorf("%w: bylaws document must be a SHA-256 digest (64 hex digits)", ledger.ErrInvalid)
	}
	n := 0
	seen := map[string]bool{}
	for _, a := range b.Seats {
		if !validID(a.Body) || a.Seats == 0 || seen[a.Body] {
			return fmt.Errorf("%w: seat allocation %q: each community once, with at least one seat", ledger.ErrInvalid, a.Body)
		}
		seen[a.Body] = true
		n += int(a.Seats)
	}
	if n == 0 || n > MaxSeats {
		return fmt.Errorf("%w: the Board has %d seats, want 1 to %d", ledger.ErrInvalid, n, MaxSeats)
	}
	for _, p := range []struct {
		name string
		d    Duration
	}{{"voting_period", b.VotingPeriod}, {"review_period", b.ReviewPeriod}, {"execution_delay", b.ExecutionDelay},
		{"review_window", b.ReviewWindow}, {"petition_window", b.PetitionWindow}, {"emergency_period", b.EmergencyPeriod},
		{"secretariat_period", b.SecretariatPeriod}, {"panel_period", b.PanelPeriod}, {"verification_period", b.VerificationPeriod}} {
		least := MinPeriod
		if p.name == "execution_delay" {
			least = MinExecutionDelay
		}
		if p.d < least || p.d > maxPeriod {
			return fmt.Errorf("%w: %s is %s; it must be between %s and 366 days (docs/spec/governance.md, minimum periods)", ledger.ErrInvalid, p.name, p.d, least)
		}
	}
	if len(b.EmergencyScope) > MaxActions {
		return fmt.Errorf("%w: emergency_scope lists %d actions, at most %d", ledger.ErrInvalid, len(b.EmergencyScope), MaxActions)
	}
	for _, a := range b.EmergencyScope {
		if target, typ, ok := strings.Cut(a, "."); !ok || target == "" || typ == "" {
			return fmt.Errorf("%w: emergency_scope %q: name an action as TARGET.TYPE (agora gov actions lists them)", ledger.ErrInvalid, a)
		}
		if contains(outOfScope, a) {
			return fmt.Errorf("%w: emergency_scope may not include %s: the Bylaws, the bodies and the validator set change only by the full process", ledger.ErrInvalid, a)
		}
	}
	for _, p := range []struct {
		name string
		v    uint32
	}{{"quorum", b.Quorum}, {"majority", b.Majority}, {"supermajority", b.Supermajority}} {
		if p.v == 0 || p.v > 1000 {
			return fmt.Errorf("%w: %s is in thousandths, 1 to 1000", ledger.ErrInvalid, p.name)
		}
	}
	if b.Supermajority < b.Majority {
		return fmt.Errorf("%w: supermajority below majority", ledger.ErrInvalid)
	}
	for _, p := range []struct {
		name string
		v    uint32
	}{{"objections", b.Objections}, {"reject", b.Reject}, {"remove", b.Remove}, {"recall", b.Recall}, {"approve", b.Approve},
		{"stays_per_requester", b.StaysPerRequester}, {"stays_per_change", b.StaysPerChange}} {
		if p.v == 0 {
			return fmt.Errorf("%w: %s must be at least 1", ledger.ErrInvalid, p.name)
		}
	}
	for _, r := range []struct{ name, id string }{{"emergency_officer", b.EmergencyOfficer}, {"role", b.ROLE}, {"secretariat", b.Secretariat}, {"ombudsman", b.Ombudsman}} {
		if !validID(r.id) {
			return fmt.Errorf("%w: %s must name a body", ledger.ErrInvalid, r.name)
		}
	}
	return nil
}

// Seat is one seat on the Board. Its number is its place in the Board,
// from 1.
type Seat struct {
	Body   string `cbor:"1,keyasint" json:"body"`
	Voting bool   `cbor:"2,keyasint" json:"voting"`
	// Director is nil while the seat is vacant.
	Director *Member `cbor:"3,keyasint,omitempty" json:"director,omitempty"`
	// Tenure is the director's tenure record (GET /v1/gov/tenures/{id}).
	Tenure uint64 `cbor:"4,keyasint,omitempty" json:"tenure,omitempty"`
}

// Tenure is one director's time in one seat: the Board's history.
type Tenure struct {
	ID       uint64 `cbor:"1,keyasint" json:"id"`
	Seat     uint32 `cbor:"2,keyasint" json:"seat"`
	Body     string `cbor:"3,keyasint" json:"body"`
	Director Member `cbor:"4,keyasint" json:"director"`
	// From is when the director took the seat (0: at genesis), To when
	// the tenure ended (0: still seated), and Ended by what.
	From  Time   `cbor:"5,keyasint,omitempty" json:"from,omitempty"`
	To    Time   `cbor:"6,keyasint,omitempty" json:"to,omitempty"`
	Ended string `cbor:"7,keyasint,omitempty" json:"ended,omitempty"`
}

// Board is the Board of Directors.
type Board struct {
	Seats []Seat `cbor:"1,keyasint" json:"seats"`
}

// Resource is the root of the governed resources or a delegated part.
type Resource struct {
	ID string `cbor:"1,keyasint" json:"id"`
	// Parent is "" for the root.
	Parent string `cbor:"2,keyasint,omitempty" json:"parent,omitempty"`
	Name   string `cbor:"3,keyasint" json:"name"`
	// Controller is the body that sets the resource's entries: the ROLE
	// for the root, a resource-direct community for a delegated part.
	Controller string `cbor:"4,keyasint" json:"controller"`
	// Policy is the SHA-256 of the Policy the controller acts under, and
	// PolicyVersion counts its versions.
	Policy        string `cbor:"5,keyasint,omitempty" json:"policy,omitempty"`
	PolicyVersion uint64 `cbor:"6,keyasint,omitempty" json:"policy_version,omitempty"`
}

// Validate implements ledger.Msg.
func (r *Resource) Validate() error {
	if !validResourceID(r.ID) {
		return fmt.Errorf("%w: resource id %q: use a-z, 0-9, - and . (up to 64)", ledger.ErrInvalid, r.ID)
	}
	if r.Parent != "" && !validResourceID(r.Parent) {
		return fmt.Errorf("%w: resource parent %q", ledger.ErrInvalid, r.Parent)
	}
	if err := checkLabel("resource name", r.Name); err != nil {
		return err
	}
	if !validID(r.Controller) {
		return fmt.Errorf("%w: resource controller %q", ledger.ErrInvalid, r.Controller)
	}
	if r.Policy != "" && !validDigest(r.Policy) {
		return fmt.Errorf("%w: resource policy is not a SHA-256 digest", ledger.ErrInvalid)
	}
	return nil
}

// RootResource is the id of the root resource.
const RootResource = "root"

// Entry is one entry of a resource: an accredited issuer of a registry, a
// name of a namespace, ... Other modules read them (ledger.Context.View).
type Entry struct {
	Key   string `cbor:"1,keyasint" json:"key"`
	Value string `cbor:"2,keyasint" json:"value"`
	// By is the body that set it; Height and Time when.
	By     string `cbor:"3,keyasint" json:"by"`
	Height uint64 `cbor:"4,keyasint" json:"height,omitempty"`
	Time   Time   `cbor:"5,keyasint" json:"time,omitempty"`
	// Provenance: the ratified change that set it, or the emergency
	// action (whose record says whether it is in effect, confirmed or
	// lapsed); both 0 when its controller set it.
	Change    uint64 `cbor:"6,keyasint,omitempty" json:"change,omitempty"`
	Emergency uint64 `cbor:"7,keyasint,omitempty" json:"emergency,omitempty"`
}

// Document kinds.
const (
	DocBylaws   = "bylaws"
	DocPolicy   = "policy"
	DocProposal = "proposal"
	DocAdvice   = "advice"
	DocProposed = "proposed-change"
	DocRatified = "ratified-change"
	DocReview   = "review"
	DocReport   = "report"
	DocMinutes  = "minutes"
	DocComment  = "comment"
	DocOutcome  = "outcome"
)

// Document is the ledger's record of a governance document.
type Document struct {
	// ID is the SHA-256 of the text, in hex.
	ID     string `cbor:"1,keyasint" json:"id"`
	Kind   string `cbor:"2,keyasint" json:"kind"`
	Title  string `cbor:"3,keyasint" json:"title"`
	Author string `cbor:"4,keyasint" json:"author"`
	// URI is where the text lives when it is not in the transaction.
	URI string `cbor:"5,keyasint,omitempty" json:"uri,omitempty"`
	// Inline says the text is in the transaction TxID.
	Inline bool `cbor:"6,keyasint,omitempty" json:"inline,omitempty"`
	// Subject is what the document is about ("change 3", a resource, a
	// document id).
	Subject string `cbor:"7,keyasint,omitempty" json:"subject,omitempty"`
	// Version numbers the Bylaws and each resource's Policy.
	Version uint64 `cbor:"8,keyasint,omitempty" json:"version,omitempty"`
	TxID    tx.ID  `cbor:"9,keyasint" json:"tx_hash"`
	Height  uint64 `cbor:"10,keyasint" json:"height"`
	Time    Time   `cbor:"11,keyasint" json:"time"`
}

// DocRef is a document as a message carries it: its digest and title, with
// its text inline or its URI.
type DocRef struct {
	SHA256 []byte `cbor:"1,keyasint" json:"sha256"`
	Title  string `cbor:"2,keyasint" json:"title"`
	Text   string `cbor:"3,keyasint,omitempty" json:"text,omitempty"`
	URI    string `cbor:"4,keyasint,omitempty" json:"uri,omitempty"`
}

// NewDocRef returns a DocRef for text kept inline.
func NewDocRef(title, text string) DocRef {
	sum := sha256.Sum256([]byte(text))
	return DocRef{SHA256: sum[:], Title: title, Text: text}
}

// ID returns the document's id: its digest in hex.
func (d DocRef) ID() string { return hex.EncodeToString(d.SHA256) }

func (d *DocRef) validate(what string) error {
	if len(d.SHA256) != sha256.Size {
		return fmt.Errorf("%w: %s: sha256 must be 32 bytes", ledger.ErrInvalid, what)
	}
	if err := checkLabel(what+" title", d.Title); err != nil {
		return err
	}
	if len(d.Text) > MaxText {
		return fmt.Errorf("%w: %s text is %d bytes, at most %d inline (keep it off the ledger and give its URI)", ledger.ErrInvalid, what, len(d.Text), MaxText)
	}
	if d.Text != "" {
		if !utf8.ValidString(d.Text) {
			return fmt.Errorf("%w: %s text is not UTF-8", ledger.ErrInvalid, what)
		}
		if sum := sha256.Sum256([]byte(d.Text)); string(sum[:]) != string(d.SHA256) {
			return fmt.Errorf("%w: %s text does not hash to its sha256", ledger.ErrInvalid, what)
		}
	}
	if d.Text == "" && d.URI == "" {
		return fmt.Errorf("%w: %s needs its text inline or a URI where it lives", ledger.ErrInvalid, what)
	}
	if len(d.URI) > 512 || strings.ContainsFunc(d.URI, unicode.IsSpace) {
		return fmt.Errorf("%w: %s URI", ledger.ErrInvalid, what)
	}
	return nil
}

// Step is one entry of a timeline: what happened, by whom, when.
type Step struct {
	Height uint64 `cbor:"1,keyasint" json:"height"`
	Time   Time   `cbor:"2,keyasint" json:"time"`
	What   string `cbor:"3,keyasint" json:"what"`
	By     string `cbor:"4,keyasint,omitempty" json:"by,omitempty"`
	Doc    string `cbor:"5,keyasint,omitempty" json:"doc,omitempty"`
	Note   string `cbor:"6,keyasint,omitempty" json:"note,omitempty"`
}

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

func validID(s string) bool { return idRE.MatchString(s) }

var resourceRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,63}$`)

func validResourceID(s string) bool { return resourceRE.MatchString(s) }

func validDigest(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size && s == strings.ToLower(s)
}

func checkLabel(what, s string) error {
	if s == "" || len(s) > MaxTitle || !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return fmt.Errorf("%w: %s must be 1 to %d printable characters", ledger.ErrInvalid, what, MaxTitle)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
