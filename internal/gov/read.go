package gov

import (
	"fmt"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// The functions in this file let other modules read governance state: kv
// is a read-only view of this module's namespace (ledger.Context.View in
// Execute, ledger.KV.View in a query). They read by point lookups only,
// so a query built on them stays provable.

// ResourceIn returns the resource id. Errors wrap ledger.ErrNotFound when
// there is none.
func ResourceIn(kv *ledger.KV, id string) (*Resource, error) {
	return reader(kv).resource(id)
}

// EntryIn returns the entry key of resource, and whether it exists.
func EntryIn(kv *ledger.KV, resource, key string) (*Entry, bool, error) {
	var e Entry
	found, err := kv.GetValue(entryKey(resource, key), &e)
	if err != nil || !found {
		return nil, false, err
	}
	return &e, true, nil
}

// BodyIn returns the body id. Errors wrap ledger.ErrNotFound when there
// is none.
func BodyIn(kv *ledger.KV, id string) (*Body, error) {
	return reader(kv).body(id)
}

// IsMember reports whether key is a key member of body, directly or
// through member bodies nested up to MaxNesting deep (as a body's rule
// counts them), and returns the member's name ("telco-id of identity").
// A member body that does not exist is skipped; a body that does not
// exist is an error wrapping ledger.ErrNotFound.
func IsMember(kv *ledger.KV, body string, key tx.PublicKey) (string, bool, error) {
	b, err := BodyIn(kv, body)
	if err != nil {
		return "", false, err
	}
	name, err := findKey(kv, b, key, 1)
	return name, name != "", err
}

func findKey(kv *ledger.KV, b *Body, key tx.PublicKey, depth int) (string, error) {
	for _, m := range b.Members {
		if m.Key != nil && m.Key.Equal(key) {
			return fmt.Sprintf("%s of %s", m.Name, b.ID), nil
		}
	}
	if depth >= MaxNesting {
		return "", nil
	}
	for _, m := range b.Members {
		if m.Body == "" {
			continue
		}
		sub, err := BodyIn(kv, m.Body)
		if errorsIsNotFound(err) {
			continue
		}
		if err != nil {
			return "", err
		}
		if name, err := findKey(kv, sub, key, depth+1); name != "" || err != nil {
			return name, err
		}
	}
	return "", nil
}

// Standing implements ledger.Stander: a key has standing if it is a key
// member of a body or the key of a director in a seat of the Board. The
// bodies are few and set only by governance, so the scan is short.
func (Module) Standing(kv *ledger.KV, key tx.PublicKey, _ time.Time) (bool, error) {
	found := false
	err := kv.Iterate(bodyKey(""), func(_, v []byte) (bool, error) {
		var b Body
		if err := tx.Unmarshal(v, &b); err != nil {
			return false, fmt.Errorf("%w: body: %v", ledger.ErrStorage, err)
		}
		for _, m := range b.Members {
			if m.Key != nil && m.Key.Equal(key) {
				found = true
			}
		}
		return !found, nil
	})
	if err != nil || found {
		return found, err
	}
	var bd Board
	if _, err := kv.GetValue(boardKey, &bd); err != nil {
		return false, err
	}
	for _, s := range bd.Seats {
		if d := s.Director; d != nil && d.Key != nil && d.Key.Equal(key) {
			return true, nil
		}
	}
	return false, nil
}

// EntryKeysIn returns the keys of resource's entries, in key order. It
// reads a range of keys, which a state proof cannot show complete: a
// query built on it lists, and EntryIn proves each entry.
func EntryKeysIn(kv *ledger.KV, resource string) ([]string, error) {
	var keys []string
	err := kv.Iterate(entryKey(resource, ""), func(k, _ []byte) (bool, error) {
		keys = append(keys, string(k))
		return true, nil
	})
	return keys, err
}
