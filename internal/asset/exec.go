package asset

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

func assetKey(id string) []byte { return []byte("a/" + id) }
func eventKey(id string, n uint64) []byte {
	return []byte(fmt.Sprintf("h/%s/%016d", id, n))
}
func ruleKey(id string, n uint64) []byte { return []byte(fmt.Sprintf("r/%s/%016d", id, n)) }
func pendingKey(id string, rule uint64, digest [32]byte) []byte {
	return []byte(fmt.Sprintf("p/%s/%016d/%s", id, rule, hex.EncodeToString(digest[:])))
}
func triggerKey(n uint64) []byte { return []byte("t/" + strconv.FormatUint(n, 10)) }

var seqKey = []byte("seq")

// Execute implements ledger.Module.
func (Module) Execute(ctx *ledger.Context, msg ledger.Msg) error {
	switch m := msg.(type) {
	case *Register:
		return register(ctx, m)
	case *AddRule:
		return addRule(ctx, m)
	case *Submit:
		return submit(ctx, m)
	case *Dispute:
		return dispute(ctx, m)
	}
	return fmt.Errorf("%w %T", ledger.ErrUnknownType, msg)
}

// ExecuteAction implements ledger.Governed.
func (Module) ExecuteAction(ctx *ledger.Context, typ string, body ledger.Msg) error {
	d, ok := body.(*Decision)
	if !ok || (typ != "reverse" && typ != "uphold") {
		return fmt.Errorf("%w: asset has no action %q", ledger.ErrInvalid, typ)
	}
	return decide(ctx, typ, d)
}

func register(ctx *ledger.Context, m *Register) error {
	if _, found, err := getAsset(ctx.KV, m.ID); err != nil || found {
		if err == nil {
			err = fmt.Errorf("%w: asset %s is already registered", ledger.ErrConflict, m.ID)
		}
		return err
	}
	if _, err := identity.ActingSigner(ctx, m.Owner, capabilityInvocation); err != nil {
		return fmt.Errorf("the owner: %w", err)
	}
	a := &Asset{ID: m.ID, Description: m.Description, Owner: m.Owner, Place: m.Place, Metadata: m.Metadata,
		Height: ctx.Block.Height, Time: ctx.Block.Time.UnixMilli(), TxID: ctx.TxID}
	ctx.Emit("registered", ledger.Attr{Key: "asset", Value: m.ID}, ledger.Attr{Key: "owner", Value: m.Owner})
	return record(ctx, a, Event{Kind: EvRegistered})
}

func addRule(ctx *ledger.Context, m *AddRule) error {
	a, err := LookupAsset(ctx.KV, m.Asset)
	if err != nil {
		return err
	}
	if a.Disputed != 0 {
		return fmt.Errorf("%w: asset %s is frozen while trigger %d is disputed", ledger.ErrConflict, a.ID, a.Disputed)
	}
	if _, err := identity.ActingSigner(ctx, a.Owner, capabilityInvocation); err != nil {
		return fmt.Errorf("only the owner %s adds rules: %w", a.Owner, err)
	}
	if m.TransferTo == a.Owner {
		return fmt.Errorf("%w: the rule would transfer %s to its owner", ledger.ErrInvalid, a.ID)
	}
	if err := didExists(ctx.View(identity.Name), m.TransferTo, ctx.Block.Time); err != nil {
		return fmt.Errorf("transfer_to: %w", err)
	}
	if m.Condition.Until < ctx.Block.Time.UnixMilli() {
		return fmt.Errorf("%w: the condition's window ended before this block", ledger.ErrInvalid)
	}
	gv := ctx.View(gov.Name)
	for _, p := range m.Providers {
		if _, err := providerKey(gv, p); err != nil {
			return err
		}
	}
	a.Rules++
	r := Rule{Asset: a.ID, N: a.Rules, Owner: a.Owner, Condition: m.Condition, Providers: m.Providers, Threshold: m.Threshold,
		TransferTo: m.TransferTo, DisputeWindow: m.DisputeWindow, Height: ctx.Block.Height, Time: ctx.Block.Time.UnixMilli(), TxID: ctx.TxID}
	if err := ctx.KV.SetValue(ruleKey(a.ID, r.N), &r); err != nil {
		return err
	}
	ctx.Emit("rule", ledger.Attr{Key: "asset", Value: a.ID}, ledger.Attr{Key: "rule", Value: strconv.FormatUint(r.N, 10)},
		ledger.Attr{Key: "threshold", Value: fmt.Sprintf("%d of %d", r.Threshold, len(r.Providers))})
	return record(ctx, a, Event{Kind: EvRule, Rule: r.N})
}

