package frost

import (
	"errors"
	"io"

	"filippo.io/edwards25519"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// scalar is an element of the scalar field of a prime-order group. Every
// method returns a new value and leaves its receiver and argument unchanged.
// The arithmetic of both groups is constant time except inv on secp256k1,
// which the package only applies to public values (Lagrange denominators).
type scalar interface {
	add(scalar) scalar
	sub(scalar) scalar
	mul(scalar) scalar
	neg() scalar
	inv() scalar
	equal(scalar) bool
	isZero() bool
	bytes() []byte
	// zero overwrites the value in place, for secrets that are done with.
	zero()
}

// element is an element of a prime-order group; methods return new values.
type element interface {
	add(element) element
	sub(element) element
	// mul is variable time: the package multiplies only public elements by
	// public scalars (secrets only ever multiply the generator, baseMul).
	mul(scalar) element
	equal(element) bool
	isIdentity() bool
	// bytes is the encoding; the caller checks isIdentity first where the
	// RFC forbids serializing the identity.
	bytes() []byte
}

// group is one of the two prime-order groups this package works over.
type group interface {
	scalarFromUint(uint64) scalar
	decodeScalar([]byte) (scalar, error)
	decodeElement([]byte) (element, error)
	// baseMul is k·G, constant time in k on Ed25519 (see the package doc
	// for secp256k1).
	baseMul(scalar) element
	// mulSum is the sum of ks[i]·es[i], variable time: public values only.
	mulSum(ks []scalar, es []element) element
	identity() element
	scalarLen() int
	elementLen() int
}

var (
	errBadScalar  = errors.New("not a canonical scalar")
	errBadElement = errors.New("not a canonical element of the prime-order group")
)

// randomBytes reads n bytes from rand, the only source of randomness of the
// package.
func randomBytes(rand io.Reader, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand, b); err != nil {
		return nil, errors.Join(ErrRandom, err)
	}
	return b, nil
}

// ---- Ed25519 ----

type edGroup struct{}

type edScalar struct{ s edwards25519.Scalar }

type edElement struct{ p edwards25519.Point }

func (a *edScalar) add(b scalar) scalar {
	r := new(edScalar)
	r.s.Add(&a.s, &b.(*edScalar).s)
	return r
}

func (a *edScalar) sub(b scalar) scalar {
	r := new(edScalar)
	r.s.Subtract(&a.s, &b.(*edScalar).s)
	return r
}

func (a *edScalar) mul(b scalar) scalar {
	r := new(edScalar)
	r.s.Multiply(&a.s, &b.(*edScalar).s)
	return r
}

func (a *edScalar) neg() scalar {
	r := new(edScalar)
	r.s.Negate(&a.s)
	return r
}

func (a *edScalar) inv() scalar {
	r := new(edScalar)
	r.s.Invert(&a.s)
	return r
}

func (a *edScalar) equal(b scalar) bool { return a.s.Equal(&b.(*edScalar).s) == 1 }

func (a *edScalar) isZero() bool { return a.s.Equal(edwards25519.NewScalar()) == 1 }

func (a *edScalar) bytes() []byte { return a.s.Bytes() }

func (a *edScalar) zero() { a.s.Set(edwards25519.NewScalar()) }

func (a *edElement) add(b element) element {
	r := new(edElement)
	r.p.Add(&a.p, &b.(*edElement).p)
	return r
}

func (a *edElement) sub(b element) element {
	r := new(edElement)
	r.p.Subtract(&a.p, &b.(*edElement).p)
	return r
}

func (a *edElement) mul(k scalar) element {
	r := new(edElement)
	r.p.VarTimeDoubleScalarBaseMult(&k.(*edScalar).s, &a.p, edwards25519.NewScalar())
	return r
}

func (a *edElement) equal(b element) bool { return a.p.Equal(&b.(*edElement).p) == 1 }

func (a *edElement) isIdentity() bool { return a.p.Equal(edwards25519.NewIdentityPoint()) == 1 }

func (a *edElement) bytes() []byte { return a.p.Bytes() }

func (edGroup) scalarFromUint(v uint64) scalar {
	var b [32]byte
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
	r := new(edScalar)
	if _, err := r.s.SetCanonicalBytes(b[:]); err != nil {
		panic("frost: small integer is not a canonical scalar")
	}
	return r
}

func (edGroup) decodeScalar(b []byte) (scalar, error) {
	r := new(edScalar)
	if _, err := r.s.SetCanonicalBytes(b); err != nil {
		return nil, errBadScalar
	}
	return r, nil
}

