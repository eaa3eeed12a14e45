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
// Witness cosignatures arrive after their block is committed; each
// AddCosignatures is a small synced batch of its own.
//
// # Damage
//
// Pebble replays its write-ahead log up to the first record that fails
// its checksum and treats the rest as a torn tail: a flipped or lost byte
// in the log silently takes the store back to an earlier block, and
// nothing inside the store can tell. So a node that signs checkpoints
// keeps its signed head in a record apart from the store
// (KeepSignedHead), written after each block's batch and before any
// snapshot shows the block, and refuses a store behind it (ErrLost). A
// table that fails its checksum stops the store (ErrCorrupt) instead of
// Pebble's default, a fatal error.
//
// # Layout
//
//	"s" state-key        -> value (the ledger's key-value state)
//	"b" height (8 bytes)  -> the block's header and results (blockRecord)
//	"v" leaf index (8)    -> the signed envelope of the transaction logged at that index
//	"h" height (8 bytes)  -> canonical ledger.Header (also inside the record)
//	"c" height (8 bytes)  -> the block's signed checkpoint (a signed note)
//	"w" height (8 bytes)  -> witness cosignatures of that checkpoint: signed-note
//	                         signature lines, appended as witnesses answer, each
//	                         in its own synced batch after the block's
//	"x" tx ID (32 bytes)  -> height (8) || index (4) || leaf index (8) || canonical ledger.Result
//	"t" nibble path       -> a node of the state map (package smt)
//	"n" level (1) index (8) -> a node hash of the log (package tlog)
//	"e" leaf index (8)    -> the log entry (canonical ledger.LogEntry)
//	"m/head"              -> height (8) of the last committed block
//	"m/genesis"           -> SHA-256 of the genesis file the store began from
//	"m/format"            -> the layout's version (Format), one byte
//
// # Export and import
//
// Snapshot.Export yields every pair but the node-local ones ("c" and "w":
// NodeLocal), which are the same on every node at the same head; Import
// writes such pairs into a fresh store, for state sync.
package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/transparency-dev/merkle/compact"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// ErrNotFound means the block or transaction is not in the store.
var ErrNotFound = ledger.ErrNotFound

var (
	headKey    = []byte("m/head")
	genesisKey = []byte("m/genesis")
	formatKey  = []byte("m/format")
)

// Format is the version of the layout above. A store of another format is
// refused with ErrFormat rather than misread.
const Format = 2

// ErrFormat means the store was written in a layout this code does not
// read.
var ErrFormat = errors.New("store format")

// ErrFailed means the disk refused a write — it is full, read-only or
// failing — and the store stopped at its last committed block: every
// later write is refused with the same error. Nothing the store committed
// is lost. Make the disk writable (free space), then restart the node,
// which reopens the store at that block; 'agora fsck' checks it.
var ErrFailed = errors.New("the store stopped: the disk refused a write")

// ErrCorrupt means the store's files are damaged: a table or a closed
// write-ahead log fails its checksum. The store stops as for ErrFailed,
// and its reads of the damaged part fail; the node must not run on it.
// Restore the home's data directory from an intact copy (see Recovery).
var ErrCorrupt = errors.New("the store is damaged")

// Recovery is what to do about ErrLost and ErrCorrupt, for the messages
// that report them.
const Recovery = "the node must not go on from this store: restore the home's data directory from a copy that holds the node's signed head (a backup taken at or after it, or another replica's), and check it with 'agora fsck'; a network node can instead join again from its peers in a new home ('agora node state-sync'). Do not delete the signed-head record to start anyway: the node would sign other blocks at heights it has signed, forking its log"

// corrupted turns Pebble's corruption errors into ErrCorrupt, with
// Recovery; other errors pass unchanged.
func corrupted(err error) error {
	if err == nil || !pebble.IsCorruptionError(err) || errors.Is(err, ErrCorrupt) {
		return err
	}
	return ledger.WithHint(fmt.Errorf("%w (%s)", ErrCorrupt, firstLine(err)), Recovery)
}

