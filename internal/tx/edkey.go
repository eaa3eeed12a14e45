package tx

import (
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
	if !canonicalY(b) {
		return fmt.Errorf("%w: ed25519 key is not in canonical encoding", ErrMalformed)
	}
	return nil
}

// canonicalY reports whether b's y (its 255 low bits) is below the field
// prime p = 2^255 - 19. For a point that is not of small order this is
// the whole of canonical encoding (b equals the point's Bytes()): x is
// not 0 (the points with x = 0, y = ±1, are of small order), so the
// sign bit names one of x and -x and is already canonical. It spares the
// field inversion that re-encoding the point costs.
func canonicalY(b []byte) bool {
	if b[31]&0x7f != 0x7f {
		return true
	}
	for _, c := range b[1:31] {
		if c != 0xff {
			return true
		}
	}
	return b[0] < 0xed
}
