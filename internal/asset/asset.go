// Package asset implements oracle-triggered assets (use case ENT-001,
// Lithopia): a registry of assets (a parcel, a resource) whose owner is a
// DID, and rules on an asset that transfer it when enough accredited data
// providers sign an observation that matches a condition: "when 2 of
// these 3 satellite providers see the marker within 50 m of the parcel
// between these dates, the parcel goes to did:agora:…".
//
// # Providers
//
// The data providers are accredited by governance: an entry of the
// governance resource ProvidersResource ("oracles") whose key is the
// provider's name and whose value is its public key ("ed25519:…"). Only
// a signature by the key the registry holds, when the signature is
// counted, counts.
//
// # Messages
//
// "register" (Register): a key acting for the owner DID registers an
// asset. "add-rule" (AddRule): the owner adds a rule. "submit" (Submit):
// anyone submits an observation with one or more providers' signatures;
// the ledger checks the observation against the rule's condition, keeps
// the signatures that count (a provider of the rule, accredited now, whose
// registered key signed), adds them to what earlier submissions of the
// same observation gathered, and when they reach the rule's threshold
// the rule fires: one Trigger, with its signatures, transfers the asset.
// A rule fires once. "dispute" (Dispute): within the rule's dispute
// window, the previous owner disputes a trigger; the asset is then frozen
// until governance decides.
//
// # Governed actions
//
// "asset.reverse" gives the asset back to the owner before the trigger
// (a trigger still in its dispute window, or disputed); "asset.uphold"
// closes a dispute and leaves the transfer in place.
//
// # State
//
// "asset/a/<id>" an Asset, "asset/h/<id>/<n>" its n-th Event,
// "asset/r/<id>/<n>" its n-th Rule, "asset/p/<id>/<n>/<hex digest>" the
// signatures gathered so far for an observation under rule n (Pending),
// "asset/t/<n>" Trigger n, and "asset/seq" the last trigger's number.
// docs/spec/assets.md is the specification.
package asset

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Name is the module's name.
const Name = "asset"

// ProvidersResource is the governance resource whose entries are the
// accredited data providers: key the provider's name, value its public
// key in the form "alg:base64url".
const ProvidersResource = "oracles"

