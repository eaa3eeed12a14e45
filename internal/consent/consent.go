// Package consent implements data-usage contracts (use case DTM-001):
// a data subject gives data items to a controller under a usage-control
// policy, and the ledger holds only salted fingerprints of the subject's
// and controller's pairwise DIDs and of the items, and for each rule of
// the policy the root of a Merkle tree of its salted slots (event,
// action, window, count, purposes, recipients, places). Before each use
// the controller opens the slots that decide it: of the deciding rule,
// those that show it applies; of each rule before it, one that shows it
// does not. The ledger checks them against the roots, decides
// deterministically (Event–Condition–Action, first match) and logs the
// decision and the use. A transfer to a processor derives a child contract bound
// to and limited by its parent; the subject's revocation refuses every
// later use down the chain at once and marks each derived contract
// revoked through the scheduler, a bounded number a block.
//
// docs/spec/consent.md is the specification: messages, state, queries,
// the fingerprint encoding and the policy format with its ODRL 2.2 and
// DPV mapping.
//
// # State
//
// "consent/c/<id>" holds a Contract, "consent/u/<id>/<seq>" a Use (seq
// 16 hex digits, from 1).
package consent

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Name is the module's name.
const Name = "consent"

// Create is the body of a "create" transaction: a contract of
// fingerprints.
type Create struct {
	Nonce      []byte   `cbor:"1,keyasint" json:"nonce"`
	Subject    []byte   `cbor:"2,keyasint" json:"subject"`                     // fingerprint of the subject's DID
	Controller []byte   `cbor:"3,keyasint" json:"controller"`                  // fingerprint of the controller's DID
	Items      [][]byte `cbor:"4,keyasint" json:"items"`                       // fingerprints of the items
	Rules      [][]byte `cbor:"5,keyasint" json:"rules"`                       // each rule's root
	Expires    int64    `cbor:"6,keyasint,omitempty" json:"expires,omitempty"` // Unix ms, 0 for none
	// The parties' consent: on a "create", the subject's and the
	// controller's pairwise DIDs with their salts, each of which must
	// sign; a transfer's child has neither (the parent's policy and the
	// transfer's signers stand for them).
	SubjectDID    *Actor `cbor:"7,keyasint,omitempty" json:"subject_did,omitempty"`
	ControllerDID *Actor `cbor:"8,keyasint,omitempty" json:"controller_did,omitempty"`
}

// Validate implements ledger.Msg: a "create" names both parties.
func (c *Create) Validate() error {
	if err := c.validate(); err != nil {
		return err
	}
	if c.SubjectDID == nil || c.ControllerDID == nil {
		return fmt.Errorf("%w: a contract is created by its subject and its controller: both DIDs and salts are presented", ledger.ErrInvalid)
	}
	for _, p := range []struct {
		who string
		a   *Actor
		fp  []byte
	}{{"subject", c.SubjectDID, c.Subject}, {"controller", c.ControllerDID, c.Controller}} {
		if err := p.a.validate(p.who); err != nil {
			return err
		}
		if !bytes.Equal(p.a.Fingerprint(), p.fp) {
			return fmt.Errorf("%w: the %s's DID and salt do not match its fingerprint", ledger.ErrInvalid, p.who)
		}
	}
	return nil
}

func (c *Create) validate() error {
	if err := checkSalt(c.Nonce); err != nil {
		return fmt.Errorf("nonce: %w", err)
	}
	for _, f := range append(append([][]byte{c.Subject, c.Controller}, c.Items...), c.Rules...) {
		if len(f) != 32 {
			return fmt.Errorf("%w: a fingerprint or a rule's root is 32 bytes", ledger.ErrInvalid)
		}
	}
	if len(c.Items) == 0 || len(c.Items) > MaxItems {
		return fmt.Errorf("%w: a contract holds 1 to %d items", ledger.ErrInvalid, MaxItems)
	}
	if len(c.Rules) == 0 || len(c.Rules) > MaxRules {
		return fmt.Errorf("%w: a policy has 1 to %d rules", ledger.ErrInvalid, MaxRules)
	}
	if c.Expires < 0 {
		return fmt.Errorf("%w: expires is negative", ledger.ErrInvalid)
	}
	return nil
}

