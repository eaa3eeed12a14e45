package credential

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/statuslist"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/internal/vcdm"
)

const did = "did:agora:z6Mkexample"

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		msg  ledger.Msg
		ok   bool
	}{
		{name: "type", msg: &RegisterType{Issuer: did, VCT: "urn:agora:vct:kyc", Metadata: `{"name":"KYC"}`, Schema: `{"type":"object"}`}, ok: true},
		{name: "type with its vct in the metadata", msg: &RegisterType{Issuer: did, VCT: "https://x.example/kyc", Metadata: `{"vct":"https://x.example/kyc"}`}, ok: true},
		{name: "another vct in the metadata", msg: &RegisterType{Issuer: did, VCT: "urn:a:b", Metadata: `{"vct":"urn:a:c"}`}},
		{name: "a schema in the metadata", msg: &RegisterType{Issuer: did, VCT: "urn:a:b", Metadata: `{"schema":{}}`}},
		{name: "metadata not an object", msg: &RegisterType{Issuer: did, VCT: "urn:a:b", Metadata: `[1]`}},
		{name: "two objects", msg: &RegisterType{Issuer: did, VCT: "urn:a:b", Metadata: `{} {}`}},
		{name: "schema not JSON", msg: &RegisterType{Issuer: did, VCT: "urn:a:b", Metadata: `{}`, Schema: `{`}},
		{name: "relative vct", msg: &RegisterType{Issuer: did, VCT: "kyc", Metadata: `{}`}},
		{name: "huge metadata", msg: &RegisterType{Issuer: did, VCT: "urn:a:b", Metadata: `{"a":"` + strings.Repeat("x", MaxDocument) + `"}`}},
		{name: "issuer not a DID", msg: &RegisterType{Issuer: "acme", VCT: "urn:a:b", Metadata: `{}`}},
		{name: "list", msg: &CreateList{Issuer: did, ID: "kyc-1", Bits: 2, Capacity: 1000}, ok: true},
		{name: "list of 4 bits", msg: &CreateList{Issuer: did, ID: "kyc-1", Bits: 4, Capacity: 1000}},
		{name: "list too large", msg: &CreateList{Issuer: did, ID: "kyc-1", Bits: 1, Capacity: MaxCapacity + 1}},
		{name: "empty list", msg: &CreateList{Issuer: did, ID: "kyc-1", Bits: 1}},
		{name: "list id with a slash", msg: &CreateList{Issuer: did, ID: "kyc/1", Bits: 1, Capacity: 8}},
		{name: "allocate", msg: &Allocate{Issuer: did, List: "kyc-1", Count: 1}, ok: true},
		{name: "allocate none", msg: &Allocate{Issuer: did, List: "kyc-1"}},
		{name: "allocate too many", msg: &Allocate{Issuer: did, List: "kyc-1", Count: MaxAllocate + 1}},
		{name: "suspend", msg: &SetStatus{Issuer: did, List: "kyc-1", Status: Suspended}, ok: true},
		{name: "status 3", msg: &SetStatus{Issuer: did, List: "kyc-1", Status: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.msg.Validate()
			if tt.ok != (err == nil) || err != nil && !errors.Is(err, ledger.ErrInvalid) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestListForms sets statuses across pages of 1- and 2-bit lists and
// checks that the token and the bitstring, decoded by package
// statuslist, give every entry the status set.
func TestListForms(t *testing.T) {
	for _, bits := range []uint8{1, 2} {
		c, issuer := newIssuer(t)
		list := "l" + string('0'+rune(bits))
		const capacity = 3 * PageBytes * 8
		mustDo(t, c, issuer.key, "create-list", &CreateList{Issuer: issuer.did, ID: list, Bits: bits, Capacity: capacity})
		for i := uint32(0); i < capacity; i += MaxAllocate {
			mustDo(t, c, issuer.key, "allocate", &Allocate{Issuer: issuer.did, List: list, Index: i, Count: min(MaxAllocate, capacity-i)})
		}
		want := map[int]byte{}
		for _, i := range []int{0, 7, 8, 4095, 8191, 8192, 16385, capacity - 1} {
			s := byte(Revoked)
			if bits == 2 && i%2 == 1 {
				s = Suspended
			}
			want[i] = s
			mustDo(t, c, issuer.key, "set-status", &SetStatus{Issuer: issuer.did, List: list, Index: uint32(i), Status: s})
		}
		kv := c.View(Name, nil)
		tok, err := TokenOf(kv, list)
		if err != nil {
			t.Fatal(err)
		}
		sl, err := statuslist.Decode(tok.StatusList)
		if err != nil {
			t.Fatal(err)
		}
		bc, err := BitstringOf(kv, list)
		if err != nil {
			t.Fatal(err)
		}
		bs, err := statuslist.DecodeBitstring(bc.CredentialSubject.EncodedList, int(bits))
		if err != nil {
			t.Fatal(err)
		}
		var asJSON map[string]any
		if b, err := json.Marshal(bc); err != nil || json.Unmarshal(b, &asJSON) != nil {
			t.Fatal(err)
		}
		if err := vcdm.Check(asJSON); err != nil {
			t.Errorf("%d bits: the bitstring credential: %v", bits, err)
		}
		if undef, err := vcdm.Undefined(asJSON); err != nil || len(undef) != 0 {
			t.Errorf("%d bits: the bitstring credential uses terms its contexts do not define: %v (%v)", bits, undef, err)
		}
		for i := range capacity {
			got, _ := sl.Get(i)
			gotW3C, _ := bs.Get(i)
			if got != want[i] || gotW3C != want[i] {
				t.Errorf("%d bits: entry %d is %d in the token and %d in the bitstring, want %d", bits, i, got, gotW3C, want[i])
			}
		}
		st, err := StatusOf(kv, c.View(identity.Name, nil), list, 8191, time.UnixMilli(1<<50))
		if err != nil || st.Value != want[8191] {
			t.Errorf("%d bits: StatusOf(8191) = %+v, %v", bits, st, err)
		}
	}
}

type testIssuer struct {
	did string
	key *tx.PrivateKey
}

// newIssuer starts a chain of the demo Community, creates a DID whose
// controller also asserts, and accredits it for every vct under urn:.
func newIssuer(t testing.TB) (*ledgertest.Chain, testIssuer) {
	t.Helper()
	key := func(name string) *tx.PrivateKey { return ledgertest.Key(keySeed, name, tx.Ed25519) }
	gj, err := json.Marshal(gov.Demo(func(name string) tx.PublicKey { return key(name).Public() }))
	if err != nil {
		t.Fatal(err)
	}
	c := ledgertest.NewChain(t, ledgertest.Genesis(map[string]json.RawMessage{gov.Name: gj}), identity.Module{}, gov.Module{}, Module{})
	k := key("issuer")
	next := key("issuer-next")
	cr := &identity.Create{Keys: []identity.KeySpec{{PublicKey: k.Public(), Relationships: []string{AssertionMethod, identity.CapabilityInvocation}}},
		Next: identity.Commitment(next.Public())}
	if res := c.Do(identity.Name, []*tx.PrivateKey{k}, "create", cr); res.Code != "ok" {
		t.Fatalf("create: %+v", res)
	}
	if res := c.Do(gov.Name, []*tx.PrivateKey{key("telco-id")}, "set-entry", &gov.SetEntry{Resource: IssuersResource, Key: cr.DID(), Value: "urn:"}); res.Code != "ok" {
		t.Fatalf("accredit: %+v", res)
	}
	return c, testIssuer{did: cr.DID(), key: k}
}

func mustDo(t *testing.T, c *ledgertest.Chain, k *tx.PrivateKey, typ string, msg ledger.Msg) {
	t.Helper()
	if res := c.Do(Name, []*tx.PrivateKey{k}, typ, msg); res.Code != "ok" {
		t.Fatalf("%s: %s %s", typ, res.Code, res.Error)
	}
}

// FuzzDecode checks that the decoder never panics and accepts only
// canonical encodings of valid messages.
func FuzzDecode(f *testing.F) {
	for _, m := range []ledger.Msg{
		&RegisterType{Issuer: did, VCT: "urn:agora:vct:kyc", Metadata: `{"name":"KYC"}`},
		&CreateList{Issuer: did, ID: "kyc-1", Bits: 2, Capacity: 1000},
		&Allocate{Issuer: did, List: "kyc-1", Count: 1},
		&SetStatus{Issuer: did, List: "kyc-1", Index: 3, Status: Revoked},
	} {
		b, err := tx.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		for _, mt := range msgTypes {
			f.Add(mt.Name, b)
		}
	}
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		ledgertest.Decoded(t, Module{}, typ, body)
	})
}

// TestInScope holds an accreditation's vct prefixes to their boundaries:
// a scope of urn:x:kyc covers its versions, not a longer name.
func TestInScope(t *testing.T) {
	for _, tt := range []struct {
		scope, vct string
		want       bool
	}{
		{"urn:x:kyc", "urn:x:kyc", true},
		{"urn:x:kyc", "urn:x:kyc:v1", true},
		{"urn:x:kyc", "urn:x:kycx", false},
		{"urn:x:", "urn:x:anything", true},
		{"https://x.example/vct", "https://x.example/vct/kyc", true},
		{"https://x.example/vct", "https://x.example/vct-evil", false},
		{"urn:x:kyc", "urn:x:ky", false},
	} {
		if got := InScope([]string{"urn:y:other", tt.scope}, tt.vct); got != tt.want {
			t.Errorf("InScope(%q, %q) = %v, want %v", tt.scope, tt.vct, got, tt.want)
		}
	}
}
