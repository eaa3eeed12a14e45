package cosig_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/witness"
	"github.com/agora-ledger/agora/internal/witness/cosig"
)

func TestNewVerifier(t *testing.T) {
	_, vkey, err := witness.GenerateKey(rand.Reader, "witness.example")
	if err != nil {
		t.Fatal(err)
	}
	_, logKey, err := note.GenerateKey(rand.Reader, "log.example")
	if err != nil {
		t.Fatal(err)
	}
	name, rest, _ := strings.Cut(vkey, "+")
	_, key64, _ := strings.Cut(rest, "+")
	tests := []struct {
		name string
		vkey string
		ok   bool
	}{
		{"cosigner key", vkey, true},
		{"log's note key", logKey, false},
		{"wrong hash", name + "+00000000+" + key64, false},
		{"not a key", "witness.example", false},
		{"small-order key", smallOrderCosignerKey("witness.example"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := cosig.NewVerifier(tt.vkey)
			if (err == nil) != tt.ok {
				t.Fatalf("NewVerifier(%q) = %v, want ok %v", tt.vkey, err, tt.ok)
			}
			if err == nil && v.Name() != name {
				t.Errorf("name %q, want %q", v.Name(), name)
			}
		})
	}
}

// smallOrderCosignerKey is a tlog-cosignature/v1 verifier key, with its
// own hash, whose Ed25519 key is the identity point: anyone can sign as it.
func smallOrderCosignerKey(name string) string {
	key := append([]byte{0x04, 1}, make([]byte, 31)...)
	h := sha256.Sum256(append([]byte(name+"\n"), key...))
	return fmt.Sprintf("%s+%x+%s", name, h[:4], base64.StdEncoding.EncodeToString(key))
}
