package frost

import (
	"fmt"
	"io"
	"slices"
)

// Resharing hands the group key to a new set of holders, with a new
// threshold if wanted, without ever assembling the group secret and
// without changing the group key (Desmedt and Jajodia's redistribution,
// with the DKG's verifiable dealing). Proactive refresh is the same with
// Holders equal to the old holders and the same threshold: the new shares
// are independent of the old ones.
//
// Each dealer i, an old holder among Dealers (at least the old threshold),
// deals a fresh polynomial g_i of degree MinSigners-1 whose constant term is
// its Lagrange-weighted old share λ_i·s_i, so that the constant terms add
// up to the group secret. Its round-one package commits to g_i with a proof
// of knowledge, as in the DKG, and the ledger also checks that the
// constant-term commitment is λ_i·Y_i for the dealer's old verifying share
// Y_i ([Resharing.VerifyRound1]); its round-two packages are signed shares
// g_i(j), one for every new holder j (itself too, if it is one), checked
// and complained about exactly as in the DKG ([Suite.CheckDealing],
// [Suite.JudgeComplaint]). Each new holder's share is the sum of what it
// received ([Resharing.Finish]); the new public keys follow from the
// round-one packages ([Resharing.PublicKeys]).
//
// Resharing does not revoke the old shares: the group key is unchanged, so
// old holders must erase their old key packages once the new ones are in
// use, and a threshold of old holders who keep theirs can still sign.
type Resharing struct {
	// Session is unique to this resharing, as for the DKG.
	Session []byte
	// Old is the group's current public keys.
	Old *PublicKeyPackage
	// Dealers are the old holders who deal, ascending, at least
	// Old.MinSigners() of them.
	Dealers []Identifier
	// MinSigners is the new threshold.
	MinSigners int
	// Holders are the new holders, ascending.
	Holders []Identifier
}

func (r *Resharing) check() error {
	if err := checkParams(r.MinSigners, len(r.Holders)); err != nil {
		return err
	}
	if len(r.Dealers) < r.Old.minSigners {
		return fmt.Errorf("%w: %d dealers, the old threshold is %d", ErrParameters, len(r.Dealers), r.Old.minSigners)
	}
	for i, id := range r.Dealers {
		if (i > 0 && id <= r.Dealers[i-1]) || r.Old.verifyingShare(id) == nil {
			return fmt.Errorf("%w: dealers must be old holders, ascending", ErrParameters)
		}
	}
	for i, id := range r.Holders {
		if id == 0 || (i > 0 && id <= r.Holders[i-1]) {
			return fmt.Errorf("%w: holders must be non-zero, ascending", ErrParameters)
		}
	}
	return nil
}

// Deal is old holder k's whole part: its round-one package, to publish,
// and its signed share for each new holder, in the order of Holders, to
// send each to its holder encrypted.
func (r *Resharing) Deal(rand io.Reader, k *KeyPackage) (*Round1Package, []*Round2Package, error) {
	if err := r.check(); err != nil {
		return nil, nil, err
	}
	if !k.public.Equal(r.Old) || !slices.Contains(r.Dealers, k.id) {
		return nil, nil, fmt.Errorf("%w: participant %d is not a dealer of this resharing", ErrParameters, k.id)
	}
	s := r.Old.suite
	coeffs, err := s.randomPolynomial(rand, r.MinSigners)
	if err != nil {
		return nil, nil, err
	}
	defer zeroAll(coeffs)
	coeffs[0].zero()
	coeffs[0] = s.lagrange(k.id, r.Dealers).mul(k.share)
	pkg, err := s.commitPolynomial(rand, r.Session, k.id, coeffs)
	if err != nil {
		return nil, nil, err
	}
	var out []*Round2Package
	for _, h := range r.Holders {
		p, err := s.dealShare(rand, r.Session, pkg, coeffs, h)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, p)
	}
	return pkg, out, nil
}

// VerifyRound1 checks a dealer's round-one package: a valid DKG package
// for the new threshold whose constant term is the dealer's weighted old
// share, λ_i·Y_i. Deterministic; the ledger calls it.
func (r *Resharing) VerifyRound1(p *Round1Package) error {
	if err := r.check(); err != nil {
		return err
	}
	s := r.Old.suite
	if err := s.VerifyRound1(r.Session, r.MinSigners, p); err != nil {
		return err
	}
	if !slices.Contains(r.Dealers, p.Dealer) {
		return &DealerError{Dealer: p.Dealer, Err: fmt.Errorf("%w: not a dealer of this resharing", ErrParameters)}
	}
	want := r.Old.verifyingShare(p.Dealer).mul(s.lagrange(p.Dealer, r.Dealers))
	if !p.commitments[0].equal(want) {
		return &DealerError{Dealer: p.Dealer, Err: fmt.Errorf("%w: constant term is not the dealer's old share", ErrBadDealing)}
	}
	return nil
}

func (r *Resharing) checkRound1(round1 []*Round1Package) error {
	if len(round1) != len(r.Dealers) {
		return fmt.Errorf("%w: %d round-one packages for %d dealers", ErrParameters, len(round1), len(r.Dealers))
	}
	for i, p := range round1 {
		if p.Dealer != r.Dealers[i] {
			return fmt.Errorf("%w: round-one packages not in the order of the dealers", ErrParameters)
		}
		if err := r.VerifyRound1(p); err != nil {
			return err
		}
	}
	return nil
}

// PublicKeys derives the new public keys from the dealers' round-one
// packages (in the order of Dealers): the group key is unchanged.
// Deterministic; the ledger calls it.
func (r *Resharing) PublicKeys(round1 []*Round1Package) (*PublicKeyPackage, error) {
	if err := r.checkRound1(round1); err != nil {
		return nil, err
	}
	pub, err := r.Old.suite.publicKeys(r.MinSigners, r.Holders, round1)
	if err != nil {
		return nil, err
	}
	if !pub.groupKey.equal(r.Old.groupKey) {
		// VerifyRound1 pinned every constant term: not reached.
		return nil, fmt.Errorf("%w: resharing changed the group key", ErrParameters)
	}
	return pub, nil
}

// Finish is new holder id's part: it checks the share received from each
// dealer (in the order of Dealers) and returns its new key package. A bad
// share fails it with a *DealerError: publish that share as a complaint.
func (r *Resharing) Finish(id Identifier, round1 []*Round1Package, received []*Round2Package) (*KeyPackage, error) {
	pub, err := r.PublicKeys(round1)
	if err != nil {
		return nil, err
	}
	y := pub.verifyingShare(id)
	if y == nil {
		return nil, fmt.Errorf("%w: %d is not a new holder", ErrParameters, id)
	}
	s := r.Old.suite
	share, err := s.sumShares(r.Session, id, 0, round1, received)
	if err != nil {
		return nil, err
	}
	if !s.g.baseMul(share).equal(y) {
		return nil, fmt.Errorf("%w: new share does not match the public keys", ErrParameters)
	}
	return &KeyPackage{id: id, share: share, public: pub}, nil
}
