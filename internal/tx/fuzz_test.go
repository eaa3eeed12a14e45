package tx_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/agora-ledger/agora/internal/tx"
)

// FuzzDecode checks that Decode never panics and that whatever it accepts
// is canonical: the envelope and the transaction re-encode to exactly the
// bytes they came from, and the transaction is statically valid.
func FuzzDecode(f *testing.F) {
	for _, v := range readVectors(f).Vectors {
		f.Add([]byte(v.Envelope))
		f.Add([]byte(v.TxBytes))
	}
	f.Add([]byte{})
	f.Add([]byte{0xa2, 0x01, 0x40, 0x02, 0x80})
	f.Fuzz(func(t *testing.T, in []byte) {
		s, x, err := tx.Decode(in)
		if err != nil {
			if s != nil || x != nil {
				t.Fatalf("Decode returned values with error %v", err)
			}
			return
		}
		env, err := s.Encode()
		if err != nil {
			t.Fatalf("accepted envelope does not encode: %v", err)
		}
		if !bytes.Equal(env, in) {
			t.Fatalf("accepted non-canonical envelope:\n in  %x\n out %x", in, env)
		}
		b, err := x.Encode()
		if err != nil {
			t.Fatalf("accepted tx does not encode: %v", err)
		}
		if !bytes.Equal(b, s.Tx) {
			t.Fatalf("accepted non-canonical tx:\n in  %x\n out %x", s.Tx, b)
		}
		if err := x.Validate(); err != nil {
			t.Fatalf("accepted invalid tx: %v", err)
		}
		if len(s.Sigs) != len(x.Signers) {
			t.Fatalf("%d signatures for %d signers", len(s.Sigs), len(x.Signers))
		}
		_ = tx.Verify(s, x) // must not panic
	})
}

// FuzzParsePublicKey checks that ParsePublicKey never panics and accepts
// only the one canonical spelling of a well-formed key.
func FuzzParsePublicKey(f *testing.F) {
	for _, v := range readVectors(f).Vectors {
		for _, k := range v.Keys {
			f.Add(k.Public)
		}
	}
	f.Add("")
	f.Add("ed25519:")
	f.Add("p256:AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := tx.ParsePublicKey(s)
		if err != nil {
			return
		}
		if err := k.Check(); err != nil {
			t.Fatalf("accepted a key Check refuses: %v", err)
		}
		if k.String() != s {
			t.Fatalf("accepted %q, whose canonical form is %q", s, k.String())
		}
		if a := k.Address(); len(a) != 40 {
			t.Fatalf("address %q", a)
		}
		if _, err := hex.DecodeString(k.Address()); err != nil {
			t.Fatal(err)
		}
		b, err := tx.Marshal(&k)
		if err != nil {
			t.Fatal(err)
		}
		var back tx.PublicKey
		if err := tx.Unmarshal(b, &back); err != nil || !back.Equal(k) {
			t.Fatalf("CBOR round trip: %v", err)
		}
	})
}
