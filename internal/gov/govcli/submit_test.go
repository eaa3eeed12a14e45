package govcli

import (
	"slices"
	"testing"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
)

// TestSubmitCmdsDeclared: every submitting command builds a message type
// that gov declares, of the Go type the declaration makes, and every
// declared type has a command that builds it.
func TestSubmitCmdsDeclared(t *testing.T) {
	types := gov.Module{}.MsgTypes()
	built := map[string]bool{}
	for op, c := range submitCmds {
		i := slices.IndexFunc(types, func(mt ledger.MsgType) bool { return mt.Name == c.typ })
		if i < 0 {
			t.Errorf("gov %s builds %q, which gov does not declare", op, c.typ)
			continue
		}
		if m := types[i].New(); !c.is(m) {
			t.Errorf("gov %s fills another Go type than %q's %T", op, c.typ, m)
		}
		built[c.typ] = true
	}
	for _, mt := range types {
		if !built[mt.Name] {
			t.Errorf("no command builds the declared type %q", mt.Name)
		}
	}
}
