package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/agora-ledger/agora/internal/tx"
)

// Pending actions: a principal that acts by the approval of several keys
// (a governance body, k of its n members, members being keys or other
// bodies; a custody account) acts over time. One member posts the
// action — a message of the module that owns the principal, to be
// executed as that principal — and each other member approves it later,
// in a transaction of its own, signed on its own machine. Every approval
// is checked against the principal's rule in state (the owning module's
// Consenter); the approval that meets the rule executes the message in
// that same transaction, with the approvers as its signers. An action not
// approved by its expiry, in block time, expires.
//
// They are the ledger's own transactions (module "ledger"): "propose"
// (ProposeAction) and "approve" (Approve). State: "ledger/pending/<id>"
// (a Pending, id in 16 hex digits) and "ledger/pending-next" (the last
// id). An open action's expiry is the ledger's own entry in the scheduler
// (scheduler.go), under the key "pending/<id>".

// Consenter is implemented by a module whose principals act by the
// approvals of several keys, given over time in pending actions.
type Consenter interface {
	// Consent reads principal's rule from kv, the module's namespace, and
	// reports how keys — the approvals so far, distinct, in order — stand
	// against it: for each key whether it is a member (at any depth) and
	// whether together they meet the rule. An unknown principal is an
	// error wrapping ErrNotFound. Consent must be deterministic.
	Consent(kv *KV, principal string, keys []tx.PublicKey) (Consent, error)
}

// Consent is how a set of approving keys stands against a principal's
// rule.
type Consent struct {
	Members []bool // Members[i]: keys[i] is a member
	Met     bool
}

// Statuses of a pending action.
const (
	PendingOpen     = "pending"
	PendingExecuted = "executed"
	PendingFailed   = "failed" // the rule was met, the message refused: Result says why
	PendingExpired  = "expired"
)

// Limits of pending actions.
const (
	MaxPendingTTL  = 90 * 24 * time.Hour
	MaxPendingBody = 32 << 10
)

// ProposeAction posts a pending action: the message Type/Body of Module,
// executed as Principal once its rule is met. Every signer approves it.
type ProposeAction struct {
	Module    string `cbor:"1,keyasint" json:"module"`
	Principal string `cbor:"2,keyasint" json:"principal"`
	Type      string `cbor:"3,keyasint" json:"type"`
	Body      []byte `cbor:"4,keyasint" json:"body"`
	// TTL is how long, in milliseconds of block time, it waits for
	// approvals.
	TTL uint64 `cbor:"5,keyasint" json:"ttl"`
}

// Validate implements Msg.
func (m *ProposeAction) Validate() error {
	if m.Module == "" || m.Module == Namespace || m.Type == "" {
		return fmt.Errorf("%w: a pending action names a module and a message type", ErrInvalid)
	}
	if m.Principal == "" || len(m.Principal) > 64 {
		return fmt.Errorf("%w: a pending action names the principal it acts as (1 to 64 bytes)", ErrInvalid)
	}
	if len(m.Body) == 0 || len(m.Body) > MaxPendingBody {
		return fmt.Errorf("%w: a pending action's message is 1 to %d bytes", ErrInvalid, MaxPendingBody)
	}
	if m.TTL == 0 || m.TTL > uint64(MaxPendingTTL/time.Millisecond) {
		return fmt.Errorf("%w: a pending action waits 1ms to %s for its approvals", ErrInvalid, MaxPendingTTL)
	}
	return nil
}

// Approve approves pending action ID: every signer approves it.
type Approve struct {
	ID uint64 `cbor:"1,keyasint" json:"id"`
}

// Validate implements Msg.
func (m *Approve) Validate() error {
	if m.ID == 0 {
		return fmt.Errorf("%w: pending actions are numbered from 1", ErrInvalid)
	}
	return nil
}

