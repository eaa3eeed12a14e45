package frost

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Nonces are a participant's secret nonces for one signing session, made
// by Commit and consumed by the one Sign that uses them: Sign overwrites
// them, and a second Sign with the same Nonces fails with ErrNonceUsed.
// Never copy a Nonces value, and never restore saved nonces twice:
// signing twice with one pair of nonces reveals the signing share. A
// signer that must survive a restart between its commitment and its
// share saves them (Nonces.Bytes, encrypted, before the commitment
// leaves) and erases them once it has signed (KeyPackage.DecodeNonces).
type Nonces struct {
	id              Identifier
	hiding, binding scalar
	commitments     Commitments
	used            bool
}

// Commitments are the public half of a participant's nonces (RFC 9591
// section 5.1), sent to the coordinator.
type Commitments struct {
	ID              Identifier
	hiding, binding element
}

// SignatureShare is one participant's share of a signature.
type SignatureShare struct {
	ID Identifier
	z  scalar
}

// Commit is round one (RFC 9591 section 5.1): it draws the hiding and then
// the binding nonce, each as H3(32 bytes from rand || signing share), so a
// weak rand alone does not repeat nonces across keys.
func (k *KeyPackage) Commit(rand io.Reader) (*Nonces, Commitments, error) {
	s := k.public.suite
	hiding, err := s.nonceGenerate(rand, k.share)
	if err != nil {
		return nil, Commitments{}, err
	}
	binding, err := s.nonceGenerate(rand, k.share)
	if err != nil {
		hiding.zero()
		return nil, Commitments{}, err
	}
	c := Commitments{ID: k.id, hiding: s.g.baseMul(hiding), binding: s.g.baseMul(binding)}
	return &Nonces{id: k.id, hiding: hiding, binding: binding, commitments: c}, c, nil
}

// Bytes encodes the secret nonces, identifier || hiding || binding, for a
// signer that keeps them across a restart. The encoding is as secret as
// the signing share: keep it encrypted, and erase it when Sign has used
// the nonces it restores. It fails with ErrNonceUsed once they are used.
func (n *Nonces) Bytes() ([]byte, error) {
	if n.used || n.hiding.isZero() || n.binding.isZero() {
		return nil, ErrNonceUsed
	}
	return concat(putID(nil, n.id), n.hiding.bytes(), n.binding.bytes()), nil
}

// Commitments returns the public half of the nonces.
func (n *Nonces) Commitments() Commitments { return n.commitments }

// DecodeNonces restores nonces that Nonces.Bytes encoded for this
// participant; their commitments follow from them.
func (k *KeyPackage) DecodeNonces(b []byte) (*Nonces, error) {
	s := k.public.suite
	d := &decoder{s: s, b: b}
	id, hiding, binding := d.id(), d.scalar(), d.scalar()
	if err := d.done(); err != nil {
		return nil, err
	}
	if id != k.id {
		return nil, fmt.Errorf("%w: nonces of participant %d, key of %d", ErrParameters, id, k.id)
	}
	if hiding.isZero() || binding.isZero() {
		return nil, ErrNonceUsed
	}
	c := Commitments{ID: id, hiding: s.g.baseMul(hiding), binding: s.g.baseMul(binding)}
	return &Nonces{id: id, hiding: hiding, binding: binding, commitments: c}, nil
}

func (s *Suite) nonceGenerate(rand io.Reader, secret scalar) (scalar, error) {
	b, err := randomBytes(rand, 32)
	if err != nil {
		return nil, err
	}
	return s.h3(append(b, secret.bytes()...)), nil
}

// signingSet is what every party derives from the message and the
// commitment list: binding factors, the group commitment and the challenge.
type signingSet struct {
	ids    []Identifier
	rho    []scalar // binding factor of ids[i]
	r      element  // group commitment, with even Y for the Taproot suite
	negR   bool     // Taproot: the nonces are negated
	negKey bool     // Taproot: the shares are negated
	c      scalar
}

