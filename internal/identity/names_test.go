package identity

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

func keys(k ...*tx.PrivateKey) []*tx.PrivateKey { return k }

// TestNames registers, transfers and releases names in the demo
// Community's namespace names.exchange, under each onboarding policy,
// and checks every refusal leaves the state as it was.
func TestNames(t *testing.T) {
	h := newGovLedger(t)
	alice, bob, carol, mallory := keyFor(t, "alice-did", tx.Ed25519), keyFor(t, "bob-did", tx.P256), keyFor(t, "carol-did", tx.Ed25519), keyFor(t, "mallory", tx.Ed25519)
	tokyo, seoul, zurich := keyFor(t, "exchange-tokyo", tx.Ed25519), keyFor(t, "exchange-seoul", tx.Ed25519), keyFor(t, "custodian-zurich", tx.Ed25519)
	aliceDID := h.create(alice, keyFor(t, "alice-next", tx.Ed25519))
	bobDID := h.create(bob, keyFor(t, "bob-next", tx.Ed25519))
	carolDID := h.create(carol, keyFor(t, "carol-next", tx.Ed25519))
	policy := func(v string) step {
		return step{desc: "onboarding " + v, module: gov.Name, keys: keys(tokyo, seoul), typ: "set-entry",
			msg: &gov.SetEntry{Resource: "names.exchange", Key: OnboardingEntry, Value: v}, code: "ok"}
	}
	h.run([]step{
		{desc: "no co-signature in a namespace without a policy (member-assisted)", keys: keys(alice), typ: "register-name",
			msg: &RegisterName{Name: "tokyo.exchange", DID: aliceDID}, code: "unauthorized", reason: "member-assisted: a member of exchanges must co-sign"},
		{desc: "a co-signer who is not a member of the namespace's controller", keys: keys(alice, zurich), typ: "register-name",
			msg: &RegisterName{Name: "tokyo.exchange", DID: aliceDID}, code: "unauthorized", reason: "member-assisted"},
		{desc: "a member co-signs, but not the DID's controller", keys: keys(mallory, tokyo), typ: "register-name",
			msg: &RegisterName{Name: "tokyo.exchange", DID: aliceDID}, code: "unauthorized", reason: "controller of " + aliceDID},
		{desc: "an unknown DID", keys: keys(mallory, tokyo), typ: "register-name",
			msg: &RegisterName{Name: "tokyo.exchange", DID: Prefix + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, code: "not_found", reason: "does not exist"},
		{desc: "a namespace governance never delegated", keys: keys(alice, tokyo), typ: "register-name",
			msg: &RegisterName{Name: "tokyo.bank", DID: aliceDID}, code: "not_found", reason: "no namespace serves tokyo.bank"},
		{desc: "a member-assisted registration", keys: keys(alice, tokyo), typ: "register-name",
			msg: &RegisterName{Name: "tokyo.exchange", DID: aliceDID}, code: "ok"},
		{desc: "squatting a registered name", keys: keys(bob, seoul), typ: "register-name",
			msg: &RegisterName{Name: "tokyo.exchange", DID: bobDID}, code: "conflict", reason: "already registered to " + aliceDID},
		{desc: "registering it again", keys: keys(alice, tokyo), typ: "register-name",
			msg: &RegisterName{Name: "tokyo.exchange", DID: aliceDID}, code: "conflict", reason: "already registered"},
		policy("open"),
		{desc: "an open registration by the controller alone", keys: keys(bob), typ: "register-name",
			msg: &RegisterName{Name: "seoul.exchange", DID: bobDID}, code: "ok"},
		{desc: "an open registration for someone else's DID", keys: keys(mallory), typ: "register-name",
			msg: &RegisterName{Name: "mallory.exchange", DID: bobDID}, code: "unauthorized", reason: "controller of"},
		policy("closed"),
		{desc: "a policy the ledger does not know", keys: keys(carol, tokyo), typ: "register-name",
			msg: &RegisterName{Name: "osaka.exchange", DID: carolDID}, code: "invalid", reason: `onboarding policy "closed"`},
		policy("member-assisted"),
		{desc: "a transfer the new holder does not sign", keys: keys(alice, tokyo), typ: "transfer-name",
			msg: &TransferName{Name: "tokyo.exchange", To: bobDID}, code: "unauthorized", reason: "new holder: unauthorized: the controller of " + bobDID},
		{desc: "a transfer the holder does not sign", keys: keys(bob, tokyo), typ: "transfer-name",
			msg: &TransferName{Name: "tokyo.exchange", To: bobDID}, code: "unauthorized", reason: "holder must sign"},
		{desc: "a transfer without a member, in a member-assisted namespace", keys: keys(alice, bob), typ: "transfer-name",
			msg: &TransferName{Name: "tokyo.exchange", To: bobDID}, code: "unauthorized", reason: "member-assisted"},
		{desc: "a transfer to the holder", keys: keys(alice, tokyo), typ: "transfer-name",
			msg: &TransferName{Name: "tokyo.exchange", To: aliceDID}, code: "conflict", reason: "already points at"},
		{desc: "a transfer of a name no one holds", keys: keys(alice, bob, tokyo), typ: "transfer-name",
			msg: &TransferName{Name: "kyoto.exchange", To: bobDID}, code: "not_found", reason: "no one holds"},
		{desc: "a transfer", keys: keys(alice, bob, seoul), typ: "transfer-name",
			msg: &TransferName{Name: "tokyo.exchange", To: bobDID}, code: "ok"},
		{desc: "a release by someone else", keys: keys(alice), typ: "release-name",
			msg: &ReleaseName{Name: "tokyo.exchange"}, code: "unauthorized", reason: "holder must sign a release"},
		{desc: "a release", keys: keys(bob), typ: "release-name", msg: &ReleaseName{Name: "tokyo.exchange"}, code: "ok"},
		{desc: "a release of a free name", keys: keys(bob), typ: "release-name", msg: &ReleaseName{Name: "tokyo.exchange"}, code: "not_found", reason: "no one holds"},
		{desc: "the released name is free: carol registers it", keys: keys(carol, tokyo), typ: "register-name",
			msg: &RegisterName{Name: "tokyo.exchange", DID: carolDID}, code: "ok"},
		{desc: "carol deactivates her DID", keys: keys(carol), typ: "deactivate", msg: &Deactivate{DID: carolDID}, code: "ok"},
		{desc: "the deactivation completes", keys: keys(mallory), typ: "complete-change", msg: &ChangeStep{DID: carolDID, complete: true}, code: "ok"},
		{desc: "a registration for a deactivated DID", keys: keys(carol, tokyo), typ: "register-name",
			msg: &RegisterName{Name: "osaka.exchange", DID: carolDID}, code: "gone", reason: "deactivated"},
		{desc: "anyone releases a deactivated DID's name", keys: keys(mallory), typ: "release-name", msg: &ReleaseName{Name: "tokyo.exchange"}, code: "ok"},
	})

	// Resolution: one point read, so a proof covers the answer.
	var rec ledger.Reads
	r, err := LookupName(h.view(&rec), "seoul.exchange")
	if err != nil {
		t.Fatal(err)
	}
	if r.DID != bobDID || r.Namespace != "names.exchange" || r.Policy != Open || r.Sponsor != "" {
		t.Errorf("seoul.exchange = %+v", r)
	}
	if rec.Iterated || len(rec.Keys) != 1 || string(rec.Keys[0]) != "identity/n/seoul.exchange" {
		t.Errorf("resolving a name read %q (iterated %v), want the one key", rec.Keys, rec.Iterated)
	}
	if _, err := LookupName(h.view(nil), "tokyo.exchange"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("a released name resolves: %v", err)
	}
	// The member-assisted transfer records its sponsor.
	h.run([]step{
		{desc: "register again, member-assisted", keys: keys(alice, tokyo), typ: "register-name", msg: &RegisterName{Name: "tokyo.exchange", DID: aliceDID}, code: "ok"},
	})
	if r, _ := LookupName(h.view(nil), "tokyo.exchange"); r == nil || r.Sponsor != "exchange-tokyo of exchanges" || r.Policy != MemberAssisted {
		t.Errorf("tokyo.exchange = %+v, want sponsored by exchange-tokyo", r)
	}
	h.roundTrip()
}

func TestParseName(t *testing.T) {
	long := func(n int) string { return string(slices.Repeat([]byte("a"), n)) }
	for _, tc := range []struct {
		name, ns string // ns "" for invalid
	}{
		{"tokyo.exchange", "names.exchange"},
		{"a.b.exchange", "names.b.exchange"},
		{"x-1.jp", "names.jp"},
		{"0.exchange", "names.exchange"},
		{"exchange", ""},
		{"Tokyo.exchange", ""},
		{".exchange", ""},
		{"tokyo..exchange", ""},
		{"tokyo.exchange.", ""},
		{"-tokyo.exchange", ""},
		{"tokyo-.exchange", ""},
		{"tokyo_x.exchange", ""},
		{"tokyo.éxchange", ""},
		{long(63) + ".exchange", "names.exchange"},
		{long(64) + ".exchange", ""},
		{"a." + long(58), "names." + long(58)},
		{"a." + long(59), ""},
	} {
		ns, err := ParseName(tc.name)
		if ns != tc.ns || (err == nil) != (tc.ns != "") {
			t.Errorf("ParseName(%q) = %q, %v; want %q", tc.name, ns, err, tc.ns)
		}
		if err != nil && !errors.Is(err, ledger.ErrInvalid) {
			t.Errorf("ParseName(%q): %v does not wrap ErrInvalid", tc.name, err)
		}
	}
}

// FuzzParseName checks that ParseName never panics, and that what it
// accepts is a name whose namespace is a valid governance resource id
// serving it.
func FuzzParseName(f *testing.F) {
	for _, s := range []string{"tokyo.exchange", "a.b.exchange", "x-1.jp", "-a.b", "a..b", "A.b", "a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns, err := ParseName(s)
		if err != nil {
			return
		}
		if len(ns) > 64 || !strings.HasPrefix(ns, NamespacePrefix) || !strings.HasSuffix(s, "."+strings.TrimPrefix(ns, NamespacePrefix)) {
			t.Fatalf("ParseName(%q) = %q", s, ns)
		}
		if err := (&gov.SetEntry{Resource: ns, Key: s, Value: "x"}).Validate(); err != nil {
			t.Fatalf("%q's namespace %q is not a resource id: %v", s, ns, err)
		}
	})
}

