package statuslist

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
)

// MinEntries is the smallest Bitstring Status List: 131,072 entries, 16 KB of one-bit
// entries (Bitstring Status List v1.0, Section 2.1 and the privacy considerations).
const MinEntries = 131072

// Bitstring is a W3C Bitstring Status List: entries of StatusSize bits, entry i in bits
// i*size .. i*size+size-1 counted from the most significant bit of the first byte.
type Bitstring struct {
	size int // bits per entry, the status entry's statusSize
	data []byte
}

// NewBitstring returns a list of max(entries, MinEntries) entries of statusSize bits
// (1 to 8), all zero.
func NewBitstring(entries, statusSize int) (*Bitstring, error) {
	if statusSize < 1 || statusSize > 8 {
		return nil, fmt.Errorf("%w: statusSize must be 1 to 8, not %d", ErrRange, statusSize)
	}
	if entries < MinEntries {
		entries = MinEntries
	}
	if entries > MaxBytes*8/statusSize {
		return nil, fmt.Errorf("%w: %d entries", ErrRange, entries)
	}
	return &Bitstring{size: statusSize, data: make([]byte, (entries*statusSize+7)/8)}, nil
}

// Len is the number of entries.
func (b *Bitstring) Len() int { return len(b.data) * 8 / b.size }

// Get returns entry i.
func (b *Bitstring) Get(i int) (byte, error) {
	if i < 0 || i >= b.Len() {
		return 0, fmt.Errorf("%w: index %d of %d entries", ErrRange, i, b.Len())
	}
	var v byte
	for k := range b.size {
		bit := i*b.size + k
		v = v<<1 | b.data[bit/8]>>(7-bit%8)&1
	}
	return v, nil
}

// Set sets entry i to v.
func (b *Bitstring) Set(i int, v byte) error {
	if i < 0 || i >= b.Len() {
		return fmt.Errorf("%w: index %d of %d entries", ErrRange, i, b.Len())
	}
	if b.size < 8 && v>>b.size != 0 {
		return fmt.Errorf("%w: status %d does not fit in %d bits", ErrRange, v, b.size)
	}
	for k := range b.size {
		bit := i*b.size + k
		mask := byte(1) << (7 - bit%8)
		if v>>(b.size-1-k)&1 == 1 {
			b.data[bit/8] |= mask
		} else {
			b.data[bit/8] &^= mask
		}
	}
	return nil
}

// Encode returns the encodedList: GZIP, then multibase base64url without padding ("u").
func (b *Bitstring) Encode() (string, error) {
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(b.data); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// DecodeBitstring decodes an encodedList whose entries are statusSize bits. It refuses
// a list of fewer than MinEntries entries (16 KB at one bit an entry, the REC's
// minimum) or whose length is not a whole number of entries.
func DecodeBitstring(encoded string, statusSize int) (*Bitstring, error) {
	if statusSize < 1 || statusSize > 8 {
		return nil, fmt.Errorf("%w: statusSize must be 1 to 8, not %d", ErrRange, statusSize)
	}
	if len(encoded) == 0 || encoded[0] != 'u' {
		return nil, fmt.Errorf("%w: encodedList is not multibase base64url (prefix 'u')", ErrMalformed)
	}
	z, err := base64.RawURLEncoding.DecodeString(encoded[1:])
	if err != nil {
		return nil, fmt.Errorf("%w: encodedList is not base64url: %v", ErrMalformed, err)
	}
	r, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, fmt.Errorf("%w: encodedList is not GZIP: %v", ErrMalformed, err)
	}
	data, err := inflate(r)
	if err != nil {
		return nil, err
	}
	if len(data)*8%statusSize != 0 {
		return nil, fmt.Errorf("%w: %d bits is not a whole number of %d-bit entries", ErrMalformed, len(data)*8, statusSize)
	}
	if n := len(data) * 8 / statusSize; n < MinEntries {
		return nil, fmt.Errorf("%w: %d entries, the minimum is %d", ErrMalformed, n, MinEntries)
	}
	return &Bitstring{size: statusSize, data: data}, nil
}
