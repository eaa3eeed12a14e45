package custody

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/frost"
	"github.com/agora-ledger/agora/internal/ledger"
)

// ---- Key operations: a rotation of holders, or destruction. Like a
// policy change, each is proposed by a member of the policy's change
// group, approved by its quorum (the proposer never counting), and takes
// effect change_delay_ms later, by the scheduler.

// DestroyDelay is the least time between a destruction's approval and
// the destruction, whatever the policy's change delay: it cannot be
// undone, and the holders delete their shares.
const DestroyDelay = 24 * time.Hour

// Key operations.
const (
	OpRotate  = "rotate"
	OpDestroy = "destroy"
)

// Rotating is the state of a wallet whose key is being reshared to new
// holders: no request is made or signed until it ends.
const Rotating = "rotating"

// Rotation states.
const (
	RotationOpen   = "open"
	RotationDone   = "done"
	RotationFailed = "failed"
)

// KeyOp is the body of "rotate" and "destroy": a member of the change
// group proposes to reshare the wallet's key to Holders with Threshold
// (rotate), or to destroy it.
type KeyOp struct {
	Wallet    string   `cbor:"1,keyasint" json:"wallet"`
	Proposer  string   `cbor:"2,keyasint" json:"proposer"`
	Holders   []string `cbor:"3,keyasint,omitempty" json:"holders,omitempty"` // rotate: the new holders' DIDs
	Threshold uint16   `cbor:"4,keyasint,omitempty" json:"threshold,omitempty"`
	Reason    string   `cbor:"5,keyasint,omitempty" json:"reason,omitempty"`
	kind      string
}

// Validate implements ledger.Msg.
func (m *KeyOp) Validate() error {
	if err := checkWalletID(m.Wallet); err != nil {
		return err
	}
	if err := checkDID("proposer", m.Proposer); err != nil {
		return err
	}
	if len(m.Reason) > 256 {
		return fmt.Errorf("%w: reason is at most 256 bytes", ledger.ErrInvalid)
	}
	if len(m.Holders) == 0 && m.Threshold == 0 {
		return nil // a destruction's
	}
	return checkHolders(m.Holders, m.Threshold)
}

// checkHolders checks a set of holders and its threshold.
func checkHolders(holders []string, t uint16) error {
	n := len(holders)
	if n < 2 || n > MaxHolders || t < 2 || int(t) > n {
		return fmt.Errorf("%w: %d-of-%d: a wallet has 2 to %d holders and a threshold of 2 to their number", ledger.ErrInvalid, t, n, MaxHolders)
	}
	for i, h := range holders {
		if err := checkDID("holder", h); err != nil {
			return err
		}
		if slices.Contains(holders[:i], h) {
			return fmt.Errorf("%w: holder %s twice", ledger.ErrInvalid, h)
		}
	}
	return nil
}

// Operation is a proposed key operation.
type Operation struct {
	Kind      string   `cbor:"1,keyasint" json:"kind"` // rotate, destroy
	Proposer  string   `cbor:"2,keyasint" json:"proposer"`
	Holders   []string `cbor:"3,keyasint,omitempty" json:"holders,omitempty"`
	Threshold uint16   `cbor:"4,keyasint,omitempty" json:"threshold,omitempty"`
	Reason    string   `cbor:"5,keyasint,omitempty" json:"reason,omitempty"`
	Approvers []string `cbor:"6,keyasint,omitempty" json:"approvers,omitempty"`
	Proposed  int64    `cbor:"7,keyasint" json:"proposed"`
	// Effective is set once the quorum approved: when it takes effect.
	Effective int64 `cbor:"8,keyasint,omitempty" json:"effective,omitempty"`
}

func operationKey(wallet string) []byte { return []byte("w/" + wallet + "/op") }
func opDue(w string) []byte             { return []byte("op/" + w) }

// ApproveOp is the body of "approve_op".
type ApproveOp struct {
	Wallet   string `cbor:"1,keyasint" json:"wallet"`
	Approver string `cbor:"2,keyasint" json:"approver"`
}

