package identity

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestHistoryPages: a long history is served in pages of at most
// HistoryPageSize events, each read with a bounded number of point reads
// and provable on its own; following next gives every event once.
func TestHistoryPages(t *testing.T) {
	h := newLedger(t)
	k0, k1, k2 := keyFor(t, "hp0", tx.Ed25519), keyFor(t, "hp1", tx.P256), keyFor(t, "hp2", tx.Ed25519)
	did := h.create(k0, k1)
	h.must(k0, "add-key", &AddKey{DID: did, Key: KeySpec{PublicKey: k2.Public(), Relationships: []string{Authentication}}})
	for i := 0; i < HistoryPageSize; i++ {
		h.must(k0, "suspend", &SetStatus{DID: did, KeyID: "key-1"})
		h.must(k0, "reinstate", &SetStatus{DID: did, KeyID: "key-1"})
	}
	total := uint64(2 + 2*HistoryPageSize)

	var all []HistoryEntry
	pages := 0
	for from := uint64(1); from != 0; pages++ {
		var rec ledger.Reads
		page, err := History(h.view(&rec), did, from, HistoryPageSize)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Iterated || len(rec.Keys) > HistoryPageSize+1 {
			t.Errorf("page from %d: %d reads (iterated %v): want at most one per event and the state", from, len(rec.Keys), rec.Iterated)
		}
		if page.Total != total || len(page.Events) > HistoryPageSize || page.DID != did {
			t.Errorf("page from %d: total %d, %d events", from, page.Total, len(page.Events))
		}
		// The page verifies against its own reads; an altered page does not.
		vals := map[string][]byte{}
		for i, k := range rec.Keys {
			vals[string(k)] = rec.Values[i]
		}
		answer, _ := json.Marshal(page)
		if err := VerifyHistory(vals, did, from, HistoryPageSize, answer); err != nil {
			t.Fatalf("page from %d does not verify: %v", from, err)
		}
		for _, alter := range []func(p HistoryPage) HistoryPage{
			func(p HistoryPage) HistoryPage { p.Events = p.Events[1:]; return p },
			func(p HistoryPage) HistoryPage { p.Next++; return p },
			func(p HistoryPage) HistoryPage { p.Total--; return p },
			func(p HistoryPage) HistoryPage { p.DID = "did:agora:" + strings.Repeat("a", 52); return p },
		} {
			bad, _ := json.Marshal(alter(*page))
			if err := VerifyHistory(vals, did, from, HistoryPageSize, bad); !errors.Is(err, ledger.ErrInvalid) {
				t.Errorf("page from %d: an altered answer %s verifies (%v)", from, bad[:80], err)
			}
		}
		all = append(all, page.Events...)
		from = page.Next
	}
	if pages != 3 || uint64(len(all)) != total {
		t.Fatalf("%d pages, %d events, want 3 pages of %d events", pages, len(all), total)
	}
	for i, e := range all {
		if e.Version != uint64(i+1) {
			t.Fatalf("event %d has version %d", i+1, e.Version)
		}
	}
	if p, err := History(h.view(nil), did, total+1, 10); err != nil || len(p.Events) != 0 || p.Next != 0 {
		t.Errorf("a page after the last event: %+v %v", p, err)
	}
	if p, err := History(h.view(nil), did, total-1, 10); err != nil || len(p.Events) != 2 || p.Next != 0 {
		t.Errorf("the last two events: %+v %v", p, err)
	}

	for _, c := range []struct {
		desc, from, limit string
		ok                bool
	}{
		{desc: "defaults", ok: true},
		{desc: "a page", from: "101", limit: "5", ok: true},
		{desc: "the largest page", limit: "100", ok: true},
		{desc: "too large a page", limit: "101"},
		{desc: "an empty page", limit: "0"},
		{desc: "version 0", from: "0"},
		{desc: "not a number", from: "x"},
	} {
		if _, _, err := PageArgs(c.from, c.limit); (err == nil) != c.ok || (err != nil && !errors.Is(err, ledger.ErrInvalid)) {
			t.Errorf("%s: %v", c.desc, err)
		}
	}
}
