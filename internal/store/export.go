package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/agora-ledger/agora/internal/ledger"
)

// Pair is one key and value of the store, as Export yields them and
// Import takes them: the key with its one-byte prefix (see Layout).
type Pair struct {
	Key, Value []byte
}

// NodeLocal reports whether a key is this node's own rather than the
// ledger's, so that Export leaves it out: the signed checkpoints ("c",
// signed with this node's note key) and the cosignatures beside them
// ("w": a witness's, or the validators' signature lines this node did not
// already hold in its own checkpoint). Everything else is a function of
// the blocks, the same on every node at the same head.
func NodeLocal(key []byte) bool { return len(key) > 0 && (key[0] == 'c' || key[0] == 'w') }

// Export calls fn with every key and value of the snapshot in key order,
// leaving out the node-local ones (NodeLocal): the same pairs on every node
// whose head is the snapshot's. fn must not keep the slices.
func (s *Snapshot) Export(fn func(key, value []byte) error) error {
	it, err := s.snap.NewIter(nil)
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		if NodeLocal(it.Key()) {
			continue
		}
		if err := fn(it.Key(), it.Value()); err != nil {
			it.Close()
			return err
		}
	}
	return corrupted(errors.Join(it.Error(), it.Close()))
}

// Import is a restore in progress of the pairs another store exported
// (Snapshot.Export), into a store that was fresh. Write adds the pairs,
// Finish checks the result and makes it the store's; Abort clears it. It
// is not safe for concurrent use, and nothing else may write to the store
// meanwhile.
type Import struct {
	st      *Store
	genesis []byte // the genesis the fresh store began from (nil: none)
	last    []byte // the last key written
	head    []byte // the head record, which Finish writes last
	done    bool
}

// ErrNotFresh means Import was asked to restore into a store that
// already holds blocks beyond the genesis.
var ErrNotFresh = errors.New("store: not fresh")

// Import begins restoring the store from another store's exported pairs.
// The store must be fresh: empty, or holding the genesis (block 0) only,
// in which case the restored store must begin from the same genesis.
// Import clears the store first.
func (s *Store) Import() (*Import, error) {
	h, ok, err := s.Head()
	if err != nil {
		return nil, err
	}
	if ok && h > 0 {
		return nil, ledger.WithHint(fmt.Errorf("%w: it holds blocks up to %d, and a restore needs a store with only the genesis", ErrNotFresh, h),
			"state sync is for a new node; remove the home's data directory to start it afresh")
	}
	im := &Import{st: s}
	if ok {
		if im.genesis, err = s.GenesisHash(); err != nil {
			return nil, err
		}
	}
	if err := s.clear(); err != nil {
		return nil, err
	}
	return im, nil
}

// clear deletes every key, synced, and forgets the caches.
func (s *Store) clear() (err error) {
	if err := s.failure(); err != nil {
		return err
	}
	defer s.guard(&err, "clear the store")
	if err := s.db.DeleteRange([]byte{}, []byte{0xff}, pebble.Sync); err != nil {
		return writeError{err}
	}
	s.reset()
	return nil
}

// reset drops what the store remembers of its contents, after they were
// replaced.
func (s *Store) reset() {
	s.upper.mu.Lock()
	s.upper.valid = false
	s.upper.mu.Unlock()
	s.recent.Store(nil)
	s.cosigned.Store(0)
}

// Write adds pairs in one batch. Keys must come in increasing order
// across calls, as Export yields them; a node-local key is refused. The
// batch is not synced: Finish syncs everything. The head record waits for
// Finish, so that a restore interrupted by a crash leaves a store without
// a head, which Init clears.
func (im *Import) Write(pairs []Pair) (err error) {
	if im.done {
		return fmt.Errorf("store: import already finished")
	}
	s := im.st
	if err := s.failure(); err != nil {
		return err
	}
	defer s.guard(&err, "import")
	var batch []Pair
	for _, p := range pairs {
		switch {
		case len(p.Key) == 0 || NodeLocal(p.Key) || p.Key[0] == 0xff:
			return fmt.Errorf("store: import: key %q is not one an export holds", p.Key)
		case im.last != nil && bytes.Compare(p.Key, im.last) <= 0:
			return fmt.Errorf("store: import: key %q does not follow %q", p.Key, im.last)
		}
		im.last = append(im.last[:0], p.Key...)
		if bytes.Equal(p.Key, headKey) {
			im.head = bytes.Clone(p.Value)
			continue
		}
		batch = append(batch, p)
	}
	return im.commit(batch, pebble.NoSync)
}

// Finish ends a restore: the store must have a head in this format and
// begin from the same genesis as before. It signs the checkpoint of every
// block with sign (the checkpoints are node-local, so none were
// imported), syncs everything and returns the head's header. The caller
// then checks the result (node.Fsck) and, if it is not what it should
// be, calls Abort.
func (im *Import) Finish(sign func(*ledger.Header) ([]byte, error)) (hdr *ledger.Header, err error) {
	s := im.st
	im.done = true
	if len(im.head) != 8 {
		return nil, fmt.Errorf("store: the imported pairs hold no head")
	}
	h := binary.BigEndian.Uint64(im.head)
	g, err := s.GenesisHash()
	if err != nil {
		return nil, err
	}
	if im.genesis != nil && !bytes.Equal(g, im.genesis) {
		return nil, fmt.Errorf("store: the imported ledger began from another genesis (%x, this node's is %x)", g, im.genesis)
	}
	if err := s.failure(); err != nil {
		return nil, err
	}
	defer s.guard(&err, "import")
	var cps []Pair
	for height := uint64(0); height <= h; height++ {
		if hdr, err = s.Header(height); err != nil {
			return nil, err
		}
		cp, err := sign(hdr)
		if err != nil {
			return nil, err
		}
		cps = append(cps, Pair{Key: checkpointKey(height), Value: cp})
		if len(cps) == 4096 || height == h {
			if err := im.commit(cps, pebble.NoSync); err != nil {
				return nil, err
			}
			cps = cps[:0]
		}
	}
	// Last, synced (which syncs every batch before it): the head.
	if err := im.commit([]Pair{{Key: headKey, Value: im.head}}, pebble.Sync); err != nil {
		return nil, err
	}
	s.reset()
	if _, _, err := s.Head(); err != nil { // another format
		return nil, err
	}
	return hdr, nil
}

// commit writes pairs in one batch.
func (im *Import) commit(pairs []Pair, opts *pebble.WriteOptions) error {
	b := im.st.db.NewBatch()
	defer b.Close()
	for _, p := range pairs {
		if err := b.Set(p.Key, p.Value, nil); err != nil {
			return err
		}
	}
	if err := b.Commit(opts); err != nil {
		return writeError{err}
	}
	return nil
}

// Abort clears what the restore wrote, leaving the store empty.
func (im *Import) Abort() error {
	im.done = true
	return im.st.clear()
}
