package frost

import (
	"errors"
	"testing"
)

// TestPossession: a holder's proof verifies for its own identifier and
// context only; a proof from one who does not know the share (another
// holder's share, a wrong context, a flipped byte) is refused.
func TestPossession(t *testing.T) {
	for _, s := range suites {
		t.Run(s.String(), func(t *testing.T) {
			rnd := testRand(7)
			keys := runDKGRounds(t, s, rnd, 2, 3).finish(t)
			pub := keys[0].Public()
			ctx := []byte("rotation 1 of wallet w1")
			proof, err := keys[0].ProvePossession(rnd, ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := pub.VerifyPossession(ctx, keys[0].ID(), proof); err != nil {
				t.Fatalf("own proof refused: %v", err)
			}
			other, err := keys[1].ProvePossession(rnd, ctx)
			if err != nil {
				t.Fatal(err)
			}
			flipped := append([]byte(nil), proof...)
			flipped[len(flipped)-1] ^= 1
			for name, c := range map[string]struct {
				ctx   []byte
				id    Identifier
				proof []byte
				want  error
			}{
				"another holder's proof": {ctx, keys[0].ID(), other, ErrInvalidProof},
				"claimed by another":     {ctx, keys[1].ID(), proof, ErrInvalidProof},
				"another context":        {[]byte("rotation 2 of wallet w1"), keys[0].ID(), proof, ErrInvalidProof},
				"a flipped byte":         {ctx, keys[0].ID(), flipped, nil},
				"not a participant":      {ctx, 9, proof, ErrParameters},
				"short":                  {ctx, keys[0].ID(), proof[:len(proof)-1], ErrMalformed},
				"trailing bytes":         {ctx, keys[0].ID(), append(append([]byte(nil), proof...), 0), ErrMalformed},
			} {
				err := pub.VerifyPossession(c.ctx, c.id, c.proof)
				if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
					t.Errorf("%s: got %v, want %v", name, err, c.want)
				}
			}
		})
	}
}