// Validate implements ledger.Msg.
func (m *ApproveOp) Validate() error {
	if err := checkWalletID(m.Wallet); err != nil {
		return err
	}
	return checkDID("approver", m.Approver)
}

// opFrom are the states each operation starts from.
var opFrom = map[string][]string{
	OpRotate:  {Active, InUse, Suspended},
	OpDestroy: {Generation, InActivation, Active, InUse, Suspended, Rotating},
}

func proposeOp(ctx *ledger.Context, m *KeyOp) error {
	w, err := loadWallet(ctx.KV, m.Wallet)
	if err != nil {
		return err
	}
	if w, err = asMember(ctx, m.Wallet, w.Policy.ChangeGroup, m.Proposer); err != nil {
		return err
	}
	if (m.kind == OpRotate) != (len(m.Holders) > 0) {
		return fmt.Errorf("%w: a rotation names its new holders and threshold, a destruction none", ledger.ErrInvalid)
	}
	if err := w.want(opFrom[m.kind]...); err != nil {
		return err
	}
	if _, found, err := ctx.KV.Get(operationKey(w.ID)); err != nil {
		return err
	} else if found {
		// A newer proposal replaces the old, whose approvals lapse.
		if err := ctx.Cancel(opDue(w.ID)); err != nil {
			return err
		}
	}
	op := Operation{Kind: m.kind, Proposer: m.Proposer, Holders: m.Holders, Threshold: m.Threshold, Reason: m.Reason,
		Proposed: ctx.Block.Time.UnixMilli()}
	if err := ctx.KV.SetValue(operationKey(w.ID), &op); err != nil {
		return err
	}
	return w.record(ctx, m.kind+"_proposed", m.Proposer, op.describe())
}

func (op *Operation) describe() string {
	if op.Kind == OpRotate {
		return fmt.Sprintf("to %d-of-%d: %s", op.Threshold, len(op.Holders), strings.Join(op.Holders, ","))
	}
	return op.Reason
}

// OperationIn returns wallet's proposed key operation, if one is open.
func OperationIn(kv *ledger.KV, wallet string) (*Operation, bool, error) {
	var op Operation
	found, err := kv.GetValue(operationKey(wallet), &op)
	if err != nil || !found {
		return nil, false, err
	}
	return &op, true, nil
}

func approveOp(ctx *ledger.Context, m *ApproveOp) error {
	w, err := loadWallet(ctx.KV, m.Wallet)
	if err != nil {
		return err
	}
	if w, err = asMember(ctx, m.Wallet, w.Policy.ChangeGroup, m.Approver); err != nil {
		return err
	}
	op, found, err := OperationIn(ctx.KV, w.ID)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%w: wallet %s has no proposed key operation", ledger.ErrNotFound, w.ID)
	}
	delay := time.Duration(w.Policy.ChangeDelayMS) * time.Millisecond
	if op.Kind == OpDestroy {
		delay = max(delay, DestroyDelay)
	}
	what, err := w.approveChange(ctx, op.Kind, op.Proposer, &op.Approvers, &op.Effective, m.Approver, delay, opDue(w.ID))
	if err != nil {
		return err
	}
	if err := ctx.KV.SetValue(operationKey(w.ID), op); err != nil {
		return err
	}
	return w.record(ctx, op.Kind+"_approved", m.Approver, what)
}

// applyOp carries out the approved key operation.
func applyOp(ctx *ledger.Context, wallet string) error {
	w, err := loadWallet(ctx.KV, wallet)
	if err != nil {
		return err
	}
	op, found, err := OperationIn(ctx.KV, w.ID)
	if err != nil || !found || op.Effective == 0 {
		return err
	}
	ctx.KV.Delete(operationKey(w.ID))
	if w.want(opFrom[op.Kind]...) != nil {
		if w.State == Destroyed || w.State == Failed {
			return nil
		}
		return w.record(ctx, op.Kind+"_lapsed", op.Proposer, "the wallet is "+w.State)
	}
	if op.Kind == OpDestroy {
		for _, key := range [][]byte{dkgDue(w.ID), rotationDue(w.ID, w.Rotations)} {
			if err := ctx.Cancel(key); err != nil {
				return err
			}
		}
		w.State = Destroyed
		return w.record(ctx, "destroyed", op.Proposer, fmt.Sprintf("approved by %d: %s", len(op.Approvers), op.Reason))
	}
	return startRotation(ctx, w, op)
}

