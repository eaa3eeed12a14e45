package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/agora-ledger/agora/internal/ledger"
)

// ErrLost means the store lacks blocks whose signed checkpoints the node
// may have published: its head is below the node's signed head, or its
// block at that height is another one. A disk lost them (a damaged
// write-ahead log or table, a restored old copy); a node that went on
// from the store would sign different blocks at heights it has signed,
// forking its log. The store must be restored from a copy that holds the
// signed head; the record must not be deleted to get past this.
var ErrLost = errors.New("the store lost blocks this node signed")

// SignedHead is the newest block whose signed checkpoint the node may have
// published: its height and block hash.
type SignedHead struct {
	Height uint64
	Hash   [32]byte
}

// The signed-head record is a file of two 512-byte slots, each in a
// sector of its own, written in turn so that a torn write spoils only the
// slot being written; the newer valid slot is the record. A slot is
//
//	"agora signed head\n" (18) | height (8) | block hash (32) | CRC-32C of the 58 bytes before (4)
//
// and zeros to 512 bytes.
const (
	slotSize   = 512
	slotMagic  = "agora signed head\n"
	slotLength = len(slotMagic) + 8 + 32 + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func encodeSlot(h SignedHead) []byte {
	b := make([]byte, 0, slotSize)
	b = append(b, slotMagic...)
	b = binary.BigEndian.AppendUint64(b, h.Height)
	b = append(b, h.Hash[:]...)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	return b[:slotSize]
}

func decodeSlot(b []byte) (SignedHead, bool) {
	var h SignedHead
	if len(b) < slotLength || !bytes.HasPrefix(b, []byte(slotMagic)) {
		return h, false
	}
	n := slotLength - 4
	if crc32.Checksum(b[:n], castagnoli) != binary.BigEndian.Uint32(b[n:]) {
		return h, false
	}
	h.Height = binary.BigEndian.Uint64(b[len(slotMagic):])
	copy(h.Hash[:], b[len(slotMagic)+8:])
	return h, true
}

// ReadSignedHead reads the signed-head record at path; ok is false if
// there is none. A record whose slots are both damaged is an error.
func ReadSignedHead(path string) (h SignedHead, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return h, false, nil
	}
	if err != nil {
		return h, false, err
	}
	h, ok, _ = newestSlot(b)
	if !ok {
		return h, false, fmt.Errorf("the signed-head record %s is damaged (%d bytes, no valid slot)", path, len(b))
	}
	return h, true, nil
}

// newestSlot returns the newest valid slot of a record and its index.
func newestSlot(b []byte) (h SignedHead, ok bool, slot int) {
	for i := range 2 {
		if i*slotSize >= len(b) {
			break
		}
		s, valid := decodeSlot(b[i*slotSize : min(len(b), (i+1)*slotSize)])
		if valid && (!ok || s.Height > h.Height) {
			h, ok, slot = s, true, i
		}
	}
	return h, ok, slot
}

// headRecord is an open signed-head record. One writer at a time calls
// advance (the store's one committer); any number wait.
type headRecord struct {
	path string
	f    *os.File
	slot int // the slot holding the head; the writer's own
	// held is one more than the head's height (0: no head), for waiters
	// to check without the lock.
	held atomic.Uint64
	mu   sync.Mutex
	cond *sync.Cond // broadcast when the head moves or the store fails
	head SignedHead
	ok   bool
}

// advance writes h into the slot not holding the current head and syncs
// it; waiters are held up only after the sync, to see the new head.
func (r *headRecord) advance(h SignedHead) error {
	slot := 0
	if r.held.Load() > 0 {
		slot = 1 - r.slot
	}
	if _, err := r.f.WriteAt(encodeSlot(h), int64(slot*slotSize)); err != nil {
		return fmt.Errorf("record signed head %d: %w", h.Height, err)
	}
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("record signed head %d: %w", h.Height, err)
	}
	r.slot = slot
	r.mu.Lock()
	defer r.mu.Unlock()
	r.head, r.ok = h, true
	r.held.Store(h.Height + 1)
	r.cond.Broadcast()
	return nil
}

