// Package witness implements a C2SP tlog-witness: a service that cosigns
// a transparency log's checkpoints only after checking that each one is
// consistent with the last checkpoint it cosigned for that log, so that a
// log cannot show different histories to different clients without a
// witness noticing.
//
// # The witness
//
// A Witness is configured with the logs it follows (each an origin and the
// log's verifier keys), a Cosigner (its own Ed25519 key and a clock), and a
// State that durably keeps the size and root hash of the latest
// checkpoint it cosigned for each log (FileState keeps them in a JSON
// file). AddCheckpoint is the protocol's one operation: given the size
// the log believes the witness last saw, a consistency proof from that
// size, and a signed checkpoint, it verifies the log's signature, the
// size and the proof, records the new checkpoint, and only then returns a
// C2SP tlog-cosignature/v1 signature line.
//
// Errors tell the caller what to do, and map to the protocol's HTTP
// status codes (see StatusOf):
//
//	ErrMalformed     400  fix the request
//	ErrBadSignature  403  the checkpoint is not signed by a key the witness trusts for its origin
//	ErrUnknownLog    404  the witness does not follow this log
//	ErrConflict      409  retry from the size in ConflictError.Known (or: the log forked)
//	ErrInvalidProof  422  the consistency proof does not verify (the log may be misbehaving)
//
// # HTTP
//
// NewHandler serves POST /add-checkpoint with the tlog-witness request and
// response bodies. Submit is the log's side of that call, and
// cosig.VerifyCosigned is a client's: it accepts a checkpoint only if it
// carries the log's signature and cosignatures from a quorum of the
// witnesses the client trusts.
//
// # Running one
//
// A Home is the directory a witness keeps its name, state and key in;
// ParseLogs reads the logs it is to follow, and Serve runs it until its
// context ends. 'agora witness init|run' are these, behind flags.
package witness

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/tlog"
)

// MaxProofLines is the most consistency proof hashes a request may carry,
// as C2SP tlog-witness sets it.
const MaxProofLines = 63

// Errors AddCheckpoint returns, by what the caller should do.
var (
	// ErrMalformed: the request or the checkpoint is not well formed, or
	// its old size is larger than the checkpoint's.
	ErrMalformed = errors.New("malformed request")
	// ErrUnknownLog: the witness follows no log of this origin.
	ErrUnknownLog = errors.New("unknown log")
	// ErrBadSignature: no signature by a key the witness trusts for the
	// checkpoint's origin verifies.
	ErrBadSignature = errors.New("no valid log signature")
	// ErrConflict: the old size is not the size of the latest checkpoint
	// the witness cosigned (resubmit from ConflictError.Known), or the
	// checkpoint has that size and another root hash: the log forked.
	ErrConflict = errors.New("conflict")
	// ErrInvalidProof: the consistency proof does not prove the new
	// checkpoint extends the one the witness cosigned.
	ErrInvalidProof = errors.New("invalid consistency proof")
)

// ConflictError is the error of a request that does not start from the
// witness's latest cosigned checkpoint of the log, or that forks it. It
// wraps ErrConflict.
type ConflictError struct {
	Known  uint64 // the size of the latest checkpoint the witness cosigned
	Reason string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%v: %s (the witness has size %d)", ErrConflict, e.Reason, e.Known)
}

func (e *ConflictError) Unwrap() error { return ErrConflict }

// Log is a log a witness follows.
type Log struct {
	// Origin is the log's checkpoint origin line.
	Origin string
	// Keys are the log's signed-note verifier keys, "<name>+<hash>+<key>";
	// a checkpoint must carry a valid signature by one of them.
	Keys []string
}

// Witness cosigns the checkpoints of the logs it follows. Its methods are
// safe for concurrent use.
type Witness struct {
	cosigner *Cosigner
	logs     map[string]note.Verifiers
	state    State

	// mu makes checking a request against the state and updating the
	// state one step, so that two requests cannot roll a log back.
	mu sync.Mutex
}

// New returns a witness that cosigns with c the checkpoints of logs,
// keeping its record of them in state.
func New(c *Cosigner, logs []Log, state State) (*Witness, error) {
	w := &Witness{cosigner: c, logs: map[string]note.Verifiers{}, state: state}
	for _, l := range logs {
		if l.Origin == "" {
			return nil, errors.New("witness: a log has no origin")
		}
		if _, dup := w.logs[l.Origin]; dup {
			return nil, fmt.Errorf("witness: log %q is listed twice", l.Origin)
		}
		if len(l.Keys) == 0 {
			return nil, fmt.Errorf("witness: log %q has no keys", l.Origin)
		}
		var vs []note.Verifier
		for _, k := range l.Keys {
			v, err := tlog.NewVerifier(k)
			if err != nil {
				return nil, fmt.Errorf("witness: log %q: key %q: %w (want <name>+<hash>+<base64 key>)", l.Origin, k, err)
			}
			vs = append(vs, v)
		}
		w.logs[l.Origin] = note.VerifierList(vs...)
	}
	return w, nil
}

