package node

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/tx"
)

// FsckReport says what Fsck checked.
type FsckReport struct {
	Head      uint64
	Blocks    uint64
	Txs       uint64
	StateKeys uint64
	AppHash   []byte
}

// Fsck checks a store's integrity by replaying it: it re-executes every
// block from genesis in memory, and checks that each stored header is the
// one replay produces (so the hash chain, the transaction and result
// commitments, the state map's root and the log's root all hold), that
// every transaction is indexed and logged where it lies, that each block's
// checkpoint commits to its header (and, with a verifier, is signed by the
// log's key), and finally that the stored state, state map nodes and log
// nodes are exactly the replayed ones. progress, if not nil, is called
// after each block.
func Fsck(st *store.Store, exec *ledger.Executor, g *ledger.Genesis, verifier note.Verifier, progress func(height, head uint64)) (*FsckReport, error) {
	head, ok, err := st.Head()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("fsck: store has no head: it was never initialised")
	}
	gen, err := exec.InitGenesis(g)
	if err != nil {
		return nil, fmt.Errorf("fsck: genesis: %w", err)
	}
	mem := newMemLedger()
	mem.apply(gen)
	rec0, err := st.Block(0)
	if err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	if err := sameHeader(&rec0.Header, &gen.Header); err != nil {
		return nil, fmt.Errorf("fsck: block 0 is not this genesis: %w", err)
	}
	if err := checkCheckpoint(st, &gen.Header, verifier); err != nil {
		return nil, err
	}
	rep := &FsckReport{Head: head, Blocks: 1}
	prev := gen.Header
	for h := uint64(1); h <= head; h++ {
		rec, err := st.Block(h)
		if err != nil {
			return nil, fmt.Errorf("fsck: %w", err)
		}
		out, err := exec.Apply(mem, &prev, ledger.Block{ChainID: rec.Header.ChainID, Height: h, Time: timeOf(rec.Header.Time)}, rec.Txs, false)
		if err != nil {
			return nil, fmt.Errorf("fsck: replaying block %d: %w", h, err)
		}
		if err := sameHeader(&rec.Header, &out.Header); err != nil {
			return nil, fmt.Errorf("fsck: block %d: %w", h, err)
		}
		// The header commits to the replayed results; the stored ones,
		// which Lookup serves, must be those.
		if !bytes.Equal(ledger.ResultsHash(rec.Results), out.Header.ResultsHash) {
			return nil, fmt.Errorf("fsck: block %d: stored results differ from replay", h)
		}
		for i, id := range out.IDs {
			loc, err := st.FindTx(id)
			if err == nil && !sameResult(&loc.Result, &rec.Results[i]) {
				err = fmt.Errorf("indexed result differs from the block's")
			}
			leaf := prev.LogSize + uint64(i)
			if err != nil || loc.Height != h || loc.Index != i || loc.Leaf != leaf {
				return nil, fmt.Errorf("fsck: block %d tx %d (%s) is not indexed at its place (index says %d/%d leaf %d, %v)", h, i, id, loc.Height, loc.Index, loc.Leaf, err)
			}
			entry, err := st.Entry(leaf)
			if err != nil || !bytes.Equal(entry, out.Entries[i]) {
				return nil, fmt.Errorf("fsck: log entry %d (block %d tx %d) differs from replay (%v)", leaf, h, i, err)
			}
		}
		hdr, err := st.Header(h)
		if err != nil {
			return nil, fmt.Errorf("fsck: %w", err)
		}
		if err := sameHeader(hdr, &out.Header); err != nil {
			return nil, fmt.Errorf("fsck: block %d header record: %w", h, err)
		}
		if err := checkCheckpoint(st, &out.Header, verifier); err != nil {
			return nil, err
		}
		mem.apply(out)
		rep.Blocks++
		rep.Txs += uint64(len(rec.Txs))
		prev = out.Header
		if progress != nil {
			progress(h, head)
		}
	}
	if _, err := st.Block(head + 1); err == nil {
		return nil, fmt.Errorf("fsck: a block is stored above the head %d", head)
	}
	// Every index entry must be one of the transactions just replayed.
	indexed, err := st.CountTxs()
	if err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	if indexed != rep.Txs {
		return nil, fmt.Errorf("fsck: the transaction index has %d entries for %d committed transactions", indexed, rep.Txs)
	}
	entries, err := st.CountEntries()
	if err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	if entries != prev.LogSize {
		return nil, fmt.Errorf("fsck: %d log entries are stored beyond the log's size %d", entries-prev.LogSize, prev.LogSize)
	}
	// The stored state, map nodes and log nodes must be exactly the
	// replayed ones.
	if err := sameKV("state", mem.state, st.ScanState); err != nil {
		return nil, err
	}
	if err := sameKV("state map node", mem.nodes, st.ScanMapNodes); err != nil {
		return nil, err
	}
	logNodes := map[string][]byte{}
	for id, h := range mem.hashes {
		logNodes[fmt.Sprintf("%d/%d", id.Level, id.Index)] = h
	}
	storedLog := map[string][]byte{}
	if err := st.ScanLogNodes(func(level uint, index uint64, h []byte) error {
		storedLog[fmt.Sprintf("%d/%d", level, index)] = h
		return nil
	}); err != nil {
		return nil, err
	}
	if err := sameKV("log node", logNodes, func(fn func(k, v []byte) error) error {
		for _, k := range sortedKeys(storedLog) {
			if err := fn([]byte(k), storedLog[k]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	rep.StateKeys = uint64(len(mem.state))
	rep.AppHash = prev.AppHash
	return rep, nil
}

// checkCheckpoint checks that the stored checkpoint of the block h heads
// commits to h, and is signed by verifier if one is given.
func checkCheckpoint(st *store.Store, h *ledger.Header, verifier note.Verifier) error {
	signed, err := st.Checkpoint(h.Height)
	if errors.Is(err, ledger.ErrNotFound) && verifier == nil {
		return nil // a store written without a checkpoint signer
	}
	if err != nil {
		return fmt.Errorf("fsck: block %d: %w", h.Height, err)
	}
	var c *tlog.Checkpoint
	if verifier != nil {
		c, err = tlog.Open(signed, verifier)
	} else {
		text, _, _ := bytes.Cut(signed, []byte("\n\n"))
		c, err = tlog.ParseCheckpoint(append(text, '\n'))
	}
	if err != nil {
		return fmt.Errorf("fsck: block %d checkpoint: %w", h.Height, err)
	}
	want, _ := h.Checkpoint().Marshal()
	got, _ := c.Marshal()
	if !bytes.Equal(want, got) {
		return fmt.Errorf("fsck: block %d checkpoint does not commit to the block's header", h.Height)
	}
	return nil
}

// sameKV checks that scan yields exactly the keys and values of want, in
// order.
func sameKV(what string, want map[string][]byte, scan func(func(k, v []byte) error) error) error {
	keys := sortedKeys(want)
	i := 0
	err := scan(func(k, v []byte) error {
		switch {
		case i < len(keys) && keys[i] < string(k):
			return fmt.Errorf("fsck: the store lacks %s %q that replay has", what, keys[i])
		case i >= len(keys) || keys[i] > string(k):
			return fmt.Errorf("fsck: stored %s %q is not in the replay", what, k)
		case !bytes.Equal(want[keys[i]], v):
			return fmt.Errorf("fsck: stored value of %s %q differs from replay", what, k)
		}
		i++
		return nil
	})
	if err != nil {
		return err
	}
	if i != len(keys) {
		return fmt.Errorf("fsck: the store lacks %s %q that replay has", what, keys[i])
	}
	return nil
}

func sortedKeys(m map[string][]byte) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func sameHeader(stored, replayed *ledger.Header) error {
	a, err1 := tx.Marshal(stored)
	b, err2 := tx.Marshal(replayed)
	if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
		return fmt.Errorf("stored header differs from replay (stored app hash %x, replayed %x)", stored.AppHash, replayed.AppHash)
	}
	return nil
}

func sameResult(a, b *ledger.Result) bool {
	x, err1 := tx.Marshal(a)
	y, err2 := tx.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

func timeOf(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// memLedger is an in-memory ledger.Reader for replay.
type memLedger struct {
	state  map[string][]byte
	nodes  map[string][]byte
	hashes map[compact.NodeID][]byte
}

func newMemLedger() *memLedger {
	return &memLedger{state: map[string][]byte{}, nodes: map[string][]byte{}, hashes: map[compact.NodeID][]byte{}}
}

func (m *memLedger) Get(k []byte) ([]byte, bool, error) {
	v, ok := m.state[string(k)]
	return v, ok, nil
}

func (m *memLedger) Iterate(start, end []byte, fn func(k, v []byte) (bool, error)) error {
	for _, k := range sortedKeys(m.state) {
		if k < string(start) || (end != nil && k >= string(end)) {
			continue
		}
		if more, err := fn([]byte(k), m.state[k]); err != nil || !more {
			return err
		}
	}
	return nil
}

func (m *memLedger) GetNode(path []byte) ([]byte, bool, error) {
	v, ok := m.nodes[string(path)]
	return v, ok, nil
}

func (m *memLedger) ReadHashes(ids []compact.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := m.hashes[id]
		if !ok {
			return nil, fmt.Errorf("no log node %d/%d", id.Level, id.Index)
		}
		out[i] = h
	}
	return out, nil
}

func (m *memLedger) apply(out *ledger.Outcome) {
	for _, w := range out.Writes {
		if w.Value == nil {
			delete(m.state, string(w.Key))
		} else {
			m.state[string(w.Key)] = w.Value
		}
	}
	for _, w := range out.MapNodes {
		if w.Node == nil {
			delete(m.nodes, string(w.Path))
		} else {
			m.nodes[string(w.Path)] = w.Node
		}
	}
	for _, n := range out.LogNodes {
		m.hashes[n.ID] = n.Hash
	}
}
