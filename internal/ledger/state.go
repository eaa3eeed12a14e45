package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"github.com/agora-ledger/agora/internal/smt"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/tx"
)

// StateReader reads a consistent view of committed key-value state.
// Implementations return copies the caller may keep; a failure of the
// underlying storage is reported as an error, which the executor turns
// into ErrStorage.
type StateReader interface {
	// Get returns the value under key and whether it exists.
	Get(key []byte) (value []byte, ok bool, err error)
	// Iterate calls fn for each key in [start, end) in ascending order
	// until fn returns false or an error.
	Iterate(start, end []byte, fn func(key, value []byte) (bool, error)) error
}

// Reader reads a committed ledger: its state, and the stored nodes of the
// state map (package smt) and of the log (package tlog) that commit to it.
type Reader interface {
	StateReader
	smt.NodeReader
	tlog.HashReader
}

// Write is one change to state: Value nil means delete.
type Write struct {
	Key   []byte
	Value []byte
}

// overlay records writes above a parent view. It is how a block sees its
// own earlier transactions and how a failed transaction's writes vanish.
type overlay struct {
	parent StateReader
	writes map[string][]byte // nil value: deleted
}

func newOverlay(parent StateReader) *overlay {
	return &overlay{parent: parent, writes: map[string][]byte{}}
}

func (o *overlay) Get(key []byte) ([]byte, bool, error) {
	if v, ok := o.writes[string(key)]; ok {
		return v, v != nil, nil
	}
	v, ok, err := o.parent.Get(key)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrStorage, err)
	}
	return v, ok, nil
}

func (o *overlay) set(key, value []byte) {
	o.writes[string(key)] = value
}

// Iterate merges the parent's keys with this overlay's writes.
func (o *overlay) Iterate(start, end []byte, fn func(k, v []byte) (bool, error)) error {
	var mine []string
	for k := range o.writes {
		if k >= string(start) && (end == nil || k < string(end)) {
			mine = append(mine, k)
		}
	}
	sort.Strings(mine)
	stopped := false
	emitMine := func(upTo []byte) (bool, error) { // emit own keys < upTo (all if nil)
		for len(mine) > 0 && (upTo == nil || mine[0] < string(upTo)) {
			k := mine[0]
			mine = mine[1:]
			if v := o.writes[k]; v != nil {
				if more, err := fn([]byte(k), v); err != nil || !more {
					return false, err
				}
			}
		}
		return true, nil
	}
	var fnErr error // an error of fn's, which passes through unchanged
	err := o.parent.Iterate(start, end, func(k, v []byte) (bool, error) {
		more, err := emitMine(k)
		if err != nil || !more {
			stopped = true
			fnErr = err
			return false, err
		}
		if len(mine) > 0 && mine[0] == string(k) {
			return true, nil // shadowed: emitted (or deleted) when mine reaches it
		}
		more, err = fn(k, v)
		if !more || err != nil {
			stopped = true
			fnErr = err
		}
		return more, err
	})
	if err != nil && fnErr == nil && !errors.Is(err, ErrStorage) {
		return fmt.Errorf("%w: %v", ErrStorage, err) // as Get does
	}
	if err != nil {
		return err
	}
	if stopped {
		return nil
	}
	_, err = emitMine(nil)
	return err
}

// mergeInto copies this overlay's writes into dst.
func (o *overlay) mergeInto(dst *overlay) {
	for k, v := range o.writes {
		dst.writes[k] = v
	}
}

// sorted returns the writes in ascending key order: the deterministic form
// that is hashed and stored.
func (o *overlay) sorted() []Write {
	keys := make([]string, 0, len(o.writes))
	for k := range o.writes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Write, len(keys))
	for i, k := range keys {
		out[i] = Write{Key: []byte(k), Value: o.writes[k]}
	}
	return out
}

// KV is a module's view of state: keys are relative to the module's
// namespace ("<module>/"), and a read-only KV refuses writes.
type KV struct {
	o        *overlay
	prefix   []byte
	readOnly bool
	rec      *Reads // if not nil, records what is read
}

