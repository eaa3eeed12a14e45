package custody

import (
	"fmt"
	"strconv"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
)

// Entry is one entry of a wallet's audit log: the access log of the
// custodian draft, every lifecycle step, key operation, approval and
// signing. Entries are numbered from 1, in block order, so that a reader
// finds those since a time with point reads (a binary search on the
// entries' times), which a state proof covers.
type Entry struct {
	N      uint64 `cbor:"1,keyasint" json:"n"`
	Time   int64  `cbor:"2,keyasint" json:"time"` // Unix ms
	Height uint64 `cbor:"3,keyasint" json:"height"`
	TxID   []byte `cbor:"4,keyasint,omitempty" json:"tx,omitempty"` // none for scheduled work
	Step   string `cbor:"5,keyasint" json:"step"`
	By     string `cbor:"6,keyasint,omitempty" json:"by,omitempty"` // the DID that acted
	What   string `cbor:"7,keyasint,omitempty" json:"what,omitempty"`
	State  string `cbor:"8,keyasint" json:"state"` // the wallet's, after the step
}

func entryKey(wallet string, n uint64) []byte { return fmt.Appendf(nil, "w/%s/log/%016x", wallet, n) }

// record saves w, appends an audit entry and emits it as an event.
func (w *Wallet) record(ctx *ledger.Context, step, by, what string) error {
	w.Log++
	e := Entry{N: w.Log, Time: ctx.Block.Time.UnixMilli(), Height: ctx.Block.Height, Step: step, By: by, What: what, State: w.State}
	if ctx.TxID != ([32]byte{}) {
		e.TxID = ctx.TxID[:]
	}
	if err := ctx.KV.SetValue(entryKey(w.ID, e.N), &e); err != nil {
		return err
	}
	if err := w.save(ctx); err != nil {
		return err
	}
	attrs := []ledger.Attr{walletAttr(w.ID), {Key: "step", Value: step}, {Key: "state", Value: w.State}}
	if by != "" {
		attrs = append(attrs, ledger.Attr{Key: "by", Value: by})
	}
	ctx.Emit("audit", attrs...)
	return nil
}

func walletAttr(id string) ledger.Attr { return ledger.Attr{Key: "wallet", Value: id} }

func nAttr(n uint64) ledger.Attr {
	return ledger.Attr{Key: "request", Value: strconv.FormatUint(n, 10)}
}

// MaxAudit bounds the entries one audit answer holds.
const MaxAudit = 256

// Audit is the answer of the audit query.
type Audit struct {
	Wallet  string  `json:"wallet"`
	Since   int64   `json:"since"`
	Entries []Entry `json:"entries"`
	// More is set when entries after the last one shown exist: ask again
	// with after=N.
	More bool `json:"more,omitempty"`
}

// AuditIn returns wallet's audit entries at or after since (Unix ms), and
// after entry number after, at most MaxAudit of them, by point reads.
func AuditIn(kv *ledger.KV, wallet string, since int64, after uint64) (*Audit, error) {
	w, err := WalletIn(kv, wallet)
	if err != nil {
		return nil, err
	}
	get := func(n uint64) (*Entry, error) {
		var e Entry
		found, err := kv.GetValue(entryKey(wallet, n), &e)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("%w: wallet %s audit entry %d missing", ledger.ErrStorage, wallet, n)
		}
		return &e, nil
	}
	// The first entry at or after since: entries' times never decrease.
	lo, hi := after+1, w.Log+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		e, err := get(mid)
		if err != nil {
			return nil, err
		}
		if e.Time < since {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	a := &Audit{Wallet: wallet, Since: since, Entries: []Entry{}}
	for n := lo; n <= w.Log; n++ {
		if len(a.Entries) == MaxAudit {
			a.More = true
			break
		}
		e, err := get(n)
		if err != nil {
			return nil, err
		}
		a.Entries = append(a.Entries, *e)
	}
	return a, nil
}

// ParseTime parses a time as RFC 3339 or Unix milliseconds ("" is 0).
func ParseTime(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UnixMilli(), nil
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: time %q is neither RFC 3339 nor Unix milliseconds", ledger.ErrInvalid, s)
	}
	return ms, nil
}
