package tx

import (
	"bytes"
	"fmt"

	"filippo.io/edwards25519"
)

// checkEd25519Key refuses the 32 bytes b as an Ed25519 key unless they are
// the canonical encoding of a point of the curve that is not of small
// order. A small-order key (one of the eight points that the cofactor, 8,
// takes to the identity) has signatures that anyone can make without a
// private key: with R the identity and S = 0 the verification equation
// holds for every message. A non-canonical encoding (y at or above the
// field prime, or a sign bit on x = 0) would give one point two spellings
// and so two addresses.
//
// It uses filippo.io/edwards25519 (the group crypto/ed25519 is built on),
// which compiles for every target, so a browser (js/wasm) refuses exactly
// the keys a node does.
func checkEd25519Key(b []byte) error {
	if len(b) != 32 {
		return fmt.Errorf("%w: ed25519 key is %d bytes, want 32", ErrMalformed, len(b))
	}
	p, err := new(edwards25519.Point).SetBytes(b)
	if err != nil {
		return fmt.Errorf("%w: ed25519 key is not a point on the curve", ErrMalformed)
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return fmt.Errorf("%w: ed25519 key is a point of small order, whose signatures anyone can forge", ErrMalformed)
	}
	if !bytes.Equal(p.Bytes(), b) {
		return fmt.Errorf("%w: ed25519 key is not in canonical encoding", ErrMalformed)
	}
	return nil
}
