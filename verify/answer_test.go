package verify

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/smt"
	"github.com/agora-ledger/agora/internal/tx"
)

// memNodes is a state map in memory.
type memNodes map[string][]byte

func (m memNodes) GetNode(path []byte) ([]byte, bool, error) {
	n, ok := m[string(path)]
	return n, ok, nil
}

// stateOf builds a state map of kv and returns its root and a proof of
// each of keys (a key not in kv is proven absent).
func stateOf(t *testing.T, kv map[string][]byte, keys ...string) ([]byte, []KeyProof) {
	t.Helper()
	nodes := memNodes{}
	var ups []smt.Update
	for k, v := range kv {
		vh := smt.ValueHash(v)
		ups = append(ups, smt.Update{KeyHash: smt.KeyHash([]byte(k)), ValueHash: &vh})
	}
	// Apply wants the updates in key-hash order.
	slices.SortFunc(ups, func(a, b smt.Update) int { return bytes.Compare(a.KeyHash[:], b.KeyHash[:]) })
	root, writes, err := smt.Apply(nodes, ups)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range writes {
		nodes[string(w.Path)] = w.Node
	}
	var out []KeyProof
	for _, k := range keys {
		p, err := smt.Prove(nodes, smt.KeyHash([]byte(k)))
		if err != nil {
			t.Fatal(err)
		}
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, KeyProof{Key: []byte(k), Value: kv[k], Proof: b})
	}
	return root[:], out
}

