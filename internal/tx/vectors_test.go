package tx_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/oasisprotocol/curve25519-voi/curve"

	"github.com/agora-ledger/agora/internal/tx"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json from the definitions in vectors_test.go")

const vectorsPath = "testdata/vectors.json"

// The vectors file is the byte-level companion of
// docs/spec/transactions.md. Every field is derived from the definitions
// below: private keys from fixed seeds, and signatures by the signing
// algorithm. Ed25519 and secp256k1 (RFC 6979) signatures are
// deterministic, so TestVectors re-derives and compares them. P-256
// signatures are randomized: TestVectors keeps the pinned one as long as
// it verifies over the same message, and only -update signs anew when the
// message changed.

type vectorFile struct {
	Comment []string `json:"comment"`
	Vectors []vector `json:"vectors"`
	// RefusedKeys are keys that every place accepting a key refuses.
	RefusedKeys []refusedKey `json:"refused_keys"`
	// Refused are envelopes whose signatures verify that must be refused
	// all the same.
	Refused []refusedEnvelope `json:"refused"`
}

type refusedKey struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

type refusedEnvelope struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Envelope    hexBytes `json:"envelope"`
}

type vector struct {
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Keys        []vectorKey `json:"keys"` // one per signer, in signer order
	Tx          vectorTx    `json:"tx"`
	TxBytes     hexBytes    `json:"tx_bytes"`
	ID          hexBytes    `json:"id"`
	// SignedMessage is "agora/tx/v1" || 0x00 || tx_bytes.
	SignedMessage hexBytes   `json:"signed_message"`
	Signatures    []hexBytes `json:"signatures"`
	Envelope      hexBytes   `json:"envelope"`
}

type vectorKey struct {
	Alg string `json:"alg"`
	// Seed is the text whose SHA-256 is the private key.
	Seed    string   `json:"seed"`
	Private hexBytes `json:"private"`
	Public  string   `json:"public"`
	// PublicBytes is the raw key: the Key field of PublicKey.
	PublicBytes hexBytes `json:"public_bytes"`
	Address     string   `json:"address"`
	// Deterministic says whether the signature can be re-derived exactly
	// (Ed25519, RFC 6979 secp256k1) or is only checked to verify (P-256).
	Deterministic bool `json:"deterministic_signature"`
}

type vectorTx struct {
	Version      uint64         `json:"version"`
	ChainID      string         `json:"chain_id"`
	Module       string         `json:"module"`
	Type         string         `json:"type"`
	Body         hexBytes       `json:"body"`
	Signers      []vectorSigner `json:"signers"`
	ExpiryHeight uint64         `json:"expiry_height,omitempty"`
	ExpiryTime   int64          `json:"expiry_time,omitempty"`
}

type vectorSigner struct {
	Key      string `json:"key"`
	Sequence uint64 `json:"sequence"`
}

type hexBytes []byte

func (h hexBytes) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h)), nil }

func (h *hexBytes) UnmarshalText(b []byte) error {
	v, err := hex.DecodeString(string(b))
	*h = v
	return err
}

// vectorDef is the definition a vector is derived from.
type vectorDef struct {
	name, desc string
	keys       []keyDef
	seqs       []uint64
	chain      string
	module     string
	typ        string
	body       []byte
	expHeight  uint64
	expTime    int64
}

type keyDef struct {
	alg  tx.Alg
	seed string
}

