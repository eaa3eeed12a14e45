package consent

import (
	"bytes"
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

// Condition kinds, in their fixed order (ODRL constraint left operands:
// purpose, dateTime, count, recipient, spatial).
const (
	CondPurpose   = "purpose"
	CondWindow    = "window"
	CondCount     = "count"
	CondRecipient = "recipient"
	CondPlace     = "place"
)

// Conditions lists the condition kinds in their fixed order.
var Conditions = []string{CondPurpose, CondWindow, CondCount, CondRecipient, CondPlace}

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

// Kinds returns the kinds of the conditions the rule sets, in their fixed order.
func (r *Rule) Kinds() []string {
	var out []string
	if len(r.Purposes) > 0 {
		out = append(out, CondPurpose)
	}
	if r.NotBefore != 0 || r.NotAfter != 0 {
		out = append(out, CondWindow)
	}
	if r.MaxCount > 0 {
		out = append(out, CondCount)
	}
	if len(r.Recipients) > 0 {
		out = append(out, CondRecipient)
	}
	if len(r.Places) > 0 {
		out = append(out, CondPlace)
	}
	return out
}

// Shape is the part of a rule the ledger shows: its event, the kinds of
// its conditions and its action, with the salted fingerprint of the whole
// rule. The values (which purposes, when, how many, to whom, where, which
// method, how long) stay hidden until the controller presents the rule.
type Shape struct {
	Event       string   `cbor:"1,keyasint" json:"event"`
	Conditions  []string `cbor:"2,keyasint,omitempty" json:"conditions,omitempty"`
	Action      string   `cbor:"3,keyasint" json:"action"`
	Fingerprint []byte   `cbor:"4,keyasint" json:"fingerprint"`
}

// Shape returns the rule's shape with the fingerprint under salt.
func (r *Rule) Shape(salt []byte) Shape {
	return Shape{Event: r.Event, Conditions: r.Kinds(), Action: r.Action, Fingerprint: Fingerprint(TagRule, salt, r)}
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
	if r.NotBefore < 0 || r.NotAfter < 0 || (r.NotAfter != 0 && r.NotAfter <= r.NotBefore) {
		return fmt.Errorf("%w: time window [%d, %d) is empty or negative", ledger.ErrInvalid, r.NotBefore, r.NotAfter)
	}
	if !slices.Contains(Actions, r.Action) {
		return fmt.Errorf("%w: action %q (want one of %v)", ledger.ErrInvalid, r.Action, Actions)
	}
	if (r.Action == ActModify) != slices.Contains(Methods, r.Method) {
		return fmt.Errorf("%w: a modify rule names a method of %v, and only it", ledger.ErrInvalid, Methods)
	}
	if (r.Action == ActDelay) != (r.Delay > 0) {
		return fmt.Errorf("%w: a delay rule sets a positive delay, and only it", ledger.ErrInvalid)
	}
	if r.Action == ActDeny && (r.Notify || r.DeleteAfter != 0) {
		return fmt.Errorf("%w: a deny rule has no obligations", ledger.ErrInvalid)
	}
	if r.DeleteAfter < 0 {
		return fmt.Errorf("%w: delete_after is negative", ledger.ErrInvalid)
	}
	return nil
}

func (s *Shape) validate() error {
	if !slices.Contains(Events, s.Event) || !slices.Contains(Actions, s.Action) {
		return fmt.Errorf("%w: rule shape %s/%s: unknown event or action", ledger.ErrInvalid, s.Event, s.Action)
	}
	last := -1
	for _, c := range s.Conditions {
		i := slices.Index(Conditions, c)
		if i <= last {
			return fmt.Errorf("%w: rule shape's conditions %v are not distinct kinds of %v in order", ledger.ErrInvalid, s.Conditions, Conditions)
		}
		last = i
	}
	if len(s.Fingerprint) != sha256.Size {
		return fmt.Errorf("%w: a fingerprint is %d bytes", ledger.ErrInvalid, sha256.Size)
	}
	return nil
}

// Fingerprint domain tags.
const (
	TagDID      = "agora/consent/v1/did"
	TagItem     = "agora/consent/v1/item"
	TagRule     = "agora/consent/v1/rule"
	TagContract = "agora/consent/v1/contract"
)

// Salt bounds, in bytes.
const (
	MinSalt = 16
	MaxSalt = 32
)

// Fingerprint is SHA-256(tag || 0x00 || len(salt) || salt || CBOR(v)), v
// in canonical CBOR (a DID as a text string, an Item, a Rule).
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

// Presented is a rule the controller presents on a use, with its index
// in the contract and its salt.
type Presented struct {
	Index uint32 `cbor:"1,keyasint" json:"index"`
	Salt  []byte `cbor:"2,keyasint" json:"salt"`
	Rule  Rule   `cbor:"3,keyasint" json:"rule"`
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

// checkPresented checks that rules are exactly the contract's rules for
// the request's event, each matching its shape and fingerprint.
func checkPresented(shapes []Shape, event string, rules []Presented) error {
	var want []uint32
	for i := range shapes {
		if shapes[i].Event == event {
			want = append(want, uint32(i))
		}
	}
	got := make([]uint32, len(rules))
	for i := range rules {
		got[i] = rules[i].Index
	}
	if !slices.Equal(want, got) {
		return fmt.Errorf("%w: the contract's %s rules are %v; %v were presented (all of them, in order)", ledger.ErrInvalid, event, want, got)
	}
	for _, p := range rules {
		s := &shapes[p.Index]
		if p.Rule.Event != s.Event || p.Rule.Action != s.Action || !slices.Equal(p.Rule.Kinds(), s.Conditions) {
			return fmt.Errorf("%w: rule %d is not of the contract's shape %s %v %s", ledger.ErrInvalid, p.Index, s.Event, s.Conditions, s.Action)
		}
		if !bytes.Equal(Fingerprint(TagRule, p.Salt, &p.Rule), s.Fingerprint) {
			return fmt.Errorf("%w: rule %d and its salt do not match the contract's fingerprint", ledger.ErrUnauthorized, p.Index)
		}
	}
	return nil
}

// Evaluate decides req at time now (Unix ms) under the presented rules,
// counts[i] being how many uses rule i has permitted: the first rule whose
// conditions all hold decides; with none, the use is denied (ODRL: what no
// permission grants is prohibited). It is deterministic.
func Evaluate(rules []Presented, counts []uint32, req Request, now int64) Decision {
	for _, p := range rules {
		r := &p.Rule
		if r.Event != req.Event {
			continue
		}
		if len(r.Purposes) > 0 && !slices.Contains(r.Purposes, req.Purpose) {
			continue
		}
		if (r.NotBefore != 0 && now < r.NotBefore) || (r.NotAfter != 0 && now >= r.NotAfter) {
			continue
		}
		if r.MaxCount > 0 && counts[p.Index] >= r.MaxCount {
			continue
		}
		if len(r.Recipients) > 0 && !slices.Contains(r.Recipients, req.Recipient) {
			continue
		}
		if len(r.Places) > 0 && !slices.Contains(r.Places, req.Place) {
			continue
		}
		return Decision{Action: r.Action, Rule: int(p.Index), Method: r.Method, Delay: r.Delay,
			Notify: r.Notify, DeleteAfter: r.DeleteAfter, Reason: fmt.Sprintf("rule %d", p.Index)}
	}
	return Decision{Action: ActDeny, Rule: -1, Reason: "no rule permits it"}
}
