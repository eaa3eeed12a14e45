package custody

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
)

// ErrPolicy marks a request the wallet's policy refuses. It is wrapped
// beside ledger.ErrUnauthorized, whose stable code the refusal keeps;
// the reason names the rule or the limit.
var ErrPolicy = errors.New("refused by policy")

// Limits of a policy.
const (
	MaxRules   = 32
	MaxGroups  = 8
	MaxMembers = 32
	MaxAllowed = 64
)

// Group is a group of approvers: DIDs, of whom Quorum must approve.
type Group struct {
	Name    string   `cbor:"1,keyasint" json:"name"`
	Members []string `cbor:"2,keyasint" json:"members"`
	Quorum  uint16   `cbor:"3,keyasint" json:"quorum"`
}

// Rule is one rule of a policy. A request matches it if its amount is in
// [MinAmount, MaxAmount] (MaxAmount 0: no upper bound) and its
// destination matches Destination: "*" any, "allowlist" one on the
// policy's allow-list, otherwise exactly that address. The first rule
// that matches decides: "deny" refuses, "allow" asks for Approvals
// approvals from Group (its quorum if 0) and waits Delay after the last.
type Rule struct {
	Name        string `cbor:"1,keyasint" json:"name"`
	Action      string `cbor:"2,keyasint" json:"action"` // allow, deny
	MinAmount   uint64 `cbor:"3,keyasint,omitempty" json:"min_amount,omitempty"`
	MaxAmount   uint64 `cbor:"4,keyasint,omitempty" json:"max_amount,omitempty"`
	Destination string `cbor:"5,keyasint" json:"destination"`
	Group       string `cbor:"6,keyasint,omitempty" json:"group,omitempty"`
	Approvals   uint16 `cbor:"7,keyasint,omitempty" json:"approvals,omitempty"`
	DelayMS     int64  `cbor:"8,keyasint,omitempty" json:"delay_ms,omitempty"`
}

// Allowed is a destination on the allow-list, with when it was added
// (Unix ms, set by the ledger).
type Allowed struct {
	Address string `cbor:"1,keyasint" json:"address"`
	Label   string `cbor:"2,keyasint,omitempty" json:"label,omitempty"`
	Added   int64  `cbor:"3,keyasint,omitempty" json:"added,omitempty"`
}

// Policy is a wallet's approval policy.
type Policy struct {
	Rules  []Rule  `cbor:"1,keyasint" json:"rules"`
	Groups []Group `cbor:"2,keyasint" json:"groups"`
	// AllowList is the destination allow-list. It may change (by a
	// policy change) until LockAfterMS after the wallet's creation; then
	// it is locked for good.
	AllowList   []Allowed `cbor:"3,keyasint,omitempty" json:"allow_list,omitempty"`
	LockAfterMS int64     `cbor:"4,keyasint,omitempty" json:"lock_after_ms,omitempty"`
	// Limits; 0 is no limit. PeriodLimit applies to windows of PeriodMS.
	PerTx         uint64 `cbor:"5,keyasint,omitempty" json:"per_tx,omitempty"`
	PeriodMS      int64  `cbor:"6,keyasint,omitempty" json:"period_ms,omitempty"`
	PeriodLimit   uint64 `cbor:"7,keyasint,omitempty" json:"period_limit,omitempty"`
	LifetimeLimit uint64 `cbor:"8,keyasint,omitempty" json:"lifetime_limit,omitempty"`
	// ColdExtra more approvals every rule needs on a cold wallet.
	ColdExtra uint16 `cbor:"9,keyasint,omitempty" json:"cold_extra,omitempty"`
	// ChangeGroup's quorum (the proposer not counting) changes the
	// policy, ChangeDelayMS after the approval that meets it.
	ChangeGroup   string `cbor:"10,keyasint" json:"change_group"`
	ChangeDelayMS int64  `cbor:"11,keyasint,omitempty" json:"change_delay_ms,omitempty"`
	// RequestTTLMS is how long a request stays open (default a day).
	RequestTTLMS int64 `cbor:"12,keyasint,omitempty" json:"request_ttl_ms,omitempty"`
	// ShareWindowMS is how long a request's signers have, once t of
	// them committed, to give their shares (default a minute); then the
	// signers that gave none are dropped for the request and the others
	// commit afresh.
	ShareWindowMS int64 `cbor:"13,keyasint,omitempty" json:"share_window_ms,omitempty"`
}

