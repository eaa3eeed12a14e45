package frost

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"filippo.io/edwards25519"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeElementRefuses holds the element decoders to RFC 9591 section
// 6: no identity, no point outside the prime-order subgroup, no
// non-canonical encoding, nothing off the curve.
func TestDecodeElementRefuses(t *testing.T) {
	order8 := unhex(t, "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
	var small, mixed edwards25519.Point
	if _, err := small.SetBytes(order8); err != nil {
		t.Fatal(err)
	}
	mixed.Add(edwards25519.NewGeneratorPoint(), &small)
	g := edwards25519.NewGeneratorPoint().Bytes()
	k1g := (k1Group{}).baseMul((k1Group{}).scalarFromUint(1)).bytes()

	for _, tc := range []struct {
		desc string
		g    group
		b    []byte
	}{
		{"ed25519 identity", edGroup{}, unhex(t, "0100000000000000000000000000000000000000000000000000000000000000")},
		{"ed25519 order 2", edGroup{}, unhex(t, "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")},
		{"ed25519 order 4", edGroup{}, make([]byte, 32)},
		{"ed25519 order 8", edGroup{}, order8},
		{"ed25519 generator plus a point of order 8", edGroup{}, mixed.Bytes()},
		{"ed25519 y = p + 1, non-canonical", edGroup{}, unhex(t, "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")},
		{"ed25519 x = 0 with the sign bit set", edGroup{}, unhex(t, "0100000000000000000000000000000000000000000000000000000000000080")},
		{"ed25519 not on the curve", edGroup{}, unhex(t, "0200000000000000000000000000000000000000000000000000000000000000")},
		{"ed25519 short", edGroup{}, g[:31]},
		{"secp256k1 uncompressed prefix", k1Group{}, append([]byte{0x04}, k1g[1:]...)},
		{"secp256k1 x = p", k1Group{}, unhex(t, "02fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f")},
		{"secp256k1 x not on the curve", k1Group{}, unhex(t, "020000000000000000000000000000000000000000000000000000000000000005")},
		{"secp256k1 zero", k1Group{}, make([]byte, 33)},
		{"secp256k1 short", k1Group{}, k1g[:32]},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if _, err := tc.g.decodeElement(tc.b); !errors.Is(err, errBadElement) {
				t.Fatalf("got %v, want errBadElement", err)
			}
		})
	}
	// And the generators decode to themselves.
	for _, tc := range []struct {
		g group
		b []byte
	}{{edGroup{}, g}, {k1Group{}, k1g}} {
		e, err := tc.g.decodeElement(tc.b)
		if err != nil || !bytes.Equal(e.bytes(), tc.b) {
			t.Fatalf("generator %x: %v", tc.b, err)
		}
	}
}

func TestDecodeScalarRefuses(t *testing.T) {
	for _, tc := range []struct {
		desc string
		g    group
		b    []byte
	}{
		{"ed25519 L", edGroup{}, unhex(t, "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")},
		{"ed25519 short", edGroup{}, make([]byte, 31)},
		{"secp256k1 n", k1Group{}, unhex(t, "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")},
		{"secp256k1 long", k1Group{}, make([]byte, 33)},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if _, err := tc.g.decodeScalar(tc.b); !errors.Is(err, errBadScalar) {
				t.Fatalf("got %v, want errBadScalar", err)
			}
		})
	}
}

// TestExpandMessageXMD checks expand_message_xmd against RFC 9380's
// vectors for SHA-256 and SHA-512 (testdata/expand_message_xmd_*.json).
func TestExpandMessageXMD(t *testing.T) {
	for _, tc := range []struct {
		file string
		h    func() hash.Hash
	}{
		{"expand_message_xmd_SHA256_38.json", sha256.New},
		{"expand_message_xmd_SHA512_38.json", sha512.New},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			DST   string `json:"DST"`
			Tests []struct {
				Msg     string   `json:"msg"`
				Len     string   `json:"len_in_bytes"`
				Uniform hexBytes `json:"uniform_bytes"`
			} `json:"tests"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		if len(v.Tests) == 0 {
			t.Fatal("no vectors")
		}
		for _, vt := range v.Tests {
			n, err := strconv.ParseInt(vt.Len, 0, 32)
			if err != nil {
				t.Fatal(err)
			}
			if got := expandMessageXMD(tc.h, []byte(vt.Msg), []byte(v.DST), int(n)); !bytes.Equal(got, vt.Uniform) {
				t.Errorf("%s %q %d: %x, want %x", tc.file, vt.Msg, n, got, []byte(vt.Uniform))
			}
		}
	}
}
