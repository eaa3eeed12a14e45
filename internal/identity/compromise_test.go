package identity

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestCompromiseSemantics: nothing that a key revoked as compromised at T
// signed after T counts — an attestation (in the score and in attest
// check), an identity-verification anchor, a name transfer — nor anything
// signed by a key it added after T; what it signed before T still counts,
// and a revocation the thief backdated with the stolen key does not.
func TestCompromiseSemantics(t *testing.T) {
	h := newGovLedger(t)
	telcoID := keyFor(t, "telco-id", tx.Ed25519)
	tokyo, seoul := keyFor(t, "exchange-tokyo", tx.Ed25519), keyFor(t, "exchange-seoul", tx.Ed25519)
	acme, acmeNext, acmeNext2 := keyFor(t, "acme", tx.Ed25519), keyFor(t, "acme-next", tx.Ed25519), keyFor(t, "acme-next2", tx.Ed25519)
	acmeSign, planted := keyFor(t, "acme-sign", tx.P256), keyFor(t, "planted", tx.Ed25519)
	s1, s2, s3, mallory := keyFor(t, "subject-1", tx.Ed25519), keyFor(t, "subject-2", tx.Ed25519), keyFor(t, "subject-3", tx.Ed25519), keyFor(t, "mallory", tx.Ed25519)
	attester := h.create(acme, acmeNext)
	before, after, third := h.create(s1, keyFor(t, "s1n", tx.Ed25519)), h.create(s2, keyFor(t, "s2n", tx.Ed25519)), h.create(s3, keyFor(t, "s3n", tx.Ed25519))
	malloryDID := h.create(mallory, keyFor(t, "mallory-next", tx.Ed25519))
	d := ClaimDigest([]byte("salt"), []byte("claim"))
	id := ClaimDigest([]byte("salt"), []byte("passport"))
	h.run([]step{
		{desc: "accredit acme as attester", module: gov.Name, keys: keys(telcoID), typ: "set-entry", msg: &gov.SetEntry{Resource: AttestersResource, Key: attester, Value: Accredited}, code: "ok"},
		{desc: "and as verifier", module: gov.Name, keys: keys(telcoID), typ: "set-entry", msg: &gov.SetEntry{Resource: VerifiersResource, Key: attester, Value: "ACME"}, code: "ok"},
		{desc: "open names", module: gov.Name, keys: keys(tokyo, seoul), typ: "set-entry", msg: &gov.SetEntry{Resource: "names.exchange", Key: OnboardingEntry, Value: Open}, code: "ok"},
		{desc: "acme's name", keys: keys(acme), typ: "register-name", msg: &RegisterName{Name: "acme.exchange", DID: attester}, code: "ok"},
		{desc: "a signing key", keys: keys(acme), typ: "add-key", msg: &AddKey{DID: attester, Key: KeySpec{PublicKey: acmeSign.Public(), Relationships: []string{AssertionMethod}}}, code: "ok"},
		{desc: "attested before the compromise", keys: keys(acmeSign), typ: "attest", msg: &Attest{Attester: attester, Subject: before, Claim: "employment", Digest: d}, code: "ok"},
	})
	compromise := h.Next() // from here, acme's controller and signing key are the thief's
	h.run([]step{
		{desc: "the thief attests with the signing key", keys: keys(acmeSign), typ: "attest", msg: &Attest{Attester: attester, Subject: after, Claim: "employment", Digest: d}, code: "ok"},
		{desc: "and anchors a verification", keys: keys(acmeSign), typ: "anchor-verification", msg: &AnchorVerification{Verifier: attester, Digest: id}, code: "ok"},
		{desc: "plants a key with the controller", keys: keys(acme), typ: "add-key", msg: &AddKey{DID: attester, Key: KeySpec{PublicKey: planted.Public(), Relationships: []string{AssertionMethod}}}, code: "ok"},
		{desc: "attests with it", keys: keys(planted), typ: "attest", msg: &Attest{Attester: attester, Subject: third, Claim: "kyc", Digest: d}, code: "ok"},
		{desc: "gives acme's name away", keys: keys(acme, mallory), typ: "transfer-name", msg: &TransferName{Name: "acme.exchange", To: malloryDID}, code: "ok"},
		{desc: "backdates a revocation of the signing key to discount the older attestation", keys: keys(acme), typ: "revoke",
			msg: &Revoke{DID: attester, KeyID: "key-1", CompromisedAt: genesisTime.UnixMilli() + 1}, code: "ok"},
		{desc: "acme rotates with its next key", keys: keys(acmeNext), typ: "rotate", msg: &Rotate{DID: attester, Key: acmeNext.Public(), Next: Commitment(acmeNext2.Public())}, code: "ok"},
		{desc: "and revokes the stolen controller as compromised when it was", keys: keys(acmeNext), typ: "revoke", msg: &Revoke{DID: attester, KeyID: "key-0", CompromisedAt: compromise.UnixMilli()}, code: "ok"},
		{desc: "and the signing key's: the thief's backdated revocation gives way", keys: keys(acmeNext), typ: "revoke", msg: &Revoke{DID: attester, KeyID: "key-1", CompromisedAt: compromise.UnixMilli()}, code: "ok"},
		{desc: "a later time than the holder's is not a correction", keys: keys(acmeNext), typ: "revoke", msg: &Revoke{DID: attester, KeyID: "key-1"}, code: "conflict", reason: "only move it earlier"},
		{desc: "the planted key no longer attests", keys: keys(planted), typ: "attest", msg: &Attest{Attester: attester, Subject: after, Claim: "kyc", Digest: d}, code: "unauthorized", reason: "controller or an active assertionMethod key"},
	})
	kv := h.view(nil)
	score := func(did string) int {
		t.Helper()
		sc, err := ConfidenceScore(kv, kv.View(gov.Name), did)
		if err != nil {
			t.Fatal(err)
		}
		return sc.Score
	}
	if got := score(before); got != AccreditedWeight {
		t.Errorf("the attestation made before the compromise scores %d, want %d (the thief's backdated revocation counted)", got, AccreditedWeight)
	}
	if got := score(third); got != 0 {
		t.Errorf("the planted key's attestation scores %d, want 0", got)
	}
	atts, err := Attestations(kv, after)
	if err != nil || len(atts) != 1 {
		t.Fatalf("attestations %+v %v", atts, err)
	}
	if atts[0].Valid {
		t.Errorf("the thief's attestation after the compromise is valid: %+v", atts[0].Standing)
	}
	if got := score(after); got != 0 {
		t.Errorf("the thief's attestation after the compromise scores %d, want 0", got)
	}
	v, err := CheckVerification(kv, kv.View(gov.Name), hex.EncodeToString(id))
	if err != nil || v.Valid {
		t.Errorf("the anchor signed after the compromise: %v %+v", err, v)
	}
	n, err := CheckName(kv, "acme.exchange")
	if err != nil || n.Valid || n.DID != malloryDID {
		t.Errorf("the name the thief gave away: %v %+v", err, n)
	}
	st, err := KeyStanding(kv, attester, acmeSign.Public(), AssertionMethod, compromise.Add(-time.Second))
	if err != nil || !st.Acts {
		t.Errorf("the signing key before the compromise: %+v %v", st, err)
	}
}