// VerifierKey returns the witness's cosigner verifier key.
func (w *Witness) VerifierKey() string { return w.cosigner.VerifierKey() }

// noteOrigin returns the first line of a signed note's text, without
// verifying anything.
func noteOrigin(msg []byte) (string, bool) {
	split := bytes.LastIndex(msg, []byte("\n\n"))
	if split < 0 {
		return "", false
	}
	origin, _, ok := bytes.Cut(msg[:split+1], []byte("\n"))
	return string(origin), ok && len(origin) > 0
}

// AddCheckpoint cosigns signedCheckpoint if it is signed by its log, and
// consistencyProof proves it extends the checkpoint of size oldSize, which
// must be the latest the witness cosigned for the log (0 if none). It
// records the new checkpoint durably before returning the witness's
// cosignature: one signed-note signature line, "— <name> <base64>\n",
// which the caller appends to the checkpoint.
//
// Cosigning the latest checkpoint again (old size equal to its size, empty
// proof, same root) is allowed and returns a fresh cosignature.
func (w *Witness) AddCheckpoint(oldSize uint64, consistencyProof [][]byte, signedCheckpoint []byte) (cosignature []byte, err error) {
	if len(consistencyProof) > MaxProofLines {
		return nil, fmt.Errorf("%w: %d proof hashes, at most %d", ErrMalformed, len(consistencyProof), MaxProofLines)
	}
	origin, ok := noteOrigin(signedCheckpoint)
	if !ok {
		return nil, fmt.Errorf("%w: the checkpoint is not a signed note", ErrMalformed)
	}
	keys, ok := w.logs[origin]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownLog, origin)
	}
	n, err := note.Open(signedCheckpoint, keys)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		if errors.As(err, &unverified) || errors.As(err, &invalid) {
			return nil, fmt.Errorf("%w: log %q: %v", ErrBadSignature, origin, err)
		}
		return nil, fmt.Errorf("%w: checkpoint: %v", ErrMalformed, err)
	}
	c, err := tlog.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if oldSize > c.Size {
		return nil, fmt.Errorf("%w: old size %d is larger than the checkpoint's size %d", ErrMalformed, oldSize, c.Size)
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	prev, seen, err := w.state.Latest(origin)
	if err != nil {
		return nil, fmt.Errorf("witness: read state of %q: %w", origin, err)
	}
	if oldSize != prev.Size {
		return nil, &ConflictError{Known: prev.Size, Reason: fmt.Sprintf("log %q: old size %d is not the latest cosigned size", origin, oldSize)}
	}
	if seen && c.Size == prev.Size && !bytes.Equal(c.Hash, prev.Hash) {
		return nil, &ConflictError{Known: prev.Size, Reason: fmt.Sprintf("log %q: a checkpoint of size %d with another root hash: the log forked", origin, c.Size)}
	}
	if oldSize == 0 {
		// Nothing to prove from; the tree's first checkpoint is taken on
		// the log's signature.
		if len(consistencyProof) != 0 {
			return nil, fmt.Errorf("%w: a proof from size 0 must be empty", ErrInvalidProof)
		}
		if c.Size == 0 && !bytes.Equal(c.Hash, tlog.EmptyRoot()) {
			return nil, fmt.Errorf("%w: an empty tree's root must be SHA-256 of nothing", ErrInvalidProof)
		}
	} else if err := tlog.VerifyConsistency(oldSize, c.Size, consistencyProof, prev.Hash, c.Hash); err != nil {
		return nil, fmt.Errorf("%w: log %q: %v", ErrInvalidProof, origin, err)
	}
	if !seen || c.Size != prev.Size {
		if err := w.state.Update(origin, Tree{Size: c.Size, Hash: c.Hash}); err != nil {
			return nil, fmt.Errorf("witness: record checkpoint of %q: %w", origin, err)
		}
	}
	signed, err := note.Sign(&note.Note{Text: n.Text}, w.cosigner)
	if err != nil {
		return nil, fmt.Errorf("witness: cosign: %w", err)
	}
	return signed[len(n.Text)+1:], nil
}
