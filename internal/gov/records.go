package gov

import (
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Change statuses, in the order of the process.
const (
	StatusVoting          = "voting"            // the Board votes until Deadline
	StatusApproved        = "approved"          // the Secretariat opens public review by Deadline, or it opens then
	StatusRejected        = "rejected"          // the Board's vote failed (final)
	StatusReview          = "public-review"     // comments and objections until Deadline
	StatusReconsideration = "reconsideration"   // returned to the Board: a director revises it
	StatusRatified        = "ratified"          // executes at Deadline
	StatusStayed          = "stayed"            // due, but an independent review is pending
	StatusExecuted        = "executed"          // its actions took effect (final)
	StatusFailed          = "failed"            // its actions failed; Failure says why (final)
	StatusVetoed          = "vetoed"            // the communities rejected it (final)
	StatusApproval        = "awaiting-approval" // a fundamental change: the communities approve it by Deadline
	StatusNotApproved     = "not-approved"      // the communities did not approve it in time (final)
	StatusWithdrawn       = "withdrawn"         // its drafter withdrew it (final)
	StatusCancelled       = "cancelled"         // the Board cancelled it (final)
)

// Vote is a director's vote.
type Vote struct {
	Seat     uint32 `cbor:"1,keyasint" json:"seat"`
	Director string `cbor:"2,keyasint" json:"director"`
	Choice   string `cbor:"3,keyasint" json:"choice"`
	Time     Time   `cbor:"4,keyasint" json:"time"`
	// Key is the director's key: the vote counts while that key holds
	// the seat.
	Key *tx.PublicKey `cbor:"5,keyasint,omitempty" json:"key,omitempty"`
}

// Change is a Proposed change on its way through the process.
type Change struct {
	ID    uint64 `cbor:"1,keyasint" json:"id"`
	Title string `cbor:"2,keyasint" json:"title"`
	// Document is the proposed change's text; Proposals and Advice the
	// documents it consolidates.
	Document  string          `cbor:"3,keyasint" json:"document"`
	Proposals []string        `cbor:"4,keyasint,omitempty" json:"proposals,omitempty"`
	Advice    []string        `cbor:"5,keyasint,omitempty" json:"advice,omitempty"`
	Actions   []ledger.Action `cbor:"6,keyasint" json:"actions"`
	// Confirms names the emergency action this change confirms, if any.
	Confirms uint64 `cbor:"7,keyasint,omitempty" json:"confirms,omitempty"`
	// Supermajority is set when the change touches the Bylaws or bodies.
	Supermajority bool   `cbor:"8,keyasint,omitempty" json:"supermajority,omitempty"`
	Status        string `cbor:"9,keyasint" json:"status"`
	// Round counts the Board's votes on it, from 1.
	Round uint32 `cbor:"10,keyasint" json:"round"`
	Votes []Vote `cbor:"11,keyasint,omitempty" json:"votes,omitempty"`
	// Deadline ends the current step (voting, review, the execution
	// delay); Decided is when the Board last approved it.
	Deadline Time `cbor:"12,keyasint,omitempty" json:"deadline,omitempty"`
	Decided  Time `cbor:"13,keyasint,omitempty" json:"decided,omitempty"`
	// Objections are the communities objecting in this review.
	Objections []string `cbor:"14,keyasint,omitempty" json:"objections,omitempty"`
	Comments   uint32   `cbor:"15,keyasint,omitempty" json:"comments,omitempty"`
	// Ratified is the Ratified change document, once ratified.
	Ratified string `cbor:"16,keyasint,omitempty" json:"ratified,omitempty"`
	// Reviews pending that stay its execution.
	Reviews  []uint64 `cbor:"17,keyasint,omitempty" json:"reviews,omitempty"`
	Failure  string   `cbor:"18,keyasint,omitempty" json:"failure,omitempty"`
	Timeline []Step   `cbor:"19,keyasint" json:"timeline"`
	// Drafter is the key of the director who drafted (or last revised)
	// it, who may withdraw it before public review.
	Drafter *tx.PublicKey `cbor:"20,keyasint,omitempty" json:"drafter,omitempty"`
	// Requesters are everyone who requested its independent review, in
	// order (the Bylaws bound how many).
	Requesters []string `cbor:"21,keyasint,omitempty" json:"requesters,omitempty"`
}

// Emergency statuses.
const (
	EmergencyInEffect  = "in-effect"
	EmergencyConfirmed = "confirmed"
	EmergencyLapsed    = "lapsed"
)

// Emergency is an emergency action.
type Emergency struct {
	ID      uint64          `cbor:"1,keyasint" json:"id"`
	Title   string          `cbor:"2,keyasint" json:"title"`
	Officer string          `cbor:"3,keyasint" json:"officer"`
	Actions []ledger.Action `cbor:"4,keyasint" json:"actions"`
	// Changes are the state changes the actions made, which a lapse
	// reverts.
	Changes []ledger.Change `cbor:"5,keyasint" json:"-"`
	// Minutes and the consultation: the advisory community consulted and
	// its advice.
	Minutes   string `cbor:"6,keyasint" json:"minutes"`
	Consulted string `cbor:"7,keyasint" json:"consulted"`
	Advice    string `cbor:"8,keyasint" json:"advice"`
	Status    string `cbor:"9,keyasint" json:"status"`
	// Deadline is when it lapses unless confirmed.
	Deadline Time `cbor:"10,keyasint" json:"deadline"`
	// ConfirmedBy is the change that confirmed it.
	ConfirmedBy uint64 `cbor:"11,keyasint,omitempty" json:"confirmed_by,omitempty"`
	// Verification is the external verification's report, by Verifier.
	Verification string `cbor:"12,keyasint,omitempty" json:"verification,omitempty"`
	Verifier     string `cbor:"13,keyasint,omitempty" json:"verifier,omitempty"`
	// Kept lists state keys a lapse left alone because they had changed
	// since.
	Kept     []string `cbor:"14,keyasint,omitempty" json:"kept,omitempty"`
	Timeline []Step   `cbor:"15,keyasint" json:"timeline"`
	// VerifyBy is when its external verification is due; Overdue is set
	// when that passed unverified.
	VerifyBy Time `cbor:"16,keyasint,omitempty" json:"verify_by,omitempty"`
	Overdue  bool `cbor:"17,keyasint,omitempty" json:"overdue,omitempty"`
	// Over lists the keys whose value before this action another
	// emergency action, still unconfirmed, had written: a lapse restores
	// what was there before that one.
	Over []Layer `cbor:"18,keyasint,omitempty" json:"over,omitempty"`
}

// Layer is a state key an emergency action changed over another's.
type Layer struct {
	Key       string `cbor:"1,keyasint" json:"key"`
	Emergency uint64 `cbor:"2,keyasint" json:"emergency"`
}

// Review statuses.
const (
	ReviewRequested = "requested" // waiting for a panel
	ReviewPanel     = "panel"     // the panel deliberates
	ReviewUpheld    = "upheld"
	ReviewReturned  = "returned"
	ReviewLapsed    = "lapsed" // undeclared by Deadline: the decision stands
)

// Review is an independent review of a Board decision.
type Review struct {
	ID        uint64   `cbor:"1,keyasint" json:"id"`
	Change    uint64   `cbor:"2,keyasint" json:"change"`
	Requester string   `cbor:"3,keyasint" json:"requester"`
	Request   string   `cbor:"4,keyasint" json:"request"`
	Status    string   `cbor:"5,keyasint" json:"status"`
	Panel     []Member `cbor:"6,keyasint,omitempty" json:"panel,omitempty"`
	Threshold uint32   `cbor:"7,keyasint,omitempty" json:"threshold,omitempty"`
	// Declaration is the panel's declaration document.
	Declaration string `cbor:"8,keyasint,omitempty" json:"declaration,omitempty"`
	Timeline    []Step `cbor:"9,keyasint" json:"timeline"`
	// Deadline is when the review lapses undeclared.
	Deadline Time `cbor:"10,keyasint,omitempty" json:"deadline,omitempty"`
}

// Petition powers of the communities over the Board.
const (
	PowerReject = "reject" // reject a Board decision (a change not yet executed)
	PowerRemove = "remove" // remove the director of a seat
	PowerRecall = "recall" // recall the whole Board
	// PowerApprove approves a fundamental change (to the Bylaws or the
	// bodies) after public review.
	PowerApprove = "approve"
)

// Petition statuses.
const (
	PetitionOpen    = "open"
	PetitionCarried = "carried"
	PetitionExpired = "expired"
)

// Petition gathers communities' support for one of their powers.
type Petition struct {
	ID    uint64 `cbor:"1,keyasint" json:"id"`
	Power string `cbor:"2,keyasint" json:"power"`
	// Target is the change (reject, approve) or seat (remove); 0 for
	// recall.
	Target     uint64   `cbor:"3,keyasint,omitempty" json:"target,omitempty"`
	Supporters []string `cbor:"4,keyasint" json:"supporters"`
	Needed     uint32   `cbor:"5,keyasint" json:"needed"`
	Status     string   `cbor:"6,keyasint" json:"status"`
	Deadline   Time     `cbor:"7,keyasint" json:"deadline"`
	Timeline   []Step   `cbor:"8,keyasint" json:"timeline"`
	// Director is the person a remove petition is against: it removes
	// that director, not whoever holds the seat.
	Director *Member `cbor:"9,keyasint,omitempty" json:"director,omitempty"`
}

// Item is one agenda item of a working group (study figure 15).
type Item struct {
	Title    string `cbor:"1,keyasint" json:"title"`
	Status   string `cbor:"2,keyasint" json:"status"` // "new", "continued" or "done"
	Progress string `cbor:"3,keyasint,omitempty" json:"progress,omitempty"`
	Schedule string `cbor:"4,keyasint,omitempty" json:"schedule,omitempty"`
	// Review is the group director's review of the item.
	Review  string `cbor:"5,keyasint,omitempty" json:"review,omitempty"`
	Updated Time   `cbor:"6,keyasint" json:"updated"`
}

// Outcome is a working group's finding sent to advisory review.
type Outcome struct {
	Document string `cbor:"1,keyasint" json:"document"`
	To       string `cbor:"2,keyasint" json:"to"`
	// Advice is the advisory community's review, once given.
	Advice string `cbor:"3,keyasint,omitempty" json:"advice,omitempty"`
}

// Group is a working group (study figure 14).
type Group struct {
	ID       string    `cbor:"1,keyasint" json:"id"`
	Theme    string    `cbor:"2,keyasint" json:"theme"`
	Director Member    `cbor:"3,keyasint" json:"director"`
	Members  []Member  `cbor:"4,keyasint,omitempty" json:"members,omitempty"`
	Agenda   []Item    `cbor:"5,keyasint,omitempty" json:"agenda,omitempty"`
	Outcomes []Outcome `cbor:"6,keyasint,omitempty" json:"outcomes,omitempty"`
	Timeline []Step    `cbor:"7,keyasint" json:"timeline"`
}
