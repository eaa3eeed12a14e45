package gov

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestReads asks governance's registries what other modules ask them,
// through the read API (read.go), on the demo Community with the users
// body a member of the governments body: each answer comes from point
// reads only, so a state proof covers it.
func TestReads(t *testing.T) {
	g := Demo(pubFor)
	for i := range g.Bodies {
		if g.Bodies[i].ID == "governments" {
			g.Bodies[i].Members = append(g.Bodies[i].Members, Member{Name: "the users", Body: "users"})
		}
	}
	gj, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	st := ledgertest.NewChain(t, ledgertest.Genesis(map[string]json.RawMessage{Name: gj}), Module{}).State
	var rec ledger.Reads
	kv := ledger.NewReadView(st, Name, &rec)

	t.Run("resources", func(t *testing.T) {
		r, err := ResourceIn(kv, "names.exchange")
		if err != nil || r.Controller != "exchanges" || r.Parent != RootResource {
			t.Errorf("ResourceIn(names.exchange) = %+v, %v", r, err)
		}
		if _, err := ResourceIn(kv, "names.bank"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("ResourceIn(names.bank): %v, want not found", err)
		}
	})
	t.Run("entries", func(t *testing.T) {
		en, ok, err := EntryIn(kv, "issuers", "issuer-acme")
		if err != nil || !ok || en.Value != "accredited" || en.By != "identity" {
			t.Errorf("EntryIn(issuers, issuer-acme) = %+v, %v, %v", en, ok, err)
		}
		if en, ok, err := EntryIn(kv, "issuers", "issuer-nobody"); err != nil || ok || en != nil {
			t.Errorf("EntryIn(issuers, issuer-nobody) = %+v, %v, %v; want absent", en, ok, err)
		}
	})
	t.Run("bodies", func(t *testing.T) {
		b, err := BodyIn(kv, "exchanges")
		if err != nil || b.Kind != Direct || b.Threshold != 2 || len(b.Members) != 2 {
			t.Errorf("BodyIn(exchanges) = %+v, %v", b, err)
		}
		if _, err := BodyIn(kv, "banks"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("BodyIn(banks): %v, want not found", err)
		}
	})

	members := []struct {
		desc, body string
		key        tx.PublicKey
		name       string // "" when not a member
		err        error
	}{
		{desc: "a direct member", body: "exchanges", key: pubFor("exchange-seoul"), name: "exchange-seoul of exchanges"},
		{desc: "a member of a member body", body: "governments", key: pubFor("alice"), name: "alice of users"},
		{desc: "a member of another body", body: "exchanges", key: pubFor("alice")},
		{desc: "a director is no member of the body", body: "exchanges", key: pubFor("dir-exchanges")},
		{desc: "a body that does not exist", body: "banks", key: pubFor("alice"), err: ledger.ErrNotFound},
	}
	for _, tt := range members {
		t.Run(tt.desc, func(t *testing.T) {
			name, ok, err := IsMember(kv, tt.body, tt.key)
			if !errors.Is(err, tt.err) || ok != (tt.name != "") || name != tt.name {
				t.Errorf("IsMember(%s) = %q, %v, %v; want %q, %v", tt.body, name, ok, err, tt.name, tt.err)
			}
		})
	}
	if rec.Iterated {
		t.Error("a read iterated: no state proof could cover it")
	}
}
