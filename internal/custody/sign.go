package custody

import (
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/agora-ledger/agora/internal/frost"
	"github.com/agora-ledger/agora/internal/ledger"
)

// Request states.
const (
	Pending  = "pending"   // waiting for approvals
	Locked   = "time_lock" // approved, waiting out the rule's delay
	Approved = "approved"  // the holders may sign
	Signing  = "signing"   // t commitments are in
	Signed   = "signed"
	Expired  = "expired"
)

// Req is a signing request.
type Req struct {
	Wallet      string   `cbor:"1,keyasint" json:"wallet"`
	N           uint64   `cbor:"2,keyasint" json:"n"`
	Initiator   string   `cbor:"3,keyasint" json:"initiator"`
	Amount      uint64   `cbor:"4,keyasint" json:"amount"`
	Destination string   `cbor:"5,keyasint" json:"destination"`
	Message     []byte   `cbor:"6,keyasint" json:"message"`
	Memo        string   `cbor:"7,keyasint,omitempty" json:"memo,omitempty"`
	Decision    Decision `cbor:"8,keyasint" json:"decision"`
	Approvers   []string `cbor:"9,keyasint,omitempty" json:"approvers,omitempty"`
	State       string   `cbor:"10,keyasint" json:"state"`
	Created     int64    `cbor:"11,keyasint" json:"created"`
	Expires     int64    `cbor:"12,keyasint" json:"expires"`
	Unlocks     int64    `cbor:"13,keyasint,omitempty" json:"unlocks,omitempty"` // when the time lock ends
	// Commitments are the holders' FROST commitments, in the order
	// posted; the first Threshold of them, ascending, sign.
	Commitments [][]byte `cbor:"14,keyasint,omitempty" json:"commitments,omitempty"`
	Shares      [][]byte `cbor:"15,keyasint,omitempty" json:"shares,omitempty"`
	Signature   []byte   `cbor:"16,keyasint,omitempty" json:"signature,omitempty"`
	TxID        []byte   `cbor:"17,keyasint" json:"tx"` // of the request
	Changed     int64    `cbor:"18,keyasint" json:"changed"`
	// Keys is the wallet's rotation whose holders made Commitments:
	// commitments of holders before a rotation are void.
	Keys uint64 `cbor:"19,keyasint,omitempty" json:"keys,omitempty"`
	// Round counts the signing rounds the request started again: when
	// signers give no share within the policy's share window, they are
	// dropped (Dropped) and the others commit afresh, in the next round.
	Round   uint32   `cbor:"20,keyasint,omitempty" json:"round,omitempty"`
	Dropped []uint16 `cbor:"21,keyasint,omitempty" json:"dropped,omitempty"` // holders that gave no share in time, ascending
}

// renew voids the commitments and shares of holders before the wallet's
// last rotation: the new holders commit afresh.
func (r *Req) renew(w *Wallet) {
	if r.Keys == w.Rotations || (r.State != Approved && r.State != Signing) {
		return
	}
	r.Commitments, r.Shares, r.Keys, r.State, r.Dropped = nil, nil, w.Rotations, Approved, nil
}

func requestKey(wallet string, n uint64) []byte { return fmt.Appendf(nil, "w/%s/req/%016x", wallet, n) }

func loadRequest(kv *ledger.KV, wallet string, n uint64) (*Req, error) {
	var r Req
	found, err := kv.GetValue(requestKey(wallet, n), &r)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: wallet %s has no request %d", ledger.ErrNotFound, wallet, n)
	}
	return &r, nil
}

func (r *Req) save(ctx *ledger.Context) error {
	r.Changed = ctx.Block.Time.UnixMilli()
	return ctx.KV.SetValue(requestKey(r.Wallet, r.N), r)
}

// Request is the body of "request".
type Request struct {
	Wallet      string `cbor:"1,keyasint" json:"wallet"`
	Initiator   string `cbor:"2,keyasint" json:"initiator"`
	Amount      uint64 `cbor:"3,keyasint" json:"amount"`
	Destination string `cbor:"4,keyasint" json:"destination"`
	Message     []byte `cbor:"5,keyasint" json:"message"` // the bytes to sign (a sighash for taproot)
	Memo        string `cbor:"6,keyasint,omitempty" json:"memo,omitempty"`
}

