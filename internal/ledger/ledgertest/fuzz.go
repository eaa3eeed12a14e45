package ledgertest

import (
	"bytes"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Decoded is the check a module's decoder fuzz target makes of each
// input: it decodes body as m's message type typ and returns nil if m
// refuses it; a message it accepts must pass its static validation and be
// canonical (it re-encodes to body byte for byte), or the test fails.
func Decoded(t testing.TB, m ledger.Module, typ string, body []byte) ledger.Msg {
	t.Helper()
	msg, err := m.Decode(typ, body)
	if err != nil {
		return nil
	}
	if err := msg.Validate(); err != nil {
		t.Fatalf("decoded an invalid %s: %v", typ, err)
	}
	again, err := tx.Marshal(msg)
	if err != nil || !bytes.Equal(again, body) {
		t.Fatalf("accepted a non-canonical %s body %x (re-encodes to %x, %v)", typ, body, again, err)
	}
	return msg
}