// Actor proves a pairwise DID against its fingerprint: the DID and its salt.
type Actor struct {
	DID  string `cbor:"1,keyasint" json:"did"`
	Salt []byte `cbor:"2,keyasint" json:"salt"`
}

func (a *Actor) validate(who string) error {
	if !strings.HasPrefix(a.DID, "did:") || len(a.DID) > MaxString {
		return fmt.Errorf("%w: %s: %q is not a DID", ledger.ErrInvalid, who, a.DID)
	}
	if err := checkSalt(a.Salt); err != nil {
		return fmt.Errorf("%s: %w", who, err)
	}
	return nil
}

// Fingerprint returns the fingerprint of the actor's DID under its salt.
func (a *Actor) Fingerprint() []byte { return Fingerprint(TagDID, a.Salt, a.DID) }

// Use is the body of a "use" transaction: the controller asks the
// contract before a use (event use, store or delete), proving the
// decision from the policy's roots, and the ledger logs the decision and
// the use.
type Use struct {
	Contract   string   `cbor:"1,keyasint" json:"contract"`
	Controller Actor    `cbor:"2,keyasint" json:"controller"`
	Event      string   `cbor:"3,keyasint" json:"event"`
	Items      []uint32 `cbor:"4,keyasint" json:"items"`
	Purpose    string   `cbor:"5,keyasint,omitempty" json:"purpose,omitempty"`
	Recipient  string   `cbor:"6,keyasint,omitempty" json:"recipient,omitempty"`
	Place      string   `cbor:"7,keyasint,omitempty" json:"place,omitempty"`
	Proof      Proof    `cbor:"8,keyasint" json:"proof"`
}

func (u *Use) validate() error {
	if _, err := ParseID(u.Contract); err != nil {
		return err
	}
	if err := u.Controller.validate("controller"); err != nil {
		return err
	}
	if len(u.Items) == 0 || len(u.Items) > MaxItems {
		return fmt.Errorf("%w: a use names 1 to %d items", ledger.ErrInvalid, MaxItems)
	}
	for i := 1; i < len(u.Items); i++ {
		if u.Items[i] <= u.Items[i-1] {
			return fmt.Errorf("%w: items %v are not distinct and in order", ledger.ErrInvalid, u.Items)
		}
	}
	for _, s := range []string{u.Purpose, u.Recipient, u.Place} {
		if len(s) > MaxString {
			return fmt.Errorf("%w: a purpose, recipient or place is at most %d bytes", ledger.ErrInvalid, MaxString)
		}
	}
	return u.Proof.validate()
}

// Validate implements ledger.Msg.
func (u *Use) Validate() error {
	if err := u.validate(); err != nil {
		return err
	}
	if u.Event == EventTransfer || !slices.Contains(Events, u.Event) {
		return fmt.Errorf("%w: event %q (a use is use, store or delete; a transfer is its own message)", ledger.ErrInvalid, u.Event)
	}
	return nil
}

// Transfer is the body of a "transfer" transaction, signed by the
// controller and the processor: the event transfer of the parent's
// items to the processor, who receives a child contract over them.
type Transfer struct {
	Use `cbor:"1,keyasint" json:"use"` // its Event is "transfer"
	// Processor proves the processor's pairwise DID, the child's controller.
	Processor Actor  `cbor:"2,keyasint" json:"processor"`
	Child     Create `cbor:"3,keyasint" json:"child"`
}

// Validate implements ledger.Msg.
func (t *Transfer) Validate() error {
	if err := t.Use.validate(); err != nil {
		return err
	}
	if t.Event != EventTransfer {
		return fmt.Errorf("%w: a transfer's event is transfer", ledger.ErrInvalid)
	}
	if err := t.Processor.validate("processor"); err != nil {
		return err
	}
	if err := t.Child.validate(); err != nil {
		return fmt.Errorf("child: %w", err)
	}
	if t.Child.SubjectDID != nil || t.Child.ControllerDID != nil {
		return fmt.Errorf("%w: a transfer's child names no DIDs (the processor is the transfer's)", ledger.ErrInvalid)
	}
	if !bytes.Equal(t.Processor.Fingerprint(), t.Child.Controller) {
		return fmt.Errorf("%w: the processor's DID and salt do not match the child's controller fingerprint", ledger.ErrInvalid)
	}
	if len(t.Child.Items) != len(t.Items) {
		return fmt.Errorf("%w: the child holds the %d transferred items", ledger.ErrInvalid, len(t.Items))
	}
	return nil
}