// Validate implements ledger.Msg.
func (m *Request) Validate() error {
	if err := checkWalletID(m.Wallet); err != nil {
		return err
	}
	if err := checkDID("initiator", m.Initiator); err != nil {
		return err
	}
	if m.Amount == 0 || m.Destination == "" || len(m.Destination) > 128 || len(m.Memo) > 256 {
		return fmt.Errorf("%w: a request has an amount, a destination of at most 128 bytes and a memo of at most 256", ledger.ErrInvalid)
	}
	if len(m.Message) == 0 || len(m.Message) > MaxMessage {
		return fmt.Errorf("%w: message is 1 to %d bytes", ledger.ErrInvalid, MaxMessage)
	}
	return nil
}

func request(ctx *ledger.Context, m *Request) error {
	w, err := loadWallet(ctx.KV, m.Wallet)
	if err != nil {
		return err
	}
	if err := acting(ctx, m.Initiator); err != nil {
		return err
	}
	// Only a member of one of the policy's groups requests: a stranger's
	// requests would reserve the wallet's limits until they expire.
	if !slices.ContainsFunc(w.Policy.Groups, func(g Group) bool { return slices.Contains(g.Members, m.Initiator) }) {
		return fmt.Errorf("%w: %s is in none of wallet %s's groups: only a member requests", ledger.ErrUnauthorized, m.Initiator, w.ID)
	}
	if err := w.want(Active, InUse); err != nil {
		return err
	}
	if w.Suite == "taproot" && len(m.Message) != 32 {
		return fmt.Errorf("%w: a taproot wallet signs a 32-byte sighash", ledger.ErrInvalid)
	}
	now := ctx.Block.Time.UnixMilli()
	d, err := w.Evaluate(m.Amount, m.Destination, now)
	if err != nil {
		return err
	}
	// The amount is reserved now, so that requests in flight together
	// stay within the limits; an expired request gives it back.
	w.Usage = w.usage(now)
	if w.Policy.PeriodMS > 0 {
		w.Usage.Period += m.Amount
	}
	w.Usage.Lifetime += m.Amount
	w.Requests++
	expires := ctx.Block.Time.Add(w.Policy.requestTTL())
	r := &Req{Wallet: w.ID, N: w.Requests, Initiator: m.Initiator, Amount: m.Amount, Destination: m.Destination,
		Message: m.Message, Memo: m.Memo, Decision: *d, State: Pending, Created: now, Expires: expires.UnixMilli(), TxID: ctx.TxID[:]}
	if err := ctx.Schedule(expires, requestDue(w.ID, r.N)); err != nil {
		return err
	}
	if err := r.save(ctx); err != nil {
		return err
	}
	ctx.Emit("request", walletAttr(w.ID), nAttr(r.N), ledger.Attr{Key: "rule", Value: d.Rule})
	return w.record(ctx, "requested", m.Initiator, fmt.Sprintf("request %d: %d %s to %s under rule %s, %d approvals of %s", r.N, m.Amount, w.Asset, m.Destination, d.Rule, d.Approvals, d.Group))
}

// Approve is the body of "approve".
type Approve struct {
	Wallet   string `cbor:"1,keyasint" json:"wallet"`
	Request  uint64 `cbor:"2,keyasint" json:"request"`
	Approver string `cbor:"3,keyasint" json:"approver"`
}

// Validate implements ledger.Msg.
func (m *Approve) Validate() error {
	if err := checkWalletID(m.Wallet); err != nil {
		return err
	}
	if m.Request == 0 {
		return fmt.Errorf("%w: requests are numbered from 1", ledger.ErrInvalid)
	}
	return checkDID("approver", m.Approver)
}

func (r *Req) open() error {
	if r.State == Signed || r.State == Expired {
		return fmt.Errorf("%w: request %d is %s", ledger.ErrGone, r.N, r.State)
	}
	return nil
}

