package frost

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// DKG is one participant's private state in a Pedersen distributed key
// generation with proofs of knowledge (FROST paper, figure 1; the Zcash
// Foundation's dkg module), between maxSigners participants who all deal:
//
//  1. Round 1 (public): each participant draws a secret polynomial f_i of
//     degree t-1, publishes commitments C_i,k = a_i,k·G to its coefficients
//     and a Schnorr proof of knowledge of a_i,0 bound to the session and to
//     its identifier ([Round1Package]). The ledger checks each with
//     [Suite.VerifyRound1] and disqualifies a dealer whose proof fails.
//  2. Round 2 (private, one message per pair): each sends f_i(j) to every
//     other participant j, signed under C_i,0 ([Round2Package]); the caller
//     encrypts it to j. The recipient checks it with [Suite.CheckDealing].
//     A share that does not match the commitments, signed by its dealer, is
//     evidence: the recipient publishes it as a complaint and the ledger
//     judges it with [Suite.JudgeComplaint].
//  3. Finish (private): each adds the shares it received to its own,
//     f_i(i), to get its signing share. The public keys follow from round 1
//     alone ([Suite.DKGPublicKeys]), so the ledger derives the group key and
//     every verifying share without seeing a secret.
//
// A DKG in which a dealer is found cheating is abandoned and run again,
// under a new session, without it. A DKG value holds secrets: it is
// discarded (its secrets overwritten) by Finish.
type DKG struct {
	suite      *Suite
	session    []byte
	id         Identifier
	minSigners int
	maxSigners int
	coeffs     []scalar
	own        *Round1Package
	done       bool
}

// Round1Package is a dealer's public message of round 1: the commitments
// to its polynomial's coefficients, lowest degree first, and a proof of
// knowledge of the constant term.
type Round1Package struct {
	Dealer      Identifier
	commitments []element
	proofR      element
	proofZ      scalar
}

// Round2Package is a dealer's share for one recipient, f_dealer(recipient),
// with the dealer's Schnorr signature under its constant-term commitment,
// which makes a bad share evidence against its dealer. It is secret until
// it is published in a complaint; the caller encrypts it in transit.
type Round2Package struct {
	Dealer, Recipient Identifier
	share             scalar
	sigR              element
	sigZ              scalar
}

// DealerError names a dealer whose message is invalid.
type DealerError struct {
	Dealer Identifier
	Err    error
}

func (e *DealerError) Error() string { return fmt.Sprintf("dealer %d: %v", e.Dealer, e.Err) }

func (e *DealerError) Unwrap() error { return e.Err }

// NewDKG starts participant id's part in a DKG of a minSigners-of-maxSigners
// group under session, a byte string that all participants agree on and
// that is never used for another DKG (the ledger gives one, for instance the
// ID of the transaction that opened the DKG). It returns the private state
// and the round-one package to publish.
func (s *Suite) NewDKG(rand io.Reader, session []byte, id Identifier, minSigners, maxSigners int) (*DKG, *Round1Package, error) {
	if err := checkParams(minSigners, maxSigners); err != nil {
		return nil, nil, err
	}
	if id == 0 {
		return nil, nil, fmt.Errorf("%w: identifier 0", ErrParameters)
	}
	coeffs, err := s.randomPolynomial(rand, minSigners)
	if err != nil {
		return nil, nil, err
	}
	pkg, err := s.commitPolynomial(rand, session, id, coeffs)
	if err != nil {
		zeroAll(coeffs)
		return nil, nil, err
	}
	d := &DKG{suite: s, session: slices.Clone(session), id: id, minSigners: minSigners, maxSigners: maxSigners,
		coeffs: coeffs, own: pkg}
	return d, pkg, nil
}

// commitPolynomial is a dealer's round-one package: the commitments to
// coeffs and the proof of knowledge of coeffs[0].
func (s *Suite) commitPolynomial(rand io.Reader, session []byte, id Identifier, coeffs []scalar) (*Round1Package, error) {
	pkg := &Round1Package{Dealer: id}
	for _, c := range coeffs {
		pkg.commitments = append(pkg.commitments, s.g.baseMul(c))
	}
	k, err := s.nonceGenerate(rand, coeffs[0])
	if err != nil {
		return nil, err
	}
	defer k.zero()
	pkg.proofR = s.g.baseMul(k)
	pkg.proofZ = k.add(coeffs[0].mul(s.proofChallenge(session, id, pkg.commitments[0], pkg.proofR)))
	return pkg, nil
}

// dealShare is the dealer's signed share of its polynomial coeffs for
// recipient, signed under coeffs[0].
func (s *Suite) dealShare(rand io.Reader, session []byte, own *Round1Package, coeffs []scalar, recipient Identifier) (*Round2Package, error) {
	r2 := &Round2Package{Dealer: own.Dealer, Recipient: recipient, share: s.evalPolynomial(coeffs, recipient)}
	k, err := s.nonceGenerate(rand, coeffs[0])
	if err != nil {
		return nil, err
	}
	defer k.zero()
	r2.sigR = s.g.baseMul(k)
	r2.sigZ = k.add(coeffs[0].mul(s.shareChallenge(session, r2, own.commitments[0])))
	return r2, nil
}