// Reads records what a read-only view read: the full state keys looked up
// (whether found or not) with the values found (nil: absent), and whether
// a range was iterated. A state proof can cover point reads but not the
// completeness of a range.
type Reads struct {
	Keys     [][]byte
	Values   [][]byte // Values[i] is what Keys[i] held
	Iterated bool
}

func (kv *KV) key(k []byte) []byte {
	return append(append(make([]byte, 0, len(kv.prefix)+len(k)), kv.prefix...), k...)
}

// Get returns the value under key and whether it exists.
func (kv *KV) Get(key []byte) ([]byte, bool, error) {
	k := kv.key(key)
	v, ok, err := kv.o.Get(k)
	if kv.rec != nil {
		kv.rec.Keys = append(kv.rec.Keys, k)
		var found []byte
		if ok {
			found = v
		}
		kv.rec.Values = append(kv.rec.Values, found)
	}
	return v, ok, err
}

// Set stores value under key. An empty value is stored as such.
func (kv *KV) Set(key, value []byte) {
	if kv.readOnly {
		panic("ledger: write through a read-only view") // a module bug, not input
	}
	if value == nil {
		value = []byte{}
	}
	kv.o.set(kv.key(key), bytes.Clone(value))
}

// Delete removes key.
func (kv *KV) Delete(key []byte) {
	if kv.readOnly {
		panic("ledger: write through a read-only view")
	}
	kv.o.set(kv.key(key), nil)
}

// GetValue decodes the canonical CBOR value under key into v.
func (kv *KV) GetValue(key []byte, v any) (bool, error) {
	b, ok, err := kv.Get(key)
	if err != nil || !ok {
		return ok, err
	}
	if err := tx.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%w: stored value under %q: %v", ErrStorage, kv.key(key), err)
	}
	return true, nil
}

// SetValue stores the canonical CBOR encoding of v under key.
func (kv *KV) SetValue(key []byte, v any) error {
	b, err := tx.Marshal(v)
	if err != nil {
		return err
	}
	kv.Set(key, b)
	return nil
}

// Iterate calls fn for each key with the given prefix, in ascending order,
// with the prefix (and namespace) stripped, until fn returns false.
func (kv *KV) Iterate(prefix []byte, fn func(key, value []byte) (bool, error)) error {
	if kv.rec != nil {
		kv.rec.Iterated = true
	}
	start := kv.key(prefix)
	return kv.o.Iterate(start, prefixEnd(start), func(k, v []byte) (bool, error) {
		return fn(k[len(start):], v)
	})
}

// prefixEnd returns the smallest key greater than every key with prefix p,
// or nil if there is none.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// View returns a read-only view of another module's namespace over the
// same state, recording its reads with this view's: a query that depends
// on another module's state (identity on governance's registries) stays
// provable.
func (kv *KV) View(module string) *KV {
	return &KV{o: kv.o, prefix: []byte(module + "/"), readOnly: true, rec: kv.rec}
}

// NewReadView returns a read-only view of module's namespace in r, for
// queries. If rec is not nil, the view records its reads in it.
func NewReadView(r StateReader, module string, rec *Reads) *KV {
	return &KV{o: newOverlay(r), prefix: []byte(module + "/"), readOnly: true, rec: rec}
}

// Proven is the state a state proof shows (verify.State's values, by full
// key): a key the proof does not cover is an error, not an absence, and
// it cannot show a range complete.
type Proven map[string][]byte

// Get implements ledger.StateReader.
func (p Proven) Get(k []byte) ([]byte, bool, error) {
	v, ok := p[string(k)]
	if !ok {
		return nil, false, fmt.Errorf("%w: the proof does not cover %q", ErrInvalid, k)
	}
	return v, v != nil, nil
}

// Iterate implements ledger.StateReader: it always fails.
func (Proven) Iterate([]byte, []byte, func(k, v []byte) (bool, error)) error {
	return fmt.Errorf("%w: a state proof cannot show a range complete", ErrInvalid)
}
