package cli

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
)

// TestPrintError: the hint an error carries is printed on a line of its
// own after the error, as 'hint: ...', however deep it is wrapped.
func TestPrintError(t *testing.T) {
	base := errors.New(`no such key "bob"`)
	for _, c := range []struct {
		desc string
		err  error
		want string
	}{
		{desc: "no hint", err: base, want: "agora x: no such key \"bob\"\n"},
		{desc: "a hint", err: ledger.WithHint(base, "'agora keys new bob' creates it"),
			want: "agora x: no such key \"bob\"\nhint: 'agora keys new bob' creates it\n"},
		{desc: "wrapped", err: fmt.Errorf("sign: %w", ledger.WithHint(base, "'agora keys list' shows your keys")),
			want: "agora x: sign: no such key \"bob\"\nhint: 'agora keys list' shows your keys\n"},
		{desc: "a usage error", err: UsageHint("'agora gov actions' lists them", "--action %s: unknown", "y"),
			want: "agora x: --action y: unknown\nhint: 'agora gov actions' lists them\n"},
	} {
		t.Run(c.desc, func(t *testing.T) {
			var b bytes.Buffer
			PrintError(&b, "x", c.err)
			if b.String() != c.want {
				t.Errorf("printed %q, want %q", b.String(), c.want)
			}
		})
	}
}