// ---- The rotation ceremony: resharing (frost.Resharing) through the
// ledger. The first t old holders to join deal; every new holder joins
// with an X25519 key; each dealer posts a round-one package, which the
// ledger checks pins its weighted old share, then its round-two shares
// sealed to every new holder; the ledger derives the new public keys and
// checks that the group key is the old one; each new holder opens and
// checks its shares and accepts; when all have, the new holders replace
// the old.

// Rotation is one resharing of a wallet's key.
type Rotation struct {
	N         uint64 `cbor:"1,keyasint" json:"n"`
	Session   []byte `cbor:"2,keyasint" json:"session"` // SHA-256 of the wallet's DKG session and N
	Threshold uint16 `cbor:"3,keyasint" json:"threshold"`
	// Holders are the new holders, identifiers 1..n; HPKE once joined.
	Holders []Holder `cbor:"4,keyasint" json:"holders"`
	// Dealers are the old holders who deal (under their old
	// identifiers, ascending); Round1 and Dealt as in the DKG.
	Dealers []Holder `cbor:"5,keyasint,omitempty" json:"dealers,omitempty"`
	// Old is the public key package before, New after (once every
	// dealer dealt).
	Old      []byte   `cbor:"6,keyasint" json:"old"`
	New      []byte   `cbor:"7,keyasint,omitempty" json:"new,omitempty"`
	Accepted []uint16 `cbor:"8,keyasint,omitempty" json:"accepted,omitempty"` // new holders that checked their shares
	State    string   `cbor:"9,keyasint" json:"state"`
	From     string   `cbor:"10,keyasint" json:"from"` // the wallet's state before, and after
	Reason   string   `cbor:"11,keyasint,omitempty" json:"reason,omitempty"`
	Started  int64    `cbor:"12,keyasint" json:"started"`
	Ended    int64    `cbor:"13,keyasint,omitempty" json:"ended,omitempty"`
}

func rotationKey(w string, n uint64) []byte { return fmt.Appendf(nil, "w/%s/rot/%016x", w, n) }
func resealedKey(w string, n uint64, dealer uint16) []byte {
	return fmt.Appendf(nil, "w/%s/rot/%016x/r2/%05d", w, n, dealer)
}
func rotationDue(w string, n uint64) []byte { return fmt.Appendf(nil, "rot/%s/%d", w, n) }

// RotationIn returns rotation n of wallet.
func RotationIn(kv *ledger.KV, wallet string, n uint64) (*Rotation, error) {
	var r Rotation
	found, err := kv.GetValue(rotationKey(wallet, n), &r)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: wallet %s has no rotation %d", ledger.ErrNotFound, wallet, n)
	}
	return &r, nil
}

// ResealedIn returns the round-two shares dealer (its old identifier)
// sealed to the new holders in rotation n of wallet, or none.
func ResealedIn(kv *ledger.KV, wallet string, n uint64, dealer uint16) ([]Sealed, error) {
	var s []Sealed
	if _, err := kv.GetValue(resealedKey(wallet, n, dealer), &s); err != nil {
		return nil, err
	}
	return s, nil
}

func (r *Rotation) save(ctx *ledger.Context, wallet string) error {
	return ctx.KV.SetValue(rotationKey(wallet, r.N), r)
}

// RotationSession is the resharing session of rotation n of a wallet
// whose DKG session is session.
func RotationSession(session []byte, n uint64) []byte {
	h := sha256.New()
	h.Write([]byte("agora/custody/rotation/v1\x00"))
	h.Write(session)
	h.Write(binary.BigEndian.AppendUint64(nil, n))
	return h.Sum(nil)
}