// firstLine is the first line of err's text: Pebble's corruption errors
// go on with lines of detail.
func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}

// fatal is a fatal Pebble error, which pebbleLogger raises as a panic (as
// Pebble requires) and the store's writes recover as ErrFailed.
type fatal string

// Store is an open ledger store. Its methods are safe for concurrent use;
// Commit must be called by one writer at a time.
type Store struct {
	db *pebble.DB
	// cosigMu makes AddCosignatures' read and write of a height's lines
	// one step.
	cosigMu sync.Mutex
	// failed holds the ErrFailed of the first write the disk refused.
	failed atomic.Pointer[error]
	// upper caches the state map's upper nodes, which every proof reads.
	upper nodeCache
	// recent is the last committed block's header and checkpoint, which
	// every proven answer reads and which never change.
	recent atomic.Pointer[recentBlock]
	// cosigned is one more than the highest height with cosignatures
	// (0: none), so that reads for later heights need not look.
	cosigned atomic.Uint64
	// signed is the signed-head record, if the store keeps one
	// (KeepSignedHead).
	signed *headRecord
}

// recentBlock is a committed block's header and signed checkpoint.
type recentBlock struct {
	header     ledger.Header
	checkpoint []byte
}

// Open opens (creating if needed) the store in dir.
// Pebble's errors go to log; its informational messages are dropped.
func Open(dir string, log *slog.Logger) (*Store, error) {
	return OpenFS(dir, nil, log)
}

// OpenFS is Open on Pebble's file system fs (nil: the operating
// system's): the tests of the store and of its callers use it to make the
// disk refuse writes (vfs/errorfs) and to see the disk as a crash would
// leave it (vfs.MemFS.CrashClone).
func OpenFS(dir string, fs vfs.FS, log *slog.Logger) (*Store, error) {
	cache := pebble.NewCache(256 << 20) // blocks, indexes and filters of recent tables
	defer cache.Unref()                 // the DB holds its own reference
	opts := &pebble.Options{
		Logger: pebbleLogger{log},
		Cache:  cache,
		// Most point reads on the hot path miss (is this digest anchored,
		// is this transaction committed): bloom filters answer them
		// without reading data blocks.
		MemTableSize: 64 << 20,
		FS:           fs,
	}
	st := &Store{}
	// Pebble's default for a table that fails its checksum is a fatal
	// error (a panic here); the store stops instead, and the read fails
	// with Pebble's corruption error, which corrupted names.
	opts.EventListener = &pebble.EventListener{DataCorruption: func(info pebble.DataCorruptionInfo) {
		log.Error("pebble: on-disk corruption", "file", info.Path, "err", info.Details)
		st.fail(ledger.WithHint(fmt.Errorf("%w (%s: %s)", ErrCorrupt, info.Path, firstLine(info.Details)), Recovery))
	}}
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, corrupted(err))
	}
	st.db = db
	if err := st.loadCosigned(); err != nil {
		db.Close()
		return nil, err
	}
	return st, nil
}

// Close closes the store. A store that failed is left as it is (Pebble
// may be wedged by the failure): Close returns the failure, and the
// process's exit releases the files.
func (s *Store) Close() error {
	if s.signed != nil {
		s.signed.f.Close()
	}
	if err := s.failure(); err != nil {
		return err
	}
	return s.db.Close()
}

// Failed returns the ErrFailed that stopped the store, or nil.
func (s *Store) Failed() error { return s.failure() }

