package frost

import (
	"fmt"
	"io"
	"slices"
)

// Identifier names a participant: a non-zero integer, used as the
// x-coordinate of its share (RFC 9591 section 4.1 allows any non-zero
// scalar; this package uses 1 to 65535).
type Identifier uint16

// KeyPackage is what one participant holds after key generation: its secret
// signing share and the group's public keys. It is secret; keep it
// encrypted at rest.
type KeyPackage struct {
	id     Identifier
	share  scalar
	public *PublicKeyPackage
}

// ID is the participant's identifier.
func (k *KeyPackage) ID() Identifier { return k.id }

// Public returns the group's public keys.
func (k *KeyPackage) Public() *PublicKeyPackage { return k.public }

// PublicKeyPackage is the public outcome of key generation: the group key,
// the threshold, and each participant's verifying share (its signing share
// times the generator), by which a signature share is checked. The ledger
// holds it.
type PublicKeyPackage struct {
	suite      *Suite
	minSigners int
	groupKey   element
	ids        []Identifier // ascending
	verifying  []element    // verifying[i] belongs to ids[i]
}

// Suite is the ciphersuite of the keys.
func (p *PublicKeyPackage) Suite() *Suite { return p.suite }

// MinSigners is the threshold t: any t participants can sign.
func (p *PublicKeyPackage) MinSigners() int { return p.minSigners }

// IDs lists the participants, in ascending order.
func (p *PublicKeyPackage) IDs() []Identifier { return slices.Clone(p.ids) }

// GroupKey is the group public key in the suite's encoding: 32 bytes for
// Ed25519 (an Ed25519 public key), 33 bytes compressed SEC1 for secp256k1,
// and the 32-byte x-only key of BIP-340 for the Taproot suite.
func (p *PublicKeyPackage) GroupKey() []byte {
	b := p.groupKey.bytes()
	if p.suite.taproot {
		return b[1:]
	}
	return b
}

// VerifyingShare returns the encoded verifying share of id.
func (p *PublicKeyPackage) VerifyingShare(id Identifier) ([]byte, bool) {
	y := p.verifyingShare(id)
	if y == nil {
		return nil, false
	}
	return y.bytes(), true
}

func (p *PublicKeyPackage) verifyingShare(id Identifier) element {
	i, ok := slices.BinarySearch(p.ids, id)
	if !ok {
		return nil
	}
	return p.verifying[i]
}

// Equal reports whether two packages hold the same keys.
func (p *PublicKeyPackage) Equal(q *PublicKeyPackage) bool {
	if p.suite != q.suite || p.minSigners != q.minSigners || !p.groupKey.equal(q.groupKey) ||
		!slices.Equal(p.ids, q.ids) {
		return false
	}
	for i := range p.verifying {
		if !p.verifying[i].equal(q.verifying[i]) {
			return false
		}
	}
	return true
}

// checkParams checks 2 <= t <= n <= 65535.
func checkParams(minSigners, maxSigners int) error {
	if minSigners < 2 || minSigners > maxSigners || maxSigners > 65535 {
		return fmt.Errorf("%w: need 2 <= min signers (%d) <= max signers (%d) <= 65535",
			ErrParameters, minSigners, maxSigners)
	}
	return nil
}

// Deal is key generation with a trusted dealer (RFC 9591 Appendix C): it
// draws the group secret and a polynomial of degree minSigners-1 from rand
// and gives participants 1..maxSigners their shares. The dealer learns the
// group secret; use the DKG where no one may.
func (s *Suite) Deal(rand io.Reader, minSigners, maxSigners int) ([]*KeyPackage, *PublicKeyPackage, error) {
	if err := checkParams(minSigners, maxSigners); err != nil {
		return nil, nil, err
	}
	coeffs, err := s.randomPolynomial(rand, minSigners)
	if err != nil {
		return nil, nil, err
	}
	defer zeroAll(coeffs)
	return s.deal(coeffs, maxSigners)
}

// deal splits coeffs[0] with the polynomial coeffs among participants
// 1..n (RFC 9591 Appendix C.1, secret_share_shard).
func (s *Suite) deal(coeffs []scalar, n int) ([]*KeyPackage, *PublicKeyPackage, error) {
	pub := &PublicKeyPackage{suite: s, minSigners: len(coeffs), groupKey: s.g.baseMul(coeffs[0])}
	if pub.groupKey.isIdentity() {
		return nil, nil, fmt.Errorf("%w: zero group secret", ErrParameters)
	}
	keys := make([]*KeyPackage, n)
	for i := range n {
		id := Identifier(i + 1)
		share := s.evalPolynomial(coeffs, id)
		pub.ids = append(pub.ids, id)
		pub.verifying = append(pub.verifying, s.g.baseMul(share))
		keys[i] = &KeyPackage{id: id, share: share, public: pub}
	}
	return keys, pub, nil
}

// randomScalar draws a non-zero scalar: 64 random bytes reduced by H3,
// which leaves a bias below 2^-128.
func (s *Suite) randomScalar(rand io.Reader) (scalar, error) {
	for {
		b, err := randomBytes(rand, 64)
		if err != nil {
			return nil, err
		}
		k := s.h3(b)
		if !k.isZero() {
			return k, nil
		}
	}
}

func (s *Suite) randomPolynomial(rand io.Reader, t int) ([]scalar, error) {
	coeffs := make([]scalar, t)
	for i := range coeffs {
		c, err := s.randomScalar(rand)
		if err != nil {
			zeroAll(coeffs[:i])
			return nil, err
		}
		coeffs[i] = c
	}
	return coeffs, nil
}

// evalPolynomial is Horner's rule at x = id; constant time in the
// coefficients.
func (s *Suite) evalPolynomial(coeffs []scalar, id Identifier) scalar {
	x := s.g.scalarFromUint(uint64(id))
	v := coeffs[len(coeffs)-1]
	for i := len(coeffs) - 2; i >= 0; i-- {
		v = v.mul(x).add(coeffs[i])
	}
	return v
}

// evalCommitment is the public counterpart of evalPolynomial: the sum of
// commitments[k]·id^k, the verifying share a polynomial gives id.
func (s *Suite) evalCommitment(commitments []element, id Identifier) element {
	x := s.g.scalarFromUint(uint64(id))
	pows := []scalar{s.g.scalarFromUint(1)}
	for len(pows) < len(commitments) {
		pows = append(pows, pows[len(pows)-1].mul(x))
	}
	return s.g.mulSum(pows, commitments)
}

// lagrange is the Lagrange coefficient of id at 0 over the set ids (RFC
// 9591 section 4.2, derive_interpolating_value). It works on public values.
func (s *Suite) lagrange(id Identifier, ids []Identifier) scalar {
	x := s.g.scalarFromUint(uint64(id))
	num, den := s.g.scalarFromUint(1), s.g.scalarFromUint(1)
	for _, j := range ids {
		if j == id {
			continue
		}
		xj := s.g.scalarFromUint(uint64(j))
		num = num.mul(xj)
		den = den.mul(xj.sub(x))
	}
	return num.mul(den.inv())
}

func zeroAll(ss []scalar) {
	for _, s := range ss {
		if s != nil {
			s.zero()
		}
	}
}