func (p *Policy) group(name string) *Group {
	for i := range p.Groups {
		if p.Groups[i].Name == name {
			return &p.Groups[i]
		}
	}
	return nil
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: policy: "+format, append([]any{ledger.ErrInvalid}, args...)...)
}

func (p *Policy) validate(tier string) error {
	if len(p.Groups) == 0 || len(p.Groups) > MaxGroups {
		return invalidf("1 to %d groups", MaxGroups)
	}
	for i, g := range p.Groups {
		if !idRE.MatchString(g.Name) || p.group(g.Name) != &p.Groups[i] {
			return invalidf("group name %q is not a unique lower-case name", g.Name)
		}
		if len(g.Members) == 0 || len(g.Members) > MaxMembers || g.Quorum == 0 || int(g.Quorum) > len(g.Members) {
			return invalidf("group %s: 1 to %d members and a quorum of 1 to their number", g.Name, MaxMembers)
		}
		for j, m := range g.Members {
			if err := checkDID("member", m); err != nil {
				return err
			}
			if slices.Contains(g.Members[:j], m) {
				return invalidf("group %s: %s twice", g.Name, m)
			}
		}
	}
	if len(p.Rules) == 0 || len(p.Rules) > MaxRules {
		return invalidf("1 to %d rules", MaxRules)
	}
	for i, r := range p.Rules {
		if !idRE.MatchString(r.Name) || slices.ContainsFunc(p.Rules[:i], func(o Rule) bool { return o.Name == r.Name }) {
			return invalidf("rule name %q is not a unique lower-case name", r.Name)
		}
		if r.MaxAmount != 0 && r.MaxAmount < r.MinAmount {
			return invalidf("rule %s: max_amount below min_amount", r.Name)
		}
		if r.Destination == "" || len(r.Destination) > 128 {
			return invalidf("rule %s: destination is *, allowlist or an address", r.Name)
		}
		if r.DelayMS < 0 || r.DelayMS > int64(MaxRequestTTL/time.Millisecond) {
			return invalidf("rule %s: delay_ms from 0 to %d", r.Name, MaxRequestTTL/time.Millisecond)
		}
		switch r.Action {
		case "deny":
			if r.Group != "" || r.Approvals != 0 || r.DelayMS != 0 {
				return invalidf("rule %s: a deny rule takes no group, approvals or delay", r.Name)
			}
		case "allow":
			g := p.group(r.Group)
			if g == nil {
				return invalidf("rule %s: no group %q", r.Name, r.Group)
			}
			if need := p.needed(&r, g, tier); need > len(g.Members) {
				return invalidf("rule %s: needs %d approvals of group %s's %d members", r.Name, need, g.Name, len(g.Members))
			}
		default:
			return invalidf("rule %s: action %q (want allow or deny)", r.Name, r.Action)
		}
	}
	if len(p.AllowList) > MaxAllowed {
		return invalidf("at most %d allowed destinations", MaxAllowed)
	}
	for i, a := range p.AllowList {
		if a.Address == "" || len(a.Address) > 128 || len(a.Label) > MaxLabel ||
			slices.ContainsFunc(p.AllowList[:i], func(o Allowed) bool { return o.Address == a.Address }) {
			return invalidf("allowed destination %q is empty, too long or twice", a.Address)
		}
	}
	if p.LockAfterMS < 0 || p.PeriodMS < 0 || p.ChangeDelayMS < 0 || p.RequestTTLMS < 0 ||
		p.RequestTTLMS > int64(MaxRequestTTL/time.Millisecond) {
		return invalidf("durations are not negative, and request_ttl_ms at most %d", MaxRequestTTL/time.Millisecond)
	}
	if p.ShareWindowMS != 0 && (p.ShareWindowMS < int64(MinShareWindow/time.Millisecond) || p.ShareWindowMS > int64(MaxRequestTTL/time.Millisecond)) {
		return invalidf("share_window_ms is %d to %d", MinShareWindow/time.Millisecond, MaxRequestTTL/time.Millisecond)
	}
	if (p.PeriodMS == 0) != (p.PeriodLimit == 0) {
		return invalidf("period_ms and period_limit go together")
	}
	if p.group(p.ChangeGroup) == nil {
		return invalidf("no change group %q", p.ChangeGroup)
	}
	return nil
}

