package ledger_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
)

// TestCodesKeepTheirPlaces pins Codes: a code's place in it is its ABCI
// code, which validators of one network must agree on.
func TestCodesKeepTheirPlaces(t *testing.T) {
	want := []string{"ok", "storage", "too_large", "bad_signature", "malformed", "wrong_chain", "expired",
		"bad_sequence", "unknown_module", "unknown_type", "unauthorized", "not_found", "conflict", "gone",
		"invalid", "over_quota", "internal"}
	if got := ledger.Codes(); !slices.Equal(got, want) {
		t.Errorf("Codes() = %v\nwant %v: add new result codes before \"internal\" only", got, want)
	}
}

// TestErrorTable: every code has one row, an HTTP error status and a
// default hint; a sentinel maps back to its row's code.
func TestErrorTable(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range ledger.ErrorCodes() {
		if seen[c.Code] {
			t.Errorf("code %q has two rows", c.Code)
		}
		seen[c.Code] = true
		if c.Status < 400 || c.Status > 599 {
			t.Errorf("%s: status %d is not an error's", c.Code, c.Status)
		}
		if c.Hint == "" {
			t.Errorf("%s: no default hint", c.Code)
		}
		if c.Err != nil {
			if got := ledger.Code(fmt.Errorf("x: %w", c.Err)); got != c.Code {
				t.Errorf("Code(wrapped %v) = %q, want %q", c.Err, got, c.Code)
			}
		}
		if ledger.Sentinel(c.Code) != c.Err {
			t.Errorf("Sentinel(%q) = %v, want %v", c.Code, ledger.Sentinel(c.Code), c.Err)
		}
		if got := ledger.CodeInfo(c.Code); got.Code != c.Code || got.Status != c.Status || got.Hint != c.Hint {
			t.Errorf("CodeInfo(%q) = %+v", c.Code, got)
		}
	}
	for _, code := range ledger.Codes()[1:] {
		if !seen[code] {
			t.Errorf("result code %q has no row", code)
		}
	}
	if got := ledger.CodeInfo("no such code"); got.Code != "internal" || got.Status != 500 {
		t.Errorf("CodeInfo of an unknown code = %+v, want internal's", got)
	}
}

func TestHints(t *testing.T) {
	base := fmt.Errorf("%w: signer 0 must use sequence 3", ledger.ErrSequence)
	tests := []struct {
		name string
		err  error
		text string // err.Error()
		hint string
	}{
		{name: "no hint", err: base, text: base.Error()},
		{name: "a hint", err: ledger.WithHint(base, "sign again"), text: base.Error(), hint: "sign again"},
		{name: "wrapped", err: fmt.Errorf("couldn't submit: %w", ledger.WithHint(base, "sign again")),
			text: "couldn't submit: " + base.Error(), hint: "sign again"},
		{name: "the outermost hint wins", err: ledger.WithHint(fmt.Errorf("a: %w", ledger.WithHint(base, "inner")), "outer"),
			text: "a: " + base.Error(), hint: "outer"},
		{name: "an empty hint adds nothing", err: ledger.WithHint(base, ""), text: base.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.text {
				t.Errorf("Error() = %q, want %q", got, tt.text)
			}
			if got := ledger.HintOf(tt.err); got != tt.hint {
				t.Errorf("HintOf = %q, want %q", got, tt.hint)
			}
			if !errors.Is(tt.err, ledger.ErrSequence) {
				t.Errorf("errors.Is(%v, ErrSequence) = false", tt.err)
			}
		})
	}
	if ledger.WithHint(nil, "x") != nil {
		t.Error("WithHint(nil) is not nil")
	}
}
