package custody

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/agora-ledger/agora/internal/ledger"
)

// Approval is the answer of the approval query: what a signer checks,
// proven, before it releases a signature share. Approved is true only if
// the request is approved (its time lock over) or signing, under the
// wallet's policy, and the wallet is usable.
type Approval struct {
	Wallet   string `json:"wallet"`
	Request  *Req   `json:"request"`
	State    string `json:"wallet_state"`
	Approved bool   `json:"approved"`
	Reason   string `json:"reason,omitempty"`
}

// ApprovalIn answers whether request n of wallet may be signed now, and
// why not.
func ApprovalIn(kv *ledger.KV, wallet string, n uint64) (*Approval, error) {
	w, r, err := loadPair(kv, wallet, n)
	if err != nil {
		return nil, err
	}
	r.renew(w) // as the next commitment will see it
	a := &Approval{Wallet: wallet, Request: r, State: w.State}
	switch {
	case w.State != Active && w.State != InUse:
		a.Reason = fmt.Sprintf("wallet %s is %s", wallet, w.State)
	case r.State != Approved && r.State != Signing:
		a.Reason = fmt.Sprintf("request %d is %s", n, r.State)
	case len(r.Approvers) < int(r.Decision.Approvals):
		a.Reason = fmt.Sprintf("request %d has %d of %d approvals", n, len(r.Approvers), r.Decision.Approvals)
	default:
		a.Approved = true
	}
	return a, nil
}

func requestArg(arg func(string) string) (uint64, error) {
	n, err := strconv.ParseUint(arg("n"), 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%w: request %q is not a number from 1", ledger.ErrInvalid, arg("n"))
	}
	return n, nil
}

// Queries implements ledger.Module.
func (Module) Queries() []ledger.Query {
	return []ledger.Query{{
		Name:    "wallet",
		Pattern: "GET /v1/custody/wallets/{wallet}",
		Summary: "A wallet: tier, suite, holders, state, group key and address, policy, usage.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			return WalletIn(kv, arg("wallet"))
		},
		Answer: (*Wallet)(nil),
	}, {
		Name:    "request",
		Pattern: "GET /v1/custody/wallets/{wallet}/requests/{n}",
		Summary: "A signing request: the rule that matched, approvals, commitments, shares and signature.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			n, err := requestArg(arg)
			if err != nil {
				return nil, err
			}
			return RequestIn(kv, arg("wallet"), n)
		},
		Answer: (*Req)(nil),
	}, {
		Name:    "approval",
		Pattern: "GET /v1/custody/wallets/{wallet}/requests/{n}/approval",
		Summary: "Whether a request may be signed now under the wallet's policy, and why not: what a signer checks, proven, before it signs.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			n, err := requestArg(arg)
			if err != nil {
				return nil, err
			}
			return ApprovalIn(kv, arg("wallet"), n)
		},
		Answer: (*Approval)(nil),
	}, {
		Name:    "sealed",
		Pattern: "GET /v1/custody/wallets/{wallet}/round2/{dealer}",
		Summary: "The DKG round-two shares a holder dealt, each encrypted to its recipient.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			d, err := strconv.ParseUint(arg("dealer"), 10, 16)
			if err != nil || d == 0 {
				return nil, fmt.Errorf("%w: dealer %q is not a holder number", ledger.ErrInvalid, arg("dealer"))
			}
			return SealedIn(kv, arg("wallet"), uint16(d))
		},
		Answer: []Sealed{},
	}, {
		Name:    "proposal",
		Pattern: "GET /v1/custody/wallets/{wallet}/proposal",
		Summary: "The wallet's proposed policy change, its approvals and when it takes effect.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			p, found, err := ProposalIn(kv, arg("wallet"))
			if err == nil && !found {
				err = fmt.Errorf("%w: wallet %s has no proposed policy", ledger.ErrNotFound, arg("wallet"))
			}
			return p, err
		},
		Answer: (*Proposal)(nil),
	}, {
		Name:    "operation",
		Pattern: "GET /v1/custody/wallets/{wallet}/operation",
		Summary: "The wallet's proposed key operation (a rotation or destruction), its approvals and when it takes effect.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			op, found, err := OperationIn(kv, arg("wallet"))
			if err == nil && !found {
				err = fmt.Errorf("%w: wallet %s has no proposed key operation", ledger.ErrNotFound, arg("wallet"))
			}
			return op, err
		},
		Answer: (*Operation)(nil),
	}, {
		Name:    "rotation",
		Pattern: "GET /v1/custody/wallets/{wallet}/rotations/{n}",
		Summary: "A rotation of the wallet's holders: new holders and threshold, dealers, their round-one packages, the new public keys, who accepted.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			n, err := requestArg(arg)
			if err != nil {
				return nil, err
			}
			return RotationIn(kv, arg("wallet"), n)
		},
		Answer: (*Rotation)(nil),
	}, {
		Name:    "resealed",
		Pattern: "GET /v1/custody/wallets/{wallet}/rotations/{n}/round2/{dealer}",
		Summary: "The resharing shares a dealer of a rotation sealed to the new holders.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			n, err := requestArg(arg)
			if err != nil {
				return nil, err
			}
			d, err := strconv.ParseUint(arg("dealer"), 10, 16)
			if err != nil || d == 0 {
				return nil, fmt.Errorf("%w: dealer %q is not a holder number", ledger.ErrInvalid, arg("dealer"))
			}
			return ResealedIn(kv, arg("wallet"), n, uint16(d))
		},
		Answer: []Sealed{},
	}, {
		Name:    "audit",
		Pattern: "GET /v1/custody/wallets/{wallet}/audit",
		Summary: "The wallet's audit log since a time: every lifecycle step, key operation, approval and signing.",
		Params: []ledger.Param{
			{Name: "since", Summary: "RFC 3339 time or Unix milliseconds: entries at or after it"},
			{Name: "after", Summary: "entry number: entries after it (to page on)"},
		},
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			since, err := ParseTime(arg("since"))
			if err != nil {
				return nil, err
			}
			var after uint64
			if s := arg("after"); s != "" {
				if after, err = strconv.ParseUint(s, 10, 64); err != nil {
					return nil, fmt.Errorf("%w: after %q is not a number", ledger.ErrInvalid, s)
				}
			}
			return AuditIn(kv, arg("wallet"), since, after)
		},
		Answer: (*Audit)(nil),
	}, walletsQuery}
}

