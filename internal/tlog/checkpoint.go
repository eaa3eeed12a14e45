package tlog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/tx"
)

// Checkpoint is the text of a C2SP tlog-checkpoint: the log's origin, the
// tree size and root hash, and optional extension lines.
//
// Its encoding is
//
//	<origin>\n
//	<size, decimal, no leading zeroes>\n
//	<root hash, standard base64>\n
//	<extension line>\n    (zero or more)
//
// Every line is non-empty, valid UTF-8, and free of control characters.
// Extension lines are opaque to the log's clients and witnesses: a witness
// cosigns them without vouching for them, so nothing a client must trust
// belongs there without its own proof.
type Checkpoint struct {
	Origin     string
	Size       uint64
	Hash       []byte // HashSize bytes
	Extensions []string
}

// validLine reports whether s can be one line of a note text: non-empty,
// valid UTF-8, no control characters (which include the newline).
func validLine(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 {
			return false
		}
	}
	return true
}

// Marshal returns the checkpoint's note text. It refuses a checkpoint that
// ParseCheckpoint would refuse.
func (c *Checkpoint) Marshal() ([]byte, error) {
	if !validLine(c.Origin) {
		return nil, fmt.Errorf("tlog: checkpoint origin %q must be a non-empty line of printable UTF-8", c.Origin)
	}
	if len(c.Hash) != HashSize {
		return nil, fmt.Errorf("tlog: checkpoint root hash is %d bytes, want %d", len(c.Hash), HashSize)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Hash))
	for i, e := range c.Extensions {
		if !validLine(e) {
			return nil, fmt.Errorf("tlog: checkpoint extension line %d %q must be a non-empty line of printable UTF-8", i, e)
		}
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// ParseCheckpoint parses a checkpoint's note text (the note without its
// blank line and signatures). It is strict: it accepts exactly the texts
// Marshal produces, so a parsed checkpoint marshals back to the same bytes.
// It does not verify anything: use Open for a signed checkpoint.
func ParseCheckpoint(text []byte) (*Checkpoint, error) {
	c, err := parseCheckpoint(text)
	if err != nil {
		return nil, fmt.Errorf("tlog: malformed checkpoint: %w", err)
	}
	return c, nil
}

func parseCheckpoint(text []byte) (*Checkpoint, error) {
	s, ok := strings.CutSuffix(string(text), "\n")
	if !ok {
		return nil, errors.New("does not end with a newline")
	}
	lines := strings.Split(s, "\n")
	if len(lines) < 3 {
		return nil, fmt.Errorf("has %d lines, want at least 3", len(lines))
	}
	for i, l := range lines {
		if !validLine(l) {
			return nil, fmt.Errorf("line %d is empty or not printable UTF-8", i+1)
		}
	}
	size, err := parseDecimal(lines[1], 1<<64-1)
	if err != nil {
		return nil, fmt.Errorf("tree size: %w", err)
	}
	hash, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(hash) != HashSize || base64.StdEncoding.EncodeToString(hash) != lines[2] {
		return nil, fmt.Errorf("root hash must be %d bytes in standard base64", HashSize)
	}
	c := &Checkpoint{Origin: lines[0], Size: size, Hash: hash}
	if len(lines) > 3 {
		c.Extensions = lines[3:]
	}
	return c, nil
}

// Sign returns c as a signed note, signed by signer.
func Sign(c *Checkpoint, signer note.Signer) ([]byte, error) {
	text, err := c.Marshal()
	if err != nil {
		return nil, err
	}
	msg, err := note.Sign(&note.Note{Text: string(text)}, signer)
	if err != nil {
		return nil, fmt.Errorf("tlog: sign checkpoint: %w", err)
	}
	return msg, nil
}

// Open verifies that msg is a checkpoint signed by verifier and parses it.
// Agora names a log's key after the log's origin, so Open also refuses a
// checkpoint whose origin is not verifier.Name(). Signatures by other keys
// (witness cosignatures) are ignored. A signature error wraps
// *note.UnverifiedNoteError (no signature by verifier) or
// *note.InvalidSignatureError (a signature by verifier does not verify).
func Open(msg []byte, verifier note.Verifier) (*Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return nil, fmt.Errorf("tlog: open checkpoint: %w", err)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return nil, err
	}
	if c.Origin != verifier.Name() {
		return nil, fmt.Errorf("tlog: checkpoint origin %q is not the log %q", c.Origin, verifier.Name())
	}
	return c, nil
}

