package verify

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tlog"
)

// A network of validators (docs/spec/network-checkpoints.md) signs each
// block's checkpoint with every validator's note key. A checkpoint is the
// network's when validators holding more than two thirds of the voting
// power of the validator set the caller trusts have signed it.

// NetworkCheckpoint verifies a checkpoint signed by a network: signatures
// by the note keys of validators holding more than two thirds of the
// voting power of validators, the set the caller trusts (the genesis's,
// or one it learned since from a checkpoint it trusted). It returns the
// checkpoint and the validators that signed it, in the set's order.
// Signatures by other keys are ignored; a signature by a validator's key
// that does not verify is an error.
func NetworkCheckpoint(signed []byte, validators []ledger.Validator) (*Checkpoint, []ledger.Validator, error) {
	c, by, err := openByValidators(signed, validators)
	if err != nil {
		return nil, nil, err
	}
	var total, power uint64
	for _, v := range validators {
		total += v.Power
	}
	for _, v := range by {
		power += v.Power
	}
	if 3*power <= 2*total {
		return nil, nil, fmt.Errorf("%w: checkpoint signed by validators with %d of %d voting power, more than two thirds needed", ErrInvalid, power, total)
	}
	return c, by, nil
}

// Conflicting returns the validators whose note keys signed both a and b,
// two checkpoints of the same log that cannot both be true: the same size
// with different roots, or the same height with a different log or state.
// A validator named here signed two histories: proof of misbehaviour that
// needs nothing but the two signed notes and the validators' keys. It is
// an error if the checkpoints do not conflict.
func Conflicting(a, b []byte, validators []ledger.Validator) ([]ledger.Validator, error) {
	ca, byA, err := openByValidators(a, validators)
	if err != nil {
		return nil, fmt.Errorf("first checkpoint: %w", err)
	}
	cb, byB, err := openByValidators(b, validators)
	if err != nil {
		return nil, fmt.Errorf("second checkpoint: %w", err)
	}
	if ca.Origin != cb.Origin {
		return nil, fmt.Errorf("%w: the checkpoints are of different logs (%q, %q)", ErrInvalid, ca.Origin, cb.Origin)
	}
	sameSize := ca.Size == cb.Size && !bytes.Equal(ca.Hash, cb.Hash)
	sameHeight := ca.Height == cb.Height && (ca.Size != cb.Size || !bytes.Equal(ca.Hash, cb.Hash) || !bytes.Equal(ca.StateRoot, cb.StateRoot))
	if !sameSize && !sameHeight {
		return nil, fmt.Errorf("%w: the checkpoints do not conflict", ErrInvalid)
	}
	signedA := map[string]bool{}
	for _, v := range byA {
		signedA[string(v.PubKey)] = true
	}
	var out []ledger.Validator
	for _, v := range byB {
		if signedA[string(v.PubKey)] {
			out = append(out, v)
		}
	}
	return out, nil
}

// openByValidators opens a checkpoint with the validators' note keys and
// returns it with the validators whose signatures verify. The keys must
// all be named after the checkpoint's origin.
func openByValidators(signed []byte, validators []ledger.Validator) (*Checkpoint, []ledger.Validator, error) {
	var vs []note.Verifier
	byKey := map[string]int{}
	for i, v := range validators {
		if v.NoteKey == "" {
			continue
		}
		nv, err := tlog.NewVerifier(v.NoteKey)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: validator %s: note key: %v", ErrInvalid, v.Name, err)
		}
		id := fmt.Sprintf("%s+%08x", nv.Name(), nv.KeyHash())
		if _, dup := byKey[id]; dup {
			return nil, nil, fmt.Errorf("%w: validators %s and %s share a note key", ErrInvalid, validators[byKey[id]].Name, v.Name)
		}
		byKey[id] = i
		vs = append(vs, nv)
	}
	if len(vs) == 0 {
		return nil, nil, fmt.Errorf("%w: no validator has a note key", ErrInvalid)
	}
	n, err := note.Open(signed, note.VerifierList(vs...))
	var unverified *note.UnverifiedNoteError
	if errors.As(err, &unverified) {
		return nil, nil, fmt.Errorf("%w: checkpoint signed by no validator", ErrInvalid)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: checkpoint: %v", ErrInvalid, err)
	}
	c, err := tlog.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	cp, err := newCheckpoint(c, signed)
	if err != nil {
		return nil, nil, err
	}
	signedBy := map[int]bool{}
	for _, s := range n.Sigs {
		if s.Name != c.Origin {
			return nil, nil, fmt.Errorf("%w: a validator's note key is named %q, the checkpoint's log %q", ErrInvalid, s.Name, c.Origin)
		}
		signedBy[byKey[fmt.Sprintf("%s+%08x", s.Name, s.Hash)]] = true
	}
	var by []ledger.Validator
	for i, v := range validators {
		if signedBy[i] && v.NoteKey != "" {
			by = append(by, v)
		}
	}
	return cp, by, nil
}