// Revoke is the body of a "revoke" transaction: the subject withdraws
// consent.
type Revoke struct {
	Contract string `cbor:"1,keyasint" json:"contract"`
	Subject  Actor  `cbor:"2,keyasint" json:"subject"`
}

// Validate implements ledger.Msg.
func (r *Revoke) Validate() error {
	if _, err := ParseID(r.Contract); err != nil {
		return err
	}
	return r.Subject.validate("subject")
}

// Contract is a data-usage contract in state.
type Contract struct {
	ID         string   `cbor:"1,keyasint" json:"id"`
	Subject    []byte   `cbor:"2,keyasint" json:"subject"`
	Controller []byte   `cbor:"3,keyasint" json:"controller"`
	Items      [][]byte `cbor:"4,keyasint" json:"items"`
	Rules      [][]byte `cbor:"5,keyasint" json:"rules"` // each rule's root
	Expires    int64    `cbor:"6,keyasint,omitempty" json:"expires,omitempty"`
	Created    int64    `cbor:"7,keyasint" json:"created"` // Unix ms
	// Active is when a derived contract's uses may start (a delayed transfer).
	Active   int64    `cbor:"8,keyasint,omitempty" json:"active,omitempty"`
	Parent   string   `cbor:"9,keyasint,omitempty" json:"parent,omitempty"`
	Depth    uint32   `cbor:"10,keyasint,omitempty" json:"depth,omitempty"`
	Children []string `cbor:"11,keyasint,omitempty" json:"children,omitempty"`
	Counts   []uint32 `cbor:"12,keyasint" json:"counts"` // uses each rule permitted
	Uses     uint64   `cbor:"13,keyasint,omitempty" json:"uses,omitempty"`
	// Revoked is when the subject revoked it, or its revocation reached it
	// from RevokedVia, the ancestor the subject revoked.
	Revoked    int64  `cbor:"14,keyasint,omitempty" json:"revoked,omitempty"`
	RevokedVia string `cbor:"15,keyasint,omitempty" json:"revoked_via,omitempty"`
	TxID       tx.ID  `cbor:"16,keyasint" json:"tx"`
	// Purpose binds a derived contract to the purpose its transfer was
	// asked for: a use for any other is refused (GDPR purpose limitation).
	Purpose string `cbor:"17,keyasint,omitempty" json:"purpose,omitempty"`
}

// validate checks a contract of a genesis: its id and the roots,
// fingerprints and counts a create would have given it.
func (c *Contract) validate() error {
	if _, err := ParseID(c.ID); err != nil {
		return err
	}
	m := Create{Nonce: make([]byte, MinSalt), Subject: c.Subject, Controller: c.Controller, Items: c.Items, Rules: c.Rules, Expires: c.Expires}
	if err := m.validate(); err != nil {
		return err
	}
	if len(c.Counts) != len(c.Rules) {
		return fmt.Errorf("%w: contract %s has %d rules and %d counts", ledger.ErrInvalid, c.ID, len(c.Rules), len(c.Counts))
	}
	return nil
}

// Decisions a use record holds: a policy's action, or refused (revoked,
// expired, not yet active).
const DecRefused = "refused"