// edOrderMinusOne is L-1, little-endian; (L-1)·P + P is the identity exactly
// when P is in the prime-order subgroup.
var edOrderMinusOne = func() *edwards25519.Scalar {
	one := (edGroup{}).scalarFromUint(1).(*edScalar)
	return edwards25519.NewScalar().Subtract(edwards25519.NewScalar(), &one.s)
}()

// decodeElement follows RFC 9591 section 6.5: RFC 8032 decoding with
// canonical encodings only, then refuse the identity and points outside the
// prime-order subgroup.
func (edGroup) decodeElement(b []byte) (element, error) {
	r := new(edElement)
	if _, err := r.p.SetBytes(b); err != nil {
		return nil, errBadElement
	}
	if string(r.p.Bytes()) != string(b) {
		return nil, errBadElement
	}
	if r.isIdentity() {
		return nil, errBadElement
	}
	var t edwards25519.Point
	t.ScalarMult(edOrderMinusOne, &r.p)
	t.Add(&t, &r.p)
	if t.Equal(edwards25519.NewIdentityPoint()) != 1 {
		return nil, errBadElement
	}
	return r, nil
}

func (edGroup) baseMul(k scalar) element {
	r := new(edElement)
	r.p.ScalarBaseMult(&k.(*edScalar).s)
	return r
}

func (edGroup) mulSum(ks []scalar, es []element) element {
	ss := make([]*edwards25519.Scalar, len(ks))
	ps := make([]*edwards25519.Point, len(es))
	for i := range ks {
		ss[i] = &ks[i].(*edScalar).s
		ps[i] = &es[i].(*edElement).p
	}
	r := new(edElement)
	r.p.VarTimeMultiScalarMult(ss, ps)
	return r
}

func (edGroup) identity() element {
	r := new(edElement)
	r.p.Set(edwards25519.NewIdentityPoint())
	return r
}

func (edGroup) scalarLen() int  { return 32 }
func (edGroup) elementLen() int { return 32 }

// edScalarWide reduces 64 bytes, read as a little-endian integer, mod L.
func edScalarWide(b []byte) scalar {
	r := new(edScalar)
	if _, err := r.s.SetUniformBytes(b); err != nil {
		panic("frost: wide scalar of the wrong length")
	}
	return r
}

// ---- secp256k1 ----

type k1Group struct{}

type k1Scalar struct{ s secp256k1.ModNScalar }

// k1Element is kept in affine coordinates (Z = 1), or all zero for the
// identity, so that its encoding and parity are read directly.
type k1Element struct{ p secp256k1.JacobianPoint }

func (a *k1Scalar) add(b scalar) scalar {
	r := new(k1Scalar)
	r.s.Add2(&a.s, &b.(*k1Scalar).s)
	return r
}

func (a *k1Scalar) sub(b scalar) scalar {
	var n secp256k1.ModNScalar
	n.NegateVal(&b.(*k1Scalar).s)
	r := new(k1Scalar)
	r.s.Add2(&a.s, &n)
	return r
}

func (a *k1Scalar) mul(b scalar) scalar {
	r := new(k1Scalar)
	r.s.Mul2(&a.s, &b.(*k1Scalar).s)
	return r
}

func (a *k1Scalar) neg() scalar {
	r := new(k1Scalar)
	r.s.NegateVal(&a.s)
	return r
}

func (a *k1Scalar) inv() scalar {
	r := new(k1Scalar)
	r.s.InverseValNonConst(&a.s)
	return r
}

func (a *k1Scalar) equal(b scalar) bool { return a.s.Equals(&b.(*k1Scalar).s) }

func (a *k1Scalar) isZero() bool { return a.s.IsZero() }

func (a *k1Scalar) bytes() []byte {
	b := a.s.Bytes()
	return b[:]
}

func (a *k1Scalar) zero() { a.s.Zero() }

func k1Affine(p *secp256k1.JacobianPoint) *k1Element {
	r := &k1Element{p: *p}
	if r.p.Z.IsZero() {
		r.p.X.Zero()
		r.p.Y.Zero()
		r.p.Z.Zero()
		return r
	}
	r.p.ToAffine()
	return r
}

func (a *k1Element) add(b element) element {
	var r secp256k1.JacobianPoint
	secp256k1.AddNonConst(&a.p, &b.(*k1Element).p, &r)
	return k1Affine(&r)
}

