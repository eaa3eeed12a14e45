package tx_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/agora-ledger/agora/internal/tx"
)

func testKey(t testing.TB, alg tx.Alg, seed string) *tx.PrivateKey {
	t.Helper()
	k, _ := vectorKeyFor(t, keyDef{alg, seed})
	return k
}

// validTx returns a statically valid transaction with the given signers.
func validTx(t testing.TB, keys ...*tx.PrivateKey) *tx.Tx {
	t.Helper()
	d := sha256.Sum256([]byte("x"))
	txv := &tx.Tx{
		Version: tx.Version, ChainID: "agora-test-1", Module: "notary", Type: "anchor",
		Body:         mustMarshal(t, &anchorBody{SHA256: d[:], MediaType: "text/plain"}),
		ExpiryHeight: 10,
	}
	for _, k := range keys {
		txv.Signers = append(txv.Signers, tx.Signer{Key: k.Public()})
	}
	return txv
}

func TestValidate(t *testing.T) {
	alice := testKey(t, tx.Ed25519, "alice")
	bob := testKey(t, tx.P256, "bob")
	carol := testKey(t, tx.Secp256k1, "carol")
	// A compressed point whose x is not on P-256: for x = 1, x³-3x+b is
	// not a square mod p, so no y exists.
	offCurve := append([]byte{2}, make([]byte, 32)...)
	offCurve[32] = 1
	tests := []struct {
		name    string
		mutate  func(*tx.Tx)
		wantErr error // nil: valid
		errText string
	}{
		{name: "valid", mutate: func(*tx.Tx) {}},
		{name: "three algorithms", mutate: func(x *tx.Tx) {
			x.Signers = append(x.Signers, tx.Signer{Key: bob.Public(), Sequence: 3}, tx.Signer{Key: carol.Public(), Sequence: 1 << 40})
		}},
		{name: "expiry time only", mutate: func(x *tx.Tx) { x.ExpiryHeight, x.ExpiryTime = 0, 1 }},
		{name: "longest names", mutate: func(x *tx.Tx) {
			x.ChainID = "A" + strings.Repeat("z", 63)
			x.Module = "m" + strings.Repeat("0", 31)
			x.Type = "t" + strings.Repeat("_", 31)
		}},
		{name: "empty body", mutate: func(x *tx.Tx) { x.Body = nil }},

		{name: "version 0", mutate: func(x *tx.Tx) { x.Version = 0 }, wantErr: tx.ErrMalformed, errText: "envelope version 0"},
		{name: "version 2", mutate: func(x *tx.Tx) { x.Version = 2 }, wantErr: tx.ErrMalformed, errText: "envelope version 2"},
		{name: "empty chain id", mutate: func(x *tx.Tx) { x.ChainID = "" }, wantErr: tx.ErrMalformed, errText: "chain id"},
		{name: "chain id with space", mutate: func(x *tx.Tx) { x.ChainID = "agora test" }, wantErr: tx.ErrMalformed, errText: "chain id"},
		{name: "chain id starting with dash", mutate: func(x *tx.Tx) { x.ChainID = "-agora" }, wantErr: tx.ErrMalformed, errText: "chain id"},
		{name: "chain id too long", mutate: func(x *tx.Tx) { x.ChainID = strings.Repeat("a", 65) }, wantErr: tx.ErrMalformed, errText: "chain id"},
		{name: "empty module", mutate: func(x *tx.Tx) { x.Module = "" }, wantErr: tx.ErrMalformed, errText: "module name"},
		{name: "upper-case module", mutate: func(x *tx.Tx) { x.Module = "Notary" }, wantErr: tx.ErrMalformed, errText: "module name"},
		{name: "module starting with digit", mutate: func(x *tx.Tx) { x.Module = "1notary" }, wantErr: tx.ErrMalformed, errText: "module name"},
		{name: "module with slash", mutate: func(x *tx.Tx) { x.Module = "notary/a" }, wantErr: tx.ErrMalformed, errText: "module name"},
		{name: "module too long", mutate: func(x *tx.Tx) { x.Module = strings.Repeat("m", 33) }, wantErr: tx.ErrMalformed, errText: "module name"},
		{name: "empty type", mutate: func(x *tx.Tx) { x.Type = "" }, wantErr: tx.ErrMalformed, errText: "message type"},
		{name: "type with space", mutate: func(x *tx.Tx) { x.Type = "an chor" }, wantErr: tx.ErrMalformed, errText: "message type"},
		{name: "no signers", mutate: func(x *tx.Tx) { x.Signers = nil }, wantErr: tx.ErrMalformed, errText: "no signers"},
		{name: "17 signers", mutate: func(x *tx.Tx) {
			x.Signers = nil
			for i := range tx.MaxSigners + 1 {
				x.Signers = append(x.Signers, tx.Signer{Key: testKey(t, tx.Ed25519, string(rune('a'+i))).Public()})
			}
		}, wantErr: tx.ErrTooLarge, errText: "17 signers, at most 16"},
		{name: "duplicate signer key", mutate: func(x *tx.Tx) {
			x.Signers = append(x.Signers, tx.Signer{Key: bob.Public()}, tx.Signer{Key: alice.Public(), Sequence: 5})
		}, wantErr: tx.ErrMalformed, errText: "signer 2 repeats a key"},
		{name: "unknown algorithm", mutate: func(x *tx.Tx) { x.Signers[0].Key.Alg = 4 }, wantErr: tx.ErrMalformed, errText: "signer 0: malformed: unknown key algorithm 4"},
		{name: "algorithm 0", mutate: func(x *tx.Tx) { x.Signers[0].Key.Alg = 0 }, wantErr: tx.ErrMalformed, errText: "unknown key algorithm 0"},
		{name: "ed25519 key of 31 bytes", mutate: func(x *tx.Tx) { x.Signers[0].Key.Key = x.Signers[0].Key.Key[:31] }, wantErr: tx.ErrMalformed, errText: "ed25519 key is 31 bytes"},
		{name: "ed25519 key of 33 bytes", mutate: func(x *tx.Tx) { x.Signers[0].Key.Key = append(x.Signers[0].Key.Key, 0) }, wantErr: tx.ErrMalformed, errText: "ed25519 key is 33 bytes"},
		{name: "p256 key of 32 bytes", mutate: func(x *tx.Tx) { x.Signers[0].Key = tx.PublicKey{Alg: tx.P256, Key: bob.Public().Key[1:]} }, wantErr: tx.ErrMalformed, errText: "p256 key is 32 bytes"},
		{name: "p256 uncompressed key", mutate: func(x *tx.Tx) {
			x.Signers[0].Key = tx.PublicKey{Alg: tx.P256, Key: append(append([]byte{4}, bob.Public().Key[1:]...), make([]byte, 32)...)}
		}, wantErr: tx.ErrMalformed, errText: "p256 key is 65 bytes"},
		{name: "p256 point not on curve", mutate: func(x *tx.Tx) { x.Signers[0].Key = tx.PublicKey{Alg: tx.P256, Key: offCurve} }, wantErr: tx.ErrMalformed, errText: "not a point on the curve"},
		{name: "p256 bad prefix", mutate: func(x *tx.Tx) {
			k := bytes.Clone(bob.Public().Key)
			k[0] = 4
			x.Signers[0].Key = tx.PublicKey{Alg: tx.P256, Key: k}
		}, wantErr: tx.ErrMalformed, errText: "not a point on the curve"},
		{name: "secp256k1 key of 32 bytes", mutate: func(x *tx.Tx) { x.Signers[0].Key = tx.PublicKey{Alg: tx.Secp256k1, Key: carol.Public().Key[1:]} }, wantErr: tx.ErrMalformed, errText: "secp256k1 key is 32 bytes"},
		{name: "secp256k1 x not on curve", mutate: func(x *tx.Tx) {
			// x = 5: 5³+7 = 132 is not a square mod p.
			k := append([]byte{2}, make([]byte, 32)...)
			k[32] = 5
			x.Signers[0].Key = tx.PublicKey{Alg: tx.Secp256k1, Key: k}
		}, wantErr: tx.ErrMalformed, errText: "secp256k1 key"},
		{name: "bad key of a later signer", mutate: func(x *tx.Tx) {
			x.Signers = append(x.Signers, tx.Signer{Key: tx.PublicKey{Alg: tx.Ed25519}})
		}, wantErr: tx.ErrMalformed, errText: "signer 1: malformed: ed25519 key is 0 bytes"},
		{name: "no expiry", mutate: func(x *tx.Tx) { x.ExpiryHeight = 0 }, wantErr: tx.ErrMalformed, errText: "no expiry"},
		{name: "negative expiry time", mutate: func(x *tx.Tx) { x.ExpiryTime = -1 }, wantErr: tx.ErrMalformed, errText: "negative expiry time"},
		{name: "negative expiry time alone", mutate: func(x *tx.Tx) { x.ExpiryHeight, x.ExpiryTime = 0, -1 }, wantErr: tx.ErrMalformed, errText: "negative expiry time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := validTx(t, alice)
			tt.mutate(x)
			err := x.Validate()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Validate() = %v, want an error wrapping %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("Validate() = %q, want it to mention %q", err, tt.errText)
			}
			// Decode applies the same checks to the encoded transaction.
			env := envelope(t, mustMarshal(t, x), len(x.Signers))
			if _, _, err := tx.Decode(env); !errors.Is(err, tt.wantErr) {
				t.Errorf("Decode() = %v, want an error wrapping %v", err, tt.wantErr)
			}
		})
	}
}