// didExists answers whether did is a DID of the identity module: every
// DID has a key-0, so asking its standing answers ledger.ErrNotFound for
// an unknown one.
func didExists(iv *ledger.KV, did string, at time.Time) error {
	_, err := identity.KeyIDStanding(iv, did, "key-0", "", at)
	return err
}

// providerKey returns the key the registry holds for provider, or an
// error wrapping ledger.ErrNotFound if it is not accredited.
func providerKey(gv *ledger.KV, provider string) (tx.PublicKey, error) {
	e, found, err := gov.EntryIn(gv, ProvidersResource, provider)
	if err != nil {
		return tx.PublicKey{}, err
	}
	if !found {
		return tx.PublicKey{}, fmt.Errorf("%w: %s is not an accredited data provider (no entry in the governance registry %s)", ledger.ErrNotFound, provider, ProvidersResource)
	}
	k, err := tx.ParsePublicKey(e.Value)
	if err != nil {
		return tx.PublicKey{}, fmt.Errorf("%w: the registry entry of %s is not a public key", ledger.ErrNotFound, provider)
	}
	return k, nil
}

func submit(ctx *ledger.Context, m *Submit) error {
	a, err := LookupAsset(ctx.KV, m.Asset)
	if err != nil {
		return err
	}
	r, err := LookupRule(ctx.KV, m.Asset, m.Rule)
	if err != nil {
		return err
	}
	switch {
	case r.Trigger != 0:
		return fmt.Errorf("%w: rule %d of %s fired already (trigger %d); a rule fires once", ledger.ErrGone, r.N, a.ID, r.Trigger)
	case r.Owner != a.Owner:
		return fmt.Errorf("%w: rule %d of %s was set by %s, who no longer owns it", ledger.ErrGone, r.N, a.ID, r.Owner)
	case a.Disputed != 0:
		return fmt.Errorf("%w: asset %s is frozen while trigger %d is disputed", ledger.ErrConflict, a.ID, a.Disputed)
	}
	o := &m.Observation
	if o.Chain != ctx.Block.ChainID {
		return fmt.Errorf("%w: the observation is for chain %q, this is %q", ledger.ErrInvalid, o.Chain, ctx.Block.ChainID)
	}
	if o.Time > ctx.Block.Time.UnixMilli() {
		return fmt.Errorf("%w: the observation is dated after this block", ledger.ErrInvalid)
	}
	if err := r.Condition.Match(o); err != nil {
		return fmt.Errorf("%w: rule %d of %s: %v", ledger.ErrInvalid, r.N, a.ID, err)
	}
	digest := o.Digest()
	pk := pendingKey(a.ID, r.N, digest)
	var p Pending
	if _, err := ctx.KV.GetValue(pk, &p); err != nil {
		return err
	}
	gv := ctx.View(gov.Name)
	// The signatures gathered earlier count only if their provider is
	// still accredited with the key that signed.
	counted := p.Signatures[:0:0]
	var ignored []string
	for _, c := range p.Signatures {
		if k, err := providerKey(gv, c.Provider); err == nil && k.Equal(c.Key) {
			counted = append(counted, c)
		}
	}
	signed := o.SigningBytes()
	added := 0
	for _, s := range m.Signatures {
		why := ""
		var k tx.PublicKey
		if slices.ContainsFunc(counted, func(c Counted) bool { return c.Provider == s.Provider }) {
			why = "counted already"
		} else if k, err = providerKey(gv, s.Provider); errors.Is(err, ledger.ErrNotFound) {
			why = "not accredited"
		} else if err != nil {
			return err
		} else if !sortedHas(r.Providers, s.Provider) {
			why = "not a provider of the rule"
		} else if !k.Verify(signed, s.Sig) {
			why = "bad signature"
		}
		if why != "" {
			ignored = append(ignored, s.Provider+": "+why)
			continue
		}
		counted = append(counted, Counted{Provider: s.Provider, Key: k, Sig: s.Sig, TxID: ctx.TxID})
		added++
	}
	if added == 0 {
		return fmt.Errorf("%w: no signature counts (%s)", ledger.ErrUnauthorized, strings.Join(ignored, "; "))
	}
	slices.SortFunc(counted, func(x, y Counted) int { return strings.Compare(x.Provider, y.Provider) })
	attrs := []ledger.Attr{{Key: "asset", Value: a.ID}, {Key: "rule", Value: strconv.FormatUint(r.N, 10)},
		{Key: "observation", Value: hex.EncodeToString(digest[:])},
		{Key: "counted", Value: fmt.Sprintf("%d of %d", len(counted), r.Threshold)}}
	if len(ignored) > 0 {
		attrs = append(attrs, ledger.Attr{Key: "ignored", Value: strings.Join(ignored, "; ")})
	}
	ctx.Emit("observed", attrs...)
	if len(counted) < int(r.Threshold) {
		return ctx.KV.SetValue(pk, &Pending{Observation: *o, Signatures: counted})
	}
	ctx.KV.Delete(pk)
	return fire(ctx, a, r, o, counted)
}