// Approval is one member's approval of a pending action.
type Approval struct {
	Key    tx.PublicKey `cbor:"1,keyasint" json:"key"`
	Height uint64       `cbor:"2,keyasint" json:"height"`
	Time   int64        `cbor:"3,keyasint" json:"time"` // Unix ms
	TxID   tx.ID        `cbor:"4,keyasint" json:"tx_hash"`
}

// Pending is a pending action as the ledger keeps it.
type Pending struct {
	ID        uint64     `cbor:"1,keyasint" json:"id"`
	Module    string     `cbor:"2,keyasint" json:"module"`
	Principal string     `cbor:"3,keyasint" json:"principal"`
	Type      string     `cbor:"4,keyasint" json:"type"`
	Body      []byte     `cbor:"5,keyasint" json:"body"`
	Approvals []Approval `cbor:"6,keyasint" json:"approvals"`
	Status    string     `cbor:"7,keyasint" json:"status"`
	Expires   int64      `cbor:"8,keyasint" json:"expires"` // Unix ms
	// Result is why the message was refused (failed); Closed the height
	// at which it executed, failed or expired.
	Result string `cbor:"9,keyasint,omitempty" json:"result,omitempty"`
	Closed uint64 `cbor:"10,keyasint,omitempty" json:"closed,omitempty"`
}

func pendingKey(id uint64) []byte { return fmt.Appendf(nil, "pending/%016x", id) }

// parsePendingKey parses a pendingKey.
func parsePendingKey(k []byte) (uint64, bool) {
	num, ok := bytes.CutPrefix(k, []byte("pending/"))
	if !ok || len(num) != 16 {
		return 0, false
	}
	id, err := strconv.ParseUint(string(num), 16, 64)
	return id, err == nil
}

var pendingNextKey = []byte("pending-next")

// decodeLedger decodes a transaction addressed to the ledger itself.
func (e *Executor) decodeLedger(typ string, body []byte) (Msg, error) {
	var m Msg
	switch typ {
	case "propose":
		p := &ProposeAction{}
		if err := tx.Unmarshal(body, p); err != nil {
			return nil, fmt.Errorf("%s: %w", typ, err)
		}
		if err := p.Validate(); err != nil {
			return nil, err
		}
		mod := e.mods[p.Module]
		if _, ok := mod.(Consenter); !ok {
			return nil, fmt.Errorf("%w: module %q has no principals that act by approvals", ErrInvalid, p.Module)
		}
		if _, err := mod.Decode(p.Type, p.Body); err != nil {
			return nil, fmt.Errorf("%w: the pending %s message: %w", ErrInvalid, p.Module, err)
		}
		return p, nil
	case "approve":
		m = &Approve{}
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownType, typ)
	}
	if err := tx.Unmarshal(body, m); err != nil {
		return nil, fmt.Errorf("%s: %w", typ, err)
	}
	return m, m.Validate()
}

// executeLedger executes a transaction addressed to the ledger itself;
// ctx.KV is the ledger's namespace.
func (e *Executor) executeLedger(ctx *Context, msg Msg) error {
	var err error
	switch m := msg.(type) {
	case *ProposeAction:
		err = e.propose(ctx, m)
	case *Approve:
		err = e.approve(ctx, m)
	default:
		err = fmt.Errorf("%w %T", ErrUnknownType, msg)
	}
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}

func (e *Executor) propose(ctx *Context, m *ProposeAction) error {
	var n uint64
	if _, err := ctx.KV.GetValue(pendingNextKey, &n); err != nil {
		return err
	}
	n++
	if err := ctx.KV.SetValue(pendingNextKey, n); err != nil {
		return err
	}
	p := &Pending{ID: n, Module: m.Module, Principal: m.Principal, Type: m.Type, Body: m.Body, Status: PendingOpen,
		Expires: ctx.Block.Time.UnixMilli() + int64(m.TTL)}
	if err := ctx.Schedule(time.UnixMilli(p.Expires), pendingKey(p.ID)); err != nil {
		return err
	}
	return e.addApprovals(ctx, p)
}