// prepare checks the commitment list (ascending identifiers, each a known
// participant, at least the threshold) and computes the signing set.
func (p *PublicKeyPackage) prepare(msg []byte, list []Commitments) (*signingSet, error) {
	s := p.suite
	if len(list) < p.minSigners {
		return nil, fmt.Errorf("%w: %d commitments, threshold is %d", ErrParameters, len(list), p.minSigners)
	}
	set := &signingSet{}
	var enc []byte
	for i, c := range list {
		if i > 0 && c.ID <= list[i-1].ID {
			return nil, fmt.Errorf("%w: commitments not in ascending order of identifier", ErrParameters)
		}
		if p.verifyingShare(c.ID) == nil {
			return nil, fmt.Errorf("%w: participant %d is not in the group", ErrParameters, c.ID)
		}
		if c.hiding == nil || c.binding == nil {
			return nil, fmt.Errorf("%w: empty commitments of participant %d", ErrParameters, c.ID)
		}
		set.ids = append(set.ids, c.ID)
		enc = append(enc, s.g.scalarFromUint(uint64(c.ID)).bytes()...)
		enc = append(enc, c.hiding.bytes()...)
		enc = append(enc, c.binding.bytes()...)
	}
	pk := p.groupKey
	if s.taproot && pk.(*k1Element).oddY() {
		set.negKey = true
		pk = pk.(*k1Element).neg()
	}
	prefix := concat(pk.bytes(), s.h4(msg), s.h5(enc))
	r := s.g.identity()
	var bindings []element
	for _, c := range list {
		set.rho = append(set.rho, s.h1(concat(prefix, s.g.scalarFromUint(uint64(c.ID)).bytes())))
		r = r.add(c.hiding)
		bindings = append(bindings, c.binding)
	}
	r = r.add(s.g.mulSum(set.rho, bindings))
	if r.isIdentity() {
		return nil, fmt.Errorf("%w: group commitment is the identity", ErrParameters)
	}
	if s.taproot && r.(*k1Element).oddY() {
		set.negR = true
		r = r.(*k1Element).neg()
	}
	set.r = r
	set.c = s.challenge(r, pk, msg)
	return set, nil
}

// Sign is round two (RFC 9591 section 5.2): the participant's share of the
// signature on msg by the signers whose commitments are in list (ascending
// by identifier, its own among them, as it sent them). It consumes nonces,
// whatever the outcome.
func (k *KeyPackage) Sign(nonces *Nonces, msg []byte, list []Commitments) (SignatureShare, error) {
	// A copy of a Nonces value shares its scalars, which the first Sign
	// zeroes: refuse zero nonces too, or the share would be λ·s·c and give
	// away the signing share.
	if nonces == nil || nonces.used || nonces.hiding.isZero() || nonces.binding.isZero() {
		return SignatureShare{}, ErrNonceUsed
	}
	defer func() {
		nonces.hiding.zero()
		nonces.binding.zero()
		nonces.used = true
	}()
	if nonces.id != k.id {
		return SignatureShare{}, fmt.Errorf("%w: nonces of participant %d, key of %d", ErrParameters, nonces.id, k.id)
	}
	p := k.public
	set, err := p.prepare(msg, list)
	if err != nil {
		return SignatureShare{}, err
	}
	i := index(set.ids, k.id)
	if i < 0 || !list[i].hiding.equal(nonces.commitments.hiding) || !list[i].binding.equal(nonces.commitments.binding) {
		return SignatureShare{}, fmt.Errorf("%w: the list does not hold this participant's commitments", ErrParameters)
	}
	d, e, share := nonces.hiding, nonces.binding, k.share
	if set.negR {
		d, e = d.neg(), e.neg()
	}
	if set.negKey {
		share = share.neg()
	}
	lambda := p.suite.lagrange(k.id, set.ids)
	z := d.add(e.mul(set.rho[i])).add(lambda.mul(share).mul(set.c))
	return SignatureShare{ID: k.id, z: z}, nil
}

func index(ids []Identifier, id Identifier) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return -1
}

// VerifyShare checks one signature share against its signer's verifying
// share (RFC 9591 section 5.4). It is deterministic and uses only public
// values: the ledger calls it.
func (p *PublicKeyPackage) VerifyShare(msg []byte, list []Commitments, share SignatureShare) error {
	set, err := p.prepare(msg, list)
	if err != nil {
		return err
	}
	return p.verifyShare(set, list, share)
}