func (s *Store) failure() error {
	if p := s.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// guard turns a write's failure — an error of Pebble's write itself, or
// its fatal panic — into ErrFailed, and stops the store. Every write
// defers it.
func (s *Store) guard(err *error, what string) {
	r := recover()
	var cause string
	var we writeError
	switch {
	case r != nil:
		f, ok := r.(fatal)
		if !ok {
			panic(r)
		}
		cause = string(f)
	case errors.As(*err, &we):
		cause = we.error.Error()
	case errors.Is(*err, ErrCorrupt):
		s.fail(*err)
		return
	default:
		return // done, or refused before writing anything
	}
	e := fmt.Errorf("%w (%s: %s); nothing committed is lost: make the disk writable, restart the node, and 'agora fsck' checks the store", ErrFailed, what, cause)
	s.fail(e)
	*err = *s.failed.Load()
}

// fail stops the store with err, unless it stopped already, and wakes the
// snapshots waiting for the signed-head record.
func (s *Store) fail(err error) {
	s.failed.CompareAndSwap(nil, &err)
	if s.signed != nil {
		s.signed.wake()
	}
}

// writeError is the error of Pebble's write itself, as opposed to a
// refusal before anything was written.
type writeError struct{ error }

func blockKey(h uint64) []byte  { return binary.BigEndian.AppendUint64([]byte("b"), h) }
func headerKey(h uint64) []byte { return binary.BigEndian.AppendUint64([]byte("h"), h) }
func checkpointKey(h uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("c"), h)
}
func cosignatureKey(h uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("w"), h)
}
func mapNodeKey(path []byte) []byte { return append([]byte("t"), path...) }
func logNodeKey(level uint, index uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{'n', byte(level)}, index)
}
func entryKey(i uint64) []byte    { return binary.BigEndian.AppendUint64([]byte("e"), i) }
func envelopeKey(i uint64) []byte { return binary.BigEndian.AppendUint64([]byte("v"), i) }

// blockRecord is a block as stored under "b": its transactions are stored
// one by one under "v", so that one can be read without the others.
type blockRecord struct {
	Header  ledger.Header   `cbor:"1,keyasint"`
	Results []ledger.Result `cbor:"2,keyasint"`
}

func txKey(id tx.ID) []byte    { return append([]byte("x"), id[:]...) }
func stateKey(k []byte) []byte { return append([]byte("s"), k...) }

func (s *Store) get(key []byte) ([]byte, bool, error) { return getFrom(s.db, key) }