// envelope wraps tx bytes with n dummy 64-byte signatures. Decode does not
// verify signatures, so they need not be valid.
func envelope(t testing.TB, txBytes []byte, n int) []byte {
	t.Helper()
	s := &tx.Signed{Tx: txBytes}
	for range n {
		s.Sigs = append(s.Sigs, make([]byte, 64))
	}
	return mustMarshal(t, s)
}

// A minimal CBOR writer for hand-made encodings, canonical or not.

func head(major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return []byte{m | byte(n)}
	case n <= 0xff:
		return []byte{m | 24, byte(n)}
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16([]byte{m | 25}, uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32([]byte{m | 26}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{m | 27}, n)
}

func cUint(n uint64) []byte   { return head(0, n) }
func cBytes(b []byte) []byte  { return append(head(2, uint64(len(b))), b...) }
func cText(s string) []byte   { return append(head(3, uint64(len(s))), s...) }
func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// cMap encodes the key-value pairs in the order given, which may be wrong.
func cMap(pairs ...[]byte) []byte {
	return cat(head(5, uint64(len(pairs)/2)), cat(pairs...))
}

func cArray(items ...[]byte) []byte { return cat(head(4, uint64(len(items))), cat(items...)) }

// txPairs returns the map pairs of the canonical encoding of x, so that a
// test can reorder, repeat or replace them.
func txPairs(x *tx.Tx) [][]byte {
	var signers [][]byte
	for _, s := range x.Signers {
		signers = append(signers, cMap(cUint(1), cMap(cUint(1), cUint(uint64(s.Key.Alg)), cUint(2), cBytes(s.Key.Key)), cUint(2), cUint(s.Sequence)))
	}
	p := [][]byte{
		cUint(1), cUint(x.Version),
		cUint(2), cText(x.ChainID),
		cUint(3), cText(x.Module),
		cUint(4), cText(x.Type),
		cUint(5), cBytes(x.Body),
		cUint(6), cArray(signers...),
	}
	if x.ExpiryHeight != 0 {
		p = append(p, cUint(7), cUint(x.ExpiryHeight))
	}
	if x.ExpiryTime != 0 {
		p = append(p, cUint(8), cUint(uint64(x.ExpiryTime)))
	}
	return p
}

func TestHandEncodingIsCanonical(t *testing.T) {
	alice := testKey(t, tx.Ed25519, "alice")
	x := validTx(t, alice)
	x.ExpiryTime = 1 << 40
	if got, want := cMap(txPairs(x)...), mustMarshal(t, x); !bytes.Equal(got, want) {
		t.Fatalf("hand encoding %x differs from Marshal %x", got, want)
	}
	s := &tx.Signed{Tx: mustMarshal(t, x), Sigs: [][]byte{make([]byte, 64)}}
	if got, want := cMap(cUint(1), cBytes(s.Tx), cUint(2), cArray(cBytes(s.Sigs[0]))), mustMarshal(t, s); !bytes.Equal(got, want) {
		t.Fatalf("hand envelope %x differs from Marshal %x", got, want)
	}
}

func TestDecodeRefusals(t *testing.T) {
	alice := testKey(t, tx.Ed25519, "alice")
	bob := testKey(t, tx.P256, "bob")
	base := validTx(t, alice)
	good := mustMarshal(t, base)
	sig := make([]byte, 64)
	// withTx wraps hand-made tx bytes in a canonical envelope.
	withTx := func(b []byte) []byte { return cMap(cUint(1), cBytes(b), cUint(2), cArray(cBytes(sig))) }
	pairs := func(edit func(p [][]byte) [][]byte) []byte { return cMap(edit(txPairs(base))...) }
	tests := []struct {
		name    string
		in      []byte
		wantErr error
		errText string
	}{
		{name: "empty input", in: nil, wantErr: tx.ErrMalformed},
		{name: "not a map", in: cArray(cBytes(good), cArray(cBytes(sig))), wantErr: tx.ErrMalformed},
		{name: "truncated", in: withTx(good)[:20], wantErr: tx.ErrMalformed},
		{name: "trailing byte", in: append(withTx(good), 0), wantErr: tx.ErrMalformed},
		{name: "signature count below signers", in: cMap(cUint(1), cBytes(good), cUint(2), cArray()), wantErr: tx.ErrMalformed, errText: "0 signatures for 1 signers"},
		{name: "signature count above signers", in: cMap(cUint(1), cBytes(good), cUint(2), cArray(cBytes(sig), cBytes(sig))), wantErr: tx.ErrMalformed, errText: "2 signatures for 1 signers"},
		{name: "envelope missing sigs", in: cMap(cUint(1), cBytes(good)), wantErr: tx.ErrMalformed, errText: "not in canonical encoding"},
		{name: "envelope unknown field", in: cMap(cUint(1), cBytes(good), cUint(2), cArray(cBytes(sig)), cUint(3), cUint(0)), wantErr: tx.ErrMalformed, errText: "unknown field"},
		{name: "envelope keys out of order", in: cMap(cUint(2), cArray(cBytes(sig)), cUint(1), cBytes(good)), wantErr: tx.ErrMalformed, errText: "not in canonical encoding"},
		{name: "envelope duplicate key", in: cMap(cUint(1), cBytes(good), cUint(1), cBytes(good), cUint(2), cArray(cBytes(sig))), wantErr: tx.ErrMalformed, errText: "duplicate map key"},
		{name: "envelope text keys", in: cMap(cText("1"), cBytes(good), cText("2"), cArray(cBytes(sig))), wantErr: tx.ErrMalformed},
		{name: "tx length not in shortest form", in: cat(head(5, 2), cUint(1), []byte{0x59}, binary.BigEndian.AppendUint16(nil, uint16(len(good))), good, cUint(2), cArray(cBytes(sig))), wantErr: tx.ErrMalformed, errText: "not in canonical encoding"},
		{name: "indefinite-length signatures array", in: cat(head(5, 2), cUint(1), cBytes(good), cUint(2), []byte{0x9f}, cBytes(sig), []byte{0xff}), wantErr: tx.ErrMalformed, errText: "indefinite-length"},
		{name: "indefinite-length tx byte string", in: cat(head(5, 2), cUint(1), []byte{0x5f}, cBytes(good[:10]), cBytes(good[10:]), []byte{0xff}, cUint(2), cArray(cBytes(sig))), wantErr: tx.ErrMalformed, errText: "indefinite-length"},
		{name: "tagged tx (tag 24, embedded CBOR)", in: cat(head(5, 2), cUint(1), []byte{0xd8, 24}, cBytes(good), cUint(2), cArray(cBytes(sig))), wantErr: tx.ErrMalformed, errText: "tag"},
		{name: "null signature list", in: cat(head(5, 2), cUint(1), cBytes(good), cUint(2), []byte{0xf6}), wantErr: tx.ErrMalformed, errText: "not in canonical encoding"},
		{name: "null tx", in: cat(head(5, 2), cUint(1), []byte{0xf6}, cUint(2), cArray(cBytes(sig))), wantErr: tx.ErrMalformed},
		{name: "oversize envelope", in: envelope(t, cat(good, make([]byte, tx.MaxSize))[:tx.MaxSize+1], 0), wantErr: tx.ErrTooLarge, errText: "at most 65536"},

		{name: "tx is not CBOR", in: withTx([]byte("hello")), wantErr: tx.ErrMalformed, errText: "transaction:"},
		{name: "tx version not in shortest form", in: withTx(pairs(func(p [][]byte) [][]byte {
			p[1] = []byte{0x18, 0x01}
			return p
		})), wantErr: tx.ErrMalformed, errText: "not in canonical encoding"},
		{name: "tx expiry height as 8-byte integer", in: withTx(pairs(func(p [][]byte) [][]byte {
			p[13] = binary.BigEndian.AppendUint64([]byte{0x1b}, base.ExpiryHeight)
			return p
		})), wantErr: tx.ErrMalformed, errText: "not in canonical encoding"},
		{name: "tx map keys out of order", in: withTx(pairs(func(p [][]byte) [][]byte {
			p[0], p[1], p[2], p[3] = p[2], p[3], p[0], p[1]
			return p
		})), wantErr: tx.ErrMalformed, errText: "not in canonical encoding"},
		{name: "tx unknown field 9", in: withTx(pairs(func(p [][]byte) [][]byte {
			return append(p, cUint(9), cUint(0))
		})), wantErr: tx.ErrMalformed, errText: "unknown field"},
		{name: "tx duplicate module", in: withTx(pairs(func(p [][]byte) [][]byte {
			return append(p[:6:6], append([][]byte{cUint(3), cText("other")}, p[6:]...)...)
		})), wantErr: tx.ErrMalformed, errText: "duplicate map key"},
		{name: "tx missing chain id", in: withTx(pairs(func(p [][]byte) [][]byte {
			return append(p[:2:2], p[4:]...)
		})), wantErr: tx.ErrMalformed, errText: "not in canonical encoding"},
		{name: "tx explicit zero expiry time", in: withTx(pairs(func(p [][]byte) [][]byte {
			return append(p, cUint(8), cUint(0))
		})), wantErr: tx.ErrMalformed, errText: "not in canonical encoding"},
		{name: "tx negative expiry time", in: withTx(pairs(func(p [][]byte) [][]byte {
			return append(p, cUint(8), []byte{0x20}) // -1
		})), wantErr: tx.ErrMalformed, errText: "negative expiry time"},
		{name: "tx float version", in: withTx(pairs(func(p [][]byte) [][]byte {
			p[1] = []byte{0xf9, 0x3c, 0x00} // 1.0 as a half float
			return p
		})), wantErr: tx.ErrMalformed},
		{name: "tx bignum sequence (tag 2)", in: withTx(pairs(func(p [][]byte) [][]byte {
			p[11] = cArray(cMap(cUint(1), cMap(cUint(1), cUint(1), cUint(2), cBytes(alice.Public().Key)), cUint(2), cat([]byte{0xc2}, cBytes([]byte{1}))))
			return p
		})), wantErr: tx.ErrMalformed, errText: "tag"},
		{name: "tx algorithm above 255", in: withTx(pairs(func(p [][]byte) [][]byte {
			p[11] = cArray(cMap(cUint(1), cMap(cUint(1), cUint(257), cUint(2), cBytes(alice.Public().Key)), cUint(2), cUint(0)))
			return p
		})), wantErr: tx.ErrMalformed},
		{name: "tx null body", in: withTx(pairs(func(p [][]byte) [][]byte {
			p[9] = []byte{0xf6}
			return p
		})), wantErr: tx.ErrMalformed, errText: "not in canonical encoding"},
		{name: "tx chain id as byte string", in: withTx(pairs(func(p [][]byte) [][]byte {
			p[3] = cBytes([]byte(base.ChainID))
			return p
		})), wantErr: tx.ErrMalformed},
		{name: "tx invalid UTF-8 in type", in: withTx(pairs(func(p [][]byte) [][]byte {
			p[7] = cText("anch\xffor")
			return p
		})), wantErr: tx.ErrMalformed, errText: "UTF-8"},
		{name: "tx indefinite-length signers", in: withTx(pairs(func(p [][]byte) [][]byte {
			p[11] = cat([]byte{0x9f}, p[11][1:], []byte{0xff})
			return p
		})), wantErr: tx.ErrMalformed, errText: "indefinite-length"},
		{name: "tx signer key unknown field", in: withTx(pairs(func(p [][]byte) [][]byte {
			p[11] = cArray(cMap(cUint(1), cMap(cUint(1), cUint(1), cUint(2), cBytes(alice.Public().Key), cUint(3), cUint(0)), cUint(2), cUint(0)))
			return p
		})), wantErr: tx.ErrMalformed, errText: "unknown field"},
		{name: "tx deeply nested", in: withTx(cat(bytes.Repeat([]byte{0x81}, 100), []byte{0})), wantErr: tx.ErrMalformed},
		{name: "tx with P-256 signer but one signature too many", in: envelope(t, mustMarshal(t, validTx(t, bob)), 2), wantErr: tx.ErrMalformed, errText: "2 signatures for 1 signers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, x, err := tx.Decode(tt.in)
			if err == nil {
				t.Fatalf("Decode accepted %x: %+v %+v", tt.in, s, x)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decode() = %v, want an error wrapping %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("Decode() = %q, want it to mention %q", err, tt.errText)
			}
		})
	}
}