// needed is the number of approvals rule r asks of group g on a wallet
// of tier.
func (p *Policy) needed(r *Rule, g *Group, tier string) int {
	n := int(r.Approvals)
	if n == 0 {
		n = int(g.Quorum)
	}
	if tier == "cold" {
		n += int(p.ColdExtra)
	}
	return n
}

// stamp sets the time an allowed destination was added: kept from old
// for those it already had, now for the new.
func (p *Policy) stamp(old *Policy, now int64) {
	for i := range p.AllowList {
		p.AllowList[i].Added = now
		if old == nil {
			continue
		}
		for _, o := range old.AllowList {
			if o.Address == p.AllowList[i].Address {
				p.AllowList[i].Added = o.Added
			}
		}
	}
}

func (p *Policy) allowed(addr string) bool {
	return slices.ContainsFunc(p.AllowList, func(a Allowed) bool { return a.Address == addr })
}

// MinShareWindow is the shortest share window a policy sets: a signer
// needs a block or two to give its share.
const MinShareWindow = time.Second

func (p *Policy) shareWindow() time.Duration {
	if p.ShareWindowMS == 0 {
		return time.Minute
	}
	return time.Duration(p.ShareWindowMS) * time.Millisecond
}

func (p *Policy) requestTTL() time.Duration {
	if p.RequestTTLMS == 0 {
		return 24 * time.Hour
	}
	return time.Duration(p.RequestTTLMS) * time.Millisecond
}

// Decision is what a policy decided for a request.
type Decision struct {
	Rule      string `cbor:"1,keyasint" json:"rule"`
	Group     string `cbor:"2,keyasint" json:"group"`
	Approvals uint16 `cbor:"3,keyasint" json:"approvals"`
	DelayMS   int64  `cbor:"4,keyasint,omitempty" json:"delay_ms,omitempty"`
}

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %w: "+format, append([]any{ledger.ErrUnauthorized, ErrPolicy}, args...)...)
}

// Evaluate judges a request of amount to dest on w at now (Unix ms): the
// first matching rule, then the limits. A refusal wraps ErrPolicy and
// ledger.ErrUnauthorized, and names the rule or limit.
func (w *Wallet) Evaluate(amount uint64, dest string, now int64) (*Decision, error) {
	p := &w.Policy
	var rule *Rule
	for i := range p.Rules {
		r := &p.Rules[i]
		if amount < r.MinAmount || (r.MaxAmount != 0 && amount > r.MaxAmount) {
			continue
		}
		switch r.Destination {
		case "*":
		case "allowlist":
			if !p.allowed(dest) {
				continue
			}
		default:
			if r.Destination != dest {
				continue
			}
		}
		rule = r
		break
	}
	if rule == nil {
		return nil, refuse("no rule matches %d to %s", amount, dest)
	}
	if rule.Action == "deny" {
		return nil, refuse("rule %q denies %d to %s", rule.Name, amount, dest)
	}
	if p.PerTx != 0 && amount > p.PerTx {
		return nil, refuse("limit per_tx: %d is over %d", amount, p.PerTx)
	}
	u := w.usage(now)
	if p.PeriodLimit != 0 && u.Period+amount > p.PeriodLimit {
		return nil, refuse("limit period_limit: %d spent of %d in this period, %d more is over", u.Period, p.PeriodLimit, amount)
	}
	if p.LifetimeLimit != 0 && u.Lifetime+amount > p.LifetimeLimit {
		return nil, refuse("limit lifetime_limit: %d spent of %d, %d more is over", u.Lifetime, p.LifetimeLimit, amount)
	}
	g := p.group(rule.Group)
	return &Decision{Rule: rule.Name, Group: g.Name, Approvals: uint16(p.needed(rule, g, w.Tier)), DelayMS: rule.DelayMS}, nil
}