func startRotation(ctx *ledger.Context, w *Wallet, op *Operation) error {
	w.Rotations++
	r := &Rotation{N: w.Rotations, Session: RotationSession(w.Session, w.Rotations), Threshold: op.Threshold,
		Old: w.PublicKeys, State: RotationOpen, From: w.State, Started: ctx.Block.Time.UnixMilli()}
	for i, did := range op.Holders {
		r.Holders = append(r.Holders, Holder{ID: uint16(i + 1), DID: did})
	}
	if err := ctx.Schedule(ctx.Block.Time.Add(DKGTimeout), rotationDue(w.ID, r.N)); err != nil {
		return err
	}
	if err := r.save(ctx, w.ID); err != nil {
		return err
	}
	w.State = Rotating
	ctx.Emit("rotation", walletAttr(w.ID), ledger.Attr{Key: "rotation", Value: fmt.Sprint(r.N)})
	return w.record(ctx, "rotation_started", op.Proposer, fmt.Sprintf("rotation %d: %s", r.N, op.describe()))
}

// Resharing is the frost.Resharing of the rotation, once its dealers
// are known.
func (r *Rotation) Resharing(s *frost.Suite) (*frost.Resharing, error) {
	old, err := s.DecodePublicKeyPackage(r.Old)
	if err != nil {
		return nil, fmt.Errorf("%w: rotation %d old public keys: %v", ledger.ErrStorage, r.N, err)
	}
	rs := &frost.Resharing{Session: r.Session, Old: old, MinSigners: int(r.Threshold)}
	for _, d := range r.Dealers {
		rs.Dealers = append(rs.Dealers, frost.Identifier(d.ID))
	}
	for _, h := range r.Holders {
		rs.Holders = append(rs.Holders, frost.Identifier(h.ID))
	}
	return rs, nil
}

// Ready reports whether every new holder joined and the dealers are
// known: the dealing may start.
func (r *Rotation) Ready(oldThreshold uint16) bool {
	return len(r.Dealers) == int(oldThreshold) && !slices.ContainsFunc(r.Holders, func(h Holder) bool { return h.HPKE == nil })
}

func find(hs []Holder, did string) *Holder {
	for i := range hs {
		if hs[i].DID == did {
			return &hs[i]
		}
	}
	return nil
}

// openRotation loads the wallet's rotation if the wallet is rotating.
func openRotation(kv *ledger.KV, wallet string) (*Wallet, *Rotation, error) {
	w, err := loadWallet(kv, wallet)
	if err != nil || w.State != Rotating {
		return w, nil, err
	}
	r, err := RotationIn(kv, wallet, w.Rotations)
	return w, r, err
}

// rotationJoin: a new holder gives its X25519 key; an old holder
// volunteers to deal, the first t of them are the dealers.
func rotationJoin(ctx *ledger.Context, w *Wallet, r *Rotation, m *Join) error {
	nh, old := find(r.Holders, m.Holder), w.holder(m.Holder)
	if nh == nil && old == nil {
		return fmt.Errorf("%w: %s is neither a holder of wallet %s nor of its rotation %d", ledger.ErrUnauthorized, m.Holder, w.ID, r.N)
	}
	if err := acting(ctx, m.Holder); err != nil {
		return err
	}
	var did []string
	if nh != nil && nh.HPKE == nil {
		nh.HPKE = m.HPKE
		did = append(did, fmt.Sprintf("new holder %d", nh.ID))
	}
	if old != nil && find(r.Dealers, m.Holder) == nil && len(r.Dealers) < int(w.Threshold) {
		r.Dealers = append(r.Dealers, Holder{ID: old.ID, DID: old.DID})
		slices.SortFunc(r.Dealers, func(a, b Holder) int { return int(a.ID) - int(b.ID) })
		did = append(did, fmt.Sprintf("dealer %d", old.ID))
	}
	if did == nil {
		return fmt.Errorf("%w: %s already joined rotation %d (it has its %d dealers)", ledger.ErrConflict, m.Holder, r.N, w.Threshold)
	}
	if err := r.save(ctx, w.ID); err != nil {
		return err
	}
	return w.record(ctx, "rotation_joined", m.Holder, fmt.Sprintf("rotation %d: %s", r.N, strings.Join(did, ", ")))
}