func approve(ctx *ledger.Context, m *Approve) error {
	w, r, err := loadPair(ctx.KV, m.Wallet, m.Request)
	if err != nil {
		return err
	}
	if err := r.open(); err != nil {
		return err
	}
	if w, err = asMember(ctx, m.Wallet, r.Decision.Group, m.Approver); err != nil {
		return err
	}
	switch {
	case m.Approver == r.Initiator:
		return fmt.Errorf("%w: the initiator of request %d never counts among its approvers", ledger.ErrUnauthorized, r.N)
	case slices.Contains(r.Approvers, m.Approver):
		return fmt.Errorf("%w: %s approved request %d already", ledger.ErrConflict, m.Approver, r.N)
	case r.State != Pending:
		return fmt.Errorf("%w: request %d is %s", ledger.ErrConflict, r.N, r.State)
	}
	r.Approvers = append(r.Approvers, m.Approver)
	if len(r.Approvers) >= int(r.Decision.Approvals) {
		r.State = Approved
		if r.Decision.DelayMS > 0 {
			at := ctx.Block.Time.Add(time.Duration(r.Decision.DelayMS) * time.Millisecond)
			r.State, r.Unlocks = Locked, at.UnixMilli()
			if err := ctx.Schedule(at, unlockDue(w.ID, r.N)); err != nil {
				return err
			}
		}
	}
	if err := r.save(ctx); err != nil {
		return err
	}
	if r.State == Approved {
		ctx.Emit("approved", walletAttr(w.ID), nAttr(r.N))
	}
	return w.record(ctx, "approval", m.Approver, fmt.Sprintf("request %d: %d of %d, %s", r.N, len(r.Approvers), r.Decision.Approvals, r.State))
}

// Commit is the body of "commit".
type Commit struct {
	Wallet      string `cbor:"1,keyasint" json:"wallet"`
	Request     uint64 `cbor:"2,keyasint" json:"request"`
	Holder      string `cbor:"3,keyasint" json:"holder"`
	Commitments []byte `cbor:"4,keyasint" json:"commitments"` // frost.Commitments
	// Round is the request's signing round the commitments are for.
	Round uint32 `cbor:"5,keyasint,omitempty" json:"round,omitempty"`
}

// Validate implements ledger.Msg.
func (m *Commit) Validate() error {
	if err := checkWalletID(m.Wallet); err != nil {
		return err
	}
	if m.Request == 0 || len(m.Commitments) == 0 || len(m.Commitments) > 256 {
		return fmt.Errorf("%w: a request number and commitments of at most 256 bytes", ledger.ErrInvalid)
	}
	return checkDID("holder", m.Holder)
}

// signable loads an open request of a usable wallet for holder did.
func signable(ctx *ledger.Context, wallet string, n uint64, did string) (*Wallet, *Holder, *Req, error) {
	w, h, err := asHolder(ctx, wallet, did)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := w.want(Active, InUse); err != nil {
		return nil, nil, nil, err
	}
	r, err := loadRequest(ctx.KV, wallet, n)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := r.open(); err != nil {
		return nil, nil, nil, err
	}
	return w, h, r, nil
}

func commit(ctx *ledger.Context, m *Commit) error {
	w, h, r, err := signable(ctx, m.Wallet, m.Request, m.Holder)
	if err != nil {
		return err
	}
	r.renew(w)
	switch {
	case r.State != Approved:
		return fmt.Errorf("%w: request %d is %s: not approved: holders commit to an approved request", ledger.ErrConflict, r.N, r.State)
	case m.Round != r.Round:
		return fmt.Errorf("%w: request %d is in signing round %d, not %d", ledger.ErrConflict, r.N, r.Round, m.Round)
	case slices.Contains(r.Dropped, h.ID):
		return fmt.Errorf("%w: holder %d gave no share in time in an earlier round of request %d: it no longer signs it", ledger.ErrUnauthorized, h.ID, r.N)
	}
	c, err := w.suite().DecodeCommitments(m.Commitments)
	if err != nil {
		return fmt.Errorf("%w: commitments: %v", ledger.ErrInvalid, err)
	}
	if c.ID != frost.Identifier(h.ID) {
		return fmt.Errorf("%w: commitments of participant %d posted by holder %d", ledger.ErrInvalid, c.ID, h.ID)
	}
	list, err := r.commitments(w)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(list, func(o frost.Commitments) bool { return o.ID == c.ID }) {
		return fmt.Errorf("%w: holder %d committed to request %d already", ledger.ErrConflict, h.ID, r.N)
	}
	list = append(list, c)
	slices.SortFunc(list, func(a, b frost.Commitments) int { return int(a.ID) - int(b.ID) })
	r.Commitments = r.Commitments[:0]
	for _, o := range list {
		r.Commitments = append(r.Commitments, o.Bytes())
	}
	if len(list) == int(w.Threshold) {
		r.State = Signing
		if err := ctx.Schedule(ctx.Block.Time.Add(w.Policy.shareWindow()), shareDue(w.ID, r.N)); err != nil {
			return err
		}
		ctx.Emit("signing", walletAttr(w.ID), nAttr(r.N))
	}
	if err := r.save(ctx); err != nil {
		return err
	}
	return w.record(ctx, "commitment", m.Holder, fmt.Sprintf("request %d: holder %d, %d of %d", r.N, h.ID, len(list), w.Threshold))
}