// Bounds.
const (
	MaxDescription   = 1024
	MaxMetadata      = 16
	MaxMetaValue     = 256
	MaxProviders     = 16
	MaxRadius        = 100_000 // metres
	MaxDisputeWindow = 30 * 24 * 3600 * 1000
	MaxReason        = 1024
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,63}$`)

func validName(s string) bool { return nameRE.MatchString(s) }

func checkText(what, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%w: %s is %d bytes, at most %d", ledger.ErrInvalid, what, len(s), max)
	}
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) {
		return fmt.Errorf("%w: %s has control characters", ledger.ErrInvalid, what)
	}
	return nil
}

func checkDID(what, did string) error {
	if !strings.HasPrefix(did, "did:") || len(did) > 256 || strings.ContainsAny(did, " \n\t") {
		return fmt.Errorf("%w: %s %q is not a DID", ledger.ErrInvalid, what, did)
	}
	return nil
}

// Meta is one metadata item of an asset.
type Meta struct {
	Key   string `cbor:"1,keyasint" json:"key"`
	Value string `cbor:"2,keyasint" json:"value"`
}

// Register is the body of a "register" transaction.
type Register struct {
	ID          string `cbor:"1,keyasint" json:"id"`
	Description string `cbor:"2,keyasint,omitempty" json:"description,omitempty"`
	// Owner is the owner's DID; a key acting for it
	// (capabilityInvocation) signs.
	Owner string `cbor:"3,keyasint" json:"owner"`
	Place Point  `cbor:"4,keyasint" json:"place"`
	// Metadata is sorted by key, each key once.
	Metadata []Meta `cbor:"5,keyasint,omitempty" json:"metadata,omitempty"`
}

// Validate implements ledger.Msg.
func (m *Register) Validate() error {
	if !validName(m.ID) {
		return fmt.Errorf("%w: asset id %q: use a-z, 0-9, - and . (up to 64)", ledger.ErrInvalid, m.ID)
	}
	if err := checkText("description", m.Description, MaxDescription); err != nil {
		return err
	}
	if err := checkDID("owner", m.Owner); err != nil {
		return err
	}
	if err := m.Place.Validate(); err != nil {
		return err
	}
	if len(m.Metadata) > MaxMetadata {
		return fmt.Errorf("%w: %d metadata items, at most %d", ledger.ErrInvalid, len(m.Metadata), MaxMetadata)
	}
	for i, md := range m.Metadata {
		if !validName(md.Key) {
			return fmt.Errorf("%w: metadata key %q: use a-z, 0-9, - and . (up to 64)", ledger.ErrInvalid, md.Key)
		}
		if i > 0 && m.Metadata[i-1].Key >= md.Key {
			return fmt.Errorf("%w: metadata must be sorted by key, each key once (%q)", ledger.ErrInvalid, md.Key)
		}
		if err := checkText("metadata value", md.Value, MaxMetaValue); err != nil {
			return err
		}
	}
	return nil
}

// Condition is what an observation must show for a rule to count it.
type Condition struct {
	// Type is the observation type it must have.
	Type string `cbor:"1,keyasint" json:"type"`
	// Center and Radius (metres, 1 to MaxRadius): the observation's place
	// must be within Radius of Center (DistanceWithin).
	Center Point  `cbor:"2,keyasint" json:"center"`
	Radius uint32 `cbor:"3,keyasint" json:"radius"`
	// From and Until (Unix milliseconds, inclusive) bound the
	// observation's time.
	From  int64 `cbor:"4,keyasint" json:"from"`
	Until int64 `cbor:"5,keyasint" json:"until"`
	// MinValue is the least value that counts.
	MinValue int64 `cbor:"6,keyasint" json:"min_value"`
}

// Validate checks the condition without state.
func (c *Condition) Validate() error {
	if !validName(c.Type) {
		return fmt.Errorf("%w: condition type %q: use a-z, 0-9, - and . (up to 64)", ledger.ErrInvalid, c.Type)
	}
	if err := c.Center.Validate(); err != nil {
		return err
	}
	if c.Radius == 0 || c.Radius > MaxRadius {
		return fmt.Errorf("%w: radius %d m: want 1 to %d", ledger.ErrInvalid, c.Radius, MaxRadius)
	}
	if c.From <= 0 || c.Until < c.From {
		return fmt.Errorf("%w: the time window must start after 1970 and end at or after its start", ledger.ErrInvalid)
	}
	return nil
}

// Match says why o does not meet the condition, or nil if it does.
func (c *Condition) Match(o *Observation) error {
	switch {
	case o.Type != c.Type:
		return fmt.Errorf("the observation is of type %q, the condition wants %q", o.Type, c.Type)
	case !DistanceWithin(c.Center, o.Place, c.Radius):
		return fmt.Errorf("the observation at %s is not within %d m of %s", o.Place, c.Radius, c.Center)
	case o.Time < c.From || o.Time > c.Until:
		return fmt.Errorf("the observation's time is outside the condition's window")
	case o.Value < c.MinValue:
		return fmt.Errorf("the observation's value %d is below the condition's %d", o.Value, c.MinValue)
	}
	return nil
}

// AddRule is the body of an "add-rule" transaction.
type AddRule struct {
	Asset     string    `cbor:"1,keyasint" json:"asset"`
	Condition Condition `cbor:"2,keyasint" json:"condition"`
	// Providers are the n providers (registry names, sorted, each once)
	// whose signatures count; Threshold is k.
	Providers []string `cbor:"3,keyasint" json:"providers"`
	Threshold uint32   `cbor:"4,keyasint" json:"threshold"`
	// TransferTo is the DID the asset goes to when the rule fires.
	TransferTo string `cbor:"5,keyasint" json:"transfer_to"`
	// DisputeWindow is how long after the trigger (milliseconds) the
	// previous owner may dispute it and governance may reverse it.
	DisputeWindow uint64 `cbor:"6,keyasint" json:"dispute_window"`
}

// Validate implements ledger.Msg.
func (m *AddRule) Validate() error {
	if !validName(m.Asset) {
		return fmt.Errorf("%w: asset id %q", ledger.ErrInvalid, m.Asset)
	}
	if err := m.Condition.Validate(); err != nil {
		return err
	}
	if err := checkProviders(m.Providers); err != nil {
		return err
	}
	if m.Threshold == 0 || int(m.Threshold) > len(m.Providers) {
		return fmt.Errorf("%w: threshold %d of %d providers: want 1 to %d", ledger.ErrInvalid, m.Threshold, len(m.Providers), len(m.Providers))
	}
	if err := checkDID("transfer_to", m.TransferTo); err != nil {
		return err
	}
	if m.DisputeWindow > MaxDisputeWindow {
		return fmt.Errorf("%w: dispute window %d ms: at most %d (30 days)", ledger.ErrInvalid, m.DisputeWindow, MaxDisputeWindow)
	}
	return nil
}

func checkProviders(ps []string) error {
	if len(ps) == 0 || len(ps) > MaxProviders {
		return fmt.Errorf("%w: %d providers: want 1 to %d", ledger.ErrInvalid, len(ps), MaxProviders)
	}
	for i, p := range ps {
		if !validName(p) {
			return fmt.Errorf("%w: provider %q: use a-z, 0-9, - and . (up to 64)", ledger.ErrInvalid, p)
		}
		if i > 0 && ps[i-1] >= p {
			return fmt.Errorf("%w: providers must be sorted, each once (%q)", ledger.ErrInvalid, p)
		}
	}
	return nil
}

// Submit is the body of a "submit" transaction: an observation and
// signatures of it, for rule Rule of Asset.
type Submit struct {
	Asset       string      `cbor:"1,keyasint" json:"asset"`
	Rule        uint64      `cbor:"2,keyasint" json:"rule"`
	Observation Observation `cbor:"3,keyasint" json:"observation"`
	// Signatures are sorted by provider, each provider once.
	Signatures []Signature `cbor:"4,keyasint" json:"signatures"`
}

// Validate implements ledger.Msg.
func (m *Submit) Validate() error {
	if !validName(m.Asset) {
		return fmt.Errorf("%w: asset id %q", ledger.ErrInvalid, m.Asset)
	}
	if m.Rule == 0 {
		return fmt.Errorf("%w: rules are numbered from 1", ledger.ErrInvalid)
	}
	if err := m.Observation.Validate(); err != nil {
		return err
	}
	if len(m.Signatures) == 0 || len(m.Signatures) > MaxProviders {
		return fmt.Errorf("%w: %d signatures: want 1 to %d", ledger.ErrInvalid, len(m.Signatures), MaxProviders)
	}
	for i, s := range m.Signatures {
		if !validName(s.Provider) {
			return fmt.Errorf("%w: provider %q", ledger.ErrInvalid, s.Provider)
		}
		if i > 0 && m.Signatures[i-1].Provider >= s.Provider {
			return fmt.Errorf("%w: signatures must be sorted by provider, each provider once (%q)", ledger.ErrInvalid, s.Provider)
		}
		if len(s.Sig) == 0 || len(s.Sig) > 128 {
			return fmt.Errorf("%w: %s's signature is %d bytes", ledger.ErrInvalid, s.Provider, len(s.Sig))
		}
	}
	return nil
}

// Dispute is the body of a "dispute" transaction: the previous owner
// disputes a trigger within its dispute window.
type Dispute struct {
	Trigger uint64 `cbor:"1,keyasint" json:"trigger"`
	Reason  string `cbor:"2,keyasint" json:"reason"`
}

// Validate implements ledger.Msg.
func (m *Dispute) Validate() error {
	return checkTriggerReason(m.Trigger, m.Reason, "a dispute")
}

// Decision is the body of the governed actions "reverse" and "uphold".
type Decision struct {
	Trigger uint64 `cbor:"1,keyasint" json:"trigger"`
	Reason  string `cbor:"2,keyasint" json:"reason"`
}

// Validate implements ledger.Msg.
func (m *Decision) Validate() error {
	return checkTriggerReason(m.Trigger, m.Reason, "a decision")
}

// checkTriggerReason validates what a dispute and a decision both name:
// the trigger, and why (what says which, in the error).
func checkTriggerReason(trigger uint64, reason, what string) error {
	if trigger == 0 {
		return fmt.Errorf("%w: triggers are numbered from 1", ledger.ErrInvalid)
	}
	if reason == "" {
		return fmt.Errorf("%w: %s says why", ledger.ErrInvalid, what)
	}
	return checkText("reason", reason, MaxReason)
}

// Asset is a registered asset.
type Asset struct {
	ID          string `cbor:"1,keyasint"`
	Description string `cbor:"2,keyasint,omitempty"`
	Owner       string `cbor:"3,keyasint"`
	Place       Point  `cbor:"4,keyasint"`
	Metadata    []Meta `cbor:"5,keyasint,omitempty"`
	// Rules and Events count the asset's rules and history events.
	Rules  uint64 `cbor:"6,keyasint"`
	Events uint64 `cbor:"7,keyasint"`
	// Disputed is the trigger under dispute, 0 if none: while one is,
	// no rule of the asset fires and none is added.
	Disputed uint64 `cbor:"8,keyasint,omitempty"`
	Height   uint64 `cbor:"9,keyasint"`
	Time     int64  `cbor:"10,keyasint"`
	TxID     tx.ID  `cbor:"11,keyasint"`
}

// Rule is a rule on an asset.
type Rule struct {
	Asset string `cbor:"1,keyasint"`
	N     uint64 `cbor:"2,keyasint"`
	// Owner is the owner who set it: a rule counts only while its
	// setter owns the asset.
	Owner         string    `cbor:"3,keyasint"`
	Condition     Condition `cbor:"4,keyasint"`
	Providers     []string  `cbor:"5,keyasint"`
	Threshold     uint32    `cbor:"6,keyasint"`
	TransferTo    string    `cbor:"7,keyasint"`
	DisputeWindow uint64    `cbor:"8,keyasint"`
	// Trigger is the trigger it fired, 0 while it has not.
	Trigger uint64 `cbor:"9,keyasint,omitempty"`
	Height  uint64 `cbor:"10,keyasint"`
	Time    int64  `cbor:"11,keyasint"`
	TxID    tx.ID  `cbor:"12,keyasint"`
}

// Counted is a signature the ledger counted: the provider, the key the
// registry held for it then, the signature, and the transaction that
// brought it.
type Counted struct {
	Provider string       `cbor:"1,keyasint" json:"provider"`
	Key      tx.PublicKey `cbor:"2,keyasint" json:"key"`
	Sig      []byte       `cbor:"3,keyasint" json:"sig"`
	TxID     tx.ID        `cbor:"4,keyasint" json:"tx"`
}

// Pending is what submissions of one observation for one rule gathered
// before the threshold: sorted by provider.
type Pending struct {
	Observation Observation `cbor:"1,keyasint"`
	Signatures  []Counted   `cbor:"2,keyasint"`
}

// Trigger statuses.
const (
	Fired    = "fired"    // transferred; final once its dispute window ends
	Disputed = "disputed" // the previous owner disputed it; governance decides
	Reversed = "reversed" // governance gave the asset back
	Upheld   = "upheld"   // governance closed the dispute; the transfer stays
)

// Trigger is a rule firing: the observation, the signatures that met
// the threshold, the transfer, and what became of it.
type Trigger struct {
	ID          uint64      `cbor:"1,keyasint"`
	Asset       string      `cbor:"2,keyasint"`
	Rule        uint64      `cbor:"3,keyasint"`
	Observation Observation `cbor:"4,keyasint"`
	Signatures  []Counted   `cbor:"5,keyasint"`
	From        string      `cbor:"6,keyasint"`
	To          string      `cbor:"7,keyasint"`
	Height      uint64      `cbor:"8,keyasint"`
	Time        int64       `cbor:"9,keyasint"`
	TxID        tx.ID       `cbor:"10,keyasint"`
	// DisputeUntil is the end of the dispute window (Unix ms).
	DisputeUntil int64  `cbor:"11,keyasint"`
	Status       string `cbor:"12,keyasint"`
	// Dispute and Decision, once made.
	Dispute  *Step `cbor:"13,keyasint,omitempty"`
	Decision *Step `cbor:"14,keyasint,omitempty"`
}

// Step is a dispute or a decision: who, why, when.
type Step struct {
	By     string `cbor:"1,keyasint" json:"by"`
	Reason string `cbor:"2,keyasint" json:"reason"`
	Height uint64 `cbor:"3,keyasint" json:"height"`
	Time   int64  `cbor:"4,keyasint" json:"-"`
	TxID   tx.ID  `cbor:"5,keyasint" json:"tx"`
}

// Event kinds of an asset's history.
const (
	EvRegistered = "registered"
	EvRule       = "rule"
	EvTriggered  = "triggered"
	EvDisputed   = "disputed"
	EvReversed   = "reversed"
	EvUpheld     = "upheld"
)

// Event is one entry of an asset's history.
type Event struct {
	N    uint64 `cbor:"1,keyasint"`
	Kind string `cbor:"2,keyasint"`
	// Owner is the owner after the event.
	Owner   string `cbor:"3,keyasint"`
	Rule    uint64 `cbor:"4,keyasint,omitempty"`
	Trigger uint64 `cbor:"5,keyasint,omitempty"`
	Height  uint64 `cbor:"6,keyasint"`
	Time    int64  `cbor:"7,keyasint"`
	TxID    tx.ID  `cbor:"8,keyasint"`
}

// Module is the asset module.
type Module struct{}

// Name implements ledger.Module.
func (Module) Name() string { return Name }

var msgTypes = []ledger.MsgType{
	{Name: "register", Summary: "register an asset owned by a DID the signer acts for", New: func() ledger.Msg { return &Register{} }},
	{Name: "add-rule", Summary: "the owner adds a rule: when k of n accredited providers sign a matching observation, transfer the asset", New: func() ledger.Msg { return &AddRule{} }},
	{Name: "submit", Summary: "submit an observation signed by data providers; the rule fires when the signatures that count reach its threshold", New: func() ledger.Msg { return &Submit{} }},
	{Name: "dispute", Summary: "the previous owner disputes a trigger within its dispute window", New: func() ledger.Msg { return &Dispute{} }},
}

// MsgTypes implements ledger.Declarer.
func (Module) MsgTypes() []ledger.MsgType { return msgTypes }

// Decode implements ledger.Module.
func (Module) Decode(typ string, body []byte) (ledger.Msg, error) {
	return ledger.DecodeMsg(msgTypes, typ, body)
}

var actionTypes = []ledger.ActionType{
	{Name: "reverse", Summary: "give an asset back to its owner before a trigger still in its dispute window, or disputed", New: func() ledger.Msg { return &Decision{} }},
	{Name: "uphold", Summary: "close the dispute of a trigger; the transfer stays", New: func() ledger.Msg { return &Decision{} }},
}

// ActionTypes implements ledger.Governed.
func (Module) ActionTypes() []ledger.ActionType { return actionTypes }

// sortedHas reports whether the sorted list ps holds p.
func sortedHas(ps []string, p string) bool {
	_, ok := slices.BinarySearch(ps, p)
	return ok
}
