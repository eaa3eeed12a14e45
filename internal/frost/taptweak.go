package frost

import (
	"fmt"
	"slices"
)

// tapTweak is BIP-341's t = int(hashTapTweak(x(P) || h)) for the x-only
// key P and the script tree's Merkle root h (empty for a key-path-only
// output); it fails for t >= n.
func tapTweak(xOnly, merkleRoot []byte) (scalar, error) {
	var b [32]byte
	copy(b[:], taggedHash("TapTweak", xOnly, merkleRoot))
	t := new(k1Scalar)
	if overflow := t.s.SetBytes(&b); overflow != 0 {
		return nil, fmt.Errorf("%w: tweak above the group order", ErrParameters)
	}
	return t, nil
}

func checkMerkleRoot(s *Suite, merkleRoot []byte) error {
	if !s.taproot {
		return fmt.Errorf("%w: a Taproot tweak needs the BIP-340 suite, not %s", ErrParameters, s)
	}
	if len(merkleRoot) != 0 && len(merkleRoot) != 32 {
		return fmt.Errorf("%w: a Merkle root is 32 bytes, got %d", ErrParameters, len(merkleRoot))
	}
	return nil
}

// TapTweak returns the public keys of the BIP-341 output key
// Q = P + t·G, where P is the group key taken with even Y (the internal
// key) and t = hashTapTweak(x(P) || merkleRoot). An empty merkleRoot gives
// the key-path-only output BIP-341 recommends where there is no script. The
// verifying shares move with it (±Y_i + t·G), so shares and signatures are
// checked as before; GroupKey is then the output key x(Q), under which
// signatures verify. BIP-340 suite only.
func (p *PublicKeyPackage) TapTweak(merkleRoot []byte) (*PublicKeyPackage, error) {
	if err := checkMerkleRoot(p.suite, merkleRoot); err != nil {
		return nil, err
	}
	odd := p.groupKey.(*k1Element).oddY()
	even := func(e element) element {
		if odd {
			return e.(*k1Element).neg()
		}
		return e
	}
	internal := even(p.groupKey)
	t, err := tapTweak(internal.bytes()[1:], merkleRoot)
	if err != nil {
		return nil, err
	}
	tG := p.suite.g.baseMul(t)
	q := &PublicKeyPackage{suite: p.suite, minSigners: p.minSigners, groupKey: internal.add(tG), ids: slices.Clone(p.ids)}
	if q.groupKey.isIdentity() {
		return nil, fmt.Errorf("%w: tweaked key is the identity", ErrParameters)
	}
	for _, y := range p.verifying {
		q.verifying = append(q.verifying, even(y).add(tG))
	}
	return q, nil
}

// TapTweak returns the participant's key package for the output key of
// [PublicKeyPackage.TapTweak]: its signing share becomes ±s_i + t, which
// the Lagrange coefficients (summing to 1) turn into the output key's
// secret. BIP-340 suite only.
func (k *KeyPackage) TapTweak(merkleRoot []byte) (*KeyPackage, error) {
	pub, err := k.public.TapTweak(merkleRoot)
	if err != nil {
		return nil, err
	}
	share := k.share
	if k.public.groupKey.(*k1Element).oddY() {
		share = share.neg()
	}
	t, err := tapTweak(k.public.groupKey.bytes()[1:], merkleRoot)
	if err != nil {
		return nil, err
	}
	return &KeyPackage{id: k.id, share: share.add(t), public: pub}, nil
}
