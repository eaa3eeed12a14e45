package node

import (
	"bytes"
	"fmt"
	"sort"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/store"
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
// one replay produces (so the hash chain, transaction and result
// commitments and state commitments all hold), that every transaction is
// indexed where it lies, and finally that the stored state is exactly the
// replayed state. progress, if not nil, is called after each block.
func Fsck(st *store.Store, exec *ledger.Executor, g *ledger.Genesis, progress func(height, head uint64)) (*FsckReport, error) {
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
	mem := memState{}
	mem.apply(gen.Writes)
	rec0, err := st.Block(0)
	if err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	if err := sameHeader(&rec0.Header, &gen.Header); err != nil {
		return nil, fmt.Errorf("fsck: block 0 is not this genesis: %w", err)
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
		for i, raw := range rec.Txs {
			var s tx.Signed
			if err := tx.Unmarshal(raw, &s); err != nil {
				return nil, fmt.Errorf("fsck: block %d tx %d: %w", h, i, err)
			}
			gh, gi, res, err := st.FindTx(s.ID())
			if err == nil && !sameResult(&res, &rec.Results[i]) {
				err = fmt.Errorf("indexed result differs from the block's")
			}
			if err != nil || gh != h || gi != i {
				return nil, fmt.Errorf("fsck: block %d tx %d (%s) is not indexed at its place (index says %d/%d, %v)", h, i, s.ID(), gh, gi, err)
			}
		}
		hdr, err := st.Header(h)
		if err != nil {
			return nil, fmt.Errorf("fsck: %w", err)
		}
		if err := sameHeader(hdr, &out.Header); err != nil {
			return nil, fmt.Errorf("fsck: block %d header record: %w", h, err)
		}
		mem.apply(out.Writes)
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
	// The stored state must be exactly the replayed state.
	keys := mem.keys()
	i := 0
	err = st.ScanState(func(k, v []byte) error {
		if i < len(keys) && keys[i] < string(k) {
			return fmt.Errorf("fsck: stored state lacks key %q", keys[i])
		}
		if i >= len(keys) || keys[i] != string(k) {
			return fmt.Errorf("fsck: stored state has key %q that replay does not", k)
		}
		if !bytes.Equal(mem[keys[i]], v) {
			return fmt.Errorf("fsck: stored value of %q differs from replay", k)
		}
		i++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if i != len(keys) {
		return nil, fmt.Errorf("fsck: stored state lacks key %q", keys[i])
	}
	rep.StateKeys = uint64(len(keys))
	rep.AppHash = prev.AppHash
	return rep, nil
}

func sameHeader(stored, replayed *ledger.Header) error {
	a, err1 := tx.Marshal(stored)
	b, err2 := tx.Marshal(replayed)
	if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
		return fmt.Errorf("stored header differs from replay (stored app hash %x, replayed %x)", stored.AppHash, replayed.AppHash)
	}
	return nil
}

// memState is an in-memory ledger.Reader for replay.
type memState map[string][]byte

func (m memState) Get(k []byte) ([]byte, bool, error) {
	v, ok := m[string(k)]
	return v, ok, nil
}

func (m memState) Iterate(start, end []byte, fn func(k, v []byte) (bool, error)) error {
	for _, k := range m.keys() {
		if k < string(start) || (end != nil && k >= string(end)) {
			continue
		}
		if more, err := fn([]byte(k), m[k]); err != nil || !more {
			return err
		}
	}
	return nil
}

func (m memState) keys() []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (m memState) apply(ws []ledger.Write) {
	for _, w := range ws {
		if w.Value == nil {
			delete(m, string(w.Key))
		} else {
			m[string(w.Key)] = w.Value
		}
	}
}

func timeOf(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func sameResult(a, b *ledger.Result) bool {
	x, err1 := tx.Marshal(a)
	y, err2 := tx.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
