package identity

import (
	"fmt"
	"testing"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestAttestationSlots: 64 throwaway DIDs fill a subject's unaccredited
// attestation slots, but not the accredited ones: an accredited attester
// is still heard.
func TestAttestationSlots(t *testing.T) {
	h := newGovLedger(t)
	telcoID := keyFor(t, "telco-id", tx.Ed25519)
	subj, acme := keyFor(t, "subject", tx.Ed25519), keyFor(t, "acme", tx.Ed25519)
	subject := h.create(subj, keyFor(t, "subject-next", tx.Ed25519))
	attester := h.create(acme, keyFor(t, "acme-next", tx.Ed25519))
	d := ClaimDigest([]byte("salt"), []byte("claim"))
	for i := range MaxAttestations + 1 {
		k := keyFor(t, fmt.Sprintf("sybil-%d", i), tx.Ed25519)
		sybil := h.create(k, keyFor(t, fmt.Sprintf("sybil-%d-next", i), tx.Ed25519))
		want := "ok"
		if i == MaxAttestations {
			want = "invalid"
		}
		if r := h.do(k, "attest", &Attest{Attester: sybil, Subject: subject, Claim: "knows", Digest: d}); r.Code != want {
			t.Fatalf("throwaway attester %d: %s %s, want %s", i, r.Code, r.Error, want)
		}
	}
	h.run([]step{
		{desc: "accredit acme", module: gov.Name, keys: keys(telcoID), typ: "set-entry", msg: &gov.SetEntry{Resource: AttestersResource, Key: attester, Value: Accredited}, code: "ok"},
		{desc: "the accredited attester still attests", keys: keys(acme), typ: "attest", msg: &Attest{Attester: attester, Subject: subject, Claim: "employment", Digest: d}, code: "ok"},
	})
	kv := h.view(nil)
	sc, err := ConfidenceScore(kv, kv.View(gov.Name), subject)
	if err != nil || sc.Score != AccreditedWeight+UnaccreditedCap {
		t.Fatalf("score %+v %v", sc, err)
	}
	h.roundTrip()
}
