package tx

import (
	"bytes"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Agora's wire format is CBOR (RFC 8949) in its core deterministic encoding
// (section 4.2.1): map keys sorted, integers and lengths in their shortest
// form, no indefinite lengths, no tags, no floats in any structure we define.
// Decoding is strict: unknown fields, duplicate keys, indefinite lengths,
// tags and invalid UTF-8 are errors, and a value whose re-encoding differs
// from its input is refused as non-canonical, so every value has exactly one
// encoding and hashes of encodings identify values. A nil slice encodes as
// an empty byte string or array, never as null, so null is never valid.

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	opts := cbor.CoreDetEncOptions()
	opts.NilContainers = cbor.NilContainerAsEmpty
	encMode, err = opts.EncMode()
	if err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		MaxNestedLevels:   16,
		MaxArrayElements:  1 << 16,
		MaxMapPairs:       1 << 12,
		UTF8:              cbor.UTF8RejectInvalid,
		NaN:               cbor.NaNDecodeForbidden,
		Inf:               cbor.InfDecodeForbidden,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// Marshal returns the canonical encoding of v.
func Marshal(v any) ([]byte, error) {
	return encMode.Marshal(v)
}

// Unmarshal decodes data into v strictly and refuses any encoding that is
// not the canonical encoding of the decoded value. Errors wrap ErrMalformed.
func Unmarshal(data []byte, v any) error {
	if err := decMode.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	again, err := encMode.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !bytes.Equal(again, data) {
		return fmt.Errorf("%w: not in canonical encoding", ErrMalformed)
	}
	return nil
}

// UnmarshalStored decodes data this node encoded and stored itself: as
// strictly as Unmarshal, but without re-encoding to check canonical form,
// which halves the cost of reading large block records. Never use it on
// bytes from the network, a file or a person; fsck re-checks the store.
func UnmarshalStored(data []byte, v any) error {
	if err := decMode.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}
