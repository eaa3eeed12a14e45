package statuslist

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

const testdata = "testdata"

func vectorFile(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, rel))
	if err != nil {
		t.Fatalf("vectors missing: %v", err)
	}
	return b
}

type vector struct {
	Name         string         `json:"name"`
	Bits         int            `json:"bits"`
	Size         int            `json:"size"`
	Statuses     map[string]int `json:"statuses"`
	JSON         JSON           `json:"json"`
	CBORHex      string         `json:"cbor_hex"`
	ByteArrayHex string         `json:"byte_array_hex"`
}

func loadVectors(t testing.TB) []vector {
	var f struct{ Vectors []vector }
	if err := json.Unmarshal(vectorFile(t, "token-status-list/vectors.json"), &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	return f.Vectors
}

// checkStatuses compares every entry of l with the vector (unlisted entries are 0).
func checkStatuses(t *testing.T, l *List, v vector) {
	t.Helper()
	if l.Bits() != v.Bits || l.Len() < v.Size {
		t.Fatalf("bits %d len %d, want bits %d and at least %d entries", l.Bits(), l.Len(), v.Bits, v.Size)
	}
	for i := range l.Len() {
		got, err := l.Get(i)
		if err != nil {
			t.Fatal(err)
		}
		if want := v.Statuses[strconv.Itoa(i)]; int(got) != want {
			t.Fatalf("status[%d] = %d, want %d", i, got, want)
		}
	}
}

// TestTokenStatusListVectors decodes every encoding vector of the draft (JSON and CBOR),
// rebuilds each list from its statuses, and checks our encoding decodes to the same
// statuses. Our compressed bytes are not compared with the draft's: the draft's were
// made by Python's zlib, whose DEFLATE choices differ from Go's compress/flate, and
// the draft asks for a valid ZLIB stream, not particular bytes.
func TestTokenStatusListVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			l, err := Decode(v.JSON)
			if err != nil {
				t.Fatal(err)
			}
			checkStatuses(t, l, v)
			if v.ByteArrayHex != "" && hex.EncodeToString(l.Bytes()) != v.ByteArrayHex {
				t.Errorf("byte array %x, document says %s", l.Bytes(), v.ByteArrayHex)
			}
			cb, err := hex.DecodeString(v.CBORHex)
			if err != nil {
				t.Fatal(err)
			}
			lc, err := DecodeCBOR(cb)
			if err != nil {
				t.Fatal(err)
			}
			checkStatuses(t, lc, v)

			ours, err := New(v.Bits, v.Size)
			if err != nil {
				t.Fatal(err)
			}
			for k, s := range v.Statuses {
				i, _ := strconv.Atoi(k)
				if err := ours.Set(i, byte(s)); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(ours.Bytes(), l.Bytes()) {
				t.Fatal("rebuilt list differs from the decoded one")
			}
			j, err := ours.Encode()
			if err != nil {
				t.Fatal(err)
			}
			again, err := Decode(j)
			if err != nil {
				t.Fatal(err)
			}
			checkStatuses(t, again, v)
			c, err := ours.EncodeCBOR()
			if err != nil {
				t.Fatal(err)
			}
			if again, err = DecodeCBOR(c); err != nil {
				t.Fatal(err)
			}
			checkStatuses(t, again, v)
		})
	}
}

// TestStatusListTokenExample verifies the draft's Status List Token (Section 5.1)
// with its example key and reads its list.
func TestStatusListTokenExample(t *testing.T) {
	var key jose.JSONWebKey
	if err := key.UnmarshalJSON(vectorFile(t, "token-status-list/example_key.jwk.json")); err != nil {
		t.Fatal(err)
	}
	jwt := strings.TrimSpace(string(vectorFile(t, "token-status-list/status_list_token.jwt")))
	now := time.Unix(1686920170, 0)
	tok, err := VerifyToken(jwt, key.Public().Key, "https://example.com/statuslists/1", now)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Issuer != "https://example.com" || tok.TTL != 12*time.Hour || tok.Expires.Unix() != 2291720170 {
		t.Errorf("token %+v", tok)
	}
	checkStatuses(t, tok.List, loadVectors(t)[0]) // the token carries the 1-bit example

	// The same claims signed by us give the draft's payload byte for byte whenever our
	// compression matches; compare the claims as JSON instead (see above).
	k := ed25519.NewKeyFromSeed(make([]byte, 32))
	ours, err := SignToken(*tok, jose.SigningKey{Algorithm: jose.EdDSA, Key: k}, "12")
	if err != nil {
		t.Fatal(err)
	}
	back, err := VerifyToken(ours, k.Public(), tok.Subject, now)
	if err != nil {
		t.Fatal(err)
	}
	if back.Subject != tok.Subject || back.TTL != tok.TTL || !back.Expires.Equal(tok.Expires) || !bytes.Equal(back.List.Bytes(), tok.List.Bytes()) {
		t.Errorf("round trip: %+v, want %+v", back, tok)
	}

	for _, tc := range []struct {
		desc string
		jwt  string
		key  any
		uri  string
		now  time.Time
	}{
		{"other subject", jwt, key.Public().Key, "https://example.com/statuslists/2", now},
		{"expired", jwt, key.Public().Key, "", time.Unix(2291720170, 0)},
		{"other key", jwt, k.Public(), "", now},
		{"tampered", strings.Replace(jwt, ".", ".e30", 1), key.Public().Key, "", now},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if _, err := VerifyToken(tc.jwt, tc.key, tc.uri, tc.now); !errors.Is(err, ErrToken) {
				t.Fatalf("err = %v, want ErrToken", err)
			}
		})
	}
}

