package identity

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestAttestations records, scores and revokes attestations, and checks
// the score formula against accreditation in the demo's registry.
func TestAttestations(t *testing.T) {
	h := newGovLedger(t)
	telcoID := keyFor(t, "telco-id", tx.Ed25519) // a member of the identity body, which controls the registry
	subj, acme, mallory := keyFor(t, "subject", tx.Ed25519), keyFor(t, "acme", tx.Ed25519), keyFor(t, "mallory", tx.Ed25519)
	acmeSign := keyFor(t, "acme-sign", tx.P256)
	subject := h.create(subj, keyFor(t, "subject-next", tx.Ed25519))
	attester := h.create(acme, keyFor(t, "acme-next", tx.Ed25519))
	h.must(acme, "add-key", &AddKey{DID: attester, Key: KeySpec{PublicKey: acmeSign.Public(), Relationships: []string{AssertionMethod}}})
	var friends []string
	var friendKeys []*tx.PrivateKey
	for i := range 6 {
		k := keyFor(t, fmt.Sprintf("friend-%d", i), tx.Ed25519)
		friendKeys = append(friendKeys, k)
		friends = append(friends, h.create(k, keyFor(t, fmt.Sprintf("friend-%d-next", i), tx.Ed25519)))
	}
	salt := []byte("0123456789abcdef0123456789abcdef")
	digest := ClaimDigest(salt, []byte("employed by ACME since 2019"))
	score := func(want int) {
		t.Helper()
		var rec ledger.Reads
		kv := h.view(&rec)
		sc, err := ConfidenceScore(kv, kv.View(gov.Name), subject)
		if err != nil {
			t.Fatal(err)
		}
		if sc.Score != want {
			t.Errorf("score %d, want %d: %+v", sc.Score, want, sc.Attesters)
		}
		if rec.Iterated {
			t.Error("the score iterated a range: it cannot be proven")
		}
	}
	score(0)
	attest := &Attest{Attester: attester, Subject: subject, Claim: "employment", Digest: digest}
	h.run([]step{
		{desc: "an attestation not signed by the attester", keys: keys(mallory), typ: "attest", msg: attest, code: "unauthorized", reason: "must sign"},
		{desc: "about an unknown subject", keys: keys(acme), typ: "attest",
			msg: &Attest{Attester: attester, Subject: Prefix + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Claim: "employment", Digest: digest}, code: "not_found", reason: "the subject"},
		{desc: "signed with the attester's assertionMethod key", keys: keys(acmeSign), typ: "attest", msg: attest, code: "ok"},
		{desc: "the same claim again", keys: keys(acme), typ: "attest", msg: attest, code: "conflict", reason: "revoke it first"},
		{desc: "another claim by the controller", keys: keys(acme), typ: "attest",
			msg: &Attest{Attester: attester, Subject: subject, Claim: "kyc.address", Digest: digest}, code: "ok"},
	})
	atts, err := Attestations(h.view(nil), subject)
	if err != nil || len(atts) != 2 || atts[0].Claim != "employment" || atts[0].KeyID != "key-1" || atts[1].KeyID != "key-0" ||
		!bytes.Equal(atts[0].Digest, digest) {
		t.Fatalf("attestations %+v, %v", atts, err)
	}
	score(UnaccreditedWeight) // one attester, two claims: counted once
	h.run([]step{{desc: "accredit acme", module: gov.Name, keys: keys(telcoID), typ: "set-entry",
		msg: &gov.SetEntry{Resource: AttestersResource, Key: attester, Value: Accredited}, code: "ok"}})
	score(AccreditedWeight)
	for i, k := range friendKeys {
		h.must(k, "attest", &Attest{Attester: friends[i], Subject: subject, Claim: "knows", Digest: digest})
	}
	score(AccreditedWeight + UnaccreditedCap) // six unaccredited friends reach the cap at four
	h.run([]step{
		{desc: "a stranger revokes", keys: keys(mallory), typ: "revoke-attestation",
			msg: &RevokeAttestation{Attester: attester, Subject: subject, Claim: "employment"}, code: "unauthorized", reason: "must sign a revocation"},
		{desc: "revoke what was never attested", keys: keys(acme), typ: "revoke-attestation",
			msg: &RevokeAttestation{Attester: attester, Subject: subject, Claim: "degree"}, code: "not_found", reason: "no attestation"},
		{desc: "the attester revokes a claim", keys: keys(acmeSign), typ: "revoke-attestation",
			msg: &RevokeAttestation{Attester: attester, Subject: subject, Claim: "kyc.address"}, code: "ok"},
		{desc: "the subject revokes an unwanted attestation", keys: keys(subj), typ: "revoke-attestation",
			msg: &RevokeAttestation{Attester: friends[0], Subject: subject, Claim: "knows"}, code: "ok"},
		{desc: "a friend deactivates", keys: keys(friendKeys[1]), typ: "deactivate", msg: &Deactivate{DID: friends[1]}, code: "ok"},
		{desc: "the deactivation completes", keys: keys(mallory), typ: "complete-change", msg: &ChangeStep{DID: friends[1], complete: true}, code: "ok"},
	})
	score(AccreditedWeight + 4*UnaccreditedWeight) // four live friends left
	h.must(friendKeys[2], "deactivate", &Deactivate{DID: friends[2]})
	h.must(mallory, "complete-change", &ChangeStep{DID: friends[2], complete: true})
	score(AccreditedWeight + 3*UnaccreditedWeight) // deactivated attesters count for nothing
	h.roundTrip()
}

