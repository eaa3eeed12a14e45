package ledger_test

import (
	"errors"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

var putTypes = []ledger.MsgType{
	{Name: "put", Summary: "write a key", New: func() ledger.Msg { return &putMsg{} }},
}

// TestDecodeMsg shows that a module's declared types decode strictly,
// with the error codes every module's Decode has: unknown_type,
// malformed and invalid.
func TestDecodeMsg(t *testing.T) {
	good, err := tx.Marshal(&putMsg{Key: "k", Value: "v"})
	if err != nil {
		t.Fatal(err)
	}
	empty, err := tx.Marshal(&putMsg{Value: "v"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		desc string
		typ  string
		body []byte
		want error
	}{
		{"a declared type decodes", "put", good, nil},
		{"an undeclared type is unknown", "get", good, ledger.ErrUnknownType},
		{"bad CBOR is malformed", "put", []byte{0xff}, tx.ErrMalformed},
		{"indefinite-length CBOR is malformed", "put", append(append([]byte{0xbf}, good[1:]...), 0xff), tx.ErrMalformed},
		{"a body Validate refuses is invalid", "put", empty, ledger.ErrInvalid},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			m, err := ledger.DecodeMsg(putTypes, tc.typ, tc.body)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err == nil && m.(*putMsg).Key != "k" {
				t.Fatalf("decoded %+v", m)
			}
		})
	}
}

// TestMsgFromJSON shows that a client builds a declared message from
// JSON, strictly, and validated.
func TestMsgFromJSON(t *testing.T) {
	for _, tc := range []struct {
		desc string
		typ  string
		body string
		want error
	}{
		{"a declared type builds", "put", `{"Key":"k","Value":"v"}`, nil},
		{"an undeclared type is unknown", "get", `{"Key":"k"}`, ledger.ErrUnknownType},
		{"an unknown field is invalid", "put", `{"Key":"k","Colour":"red"}`, ledger.ErrInvalid},
		{"bad JSON is invalid", "put", `{"Key":`, ledger.ErrInvalid},
		{"a body Validate refuses is invalid", "put", `{"Value":"v"}`, ledger.ErrInvalid},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			m, err := ledger.MsgFromJSON(putTypes, tc.typ, []byte(tc.body))
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err == nil && m.(*putMsg).Key != "k" {
				t.Fatalf("built %+v", m)
			}
		})
	}
}