// Head returns the height of the last committed block; ok is false for a
// store that has not been initialised from a genesis. A store of another
// format is an error wrapping ErrFormat.
func (s *Store) Head() (height uint64, ok bool, err error) {
	v, ok, err := s.get(headKey)
	if err != nil || !ok {
		return 0, ok, err
	}
	f, _, err := s.get(formatKey)
	if err != nil {
		return 0, false, err
	}
	if len(f) != 1 || f[0] != Format {
		found := 1 // the first layout had no version
		if len(f) == 1 {
			found = int(f[0])
		}
		return 0, false, fmt.Errorf("%w %d, this agora reads format %d: the store was written by another version of agora", ErrFormat, found, Format)
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
// already has a head, and clears what a store without one holds.
func (s *Store) Init(genesisHash []byte, out *ledger.Outcome, checkpoint []byte) (err error) {
	if err := s.failure(); err != nil {
		return err
	}
	defer s.guard(&err, "initialise")
	if _, ok, err := s.Head(); err != nil || ok {
		if err == nil {
			err = fmt.Errorf("store: already initialised")
		}
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	// A store without a head has committed nothing; what it holds is
	// left by a restore (Import) that did not finish.
	if err := b.DeleteRange([]byte{}, []byte{0xff}, nil); err != nil {
		return err
	}
	if err := b.Set(genesisKey, genesisHash, nil); err != nil {
		return err
	}
	if err := b.Set(formatKey, []byte{Format}, nil); err != nil {
		return err
	}
	return s.commit(b, out, checkpoint)
}

// Commit stores a block: its record, state writes, the state map's and
// the log's nodes, log entries, transaction index, signed checkpoint (if
// not nil) and the new head, atomically and durably.
func (s *Store) Commit(out *ledger.Outcome, checkpoint []byte) (err error) {
	if err := s.failure(); err != nil {
		return err
	}
	defer s.guard(&err, fmt.Sprintf("commit block %d", out.Header.Height))
	b := s.db.NewBatch()
	defer b.Close()
	return s.commit(b, out, checkpoint)
}

// CommitCosigned is Commit, with lines, signed-note signature lines each
// ending in a newline, appended to the cosignatures of the checkpoint of
// the earlier block at height cosigned, in the same batch: a network
// stores the validators' signatures of a checkpoint with the block that
// carries them. The caller checks the lines first.
func (s *Store) CommitCosigned(out *ledger.Outcome, checkpoint []byte, cosigned uint64, lines []byte) (err error) {
	if len(lines) == 0 {
		return s.Commit(out, checkpoint)
	}
	if err := s.failure(); err != nil {
		return err
	}
	defer s.guard(&err, fmt.Sprintf("commit block %d", out.Header.Height))
	if lines[len(lines)-1] != '\n' || cosigned >= out.Header.Height {
		return fmt.Errorf("store: cosignatures of checkpoint %d must be whole lines of an earlier block", cosigned)
	}
	s.cosigMu.Lock()
	defer s.cosigMu.Unlock()
	if _, ok, err := getFrom(s.db, checkpointKey(cosigned)); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("%w: no checkpoint at height %d to add cosignatures to", ErrNotFound, cosigned)
		}
		return err
	}
	old, _, err := getFrom(s.db, cosignatureKey(cosigned))
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Set(cosignatureKey(cosigned), append(old, lines...), nil); err != nil {
		return err
	}
	if err := s.commit(b, out, checkpoint); err != nil {
		return err
	}
	s.noteCosigned(cosigned)
	return nil
}

func (s *Store) commit(b *pebble.Batch, out *ledger.Outcome, checkpoint []byte) error {
	enc, err := tx.Marshal(&blockRecord{Header: out.Header, Results: out.Results})
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
	if checkpoint != nil {
		if err := b.Set(checkpointKey(h), checkpoint, nil); err != nil {
			return err
		}
	}
	for _, w := range out.MapNodes {
		if w.Node == nil {
			err = b.Delete(mapNodeKey(w.Path), nil)
		} else {
			err = b.Set(mapNodeKey(w.Path), w.Node, nil)
		}
		if err != nil {
			return err
		}
	}
	for _, n := range out.LogNodes {
		if err := b.Set(logNodeKey(n.ID.Level, n.ID.Index), n.Hash, nil); err != nil {
			return err
		}
	}
	if len(out.Entries) != len(out.Txs) {
		return fmt.Errorf("store: block %d has %d transactions and %d log entries", h, len(out.Txs), len(out.Entries))
	}
	firstLeaf := out.Header.LogSize - uint64(len(out.Entries))
	for i, e := range out.Entries {
		if err := b.Set(entryKey(firstLeaf+uint64(i)), e, nil); err != nil {
			return err
		}
		if err := b.Set(envelopeKey(firstLeaf+uint64(i)), out.Txs[i], nil); err != nil {
			return err
		}
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
		loc = binary.BigEndian.AppendUint64(loc, firstLeaf+uint64(i))
		if err := b.Set(txKey(out.IDs[i]), append(loc, res...), nil); err != nil {
			return err
		}
	}
	if err := b.Set(headKey, binary.BigEndian.AppendUint64(nil, h), nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return writeError{err}
	}
	if err := s.recordSigned(&out.Header); err != nil {
		return writeError{err}
	}
	s.upper.committed(out)
	if checkpoint != nil {
		s.recent.Store(&recentBlock{header: out.Header, checkpoint: bytes.Clone(checkpoint)})
	}
	return nil
}

// loadCosigned finds the highest height with cosignatures.
func (s *Store) loadCosigned() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte("w"), UpperBound: []byte("x")})
	if err != nil {
		return err
	}
	defer it.Close()
	if it.Last() && len(it.Key()) == 9 {
		s.cosigned.Store(binary.BigEndian.Uint64(it.Key()[1:]) + 1)
	}
	return corrupted(it.Error())
}