// Record is a logged use: what was asked, what the ledger decided.
type Record struct {
	Contract  string   `cbor:"1,keyasint" json:"contract"`
	Seq       uint64   `cbor:"2,keyasint" json:"seq"`
	Event     string   `cbor:"3,keyasint" json:"event"`
	Items     []uint32 `cbor:"4,keyasint" json:"items"`
	Purpose   string   `cbor:"5,keyasint,omitempty" json:"purpose,omitempty"`
	Recipient string   `cbor:"6,keyasint,omitempty" json:"recipient,omitempty"`
	Place     string   `cbor:"7,keyasint,omitempty" json:"place,omitempty"`
	Decision  string   `cbor:"8,keyasint" json:"decision"`
	Rule      int32    `cbor:"9,keyasint" json:"rule"` // -1 if none decided
	Method    string   `cbor:"10,keyasint,omitempty" json:"method,omitempty"`
	Reason    string   `cbor:"11,keyasint,omitempty" json:"reason,omitempty"`
	// Release is when a delayed use may go ahead; Released, once it has.
	Release  int64 `cbor:"12,keyasint,omitempty" json:"release,omitempty"`
	Released bool  `cbor:"13,keyasint,omitempty" json:"released,omitempty"`
	// DeleteBy is when the items must be deleted; DeleteDue, once it passed.
	DeleteBy  int64  `cbor:"14,keyasint,omitempty" json:"delete_by,omitempty"`
	DeleteDue bool   `cbor:"15,keyasint,omitempty" json:"delete_due,omitempty"`
	Child     string `cbor:"16,keyasint,omitempty" json:"child,omitempty"` // a transfer's derived contract
	Actor     string `cbor:"17,keyasint" json:"actor"`                     // the controller's key that asked, DID#key-N
	TxID      tx.ID  `cbor:"18,keyasint" json:"tx"`
	Height    uint64 `cbor:"19,keyasint" json:"height"`
	Time      int64  `cbor:"20,keyasint" json:"time"` // Unix ms
}

// Module is the consent module.
type Module struct{}

// Name implements ledger.Module.
func (Module) Name() string { return Name }

var msgTypes = []ledger.MsgType{
	{Name: "create", Summary: "record a data-usage contract of salted fingerprints and its policy's rule roots", New: func() ledger.Msg { return &Create{} }},
	{Name: "use", Summary: "ask the contract before a use (use, store, delete), opening the policy's slots that decide it; logs the decision", New: func() ledger.Msg { return &Use{} }},
	{Name: "transfer", Summary: "ask the contract before a transfer to a processor, deriving its child contract", New: func() ledger.Msg { return &Transfer{} }},
	{Name: "revoke", Summary: "the subject revokes a contract and every contract derived from it", New: func() ledger.Msg { return &Revoke{} }},
}

// MsgTypes implements ledger.Declarer.
func (Module) MsgTypes() []ledger.MsgType { return msgTypes }

// Decode implements ledger.Module.
func (Module) Decode(typ string, body []byte) (ledger.Msg, error) {
	return ledger.DecodeMsg(msgTypes, typ, body)
}

// ContractID is the id of the contract created with nonce: hex of
// SHA-256(TagContract || 0x00 || nonce).
func ContractID(nonce []byte) string {
	return hex.EncodeToString(Fingerprint(TagContract, nil, nonce))
}

// ParseID checks a contract id (64 lower-case hex digits).
func ParseID(s string) (string, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 || s != strings.ToLower(s) {
		return "", fmt.Errorf("%w: contract id %q is not 64 lower-case hex digits", ledger.ErrInvalid, s)
	}
	return s, nil
}

func contractKey(id string) []byte { return []byte("c/" + id) }

func useKey(id string, seq uint64) []byte { return fmt.Appendf(nil, "u/%s/%016x", id, seq) }

// Schedule keys: "d" releases a delayed use, "x" marks a delete-after
// obligation due, "r" carries a revocation to a contract's children.
func schedUse(kind byte, id string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte{kind, '/'}, id...), seq)
}

func putContract(kv *ledger.KV, c *Contract) error { return kv.SetValue(contractKey(c.ID), c) }

// Execute implements ledger.Module.
func (Module) Execute(ctx *ledger.Context, msg ledger.Msg) error {
	switch m := msg.(type) {
	case *Create:
		for _, a := range []*Actor{m.SubjectDID, m.ControllerDID} {
			if _, err := identity.ActingSigner(ctx, a.DID, ""); err != nil {
				return err
			}
		}
		_, err := create(ctx, m, nil, "", 0)
		return err
	case *Use:
		_, err := use(ctx, m, nil)
		return err
	case *Transfer:
		_, err := use(ctx, &m.Use, m)
		return err
	case *Revoke:
		return revoke(ctx, m)
	}
	return fmt.Errorf("%w %T", ledger.ErrUnknownType, msg)
}