func (e *Executor) approve(ctx *Context, m *Approve) error {
	var p Pending
	found, err := ctx.KV.GetValue(pendingKey(m.ID), &p)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%w: no pending action %d", ErrNotFound, m.ID)
	}
	if p.Status != PendingOpen {
		return fmt.Errorf("%w: pending action %d is %s", ErrGone, p.ID, p.Status)
	}
	if now := ctx.Block.Time.UnixMilli(); now >= p.Expires {
		return fmt.Errorf("%w: pending action %d expired at %s", ErrGone, p.ID, fmtMillis(p.Expires))
	}
	for _, s := range ctx.Signers {
		for _, a := range p.Approvals {
			if a.Key.Equal(s) {
				return fmt.Errorf("%w: %s has already approved pending action %d", ErrConflict, s.Address(), p.ID)
			}
		}
	}
	return e.addApprovals(ctx, &p)
}

// addApprovals records the signers' approvals of p, each checked against
// p's principal's rule, and executes p's message if the rule is met.
func (e *Executor) addApprovals(ctx *Context, p *Pending) error {
	keys := make([]tx.PublicKey, 0, len(p.Approvals)+len(ctx.Signers))
	for _, a := range p.Approvals {
		keys = append(keys, a.Key)
	}
	for _, s := range ctx.Signers {
		keys = append(keys, s)
		p.Approvals = append(p.Approvals, Approval{Key: s, Height: ctx.Block.Height, Time: ctx.Block.Time.UnixMilli(), TxID: ctx.TxID})
	}
	mod := e.mods[p.Module]
	rule := mod.(Consenter)
	c, err := rule.Consent(&KV{o: ctx.o, prefix: []byte(p.Module + "/"), readOnly: true}, p.Principal, keys)
	if err != nil {
		return err
	}
	for i := len(keys) - len(ctx.Signers); i < len(keys); i++ {
		if i >= len(c.Members) || !c.Members[i] {
			return fmt.Errorf("%w: %s is not a member of %s %s", ErrUnauthorized, keys[i].Address(), p.Module, p.Principal)
		}
	}
	attrs := []Attr{{"id", strconv.FormatUint(p.ID, 10)}, {"principal", p.Principal}, {"approvals", strconv.Itoa(len(p.Approvals))}}
	if c.Met {
		if err := e.executePending(ctx, p, keys); err != nil {
			return err
		}
	}
	attrs = append(attrs, Attr{"status", p.Status})
	if p.Result != "" {
		attrs = append(attrs, Attr{"result", p.Result})
	}
	ctx.Emit("pending", attrs...)
	if p.Status != PendingOpen {
		if err := ctx.Cancel(pendingKey(p.ID)); err != nil {
			return err
		}
	}
	return ctx.KV.SetValue(pendingKey(p.ID), p)
}

// executePending executes p's message as its principal, with the
// approvers as signers. A refusal is p's result, not the transaction's:
// the approvals stand and p is failed.
func (e *Executor) executePending(ctx *Context, p *Pending, approvers []tx.PublicKey) error {
	mod := e.mods[p.Module]
	msg, err := mod.Decode(p.Type, p.Body)
	if err != nil {
		return fmt.Errorf("%w: pending action %d: %v", ErrStorage, p.ID, err) // it decoded when proposed
	}
	sub := newOverlay(ctx.o)
	mctx := &Context{Block: ctx.Block, TxID: ctx.TxID, Signers: approvers, Principal: p.Principal,
		KV: &KV{o: sub, prefix: []byte(p.Module + "/")}, o: sub, module: p.Module, exec: e}
	err = mod.Execute(mctx, msg)
	p.Closed = ctx.Block.Height
	switch {
	case errors.Is(err, ErrStorage):
		return err
	case err != nil:
		p.Status, p.Result = PendingFailed, Code(err)+": "+err.Error()
		return nil
	}
	sub.mergeInto(ctx.o)
	for _, ev := range mctx.events {
		if ev.Module == "" {
			ev.Module = p.Module
		}
		ctx.events = append(ctx.events, ev)
	}
	p.Status = PendingExecuted
	return nil
}