// Genesis is the module's genesis section: its wallets, each with all
// its state.
type Genesis struct {
	Wallets []WalletGenesis `json:"wallets,omitempty"`
}

// WalletGenesis is one wallet's state in a genesis.
type WalletGenesis struct {
	Wallet   Wallet     `json:"wallet"`
	Sealed   [][]Sealed `json:"sealed,omitempty"` // by dealer, from 1
	Requests []Req      `json:"requests,omitempty"`
	Log      []Entry    `json:"log,omitempty"`
	Proposal *Proposal  `json:"proposal,omitempty"`
	// Rotations are the wallet's rotations, from 1, each with the
	// shares its dealers sealed (in the order of its dealers).
	Rotations []RotationGenesis `json:"rotations,omitempty"`
	Operation *Operation        `json:"operation,omitempty"`
}

// RotationGenesis is one rotation in a genesis.
type RotationGenesis struct {
	Rotation Rotation   `json:"rotation"`
	Sealed   [][]Sealed `json:"sealed,omitempty"`
}

// InitGenesis implements ledger.Module.
func (Module) InitGenesis(kv *ledger.KV, raw json.RawMessage) error {
	if raw == nil {
		return nil
	}
	var g Genesis
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("%w: custody genesis: %v", ledger.ErrInvalid, err)
	}
	for _, wg := range g.Wallets {
		w := wg.Wallet
		if err := checkWalletID(w.ID); err != nil {
			return err
		}
		if _, err := Suite(w.Suite); err != nil {
			return err
		}
		if err := w.Policy.validate(w.Tier); err != nil {
			return err
		}
		if len(wg.Requests) != int(w.Requests) || len(wg.Log) != int(w.Log) {
			return fmt.Errorf("%w: wallet %s: %d requests and %d log entries, counted %d and %d", ledger.ErrInvalid, w.ID, len(wg.Requests), len(wg.Log), w.Requests, w.Log)
		}
		if _, err := loadWallet(kv, w.ID); err == nil {
			return fmt.Errorf("%w: custody genesis: wallet %s twice", ledger.ErrInvalid, w.ID)
		}
		if err := numberWallet(kv, w.ID); err != nil {
			return err
		}
		if err := kv.SetValue(walletKey(w.ID), &w); err != nil {
			return err
		}
		for i, s := range wg.Sealed {
			if len(s) > 0 {
				if err := kv.SetValue(sealedKey(w.ID, uint16(i+1)), s); err != nil {
					return err
				}
			}
		}
		for i := range wg.Requests {
			if err := kv.SetValue(requestKey(w.ID, uint64(i+1)), &wg.Requests[i]); err != nil {
				return err
			}
		}
		for i := range wg.Log {
			if err := kv.SetValue(entryKey(w.ID, uint64(i+1)), &wg.Log[i]); err != nil {
				return err
			}
		}
		if wg.Proposal != nil {
			if err := kv.SetValue(proposalKey(w.ID), wg.Proposal); err != nil {
				return err
			}
		}
		if len(wg.Rotations) != int(w.Rotations) {
			return fmt.Errorf("%w: wallet %s: %d rotations, counted %d", ledger.ErrInvalid, w.ID, len(wg.Rotations), w.Rotations)
		}
		for i := range wg.Rotations {
			rg := &wg.Rotations[i]
			if rg.Rotation.N != uint64(i+1) || len(rg.Sealed) > len(rg.Rotation.Dealers) {
				return fmt.Errorf("%w: wallet %s: rotation %d malformed", ledger.ErrInvalid, w.ID, i+1)
			}
			if err := kv.SetValue(rotationKey(w.ID, rg.Rotation.N), &rg.Rotation); err != nil {
				return err
			}
			for j, s := range rg.Sealed {
				if len(s) > 0 {
					if err := kv.SetValue(resealedKey(w.ID, rg.Rotation.N, rg.Rotation.Dealers[j].ID), s); err != nil {
						return err
					}
				}
			}
		}
		if wg.Operation != nil {
			if err := kv.SetValue(operationKey(w.ID), wg.Operation); err != nil {
				return err
			}
		}
	}
	return nil
}