func create(ctx *ledger.Context, m *Create, parent *Contract, purpose string, active int64) (*Contract, error) {
	id := ContractID(m.Nonce)
	if _, err := Lookup(ctx.KV, id); err == nil {
		return nil, fmt.Errorf("%w: contract %s exists (a nonce is used once)", ledger.ErrConflict, id)
	}
	now := ctx.Block.Time.UnixMilli()
	if m.Expires != 0 && m.Expires <= now {
		return nil, fmt.Errorf("%w: the contract would expire at %s, before this block", ledger.ErrInvalid, stamp(m.Expires))
	}
	c := &Contract{ID: id, Subject: m.Subject, Controller: m.Controller, Items: m.Items, Rules: m.Rules,
		Expires: m.Expires, Created: now, Active: active, Counts: make([]uint32, len(m.Rules)), TxID: ctx.TxID}
	if parent != nil {
		c.Parent, c.Depth, c.Purpose = parent.ID, parent.Depth+1, purpose
	}
	if err := putContract(ctx.KV, c); err != nil {
		return nil, err
	}
	attrs := []ledger.Attr{{Key: "contract", Value: id}, {Key: "rules", Value: fmt.Sprint(len(m.Rules))}, {Key: "items", Value: fmt.Sprint(len(m.Items))}}
	if parent != nil {
		attrs = append(attrs, ledger.Attr{Key: "parent", Value: parent.ID})
	}
	ctx.Emit("created", attrs...)
	return c, nil
}

// use asks the contract about u, logs the decision, and, for a permitted
// transfer t, derives the child contract.
func use(ctx *ledger.Context, u *Use, t *Transfer) (*Record, error) {
	c, err := Lookup(ctx.KV, u.Contract)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(u.Controller.Fingerprint(), c.Controller) {
		return nil, fmt.Errorf("%w: the DID and salt presented are not the contract's controller", ledger.ErrUnauthorized)
	}
	st, err := identity.ActingSigner(ctx, u.Controller.DID, "")
	if err != nil {
		return nil, err
	}
	for _, i := range u.Items {
		if int(i) >= len(c.Items) {
			return nil, fmt.Errorf("%w: item %d: the contract holds %d items", ledger.ErrInvalid, i, len(c.Items))
		}
	}
	now := ctx.Block.Time.UnixMilli()
	req := Request{Event: u.Event, Purpose: u.Purpose, Recipient: u.Recipient, Place: u.Place}
	d, err := Decide(c.Rules, c.Counts, &u.Proof, req, now)
	if err != nil {
		return nil, err
	}
	c.Uses++
	rec := &Record{Contract: c.ID, Seq: c.Uses, Event: u.Event, Items: u.Items, Purpose: u.Purpose, Recipient: u.Recipient,
		Place: u.Place, Rule: -1, Actor: u.Controller.DID + "#" + st.KeyID, TxID: ctx.TxID, Height: ctx.Block.Height, Time: now}
	if reason, err := standing(ctx.KV, c, u, now); err != nil {
		return nil, err
	} else if reason != "" {
		rec.Decision, rec.Reason = DecRefused, reason
		return rec, logUse(ctx, c, rec)
	}
	rec.Decision, rec.Rule, rec.Method, rec.Reason = d.Action, int32(d.Rule), d.Method, d.Reason
	if d.Permits() {
		c.Counts[d.Rule]++
		if d.Action == ActDelay {
			rec.Release = now + d.Delay
			if err := ctx.Schedule(time.UnixMilli(rec.Release), schedUse('d', c.ID, rec.Seq)); err != nil {
				return nil, err
			}
		}
		if d.DeleteAfter > 0 {
			rec.DeleteBy = max(now, rec.Release) + d.DeleteAfter
			if err := ctx.Schedule(time.UnixMilli(rec.DeleteBy), schedUse('x', c.ID, rec.Seq)); err != nil {
				return nil, err
			}
		}
		if d.Notify {
			ctx.Emit("notify", ledger.Attr{Key: "contract", Value: c.ID}, ledger.Attr{Key: "seq", Value: fmt.Sprint(rec.Seq)},
				ledger.Attr{Key: "event", Value: u.Event}, ledger.Attr{Key: "decision", Value: d.Action})
		}
		if t != nil {
			child, err := derive(ctx, c, t, rec.Release)
			if err != nil {
				return nil, err
			}
			rec.Child = child.ID
		}
	}
	return rec, logUse(ctx, c, rec)
}

