package custodyweb

import (
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/custody"
)

// TestRuleInWords: a policy rule's amounts and destination in words.
func TestRuleInWords(t *testing.T) {
	for _, c := range []struct {
		r           custody.Rule
		amounts, to string
	}{
		{custody.Rule{Destination: "*"}, "any amount", "any destination"},
		{custody.Rule{MinAmount: 1001, Destination: "allowlist"}, "an amount of 1,001 or more", "a destination on the allow-list"},
		{custody.Rule{MaxAmount: 500, Destination: "bc1q"}, "an amount up to 500", "the destination bc1q"},
		{custody.Rule{MinAmount: 10, MaxAmount: 20, Destination: "*"}, "an amount from 10 to 20", "any destination"},
	} {
		if got := ruleInWords(0, c.r); got.Amounts != c.amounts || got.To != c.to {
			t.Errorf("%+v: %q to %q, want %q to %q", c.r, got.Amounts, got.To, c.amounts, c.to)
		}
	}
	if d := ruleInWords(0, custody.Rule{DelayMS: 90_000}).Delay; d != "1 minute 30 seconds" {
		t.Errorf("a 90 s delay reads %q", d)
	}
}

// TestWhat: an audit entry's signature or key is shortened, with its
// whole value kept in the title; the rest is escaped text.
func TestWhat(t *testing.T) {
	sig := strings.Repeat("ab", 64)
	got := string(what("request 1: signature " + sig + " <b>"))
	if !strings.Contains(got, `title="`+sig+`"`) || !strings.Contains(got, "abababab…abab") || !strings.HasPrefix(got, "request 1: signature ") {
		t.Errorf("what: %s", got)
	}
	if strings.Contains(got, "<b>") {
		t.Errorf("what does not escape: %s", got)
	}
}
