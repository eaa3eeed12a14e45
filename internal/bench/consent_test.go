package bench

import (
	"testing"

	"github.com/agora-ledger/agora/internal/consent"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
)

// TestConsentUses applies the consent-use scenario's transactions: the
// setup (two DIDs and the contract) and every use must succeed in order,
// each logged with the decision allow.
func TestConsentUses(t *testing.T) {
	const chain = "agora-bench"
	setup, run, err := consentUses(chain, 50)
	if err != nil {
		t.Fatal(err)
	}
	applyInOrder(t, chain, []ledger.Module{identity.Module{}, consent.Module{}}, [][][]byte{setup, run}, func(block, i int, r ledger.Result) {
		if used := r.Events[len(r.Events)-1]; block == 1 && used.Attrs[3].Value != consent.ActAllow {
			t.Fatalf("use %d: decision %v", i, used.Attrs)
		}
	})
}