// standing says why c takes no use u at now ("" if it does): revoked
// (itself or an ancestor), for a purpose other than the one it was
// derived for, expired, or not yet active.
func standing(kv *ledger.KV, c *Contract, u *Use, now int64) (string, error) {
	if why, err := revokedWhy(kv, c); why != "" || err != nil {
		return why, err
	}
	switch {
	case c.Purpose != "" && u.Purpose != c.Purpose:
		return fmt.Sprintf("derived for the purpose %s only", c.Purpose), nil
	case c.Expires != 0 && now >= c.Expires:
		return fmt.Sprintf("expired at %s", stamp(c.Expires)), nil
	case now < c.Active:
		return fmt.Sprintf("not active before %s", stamp(c.Active)), nil
	}
	return "", nil
}

// revokedWhy says whether c or an ancestor (at most MaxDepth reads up) was
// revoked: so a revocation refuses uses down the chain at once, before the
// scheduler's cascade marks each derived contract.
func revokedWhy(kv *ledger.KV, c *Contract) (string, error) {
	for a, n := c, 0; ; n++ {
		switch {
		case a.Revoked != 0 && a == c:
			return fmt.Sprintf("revoked at %s", stamp(a.Revoked)), nil
		case a.Revoked != 0:
			return fmt.Sprintf("revoked at %s with %s", stamp(a.Revoked), a.ID), nil
		case a.Parent == "" || n >= MaxDepth:
			return "", nil
		}
		p, err := Lookup(kv, a.Parent)
		if err != nil {
			return "", err
		}
		a = p
	}
}

// derive creates the child contract of a permitted transfer t from c,
// limited by it: the same subject, the transferred items, no later
// expiry, no deeper than MaxDepth, at most MaxChildren per contract.
func derive(ctx *ledger.Context, c *Contract, t *Transfer, active int64) (*Contract, error) {
	switch {
	case !bytes.Equal(t.Child.Subject, c.Subject):
		return nil, fmt.Errorf("%w: the child's subject fingerprint is not its parent's", ledger.ErrInvalid)
	case c.Depth+1 > MaxDepth:
		return nil, fmt.Errorf("%w: a contract is derived at most %d times down a chain", ledger.ErrInvalid, MaxDepth)
	case len(c.Children) >= MaxChildren:
		return nil, fmt.Errorf("%w: contract %s has %d derived contracts, the most it may", ledger.ErrConflict, c.ID, MaxChildren)
	case c.Expires != 0 && (t.Child.Expires == 0 || t.Child.Expires > c.Expires):
		return nil, fmt.Errorf("%w: the child must expire by its parent's expiry %s", ledger.ErrInvalid, stamp(c.Expires))
	}
	for i, it := range t.Items {
		if !bytes.Equal(t.Child.Items[i], c.Items[it]) {
			return nil, fmt.Errorf("%w: the child's item %d is not the parent's item %d", ledger.ErrInvalid, i, it)
		}
	}
	if _, err := identity.ActingSigner(ctx, t.Processor.DID, ""); err != nil {
		return nil, fmt.Errorf("processor: %w", err)
	}
	child, err := create(ctx, &t.Child, c, t.Purpose, active)
	if err != nil {
		return nil, err
	}
	c.Children = append(c.Children, child.ID)
	return child, nil
}

