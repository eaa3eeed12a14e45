// Package ledgertest is the test harness of the executor and its
// modules: a ledger run by the real ledger.Executor over a committed
// state in memory (State), and the one transcript runner.
//
// # Chains
//
// NewChain loads a genesis into an executor of the given modules. Key
// derives a fixed key from a name; Chain.Sign signs a transaction with the
// sequences the state expects; Chain.Commit applies the staged
// transactions as the next block at a given time; Chain.Do commits one
// message in a block of its own and checks that a refused one changed
// nothing but its signers' sequences.
//
// # Transcripts
//
// Run runs a package's testdata/*.txt: stories of commands, each followed
// by "----" and the output it must produce, ending at a blank line; lines
// starting with "#" are commentary. go test -update rewrites the expected
// output, so a rule change shows as a readable diff (the flag is this
// package's: a test package that imports it defines no -update of its
// own). Values with spaces are double-quoted; JSON in braces or brackets
// is kept as written. In the output, a named key (its address or the key
// itself) shows as <name>, a transaction's ID as <label>, and whatever a
// module names with Runner.Name as its placeholder; arguments expand the
// same placeholders. A transaction committed by do or pend that is
// refused must change nothing but its signers' sequences, or the
// transcript fails.
//
//	genesis [accounts=alice,bob:p256] [time=RFC3339] [max_block_txs=N]
//	        [max_block_bytes=N] [max_tx_bytes=N] [free_block_txs=N]
//	        [free_block_bytes=N] [quiet]
//	    starts a ledger of the Ext's modules and prints its state (with
//	    quiet, only its app hash).
//	tx SIGNERS MODULE TYPE [fields...] [seq=N,...] [expiry_height=N]
//	        [expiry_time=RFC3339] [chain=ID] [sig=corrupt|NAME] [label=L]
//	        [body=HEX]
//	    signs a transaction and stages it for the next block. SIGNERS is
//	    comma-separated; sequences default to each signer's committed one
//	    plus its staged transactions; the expiry to height 1000. sig=corrupt
//	    flips a bit of the first signature, sig=NAME signs with NAME's key
//	    in the first signer's place. The body is the Ext's Body, or the
//	    module's declared message with each field set from the argument of
//	    its name: numbers, strings, booleans, lists (comma-separated), keys
//	    by name, bytes in hex, governed actions as NAME{JSON} (or
//	    NAME:HEX, raw), and the types of Ext.Values.
//	do SIGNERS MODULE TYPE [fields...]
//	    as tx, but commits the transaction in a block of its own, one
//	    tick after the last, and prints its result and events.
//	pend SIGNERS MODULE TYPE principal=P ttl=DURATION [fields...]
//	    as do, but posts the message as a pending action of the ledger,
//	    executed as principal P once its rule is met (the signers
//	    approve it).
//	export
//	    exports the state to a genesis, loads it into a new executor and
//	    prints whether it is the same state.
//	replay LABEL
//	    stages the exact bytes of an earlier transaction again.
//	block [time=RFC3339] [validate]
//	    commits the staged transactions as the next block (a tick after
//	    the last by default), proposing or validating it, and prints each
//	    result, the dropped ones, the app hash and the writes.
//	wait N
//	    commits N empty blocks.
//	state [prefix=P]
//	    prints the committed state.
//	query MODULE NAME [arg=value...] [fields=a,b]
//	    runs a query of the module (or the ledger's) and prints its answer
//	    as JSON, or only the fields named, then its error if it answers
//	    with one, and says so if it read by iterating a range (a state
//	    proof covers point reads only).
//
// A module adds its own commands, message field types, placeholders and
// state renderings through Ext.
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
	m.ApplyWrites(out.Writes)
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

// ApplyWrites applies state writes (a nil value deletes).
func (m State) ApplyWrites(ws []ledger.Write) {
	for _, w := range ws {
		if w.Value == nil {
			delete(m, string(w.Key))
		} else {
			m[string(w.Key)] = w.Value
		}
	}
}

// Keys returns the state keys, sorted, without the nodes.
func (m State) Keys() []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		if !strings.HasPrefix(k, "\xff") {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

// WithoutLog returns the state and the state map's nodes, without the
// log's.
func (m State) WithoutLog() State {
	out := State{}
	for k, v := range m {
		if !strings.HasPrefix(k, "\xffh") {
			out[k] = v
		}
	}
	return out
}