// proofChallenge is the challenge of the proof of knowledge: H(context ||
// "dkg", len(session) || session || id || C_0 || R).
func (s *Suite) proofChallenge(session []byte, id Identifier, c0, r element) scalar {
	return s.toScalar(s, "dkg", concat(sessionPrefix(session), s.g.scalarFromUint(uint64(id)).bytes(), c0.bytes(), r.bytes()))
}

// shareChallenge is the challenge of a share's signature: H(context ||
// "dkg-share", len(session) || session || dealer || recipient || share ||
// C_0 || R).
func (s *Suite) shareChallenge(session []byte, p *Round2Package, key element) scalar {
	return s.toScalar(s, "dkg-share", concat(sessionPrefix(session),
		s.g.scalarFromUint(uint64(p.Dealer)).bytes(), s.g.scalarFromUint(uint64(p.Recipient)).bytes(),
		p.share.bytes(), key.bytes(), p.sigR.bytes()))
}

func sessionPrefix(session []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(session))), session...)
}

// VerifyRound1 checks a round-one package: minSigners commitments and a
// valid proof of knowledge bound to session and to the dealer. The ledger
// calls it on every package posted; a dealer whose package fails is
// disqualified.
func (s *Suite) VerifyRound1(session []byte, minSigners int, p *Round1Package) error {
	if p.Dealer == 0 || len(p.commitments) != minSigners || p.proofR == nil || p.proofZ == nil {
		return &DealerError{Dealer: p.Dealer, Err: fmt.Errorf("%w: %d commitments, threshold %d", ErrParameters, len(p.commitments), minSigners)}
	}
	c := s.proofChallenge(session, p.Dealer, p.commitments[0], p.proofR)
	if !s.g.baseMul(p.proofZ).sub(p.commitments[0].mul(c)).equal(p.proofR) {
		return &DealerError{Dealer: p.Dealer, Err: ErrInvalidProof}
	}
	return nil
}

// checkRound1List checks that the packages are the whole group, in
// ascending order of dealer, each valid.
func (s *Suite) checkRound1List(session []byte, minSigners, maxSigners int, round1 []*Round1Package) error {
	if len(round1) != maxSigners {
		return fmt.Errorf("%w: %d round-one packages for %d participants", ErrParameters, len(round1), maxSigners)
	}
	for i, p := range round1 {
		if i > 0 && p.Dealer <= round1[i-1].Dealer {
			return fmt.Errorf("%w: round-one packages not in ascending order of dealer", ErrParameters)
		}
		if err := s.VerifyRound1(session, minSigners, p); err != nil {
			return err
		}
	}
	return nil
}

// Round2 checks every round-one package (all maxSigners of them, its own
// included, ascending by dealer) and returns this participant's share for
// each of the others, signed, in that order.
func (d *DKG) Round2(rand io.Reader, round1 []*Round1Package) ([]*Round2Package, error) {
	if d.done {
		return nil, fmt.Errorf("%w: DKG already finished", ErrParameters)
	}
	s := d.suite
	if err := s.checkRound1List(d.session, d.minSigners, d.maxSigners, round1); err != nil {
		return nil, err
	}
	if i := slices.IndexFunc(round1, func(p *Round1Package) bool { return p.Dealer == d.id }); i < 0 || !round1[i].equal(d.own) {
		return nil, fmt.Errorf("%w: own round-one package missing or altered", ErrParameters)
	}
	var out []*Round2Package
	for _, p := range round1 {
		if p.Dealer == d.id {
			continue
		}
		r2, err := s.dealShare(rand, d.session, d.own, d.coeffs, p.Dealer)
		if err != nil {
			return nil, err
		}
		out = append(out, r2)
	}
	return out, nil
}

func (p *Round1Package) equal(q *Round1Package) bool {
	if p.Dealer != q.Dealer || len(p.commitments) != len(q.commitments) ||
		!p.proofR.equal(q.proofR) || !p.proofZ.equal(q.proofZ) {
		return false
	}
	for i := range p.commitments {
		if !p.commitments[i].equal(q.commitments[i]) {
			return false
		}
	}
	return true
}

// CheckDealing checks a round-two share against its dealer's round-one
// package: it must be signed by the dealer (else the error wraps
// ErrBadEvidence: it proves nothing about anyone) and match the dealer's
// commitments (else a *DealerError wrapping ErrBadDealing: the package is
// evidence against the dealer). Deterministic and public: the recipient
// calls it on what it received, the ledger on what a complaint or a
// dealer's public answer to one reveals.
func (s *Suite) CheckDealing(session []byte, dealer *Round1Package, p *Round2Package) error {
	if p.Dealer != dealer.Dealer || p.Recipient == 0 ||
		p.share == nil || p.sigR == nil || p.sigZ == nil || len(dealer.commitments) == 0 {
		return fmt.Errorf("%w: share of dealer %d for %d checked against dealer %d", ErrBadEvidence, p.Dealer, p.Recipient, dealer.Dealer)
	}
	key := dealer.commitments[0]
	c := s.shareChallenge(session, p, key)
	if !s.g.baseMul(p.sigZ).sub(key.mul(c)).equal(p.sigR) {
		return fmt.Errorf("%w: share not signed by dealer %d", ErrBadEvidence, p.Dealer)
	}
	if !s.g.baseMul(p.share).equal(s.evalCommitment(dealer.commitments, p.Recipient)) {
		return &DealerError{Dealer: p.Dealer, Err: ErrBadDealing}
	}
	return nil
}

