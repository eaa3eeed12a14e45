// Package tx defines Agora's transaction envelope: what a signed
// transaction is on the wire, how it is signed, and the checks that need no
// state.
//
// # Wire format
//
// A transaction travels as a Signed envelope: the canonical CBOR encoding
// of a Tx, kept as bytes, and one signature per signer over
//
//	"agora/tx/v1" || 0x00 || tx-bytes
//
// The domain-separation prefix keeps a transaction signature from ever
// being valid as a signature of anything else Agora or another protocol
// signs. Keeping the Tx as bytes means the signed bytes are exactly the
// bytes carried, with nothing re-encoded. The transaction's ID is
// SHA-256(tx-bytes): it names the signed intent, not one set of
// signatures, so ECDSA re-signing cannot give one intent two IDs.
//
// # Evolution
//
// Field numbers are never reused or renumbered. New optional fields take
// new numbers and are omitted when empty, so an old transaction keeps its
// exact bytes and ID. A change that old nodes must not accept silently
// bumps Version. The byte-pinned vectors in testdata/vectors.json keep this
// promise testable; docs/spec/transactions.md is the specification.
package tx

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
)

// Version is the only envelope version this code accepts.
const Version = 1

// Limits on a transaction. They are part of the protocol: a node must
// refuse what exceeds them, whatever its configuration.
const (
	MaxSize    = 64 << 10 // bytes of a Signed envelope
	MaxSigners = 16
)

// Domain is the prefix of every transaction signature's message.
const Domain = "agora/tx/v1\x00"

var (
	// ErrMalformed means the bytes are not a well-formed transaction or
	// value: the sender must fix the input, retrying will not help.
	ErrMalformed = errors.New("malformed")
	// ErrTooLarge means a size limit was exceeded.
	ErrTooLarge = errors.New("too large")
	// ErrBadSignature means a signature does not verify.
	ErrBadSignature = errors.New("bad signature")
)

// Tx is a transaction's signed content.
type Tx struct {
	Version uint64 `cbor:"1,keyasint"`
	// ChainID names the ledger; a transaction for one chain is refused by
	// every other, so signatures cannot be replayed across chains.
	ChainID string `cbor:"2,keyasint"`
	// Module and Type select the module and the message kind.
	Module string `cbor:"3,keyasint"`
	Type   string `cbor:"4,keyasint"`
	// Body is the canonical CBOR encoding of the module's message.
	Body []byte `cbor:"5,keyasint"`
	// Signers authorise the transaction, each with the sequence number
	// its account expects next; the order of Signers is the order of the
	// signatures.
	Signers []Signer `cbor:"6,keyasint"`
	// ExpiryHeight, if not zero, is the last block height that may include
	// the transaction.
	ExpiryHeight uint64 `cbor:"7,keyasint,omitempty"`
	// ExpiryTime, if not zero, is the last block time (Unix milliseconds)
	// that may include the transaction. At least one expiry must be set.
	ExpiryTime int64 `cbor:"8,keyasint,omitempty"`
}

// Signer is one authorising key and its account's sequence number.
type Signer struct {
	Key      PublicKey `cbor:"1,keyasint"`
	Sequence uint64    `cbor:"2,keyasint"`
}

// Signed is the envelope that travels: the encoded Tx and its signatures.
type Signed struct {
	Tx   []byte   `cbor:"1,keyasint"`
	Sigs [][]byte `cbor:"2,keyasint"`
}

// ID identifies a transaction: SHA-256 of its Tx bytes.
type ID [32]byte

func (id ID) String() string { return hex.EncodeToString(id[:]) }

// MarshalText implements encoding.TextMarshaler as lower-case hex.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *ID) UnmarshalText(b []byte) error {
	p, err := ParseID(string(b))
	*id = p
	return err
}

