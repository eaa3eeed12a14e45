package frost

import "io"

// Proof of possession of a signing share. A participant proves that it
// knows the secret share behind its verifying share with a Schnorr proof
// of knowledge, the same proof a DKG dealer gives of its secret
// (RFC 9591 Appendix C, with Komlo and Goldberg's proof of knowledge),
// under its own domain-separation tag "pop" and bound to a context the
// caller chooses (a rotation's session): a proof made for one context does
// not verify in another, and one holder's proof is not another's.
//
// The proof is R || z: an element and a scalar in the suite's encoding.

// ProvePossession proves that k's holder knows its signing share, bound to
// context.
func (k *KeyPackage) ProvePossession(rand io.Reader, context []byte) ([]byte, error) {
	s := k.public.suite
	y := k.public.verifyingShare(k.id)
	if y == nil {
		return nil, ErrParameters
	}
	n, err := s.nonceGenerate(rand, k.share)
	if err != nil {
		return nil, err
	}
	defer n.zero()
	r := s.g.baseMul(n)
	z := n.add(k.share.mul(s.possessionChallenge(context, k.id, y, r)))
	return concat(r.bytes(), z.bytes()), nil
}

// VerifyPossession checks a proof that participant id knows the signing
// share behind its verifying share in p, bound to context.
func (p *PublicKeyPackage) VerifyPossession(context []byte, id Identifier, proof []byte) error {
	s := p.suite
	y := p.verifyingShare(id)
	if y == nil {
		return ErrParameters
	}
	d := &decoder{s: s, b: proof}
	r, z := d.element(), d.scalar()
	if err := d.done(); err != nil {
		return err
	}
	c := s.possessionChallenge(context, id, y, r)
	if !s.g.baseMul(z).sub(y.mul(c)).equal(r) {
		return ErrInvalidProof
	}
	return nil
}

// possessionChallenge is H(context || "pop", len(ctx) || ctx || id || Y || R).
func (s *Suite) possessionChallenge(context []byte, id Identifier, y, r element) scalar {
	return s.toScalar(s, "pop", concat(sessionPrefix(context), s.g.scalarFromUint(uint64(id)).bytes(), y.bytes(), r.bytes()))
}