// GenerateKey returns a new Ed25519 signed-note key pair for the log
// named name (its checkpoint origin), reading randomness from rand
// (crypto/rand.Reader). skey, "PRIVATE+KEY+<name>+<hash>+<key>", is
// secret, and note.NewSigner makes a signer of it; vkey,
// "<name>+<hash>+<key>", is public, and note.NewVerifier makes a verifier
// of it.
func GenerateKey(rand io.Reader, name string) (skey, vkey string, err error) {
	skey, vkey, err = note.GenerateKey(rand, name)
	if err == nil {
		_, err = note.NewSigner(skey) // checks the name, which GenerateKey does not
	}
	if err != nil {
		return "", "", fmt.Errorf("tlog: generate key for %q: %w", name, err)
	}
	return skey, vkey, nil
}

// NewSigner returns a signed-note signer for the log named name with the
// Ed25519 private key key.
func NewSigner(name string, key ed25519.PrivateKey) (note.Signer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("tlog: Ed25519 private key is %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	const algEd25519 = 1
	skey := fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", name, keyHash(name, key.Public().(ed25519.PublicKey)),
		base64.StdEncoding.EncodeToString(append([]byte{algEd25519}, key.Seed()...)))
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("tlog: signer for %q: %w", name, err)
	}
	return s, nil
}

// VerifierKey returns the signed-note verifier key of the log named name
// with the Ed25519 public key key: "<name>+<hash>+<base64(0x01 || key)>",
// the form note.NewVerifier reads and clients configure.
func VerifierKey(name string, key ed25519.PublicKey) (string, error) {
	vkey, err := note.NewEd25519VerifierKey(name, key)
	if err != nil {
		return "", fmt.Errorf("tlog: verifier key for %q: %w", name, err)
	}
	return vkey, nil
}

// keyHash is the signed-note key ID of an Ed25519 key: the first four
// bytes of SHA-256(name || "\n" || 0x01 || key).
func keyHash(name string, key ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n\x01"))
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// NewVerifier returns the signed-note verifier of vkey,
// "<name>+<hash>+<base64(type || public key)>", as note.NewVerifier does,
// and refuses an Ed25519 key that is not a canonical point of large
// order (CheckVerifierKey): with a small-order key anyone can make
// signatures that verify under it.
func NewVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	if err := CheckVerifierKey(vkey); err != nil {
		return nil, err
	}
	return v, nil
}

// CheckVerifierKey checks the public key inside a signed-note verifier key
// "<name>+<hash>+<base64(type || public key)>" whose type is Ed25519
// (0x01, a log's note key, or 0x04, a tlog-cosignature/v1 witness key):
// it must be a canonically encoded point not of small order, as every
// Ed25519 key Agora accepts (tx.PublicKey.Check). Keys of other types
// (ML-DSA-44 witness keys) are left to their verifier. It does not check
// the rest of the key's syntax; note.NewVerifier and cosig.NewVerifier
// do.
func CheckVerifierKey(vkey string) error {
	_, rest, _ := strings.Cut(vkey, "+")
	_, b64, ok := strings.Cut(rest, "+")
	if !ok {
		return fmt.Errorf("tlog: verifier key %q: want <name>+<hash>+<base64 key>", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) == 0 {
		return fmt.Errorf("tlog: verifier key %q: its key is not base64", vkey)
	}
	const algEd25519, algCosignatureV1 = 0x01, 0x04
	if raw[0] != algEd25519 && raw[0] != algCosignatureV1 {
		return nil
	}
	if err := (tx.PublicKey{Alg: tx.Ed25519, Key: raw[1:]}).Check(); err != nil {
		return fmt.Errorf("tlog: verifier key %q: %w", vkey, err)
	}
	return nil
}