func (r *Req) commitments(w *Wallet) ([]frost.Commitments, error) {
	var out []frost.Commitments
	for _, b := range r.Commitments {
		c, err := w.suite().DecodeCommitments(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ledger.ErrStorage, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// Share is the body of "share".
type Share struct {
	Wallet  string `cbor:"1,keyasint" json:"wallet"`
	Request uint64 `cbor:"2,keyasint" json:"request"`
	Holder  string `cbor:"3,keyasint" json:"holder"`
	Share   []byte `cbor:"4,keyasint" json:"share"` // frost.SignatureShare
}

// Validate implements ledger.Msg.
func (m *Share) Validate() error {
	if err := checkWalletID(m.Wallet); err != nil {
		return err
	}
	if m.Request == 0 || len(m.Share) == 0 || len(m.Share) > 128 {
		return fmt.Errorf("%w: a request number and a share of at most 128 bytes", ledger.ErrInvalid)
	}
	return checkDID("holder", m.Holder)
}

func share(ctx *ledger.Context, m *Share) error {
	w, h, r, err := signable(ctx, m.Wallet, m.Request, m.Holder)
	if err != nil {
		return err
	}
	if r.State != Signing {
		return fmt.Errorf("%w: request %d is %s: shares follow the commitments", ledger.ErrConflict, r.N, r.State)
	}
	if r.Keys != w.Rotations {
		return fmt.Errorf("%w: request %d's commitments are the holders' before rotation %d: commit again", ledger.ErrConflict, r.N, w.Rotations)
	}
	s := w.suite()
	sh, err := s.DecodeSignatureShare(m.Share)
	if err != nil {
		return fmt.Errorf("%w: share: %v", ledger.ErrInvalid, err)
	}
	list, err := r.commitments(w)
	if err != nil {
		return err
	}
	if sh.ID != frost.Identifier(h.ID) || !slices.ContainsFunc(list, func(c frost.Commitments) bool { return c.ID == sh.ID }) {
		return fmt.Errorf("%w: holder %d is not among request %d's signers", ledger.ErrUnauthorized, h.ID, r.N)
	}
	var shares []frost.SignatureShare
	for _, b := range r.Shares {
		o, err := s.DecodeSignatureShare(b)
		if err != nil {
			return fmt.Errorf("%w: %v", ledger.ErrStorage, err)
		}
		if o.ID == sh.ID {
			return fmt.Errorf("%w: holder %d gave its share already", ledger.ErrConflict, h.ID)
		}
		shares = append(shares, o)
	}
	pub, err := w.publicKeys()
	if err != nil {
		return err
	}
	if err := pub.VerifyShare(r.Message, list, sh); err != nil {
		return fmt.Errorf("%w: share of holder %d: %v", ledger.ErrInvalid, h.ID, err)
	}
	shares = append(shares, sh)
	slices.SortFunc(shares, func(a, b frost.SignatureShare) int { return int(a.ID) - int(b.ID) })
	r.Shares = r.Shares[:0]
	for _, o := range shares {
		r.Shares = append(r.Shares, o.Bytes())
	}
	if err := w.record(ctx, "share", m.Holder, fmt.Sprintf("request %d: holder %d, %d of %d", r.N, h.ID, len(shares), w.Threshold)); err != nil {
		return err
	}
	if len(shares) == len(list) {
		sig, err := pub.Aggregate(r.Message, list, shares)
		if err != nil {
			return fmt.Errorf("%w: aggregate: %v", ledger.ErrInvalid, err)
		}
		r.Signature, r.State = sig, Signed
		if err := ctx.Cancel(requestDue(w.ID, r.N)); err != nil {
			return err
		}
		if err := ctx.Cancel(shareDue(w.ID, r.N)); err != nil {
			return err
		}
		if w.State == Active {
			w.State = InUse
		}
		ctx.Emit("signed", walletAttr(w.ID), nAttr(r.N), ledger.Attr{Key: "signature", Value: hex.EncodeToString(sig)})
		if err := w.record(ctx, "signed", "", fmt.Sprintf("request %d: signature %x", r.N, sig)); err != nil {
			return err
		}
	}
	return r.save(ctx)
}
