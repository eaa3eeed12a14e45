package consent

import (
	"fmt"

	"github.com/agora-ledger/agora/internal/ledger"
)

// The typed questions other modules, the queries and the CLI ask the
// consent module, over a read-only view of its namespace, by point reads
// so that a state proof covers each answer.

// Lookup returns the contract id, or an error wrapping ledger.ErrNotFound.
func Lookup(kv *ledger.KV, id string) (*Contract, error) {
	var c Contract
	found, err := kv.GetValue(contractKey(id), &c)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: no contract %s", ledger.ErrNotFound, id)
	}
	return &c, nil
}

// UseOf returns the seq-th logged use of contract id.
func UseOf(kv *ledger.KV, id string, seq uint64) (*Record, error) {
	var r Record
	found, err := kv.GetValue(useKey(id, seq), &r)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: contract %s has no use %d", ledger.ErrNotFound, id, seq)
	}
	return &r, nil
}

// Page is a page of a contract's logged uses.
type Page struct {
	Contract Contract `json:"contract"`
	Uses     []Record `json:"uses"`
	// Next is the number of the next page's first use, 0 after the last.
	Next uint64 `json:"next,omitempty"`
}

// UsesPage returns up to limit (at most MaxPage) uses of contract id from
// the from-th, each by a point read.
func UsesPage(kv *ledger.KV, id string, from, limit uint64) (*Page, error) {
	c, err := Lookup(kv, id)
	if err != nil {
		return nil, err
	}
	limit = min(limit, MaxPage)
	p := &Page{Contract: *c, Uses: []Record{}}
	for seq := from; seq <= c.Uses && seq < from+limit; seq++ {
		r, err := UseOf(kv, id, seq)
		if err != nil {
			return nil, err
		}
		p.Uses = append(p.Uses, *r)
	}
	if from+limit <= c.Uses {
		p.Next = from + limit
	}
	return p, nil
}

// Revoked says why contract id takes no more uses because of a
// revocation: "" if neither it nor an ancestor has been revoked.
func Revoked(kv *ledger.KV, id string) (string, error) {
	c, err := Lookup(kv, id)
	if err != nil {
		return "", err
	}
	return revokedWhy(kv, c)
}
