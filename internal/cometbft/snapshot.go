package cometbft

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/agora-ledger/agora/internal/store"
)

// snapshotFormat is the version of the snapshot format that
// docs/spec/state-sync.md describes: chunks of length-prefixed key/value
// records of the store's export. OfferSnapshot refuses any other.
const snapshotFormat = 1

// maxChunk is the size a chunk may reach: well under CometBFT's 16 MB
// chunk message.
const maxChunk = 8 << 20

// errStopped ends a snapshot being written when the node stops.
var errStopped = errors.New("the node stopped")

// snapshots are the snapshots of the store that a node takes for state
// sync and serves to its peers, one directory each under dir:
// <dir>/<height>/metadata.json and its chunks <dir>/<height>/<index>.
type snapshots struct {
	dir      string
	interval uint64 // 0: take none
	keep     int
	chunk    int // maxChunk, smaller in tests
	log      *slog.Logger

	mu      sync.Mutex
	writing bool // one snapshot is written at a time
	quit    chan struct{}
	wg      sync.WaitGroup
}

// newSnapshots returns the snapshots in dir, taken every interval blocks,
// keeping the newest keep. It removes what a stopped node left half
// written.
func newSnapshots(dir string, interval uint64, keep int, log *slog.Logger) (*snapshots, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &snapshots{dir: dir, interval: interval, keep: keep, chunk: maxChunk, log: log, quit: make(chan struct{})}
	partial, err := filepath.Glob(filepath.Join(dir, "*.tmp"))
	if err != nil {
		return nil, err
	}
	for _, p := range partial {
		if err := os.RemoveAll(p); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// snapshotMeta is a snapshot's metadata.json.
type snapshotMeta struct {
	Format uint32 `json:"format"`
	Height uint64 `json:"height"`
	// Chunks are the SHA-256 hashes of the chunks, in order, hex.
	Chunks []string `json:"chunks"`
}

// abci is the snapshot as CometBFT offers it to peers: its Metadata is the
// chunks' hashes, concatenated, and its Hash their SHA-256.
func (m *snapshotMeta) abci() (*abci.Snapshot, error) {
	var hashes []byte
	for _, c := range m.Chunks {
		h, err := hex.DecodeString(c)
		if err != nil || len(h) != sha256.Size {
			return nil, fmt.Errorf("snapshot %d: corrupt chunk hash %q", m.Height, c)
		}
		hashes = append(hashes, h...)
	}
	sum := sha256.Sum256(hashes)
	return &abci.Snapshot{Height: m.Height, Format: m.Format, Chunks: uint32(len(m.Chunks)), Hash: sum[:], Metadata: hashes}, nil
}

// take snapshots st if its head h is due one: the Pebble snapshot now (so
// that it holds block h and nothing later), the chunks in the background,
// so that consensus does not wait for them. A snapshot still being
// written when the next is due makes take skip that one.
func (s *snapshots) take(st *store.Store, h uint64) {
	if s == nil || s.interval == 0 || h == 0 || h%s.interval != 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writing {
		s.log.Warn("skipped a snapshot: the previous one is still being written", "height", h)
		return
	}
	select {
	case <-s.quit:
		return
	default:
	}
	snap := st.Snapshot()
	s.writing = true
	s.wg.Go(func() {
		defer snap.Close()
		err := s.write(snap, h)
		s.mu.Lock()
		s.writing = false
		s.mu.Unlock()
		if err != nil && !errors.Is(err, errStopped) {
			s.log.Warn("could not write a snapshot", "height", h, "err", err)
		}
	})
}

// stop ends a snapshot being written and waits for it to end.
func (s *snapshots) stop() {
	if s == nil {
		return
	}
	s.mu.Lock()
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// write writes the snapshot of the store at height h into <dir>/<h>.tmp,
// then renames it <dir>/<h>, and prunes the old ones.
func (s *snapshots) write(snap *store.Snapshot, h uint64) error {
	if head, err := snap.Head(); err != nil || head != h {
		return fmt.Errorf("the store's head is %d, not %d (%v)", head, h, err)
	}
	final := filepath.Join(s.dir, strconv.FormatUint(h, 10))
	tmp := final + ".tmp"
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	meta := &snapshotMeta{Format: snapshotFormat, Height: h}
	var buf []byte
	flush := func() error {
		sum := sha256.Sum256(buf)
		meta.Chunks = append(meta.Chunks, hex.EncodeToString(sum[:]))
		err := os.WriteFile(filepath.Join(tmp, strconv.Itoa(len(meta.Chunks)-1)), buf, 0o600)
		buf = buf[:0]
		return err
	}
	err := snap.Export(func(k, v []byte) error {
		select {
		case <-s.quit:
			return errStopped
		default:
		}
		if len(buf) > 0 && len(buf)+recordSize(k, v) > s.chunk {
			if err := flush(); err != nil {
				return err
			}
		}
		buf = appendRecord(buf, k, v)
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "metadata.json"), b, 0o600); err != nil {
		return err
	}
	os.RemoveAll(final) // a snapshot of the same height, from before a restart
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	s.log.Info("took a snapshot for state sync", "height", h, "chunks", len(meta.Chunks))
	return s.prune()
}

// heights returns the heights of the complete snapshots, newest first.
func (s *snapshots) heights() ([]uint64, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var hs []uint64
	for _, e := range entries {
		if h, err := strconv.ParseUint(e.Name(), 10, 64); err == nil && e.IsDir() {
			hs = append(hs, h)
		}
	}
	slices.Sort(hs)
	slices.Reverse(hs)
	return hs, nil
}

// prune removes all but the newest s.keep snapshots.
func (s *snapshots) prune() error {
	hs, err := s.heights()
	if err != nil {
		return err
	}
	for _, h := range hs[min(s.keep, len(hs)):] {
		if err := os.RemoveAll(filepath.Join(s.dir, strconv.FormatUint(h, 10))); err != nil {
			return err
		}
	}
	return nil
}

// list returns the snapshots on disk, newest first.
func (s *snapshots) list() ([]*abci.Snapshot, error) {
	if s == nil {
		return nil, nil
	}
	hs, err := s.heights()
	if err != nil {
		return nil, err
	}
	var out []*abci.Snapshot
	for _, h := range hs {
		meta, err := s.meta(h)
		if err != nil {
			return nil, err
		}
		snap, err := meta.abci()
		if err != nil {
			return nil, err
		}
		out = append(out, snap)
	}
	return out, nil
}

func (s *snapshots) meta(h uint64) (*snapshotMeta, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, strconv.FormatUint(h, 10), "metadata.json"))
	if err != nil {
		return nil, err
	}
	var m snapshotMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", h, err)
	}
	return &m, nil
}

// load returns a chunk of the snapshot at height h, or nil if there is no
// such chunk (the snapshot was pruned meanwhile).
func (s *snapshots) load(h uint64, format, index uint32) ([]byte, error) {
	if s == nil || format != snapshotFormat {
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(s.dir, strconv.FormatUint(h, 10), strconv.FormatUint(uint64(index), 10)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// A chunk is a sequence of records, each a key and a value with their
// lengths first, as unsigned varints.

func recordSize(k, v []byte) int {
	return 2*binary.MaxVarintLen64 + len(k) + len(v)
}

func appendRecord(b, k, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(k)))
	b = append(b, k...)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// decodeChunk returns a chunk's records.
func decodeChunk(b []byte) ([]store.Pair, error) {
	var pairs []store.Pair
	for len(b) > 0 {
		var p store.Pair
		var err error
		if p.Key, b, err = field(b); err != nil {
			return nil, err
		}
		if p.Value, b, err = field(b); err != nil {
			return nil, err
		}
		pairs = append(pairs, p)
	}
	return pairs, nil
}

// field reads one length-prefixed field.
func field(b []byte) (f, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, fmt.Errorf("corrupt record")
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}