// anchorBody is the canonical body of a notary "anchor" message (see
// internal/notary): {1: sha256, 2: media type, 3: description}.
type anchorBody struct {
	SHA256      []byte `cbor:"1,keyasint"`
	MediaType   string `cbor:"2,keyasint"`
	Description string `cbor:"3,keyasint,omitempty"`
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := tx.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func vectorDefs(t testing.TB) []vectorDef {
	digest := func(s string) []byte { d := sha256.Sum256([]byte(s)); return d[:] }
	return []vectorDef{{
		name:   "ed25519-anchor",
		desc:   "one Ed25519 signer, sequence 0, expiry by height only",
		keys:   []keyDef{{tx.Ed25519, "alice"}},
		seqs:   []uint64{0},
		chain:  "agora-test-1",
		module: "notary", typ: "anchor",
		body:      mustMarshal(t, &anchorBody{SHA256: digest("hello, agora\n"), MediaType: "text/plain"}),
		expHeight: 100,
	}, {
		name:   "p256-anchor",
		desc:   "one P-256 signer, expiry by time only; the signature is randomized, so only its validity is pinned",
		keys:   []keyDef{{tx.P256, "bob"}},
		seqs:   []uint64{7},
		chain:  "agora-test-1",
		module: "notary", typ: "anchor",
		body:    mustMarshal(t, &anchorBody{SHA256: digest("contract.pdf"), MediaType: "application/pdf", Description: "signed contract"}),
		expTime: 1767225600000, // 2026-01-01T00:00:00Z
	}, {
		name:   "secp256k1-anchor",
		desc:   "one secp256k1 signer with a sequence above 2^32 and both expiries",
		keys:   []keyDef{{tx.Secp256k1, "carol"}},
		seqs:   []uint64{1<<32 + 1},
		chain:  "agora-test-1",
		module: "notary", typ: "anchor",
		body:      mustMarshal(t, &anchorBody{SHA256: digest("photo.jpg"), MediaType: "image/jpeg"}),
		expHeight: 1 << 20,
		expTime:   1767225600000,
	}, {
		name: "three-signers",
		desc: "one signer of each algorithm; signatures in signer order",
		keys: []keyDef{{tx.Ed25519, "alice"}, {tx.P256, "bob"}, {tx.Secp256k1, "carol"}},
		seqs: []uint64{0, 1, 2},
		// The chain id may use upper case, digits, '.', '_' and '-'.
		chain:  "Agora.Main_net-2",
		module: "notary", typ: "anchor",
		body:      mustMarshal(t, &anchorBody{SHA256: digest("minutes-2025-06.md"), MediaType: "text/markdown", Description: "board minutes, June"}),
		expHeight: 5000,
	}, {
		name:   "empty-body-max-expiry",
		desc:   "an empty body (the envelope does not care what the module accepts) and the largest expiries",
		keys:   []keyDef{{tx.Ed25519, "dave"}},
		seqs:   []uint64{0},
		chain:  "agora-test-1",
		module: "example.v2", typ: "no-op_1",
		body:      []byte{},
		expHeight: 1<<64 - 1,
		expTime:   1<<63 - 1,
	}}
}

// vectorKeyFor derives a private key from a seed text: the key is
// SHA-256("agora/tx/test-vector/v1" || 0x00 || seed).
func vectorKeyFor(t testing.TB, d keyDef) (*tx.PrivateKey, []byte) {
	t.Helper()
	priv := sha256.Sum256([]byte("agora/tx/test-vector/v1\x00" + d.seed))
	k, err := tx.NewPrivateKey(d.alg, priv[:])
	if err != nil {
		t.Fatalf("key %s/%s: %v", d.alg, d.seed, err)
	}
	return k, priv[:]
}

// buildVector derives a vector from its definition. pinned is the same
// vector as last written, whose P-256 signatures are reused if they still
// verify.
func buildVector(t testing.TB, d vectorDef, pinned *vector) vector {
	t.Helper()
	v := vector{Name: d.name, Description: d.desc}
	var keys []*tx.PrivateKey
	txv := tx.Tx{
		Version: tx.Version, ChainID: d.chain, Module: d.module, Type: d.typ, Body: d.body,
		ExpiryHeight: d.expHeight, ExpiryTime: d.expTime,
	}
	for i, kd := range d.keys {
		k, priv := vectorKeyFor(t, kd)
		keys = append(keys, k)
		pub := k.Public()
		v.Keys = append(v.Keys, vectorKey{
			Alg: kd.alg.String(), Seed: kd.seed, Private: priv, Public: pub.String(), PublicBytes: pub.Key,
			Address: pub.Address(), Deterministic: kd.alg != tx.P256,
		})
		txv.Signers = append(txv.Signers, tx.Signer{Key: pub, Sequence: d.seqs[i]})
		v.Tx.Signers = append(v.Tx.Signers, vectorSigner{Key: pub.String(), Sequence: d.seqs[i]})
	}
	v.Tx.Version, v.Tx.ChainID, v.Tx.Module, v.Tx.Type, v.Tx.Body = txv.Version, txv.ChainID, txv.Module, txv.Type, txv.Body
	v.Tx.ExpiryHeight, v.Tx.ExpiryTime = txv.ExpiryHeight, txv.ExpiryTime
	if err := txv.Validate(); err != nil {
		t.Fatalf("vector %s: %v", d.name, err)
	}
	b, err := txv.Encode()
	if err != nil {
		t.Fatal(err)
	}
	v.TxBytes = b
	id := sha256.Sum256(b)
	v.ID = id[:]
	v.SignedMessage = tx.SignedMessage(b)
	for i, k := range keys {
		var sig []byte
		if k.Alg() == tx.P256 {
			if pinned != nil && i < len(pinned.Signatures) && txv.Signers[i].Key.Verify(v.SignedMessage, pinned.Signatures[i]) {
				sig = pinned.Signatures[i]
			} else if !*update {
				t.Errorf("vector %s: pinned P-256 signature %d does not verify over the derived message (run go test -update if the change is intended)", d.name, i)
				continue
			}
		}
		if sig == nil {
			sig, err = k.Sign(rand.Reader, v.SignedMessage)
			if err != nil {
				t.Fatal(err)
			}
		}
		v.Signatures = append(v.Signatures, sig)
	}
	sigs := make([][]byte, len(v.Signatures))
	for i, s := range v.Signatures {
		sigs[i] = s
	}
	v.Envelope, err = (&tx.Signed{Tx: b, Sigs: sigs}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func readVectors(t testing.TB) *vectorFile {
	t.Helper()
	b, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", vectorsPath, err)
	}
	return &f
}

var vectorsComment = []string{
	"Test vectors for the Agora transaction envelope; see docs/spec/transactions.md.",
	"Byte strings are lower-case hex. A private key is SHA-256(\"agora/tx/test-vector/v1\" || 0x00 || seed).",
	"Ed25519 and secp256k1 (RFC 6979) signatures are deterministic and must be reproduced exactly;",
	"P-256 signatures are randomized, so an implementation must check that they verify, not reproduce them.",
	"Generated by internal/tx/vectors_test.go (go test ./internal/tx -run TestVectors -update).",
}

// TestVectors derives every vector from its definition and compares it
// with testdata/vectors.json; -update rewrites the file.
func TestVectors(t *testing.T) {
	pinned := map[string]*vector{}
	if f, err := os.ReadFile(vectorsPath); err == nil {
		var old vectorFile
		if err := json.Unmarshal(f, &old); err == nil {
			for i := range old.Vectors {
				pinned[old.Vectors[i].Name] = &old.Vectors[i]
			}
		}
	} else if !*update {
		t.Fatal(err)
	}
	got := vectorFile{Comment: vectorsComment, RefusedKeys: refusedKeys(t), Refused: refusedEnvelopes(t)}
	for _, d := range vectorDefs(t) {
		got.Vectors = append(got.Vectors, buildVector(t, d, pinned[d.name]))
	}
	enc, err := json.MarshalIndent(&got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	enc = append(enc, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(vectorsPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsPath, enc, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readVectors(t)
	if diff := cmp.Diff(want, &got); diff != "" {
		t.Errorf("vectors differ from %s (-file +derived); run go test -update if the change is intended:\n%s", vectorsPath, diff)
	}
	raw, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, enc) {
		t.Errorf("%s is not formatted as -update writes it", vectorsPath)
	}
}

// TestVectorsVerify reads the vectors file alone, as another
// implementation would, and checks every claim it makes with the public
// API: keys, addresses, encoding, ID, signed message, signatures and the
// envelope.
func TestVectorsVerify(t *testing.T) {
	f := readVectors(t)
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			s, txv, err := tx.Decode(v.Envelope)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !bytes.Equal(s.Tx, v.TxBytes) {
				t.Errorf("envelope carries tx bytes %x, want %x", s.Tx, v.TxBytes)
			}
			if id := s.ID(); !bytes.Equal(id[:], v.ID) {
				t.Errorf("ID = %x, want %x", id, v.ID)
			}
			if sum := sha256.Sum256(v.TxBytes); !bytes.Equal(sum[:], v.ID) {
				t.Errorf("id is not SHA-256 of tx_bytes")
			}
			if got := tx.SignedMessage(v.TxBytes); !bytes.Equal(got, v.SignedMessage) {
				t.Errorf("SignedMessage = %x, want %x", got, v.SignedMessage)
			}
			if want := append([]byte("agora/tx/v1\x00"), v.TxBytes...); !bytes.Equal(want, v.SignedMessage) {
				t.Errorf("signed_message is not the domain prefix and the tx bytes")
			}
			if err := tx.Verify(s, txv); err != nil {
				t.Errorf("Verify: %v", err)
			}
			if diff := cmp.Diff(len(v.Keys), len(txv.Signers)); diff != "" {
				t.Fatalf("keys and signers differ in number: %s", diff)
			}
			want := tx.Tx{
				Version: v.Tx.Version, ChainID: v.Tx.ChainID, Module: v.Tx.Module, Type: v.Tx.Type, Body: v.Tx.Body,
				ExpiryHeight: v.Tx.ExpiryHeight, ExpiryTime: v.Tx.ExpiryTime,
			}
			for i, vk := range v.Keys {
				pub, err := tx.ParsePublicKey(vk.Public)
				if err != nil {
					t.Fatalf("key %d: %v", i, err)
				}
				if pub.Alg.String() != vk.Alg || !bytes.Equal(pub.Key, vk.PublicBytes) {
					t.Errorf("key %d: %s does not match alg %s bytes %x", i, vk.Public, vk.Alg, vk.PublicBytes)
				}
				if pub.Address() != vk.Address {
					t.Errorf("key %d: address %s, want %s", i, pub.Address(), vk.Address)
				}
				alg, err := tx.ParseAlg(vk.Alg)
				if err != nil {
					t.Fatal(err)
				}
				seed := sha256.Sum256([]byte("agora/tx/test-vector/v1\x00" + vk.Seed))
				if !bytes.Equal(seed[:], vk.Private) {
					t.Errorf("key %d: private key is not derived from seed %q", i, vk.Seed)
				}
				priv, err := tx.NewPrivateKey(alg, vk.Private)
				if err != nil {
					t.Fatal(err)
				}
				if !priv.Public().Equal(pub) {
					t.Errorf("key %d: private key's public key is %s, want %s", i, priv.Public(), pub)
				}
				if !pub.Verify(v.SignedMessage, v.Signatures[i]) {
					t.Errorf("key %d: signature does not verify", i)
				}
				if !bytes.Equal(s.Sigs[i], v.Signatures[i]) {
					t.Errorf("envelope signature %d = %x, want %x", i, s.Sigs[i], v.Signatures[i])
				}
				if vk.Deterministic {
					sig, err := priv.Sign(nil, v.SignedMessage)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(sig, v.Signatures[i]) {
						t.Errorf("key %d: %s signature is not reproducible: got %x", i, vk.Alg, sig)
					}
				}
				if vk.Public != v.Tx.Signers[i].Key {
					t.Errorf("signer %d key %s, keys[%d] is %s", i, v.Tx.Signers[i].Key, i, vk.Public)
				}
				want.Signers = append(want.Signers, tx.Signer{Key: pub, Sequence: v.Tx.Signers[i].Sequence})
			}
			if diff := cmp.Diff(&want, txv); diff != "" {
				t.Errorf("decoded tx differs from the vector's fields (-vector +decoded):\n%s", diff)
			}
			enc, err := want.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, v.TxBytes) {
				t.Errorf("encoding the vector's fields gives %x, want %x", enc, v.TxBytes)
			}
			env, err := s.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(env, v.Envelope) {
				t.Errorf("re-encoded envelope %x, want %x", env, v.Envelope)
			}
		})
	}
}