func asDealer(ctx *ledger.Context, w *Wallet, r *Rotation, did string) (*Holder, error) {
	d := find(r.Dealers, did)
	if d == nil {
		return nil, fmt.Errorf("%w: %s is not a dealer of wallet %s's rotation %d", ledger.ErrUnauthorized, did, w.ID, r.N)
	}
	if err := acting(ctx, did); err != nil {
		return nil, err
	}
	if !r.Ready(w.Threshold) {
		return nil, fmt.Errorf("%w: rotation %d: every new holder and %d dealers join before the dealing", ledger.ErrConflict, r.N, w.Threshold)
	}
	return d, nil
}

func rotationRound1(ctx *ledger.Context, w *Wallet, r *Rotation, m *Round1) error {
	d, err := asDealer(ctx, w, r, m.Holder)
	if err != nil {
		return err
	}
	if d.Round1 != nil {
		return fmt.Errorf("%w: dealer %d posted round 1 already", ledger.ErrConflict, d.ID)
	}
	s := w.suite()
	p, err := s.DecodeRound1Package(m.Package)
	if err != nil {
		return fmt.Errorf("%w: round-one package: %v", ledger.ErrInvalid, err)
	}
	if p.Dealer != frost.Identifier(d.ID) {
		return fmt.Errorf("%w: round-one package of dealer %d posted by dealer %d", ledger.ErrInvalid, p.Dealer, d.ID)
	}
	rs, err := r.Resharing(s)
	if err != nil {
		return err
	}
	// A valid DKG package for the new threshold, whose constant term is
	// the dealer's Lagrange-weighted old verifying share: the new group
	// key cannot differ from the old.
	if err := rs.VerifyRound1(p); err != nil {
		return fmt.Errorf("%w: round-one package: %v", ledger.ErrInvalid, err)
	}
	d.Round1 = m.Package
	if err := r.save(ctx, w.ID); err != nil {
		return err
	}
	return w.record(ctx, "rotation_round1", m.Holder, fmt.Sprintf("rotation %d: dealer %d", r.N, d.ID))
}

func rotationRound2(ctx *ledger.Context, w *Wallet, r *Rotation, m *Round2) error {
	d, err := asDealer(ctx, w, r, m.Holder)
	if err != nil {
		return err
	}
	for _, o := range r.Dealers {
		if o.Round1 == nil {
			return fmt.Errorf("%w: rotation %d: dealer %d has not posted round 1", ledger.ErrConflict, r.N, o.ID)
		}
	}
	if d.Dealt {
		return fmt.Errorf("%w: dealer %d posted round 2 already", ledger.ErrConflict, d.ID)
	}
	var want, got []uint16
	for _, h := range r.Holders {
		want = append(want, h.ID)
	}
	for _, s := range m.Shares {
		got = append(got, s.To)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("%w: shares for %v, want one for each new holder %v", ledger.ErrInvalid, got, want)
	}
	if err := ctx.KV.SetValue(resealedKey(w.ID, r.N, d.ID), m.Shares); err != nil {
		return err
	}
	d.Dealt = true
	if err := r.save(ctx, w.ID); err != nil {
		return err
	}
	if err := w.record(ctx, "rotation_round2", m.Holder, fmt.Sprintf("rotation %d: dealer %d sealed %d shares", r.N, d.ID, len(m.Shares))); err != nil {
		return err
	}
	if slices.ContainsFunc(r.Dealers, func(h Holder) bool { return !h.Dealt }) {
		return nil
	}
	// Every dealer dealt: the new public keys follow from round one, and
	// the group key must be the old one.
	pub, err := r.publicKeys(w.suite())
	if err != nil {
		return err
	}
	if !bytes.Equal(pub.GroupKey(), w.GroupKey) {
		return fmt.Errorf("%w: rotation %d would change the group key to %x", ledger.ErrInvalid, r.N, pub.GroupKey())
	}
	r.New = pub.Bytes()
	if err := r.save(ctx, w.ID); err != nil {
		return err
	}
	return w.record(ctx, "rotation_dealt", "", fmt.Sprintf("rotation %d: new public keys derived, group key unchanged %s", r.N, w.Address))
}

