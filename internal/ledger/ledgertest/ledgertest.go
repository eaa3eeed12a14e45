// Package ledgertest provides what tests of the executor and its modules
// share: a committed ledger in memory.
package ledgertest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/transparency-dev/merkle/compact"

	"github.com/agora-ledger/agora/internal/ledger"
)

// State is a committed ledger in memory, a ledger.Reader: state keys as
// they are, the state map's nodes under "\xffn" and the log's node hashes
// under "\xffh", prefixes no state key has.
type State map[string][]byte

// Get implements ledger.StateReader.
func (m State) Get(k []byte) ([]byte, bool, error) {
	v, ok := m[string(k)]
	return v, ok, nil
}

// Iterate implements ledger.StateReader.
func (m State) Iterate(start, end []byte, fn func(k, v []byte) (bool, error)) error {
	var ks []string
	for k := range m {
		if !strings.HasPrefix(k, "\xff") && k >= string(start) && (end == nil || k < string(end)) {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	for _, k := range ks {
		if more, err := fn([]byte(k), m[k]); err != nil || !more {
			return err
		}
	}
	return nil
}

// GetNode implements smt.NodeReader.
func (m State) GetNode(path []byte) ([]byte, bool, error) {
	v, ok := m["\xffn"+string(path)]
	return v, ok, nil
}

// ReadHashes implements tlog.HashReader.
func (m State) ReadHashes(ids []compact.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := m[fmt.Sprintf("\xffh%d/%d", id.Level, id.Index)]
		if !ok {
			return nil, fmt.Errorf("no log node %d/%d", id.Level, id.Index)
		}
		out[i] = h
	}
	return out, nil
}

// ApplyOutcome commits a block: its state writes and node writes.
func (m State) ApplyOutcome(out *ledger.Outcome) {
	for _, w := range out.Writes {
		if w.Value == nil {
			delete(m, string(w.Key))
		} else {
			m[string(w.Key)] = w.Value
		}
	}
	for _, w := range out.MapNodes {
		if w.Node == nil {
			delete(m, "\xffn"+string(w.Path))
		} else {
			m["\xffn"+string(w.Path)] = w.Node
		}
	}
	for _, n := range out.LogNodes {
		m[fmt.Sprintf("\xffh%d/%d", n.ID.Level, n.ID.Index)] = n.Hash
	}
}
