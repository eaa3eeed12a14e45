package asset

import (
	"bytes"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

// FuzzDecode checks that the module's decoder never panics and accepts,
// for each message type, only canonical encodings of messages that pass
// their static validation: a submission's observation and signatures are
// what the ledger decodes from anyone.
func FuzzDecode(f *testing.F) {
	o := Observation{Chain: "agora-dev", Type: "marker", Place: Point{Lat: 50_087_600, Lon: 14_420_800}, Time: 1_767_225_600_000, Value: 95}
	withData := o
	withData.Data = bytes.Repeat([]byte{7}, 32)
	place := Point{Lat: 50_087_451, Lon: 14_420_671}
	seeds := []struct {
		typ string
		msg any
	}{
		{"submit", &Submit{Asset: "parcel-7", Rule: 1, Observation: o, Signatures: []Signature{{Provider: "sat-a", Sig: bytes.Repeat([]byte{1}, 64)}}}},
		{"submit", &Submit{Asset: "parcel-7", Rule: 2, Observation: withData, Signatures: []Signature{
			{Provider: "sat-a", Sig: bytes.Repeat([]byte{1}, 64)}, {Provider: "sat-b", Sig: bytes.Repeat([]byte{2}, 64)}}}},
		{"register", &Register{ID: "parcel-7", Owner: "did:agora:x", Place: place, Description: "Parcel 7", Metadata: []Meta{{Key: "cadastre", Value: "CZ-7"}}}},
		{"add-rule", &AddRule{Asset: "parcel-7", Condition: Condition{Type: "marker", Center: place, Radius: 50, From: 1, Until: 2, MinValue: 80},
			Providers: []string{"sat-a", "sat-b"}, Threshold: 2, TransferTo: "did:agora:y", DisputeWindow: 60_000}},
		{"dispute", &Dispute{Trigger: 1, Reason: "a storm's tarpaulin"}},
	}
	types := []string{"submit", "register", "add-rule", "dispute"}
	for _, s := range seeds {
		b, err := tx.Marshal(s.msg)
		if err != nil {
			f.Fatal(err)
		}
		for i, t := range types {
			if t == s.typ {
				f.Add(uint8(i), b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		typ := types[int(which)%len(types)]
		msg := ledgertest.Decoded(t, Module{}, typ, body)
		if s, ok := msg.(*Submit); ok {
			// The digest is of the bytes a provider signs, which the
			// observation's own encoding begins after the domain.
			sb := s.Observation.SigningBytes()
			if !bytes.HasPrefix(sb, []byte(ObservationDomain+"\x00")) {
				t.Fatalf("signing bytes %x lack the domain", sb)
			}
			ob, err := tx.Marshal(&s.Observation)
			if err != nil || !bytes.Equal(sb[len(ObservationDomain)+1:], ob) {
				t.Fatalf("signing bytes %x are not the domain and the observation %x", sb, ob)
			}
		}
	})
}