func (r *Rotation) publicKeys(s *frost.Suite) (*frost.PublicKeyPackage, error) {
	rs, err := r.Resharing(s)
	if err != nil {
		return nil, err
	}
	var r1 []*frost.Round1Package
	for _, d := range r.Dealers {
		p, err := s.DecodeRound1Package(d.Round1)
		if err != nil {
			return nil, fmt.Errorf("%w: dealer %d round one: %v", ledger.ErrStorage, d.ID, err)
		}
		r1 = append(r1, p)
	}
	pub, err := rs.PublicKeys(r1)
	if err != nil {
		return nil, fmt.Errorf("%w: rotation %d: %v", ledger.ErrInvalid, r.N, err)
	}
	return pub, nil
}

// Accept is the body of "accept": a new holder of a rotation opened and
// checked the shares dealt to it, derived the ledger's public keys, and
// proves that it holds its new share: Proof is a proof of possession
// (frost.KeyPackage.ProvePossession) under its new verifying share, bound
// to the rotation (PossessionContext).
type Accept struct {
	Wallet string `cbor:"1,keyasint" json:"wallet"`
	Holder string `cbor:"2,keyasint" json:"holder"`
	Proof  []byte `cbor:"3,keyasint" json:"proof"`
}

// PossessionContext is what a new holder's proof of possession is bound
// to: the rotation's session, under Agora's label for accepting.
func PossessionContext(rotationSession []byte) []byte {
	return append([]byte("agora/custody/accept/v1\n"), rotationSession...)
}

// Validate implements ledger.Msg.
func (m *Accept) Validate() error {
	if err := checkWalletID(m.Wallet); err != nil {
		return err
	}
	if len(m.Proof) == 0 {
		return fmt.Errorf("%w: proof: a new holder proves it holds its share", ledger.ErrInvalid)
	}
	return checkDID("holder", m.Holder)
}

func accept(ctx *ledger.Context, m *Accept) error {
	w, r, err := openRotation(ctx.KV, m.Wallet)
	if err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("%w: wallet %s is %s, not rotating", ledger.ErrConflict, w.ID, w.State)
	}
	h := find(r.Holders, m.Holder)
	if h == nil {
		return fmt.Errorf("%w: %s is not a new holder of wallet %s's rotation %d", ledger.ErrUnauthorized, m.Holder, w.ID, r.N)
	}
	if err := acting(ctx, m.Holder); err != nil {
		return err
	}
	switch {
	case r.New == nil:
		return fmt.Errorf("%w: rotation %d: a new holder accepts once every dealer dealt", ledger.ErrConflict, r.N)
	case slices.Contains(r.Accepted, h.ID):
		return fmt.Errorf("%w: new holder %d accepted already", ledger.ErrConflict, h.ID)
	}
	pub, err := w.suite().DecodePublicKeyPackage(r.New)
	if err != nil {
		return fmt.Errorf("%w: rotation %d new public keys: %v", ledger.ErrStorage, r.N, err)
	}
	if err := pub.VerifyPossession(PossessionContext(r.Session), frost.Identifier(h.ID), m.Proof); err != nil {
		return fmt.Errorf("%w: new holder %d's proof that it holds its share: %v", ledger.ErrInvalid, h.ID, err)
	}
	r.Accepted = append(r.Accepted, h.ID)
	slices.Sort(r.Accepted)
	if err := w.record(ctx, "rotation_accepted", m.Holder, fmt.Sprintf("rotation %d: new holder %d, %d of %d", r.N, h.ID, len(r.Accepted), len(r.Holders))); err != nil {
		return err
	}
	if len(r.Accepted) < len(r.Holders) {
		return r.save(ctx, w.ID)
	}
	// Every new holder holds a checked share: they replace the old.
	r.State, r.Ended = RotationDone, ctx.Block.Time.UnixMilli()
	if err := r.save(ctx, w.ID); err != nil {
		return err
	}
	if err := ctx.Cancel(rotationDue(w.ID, r.N)); err != nil {
		return err
	}
	w.Holders = nil
	for _, h := range r.Holders {
		w.Holders = append(w.Holders, Holder{ID: h.ID, DID: h.DID, HPKE: h.HPKE})
	}
	w.Threshold, w.PublicKeys, w.State = r.Threshold, r.New, r.From
	ctx.Emit("rotated", walletAttr(w.ID), ledger.Attr{Key: "rotation", Value: fmt.Sprint(r.N)})
	return w.record(ctx, "rotated", "", fmt.Sprintf("rotation %d: %d-of-%d, group key unchanged %s; the old holders delete their shares", r.N, w.Threshold, len(w.Holders), w.Address))
}

