// Package store keeps a ledger on disk in Pebble: the current state, every
// committed block with its results, and an index from transaction ID to
// its place in a block.
//
// # Durability
//
// Commit writes a block, its state writes, its index entries and the new
// head in one Pebble batch, synced to the write-ahead log before it
// returns. After a crash Pebble replays its log, so the store holds
// exactly the blocks whose Commit returned, and a node resumes from the
// head. Nothing is acknowledged to a client before Commit returns.
//
// # Layout
//
//	"s" state-key        -> value (the ledger's key-value state)
//	"b" height (8 bytes)  -> canonical ledger.Record
//	"h" height (8 bytes)  -> canonical ledger.Header (also inside the record)
//	"x" tx ID (32 bytes)  -> height (8) || index (4) || canonical ledger.Result
//	"m/head"              -> height (8) of the last committed block
//	"m/genesis"           -> SHA-256 of the genesis file the store began from
package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// ErrNotFound means the block or transaction is not in the store.
var ErrNotFound = ledger.ErrNotFound

var (
	headKey    = []byte("m/head")
	genesisKey = []byte("m/genesis")
)

// Store is an open ledger store. Its methods are safe for concurrent use;
// Commit must be called by one writer at a time.
type Store struct {
	db *pebble.DB
}

// Open opens (creating if needed) the store in dir.
// Pebble's errors go to log; its informational messages are dropped.
func Open(dir string, log *slog.Logger) (*Store, error) {
	opts := &pebble.Options{
		Logger: pebbleLogger{log},
		// Most point reads on the hot path miss (is this digest anchored,
		// is this transaction committed): bloom filters answer them
		// without reading data blocks.
		MemTableSize: 64 << 20,
	}
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	return &Store{db: db}, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

func blockKey(h uint64) []byte  { return binary.BigEndian.AppendUint64([]byte("b"), h) }
func headerKey(h uint64) []byte { return binary.BigEndian.AppendUint64([]byte("h"), h) }
func txKey(id tx.ID) []byte     { return append([]byte("x"), id[:]...) }
func stateKey(k []byte) []byte  { return append([]byte("s"), k...) }

func (s *Store) get(key []byte) ([]byte, bool, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer closer.Close()
	return bytes.Clone(v), true, nil
}

// Head returns the height of the last committed block; ok is false for a
// store that has not been initialised from a genesis.
func (s *Store) Head() (height uint64, ok bool, err error) {
	v, ok, err := s.get(headKey)
	if err != nil || !ok {
		return 0, ok, err
	}
	if len(v) != 8 {
		return 0, false, fmt.Errorf("store: corrupt head record")
	}
	return binary.BigEndian.Uint64(v), true, nil
}

// GenesisHash returns the SHA-256 of the genesis file the store began from.
func (s *Store) GenesisHash() ([]byte, error) {
	v, ok, err := s.get(genesisKey)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("store: no genesis recorded")
	}
	return v, nil
}

// Init commits the genesis state as block 0. It refuses a store that
// already has a head.
func (s *Store) Init(genesisHash []byte, out *ledger.Outcome) error {
	if _, ok, err := s.Head(); err != nil || ok {
		if err == nil {
			err = fmt.Errorf("store: already initialised")
		}
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Set(genesisKey, genesisHash, nil); err != nil {
		return err
	}
	return s.commit(b, out)
}

// Commit stores a block: its record, state writes, transaction index and
// the new head, atomically and durably.
func (s *Store) Commit(out *ledger.Outcome) error {
	b := s.db.NewBatch()
	defer b.Close()
	return s.commit(b, out)
}

func (s *Store) commit(b *pebble.Batch, out *ledger.Outcome) error {
	rec := ledger.Record{Header: out.Header, Txs: out.Txs, Results: out.Results}
	enc, err := rec.Encode()
	if err != nil {
		return err
	}
	for _, w := range out.Writes {
		if w.Value == nil {
			err = b.Delete(stateKey(w.Key), nil)
		} else {
			err = b.Set(stateKey(w.Key), w.Value, nil)
		}
		if err != nil {
			return err
		}
	}
	h := out.Header.Height
	if err := b.Set(blockKey(h), enc, nil); err != nil {
		return err
	}
	hdr, err := tx.Marshal(&out.Header)
	if err != nil {
		return err
	}
	if err := b.Set(headerKey(h), hdr, nil); err != nil {
		return err
	}
	if len(out.IDs) != len(out.Txs) {
		return fmt.Errorf("store: block %d has %d transactions and %d IDs", h, len(out.Txs), len(out.IDs))
	}
	for i := range out.Txs {
		res, err := tx.Marshal(&out.Results[i])
		if err != nil {
			return err
		}
		loc := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, h), uint32(i))
		if err := b.Set(txKey(out.IDs[i]), append(loc, res...), nil); err != nil {
			return err
		}
	}
	if err := b.Set(headKey, binary.BigEndian.AppendUint64(nil, h), nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: commit block %d: %w", h, err)
	}
	return nil
}

