package frost

import (
	"encoding/binary"
	"fmt"
)

// Encodings. Every value has exactly one encoding, a concatenation of
// fixed-size fields: identifiers and counts as 2-byte big-endian integers,
// scalars and elements in the suite's RFC 9591 encoding (32-byte scalars;
// 32-byte Ed25519 points, 33-byte compressed secp256k1 points, also for the
// BIP-340 suite). Decoders take the suite, refuse non-canonical scalars and
// elements, identifier 0, trailing bytes and unordered lists, so that
// decoding then encoding gives back the same bytes. The encodings carry no
// suite or version: the ledger stores the suite beside them. Nonces have no
// encoding, on purpose.

// decoder reads fields in order and remembers the first error.
type decoder struct {
	s   *Suite
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail("%d bytes short", n-len(d.b))
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) u16() int {
	b := d.take(2)
	if b == nil {
		return 0
	}
	return int(binary.BigEndian.Uint16(b))
}

func (d *decoder) id() Identifier {
	v := d.u16()
	if d.err == nil && v == 0 {
		d.fail("identifier 0")
	}
	return Identifier(v)
}

func (d *decoder) scalar() scalar {
	b := d.take(d.s.g.scalarLen())
	if b == nil {
		return nil
	}
	k, err := d.s.g.decodeScalar(b)
	if err != nil {
		d.fail("%v", err)
	}
	return k
}

func (d *decoder) element() element {
	b := d.take(d.s.g.elementLen())
	if b == nil {
		return nil
	}
	e, err := d.s.g.decodeElement(b)
	if err != nil {
		d.fail("%v", err)
	}
	return e
}

func (d *decoder) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	return d.err
}

// Bytes encodes the commitments: identifier || hiding || binding.
func (c Commitments) Bytes() []byte {
	return concat(putID(nil, c.ID), c.hiding.bytes(), c.binding.bytes())
}

// DecodeCommitments decodes what Commitments.Bytes encodes.
func (s *Suite) DecodeCommitments(b []byte) (Commitments, error) {
	d := &decoder{s: s, b: b}
	c := Commitments{ID: d.id(), hiding: d.element(), binding: d.element()}
	if err := d.done(); err != nil {
		return Commitments{}, err
	}
	return c, nil
}

// Bytes encodes the share: identifier || z.
func (sh SignatureShare) Bytes() []byte { return concat(putID(nil, sh.ID), sh.z.bytes()) }

// DecodeSignatureShare decodes what SignatureShare.Bytes encodes.
func (s *Suite) DecodeSignatureShare(b []byte) (SignatureShare, error) {
	d := &decoder{s: s, b: b}
	sh := SignatureShare{ID: d.id(), z: d.scalar()}
	if err := d.done(); err != nil {
		return SignatureShare{}, err
	}
	return sh, nil
}

// Bytes encodes the package: dealer || count || commitments || R || z.
func (p *Round1Package) Bytes() []byte {
	b := binary.BigEndian.AppendUint16(putID(nil, p.Dealer), uint16(len(p.commitments)))
	for _, c := range p.commitments {
		b = append(b, c.bytes()...)
	}
	return concat(b, p.proofR.bytes(), p.proofZ.bytes())
}

// DecodeRound1Package decodes what Round1Package.Bytes encodes; it does
// not check the proof (VerifyRound1 does).
func (s *Suite) DecodeRound1Package(b []byte) (*Round1Package, error) {
	d := &decoder{s: s, b: b}
	p := &Round1Package{Dealer: d.id()}
	n := d.u16()
	if d.err == nil && n == 0 {
		d.fail("no commitments")
	}
	for range n {
		if d.err != nil {
			break
		}
		p.commitments = append(p.commitments, d.element())
	}
	p.proofR, p.proofZ = d.element(), d.scalar()
	if err := d.done(); err != nil {
		return nil, err
	}
	return p, nil
}

// Bytes encodes the package: dealer || recipient || share || R || z. It
// holds a secret share: encrypt it to the recipient.
func (p *Round2Package) Bytes() []byte {
	return concat(putID(putID(nil, p.Dealer), p.Recipient), p.share.bytes(), p.sigR.bytes(), p.sigZ.bytes())
}

// DecodeRound2Package decodes what Round2Package.Bytes encodes; it does
// not check the signature (CheckDealing does).
func (s *Suite) DecodeRound2Package(b []byte) (*Round2Package, error) {
	d := &decoder{s: s, b: b}
	p := &Round2Package{Dealer: d.id(), Recipient: d.id(), share: d.scalar(), sigR: d.element(), sigZ: d.scalar()}
	if err := d.done(); err != nil {
		return nil, err
	}
	return p, nil
}

// Bytes encodes the package: min signers || count || group key || then
// identifier || verifying share for each participant, ascending.
func (p *PublicKeyPackage) Bytes() []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(p.minSigners))
	b = binary.BigEndian.AppendUint16(b, uint16(len(p.ids)))
	b = append(b, p.groupKey.bytes()...)
	for i, id := range p.ids {
		b = append(putID(b, id), p.verifying[i].bytes()...)
	}
	return b
}

// DecodePublicKeyPackage decodes what PublicKeyPackage.Bytes encodes.
func (s *Suite) DecodePublicKeyPackage(b []byte) (*PublicKeyPackage, error) {
	d := &decoder{s: s, b: b}
	p, err := d.publicKeyPackage()
	if err != nil {
		return nil, err
	}
	return p, d.done()
}

func (d *decoder) publicKeyPackage() (*PublicKeyPackage, error) {
	p := &PublicKeyPackage{suite: d.s, minSigners: d.u16()}
	n := d.u16()
	if d.err == nil && checkParams(p.minSigners, n) != nil {
		d.fail("%d of %d participants", p.minSigners, n)
	}
	p.groupKey = d.element()
	for range n {
		if d.err != nil {
			break
		}
		id := d.id()
		if len(p.ids) > 0 && id <= p.ids[len(p.ids)-1] {
			d.fail("participants not in ascending order")
		}
		p.ids = append(p.ids, id)
		p.verifying = append(p.verifying, d.element())
	}
	return p, d.err
}

// Bytes encodes the key package: identifier || signing share || public key
// package. It holds the signing share: keep it encrypted at rest.
func (k *KeyPackage) Bytes() []byte {
	return concat(putID(nil, k.id), k.share.bytes(), k.public.Bytes())
}

// DecodeKeyPackage decodes what KeyPackage.Bytes encodes and checks that
// the signing share matches the participant's verifying share.
func (s *Suite) DecodeKeyPackage(b []byte) (*KeyPackage, error) {
	d := &decoder{s: s, b: b}
	k := &KeyPackage{id: d.id(), share: d.scalar()}
	pub, _ := d.publicKeyPackage()
	if err := d.done(); err != nil {
		return nil, err
	}
	y := pub.verifyingShare(k.id)
	if y == nil || !s.g.baseMul(k.share).equal(y) {
		return nil, fmt.Errorf("%w: signing share does not match participant %d's verifying share", ErrMalformed, k.id)
	}
	k.public = pub
	return k, nil
}
