package frost

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/encodings.golden")

// TestEncodingsArePinned pins the bytes of every message of a seeded 2-of-3
// DKG and signing in each suite: a change to an encoding, a hash or the
// nonce derivation shows up as a diff of testdata/encodings.golden (rewrite
// it with -update, and say why in the commit).
func TestEncodingsArePinned(t *testing.T) {
	var out bytes.Buffer
	for _, s := range suites {
		rnd := testRand(42)
		r := runDKGRounds(t, s, rnd, 2, 3)
		keys := r.finish(t)
		msg := []byte("pinned message")
		sig, list, shares := signWith(t, rnd, keys[0].Public(), keys[1:], msg)
		for _, line := range []struct {
			what string
			b    []byte
		}{
			{"round1 dealer 1", r.round1[0].Bytes()},
			{"round2 dealer 1 to 3", r.round2[0][1].Bytes()},
			{"public key package", keys[0].Public().Bytes()},
			{"key package 2", keys[1].Bytes()},
			{"commitments 3", list[1].Bytes()},
			{"signature share 3", shares[1].Bytes()},
			{"signature", sig},
		} {
			fmt.Fprintf(&out, "%s | %s | %s\n", s, line.what, hex.EncodeToString(line.b))
		}
	}
	path := filepath.Join("testdata", "encodings.golden")
	if *update {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("encodings differ from %s (run with -update if the change is intended):\n%s", path, out.Bytes())
	}
}
