package consentweb

import (
	"testing"

	"github.com/agora-ledger/agora/internal/consent"
)

// TestStatus: a contract's status in one word, from what the ledger holds
// and the newest block's time.
func TestStatus(t *testing.T) {
	const now = 10_000
	for _, c := range []struct {
		desc           string
		c              consent.Contract
		parent         *consent.Contract
		status, reason string
	}{
		{"a contract in force", consent.Contract{Expires: now + 1}, nil, "active", ""},
		{"revoked by its subject", consent.Contract{Revoked: now - 1}, nil, "revoked", "the data subject revoked it"},
		{"revoked through its parent, marked", consent.Contract{Revoked: now - 1, RevokedVia: "p"}, nil, "revoked", "the data subject revoked the contract it was derived from"},
		{"its parent revoked, the cascade not yet run", consent.Contract{Parent: "p"}, &consent.Contract{Revoked: now - 1}, "revoked", "the data subject revoked the contract it was derived from"},
		{"expired", consent.Contract{Expires: now}, nil, "expired", "its consent ran out"},
		{"a delayed transfer's child", consent.Contract{Active: now + 1}, nil, "not yet active", "the transfer that made it was delayed"},
	} {
		if s, why := status(&c.c, c.parent, now); s != c.status || why != c.reason {
			t.Errorf("%s: %q (%q), want %q (%q)", c.desc, s, why, c.status, c.reason)
		}
	}
}

// TestUseInWords: each decision the ledger logs, in words, with the DID
// that asked and the rule that decided.
func TestUseInWords(t *testing.T) {
	for _, c := range []struct {
		r             consent.Record
		decision, cls string
		rule          int
	}{
		{consent.Record{Decision: consent.ActAllow, Rule: 0}, "allowed", "", 1},
		{consent.Record{Decision: consent.ActDeny, Rule: 1}, "denied", "problem", 2},
		{consent.Record{Decision: consent.ActDeny, Rule: -1}, "denied", "problem", 0},
		{consent.Record{Decision: consent.ActModify, Method: "anonymise", Rule: 2}, "allowed only on modified data (anonymised)", "", 3},
		{consent.Record{Decision: consent.ActDelay, Rule: 3}, "delayed", "", 4},
		{consent.Record{Decision: consent.DecRefused, Rule: -1, Reason: "revoked"}, "refused", "problem", 0},
	} {
		c.r.Actor = "did:agora:abc#key-1"
		u := useInWords(c.r)
		if u.Decision != c.decision || u.Class != c.cls || u.RuleN != c.rule || u.Asker != "did:agora:abc" {
			t.Errorf("%+v: %q %q rule %d by %q", c.r, u.Decision, u.Class, u.RuleN, u.Asker)
		}
	}
}
