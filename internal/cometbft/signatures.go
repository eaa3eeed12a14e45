package cometbft

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tlog"
)

// signaturesMagic begins the one CometBFT transaction that is not an
// Agora transaction: the validators' signatures of the previous block's
// checkpoint, which a proposer puts first in its block. No Agora envelope
// begins so (an envelope is a CBOR map).
//
//	"agora/checkpoint-signatures/v1" 0x00 || height (8 bytes, big endian) || signature lines
//
// The lines are signed-note signature lines ("— <origin> <base64>\n"),
// sorted, each by a different validator's note key, of the checkpoint of
// the block at height.
const signaturesMagic = "agora/checkpoint-signatures/v1\x00"

// maxLine bounds one signature line: a vote extension longer than this is
// refused.
const maxLine = 256

// signatures are the checkpoint signatures a block carries.
type signatures struct {
	height uint64
	lines  [][]byte
}

func isSignatures(b []byte) bool { return bytes.HasPrefix(b, []byte(signaturesMagic)) }

func (s *signatures) encode() []byte {
	b := binary.BigEndian.AppendUint64([]byte(signaturesMagic), s.height)
	for _, l := range s.lines {
		b = append(b, l...)
	}
	return b
}

// joined returns the lines as one text.
func (s *signatures) joined() []byte { return bytes.Join(s.lines, nil) }

func decodeSignatures(b []byte) (*signatures, error) {
	rest, ok := bytes.CutPrefix(b, []byte(signaturesMagic))
	if !ok || len(rest) < 8 {
		return nil, fmt.Errorf("malformed checkpoint signatures")
	}
	s := &signatures{height: binary.BigEndian.Uint64(rest)}
	rest = rest[8:]
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 || i+1 > maxLine {
			return nil, fmt.Errorf("malformed checkpoint signature line")
		}
		s.lines = append(s.lines, rest[:i+1])
		rest = rest[i+1:]
	}
	if len(s.lines) == 0 {
		return nil, fmt.Errorf("checkpoint signatures without a signature")
	}
	return s, nil
}

// checkpointText is the signed-note text of the checkpoint of the block h
// heads.
func checkpointText(h *ledger.Header) []byte {
	text, err := h.Checkpoint().Marshal()
	if err != nil {
		panic(err) // a header's checkpoint always marshals
	}
	return text
}

// signLine signs the checkpoint of h with signer and returns the signature
// line alone.
func signLine(h *ledger.Header, signer note.Signer) ([]byte, error) {
	text := checkpointText(h)
	msg, err := note.Sign(&note.Note{Text: string(text)}, signer)
	if err != nil {
		return nil, err
	}
	return msg[len(text)+1:], nil
}

// lineChecker checks signature lines of one checkpoint against the note
// keys of a validator set.
type lineChecker struct {
	text      []byte
	verifiers note.Verifiers
	byKey     map[string]ledger.Validator // by "<name>+<hash>"
}

func newLineChecker(h *ledger.Header, vals []ledger.Validator) *lineChecker {
	c := &lineChecker{text: checkpointText(h), byKey: map[string]ledger.Validator{}}
	var vs []note.Verifier
	for _, v := range vals {
		if v.NoteKey == "" {
			continue
		}
		nv, err := tlog.NewVerifier(v.NoteKey)
		if err != nil || nv.Name() != ledger.Origin(h.ChainID) {
			continue // Validate refuses a malformed key; a key for another log signs nothing here
		}
		id := fmt.Sprintf("%s+%08x", nv.Name(), nv.KeyHash())
		if _, dup := c.byKey[id]; dup {
			continue
		}
		c.byKey[id] = v
		vs = append(vs, nv)
	}
	c.verifiers = note.VerifierList(vs...)
	return c
}

// check verifies one line and returns the key that made it.
func (c *lineChecker) check(line []byte) (string, error) {
	if len(line) == 0 || len(line) > maxLine || line[len(line)-1] != '\n' || bytes.Count(line, []byte("\n")) != 1 {
		return "", fmt.Errorf("not one signature line")
	}
	n, err := note.Open(append(append(slices.Clip(c.text), '\n'), line...), c.verifiers)
	if err != nil {
		return "", err
	}
	if len(n.Sigs) != 1 {
		return "", fmt.Errorf("not one validator's signature")
	}
	return fmt.Sprintf("%s+%08x", n.Sigs[0].Name, n.Sigs[0].Hash), nil
}

// checkAll verifies every line of s, each by a different validator.
func (c *lineChecker) checkAll(s *signatures) error {
	seen := map[string]bool{}
	for i, l := range s.lines {
		if i > 0 && bytes.Compare(s.lines[i-1], l) >= 0 {
			return fmt.Errorf("checkpoint signature lines are not sorted")
		}
		id, err := c.check(l)
		if err != nil {
			return fmt.Errorf("checkpoint signature %d: %w", i, err)
		}
		if seen[id] {
			return fmt.Errorf("checkpoint signature %d repeats validator key %s", i, id)
		}
		seen[id] = true
	}
	return nil
}
