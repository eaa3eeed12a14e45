package tlog_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/tlog"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The example checkpoint of C2SP tlog-checkpoint.
const specCheckpoint = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"

func hash(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func must64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestParseCheckpoint(t *testing.T) {
	h := "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
	tests := []struct {
		name string
		text string
		want *tlog.Checkpoint // nil: refused
	}{
		{"spec example", specCheckpoint, &tlog.Checkpoint{Origin: "example.com/behind-the-sofa", Size: 20852163, Hash: must64(h)}},
		{"extensions", "o\n1\n" + h + "\nagora/state-root AAAA\nsecond line\n", &tlog.Checkpoint{Origin: "o", Size: 1, Hash: must64(h), Extensions: []string{"agora/state-root AAAA", "second line"}}},
		{"size zero", "o\n0\n" + h + "\n", &tlog.Checkpoint{Origin: "o", Size: 0, Hash: must64(h)}},
		{"largest size", "o\n18446744073709551615\n" + h + "\n", &tlog.Checkpoint{Origin: "o", Size: 1<<64 - 1, Hash: must64(h)}},
		{"origin with spaces and unicode", "a log — ü\n1\n" + h + "\n", &tlog.Checkpoint{Origin: "a log — ü", Size: 1, Hash: must64(h)}},

		{"empty", "", nil},
		{"no final newline", strings.TrimSuffix(specCheckpoint, "\n"), nil},
		{"two lines", "o\n1\n", nil},
		{"empty origin", "\n1\n" + h + "\n", nil},
		{"empty extension line", "o\n1\n" + h + "\n\n", nil},
		{"empty line between extensions", "o\n1\n" + h + "\na\n\nb\n", nil},
		{"leading zero", "o\n01\n" + h + "\n", nil},
		{"double zero", "o\n00\n" + h + "\n", nil},
		{"plus sign", "o\n+1\n" + h + "\n", nil},
		{"minus sign", "o\n-1\n" + h + "\n", nil},
		{"space in size", "o\n 1\n" + h + "\n", nil},
		{"size overflows", "o\n18446744073709551616\n" + h + "\n", nil},
		{"hex size", "o\n0x1\n" + h + "\n", nil},
		{"underscore size", "o\n1_000\n" + h + "\n", nil},
		{"hash 31 bytes", "o\n1\n" + b64(make([]byte, 31)) + "\n", nil},
		{"hash 33 bytes", "o\n1\n" + b64(make([]byte, 33)) + "\n", nil},
		{"hash unpadded", "o\n1\n" + strings.TrimSuffix(h, "=") + "\n", nil},
		{"hash URL alphabet", "o\n1\n" + strings.NewReplacer("+", "-", "/", "_").Replace(h) + "\n", nil},
		{"hash nonzero padding bits", "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n", nil},
		{"hash with CR", "o\n1\n" + h + "\r\n", nil},
		{"tab in origin", "o\tx\n1\n" + h + "\n", nil},
		{"CRLF", "o\r\n1\r\n" + h + "\r\n", nil},
		{"invalid UTF-8", "o\xff\n1\n" + h + "\n", nil},
		{"NUL in extension", "o\n1\n" + h + "\nx\x00\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tlog.ParseCheckpoint([]byte(tt.text))
			if tt.want == nil {
				if err == nil {
					t.Fatalf("accepted as %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			b, err := got.Marshal()
			if err != nil || string(b) != tt.text {
				t.Fatalf("Marshal = %q, %v; want %q", b, err, tt.text)
			}
		})
	}
}

func TestMarshalCheckpointRefuses(t *testing.T) {
	h := hash("root")
	for name, c := range map[string]tlog.Checkpoint{
		"empty origin":           {Origin: "", Size: 1, Hash: h},
		"newline in origin":      {Origin: "a\nb", Size: 1, Hash: h},
		"short hash":             {Origin: "o", Size: 1, Hash: h[:31]},
		"no hash":                {Origin: "o", Size: 1},
		"empty extension":        {Origin: "o", Size: 1, Hash: h, Extensions: []string{""}},
		"newline in extension":   {Origin: "o", Size: 1, Hash: h, Extensions: []string{"a\n"}},
		"invalid UTF-8 in ext":   {Origin: "o", Size: 1, Hash: h, Extensions: []string{"\xff"}},
		"control char in origin": {Origin: "o\x7f\x01", Size: 1, Hash: h},
	} {
		if b, err := c.Marshal(); err == nil {
			t.Errorf("%s: Marshal = %q", name, b)
		}
	}
}

// testKey is a fixed log key, so that signed checkpoints are byte-pinned
// (Ed25519 signatures are deterministic).
func testKey(t testing.TB, name string) (note.Signer, note.Verifier) {
	t.Helper()
	key := ed25519.NewKeyFromSeed(hash("agora test log key " + name))
	s, err := tlog.NewSigner(name, key)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := tlog.VerifierKey(name, key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyHash() != v.KeyHash() || s.Name() != v.Name() {
		t.Fatalf("signer %s+%08x and verifier %s+%08x differ", s.Name(), s.KeyHash(), v.Name(), v.KeyHash())
	}
	return s, v
}

// TestSignedCheckpointGolden pins the bytes of a signed checkpoint.
func TestSignedCheckpointGolden(t *testing.T) {
	s, v := testKey(t, "agora.example/log")
	c := &tlog.Checkpoint{Origin: "agora.example/log", Size: 12345, Hash: hash("root"), Extensions: []string{"agora/state-root 7 " + b64(hash("state"))}}
	msg, err := tlog.Sign(c, s)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "checkpoint.golden")
	if *update {
		vkey, _ := tlog.VerifierKey(v.Name(), ed25519.NewKeyFromSeed(hash("agora test log key agora.example/log")).Public().(ed25519.PublicKey))
		if err := os.WriteFile(golden, append([]byte(vkey+"\n\n"), msg...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	vkey, wantMsg, _ := bytes.Cut(want, []byte("\n\n"))
	if !bytes.Equal(msg, wantMsg) {
		t.Fatalf("signed checkpoint:\n%s\nwant (%s, run with -update if the change is intended):\n%s", msg, golden, wantMsg)
	}
	// The golden verifier key opens it.
	gv, err := note.NewVerifier(string(vkey))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tlog.Open(wantMsg, gv); err != nil {
		t.Fatal(err)
	}
}

func TestSignOpen(t *testing.T) {
	s, v := testKey(t, "agora.example/log")
	c := &tlog.Checkpoint{Origin: "agora.example/log", Size: 7, Hash: hash("root"), Extensions: []string{"ext one", "ext two"}}
	msg, err := tlog.Sign(c, s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tlog.Open(msg, v)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Fatalf("Open (-want +got):\n%s", diff)
	}

	// golang.org/x/mod/sumdb/note opens it directly.
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		t.Fatalf("note.Open: %v", err)
	}
	if text, _ := c.Marshal(); n.Text != string(text) || len(n.Sigs) != 1 {
		t.Fatalf("note.Open: text %q, %d signatures", n.Text, len(n.Sigs))
	}
	// transparency-dev/formats/log parses it.
	fc, rest, _, err := log.ParseCheckpoint(msg, c.Origin, v)
	if err != nil {
		t.Fatalf("formats log.ParseCheckpoint: %v", err)
	}
	if fc.Origin != c.Origin || fc.Size != c.Size || !bytes.Equal(fc.Hash, c.Hash) || string(rest) != "ext one\next two\n" {
		t.Fatalf("formats parsed %+v with extensions %q", fc, rest)
	}

	// Signing leaves other signatures (a witness's) to be ignored.
	w1, _ := testKey(t, "witness.example/w1")
	cosigned, err := note.Sign(&note.Note{Text: n.Text}, s, w1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tlog.Open(cosigned, v); err != nil {
		t.Fatalf("Open with an extra signature: %v", err)
	}
}

func TestOpenRefuses(t *testing.T) {
	s, v := testKey(t, "agora.example/log")
	other, otherV := testKey(t, "agora.example/other")
	c := &tlog.Checkpoint{Origin: "agora.example/log", Size: 7, Hash: hash("root")}
	msg, err := tlog.Sign(c, s)
	if err != nil {
		t.Fatal(err)
	}
	// Another key with the log's name.
	impostorKey := ed25519.NewKeyFromSeed(hash("impostor"))
	impostor, err := tlog.NewSigner("agora.example/log", impostorKey)
	if err != nil {
		t.Fatal(err)
	}
	byImpostor, _ := tlog.Sign(c, impostor)
	// A checkpoint for another origin signed by the log's key.
	wrongOrigin, _ := tlog.Sign(&tlog.Checkpoint{Origin: "agora.example/other", Size: 7, Hash: hash("root")}, s)
	byOther, _ := tlog.Sign(&tlog.Checkpoint{Origin: "agora.example/log", Size: 7, Hash: hash("root")}, other)
	// A non-canonical body, correctly signed.
	nonCanonical, _ := note.Sign(&note.Note{Text: "agora.example/log\n07\n" + b64(hash("root")) + "\n"}, s)
	// The signature of the real body under a forged body.
	sig := msg[bytes.LastIndex(msg, []byte("\n\n")):]
	forged := append([]byte("agora.example/log\n8\n"+b64(hash("root"))+"\n"), sig...)
	// A forged signature with the log's key ID.
	badSig := bytes.Clone(msg)
	i := bytes.LastIndex(badSig, []byte(" ")) + 10
	badSig[i] ^= 'A' ^ 'B'
	if badSig[i] == msg[i] {
		badSig[i] ^= 1
	}

	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	tests := []struct {
		name string
		msg  []byte
		v    note.Verifier
		as   any // an error type the error must match, or nil
	}{
		{"impostor key", byImpostor, v, &unverified},
		{"wrong verifier", msg, otherV, &unverified},
		{"signed by another log", byOther, v, &unverified},
		{"origin is not the key's name", wrongOrigin, v, nil},
		{"non-canonical body", nonCanonical, v, nil},
		{"forged body", forged, v, &invalid},
		{"forged signature", badSig, v, nil},
		{"truncated", msg[:len(msg)-10], v, nil},
		{"no signature", msg[:bytes.LastIndex(msg, []byte("\n\n"))+2], v, nil},
		{"body only", []byte(specCheckpoint), v, nil},
		{"empty", nil, v, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tlog.Open(tt.msg, tt.v)
			if err == nil {
				t.Fatalf("opened %+v", got)
			}
			switch target := tt.as.(type) {
			case **note.UnverifiedNoteError:
				if !errors.As(err, target) {
					t.Fatalf("error %v is not an UnverifiedNoteError", err)
				}
			case **note.InvalidSignatureError:
				if !errors.As(err, target) {
					t.Fatalf("error %v is not an InvalidSignatureError", err)
				}
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	skey, vkey, err := tlog.GenerateKey(rand.Reader, "agora.example/log")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(skey, "PRIVATE+KEY+agora.example/log+") || !strings.HasPrefix(vkey, "agora.example/log+") {
		t.Fatalf("keys %q, %q", skey, vkey)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := tlog.Sign(&tlog.Checkpoint{Origin: "agora.example/log", Size: 1, Hash: hash("x")}, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tlog.Open(msg, v); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "has space", "a+b"} {
		if _, _, err := tlog.GenerateKey(rand.Reader, name); err == nil {
			t.Errorf("GenerateKey accepted the name %q", name)
		}
		if _, err := tlog.NewSigner(name, ed25519.NewKeyFromSeed(hash("k"))); err == nil {
			t.Errorf("NewSigner accepted the name %q", name)
		}
	}
	if _, err := tlog.NewSigner("n", ed25519.PrivateKey(make([]byte, 10))); err == nil {
		t.Error("NewSigner accepted a 10-byte key")
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte(specCheckpoint))
	f.Add([]byte("o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next\n"))
	f.Add([]byte("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"))
	f.Add([]byte("o\n01\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		c, err := tlog.ParseCheckpoint(text)
		if err != nil {
			return
		}
		b, err := c.Marshal()
		if err != nil {
			t.Fatalf("ParseCheckpoint accepted what Marshal refuses: %v", err)
		}
		if !bytes.Equal(b, text) {
			t.Fatalf("round trip: %q became %q", text, b)
		}
		// transparency-dev/formats reads the same checkpoint.
		var fc log.Checkpoint
		rest, err := fc.Unmarshal(text)
		if err != nil {
			t.Fatalf("formats refuses %q: %v", text, err)
		}
		ext := ""
		if len(c.Extensions) > 0 {
			ext = strings.Join(c.Extensions, "\n") + "\n"
		}
		if fc.Origin != c.Origin || fc.Size != c.Size || !bytes.Equal(fc.Hash, c.Hash) || string(rest) != ext {
			t.Fatalf("formats reads %q as %+v, %q; we read %+v", text, fc, rest, c)
		}
	})
}

// TestVerifierKeySmallOrder: a verifier key whose Ed25519 key is of small
// order (anyone can sign as it) or not canonical is refused, whether a
// log's note key (type 0x01) or a witness's cosignature key (0x04); a
// real key is accepted.
func TestVerifierKeySmallOrder(t *testing.T) {
	for _, tc := range []struct {
		desc string
		key  string // hex
	}{
		{"the identity", "0100000000000000000000000000000000000000000000000000000000000000"},
		{"order 2", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
		{"order 8", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"},
		{"not canonical (y = p + 1)", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			key, err := hex.DecodeString(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			vkey, err := note.NewEd25519VerifierKey("example.com/log", key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tlog.NewVerifier(vkey); err == nil {
				t.Fatalf("NewVerifier accepted %s", vkey)
			}
			cosig := "example.com/witness+00000000+" + b64(append([]byte{0x04}, key...))
			if err := tlog.CheckVerifierKey(cosig); err == nil {
				t.Fatalf("CheckVerifierKey accepted %s", cosig)
			}
		})
	}
	_, vkey, err := tlog.GenerateKey(rand.Reader, "example.com/log")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tlog.NewVerifier(vkey); err != nil {
		t.Fatalf("a generated key: %v", err)
	}
}