// ParseID parses a transaction ID written as 64 hex digits.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 64 {
		return id, fmt.Errorf("%w: transaction hash must be 64 hex digits", ErrMalformed)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("%w: transaction hash: %v", ErrMalformed, err)
	}
	return id, nil
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,31}$`)
var chainRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidChainID reports whether s may name a chain.
func ValidChainID(s string) bool { return chainRE.MatchString(s) }

// Validate checks everything about t that needs no state: version, names,
// keys, signer count and uniqueness, and that an expiry is set.
func (t *Tx) Validate() error {
	if t.Version != Version {
		return fmt.Errorf("%w: envelope version %d, this node speaks %d", ErrMalformed, t.Version, Version)
	}
	if !chainRE.MatchString(t.ChainID) {
		return fmt.Errorf("%w: chain id %q", ErrMalformed, t.ChainID)
	}
	if !nameRE.MatchString(t.Module) {
		return fmt.Errorf("%w: module name %q", ErrMalformed, t.Module)
	}
	if !nameRE.MatchString(t.Type) {
		return fmt.Errorf("%w: message type %q", ErrMalformed, t.Type)
	}
	if len(t.Signers) == 0 {
		return fmt.Errorf("%w: no signers", ErrMalformed)
	}
	if len(t.Signers) > MaxSigners {
		return fmt.Errorf("%w: %d signers, at most %d", ErrTooLarge, len(t.Signers), MaxSigners)
	}
	for i, s := range t.Signers {
		if err := s.Key.Check(); err != nil {
			return fmt.Errorf("signer %d: %w", i, err)
		}
		for _, o := range t.Signers[:i] {
			if o.Key.Equal(s.Key) {
				return fmt.Errorf("%w: signer %d repeats a key", ErrMalformed, i)
			}
		}
	}
	if t.ExpiryHeight == 0 && t.ExpiryTime == 0 {
		return fmt.Errorf("%w: no expiry: set an expiry height or time", ErrMalformed)
	}
	if t.ExpiryTime < 0 {
		return fmt.Errorf("%w: negative expiry time", ErrMalformed)
	}
	return nil
}

// Encode returns the canonical encoding of t.
func (t *Tx) Encode() ([]byte, error) { return Marshal(t) }

// Sign encodes t and signs it with keys, which must match t.Signers in
// order. It is a client-side operation.
func Sign(t *Tx, keys ...*PrivateKey) (*Signed, error) {
	if len(keys) != len(t.Signers) {
		return nil, fmt.Errorf("%d keys for %d signers", len(keys), len(t.Signers))
	}
	b, err := t.Encode()
	if err != nil {
		return nil, err
	}
	s := &Signed{Tx: b}
	msg := SignedMessage(b)
	for i, k := range keys {
		if !k.Public().Equal(t.Signers[i].Key) {
			return nil, fmt.Errorf("key %d does not match signer %d", i, i)
		}
		sig, err := k.Sign(rand.Reader, msg)
		if err != nil {
			return nil, err
		}
		s.Sigs = append(s.Sigs, sig)
	}
	return s, nil
}

// SignedMessage returns the message a signer signs for tx bytes b.
func SignedMessage(b []byte) []byte {
	return append([]byte(Domain), b...)
}

// Encode returns the canonical encoding of the envelope.
func (s *Signed) Encode() ([]byte, error) { return Marshal(s) }

// ID returns the transaction's ID.
func (s *Signed) ID() ID { return sha256.Sum256(s.Tx) }

// Decode parses an envelope strictly, decodes and validates its Tx, and
// checks that there is one signature per signer. It does not verify the
// signatures: see Verify.
func Decode(b []byte) (*Signed, *Tx, error) {
	if len(b) > MaxSize {
		return nil, nil, fmt.Errorf("%w: transaction is %d bytes, at most %d", ErrTooLarge, len(b), MaxSize)
	}
	var s Signed
	if err := Unmarshal(b, &s); err != nil {
		return nil, nil, fmt.Errorf("envelope: %w", err)
	}
	var t Tx
	if err := Unmarshal(s.Tx, &t); err != nil {
		return nil, nil, fmt.Errorf("transaction: %w", err)
	}
	if err := t.Validate(); err != nil {
		return nil, nil, err
	}
	if len(s.Sigs) != len(t.Signers) {
		return nil, nil, fmt.Errorf("%w: %d signatures for %d signers", ErrMalformed, len(s.Sigs), len(t.Signers))
	}
	return &s, &t, nil
}

// Verify checks every signature of s against the signers of t, which must
// be the Tx that s carries.
func Verify(s *Signed, t *Tx) error {
	msg := SignedMessage(s.Tx)
	for i, signer := range t.Signers {
		if !signer.Key.Verify(msg, s.Sigs[i]) {
			return fmt.Errorf("%w: signer %d (%s)", ErrBadSignature, i, signer.Key.Address())
		}
	}
	return nil
}