func (a *k1Element) neg() *k1Element {
	r := &k1Element{p: a.p}
	r.p.Y.Negate(1).Normalize()
	return r
}

func (a *k1Element) sub(b element) element { return a.add(b.(*k1Element).neg()) }

func (a *k1Element) mul(k scalar) element {
	var r secp256k1.JacobianPoint
	secp256k1.ScalarMultNonConst(&k.(*k1Scalar).s, &a.p, &r)
	return k1Affine(&r)
}

func (a *k1Element) equal(b element) bool {
	c := b.(*k1Element)
	return a.p.X.Equals(&c.p.X) && a.p.Y.Equals(&c.p.Y) && a.p.Z.Equals(&c.p.Z)
}

func (a *k1Element) isIdentity() bool { return a.p.Z.IsZero() }

// oddY reports whether the affine y coordinate is odd (BIP-340's has_even_y
// is its negation).
func (a *k1Element) oddY() bool { return a.p.Y.IsOdd() }

func (a *k1Element) bytes() []byte {
	b := make([]byte, 33)
	b[0] = 0x02
	if a.p.Y.IsOdd() {
		b[0] = 0x03
	}
	a.p.X.PutBytesUnchecked(b[1:])
	return b
}

func (k1Group) scalarFromUint(v uint64) scalar {
	var b [32]byte
	for i := 0; i < 8; i++ {
		b[31-i] = byte(v >> (8 * i))
	}
	r := new(k1Scalar)
	r.s.SetBytes(&b)
	return r
}

func (k1Group) decodeScalar(b []byte) (scalar, error) {
	if len(b) != 32 {
		return nil, errBadScalar
	}
	r := new(k1Scalar)
	if overflow := r.s.SetBytes((*[32]byte)(b)); overflow != 0 {
		return nil, errBadScalar
	}
	return r, nil
}

// decodeElement accepts only the 33-byte compressed SEC1 encoding of a point
// on the curve (RFC 9591 section 6.5); the identity has none.
func (k1Group) decodeElement(b []byte) (element, error) {
	if len(b) != 33 || (b[0] != 0x02 && b[0] != 0x03) {
		return nil, errBadElement
	}
	pk, err := secp256k1.ParsePubKey(b)
	if err != nil {
		return nil, errBadElement
	}
	var p secp256k1.JacobianPoint
	pk.AsJacobian(&p)
	return k1Affine(&p), nil
}

func (k1Group) baseMul(k scalar) element {
	var r secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(&k.(*k1Scalar).s, &r)
	return k1Affine(&r)
}

func (k1Group) mulSum(ks []scalar, es []element) element {
	var acc, t secp256k1.JacobianPoint
	for i := range ks {
		secp256k1.ScalarMultNonConst(&ks[i].(*k1Scalar).s, &es[i].(*k1Element).p, &t)
		secp256k1.AddNonConst(&acc, &t, &acc)
	}
	return k1Affine(&acc)
}

func (k1Group) identity() element { return new(k1Element) }

func (k1Group) scalarLen() int  { return 32 }
func (k1Group) elementLen() int { return 33 }

// k1TwoTo256 is 2^256 mod n, for reducing 48-byte hash outputs.
var k1TwoTo256 = func() *secp256k1.ModNScalar {
	// 2^256 - n, which is below n.
	var b [32]byte
	copy(b[15:], []byte{0x01, 0x45, 0x51, 0x23, 0x19, 0x50, 0xb7, 0x5f, 0xc4, 0x40, 0x2d, 0xa1, 0x73, 0x2f, 0xc9, 0xbe, 0xbf})
	var s secp256k1.ModNScalar
	s.SetBytes(&b)
	return &s
}()

// k1ScalarWide reduces a big-endian integer of up to 64 bytes mod n in
// constant time: hi·2^256 + lo.
func k1ScalarWide(b []byte) scalar {
	var hiB, loB [32]byte
	if len(b) > 64 {
		panic("frost: wide scalar too long")
	}
	if len(b) > 32 {
		copy(hiB[64-len(b):], b[:len(b)-32])
		copy(loB[:], b[len(b)-32:])
	} else {
		copy(loB[32-len(b):], b)
	}
	var hi, lo secp256k1.ModNScalar
	hi.SetBytes(&hiB)
	lo.SetBytes(&loB)
	r := new(k1Scalar)
	r.s.Mul2(&hi, k1TwoTo256).Add(&lo)
	return r
}
