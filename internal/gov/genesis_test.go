package gov

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
)

// TestGenesisDefaults: a genesis section written before the Bylaws had
// their bounds (an `agora init --gov` file) loads, each bound derived from
// a field it has.
func TestGenesisDefaults(t *testing.T) {
	var g map[string]any
	b, err := json.Marshal(Demo(pubFor))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	bl := g["bylaws"].(map[string]any)
	for _, f := range []string{"secretariat_period", "panel_period", "stays_per_requester", "stays_per_change", "emergency_scope", "verification_period", "approve"} {
		delete(bl, f)
	}
	old, _ := json.Marshal(g)
	e, err := ledger.NewExecutor(testChain, Module{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ledgertest.StartChain(t, e, ledgertest.Genesis(map[string]json.RawMessage{Name: old}))
	if err != nil {
		t.Fatalf("an older genesis section: %v", err)
	}
	got, err := reader(c.View(Name, nil)).bylaws()
	if err != nil {
		t.Fatal(err)
	}
	want := Demo(pubFor).Bylaws
	want.SecretariatPeriod, want.PanelPeriod, want.VerificationPeriod = want.VotingPeriod, want.ReviewWindow, 2*want.EmergencyPeriod
	want.StaysPerRequester, want.StaysPerChange, want.Approve = 1, 3, want.Reject
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}
