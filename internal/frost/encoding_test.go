package frost

import (
	"bytes"
	"errors"
	"testing"
)

// encodedValues returns one encoding of every kind of value, for each
// suite, from a 2-of-3 DKG and a signing: the fuzz seeds.
func encodedValues(t testing.TB, s *Suite) map[string][]byte {
	rnd := testRand(9)
	r := runDKGRounds(t, s, rnd, 2, 3)
	keys := r.finish(t)
	_, list, shares := signWith(t, rnd, keys[0].Public(), keys[:2], []byte("m"))
	return map[string][]byte{
		"commitments": list[0].Bytes(),
		"share":       shares[1].Bytes(),
		"round1":      r.round1[2].Bytes(),
		"round2":      r.round2[0][1].Bytes(),
		"public":      keys[0].Public().Bytes(),
		"key":         keys[1].Bytes(),
	}
}

// decodeAndEncode decodes b as kind and encodes the result again.
func decodeAndEncode(s *Suite, kind string, b []byte) ([]byte, error) {
	switch kind {
	case "commitments":
		return reencode(s.DecodeCommitments(b))
	case "share":
		return reencode(s.DecodeSignatureShare(b))
	case "round1":
		return reencode(s.DecodeRound1Package(b))
	case "round2":
		return reencode(s.DecodeRound2Package(b))
	case "public":
		return reencode(s.DecodePublicKeyPackage(b))
	default:
		return reencode(s.DecodeKeyPackage(b))
	}
}

func reencode[T interface{ Bytes() []byte }](v T, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	return v.Bytes(), nil
}

var kinds = []string{"commitments", "share", "round1", "round2", "public", "key"}

func TestEncodingRoundTrip(t *testing.T) {
	for _, s := range suites {
		vals := encodedValues(t, s)
		for _, kind := range kinds {
			t.Run(s.String()+"/"+kind, func(t *testing.T) {
				b := vals[kind]
				got, err := decodeAndEncode(s, kind, b)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, b) {
					t.Fatalf("re-encoded %x, want %x", got, b)
				}
				for _, bad := range []struct {
					desc string
					b    []byte
				}{
					{"truncated", b[:len(b)-1]},
					{"trailing byte", append(bytes.Clone(b), 0)},
					{"identifier 0", append([]byte{0, 0}, b[2:]...)},
				} {
					if kind == "public" && bad.desc == "identifier 0" {
						continue // starts with the threshold; see TestDecodeRefuses
					}
					if _, err := decodeAndEncode(s, kind, bad.b); !errors.Is(err, ErrMalformed) {
						t.Errorf("%s: %v, want ErrMalformed", bad.desc, err)
					}
				}
			})
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	s := Ed25519
	vals := encodedValues(t, s)
	flip := func(b []byte, i int, v byte) []byte {
		b = bytes.Clone(b)
		b[i] = v
		return b
	}
	pub := vals["public"]
	key := vals["key"]
	for _, tc := range []struct {
		desc string
		kind string
		b    []byte
	}{
		{"non-canonical scalar", "share", append(vals["share"][:2:2], bytes.Repeat([]byte{0xff}, 32)...)},
		{"identity element", "commitments", append(append(vals["commitments"][:2:2], flip(make([]byte, 32), 0, 1)...), vals["commitments"][34:]...)},
		{"threshold 1", "public", flip(pub, 1, 1)},
		{"threshold above the count", "public", flip(pub, 1, 4)},
		{"unordered participants", "public", flip(pub, 4+32+1, 3)},
		{"share of another participant", "key", flip(key, 1, 3)},
		{"no commitments", "round1", flip(flip(vals["round1"], 2, 0), 3, 0)},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if _, err := decodeAndEncode(s, tc.kind, tc.b); !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
		})
	}
}

// FuzzDecode feeds every decoder of every suite; whatever decodes must
// encode back to the same bytes.
func FuzzDecode(f *testing.F) {
	for si, s := range suites {
		vals := encodedValues(f, s)
		for ki, kind := range kinds {
			f.Add(byte(si), byte(ki), vals[kind])
		}
	}
	f.Fuzz(func(t *testing.T, si, ki byte, b []byte) {
		s := suites[int(si)%len(suites)]
		kind := kinds[int(ki)%len(kinds)]
		got, err := decodeAndEncode(s, kind, b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s %s: error %v not ErrMalformed", s, kind, err)
			}
			return
		}
		if !bytes.Equal(got, b) {
			t.Fatalf("%s %s: %x re-encodes as %x", s, kind, b, got)
		}
	})
}
