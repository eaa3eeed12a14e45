package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/agora-ledger/agora/internal/tx"
)

// MsgType describes one message type of a module: what its transactions
// carry in Type and Body. A module declares its types as a slice, in a
// fixed order, and decodes with DecodeMsg; clients list them, show an
// example body and build a message from JSON with the same slice.
type MsgType struct {
	// Name is the transaction's Type.
	Name string
	// Summary says in one sentence what the message does.
	Summary string
	// New returns a pointer to a zero message, which decodes from
	// canonical CBOR and from JSON.
	New func() Msg
}

// Declarer is implemented by a module that declares its message types as
// data. The CLI derives 'agora MODULE types' and 'agora MODULE send' from
// it.
type Declarer interface {
	// MsgTypes lists the module's message types, in a fixed order.
	MsgTypes() []MsgType
}

// FindMsgType returns the type called name in types.
func FindMsgType(types []MsgType, name string) (MsgType, bool) {
	for _, t := range types {
		if t.Name == name {
			return t, true
		}
	}
	return MsgType{}, false
}

// DecodeMsg strictly decodes body, canonical CBOR, as a message of the
// type called typ in types, and validates it without state: a module's
// Decode. Errors wrap ErrUnknownType, tx.ErrMalformed or ErrInvalid (from
// Validate, which returns the message with it).
func DecodeMsg(types []MsgType, typ string, body []byte) (Msg, error) {
	t, ok := FindMsgType(types, typ)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, typ)
	}
	m := t.New()
	if err := tx.Unmarshal(body, m); err != nil {
		return nil, fmt.Errorf("%s: %w", typ, err)
	}
	return m, m.Validate()
}

// MsgFromJSON builds the message of the type called typ in types from its
// JSON form, decoded strictly (unknown fields are errors) and validated,
// for clients that send any declared message.
func MsgFromJSON(types []MsgType, typ string, body []byte) (Msg, error) {
	t, ok := FindMsgType(types, typ)
	if !ok {
		names := make([]string, len(types))
		for i, t := range types {
			names[i] = t.Name
		}
		return nil, fmt.Errorf("%w %q (have %s)", ErrUnknownType, typ, strings.Join(names, ", "))
	}
	m := t.New()
	if err := decodeJSON(body, m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, typ, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", typ, err)
	}
	return m, nil
}

// decodeJSON decodes b into v, refusing unknown fields.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
