package custody

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/agora-ledger/agora/internal/frost"
	"github.com/agora-ledger/agora/internal/ledger"
)

// The module's scheduled work, by key: "dkg/W" (a DKG's deadline),
// "req/W/N" (a request's expiry), "unlock/W/N" (the end of a request's
// time lock), "policy/W" (an approved policy taking effect), "op/W" (an
// approved key operation taking effect), "rot/W/N" (rotation N's
// deadline), "share/W/N" (the end of request N's share window).

func dkgDue(w string) []byte               { return []byte("dkg/" + w) }
func policyDue(w string) []byte            { return []byte("policy/" + w) }
func requestDue(w string, n uint64) []byte { return fmt.Appendf(nil, "req/%s/%d", w, n) }
func unlockDue(w string, n uint64) []byte  { return fmt.Appendf(nil, "unlock/%s/%d", w, n) }
func shareDue(w string, n uint64) []byte   { return fmt.Appendf(nil, "share/%s/%d", w, n) }

// Due implements ledger.Scheduled.
func (Module) Due(ctx *ledger.Context, key []byte) error {
	kind, rest, _ := strings.Cut(string(key), "/")
	switch kind {
	case "dkg":
		return dkgTimeout(ctx, rest)
	case "policy":
		return applyPolicy(ctx, rest)
	case "op":
		return applyOp(ctx, rest)
	case "req", "unlock", "rot", "share":
		i := strings.LastIndexByte(rest, '/')
		if i < 0 {
			break
		}
		n, err := strconv.ParseUint(rest[i+1:], 10, 64)
		if err != nil {
			break
		}
		switch kind {
		case "req":
			return expire(ctx, rest[:i], n)
		case "rot":
			return rotationTimeout(ctx, rest[:i], n)
		case "share":
			return shareTimeout(ctx, rest[:i], n)
		}
		return unlock(ctx, rest[:i], n)
	}
	return fmt.Errorf("%w: custody has no scheduled work %q", ledger.ErrInvalid, key)
}

func dkgTimeout(ctx *ledger.Context, wallet string) error {
	w, err := loadWallet(ctx.KV, wallet)
	if err != nil {
		return err
	}
	if w.State != Generation {
		return nil
	}
	var missing []string
	for _, h := range w.Holders {
		switch {
		case h.HPKE == nil:
			missing = append(missing, fmt.Sprintf("holder %d did not join", h.ID))
		case h.Round1 == nil:
			missing = append(missing, fmt.Sprintf("holder %d posted no round 1", h.ID))
		case !h.Dealt:
			missing = append(missing, fmt.Sprintf("holder %d posted no round 2", h.ID))
		}
	}
	w.State, w.Reason = Failed, "key generation timed out: "+strings.Join(missing, ", ")
	return w.record(ctx, "dkg_failed", "", w.Reason)
}

// loadPair loads a wallet and one of its requests.
func loadPair(kv *ledger.KV, wallet string, n uint64) (*Wallet, *Req, error) {
	w, err := loadWallet(kv, wallet)
	if err != nil {
		return nil, nil, err
	}
	r, err := loadRequest(kv, wallet, n)
	return w, r, err
}

func expire(ctx *ledger.Context, wallet string, n uint64) error {
	w, r, err := loadPair(ctx.KV, wallet, n)
	if err != nil {
		return err
	}
	if r.open() != nil {
		return nil
	}
	if err := ctx.Cancel(unlockDue(wallet, n)); err != nil {
		return err
	}
	if err := ctx.Cancel(shareDue(wallet, n)); err != nil {
		return err
	}
	r.State = Expired
	// Give back what the request reserved, in the window it reserved it.
	w.Usage.Lifetime -= min(w.Usage.Lifetime, r.Amount)
	if w.Policy.PeriodMS > 0 && r.Created/w.Policy.PeriodMS == w.Usage.Window {
		w.Usage.Period -= min(w.Usage.Period, r.Amount)
	}
	if err := r.save(ctx); err != nil {
		return err
	}
	ctx.Emit("expired", walletAttr(wallet), nAttr(n))
	return w.record(ctx, "expired", "", fmt.Sprintf("request %d, %s", n, r.stateBefore()))
}

func (r *Req) stateBefore() string {
	return fmt.Sprintf("%d approvals, %d commitments, %d shares", len(r.Approvers), len(r.Commitments), len(r.Shares))
}

func unlock(ctx *ledger.Context, wallet string, n uint64) error {
	w, r, err := loadPair(ctx.KV, wallet, n)
	if err != nil {
		return err
	}
	if r.State != Locked {
		return nil
	}
	r.State = Approved
	if err := r.save(ctx); err != nil {
		return err
	}
	ctx.Emit("approved", walletAttr(wallet), nAttr(n))
	return w.record(ctx, "unlocked", "", fmt.Sprintf("request %d: time lock over", n))
}

// shareTimeout ends request n's share window: if it is still signing, the
// signers that gave no share are dropped for it, the commitments and
// shares of the round are void (a share is made for one set of signers:
// the others must commit afresh, never reuse their nonces), and the
// request is approved again, in its next round. The holders not dropped
// commit; when fewer than the threshold remain, it waits for its expiry.
func shareTimeout(ctx *ledger.Context, wallet string, n uint64) error {
	w, r, err := loadPair(ctx.KV, wallet, n)
	if err != nil {
		return err
	}
	if r.State != Signing || r.Keys != w.Rotations {
		return nil
	}
	list, err := r.commitments(w)
	if err != nil {
		return err
	}
	gave := map[frost.Identifier]bool{}
	for _, b := range r.Shares {
		sh, err := w.suite().DecodeSignatureShare(b)
		if err != nil {
			return fmt.Errorf("%w: %v", ledger.ErrStorage, err)
		}
		gave[sh.ID] = true
	}
	var silent []string
	for _, c := range list { // ascending
		if !gave[c.ID] {
			r.Dropped = append(r.Dropped, uint16(c.ID))
			silent = append(silent, strconv.Itoa(int(c.ID)))
		}
	}
	if len(silent) == 0 {
		return nil // every signer gave its share: the request is signed
	}
	slices.Sort(r.Dropped)
	r.Commitments, r.Shares, r.State = nil, nil, Approved
	r.Round++
	if err := r.save(ctx); err != nil {
		return err
	}
	left := len(w.Holders) - len(r.Dropped)
	ctx.Emit("approved", walletAttr(wallet), nAttr(n), ledger.Attr{Key: "round", Value: strconv.FormatUint(uint64(r.Round), 10)})
	who := "holder " + silent[0]
	if len(silent) > 1 {
		who = "holders " + strings.Join(silent, ", ")
	}
	return w.record(ctx, "share_timeout", "", fmt.Sprintf("request %d: %s gave no share within %s, dropped; round %d: %d holders left, %d needed",
		n, who, w.Policy.shareWindow(), r.Round, left, w.Threshold))
}