// Block returns the record of the block at height h.
func (s *Store) Block(h uint64) (*ledger.Record, error) {
	v, ok, err := s.get(blockKey(h))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: no block at height %d", ErrNotFound, h)
	}
	rec, err := ledger.DecodeRecord(v)
	if err != nil {
		return nil, fmt.Errorf("store: block %d: %w", h, err)
	}
	return rec, nil
}

// FindTx returns the height, index and result of a committed transaction.
func (s *Store) FindTx(id tx.ID) (height uint64, index int, res ledger.Result, err error) {
	v, ok, err := s.get(txKey(id))
	if err != nil {
		return 0, 0, res, err
	}
	if !ok {
		return 0, 0, res, fmt.Errorf("%w: no committed transaction %s", ErrNotFound, id)
	}
	if len(v) < 12 {
		return 0, 0, res, fmt.Errorf("store: corrupt index entry for %s", id)
	}
	if err := tx.Unmarshal(v[12:], &res); err != nil {
		return 0, 0, res, fmt.Errorf("store: index entry for %s: %w", id, err)
	}
	return binary.BigEndian.Uint64(v), int(binary.BigEndian.Uint32(v[8:])), res, nil
}

// CountTxs counts the transaction index's entries, for fsck.
func (s *Store) CountTxs() (uint64, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte("x"), UpperBound: []byte("y")})
	if err != nil {
		return 0, err
	}
	n := uint64(0)
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	return n, errors.Join(it.Error(), it.Close())
}

// HasTx reports whether a transaction is committed.
func (s *Store) HasTx(id tx.ID) (bool, error) {
	_, ok, err := s.get(txKey(id))
	return ok, err
}

// Header returns the header of the block at height h.
func (s *Store) Header(h uint64) (*ledger.Header, error) {
	v, ok, err := s.get(headerKey(h))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: no block at height %d", ErrNotFound, h)
	}
	var hdr ledger.Header
	if err := tx.Unmarshal(v, &hdr); err != nil {
		return nil, fmt.Errorf("store: header %d: %w", h, err)
	}
	return &hdr, nil
}

// Get implements ledger.Reader on the latest committed state.
func (s *Store) Get(key []byte) ([]byte, bool, error) { return s.get(stateKey(key)) }

// Iterate implements ledger.Reader on the latest committed state.
func (s *Store) Iterate(start, end []byte, fn func(k, v []byte) (bool, error)) error {
	return iterate(s.db, start, end, fn)
}

// Snapshot is a consistent read-only view of the state at one moment,
// unaffected by later commits. Close it when done.
type Snapshot struct {
	snap *pebble.Snapshot
}

// Snapshot returns a view of the state as of now.
func (s *Store) Snapshot() *Snapshot { return &Snapshot{snap: s.db.NewSnapshot()} }

// Close releases the snapshot.
func (s *Snapshot) Close() error { return s.snap.Close() }

// Get implements ledger.Reader.
func (s *Snapshot) Get(key []byte) ([]byte, bool, error) {
	v, closer, err := s.snap.Get(stateKey(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer closer.Close()
	return bytes.Clone(v), true, nil
}

// Iterate implements ledger.Reader.
func (s *Snapshot) Iterate(start, end []byte, fn func(k, v []byte) (bool, error)) error {
	return iterate(s.snap, start, end, fn)
}

type iterReader interface {
	NewIter(*pebble.IterOptions) (*pebble.Iterator, error)
}

func iterate(r iterReader, start, end []byte, fn func(k, v []byte) (bool, error)) error {
	opts := &pebble.IterOptions{LowerBound: stateKey(start)}
	if end != nil {
		opts.UpperBound = stateKey(end)
	} else {
		opts.UpperBound = []byte("t") // the byte after the "s" prefix
	}
	it, err := r.NewIter(opts)
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		more, err := fn(bytes.Clone(it.Key()[1:]), bytes.Clone(it.Value()))
		if err != nil || !more {
			it.Close()
			return err
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// ScanState calls fn for every state key and value in order: for fsck.
func (s *Store) ScanState(fn func(k, v []byte) error) error {
	return s.Iterate(nil, nil, func(k, v []byte) (bool, error) { return true, fn(k, v) })
}

// pebbleLogger keeps Pebble's informational chatter out of the node's
// output, sends its errors to the node's log, and panics on its fatal
// errors as Pebble requires.
type pebbleLogger struct{ log *slog.Logger }

func (pebbleLogger) Infof(string, ...any)        {}
func (l pebbleLogger) Errorf(f string, a ...any) { l.log.Error("pebble: " + fmt.Sprintf(f, a...)) }
func (pebbleLogger) Fatalf(f string, a ...any)   { panic(fmt.Sprintf(f, a...)) }
