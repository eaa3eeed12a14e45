package cosig_test

import (
	"crypto/rand"
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