// KeepSignedHead makes the store keep its signed head in the record at
// path (created if missing), a file apart from the store's directory. It
// first checks the store against the record (see CheckSignedHead), and
// moves the record up to the store's head. From then on each Init,
// Commit and CommitCosigned writes the block's height and hash into the
// record, synced, after the block's batch and before the block shows: a
// Snapshot's head, a Block and a FindTx wait for it. So nothing read from
// the store is ahead of the record, and after a crash the record is never
// ahead of the store. Call it once, before the first commit.
func (s *Store) KeepSignedHead(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return err
	}
	r := &headRecord{path: path, f: f}
	r.cond = sync.NewCond(&r.mu)
	r.head, r.ok, r.slot = newestSlot(b)
	if r.ok {
		r.held.Store(r.head.Height + 1)
	}
	if !r.ok && len(b) > 0 {
		f.Close()
		return fmt.Errorf("the signed-head record %s is damaged (%d bytes, no valid slot)", path, len(b))
	}
	if r.ok {
		if err := s.CheckSignedHead(path, r.head); err != nil {
			f.Close()
			return err
		}
	}
	// The record catches up with the store: a home from before the
	// record starts it at the store's head, and a crash between a
	// block's batch and its record left the store one block ahead.
	if h, ok, err := s.Head(); err != nil {
		f.Close()
		return err
	} else if ok && (!r.ok || h > r.head.Height) {
		hdr, err := s.Header(h)
		if err != nil {
			f.Close()
			return err
		}
		if err := r.advance(SignedHead{Height: h, Hash: hdr.Hash()}); err != nil {
			f.Close()
			return err
		}
	}
	s.signed = r
	return nil
}

// CheckSignedHead checks that the store holds the signed head h (read
// from the record at path, which the error names): its head is at or
// above h's height, and its block at that height is h's. Otherwise it
// returns an error wrapping ErrLost.
func (s *Store) CheckSignedHead(path string, h SignedHead) error {
	head, ok, err := s.Head()
	if err != nil {
		return err
	}
	if !ok && h.Height == 0 {
		return nil // block 0 is the genesis's, the same again
	}
	if !ok || head < h.Height {
		if !ok {
			return ledger.WithHint(fmt.Errorf("%w: the store is empty, and this node signed block %d (%s)", ErrLost, h.Height, path), Recovery)
		}
		return ledger.WithHint(fmt.Errorf("%w: the store's head is block %d, and this node signed block %d (%s): blocks %d to %d are gone", ErrLost, head, h.Height, path, head+1, h.Height), Recovery)
	}
	hdr, err := s.Header(h.Height)
	if err != nil {
		return err
	}
	if got := hdr.Hash(); got != h.Hash {
		return ledger.WithHint(fmt.Errorf("%w: the store's block %d is %x, and this node signed block %x at that height (%s)", ErrLost, h.Height, got[:8], h.Hash[:8], path), Recovery)
	}
	return nil
}

// recordSigned writes the block of hdr into the signed-head record, if
// the store keeps one.
func (s *Store) recordSigned(hdr *ledger.Header) error {
	if s.signed == nil {
		return nil
	}
	return s.signed.advance(SignedHead{Height: hdr.Height, Hash: hdr.Hash()})
}

// waitSigned waits until the signed-head record holds height h, if the
// store keeps one, or the store fails.
func (s *Store) waitSigned(h uint64) error {
	r := s.signed
	if r == nil || r.held.Load() > h {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for !r.ok || r.head.Height < h {
		if err := s.failure(); err != nil {
			return err
		}
		r.cond.Wait()
	}
	return nil
}

// wake wakes the snapshots waiting for the record, after the store
// failed.
func (r *headRecord) wake() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cond.Broadcast()
}
