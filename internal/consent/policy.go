package consent

import (
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// The usage-control policy: Event–Condition–Action rules (docs/spec/consent.md).

// Events a rule answers (ODRL actions: dpv:Use, dpv:Store, dpv:Transfer, dpv:Erase).
const (
	EventUse      = "use"
	EventStore    = "store"
	EventTransfer = "transfer"
	EventDelete   = "delete"
)

// Events lists the events in their fixed order.
var Events = []string{EventUse, EventStore, EventTransfer, EventDelete}

// Actions a rule takes when its conditions hold.
const (
	ActAllow  = "allow"
	ActDeny   = "deny"
	ActModify = "modify"
	ActDelay  = "delay"
)

// Actions lists the actions in their fixed order.
var Actions = []string{ActAllow, ActDeny, ActModify, ActDelay}

// Modify methods (dpv:Anonymise, dpv:Aggregate).
var Methods = []string{"anonymise", "aggregate"}

// Limits.
const (
	MaxRules    = 32
	MaxItems    = 32
	MaxValues   = 16  // values of one condition
	MaxString   = 256 // a purpose, recipient, place, item type
	MaxValue    = 4096
	MaxChildren = 16 // contracts derived from one contract
	MaxDepth    = 4  // transfers from the subject's contract to the last processor
)

// Rule is one Event–Condition–Action rule. Its conditions are those it
// sets: a purpose list, a time window, a count, a recipient list, a place
// list; all of them must hold for its action to apply.
type Rule struct {
	Event string `cbor:"1,keyasint" json:"event"`
	// Conditions.
	Purposes   []string `cbor:"2,keyasint,omitempty" json:"purposes,omitempty"`
	NotBefore  int64    `cbor:"3,keyasint,omitempty" json:"not_before,omitempty"` // Unix ms
	NotAfter   int64    `cbor:"4,keyasint,omitempty" json:"not_after,omitempty"`  // Unix ms, exclusive
	MaxCount   uint32   `cbor:"5,keyasint,omitempty" json:"max_count,omitempty"`
	Recipients []string `cbor:"6,keyasint,omitempty" json:"recipients,omitempty"`
	Places     []string `cbor:"7,keyasint,omitempty" json:"places,omitempty"`
	// Action.
	Action string `cbor:"8,keyasint" json:"action"`
	Method string `cbor:"9,keyasint,omitempty" json:"method,omitempty"` // modify
	Delay  int64  `cbor:"10,keyasint,omitempty" json:"delay,omitempty"` // delay, ms
	// Obligations (execute), with a permitting action.
	Notify      bool  `cbor:"11,keyasint,omitempty" json:"notify,omitempty"`
	DeleteAfter int64 `cbor:"12,keyasint,omitempty" json:"delete_after,omitempty"` // ms
}

func checkList(what string, l []string) error {
	if len(l) > MaxValues {
		return fmt.Errorf("%w: %d %ss, at most %d", ledger.ErrInvalid, len(l), what, MaxValues)
	}
	for _, s := range l {
		if s == "" || len(s) > MaxString {
			return fmt.Errorf("%w: a %s is 1 to %d bytes", ledger.ErrInvalid, what, MaxString)
		}
	}
	return nil
}

// Validate checks the rule without state.
func (r *Rule) Validate() error {
	if !slices.Contains(Events, r.Event) {
		return fmt.Errorf("%w: event %q (want one of %v)", ledger.ErrInvalid, r.Event, Events)
	}
	for _, c := range []struct {
		what string
		l    []string
	}{{"purpose", r.Purposes}, {"recipient", r.Recipients}, {"place", r.Places}} {
		if err := checkList(c.what, c.l); err != nil {
			return err
		}
	}
	w := r.window()
	if err := w.validate(); err != nil {
		return err
	}
	a := r.act()
	return a.validate()
}

// Fingerprint domain tags.
const (
	TagDID      = "agora/consent/v1/did"
	TagItem     = "agora/consent/v1/item"
	TagContract = "agora/consent/v1/contract"
)

// Salt bounds, in bytes.
const (
	MinSalt = 16
	MaxSalt = 32
)

// Fingerprint is SHA-256(tag || 0x00 || len(salt) || salt || CBOR(v)), v
// in canonical CBOR (a DID as a text string, an Item, a slot of a rule).
func Fingerprint(tag string, salt []byte, v any) []byte {
	b, err := tx.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("consent: fingerprint of %T: %v", v, err)) // our own types always encode
	}
	h := sha256.New()
	h.Write([]byte(tag))
	h.Write([]byte{0, byte(len(salt))})
	h.Write(salt)
	h.Write(b)
	return h.Sum(nil)
}

func checkSalt(salt []byte) error {
	if len(salt) < MinSalt || len(salt) > MaxSalt {
		return fmt.Errorf("%w: a salt is %d to %d bytes", ledger.ErrInvalid, MinSalt, MaxSalt)
	}
	return nil
}

// Item is a data item: its type (a DPV personal data category such as
// dpv-pd:EmailAddress) and its value.
type Item struct {
	Type  string `cbor:"1,keyasint" json:"type"`
	Value string `cbor:"2,keyasint" json:"value"`
}

// Request is what a use asks: an event on items, for a purpose, to a
// recipient, at a place.
type Request struct {
	Event     string
	Purpose   string
	Recipient string
	Place     string
}

// Decision is the outcome of evaluating a policy.
type Decision struct {
	Action string // allow, deny, modify, delay
	Rule   int    // the deciding rule's index, -1 if none matched
	Method string
	Delay  int64
	Notify bool
	// DeleteAfter is the delete-after obligation, ms.
	DeleteAfter int64
	Reason      string
}

// Permits reports whether the decision lets the use go ahead (now or later).
func (d *Decision) Permits() bool { return d.Action != ActDeny }

// Evaluate decides req at time now (Unix ms) under the whole policy in
// the clear, counts[i] being how many uses rule i has permitted: the first
// rule whose conditions all hold decides; with none, the use is denied
// (ODRL: what no permission grants is prohibited). It is the holder's
// evaluation, from which Terms.Prove builds the proof the ledger checks
// with Decide; the two agree (TestDecideAgrees).
func Evaluate(rules []Rule, counts []uint32, req Request, now int64) Decision {
	for i := range rules {
		r := &rules[i]
		if r.Event != req.Event {
			continue
		}
		if len(r.Purposes) > 0 && !slices.Contains(r.Purposes, req.Purpose) {
			continue
		}
		if (r.NotBefore != 0 && now < r.NotBefore) || (r.NotAfter != 0 && now >= r.NotAfter) {
			continue
		}
		if r.MaxCount > 0 && counts[i] >= r.MaxCount {
			continue
		}
		if len(r.Recipients) > 0 && !slices.Contains(r.Recipients, req.Recipient) {
			continue
		}
		if len(r.Places) > 0 && !slices.Contains(r.Places, req.Place) {
			continue
		}
		return Decision{Action: r.Action, Rule: i, Method: r.Method, Delay: r.Delay,
			Notify: r.Notify, DeleteAfter: r.DeleteAfter, Reason: fmt.Sprintf("rule %d", i)}
	}
	return Decision{Action: ActDeny, Rule: -1, Reason: "no rule permits it"}
}