// Block returns the record of the block at height h.
func (s *Store) Block(h uint64) (*ledger.Record, error) {
	v, err := need(s.db, blockKey(h), "no block at height %d", h)
	if err != nil {
		return nil, err
	}
	if err := s.waitSigned(h); err != nil {
		return nil, err
	}
	var br blockRecord
	if err := tx.UnmarshalStored(v, &br); err != nil {
		return nil, fmt.Errorf("store: block %d: %w", h, err)
	}
	n := uint64(len(br.Results))
	if br.Header.LogSize < n {
		return nil, fmt.Errorf("store: block %d has %d results in a log of %d", h, n, br.Header.LogSize)
	}
	first := br.Header.LogSize - n
	rec := &ledger.Record{Header: br.Header, Txs: make([][]byte, 0, n), Results: br.Results}
	err = s.scanRange(envelopeKey(first), envelopeKey(first+n), func(_, v []byte) error {
		rec.Txs = append(rec.Txs, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if uint64(len(rec.Txs)) != n {
		return nil, fmt.Errorf("store: block %d: %d of its %d transactions are stored", h, len(rec.Txs), n)
	}
	return rec, nil
}

// Envelope returns the signed envelope of the transaction logged at leaf
// index i.
func (s *Store) Envelope(i uint64) ([]byte, error) {
	return need(s.db, envelopeKey(i), "no transaction at leaf %d", i)
}

// TxLocation is where a committed transaction is: its block, its place in
// the block and in the log, and its result.
type TxLocation struct {
	Height uint64
	Index  int
	Leaf   uint64
	Result ledger.Result
}

// FindTx returns where a transaction was committed.
func (s *Store) FindTx(id tx.ID) (TxLocation, error) {
	var loc TxLocation
	v, ok, err := s.get(txKey(id))
	if err != nil {
		return loc, err
	}
	if !ok {
		return loc, fmt.Errorf("%w: no committed transaction %s", ErrNotFound, id)
	}
	if len(v) < 20 {
		return loc, fmt.Errorf("store: corrupt index entry for %s", id)
	}
	if err := tx.UnmarshalStored(v[20:], &loc.Result); err != nil {
		return loc, fmt.Errorf("store: index entry for %s: %w", id, err)
	}
	loc.Height = binary.BigEndian.Uint64(v)
	loc.Index = int(binary.BigEndian.Uint32(v[8:]))
	loc.Leaf = binary.BigEndian.Uint64(v[12:])
	return loc, s.waitSigned(loc.Height)
}

// CountTxs counts the transaction index's entries, for fsck.
func (s *Store) CountTxs() (uint64, error) { return s.count('x') }

// CountEntries counts the stored log entries, for fsck.
func (s *Store) CountEntries() (uint64, error) { return s.count('e') }

func (s *Store) count(prefix byte) (uint64, error) {
	n := uint64(0)
	err := s.scan([]byte{prefix}, func(_, _ []byte) error { n++; return nil })
	return n, err
}

// HasTx reports whether a transaction is committed.
func (s *Store) HasTx(id tx.ID) (bool, error) {
	_, ok, err := s.get(txKey(id))
	return ok, err
}

// Header returns the header of the block at height h.
func (s *Store) Header(h uint64) (*ledger.Header, error) { return getHeader(s.db, h) }

func getHeader(r reader, h uint64) (*ledger.Header, error) {
	v, err := need(r, headerKey(h), "no block at height %d", h)
	if err != nil {
		return nil, err
	}
	var hdr ledger.Header
	if err := tx.UnmarshalStored(v, &hdr); err != nil {
		return nil, fmt.Errorf("store: header %d: %w", h, err)
	}
	return &hdr, nil
}

// Checkpoint returns the signed checkpoint of the block at height h.
func (s *Store) Checkpoint(h uint64) ([]byte, error) {
	return getCheckpoint(s.db, h)
}

// Entry returns the log entry at leaf index i.
func (s *Store) Entry(i uint64) ([]byte, error) { return getEntry(s.db, i) }

// Cosignatures returns the witness cosignature lines stored for the
// checkpoint of the block at height h: signed-note signature lines, each
// ending in a newline, to append to the signed checkpoint. It returns nil
// if there are none.
func (s *Store) Cosignatures(h uint64) ([]byte, error) {
	v, _, err := getFrom(s.db, cosignatureKey(h))
	return v, err
}

// AddCosignatures appends lines, signed-note signature lines each ending in
// a newline, to the cosignatures of the checkpoint of the block at height
// h, in a batch of its own synced before it returns. The caller checks the
// lines first: the store keeps them as they are. It refuses a height
// without a stored checkpoint. It is safe for concurrent use.
func (s *Store) AddCosignatures(h uint64, lines []byte) (err error) {
	if err := s.failure(); err != nil {
		return err
	}
	defer s.guard(&err, fmt.Sprintf("add cosignatures of checkpoint %d", h))
	if len(lines) == 0 || lines[len(lines)-1] != '\n' {
		return fmt.Errorf("store: cosignatures of checkpoint %d must be whole lines", h)
	}
	s.cosigMu.Lock()
	defer s.cosigMu.Unlock()
	if _, ok, err := getFrom(s.db, checkpointKey(h)); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("%w: no checkpoint at height %d to add cosignatures to", ErrNotFound, h)
		}
		return err
	}
	old, _, err := getFrom(s.db, cosignatureKey(h))
	if err != nil {
		return err
	}
	if err := s.db.Set(cosignatureKey(h), append(old, lines...), pebble.Sync); err != nil {
		return writeError{err}
	}
	s.noteCosigned(h)
	return nil
}

// noteCosigned records that the checkpoint at height h has cosignatures.
func (s *Store) noteCosigned(h uint64) {
	for {
		top := s.cosigned.Load()
		if h+1 <= top || s.cosigned.CompareAndSwap(top, h+1) {
			return
		}
	}
}

// cachedDepth is the depth, in nibbles, to which the store caches the
// state map's nodes: the root and the 16 + 256 nodes below it, which
// every proof reads, and which every block changes.
const cachedDepth = 2

// nodeCache holds the state map's upper nodes as of one head: those a
// snapshot of that head read, patched by each later block's node writes.
// A snapshot of another head reads around it.
type nodeCache struct {
	mu     sync.RWMutex
	valid  bool
	height uint64
	nodes  map[string][]byte // nil value: no node at that path
}

// get returns the node at path as of head height h, and hit=false if the
// cache cannot say.
func (c *nodeCache) get(h uint64, path []byte) (node []byte, ok, hit bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.valid || c.height != h {
		return nil, false, false
	}
	n, hit := c.nodes[string(path)]
	return n, n != nil, hit
}

// put records the node at path as of head height h, which a snapshot of
// that head read.
func (c *nodeCache) put(h uint64, path, node []byte, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid {
		c.valid, c.height, c.nodes = true, h, map[string][]byte{}
	}
	if c.height != h {
		return
	}
	if !ok {
		node = nil
	}
	c.nodes[string(path)] = bytes.Clone(node)
}

// committed moves the cache to the block out committed: its node writes
// patch a cache of the block before; any other cache is dropped.
func (c *nodeCache) committed(out *ledger.Outcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := out.Header.Height
	if !c.valid || c.height+1 != h {
		c.valid, c.height, c.nodes = true, h, map[string][]byte{}
		return
	}
	for _, w := range out.MapNodes {
		if len(w.Path) <= cachedDepth {
			c.nodes[string(w.Path)] = bytes.Clone(w.Node)
		}
	}
	c.height = h
}

// ScanCosignatures calls fn with the cosignature lines of each height that
// has some, newest first, until fn returns false or an error.
func (s *Store) ScanCosignatures(fn func(h uint64, lines []byte) (more bool, err error)) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte("w"), UpperBound: []byte("x")})
	if err != nil {
		return err
	}
	for it.Last(); it.Valid(); it.Prev() {
		k := it.Key()
		if len(k) != 9 {
			it.Close()
			return fmt.Errorf("store: corrupt cosignature key %x", k)
		}
		more, err := fn(binary.BigEndian.Uint64(k[1:]), bytes.Clone(it.Value()))
		if err != nil || !more {
			it.Close()
			return err
		}
	}
	return corrupted(errors.Join(it.Error(), it.Close()))
}