// JudgeComplaint decides a complaint in which a recipient publishes the
// share it received: it returns the identifier of the guilty party, the
// dealer if the signed share does not match its commitments, the
// recipient (a false accusation) if it does. It returns an error wrapping
// ErrBadEvidence, and names no one, when the share is not the dealer's.
func (s *Suite) JudgeComplaint(session []byte, dealer *Round1Package, p *Round2Package) (Identifier, error) {
	err := s.CheckDealing(session, dealer, p)
	var de *DealerError
	switch {
	case err == nil:
		return p.Recipient, nil
	case errors.As(err, &de):
		return p.Dealer, nil
	default:
		return 0, err
	}
}

// Finish checks the shares received from every other dealer (ascending by
// dealer, as Round2 sent them) and returns the participant's key package.
// A bad share fails it with a *DealerError: publish that share as a
// complaint. Finish overwrites the DKG's secrets, whatever the outcome.
func (d *DKG) Finish(round1 []*Round1Package, received []*Round2Package) (*KeyPackage, error) {
	if d.done {
		return nil, fmt.Errorf("%w: DKG already finished", ErrParameters)
	}
	defer func() {
		zeroAll(d.coeffs)
		d.done = true
	}()
	s := d.suite
	pub, err := s.DKGPublicKeys(d.session, d.minSigners, d.maxSigners, round1)
	if err != nil {
		return nil, err
	}
	share, err := s.sumShares(d.session, d.id, d.id, round1, received)
	if err != nil {
		return nil, err
	}
	share = share.add(s.evalPolynomial(d.coeffs, d.id))
	if !s.g.baseMul(share).equal(pub.verifyingShare(d.id)) {
		return nil, fmt.Errorf("%w: own share does not match the public keys", ErrParameters)
	}
	return &KeyPackage{id: d.id, share: share, public: pub}, nil
}

// DKGPublicKeys derives the group's public keys from the round-one packages
// alone (all maxSigners of them, ascending by dealer, each checked): the
// group key is the sum of the constant-term commitments, and participant
// j's verifying share is the summed commitment polynomial at j. The ledger
// calls it; every participant's Finish gets the same result.
func (s *Suite) DKGPublicKeys(session []byte, minSigners, maxSigners int, round1 []*Round1Package) (*PublicKeyPackage, error) {
	if err := checkParams(minSigners, maxSigners); err != nil {
		return nil, err
	}
	if err := s.checkRound1List(session, minSigners, maxSigners, round1); err != nil {
		return nil, err
	}
	return s.publicKeys(minSigners, ids(round1), round1)
}

func ids(round1 []*Round1Package) []Identifier {
	var out []Identifier
	for _, p := range round1 {
		out = append(out, p.Dealer)
	}
	return out
}

// publicKeys sums the dealers' commitments and evaluates the sum at each
// holder's identifier (holders ascending).
func (s *Suite) publicKeys(minSigners int, holders []Identifier, round1 []*Round1Package) (*PublicKeyPackage, error) {
	sum := make([]element, minSigners)
	for k := range sum {
		sum[k] = s.g.identity()
		for _, p := range round1 {
			sum[k] = sum[k].add(p.commitments[k])
		}
	}
	if sum[0].isIdentity() {
		return nil, fmt.Errorf("%w: group key is the identity", ErrParameters)
	}
	pub := &PublicKeyPackage{suite: s, minSigners: minSigners, groupKey: sum[0]}
	for _, id := range holders {
		pub.ids = append(pub.ids, id)
		pub.verifying = append(pub.verifying, s.evalCommitment(sum, id))
	}
	return pub, nil
}

// sumShares checks the shares recipient received, one from each dealer of
// round1 but skip, in the same order, and adds them up.
func (s *Suite) sumShares(session []byte, recipient, skip Identifier, round1 []*Round1Package, received []*Round2Package) (scalar, error) {
	sum := s.g.scalarFromUint(0)
	j := 0
	for _, p := range round1 {
		if p.Dealer == skip {
			continue
		}
		if j >= len(received) {
			return nil, fmt.Errorf("%w: no share from dealer %d", ErrParameters, p.Dealer)
		}
		r := received[j]
		j++
		if r.Recipient != recipient {
			return nil, fmt.Errorf("%w: share for %d given to %d", ErrParameters, r.Recipient, recipient)
		}
		if err := s.CheckDealing(session, p, r); err != nil {
			return nil, err
		}
		sum = sum.add(r.share)
	}
	if j != len(received) {
		return nil, fmt.Errorf("%w: %d shares received, want %d", ErrParameters, len(received), j)
	}
	return sum, nil
}