func TestAnswer(t *testing.T) {
	vs, ss := network(t, 10, 10, 10, 10)
	policy := Policy{Validators: vs}
	sum, rec, recBytes, key := anchor(t)
	other := bytes.Repeat([]byte{8}, 32)
	otherKey := "notary/a/" + hex.EncodeToString(other)
	kv := map[string][]byte{key: recBytes}
	root, proofs := stateOf(t, kv, key, otherKey)
	h := ledger.Header{ChainID: "net-1", Height: 5, LogSize: 1, LogRoot: bytes.Repeat([]byte{1}, 32), AppHash: root}
	cp := func() string { return string(signedBy(t, h.Checkpoint(), ss[0], ss[1], ss[2])) }
	underSigned := string(signedBy(t, h.Checkpoint(), ss[0]))
	good, _ := json.Marshal(rec.JSON())
	forged := rec.JSON()
	forged.MediaType = "application/pdf"
	bad, _ := json.Marshal(forged)

	m, q, arg, err := FindQuery([]ledger.Module{notary.Module{}}, "/v1/notary/anchors/"+hex.EncodeToString(sum)+"?proof=1")
	if err != nil {
		t.Fatal(err)
	}
	_, qOther, argOther, err := FindQuery([]ledger.Module{notary.Module{}}, "/v1/notary/anchors/"+hex.EncodeToString(other))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    ledger.Query
		arg  func(string) string
		a    Answered
		ok   bool
	}{
		{"the anchor, proven", q, arg, Answered{Value: good, Proof: &StateProof{Checkpoint: cp(), Keys: proofs[:1]}}, true},
		{"an absence, proven", qOther, argOther, Answered{Refusal: "not_found", Proof: &StateProof{Checkpoint: cp(), Keys: proofs[1:]}}, true},
		{"a forged value", q, arg, Answered{Value: bad, Proof: &StateProof{Checkpoint: cp(), Keys: proofs[:1]}}, false},
		{"a proof of an unrelated key", q, arg, Answered{Value: good, Proof: &StateProof{Checkpoint: cp(), Keys: proofs[1:]}}, false},
		{"an empty key list", q, arg, Answered{Value: good, Proof: &StateProof{Checkpoint: cp()}}, false},
		{"a refusal the state does not make", q, arg, Answered{Refusal: "not_found", Proof: &StateProof{Checkpoint: cp(), Keys: proofs[:1]}}, false},
		{"signed by one validator of four", q, arg, Answered{Value: good, Proof: &StateProof{Checkpoint: underSigned, Keys: proofs[:1]}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Answer(m, tt.q, tt.arg, &tt.a, policy)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if c.Height != 5 {
					t.Errorf("height %d, want 5", c.Height)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
}

// anchor is a notary record of the file whose SHA-256 is 32 sevens, its
// state bytes and its key.
func anchor(t *testing.T) ([]byte, notary.Record, []byte, string) {
	t.Helper()
	sum := bytes.Repeat([]byte{7}, 32)
	owner := tx.PublicKey{Alg: tx.Ed25519, Key: bytes.Repeat([]byte{1}, 32)}
	rec := notary.Record{SHA256: sum, MediaType: "text/plain", Owner: owner, Height: 3, Time: 1700000000000}
	recBytes, err := tx.Marshal(&rec)
	if err != nil {
		t.Fatal(err)
	}
	return sum, rec, recBytes, "notary/a/" + hex.EncodeToString(sum)
}

// TestStateUnderValidators: with a validator set, a state proof's
// checkpoint needs more than two thirds of the voting power, even when
// its one signature is by a key that would pass as the log key.
func TestStateUnderValidators(t *testing.T) {
	vs, ss := network(t, 10, 10, 10, 10)
	root, proofs := stateOf(t, map[string][]byte{"notary/x": []byte("v")}, "notary/x")
	h := ledger.Header{ChainID: "net-1", Height: 5, LogSize: 1, LogRoot: bytes.Repeat([]byte{1}, 32), AppHash: root}
	one := &StateProof{Checkpoint: string(signedBy(t, h.Checkpoint(), ss[0])), Keys: proofs}
	if _, _, err := State(one, Policy{LogKey: vs[0].NoteKey, Validators: vs}); err == nil || !strings.Contains(err.Error(), "two thirds") {
		t.Fatalf("a proof signed by 10 of 40: %v, want a refusal", err)
	}
	three := &StateProof{Checkpoint: string(signedBy(t, h.Checkpoint(), ss[0], ss[1], ss[2])), Keys: proofs}
	if _, _, err := State(three, Policy{Validators: vs}); err != nil {
		t.Fatalf("a proof signed by 30 of 40: %v", err)
	}
}

func TestCheckTx(t *testing.T) {
	key, err := tx.GenerateKey(tx.Ed25519, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := tx.GenerateKey(tx.Ed25519, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte{0xa0}
	tt0 := &tx.Tx{Version: tx.Version, ChainID: "c", Module: "notary", Type: "anchor", Body: body,
		Signers: []tx.Signer{{Key: key.Public(), Sequence: 4}}, ExpiryHeight: 9}
	s, err := tx.Sign(tt0, key)
	if err != nil {
		t.Fatal(err)
	}
	env, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	e := &ledger.LogEntry{Height: 7, Index: 2, TxID: s.ID()}
	honest := TxClaim{Hash: s.ID(), Height: 7, Index: 2, LeafIndex: 30, ChainID: "c", Module: "notary", Type: "anchor",
		Body: body, Signers: []tx.Signer{{Key: key.Public(), Sequence: 4}}}
	with := func(f func(*TxClaim)) TxClaim { c := honest; f(&c); return c }
	tests := []struct {
		name     string
		envelope []byte
		claim    TxClaim
		ok       bool
	}{
		{"honest", env, honest, true},
		{"position only, no envelope", nil, TxClaim{Height: 7, Index: 2, LeafIndex: 30}, true},
		{"another hash", env, with(func(c *TxClaim) { c.Hash = tx.ID{1} }), false},
		{"another height", env, with(func(c *TxClaim) { c.Height = 8 }), false},
		{"another index", env, with(func(c *TxClaim) { c.Index = 1 }), false},
		{"another leaf", env, with(func(c *TxClaim) { c.LeafIndex = 31 }), false},
		{"another module", env, with(func(c *TxClaim) { c.Module = "gov" }), false},
		{"another type", env, with(func(c *TxClaim) { c.Type = "revoke" }), false},
		{"another chain", env, with(func(c *TxClaim) { c.ChainID = "d" }), false},
		{"another body", env, with(func(c *TxClaim) { c.Body = []byte{0xa1} }), false},
		{"another signer", env, with(func(c *TxClaim) { c.Signers = []tx.Signer{{Key: other.Public(), Sequence: 4}} }), false},
		{"another sequence", env, with(func(c *TxClaim) { c.Signers = []tx.Signer{{Key: key.Public(), Sequence: 5}} }), false},
		{"content without an envelope", nil, honest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckTx(e, 30, tt.envelope, tt.claim)
			if tt.ok != (err == nil) {
				t.Fatalf("CheckTx = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("%v does not wrap ErrInvalid", err)
			}
		})
	}
}