// Get implements ledger.Reader on the latest committed state.
func (s *Store) Get(key []byte) ([]byte, bool, error) { return s.get(stateKey(key)) }

// Iterate implements ledger.Reader on the latest committed state.
func (s *Store) Iterate(start, end []byte, fn func(k, v []byte) (bool, error)) error {
	return iterate(s.db, start, end, fn)
}

// GetNode implements smt.NodeReader on the latest committed state map.
func (s *Store) GetNode(path []byte) ([]byte, bool, error) { return getFrom(s.db, mapNodeKey(path)) }

// ReadHashes implements tlog.HashReader on the latest committed log.
func (s *Store) ReadHashes(ids []compact.NodeID) ([][]byte, error) { return readHashes(s.db, ids) }

// reader is what a Store and a Snapshot both read from.
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
	NewIter(*pebble.IterOptions) (*pebble.Iterator, error)
}

// need reads a key that must exist; its absence is ErrNotFound with the
// reason what describes.
func need(r reader, key []byte, what string, args ...any) ([]byte, error) {
	v, ok, err := getFrom(r, key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, fmt.Sprintf(what, args...))
	}
	return v, nil
}

func getFrom(r reader, key []byte) ([]byte, bool, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, corrupted(err)
	}
	defer closer.Close()
	return bytes.Clone(v), true, nil
}