func logUse(ctx *ledger.Context, c *Contract, rec *Record) error {
	if err := putContract(ctx.KV, c); err != nil {
		return err
	}
	if err := ctx.KV.SetValue(useKey(c.ID, rec.Seq), rec); err != nil {
		return err
	}
	attrs := []ledger.Attr{{Key: "contract", Value: c.ID}, {Key: "seq", Value: fmt.Sprint(rec.Seq)},
		{Key: "event", Value: rec.Event}, {Key: "decision", Value: rec.Decision}}
	if rec.Method != "" {
		attrs = append(attrs, ledger.Attr{Key: "method", Value: rec.Method})
	}
	if rec.Release != 0 {
		attrs = append(attrs, ledger.Attr{Key: "release", Value: stamp(rec.Release)})
	}
	if rec.DeleteBy != 0 {
		attrs = append(attrs, ledger.Attr{Key: "delete_by", Value: stamp(rec.DeleteBy)})
	}
	if rec.Child != "" {
		attrs = append(attrs, ledger.Attr{Key: "child", Value: rec.Child})
	}
	if rec.Reason != "" && rec.Decision == DecRefused {
		attrs = append(attrs, ledger.Attr{Key: "reason", Value: rec.Reason})
	}
	ctx.Emit("used", attrs...)
	return nil
}

func revoke(ctx *ledger.Context, m *Revoke) error {
	c, err := Lookup(ctx.KV, m.Contract)
	if err != nil {
		return err
	}
	if !bytes.Equal(m.Subject.Fingerprint(), c.Subject) {
		return fmt.Errorf("%w: the DID and salt presented are not the contract's subject", ledger.ErrUnauthorized)
	}
	if _, err := identity.ActingSigner(ctx, m.Subject.DID, ""); err != nil {
		return err
	}
	if c.Revoked != 0 {
		return fmt.Errorf("%w: contract %s was revoked at %s", ledger.ErrGone, c.ID, stamp(c.Revoked))
	}
	c.Revoked = ctx.Block.Time.UnixMilli()
	if err := putContract(ctx.KV, c); err != nil {
		return err
	}
	ctx.Emit("revoked", ledger.Attr{Key: "contract", Value: c.ID})
	return cascade(ctx, c)
}

// cascade schedules the revocation of c's children, in the next block.
func cascade(ctx *ledger.Context, c *Contract) error {
	if len(c.Children) == 0 {
		return nil
	}
	return ctx.Schedule(ctx.Block.Time, append([]byte("r/"), c.ID...))
}

// Due implements ledger.Scheduled.
func (Module) Due(ctx *ledger.Context, key []byte) error {
	kind, rest, _ := bytes.Cut(key, []byte("/"))
	if string(kind) == "r" {
		return revokeChildren(ctx, string(rest))
	}
	if len(rest) != 64+8 {
		return fmt.Errorf("%w: schedule key %q", ledger.ErrInvalid, key)
	}
	id, seq := string(rest[:64]), binary.BigEndian.Uint64(rest[64:])
	var rec Record
	found, err := ctx.KV.GetValue(useKey(id, seq), &rec)
	if err != nil || !found {
		return fmt.Errorf("%w: use %s/%d: %v", ledger.ErrNotFound, id, seq, err)
	}
	attrs := []ledger.Attr{{Key: "contract", Value: id}, {Key: "seq", Value: fmt.Sprint(seq)}}
	switch string(kind) {
	case "d":
		rec.Released = true
		ctx.Emit("released", attrs...)
	case "x":
		rec.DeleteDue = true
		ctx.Emit("delete_due", attrs...)
	default:
		return fmt.Errorf("%w: schedule key %q", ledger.ErrInvalid, key)
	}
	return ctx.KV.SetValue(useKey(id, seq), &rec)
}

// revokeChildren marks the children of the revoked contract id revoked
// and schedules the same for theirs: at most MaxChildren writes a callback.
func revokeChildren(ctx *ledger.Context, id string) error {
	c, err := Lookup(ctx.KV, id)
	if err != nil {
		return err
	}
	via := c.RevokedVia
	if via == "" {
		via = c.ID
	}
	for _, cid := range c.Children {
		ch, err := Lookup(ctx.KV, cid)
		if err != nil {
			return err
		}
		if ch.Revoked != 0 {
			continue
		}
		ch.Revoked, ch.RevokedVia = ctx.Block.Time.UnixMilli(), via
		if err := putContract(ctx.KV, ch); err != nil {
			return err
		}
		ctx.Emit("revoked", ledger.Attr{Key: "contract", Value: ch.ID}, ledger.Attr{Key: "via", Value: via})
		if err := cascade(ctx, ch); err != nil {
			return err
		}
	}
	return nil
}

