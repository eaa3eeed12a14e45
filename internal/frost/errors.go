package frost

import "errors"

// Errors callers branch on. Each is wrapped with a short reason.
var (
	// ErrRandom: the caller's io.Reader failed; nothing was produced.
	ErrRandom = errors.New("frost: reading randomness")
	// ErrParameters: thresholds, identifiers or lists that do not fit
	// together (the caller's mistake or a coordinator's, not a signer's).
	ErrParameters = errors.New("frost: bad parameters")
	// ErrNonceUsed: the nonces were already consumed by a Sign; commit again.
	ErrNonceUsed = errors.New("frost: nonces already used")
	// ErrInvalidShare: a signature share does not verify; a *ShareError
	// names its signer.
	ErrInvalidShare = errors.New("frost: invalid signature share")
	// ErrInvalidSignature: a signature does not verify under the key.
	ErrInvalidSignature = errors.New("frost: invalid signature")
	// ErrMalformed: bytes that do not decode to the expected value.
	ErrMalformed = errors.New("frost: malformed encoding")
	// ErrInvalidProof: a DKG round-one package whose proof of knowledge
	// fails; its dealer is disqualified.
	ErrInvalidProof = errors.New("frost: invalid proof of knowledge")
	// ErrBadDealing: a DKG share that does not match its dealer's
	// commitments; a *DealerError names the dealer.
	ErrBadDealing = errors.New("frost: share does not match the dealer's commitments")
	// ErrBadEvidence: a complaint whose evidence is not signed by the
	// dealer it accuses, or names the wrong parties.
	ErrBadEvidence = errors.New("frost: complaint evidence does not hold")
)