func readHashes(r reader, ids []compact.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		v, ok, err := getFrom(r, logNodeKey(id.Level, id.Index))
		if err != nil {
			return nil, err
		}
		if !ok || len(v) != 32 {
			return nil, fmt.Errorf("store: log node %d/%d is missing", id.Level, id.Index)
		}
		out[i] = v
	}
	return out, nil
}

func getCheckpoint(r reader, h uint64) ([]byte, error) {
	return need(r, checkpointKey(h), "no checkpoint at height %d", h)
}

func getEntry(r reader, i uint64) ([]byte, error) {
	return need(r, entryKey(i), "no log entry %d", i)
}

// Snapshot is a consistent read-only view of the state at one moment,
// unaffected by later commits. Close it when done. It is not safe for
// concurrent use.
type Snapshot struct {
	snap  *pebble.Snapshot
	st    *Store
	upper *nodeCache
	// head is the snapshot's head height, once read; ok says it was.
	head   uint64
	headOK bool
}

// Snapshot returns a view of the state as of now.
func (s *Store) Snapshot() *Snapshot {
	return &Snapshot{snap: s.db.NewSnapshot(), st: s, upper: &s.upper}
}

// Close releases the snapshot.
func (s *Snapshot) Close() error { return s.snap.Close() }

// Get implements ledger.Reader.
func (s *Snapshot) Get(key []byte) ([]byte, bool, error) { return getFrom(s.snap, stateKey(key)) }

// GetNode implements smt.NodeReader. The map's upper nodes come from the
// store's cache when it holds the snapshot's version of them.
func (s *Snapshot) GetNode(path []byte) ([]byte, bool, error) {
	if len(path) > cachedDepth {
		return getFrom(s.snap, mapNodeKey(path))
	}
	if !s.headOK {
		h, err := s.Head()
		if err != nil {
			return nil, false, err
		}
		s.head, s.headOK = h, true
	}
	if n, ok, hit := s.upper.get(s.head, path); hit {
		return n, ok, nil
	}
	n, ok, err := getFrom(s.snap, mapNodeKey(path))
	if err == nil {
		s.upper.put(s.head, path, n, ok)
	}
	return n, ok, err
}

// ReadHashes implements tlog.HashReader.
func (s *Snapshot) ReadHashes(ids []compact.NodeID) ([][]byte, error) { return readHashes(s.snap, ids) }