// ExportGenesis implements ledger.Module.
func (Module) ExportGenesis(kv *ledger.KV) (json.RawMessage, error) {
	var g Genesis
	total, err := walletCount(kv)
	if err != nil {
		return nil, err
	}
	for n := uint64(1); n <= total; n++ { // in the order they were made, so that they keep their numbers
		w, err := numberedWallet(kv, n)
		if err != nil {
			return nil, err
		}
		g.Wallets = append(g.Wallets, WalletGenesis{Wallet: *w})
	}
	for i := range g.Wallets {
		wg := &g.Wallets[i]
		w := &wg.Wallet
		for _, h := range w.Holders {
			s, err := SealedIn(kv, w.ID, h.ID)
			if err != nil {
				return nil, err
			}
			wg.Sealed = append(wg.Sealed, s)
		}
		for n := uint64(1); n <= w.Requests; n++ {
			r, err := RequestIn(kv, w.ID, n)
			if err != nil {
				return nil, err
			}
			wg.Requests = append(wg.Requests, *r)
		}
		for n := uint64(1); n <= w.Log; n++ {
			var e Entry
			if _, err := kv.GetValue(entryKey(w.ID, n), &e); err != nil {
				return nil, err
			}
			wg.Log = append(wg.Log, e)
		}
		if p, found, err := ProposalIn(kv, w.ID); err != nil {
			return nil, err
		} else if found {
			wg.Proposal = p
		}
		for n := uint64(1); n <= w.Rotations; n++ {
			r, err := RotationIn(kv, w.ID, n)
			if err != nil {
				return nil, err
			}
			rg := RotationGenesis{Rotation: *r}
			for _, d := range r.Dealers {
				s, err := ResealedIn(kv, w.ID, n, d.ID)
				if err != nil {
					return nil, err
				}
				rg.Sealed = append(rg.Sealed, s)
			}
			wg.Rotations = append(wg.Rotations, rg)
		}
		if op, found, err := OperationIn(kv, w.ID); err != nil {
			return nil, err
		} else if found {
			wg.Operation = op
		}
	}
	return json.Marshal(&g)
}
