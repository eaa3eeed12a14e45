package identity

import (
	"testing"

	"github.com/agora-ledger/agora/internal/tx"
)

// TestStanding walks a key through the life that gives and takes its
// standing (ledger.Stander): what lets a key past the free quota of a
// block. A governance member has standing without a DID.
func TestStanding(t *testing.T) {
	h := newGovLedger(t)
	ctrl, next, next2 := keyFor(t, "holder", tx.Ed25519), keyFor(t, "holder-next", tx.Ed25519), keyFor(t, "holder-next2", tx.Ed25519)
	phone, member := keyFor(t, "phone", tx.P256), keyFor(t, "telco-id", tx.Ed25519)
	check := func(desc string, k *tx.PrivateKey, want bool) {
		t.Helper()
		got, err := h.Exec.HasStanding(h.State, k.Public(), h.Next())
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: standing %v, want %v", desc, got, want)
		}
	}
	check("a fresh key", ctrl, false)
	check("a key member of a governance body", member, true)
	did := h.create(ctrl, next)
	check("the controller of a new DID", ctrl, true)
	check("a committed next key, not yet a key", next, false)
	check("a key not added", phone, false)
	h.must(ctrl, "add-key", &AddKey{DID: did, Key: KeySpec{PublicKey: phone.Public(), Relationships: []string{Authentication}}})
	check("an added key", phone, true)
	h.must(ctrl, "suspend", &SetStatus{DID: did, KeyID: "key-1"})
	check("a suspended key", phone, false)
	h.must(ctrl, "reinstate", &SetStatus{DID: did, KeyID: "key-1"})
	check("a reinstated key", phone, true)
	h.must(next, "rotate", &Rotate{DID: did, Key: next.Public(), Next: Commitment(next2.Public())})
	check("the rotated-in controller", next, true)
	check("the controller rotated out", ctrl, false)
	h.must(next, "revoke", &Revoke{DID: did, KeyID: "key-1", CompromisedAt: h.Next().UnixMilli() - 5000})
	check("a key revoked as compromised", phone, false)
	h.roundTrip() // the key index is rebuilt from genesis alike
}