// Head returns the height of the last block committed when the snapshot
// was taken. If the store keeps a signed-head record, it waits until the
// record holds that block (a moment after its batch), so that nothing
// read from a snapshot is ahead of the record.
func (s *Snapshot) Head() (uint64, error) {
	v, ok, err := getFrom(s.snap, headKey)
	if err != nil {
		return 0, err
	}
	if !ok || len(v) != 8 {
		return 0, fmt.Errorf("store: no head")
	}
	h := binary.BigEndian.Uint64(v)
	// The block's batch is in; its signed head may still be on its way
	// to the record (KeepSignedHead).
	return h, s.st.waitSigned(h)
}

// Header returns the header of the block at height h. A committed block's
// header never changes, so the last one comes from memory.
func (s *Snapshot) Header(h uint64) (*ledger.Header, error) {
	if r := s.st.recent.Load(); r != nil && r.header.Height == h {
		hdr := r.header
		return &hdr, nil
	}
	return getHeader(s.snap, h)
}

// Checkpoint returns the signed checkpoint of the block at height h (the
// last one from memory: it never changes either).
func (s *Snapshot) Checkpoint(h uint64) ([]byte, error) {
	if r := s.st.recent.Load(); r != nil && r.header.Height == h {
		return bytes.Clone(r.checkpoint), nil
	}
	return getCheckpoint(s.snap, h)
}

// Cosignatures returns the witness cosignature lines of the checkpoint of
// the block at height h (see Store.Cosignatures).
func (s *Snapshot) Cosignatures(h uint64) ([]byte, error) {
	if h >= s.st.cosigned.Load() {
		return nil, nil // none at h now, so none when the snapshot was taken
	}
	v, _, err := getFrom(s.snap, cosignatureKey(h))
	return v, err
}

// Entry returns the log entry at leaf index i.
func (s *Snapshot) Entry(i uint64) ([]byte, error) { return getEntry(s.snap, i) }

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
	return corrupted(errors.Join(it.Error(), it.Close()))
}

// ScanMapNodes calls fn for every stored node of the state map, in path
// order: for fsck.
func (s *Store) ScanMapNodes(fn func(path, node []byte) error) error {
	return s.scan([]byte("t"), fn)
}

// ScanLogNodes calls fn for every stored node hash of the log: for fsck.
func (s *Store) ScanLogNodes(fn func(level uint, index uint64, hash []byte) error) error {
	return s.scan([]byte("n"), func(k, v []byte) error {
		if len(k) != 9 {
			return fmt.Errorf("store: corrupt log node key %x", k)
		}
		return fn(uint(k[0]), binary.BigEndian.Uint64(k[1:]), v)
	})
}

// scan calls fn for every key with the one-byte prefix p, with p removed.
func (s *Store) scan(p []byte, fn func(k, v []byte) error) error {
	return s.scanRange(p, []byte{p[0] + 1}, func(k, v []byte) error { return fn(k[1:], v) })
}

// scanRange calls fn for every key in [lo, hi), in order.
func (s *Store) scanRange(lo, hi []byte, fn func(k, v []byte) error) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		if err := fn(bytes.Clone(it.Key()), bytes.Clone(it.Value())); err != nil {
			it.Close()
			return err
		}
	}
	return corrupted(errors.Join(it.Error(), it.Close()))
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
func (pebbleLogger) Fatalf(f string, a ...any)   { panic(fatal(fmt.Sprintf(f, a...))) }

// Memory is what the store holds in memory now: Pebble's block cache
// (bounded at 256 MiB) and its memtables (64 MiB each, a few at most).
type Memory struct {
	BlockCache int64
	MemTables  int64
}

// Memory reports the store's memory, for soak runs that tell bounded
// caches filling from growth.
func (s *Store) Memory() Memory {
	m := s.db.Metrics()
	return Memory{BlockCache: m.BlockCache.Size, MemTables: int64(m.MemTable.Size)}
}