func stamp(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }

// Queries implements ledger.Module.
func (Module) Queries() []ledger.Query {
	return []ledger.Query{{
		Name:    "contract",
		Pattern: "GET /v1/consent/contracts/{id}",
		Summary: "A data-usage contract: its fingerprints, its policy's rule roots, its counts, derived contracts and revocation.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			id, err := ParseID(arg("id"))
			if err != nil {
				return nil, err
			}
			return Lookup(kv, id)
		},
		Answer: Contract{},
	}, {
		Name:    "uses",
		Pattern: "GET /v1/consent/contracts/{id}/uses",
		Summary: "A page of a contract's logged uses, by point reads (so proof=1 proves it).",
		Params: []ledger.Param{{Name: "from", Summary: "the first use's number (default 1)"},
			{Name: "limit", Summary: fmt.Sprintf("how many (default and at most %d)", MaxPage)}},
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			id, err := ParseID(arg("id"))
			if err != nil {
				return nil, err
			}
			from, err := parseUint("from", arg("from"), 1)
			if err != nil {
				return nil, err
			}
			limit, err := parseUint("limit", arg("limit"), MaxPage)
			if err != nil {
				return nil, err
			}
			return UsesPage(kv, id, from, limit)
		},
		Answer: Page{},
	}}
}

// MaxPage bounds a page of uses.
const MaxPage = 100

func parseUint(name, s string, def uint64) (uint64, error) {
	if s == "" {
		return def, nil
	}
	var n uint64
	if _, err := fmt.Sscan(s, &n); err != nil || fmt.Sprint(n) != s || n == 0 {
		return 0, fmt.Errorf("%w: %s=%q is not a positive integer", ledger.ErrInvalid, name, s)
	}
	return n, nil
}

// Genesis is the module's genesis section: its contracts and their uses.
type Genesis struct {
	Contracts []Contract `json:"contracts,omitempty"`
	Uses      []Record   `json:"uses,omitempty"`
}

// InitGenesis implements ledger.Module.
func (Module) InitGenesis(kv *ledger.KV, raw json.RawMessage) error {
	if raw == nil {
		return nil
	}
	var g Genesis
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("%w: %v", ledger.ErrInvalid, err)
	}
	for i := range g.Contracts {
		if err := g.Contracts[i].validate(); err != nil {
			return fmt.Errorf("contract %d: %w", i, err)
		}
		if err := putContract(kv, &g.Contracts[i]); err != nil {
			return err
		}
	}
	for i := range g.Uses {
		u := &g.Uses[i]
		c, err := Lookup(kv, u.Contract)
		if err != nil {
			return fmt.Errorf("use %d: %w", i, err)
		}
		if u.Seq == 0 || u.Seq > c.Uses {
			return fmt.Errorf("%w: use %d: contract %s has uses 1 to %d", ledger.ErrInvalid, i, c.ID, c.Uses)
		}
		if err := kv.SetValue(useKey(u.Contract, u.Seq), u); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis implements ledger.Module.
func (Module) ExportGenesis(kv *ledger.KV) (json.RawMessage, error) {
	var g Genesis
	for _, p := range []string{"c/", "u/"} {
		err := kv.Iterate([]byte(p), func(_, v []byte) (bool, error) {
			var err error
			if p == "c/" {
				g.Contracts = append(g.Contracts, Contract{})
				err = tx.Unmarshal(v, &g.Contracts[len(g.Contracts)-1])
			} else {
				g.Uses = append(g.Uses, Record{})
				err = tx.Unmarshal(v, &g.Uses[len(g.Uses)-1])
			}
			if err != nil {
				return false, fmt.Errorf("%w: %v", ledger.ErrStorage, err)
			}
			return true, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return json.Marshal(&g)
}