func (p *PublicKeyPackage) verifyShare(set *signingSet, list []Commitments, share SignatureShare) error {
	i := index(set.ids, share.ID)
	if i < 0 || share.z == nil {
		return &ShareError{ID: share.ID, Err: fmt.Errorf("%w: no commitments from the signer", ErrParameters)}
	}
	s := p.suite
	ri := list[i].hiding.add(list[i].binding.mul(set.rho[i]))
	if set.negR {
		ri = s.g.identity().sub(ri)
	}
	y := p.verifyingShare(share.ID)
	if set.negKey {
		y = s.g.identity().sub(y)
	}
	lambda := s.lagrange(share.ID, set.ids)
	want := ri.add(y.mul(set.c.mul(lambda)))
	if !s.g.baseMul(share.z).equal(want) {
		return &ShareError{ID: share.ID, Err: ErrInvalidShare}
	}
	return nil
}

// ShareError names the participant whose signature share is invalid.
type ShareError struct {
	ID  Identifier
	Err error
}

func (e *ShareError) Error() string { return fmt.Sprintf("participant %d: %v", e.ID, e.Err) }

func (e *ShareError) Unwrap() error { return e.Err }

// Aggregate combines the signature shares of the signers in list into a
// signature on msg (RFC 9591 section 5.3) and verifies it. When it does
// not verify, it checks each share and returns a *ShareError naming the
// first bad one. Deterministic; the ledger calls it.
func (p *PublicKeyPackage) Aggregate(msg []byte, list []Commitments, shares []SignatureShare) ([]byte, error) {
	set, err := p.prepare(msg, list)
	if err != nil {
		return nil, err
	}
	if len(shares) != len(set.ids) {
		return nil, fmt.Errorf("%w: %d shares for %d commitments", ErrParameters, len(shares), len(set.ids))
	}
	z := p.suite.g.scalarFromUint(0)
	for i, sh := range shares {
		if sh.ID != set.ids[i] || sh.z == nil {
			return nil, fmt.Errorf("%w: shares not in the order of the commitments", ErrParameters)
		}
		z = z.add(sh.z)
	}
	sig := p.suite.encodeSignature(set.r, z)
	if err := p.suite.Verify(p.GroupKey(), msg, sig); err == nil {
		return sig, nil
	}
	for _, sh := range shares {
		if err := p.verifyShare(set, list, sh); err != nil {
			return nil, err
		}
	}
	// Every share is valid, so the signature is: not reached unless the
	// package's own arithmetic is wrong.
	return nil, errors.New("frost: valid shares aggregate to an invalid signature")
}

func (s *Suite) encodeSignature(r element, z scalar) []byte {
	rb := r.bytes()
	if s.taproot {
		rb = rb[1:]
	}
	return concat(rb, z.bytes())
}

// SignatureLen is the length of the suite's signatures: 64 bytes, or 65 for
// FROST(secp256k1, SHA-256) (a compressed R and z).
func (s *Suite) SignatureLen() int {
	if s.taproot {
		return 64
	}
	return s.g.elementLen() + s.g.scalarLen()
}

// Verify checks a signature under a group key, both in the suite's
// encoding (RFC 9591 section 6: for Ed25519 the cofactored equation
// [8][z]B = [8]R + [8][c]PK; for the Taproot suite BIP-340's verification).
func (s *Suite) Verify(groupKey, msg, sig []byte) error {
	if len(sig) != s.SignatureLen() {
		return fmt.Errorf("%w: length %d", ErrInvalidSignature, len(sig))
	}
	var pk, r element
	var err error
	if s.taproot {
		pk, err = s.g.decodeElement(append([]byte{0x02}, groupKey...))
		if err == nil {
			r, err = s.g.decodeElement(append([]byte{0x02}, sig[:32]...))
		}
	} else {
		pk, err = s.g.decodeElement(groupKey)
		if err == nil {
			r, err = s.g.decodeElement(sig[:s.g.elementLen()])
		}
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidSignature, err)
	}
	z, err := s.g.decodeScalar(sig[len(sig)-s.g.scalarLen():])
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidSignature, err)
	}
	c := s.challenge(r, pk, msg)
	lhs := s.g.baseMul(z)
	rhs := r.add(pk.mul(c))
	if s.g.elementLen() == 32 { // Ed25519: cofactored
		eight := s.g.scalarFromUint(8)
		lhs, rhs = lhs.mul(eight), rhs.mul(eight)
	}
	if !lhs.equal(rhs) {
		return ErrInvalidSignature
	}
	return nil
}

func putID(b []byte, id Identifier) []byte { return binary.BigEndian.AppendUint16(b, uint16(id)) }