// endRotation fails the open rotation: the old holders keep their shares.
func endRotation(ctx *ledger.Context, w *Wallet, r *Rotation, by, reason string) error {
	r.State, r.Reason, r.Ended = RotationFailed, reason, ctx.Block.Time.UnixMilli()
	if err := r.save(ctx, w.ID); err != nil {
		return err
	}
	if err := ctx.Cancel(rotationDue(w.ID, r.N)); err != nil {
		return err
	}
	w.State = r.From
	return w.record(ctx, "rotation_failed", by, fmt.Sprintf("rotation %d: %s; the old holders keep their shares", r.N, reason))
}

func rotationComplain(ctx *ledger.Context, w *Wallet, r *Rotation, m *Complain) error {
	h := find(r.Holders, m.Holder)
	if h == nil {
		return fmt.Errorf("%w: %s is not a new holder of wallet %s's rotation %d", ledger.ErrUnauthorized, m.Holder, w.ID, r.N)
	}
	if err := acting(ctx, m.Holder); err != nil {
		return err
	}
	s := w.suite()
	p, err := s.DecodeRound2Package(m.Package)
	if err != nil {
		return fmt.Errorf("%w: round-two package: %v", ledger.ErrInvalid, err)
	}
	d := slices.IndexFunc(r.Dealers, func(o Holder) bool { return frost.Identifier(o.ID) == p.Dealer })
	if p.Recipient != frost.Identifier(h.ID) || d < 0 {
		return fmt.Errorf("%w: a complaint publishes a share the complainer received", ledger.ErrInvalid)
	}
	dealer := r.Dealers[d]
	if dealer.Round1 == nil {
		return fmt.Errorf("%w: dealer %d posted no round one", ledger.ErrConflict, p.Dealer)
	}
	d1, err := s.DecodeRound1Package(dealer.Round1)
	if err != nil {
		return fmt.Errorf("%w: %v", ledger.ErrStorage, err)
	}
	// CheckDealing, not JudgeComplaint: a dealer's old identifier and a
	// new holder's may be the same number.
	var de *frost.DealerError
	switch err := s.CheckDealing(r.Session, d1, p); {
	case err == nil:
		return fmt.Errorf("%w: the share of dealer %d matches its commitments: the complaint is false", ledger.ErrInvalid, p.Dealer)
	case !errors.As(err, &de):
		return fmt.Errorf("%w: the share is not evidence: %v", ledger.ErrInvalid, err)
	}
	return endRotation(ctx, w, r, m.Holder, fmt.Sprintf("dealer %d (%s) dealt new holder %d a share that does not match its commitments", dealer.ID, dealer.DID, h.ID))
}

func rotationTimeout(ctx *ledger.Context, wallet string, n uint64) error {
	w, r, err := openRotation(ctx.KV, wallet)
	if err != nil || r == nil || r.N != n || r.State != RotationOpen {
		return err
	}
	var missing []string
	for _, h := range r.Holders {
		switch {
		case h.HPKE == nil:
			missing = append(missing, fmt.Sprintf("new holder %d did not join", h.ID))
		case r.New != nil && !slices.Contains(r.Accepted, h.ID):
			missing = append(missing, fmt.Sprintf("new holder %d did not accept", h.ID))
		}
	}
	if len(r.Dealers) < int(w.Threshold) {
		missing = append(missing, fmt.Sprintf("%d of %d dealers joined", len(r.Dealers), w.Threshold))
	}
	for _, d := range r.Dealers {
		if !d.Dealt {
			missing = append(missing, fmt.Sprintf("dealer %d did not deal", d.ID))
		}
	}
	return endRotation(ctx, w, r, "", "timed out: "+strings.Join(missing, ", "))
}