// fire transfers a under rule r: the one place a trigger is made.
func fire(ctx *ledger.Context, a *Asset, r *Rule, o *Observation, sigs []Counted) error {
	var n uint64
	if _, err := ctx.KV.GetValue(seqKey, &n); err != nil {
		return err
	}
	n++
	now := ctx.Block.Time.UnixMilli()
	t := Trigger{ID: n, Asset: a.ID, Rule: r.N, Observation: *o, Signatures: sigs, From: a.Owner, To: r.TransferTo,
		Height: ctx.Block.Height, Time: now, TxID: ctx.TxID, DisputeUntil: now + int64(r.DisputeWindow), Status: Fired}
	r.Trigger = n
	a.Owner = r.TransferTo
	for _, w := range []struct {
		k []byte
		v any
	}{{seqKey, n}, {triggerKey(n), &t}, {ruleKey(a.ID, r.N), r}} {
		if err := ctx.KV.SetValue(w.k, w.v); err != nil {
			return err
		}
	}
	ctx.Emit("triggered", ledger.Attr{Key: "trigger", Value: strconv.FormatUint(n, 10)}, ledger.Attr{Key: "asset", Value: a.ID},
		ledger.Attr{Key: "from", Value: t.From}, ledger.Attr{Key: "to", Value: t.To})
	return record(ctx, a, Event{Kind: EvTriggered, Rule: r.N, Trigger: n})
}

