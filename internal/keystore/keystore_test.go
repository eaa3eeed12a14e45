package keystore

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/tx"
)

func TestRoundTrip(t *testing.T) {
	for _, alg := range []tx.Alg{tx.Ed25519, tx.P256, tx.Secp256k1} {
		t.Run(alg.String(), func(t *testing.T) {
			s := Open(filepath.Join(t.TempDir(), "keys"))
			e, err := s.New("alice", alg, "correct horse", rand.Reader, time.Unix(0, 0))
			if err != nil {
				t.Fatal(err)
			}
			k, err := s.Unlock("alice", "correct horse")
			if err != nil {
				t.Fatal(err)
			}
			if !k.Public().Equal(e.PublicKey) {
				t.Fatal("unlocked key does not match")
			}
			if _, err := s.Unlock("alice", "wrong"); !errors.Is(err, ErrPassphrase) {
				t.Fatalf("wrong passphrase: got %v", err)
			}
			if _, err := s.New("alice", alg, "x", rand.Reader, time.Unix(0, 0)); !errors.Is(err, ErrExists) {
				t.Fatalf("duplicate: got %v", err)
			}
			fi, err := os.Stat(s.path("alice"))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("key file mode %v, %v", fi.Mode(), err)
			}
			raw, _ := os.ReadFile(s.path("alice"))
			if strings.Contains(string(raw), string(k.Bytes())) {
				t.Fatal("private key stored in the clear")
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	s := Open(t.TempDir())
	for _, name := range []string{"", "Alice", "../x", "a/b", strings.Repeat("a", 65)} {
		if _, err := s.New(name, tx.Ed25519, "p", rand.Reader, time.Unix(0, 0)); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	if _, err := s.New("bob", tx.Ed25519, "", rand.Reader, time.Unix(0, 0)); err == nil {
		t.Error("empty passphrase accepted")
	}
	if _, err := s.Get("nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing key: %v", err)
	}
	if es, err := s.List(); err != nil || len(es) != 0 {
		t.Errorf("List on empty store: %v %v", es, err)
	}
}
