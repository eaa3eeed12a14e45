package verify

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tlog"
)

// network is four validators of chain "net-1" with their note signers.
func network(t *testing.T, powers ...uint64) ([]ledger.Validator, []note.Signer) {
	t.Helper()
	origin := ledger.Origin("net-1")
	var vs []ledger.Validator
	var ss []note.Signer
	for i, p := range powers {
		seed := sha256.Sum256([]byte(fmt.Sprint("validator ", i)))
		priv := ed25519.NewKeyFromSeed(seed[:])
		s, err := tlog.NewSigner(origin, priv)
		if err != nil {
			t.Fatal(err)
		}
		vkey, err := tlog.VerifierKey(origin, priv.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, ledger.Validator{Name: fmt.Sprint("org", i), PubKey: seed[:], Power: p, NoteKey: vkey})
		ss = append(ss, s)
	}
	return vs, ss
}

func signedBy(t *testing.T, c *tlog.Checkpoint, signers ...note.Signer) []byte {
	t.Helper()
	text, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	msg, err := note.Sign(&note.Note{Text: string(text)}, signers...)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func checkpointAt(height, size uint64, root byte) *tlog.Checkpoint {
	h := ledger.Header{ChainID: "net-1", Height: height, LogSize: size,
		LogRoot: bytes.Repeat([]byte{root}, 32), AppHash: bytes.Repeat([]byte{root + 1}, 32)}
	return h.Checkpoint()
}

func TestNetworkCheckpoint(t *testing.T) {
	vs, ss := network(t, 10, 10, 10, 10)
	c := checkpointAt(7, 42, 1)
	_, other := network(t, 1, 1, 1, 1, 1)
	for _, tc := range []struct {
		name    string
		signers []note.Signer
		ok      bool
	}{
		{"all four", ss, true},
		{"three of four", ss[:3], true},
		{"two of four: not more than two thirds", ss[:2], false},
		{"two validators and an outsider", []note.Signer{ss[0], ss[1], other[4]}, false},
		{"no validator", []note.Signer{other[4]}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, by, err := NetworkCheckpoint(signedBy(t, c, tc.signers...), vs)
			if !tc.ok {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Height != 7 || got.Size != 42 || len(by) != len(tc.signers) {
				t.Errorf("height %d size %d signed by %d, want 7, 42, %d", got.Height, got.Size, len(by), len(tc.signers))
			}
		})
	}
}

func TestNetworkCheckpointWeighsPower(t *testing.T) {
	vs, ss := network(t, 70, 10, 10, 10)
	if _, _, err := NetworkCheckpoint(signedBy(t, checkpointAt(1, 1, 1), ss[0]), vs); err != nil {
		t.Errorf("70 of 100: %v", err)
	}
	if _, _, err := NetworkCheckpoint(signedBy(t, checkpointAt(1, 1, 1), ss[1:]...), vs); err == nil {
		t.Error("30 of 100 verified")
	}
}

func TestNetworkCheckpointRejectsABadSignature(t *testing.T) {
	vs, ss := network(t, 1, 1, 1, 1)
	msg := signedBy(t, checkpointAt(3, 5, 1), ss...)
	// Flip a byte of the last signature.
	i := bytes.LastIndex(msg, []byte("\n")) - 3
	msg[i] ^= 1
	if _, _, err := NetworkCheckpoint(msg, vs); err == nil {
		t.Error("a checkpoint with a corrupt validator signature verified")
	}
}

func TestConflicting(t *testing.T) {
	vs, ss := network(t, 1, 1, 1, 1)
	honest := signedBy(t, checkpointAt(9, 100, 1), ss[0], ss[1], ss[2])
	// Validator 2 also signs another log of the same size; validator 3
	// signs only the fork.
	fork := signedBy(t, checkpointAt(9, 100, 2), ss[2], ss[3])
	got, err := Conflicting(honest, fork, vs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "org2" {
		t.Errorf("culprits = %v, want org2", got)
	}

	// The same height with another size is a conflict too.
	fork2 := signedBy(t, checkpointAt(9, 101, 1), ss[0], ss[3])
	if got, err := Conflicting(honest, fork2, vs); err != nil || len(got) != 1 || got[0].Name != "org0" {
		t.Errorf("same height: culprits = %v, %v; want org0", got, err)
	}

	// Two consistent checkpoints are not a conflict.
	later := signedBy(t, checkpointAt(10, 101, 3), ss...)
	if _, err := Conflicting(honest, later, vs); !errors.Is(err, ErrInvalid) {
		t.Errorf("consistent checkpoints: err = %v, want ErrInvalid", err)
	}
}