// expirePending expires pending action id, the ledger's scheduled entry
// at its expiry; ctx.KV is the ledger's namespace.
func expirePending(ctx *Context, id uint64) error {
	var p Pending
	found, err := ctx.KV.GetValue(pendingKey(id), &p)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%w: pending action %d is scheduled but absent", ErrNotFound, id)
	}
	if p.Status != PendingOpen {
		return nil
	}
	p.Status, p.Closed = PendingExpired, ctx.Block.Height
	return ctx.KV.SetValue(pendingKey(id), &p)
}

func fmtMillis(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }

// loadPending stores the pending actions of a genesis with their counter;
// the expiries of those still open are in the genesis's schedule.
func loadPending(kv *KV, ps []Pending) error {
	var last uint64
	for i := range ps {
		p := &ps[i]
		if p.ID <= last {
			return fmt.Errorf("genesis pending action %d: ids must increase from 1", p.ID)
		}
		last = p.ID
		if err := kv.SetValue(pendingKey(p.ID), p); err != nil {
			return err
		}
		if p.Status != PendingOpen {
			continue
		}
		_, ok, err := kv.Get(schedKeyOf(Namespace, pendingKey(p.ID)))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("genesis pending action %d is open, but its expiry is not in scheduled", p.ID)
		}
	}
	if last == 0 {
		return nil
	}
	return kv.SetValue(pendingNextKey, last)
}

// exportPending reads every pending action, in id order.
func exportPending(kv *KV) ([]Pending, error) {
	var out []Pending
	err := kv.Iterate([]byte("pending/"), func(_, v []byte) (bool, error) {
		var p Pending
		if err := tx.Unmarshal(v, &p); err != nil {
			return false, fmt.Errorf("%w: pending action: %v", ErrStorage, err)
		}
		out = append(out, p)
		return true, nil
	})
	return out, err
}

// pendingQueries answer what is pending: every pending action, or one.
func pendingQueries() []Query {
	return []Query{
		{Name: "pending", Pattern: "GET /v1/ledger/pending",
			Summary: "Pending actions: messages to be executed as a principal (a governance body) once its members' approvals meet its rule; newest first.",
			Params:  []Param{{"principal", "only those of this principal"}, {"status", "only those with this status: pending, executed, failed or expired"}},
			Run: func(kv *KV, arg func(string) string) (any, error) {
				out := []Pending{}
				err := kv.Iterate([]byte("pending/"), func(_, v []byte) (bool, error) {
					var p Pending
					if err := tx.Unmarshal(v, &p); err != nil {
						return false, fmt.Errorf("%w: pending action: %v", ErrStorage, err)
					}
					if (arg("principal") == "" || arg("principal") == p.Principal) && (arg("status") == "" || arg("status") == p.Status) {
						out = append(out, p)
					}
					return true, nil
				})
				slices.Reverse(out)
				if err != nil {
					return nil, err
				}
				return out, nil
			}, Answer: []Pending{}},
		{Name: "pending_action", Pattern: "GET /v1/ledger/pending/{id}", Summary: "One pending action: its message, approvals, status and expiry.",
			Run: func(kv *KV, arg func(string) string) (any, error) {
				id, err := strconv.ParseUint(arg("id"), 10, 64)
				if err != nil {
					return nil, fmt.Errorf("%w: pending action id %q is not a number", ErrInvalid, arg("id"))
				}
				var p Pending
				found, err := kv.GetValue(pendingKey(id), &p)
				if err == nil && !found {
					err = fmt.Errorf("%w: no pending action %d", ErrNotFound, id)
				}
				if err != nil {
					return nil, err // not an answer: it would be served with the error's status
				}
				return &p, nil
			}, Answer: Pending{}},
	}
}