// TestSignMatchesVectors checks that the client-side Sign produces the
// pinned tx bytes and, for deterministic algorithms, the pinned envelope.
func TestSignMatchesVectors(t *testing.T) {
	f := readVectors(t)
	for _, d := range vectorDefs(t) {
		var v *vector
		for i := range f.Vectors {
			if f.Vectors[i].Name == d.name {
				v = &f.Vectors[i]
			}
		}
		if v == nil {
			t.Fatalf("vector %s is not in %s", d.name, vectorsPath)
		}
		t.Run(d.name, func(t *testing.T) {
			txv := tx.Tx{Version: tx.Version, ChainID: d.chain, Module: d.module, Type: d.typ, Body: d.body, ExpiryHeight: d.expHeight, ExpiryTime: d.expTime}
			var keys []*tx.PrivateKey
			deterministic := true
			for i, kd := range d.keys {
				k, _ := vectorKeyFor(t, kd)
				keys = append(keys, k)
				txv.Signers = append(txv.Signers, tx.Signer{Key: k.Public(), Sequence: d.seqs[i]})
				deterministic = deterministic && kd.alg != tx.P256
			}
			s, err := tx.Sign(&txv, keys...)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(s.Tx, v.TxBytes) {
				t.Errorf("Sign encoded %x, want %x", s.Tx, v.TxBytes)
			}
			env, err := s.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if deterministic && !bytes.Equal(env, v.Envelope) {
				t.Errorf("Sign gave envelope %x, want %x", env, v.Envelope)
			}
			s2, t2, err := tx.Decode(env)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Verify(s2, t2); err != nil {
				t.Error(err)
			}
		})
	}
}

