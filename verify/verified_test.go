package verify

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/notary"
)

// TestVerifiedOpened verifies answers through a shared Opened: the
// checkpoint is opened once, every answer is verified in full (its
// decoded answer is the proven one), and the kept checkpoint never makes
// an answer pass that does not pass alone: a forged value, tampered
// bytes, another argument, another policy.
func TestVerifiedOpened(t *testing.T) {
	vs, ss := network(t, 10, 10, 10, 10)
	sum, rec, recBytes, key := anchor(t)
	root, proofs := stateOf(t, map[string][]byte{key: recBytes}, key)
	h := ledger.Header{ChainID: "net-1", Height: 5, LogSize: 1, LogRoot: bytes.Repeat([]byte{1}, 32), AppHash: root}
	cp := string(signedBy(t, h.Checkpoint(), ss[0], ss[1], ss[2]))
	answer := func(value any) []byte {
		v, _ := json.Marshal(value)
		b, err := json.Marshal(struct {
			Value json.RawMessage `json:"value"`
			Proof *StateProof     `json:"proof"`
		}{v, &StateProof{Checkpoint: cp, Keys: proofs}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := answer(rec.JSON())
	forged := rec.JSON()
	forged.MediaType = "application/pdf"
	bad := answer(forged)

	m, q, _, err := FindQuery([]ledger.Module{notary.Module{}}, "/v1/notary/anchors/"+hex.EncodeToString(sum))
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]string{"sha256": hex.EncodeToString(sum)}
	policy := Policy{Validators: vs, Opened: &Opened{}}
	a, c, err := Verified(m, q, args, good, policy)
	if err != nil || c.Height != 5 {
		t.Fatalf("first: %+v %v", c, err)
	}
	if p, ok := a.Proven.(notary.RecordJSON); !ok || p.MediaType != rec.JSON().MediaType {
		t.Fatalf("proven answer: %#v", a.Proven)
	}
	a2, c2, err := Verified(m, q, args, good, policy)
	if err != nil || a2 == a || c2 != c {
		t.Fatalf("again: %p %p %v; want a new answer %p, the first checkpoint %p", a2, c2, err, a, c)
	}
	if _, _, err := Verified(m, q, args, bad, policy); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a forged value: %v", err)
	}
	tampered := bytes.Replace(good, []byte("text/plain"), []byte("text/plaim"), 1)
	if _, _, err := Verified(m, q, args, tampered, policy); !errors.Is(err, ErrInvalid) {
		t.Fatalf("tampered bytes: %v", err)
	}
	other := map[string]string{"sha256": hex.EncodeToString(bytes.Repeat([]byte{8}, 32))}
	if _, _, err := Verified(m, q, other, good, policy); !errors.Is(err, ErrInvalid) {
		t.Fatalf("another argument: %v", err)
	}
	fewer := policy
	fewer.Validators = vs[3:] // the same cache, a set that did not sign
	if _, _, err := Verified(m, q, args, good, fewer); !errors.Is(err, ErrInvalid) {
		t.Fatalf("under another policy: %v", err)
	}
	if _, c, err := Verified(m, q, args, good, policy); err != nil || c.Height != 5 {
		t.Fatalf("after the refusals: %+v %v", c, err)
	}
}
