package witness_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/witness"
)

func TestCosignerKeys(t *testing.T) {
	skey, vkey, err := witness.GenerateKey(rand.Reader, "witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := witness.NewCosigner(skey, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if c.VerifierKey() != vkey || c.Name() != "witness.example/w1" {
		t.Fatalf("cosigner %s has key %q, GenerateKey said %q", c.Name(), c.VerifierKey(), vkey)
	}
	// transparency-dev/formats reads both keys the same way.
	fs, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatal(err)
	}
	fv, err := fnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if fs.KeyHash() != c.KeyHash() || fv.KeyHash() != c.KeyHash() {
		t.Fatalf("key hashes: formats signer %08x, verifier %08x, ours %08x", fs.KeyHash(), fv.KeyHash(), c.KeyHash())
	}

	for _, name := range []string{"", "a b", "a+b", "\xff"} {
		if _, _, err := witness.GenerateKey(rand.Reader, name); err == nil {
			t.Errorf("GenerateKey accepted the name %q", name)
		}
	}
	noteKey, _, err := note.GenerateKey(rand.Reader, "witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(skey, "+", 5) // PRIVATE, KEY, name, hash, key
	prefix := strings.Join(parts[:4], "+")
	raw, _ := base64.StdEncoding.DecodeString(parts[4])
	raw[1] ^= 1 // another key under the same hash
	for name, k := range map[string]string{
		"note signing key (type 0x01)": noteKey,
		"wrong hash":                   prefix + "+" + base64.StdEncoding.EncodeToString(raw),
		"empty":                        "",
		"no PRIVATE+KEY":               strings.TrimPrefix(skey, "PRIVATE+KEY+"),
		"short key":                    prefix + "+BAAA",
		"bad base64":                   prefix + "+!!!!",
		"bad hash":                     strings.Replace(skey, "+witness.example/w1+", "+witness.example/w1+zzzzzzzz+", 1),
	} {
		if _, err := witness.NewCosigner(k, time.Now); err == nil {
			t.Errorf("%s: NewCosigner accepted %q", name, k)
		}
	}

	before, err := witness.NewCosigner(skey, func() time.Time { return time.Unix(-1, 0) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := before.Sign([]byte("o\n1\nAAAA\n")); err == nil {
		t.Error("Sign with a clock before 1970 succeeded")
	}
}

func TestVerifierKey(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, vkey, err := witness.KeyPair("witness.example", priv)
	if err != nil {
		t.Fatal(err)
	}
	got, err := witness.VerifierKey("witness.example", pub)
	if err != nil || got != vkey {
		t.Errorf("VerifierKey = %q, %v; KeyPair's vkey is %q", got, err, vkey)
	}
	if _, err := witness.VerifierKey("a b", pub); err == nil {
		t.Error("VerifierKey accepted a name with a space")
	}
	if _, err := witness.VerifierKey("witness.example", pub[:31]); err == nil {
		t.Error("VerifierKey accepted a short key")
	}
}
