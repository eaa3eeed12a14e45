package asset

import (
	"fmt"

	"github.com/agora-ledger/agora/internal/ledger"
)

// The functions in this file are the typed questions other modules and
// the queries ask the asset module. kv is a read-only view of its
// namespace; each reads by point lookups only, so an answer built on them
// is covered by a state proof.

func getAsset(kv *ledger.KV, id string) (*Asset, bool, error) {
	var a Asset
	found, err := kv.GetValue(assetKey(id), &a)
	if err != nil || !found {
		return nil, false, err
	}
	return &a, true, nil
}

// LookupAsset returns asset id, or an error wrapping ledger.ErrNotFound.
func LookupAsset(kv *ledger.KV, id string) (*Asset, error) {
	a, found, err := getAsset(kv, id)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: no asset %s", ledger.ErrNotFound, id)
	}
	return a, nil
}

// LookupRule returns rule n of asset id, or an error wrapping
// ledger.ErrNotFound.
func LookupRule(kv *ledger.KV, id string, n uint64) (*Rule, error) {
	var r Rule
	found, err := kv.GetValue(ruleKey(id, n), &r)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: asset %s has no rule %d", ledger.ErrNotFound, id, n)
	}
	return &r, nil
}

// LookupTrigger returns trigger n, or an error wrapping
// ledger.ErrNotFound.
func LookupTrigger(kv *ledger.KV, n uint64) (*Trigger, error) {
	var t Trigger
	found, err := kv.GetValue(triggerKey(n), &t)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: no trigger %d", ledger.ErrNotFound, n)
	}
	return &t, nil
}

// History returns asset id's events, oldest first.
func History(kv *ledger.KV, id string) ([]Event, error) {
	a, err := LookupAsset(kv, id)
	if err != nil {
		return nil, err
	}
	out := make([]Event, 0, a.Events)
	for n := uint64(1); n <= a.Events; n++ {
		var e Event
		found, err := kv.GetValue(eventKey(id, n), &e)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("%w: asset %s's history lacks event %d", ledger.ErrStorage, id, n)
		}
		out = append(out, e)
	}
	return out, nil
}