// usage is the wallet's usage as of now: the period's resets in a new
// window.
func (w *Wallet) usage(now int64) Usage {
	u := w.Usage
	if w.Policy.PeriodMS == 0 {
		u.Window, u.Period = 0, 0
		return u
	}
	if win := now / w.Policy.PeriodMS; win != u.Window {
		u.Window, u.Period = win, 0
	}
	return u
}

// ---- Changing the policy: a quorum of the change group, then a delay.

// Proposal is a proposed policy change.
type Proposal struct {
	Policy    Policy   `cbor:"1,keyasint" json:"policy"`
	Proposer  string   `cbor:"2,keyasint" json:"proposer"`
	Approvers []string `cbor:"3,keyasint,omitempty" json:"approvers,omitempty"`
	Proposed  int64    `cbor:"4,keyasint" json:"proposed"`
	// Effective is set once the quorum approved: when it takes effect.
	Effective int64 `cbor:"5,keyasint,omitempty" json:"effective,omitempty"`
}

func proposalKey(wallet string) []byte { return []byte("w/" + wallet + "/proposal") }

// ProposePolicy is the body of "propose_policy".
type ProposePolicy struct {
	Wallet   string `cbor:"1,keyasint" json:"wallet"`
	Proposer string `cbor:"2,keyasint" json:"proposer"`
	Policy   Policy `cbor:"3,keyasint" json:"policy"`
}

// Validate implements ledger.Msg (against the strictest tier; the
// wallet's is checked when it executes).
func (m *ProposePolicy) Validate() error {
	if err := checkWalletID(m.Wallet); err != nil {
		return err
	}
	if err := checkDID("proposer", m.Proposer); err != nil {
		return err
	}
	return m.Policy.validate("hot")
}

// ApprovePolicy is the body of "approve_policy".
type ApprovePolicy struct {
	Wallet   string `cbor:"1,keyasint" json:"wallet"`
	Approver string `cbor:"2,keyasint" json:"approver"`
}

// Validate implements ledger.Msg.
func (m *ApprovePolicy) Validate() error {
	if err := checkWalletID(m.Wallet); err != nil {
		return err
	}
	return checkDID("approver", m.Approver)
}

// asMember loads the wallet and checks that a signer acts for did, a
// member of group.
func asMember(ctx *ledger.Context, wallet, group, did string) (*Wallet, error) {
	w, err := loadWallet(ctx.KV, wallet)
	if err != nil {
		return nil, err
	}
	g := w.Policy.group(group)
	if g == nil || !slices.Contains(g.Members, did) {
		return nil, fmt.Errorf("%w: %s is not in group %s of wallet %s", ledger.ErrUnauthorized, did, group, wallet)
	}
	return w, acting(ctx, did)
}

func proposePolicy(ctx *ledger.Context, m *ProposePolicy) error {
	w, err := loadWallet(ctx.KV, m.Wallet)
	if err != nil {
		return err
	}
	if w, err = asMember(ctx, m.Wallet, w.Policy.ChangeGroup, m.Proposer); err != nil {
		return err
	}
	if err := w.want(Generation, InActivation, Active, InUse, Suspended); err != nil {
		return err
	}
	if err := m.Policy.validate(w.Tier); err != nil {
		return err
	}
	now := ctx.Block.Time.UnixMilli()
	if locked := w.Created + w.Policy.LockAfterMS; w.Policy.LockAfterMS > 0 && now >= locked && !sameAllowList(w.Policy.AllowList, m.Policy.AllowList) {
		return fmt.Errorf("%w: wallet %s's allow-list locked at %s", ledger.ErrConflict, w.ID, time.UnixMilli(locked).UTC().Format(time.RFC3339))
	}
	if _, found, err := ctx.KV.Get(proposalKey(w.ID)); err != nil {
		return err
	} else if found {
		// A newer proposal replaces the old, whose approvals lapse.
		if err := ctx.Cancel(policyDue(w.ID)); err != nil {
			return err
		}
	}
	p := Proposal{Policy: m.Policy, Proposer: m.Proposer, Proposed: now}
	if err := ctx.KV.SetValue(proposalKey(w.ID), &p); err != nil {
		return err
	}
	return w.record(ctx, "policy_proposed", m.Proposer, fmt.Sprintf("%d rules, %d groups", len(m.Policy.Rules), len(m.Policy.Groups)))
}