// smallOrder are the canonical encodings of the eight Ed25519 points of
// small order (the points the cofactor, 8, takes to the identity), and
// non-canonical encodings of some of them and of other points.
var smallOrder = []refusedKey{
	{"0100000000000000000000000000000000000000000000000000000000000000", "small order 1: the identity (y = 1)"},
	{"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "small order 2 (y = -1)"},
	{"0000000000000000000000000000000000000000000000000000000000000000", "small order 4 (y = 0)"},
	{"0000000000000000000000000000000000000000000000000000000000000080", "small order 4 (y = 0, x negative)"},
	{"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", "small order 8"},
	{"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", "small order 8"},
	{"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", "small order 8"},
	{"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", "small order 8"},
	{"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "non-canonical: y = p + 1, the identity"},
	{"0100000000000000000000000000000000000000000000000000000000000080", "non-canonical: the identity with x's sign bit set"},
	{"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "non-canonical: y = -1 with x's sign bit set"},
	{"f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "non-canonical: y = p + 3, a point of large order"},
	{"0200000000000000000000000000000000000000000000000000000000000000", "not a point: y = 2 has no x"},
}

// refusedKeys is the refused_keys section of the vectors file.
func refusedKeys(t testing.TB) []refusedKey {
	t.Helper()
	out := make([]refusedKey, len(smallOrder))
	for i, k := range smallOrder {
		b, err := hex.DecodeString(k.Key)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = refusedKey{Key: tx.PublicKey{Alg: tx.Ed25519, Key: b}.String(), Reason: k.Reason}
	}
	return out
}

// refusedEnvelopes is the refused section of the vectors file.
func refusedEnvelopes(t testing.TB) []refusedEnvelope {
	t.Helper()
	identity, _ := hex.DecodeString(smallOrder[0].Key)
	txv := tx.Tx{Version: tx.Version, ChainID: "agora-test-1", Module: "notary", Type: "anchor",
		Body:    mustMarshal(t, &anchorBody{SHA256: make([]byte, 32), MediaType: "text/plain"}),
		Signers: []tx.Signer{{Key: tx.PublicKey{Alg: tx.Ed25519, Key: identity}}}, ExpiryHeight: 100}
	b, err := txv.Encode()
	if err != nil {
		t.Fatal(err)
	}
	// R = the identity, S = 0: [S]B = R + [k]A holds for every message
	// when A is the identity, so nobody needs a private key to make it.
	sig := append(append([]byte{}, identity...), make([]byte, 32)...)
	env, err := (&tx.Signed{Tx: b, Sigs: [][]byte{sig}}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return []refusedEnvelope{{
		Name:        "ed25519-identity-signer",
		Description: "signed by the identity point with R = identity and S = 0, which verifies for any message: refused because the key is of small order",
		Envelope:    env,
	}}
}

// TestRefusedVectors reads the refused sections of the vectors file, as
// another implementation would: every key is refused wherever a key is
// parsed, and every envelope is refused although its signatures verify.
func TestRefusedVectors(t *testing.T) {
	f := readVectors(t)
	if len(f.RefusedKeys) == 0 || len(f.Refused) == 0 {
		t.Fatal("no refused vectors")
	}
	for _, k := range f.RefusedKeys {
		t.Run(k.Reason, func(t *testing.T) {
			if _, err := tx.ParsePublicKey(k.Key); !errors.Is(err, tx.ErrMalformed) {
				t.Errorf("ParsePublicKey(%s) = %v, want ErrMalformed", k.Key, err)
			}
			enc, _ := strings.CutPrefix(k.Key, "ed25519:")
			raw, err := base64.RawURLEncoding.DecodeString(enc)
			if err != nil {
				t.Fatal(err)
			}
			if err := (tx.PublicKey{Alg: tx.Ed25519, Key: raw}).Check(); !errors.Is(err, tx.ErrMalformed) {
				t.Errorf("Check() = %v, want ErrMalformed", err)
			}
		})
	}
	for _, v := range f.Refused {
		t.Run(v.Name, func(t *testing.T) {
			var s tx.Signed
			if err := tx.Unmarshal(v.Envelope, &s); err != nil {
				t.Fatal(err)
			}
			var txv tx.Tx
			if err := tx.Unmarshal(s.Tx, &txv); err != nil {
				t.Fatal(err)
			}
			for i, sg := range txv.Signers {
				if !sg.Key.Verify(tx.SignedMessage(s.Tx), s.Sigs[i]) {
					t.Errorf("signature %d does not verify: the vector shows nothing", i)
				}
			}
			if _, _, err := tx.Decode(v.Envelope); !errors.Is(err, tx.ErrMalformed) {
				t.Errorf("Decode = %v, want ErrMalformed", err)
			}
		})
	}
}

// TestSmallOrderList checks the list the refused keys come from against
// the curve arithmetic: the eight small-order points are distinct points
// of small order, and each non-canonical encoding decodes to a point whose
// canonical encoding differs.
func TestSmallOrderList(t *testing.T) {
	for i, k := range smallOrder {
		b, _ := hex.DecodeString(k.Key)
		var enc curve.CompressedEdwardsY
		if _, err := enc.SetBytes(b); err != nil {
			t.Fatal(err)
		}
		var p curve.EdwardsPoint
		_, err := p.SetCompressedY(&enc)
		switch {
		case strings.HasPrefix(k.Reason, "not a point"):
			if err == nil {
				t.Errorf("%s: decodes", k.Reason)
			}
		case err != nil:
			t.Errorf("%s: %v", k.Reason, err)
		case strings.HasPrefix(k.Reason, "non-canonical"):
			var again curve.CompressedEdwardsY
			if bytes.Equal(again.SetEdwardsPoint(&p)[:], b) {
				t.Errorf("%s: the encoding is canonical", k.Reason)
			}
			if small := !strings.Contains(k.Reason, "large order"); p.IsSmallOrder() != small {
				t.Errorf("%s: small order %v", k.Reason, p.IsSmallOrder())
			}
		case i < 8:
			if !p.IsSmallOrder() {
				t.Errorf("%s: not of small order", k.Reason)
			}
			for _, o := range smallOrder[:i] {
				if o.Key == k.Key {
					t.Errorf("%s: listed twice", k.Reason)
				}
			}
		}
	}
}