// mustIn is must for a message of module.
func (h *ledgerH) mustIn(module string, key *tx.PrivateKey, typ string, msg any) {
	h.T.Helper()
	if r := h.Do(module, keys(key), typ, msg); !r.OK() {
		h.T.Fatalf("%s: %s: %s", typ, r.Code, r.Error)
	}
}

// TestVerification anchors an identity verification and checks it as a
// visited operator would.
func TestVerification(t *testing.T) {
	h := newGovLedger(t)
	telcoID := keyFor(t, "telco-id", tx.Ed25519)
	home, other := keyFor(t, "home-operator", tx.Ed25519), keyFor(t, "other-verifier", tx.Ed25519)
	homeDID := h.create(home, keyFor(t, "home-next", tx.Ed25519))
	otherDID := h.create(other, keyFor(t, "other-next", tx.Ed25519))
	file := []byte("passport scan, selfie, proof of address")
	salt := []byte("a secret salt of the holder's")
	digest := ClaimDigest(salt, file)
	anchor := &AnchorVerification{Verifier: homeDID, Digest: digest}
	accredit := func(did, org string) step {
		return step{desc: "accredit " + org, module: gov.Name, keys: keys(telcoID), typ: "set-entry",
			msg: &gov.SetEntry{Resource: VerifiersResource, Key: did, Value: org}, code: "ok"}
	}
	h.run([]step{
		{desc: "a verifier not in the registry", keys: keys(home), typ: "anchor-verification", msg: anchor, code: "unauthorized", reason: "not an accredited verifier"},
		accredit(homeDID, "Tokyo Telco Identity"),
		accredit(otherDID, "Seoul Bank KYC"),
		{desc: "not signed by the verifier", keys: keys(other), typ: "anchor-verification", msg: anchor, code: "unauthorized", reason: "must sign"},
		{desc: "the home operator anchors", keys: keys(home), typ: "anchor-verification", msg: anchor, code: "ok"},
		{desc: "anchored twice", keys: keys(other), typ: "anchor-verification", msg: &AnchorVerification{Verifier: otherDID, Digest: digest}, code: "conflict", reason: "already anchored"},
		{desc: "another verifier revokes it", keys: keys(other), typ: "revoke-verification", msg: &RevokeVerification{Verifier: otherDID, Digest: digest}, code: "unauthorized", reason: "only it may revoke"},
	})
	check := func(digest []byte) (*VerificationStatus, error) {
		var rec ledger.Reads
		kv := h.view(&rec)
		v, err := CheckVerification(kv, kv.View(gov.Name), hex.EncodeToString(digest))
		if rec.Iterated {
			t.Error("the check iterated a range")
		}
		return v, err
	}
	// The visited operator holds the file and salt.
	v, err := check(ClaimDigest(salt, file))
	if err != nil || !v.Valid || v.Organisation != "Tokyo Telco Identity" || v.Verifier != homeDID {
		t.Fatalf("check = %+v, %v", v, err)
	}
	if _, err := check(ClaimDigest([]byte("a guessed salt"), file)); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("a wrong salt: %v, want not found", err)
	}
	if _, err := CheckVerification(h.view(nil), h.view(nil).View(gov.Name), "ABC"); !errors.Is(err, ledger.ErrInvalid) {
		t.Errorf("a malformed digest: %v", err)
	}
	// The registry withdraws the accreditation: the anchor stands but is
	// no longer valid.
	h.mustIn(gov.Name, telcoID, "set-entry", &gov.SetEntry{Resource: VerifiersResource, Key: homeDID, Delete: true})
	if v, err := check(digest); err != nil || v.Valid || v.Accredited || v.Organisation != "Tokyo Telco Identity" {
		t.Errorf("after the accreditation is withdrawn: %+v, %v", v, err)
	}
	h.run([]step{
		{desc: "the verifier revokes", keys: keys(home), typ: "revoke-verification", msg: &RevokeVerification{Verifier: homeDID, Digest: digest}, code: "ok"},
		{desc: "revoked again", keys: keys(home), typ: "revoke-verification", msg: &RevokeVerification{Verifier: homeDID, Digest: digest}, code: "not_found", reason: "no verification"},
	})
	if _, err := check(digest); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("a revoked anchor: %v", err)
	}
	h.must(other, "anchor-verification", &AnchorVerification{Verifier: otherDID, Digest: digest})
	h.roundTrip()
}