func sameAllowList(a, b []Allowed) bool {
	return slices.EqualFunc(a, b, func(x, y Allowed) bool { return x.Address == y.Address && x.Label == y.Label })
}

func approvePolicy(ctx *ledger.Context, m *ApprovePolicy) error {
	w, err := loadWallet(ctx.KV, m.Wallet)
	if err != nil {
		return err
	}
	if w, err = asMember(ctx, m.Wallet, w.Policy.ChangeGroup, m.Approver); err != nil {
		return err
	}
	var p Proposal
	found, err := ctx.KV.GetValue(proposalKey(w.ID), &p)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%w: wallet %s has no proposed policy", ledger.ErrNotFound, w.ID)
	}
	what, err := w.approveChange(ctx, "policy", p.Proposer, &p.Approvers, &p.Effective, m.Approver,
		time.Duration(w.Policy.ChangeDelayMS)*time.Millisecond, policyDue(w.ID))
	if err != nil {
		return err
	}
	if err := ctx.KV.SetValue(proposalKey(w.ID), &p); err != nil {
		return err
	}
	return w.record(ctx, "policy_approved", m.Approver, what)
}

// approveChange records approver's approval of a change (what: a policy,
// a rotation, a destruction) that proposer proposed, into approvers: the
// proposer never counts, nor an approval twice. At the change group's
// quorum it schedules due delay later and sets effective. It returns the
// audit entry's text.
func (w *Wallet) approveChange(ctx *ledger.Context, what, proposer string, approvers *[]string, effective *int64, approver string, delay time.Duration, due []byte) (string, error) {
	switch {
	case *effective != 0:
		return "", fmt.Errorf("%w: the proposed %s is approved already", ledger.ErrConflict, what)
	case approver == proposer:
		return "", fmt.Errorf("%w: the proposer never counts among the approvers", ledger.ErrUnauthorized)
	case slices.Contains(*approvers, approver):
		return "", fmt.Errorf("%w: %s approved already", ledger.ErrConflict, approver)
	}
	*approvers = append(*approvers, approver)
	g := w.Policy.group(w.Policy.ChangeGroup)
	if len(*approvers) >= int(g.Quorum) {
		at := ctx.Block.Time.Add(delay)
		*effective = at.UnixMilli()
		if err := ctx.Schedule(at, due); err != nil {
			return "", err
		}
	}
	text := fmt.Sprintf("%d of %d", len(*approvers), g.Quorum)
	if *effective != 0 {
		text += ", takes effect at " + time.UnixMilli(*effective).UTC().Format(time.RFC3339)
	}
	return text, nil
}

// applyPolicy puts the approved proposal in force.
func applyPolicy(ctx *ledger.Context, wallet string) error {
	w, err := loadWallet(ctx.KV, wallet)
	if err != nil {
		return err
	}
	var p Proposal
	found, err := ctx.KV.GetValue(proposalKey(w.ID), &p)
	if err != nil {
		return err
	}
	if !found || p.Effective == 0 {
		return nil
	}
	if w.State == Destroyed || w.State == Failed {
		ctx.KV.Delete(proposalKey(w.ID))
		return nil
	}
	p.Policy.stamp(&w.Policy, ctx.Block.Time.UnixMilli())
	w.Policy = p.Policy
	ctx.KV.Delete(proposalKey(w.ID))
	return w.record(ctx, "policy_changed", p.Proposer, fmt.Sprintf("approved by %d", len(p.Approvers)))
}
