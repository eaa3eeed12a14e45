package statuslist

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/fxamacker/cbor/v2"
)

// Status values of the Token Status List (Section 7.1 of the draft).
const (
	Valid     = 0x00
	Invalid   = 0x01
	Suspended = 0x02
)

// MaxBytes bounds a decompressed list: 16 MiB, 134 million one-bit entries.
const MaxBytes = 16 << 20

// Errors callers branch on.
var (
	// ErrMalformed: the encoded list, or its token, is not well formed.
	ErrMalformed = errors.New("malformed status list")
	// ErrRange: an index or a status value is out of range.
	ErrRange = errors.New("status out of range")
	// ErrToken: the Status List Token does not verify or does not apply.
	ErrToken = errors.New("status list token invalid")
)

// List is a Token Status List: Len() entries of Bits() bits each, entry i in byte
// i*bits/8 starting at bit (i*bits)%8 counted from the least significant bit.
type List struct {
	bits int
	data []byte
}

// New returns a List of at least size entries of bits bits (1, 2, 4 or 8), all Valid.
// The list is rounded up to whole bytes.
func New(bits, size int) (*List, error) {
	if !validBits(bits) {
		return nil, fmt.Errorf("%w: bits must be 1, 2, 4 or 8, not %d", ErrRange, bits)
	}
	if size < 1 || size > MaxBytes*8/bits {
		return nil, fmt.Errorf("%w: size %d", ErrRange, size)
	}
	return &List{bits: bits, data: make([]byte, (size*bits+7)/8)}, nil
}

func validBits(b int) bool { return b == 1 || b == 2 || b == 4 || b == 8 }

// Bits is the number of bits of each entry.
func (l *List) Bits() int { return l.bits }

// Len is the number of entries.
func (l *List) Len() int { return len(l.data) * 8 / l.bits }

// Get returns the status of entry i.
func (l *List) Get(i int) (byte, error) {
	if i < 0 || i >= l.Len() {
		return 0, fmt.Errorf("%w: index %d of %d entries", ErrRange, i, l.Len())
	}
	bit := i * l.bits
	mask := byte(1<<l.bits - 1)
	return l.data[bit/8] >> (bit % 8) & mask, nil
}

// Set sets the status of entry i.
func (l *List) Set(i int, status byte) error {
	if i < 0 || i >= l.Len() {
		return fmt.Errorf("%w: index %d of %d entries", ErrRange, i, l.Len())
	}
	mask := byte(1<<l.bits - 1)
	if status > mask {
		return fmt.Errorf("%w: status %d does not fit in %d bits", ErrRange, status, l.bits)
	}
	bit := i * l.bits
	b := &l.data[bit/8]
	*b = *b&^(mask<<(bit%8)) | status<<(bit%8)
	return nil
}

// Bytes returns the uncompressed byte array (Section 4.1), which the caller must not
// modify.
func (l *List) Bytes() []byte { return l.data }

// JSON is the Status List in JSON (Section 4.2), the "status_list" claim of a Status
// List Token.
type JSON struct {
	Bits int    `json:"bits"`
	Lst  string `json:"lst"`
	// AggregationURI optionally names where all of the issuer's lists are listed.
	AggregationURI string `json:"aggregation_uri,omitempty"`
}

// Encode compresses the list (DEFLATE in ZLIB, the highest level, as Section 4.1
// recommends) and returns its JSON form.
func (l *List) Encode() (JSON, error) {
	z, err := l.compressed()
	if err != nil {
		return JSON{}, err
	}
	return JSON{Bits: l.bits, Lst: base64.RawURLEncoding.EncodeToString(z)}, nil
}

func (l *List) compressed() ([]byte, error) {
	var b bytes.Buffer
	w, err := zlib.NewWriterLevel(&b, zlib.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(l.data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Decode decodes a Status List in JSON.
func Decode(j JSON) (*List, error) {
	z, err := base64.RawURLEncoding.DecodeString(j.Lst)
	if err != nil {
		return nil, fmt.Errorf("%w: lst is not base64url: %v", ErrMalformed, err)
	}
	return fromCompressed(j.Bits, z)
}

func fromCompressed(bits int, z []byte) (*List, error) {
	if !validBits(bits) {
		return nil, fmt.Errorf("%w: bits must be 1, 2, 4 or 8, not %d", ErrMalformed, bits)
	}
	r, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, fmt.Errorf("%w: lst is not ZLIB: %v", ErrMalformed, err)
	}
	data, err := inflate(r)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty list", ErrMalformed)
	}
	return &List{bits: bits, data: data}, nil
}

// inflate reads a decompressor to its end, refusing more than MaxBytes.
func inflate(r io.ReadCloser) ([]byte, error) {
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: decompressing: %v", ErrMalformed, err)
	}
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("%w: list larger than %d bytes", ErrMalformed, MaxBytes)
	}
	return data, nil
}

// cborList is the Status List in CBOR (Section 4.3).
type cborList struct {
	Bits           int    `cbor:"bits"`
	Lst            []byte `cbor:"lst"`
	AggregationURI string `cbor:"aggregation_uri,omitempty"`
}

// EncodeCBOR returns the list's CBOR form (a map of "bits" and "lst", deterministic
// encoding).
func (l *List) EncodeCBOR() ([]byte, error) {
	z, err := l.compressed()
	if err != nil {
		return nil, err
	}
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		return nil, err
	}
	return em.Marshal(cborList{Bits: l.bits, Lst: z})
}

// DecodeCBOR decodes a Status List in CBOR.
func DecodeCBOR(b []byte) (*List, error) {
	dm, err := cbor.DecOptions{DupMapKey: cbor.DupMapKeyEnforcedAPF}.DecMode()
	if err != nil {
		return nil, err
	}
	var c cborList
	if err := dm.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return fromCompressed(c.Bits, c.Lst)
}