func dispute(ctx *ledger.Context, m *Dispute) error {
	t, err := LookupTrigger(ctx.KV, m.Trigger)
	if err != nil {
		return err
	}
	if t.Status != Fired {
		return fmt.Errorf("%w: trigger %d is %s", ledger.ErrConflict, t.ID, t.Status)
	}
	if ctx.Block.Time.UnixMilli() > t.DisputeUntil {
		return fmt.Errorf("%w: trigger %d's dispute window ended at %s; it is final", ledger.ErrGone, t.ID, time.UnixMilli(t.DisputeUntil).UTC().Format(time.RFC3339Nano))
	}
	if _, err := identity.ActingSigner(ctx, t.From, capabilityInvocation); err != nil {
		return fmt.Errorf("only the previous owner %s disputes trigger %d: %w", t.From, t.ID, err)
	}
	a, err := LookupAsset(ctx.KV, t.Asset)
	if err != nil {
		return err
	}
	t.Status = Disputed
	t.Dispute = &Step{By: t.From, Reason: m.Reason, Height: ctx.Block.Height, Time: ctx.Block.Time.UnixMilli(), TxID: ctx.TxID}
	a.Disputed = t.ID
	if err := ctx.KV.SetValue(triggerKey(t.ID), t); err != nil {
		return err
	}
	ctx.Emit("disputed", ledger.Attr{Key: "trigger", Value: strconv.FormatUint(t.ID, 10)}, ledger.Attr{Key: "asset", Value: a.ID}, ledger.Attr{Key: "by", Value: t.From})
	return record(ctx, a, Event{Kind: EvDisputed, Rule: t.Rule, Trigger: t.ID})
}

// decide executes governance's decision on a trigger.
func decide(ctx *ledger.Context, typ string, d *Decision) error {
	t, err := LookupTrigger(ctx.KV, d.Trigger)
	if err != nil {
		return err
	}
	a, err := LookupAsset(ctx.KV, t.Asset)
	if err != nil {
		return err
	}
	now := ctx.Block.Time.UnixMilli()
	kind := EvUpheld
	switch {
	case typ == "uphold" && t.Status != Disputed:
		return fmt.Errorf("%w: trigger %d is %s, not disputed", ledger.ErrConflict, t.ID, t.Status)
	case typ == "uphold":
		t.Status = Upheld
	case t.Status == Fired && now > t.DisputeUntil:
		return fmt.Errorf("%w: trigger %d was not disputed and its window ended at %s; it is final", ledger.ErrGone, t.ID, time.UnixMilli(t.DisputeUntil).UTC().Format(time.RFC3339Nano))
	case t.Status != Fired && t.Status != Disputed:
		return fmt.Errorf("%w: trigger %d is %s", ledger.ErrConflict, t.ID, t.Status)
	case a.Owner != t.To:
		return fmt.Errorf("%w: asset %s changed hands after trigger %d (owner now %s); reverse the later trigger first", ledger.ErrConflict, a.ID, t.ID, a.Owner)
	default:
		t.Status, a.Owner, kind = Reversed, t.From, EvReversed
	}
	if a.Disputed == t.ID {
		a.Disputed = 0
	}
	t.Decision = &Step{By: "governance", Reason: d.Reason, Height: ctx.Block.Height, Time: now, TxID: ctx.TxID}
	if err := ctx.KV.SetValue(triggerKey(t.ID), t); err != nil {
		return err
	}
	ctx.Emit(kind, ledger.Attr{Key: "trigger", Value: strconv.FormatUint(t.ID, 10)}, ledger.Attr{Key: "asset", Value: a.ID}, ledger.Attr{Key: "owner", Value: a.Owner})
	return record(ctx, a, Event{Kind: kind, Rule: t.Rule, Trigger: t.ID})
}

// record appends e to a's history and writes a.
func record(ctx *ledger.Context, a *Asset, e Event) error {
	a.Events++
	e.N, e.Owner, e.Height, e.Time, e.TxID = a.Events, a.Owner, ctx.Block.Height, ctx.Block.Time.UnixMilli(), ctx.TxID
	if err := ctx.KV.SetValue(eventKey(a.ID, e.N), &e); err != nil {
		return err
	}
	return ctx.KV.SetValue(assetKey(a.ID), a)
}

// capabilityInvocation is the DID Core verification relationship of the
// keys that control a DID: the one an owner's key must have.
const capabilityInvocation = "capabilityInvocation"