// TestStaticRefusals checks the refusals that need no state: the
// decoder refuses them before a transaction is admitted.
func TestStaticRefusals(t *testing.T) {
	did := Prefix + strings.Repeat("a", 52)
	other := Prefix + strings.Repeat("b", 52)
	d := make([]byte, 32)
	for _, tc := range []struct {
		desc, typ string
		msg       any
		reason    string
	}{
		{"a name without a namespace", "register-name", &RegisterName{Name: "tokyo", DID: did}, "no namespace"},
		{"an upper-case name", "register-name", &RegisterName{Name: "Tokyo.exchange", DID: did}, "only a-z"},
		{"a name for a malformed DID", "register-name", &RegisterName{Name: "tokyo.exchange", DID: "did:web:x"}, "invalidDid"},
		{"a transfer to a malformed DID", "transfer-name", &TransferName{Name: "tokyo.exchange", To: "x"}, "invalidDid"},
		{"a release of a malformed name", "release-name", &ReleaseName{Name: "tokyo..exchange"}, "empty"},
		{"an attestation about oneself", "attest", &Attest{Attester: did, Subject: did, Claim: "x", Digest: d}, "about itself"},
		{"a malformed claim type", "attest", &Attest{Attester: did, Subject: other, Claim: "Employment!", Digest: d}, "claim type"},
		{"a short digest", "attest", &Attest{Attester: did, Subject: other, Claim: "x", Digest: d[:31]}, "32-byte"},
		{"a revocation with a malformed claim", "revoke-attestation", &RevokeAttestation{Attester: did, Subject: other, Claim: ""}, "claim type"},
		{"an anchor without a digest", "anchor-verification", &AnchorVerification{Verifier: did}, "32-byte"},
		{"a revocation by a malformed DID", "revoke-verification", &RevokeVerification{Verifier: "did:agora:x", Digest: d}, "invalidDid"},
	} {
		b, err := tx.Marshal(tc.msg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Module{}.Decode(tc.typ, b)
		if !errors.Is(err, ledger.ErrInvalid) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: %v, want invalid containing %q", tc.desc, err, tc.reason)
		}
	}
}