func TestVerifyTokenRefusesShape(t *testing.T) {
	k := ed25519.NewKeyFromSeed(make([]byte, 32))
	signRaw := func(typ, payload string) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: k}, (&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
		if err != nil {
			t.Fatal(err)
		}
		jws, err := signer.Sign([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		s, _ := jws.CompactSerialize()
		return s
	}
	now := time.Unix(1000, 0)
	for _, tc := range []struct {
		desc, typ, payload string
		want               error
	}{
		{"wrong typ", "JWT", `{"sub":"s","iat":1,"status_list":{"bits":1,"lst":"eNrbuRgAAhcBXQ"}}`, ErrToken},
		{"no sub", TokenType, `{"iat":1,"status_list":{"bits":1,"lst":"eNrbuRgAAhcBXQ"}}`, ErrMalformed},
		{"no iat", TokenType, `{"sub":"s","status_list":{"bits":1,"lst":"eNrbuRgAAhcBXQ"}}`, ErrMalformed},
		{"no list", TokenType, `{"sub":"s","iat":1}`, ErrMalformed},
		{"ttl zero", TokenType, `{"sub":"s","iat":1,"ttl":0,"status_list":{"bits":1,"lst":"eNrbuRgAAhcBXQ"}}`, ErrMalformed},
		{"bits 3", TokenType, `{"sub":"s","iat":1,"status_list":{"bits":3,"lst":"eNrbuRgAAhcBXQ"}}`, ErrMalformed},
		{"lst not zlib", TokenType, `{"sub":"s","iat":1,"status_list":{"bits":1,"lst":"AAAA"}}`, ErrMalformed},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if _, err := VerifyToken(signRaw(tc.typ, tc.payload), k.Public(), "", now); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestListGetSet(t *testing.T) {
	for _, bits := range []int{1, 2, 4, 8} {
		l, err := New(bits, 100)
		if err != nil {
			t.Fatal(err)
		}
		max := byte(1<<bits - 1)
		for i := range l.Len() {
			if err := l.Set(i, byte(i)&max); err != nil {
				t.Fatal(err)
			}
		}
		for i := range l.Len() {
			if got, _ := l.Get(i); got != byte(i)&max {
				t.Fatalf("bits %d: entry %d = %d", bits, i, got)
			}
		}
		if bits < 8 {
			if err := l.Set(0, max+1); !errors.Is(err, ErrRange) {
				t.Errorf("bits %d: set %d: %v", bits, max+1, err)
			}
		}
		if _, err := l.Get(l.Len()); !errors.Is(err, ErrRange) {
			t.Errorf("bits %d: get past the end: %v", bits, err)
		}
	}
	if _, err := New(3, 10); !errors.Is(err, ErrRange) {
		t.Errorf("bits 3: %v", err)
	}
}

// TestDecodeRefusesBomb: a list that inflates past MaxBytes is refused.
func TestDecodeRefusesBomb(t *testing.T) {
	l := &List{bits: 1, data: make([]byte, MaxBytes+1)}
	j, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(j); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
}

// TestBitstringRECExamples decodes every encodedList of the Bitstring Status List REC
// (131,072 zero entries), and reads each statusListIndex that points at one of those
// lists: 0, the credential is not revoked. (The REC's other lists, status/4, /5 and /8,
// are not printed.)
func TestBitstringRECExamples(t *testing.T) {
	var rec struct {
		Examples []struct {
			Number int
			Tabs   []struct{ Content string }
		}
	}
	if err := json.Unmarshal(vectorFile(t, "w3c-bitstring-status-list/rec-examples.json"), &rec); err != nil {
		t.Fatal(err)
	}
	idRE := regexp.MustCompile(`"id":\s*"([^"]+)"`)
	encRE := regexp.MustCompile(`"encodedList":\s*"([^"]+)"`)
	refRE := regexp.MustCompile(`"statusListIndex":\s*"(\d+)",\s*"statusListCredential":\s*"([^"]+)"`)
	lists := map[string]*Bitstring{}
	for _, ex := range rec.Examples {
		for _, tab := range ex.Tabs {
			m := encRE.FindStringSubmatch(tab.Content)
			if m == nil {
				continue
			}
			b, err := DecodeBitstring(m[1], 1)
			if err != nil {
				t.Fatalf("example %d: %v", ex.Number, err)
			}
			if b.Len() != MinEntries {
				t.Errorf("example %d: %d entries", ex.Number, b.Len())
			}
			for i := range b.Len() {
				if v, _ := b.Get(i); v != 0 {
					t.Fatalf("example %d: entry %d = %d", ex.Number, i, v)
				}
			}
			lists[idRE.FindStringSubmatch(tab.Content)[1]] = b
		}
	}
	refs := 0
	for _, ex := range rec.Examples {
		for _, tab := range ex.Tabs {
			for _, m := range refRE.FindAllStringSubmatch(tab.Content, -1) {
				b, ok := lists[m[2]]
				if !ok {
					continue
				}
				i, _ := strconv.Atoi(m[1])
				if v, err := b.Get(i); err != nil || v != 0 {
					t.Errorf("example %d: entry %d of %s: %d, %v", ex.Number, i, m[2], v, err)
				}
				refs++
			}
		}
	}
	if len(lists) == 0 || refs == 0 {
		t.Fatalf("found %d lists and %d references to them in the REC examples", len(lists), refs)
	}
}

func TestBitstringRoundTrip(t *testing.T) {
	for _, size := range []int{1, 2, 3, 8} {
		b, err := NewBitstring(10, size)
		if err != nil {
			t.Fatal(err)
		}
		if b.Len() != MinEntries {
			t.Fatalf("size %d: %d entries, want the minimum %d", size, b.Len(), MinEntries)
		}
		max := byte(1<<size - 1)
		set := map[int]byte{0: max, 1: 1 & max, 94567: 2 & max, MinEntries - 1: max}
		for i, v := range set {
			if err := b.Set(i, v); err != nil {
				t.Fatal(err)
			}
		}
		enc, err := b.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeBitstring(enc, size)
		if err != nil {
			t.Fatal(err)
		}
		for i := range back.Len() {
			if got, _ := back.Get(i); got != set[i] {
				t.Fatalf("size %d: entry %d = %d, want %d", size, i, got, set[i])
			}
		}
	}
	// MSB first: entry 0 is the left-most bit of the first byte.
	b, _ := NewBitstring(0, 1)
	b.Set(0, 1)
	b.Set(9, 1)
	if b.data[0] != 0x80 || b.data[1] != 0x40 {
		t.Errorf("bytes %x %x, want 80 40", b.data[0], b.data[1])
	}
	// LSB first in the IETF list: the draft's Section 4.1 example.
	l, _ := New(1, 16)
	for _, i := range []int{0, 3, 4, 5, 7, 8, 9, 13, 15} {
		l.Set(i, 1)
	}
	if hex.EncodeToString(l.Bytes()) != "b9a3" {
		t.Errorf("bytes %x, want b9a3", l.Bytes())
	}
}

func TestDecodeBitstringRefuses(t *testing.T) {
	small := &Bitstring{size: 1, data: make([]byte, MinEntries/8-1)}
	smallEnc, err := small.Encode()
	if err != nil {
		t.Fatal(err)
	}
	ok, _ := NewBitstring(0, 1)
	okEnc, _ := ok.Encode()
	for _, tc := range []struct {
		desc, enc string
		size      int
	}{
		{"no multibase prefix", okEnc[1:], 1},
		{"base58 prefix", "z" + okEnc[1:], 1},
		{"not base64url", "u***", 1},
		{"not gzip", "u" + base64.RawURLEncoding.EncodeToString([]byte("plain")), 1},
		{"too short", smallEnc, 1},
		{"fewer entries than the minimum at statusSize 2", okEnc, 2},
		{"not whole entries", okEnc, 3},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if _, err := DecodeBitstring(tc.enc, tc.size); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

// FuzzDecode: decoding never panics, and what decodes re-encodes to the same entries.
func FuzzDecode(f *testing.F) {
	for _, v := range loadVectors(f)[:2] {
		f.Add(v.Bits, v.JSON.Lst)
	}
	f.Fuzz(func(t *testing.T, bits int, lst string) {
		l, err := Decode(JSON{Bits: bits, Lst: lst})
		if err != nil {
			return
		}
		j, err := l.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(j)
		if err != nil || !bytes.Equal(back.Bytes(), l.Bytes()) {
			t.Fatalf("round trip of %q: %v", lst, err)
		}
	})
}

// FuzzDecodeCBOR: decoding never panics, and what decodes re-encodes to the same entries.
func FuzzDecodeCBOR(f *testing.F) {
	for _, v := range loadVectors(f)[:2] {
		b, _ := hex.DecodeString(v.CBORHex)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := DecodeCBOR(b)
		if err != nil {
			return
		}
		c, err := l.EncodeCBOR()
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeCBOR(c)
		if err != nil || !bytes.Equal(back.Bytes(), l.Bytes()) || back.Bits() != l.Bits() {
			t.Fatalf("round trip of %x: %v", b, err)
		}
	})
}

// FuzzDecodeBitstring: decoding never panics, and what decodes re-encodes to the same bits.
func FuzzDecodeBitstring(f *testing.F) {
	ok, _ := NewBitstring(0, 1)
	enc, _ := ok.Encode()
	f.Add(enc, 1)
	f.Add(enc, 2)
	f.Fuzz(func(t *testing.T, s string, size int) {
		b, err := DecodeBitstring(s, size)
		if err != nil {
			return
		}
		e, err := b.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeBitstring(e, size)
		if err != nil || !bytes.Equal(back.data, b.data) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
