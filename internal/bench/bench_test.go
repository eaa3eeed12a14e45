package bench

import (
	"crypto/rand"
	"testing"

	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestDIDCreate checks that one worker key can sign many inceptions: each
// is valid, controlled by that key, and derives a DID of its own.
func TestDIDCreate(t *testing.T) {
	key, err := tx.GenerateKey(tx.Ed25519, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := range uint64(100) {
		c := didCreate(i, key.Public()).(*identity.Create)
		if err := c.Validate(); err != nil {
			t.Fatalf("inception %d: %v", i, err)
		}
		if seen[c.DID()] {
			t.Fatalf("inception %d repeats %s", i, c.DID())
		}
		seen[c.DID()] = true
	}
}

func TestFindScenario(t *testing.T) {
	for _, name := range []string{"notary", "did-create", "resolve", "resolve-proof"} {
		if _, err := FindScenario(name); err != nil {
			t.Errorf("FindScenario(%q): %v", name, err)
		}
	}
	if _, err := FindScenario("nope"); err == nil {
		t.Error("FindScenario(nope) succeeded")
	}
}