// TestPinnedRecords pins the bytes of the new records' encodings.
func TestPinnedRecords(t *testing.T) {
	did := Prefix + strings.Repeat("a", 52)
	for _, tc := range []struct {
		v    any
		want string
	}{
		{&RegisterName{Name: "a.b", DID: did}, "a20163612e6202783e6469643a61676f72613a61616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161"},
		{&Attest{Attester: did, Subject: did, Claim: "c", Digest: []byte{1}}, "a401783e6469643a61676f72613a6161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616102783e6469643a61676f72613a61616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161036163044101"},
		{&Verification{Digest: HexBytes{1, 2}, Verifier: did, Organisation: "O", KeyID: "key-0", Time: 5, Height: 6}, "a70142010202783e6469643a61676f72613a6161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616103614f04656b65792d30050506060758200000000000000000000000000000000000000000000000000000000000000000"},
	} {
		b, err := tx.Marshal(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%x", b); got != tc.want {
			t.Errorf("%T encodes as\n%s\nwant\n%s", tc.v, got, tc.want)
		}
	}
}

// TestNestedSponsor checks that a member of a body that is itself a
// member of the namespace's controller may assist, as deep as a body's
// rule counts members, and no deeper.
func TestNestedSponsor(t *testing.T) {
	// exchanges ⊃ custodians ⊃ identity ⊃ users ⊃ governments: the
	// regulator is four bodies below exchanges, beyond gov.MaxNesting.
	nest := map[string]string{"exchanges": "custodians", "custodians": "identity", "identity": "users", "users": "governments"}
	h := newGovLedgerWith(t, func(g *gov.Genesis) {
		for i := range g.Bodies {
			if sub, ok := nest[g.Bodies[i].ID]; ok {
				g.Bodies[i].Members = append(g.Bodies[i].Members, gov.Member{Name: sub, Body: sub})
			}
		}
	})
	alice := keyFor(t, "alice-did", tx.Ed25519)
	did := h.create(alice, keyFor(t, "alice-next", tx.Ed25519))
	reg := func(name string) *RegisterName { return &RegisterName{Name: name, DID: did} }
	h.run([]step{
		{desc: "a member of a member body (custodians)", keys: keys(alice, keyFor(t, "custodian-zurich", tx.Ed25519)), typ: "register-name", msg: reg("a.exchange"), code: "ok"},
		{desc: "three bodies down (users)", keys: keys(alice, keyFor(t, "alice", tx.Ed25519)), typ: "register-name", msg: reg("b.exchange"), code: "ok"},
		{desc: "four bodies down (governments): too deep", keys: keys(alice, keyFor(t, "regulator", tx.Ed25519)), typ: "register-name", msg: reg("c.exchange"),
			code: "unauthorized", reason: "member-assisted"},
	})
	if r, _ := LookupName(h.view(nil), "b.exchange"); r == nil || r.Sponsor != "alice of users" {
		t.Errorf("b.exchange = %+v, want sponsored by alice of users", r)
	}
}