func TestDecodeSizeLimit(t *testing.T) {
	alice := testKey(t, tx.Ed25519, "alice")
	x := validTx(t, alice)
	base := len(envelope(t, mustMarshal(t, x), 1))
	// Grow the body until the envelope is exactly MaxSize bytes; the
	// lengths' encodings grow by steps, so search.
	for pad := tx.MaxSize - base - 16; pad < tx.MaxSize; pad++ {
		x.Body = make([]byte, pad)
		env := envelope(t, mustMarshal(t, x), 1)
		if len(env) < tx.MaxSize {
			continue
		}
		if len(env) != tx.MaxSize {
			t.Fatalf("no body size gives an envelope of exactly %d bytes", tx.MaxSize)
		}
		if _, _, err := tx.Decode(env); err != nil {
			t.Fatalf("Decode of a %d-byte envelope: %v", len(env), err)
		}
		x.Body = make([]byte, pad+1)
		env = envelope(t, mustMarshal(t, x), 1)
		if _, _, err := tx.Decode(env); !errors.Is(err, tx.ErrTooLarge) {
			t.Fatalf("Decode of a %d-byte envelope = %v, want ErrTooLarge", len(env), err)
		}
		return
	}
	t.Fatal("unreachable")
}

func TestIDText(t *testing.T) {
	alice := testKey(t, tx.Ed25519, "alice")
	s, err := tx.Sign(validTx(t, alice), alice)
	if err != nil {
		t.Fatal(err)
	}
	id := s.ID()
	text, err := id.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	var back tx.ID
	if err := back.UnmarshalText(text); err != nil || back != id {
		t.Fatalf("UnmarshalText(%s) = %v, %v", text, back, err)
	}
	for _, bad := range []string{"", "00", strings.Repeat("g", 64), strings.Repeat("0", 63), strings.Repeat("0", 65)} {
		if _, err := tx.ParseID(bad); !errors.Is(err, tx.ErrMalformed) {
			t.Errorf("ParseID(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestSignRefusesMismatchedKeys(t *testing.T) {
	alice := testKey(t, tx.Ed25519, "alice")
	bob := testKey(t, tx.P256, "bob")
	x := validTx(t, alice, bob)
	if _, err := tx.Sign(x, alice); err == nil {
		t.Error("Sign with one key for two signers succeeded")
	}
	if _, err := tx.Sign(x, bob, alice); err == nil {
		t.Error("Sign with keys in the wrong order succeeded")
	}
	s, err := tx.Sign(x, alice, bob)
	if err != nil {
		t.Fatal(err)
	}
	env, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	s2, x2, err := tx.Decode(env)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(x, x2); diff != "" {
		t.Errorf("decoded tx differs (-signed +decoded):\n%s", diff)
	}
	if err := tx.Verify(s2, x2); err != nil {
		t.Error(err)
	}
}
