// Package frost implements FROST threshold Schnorr signatures (RFC 9591) for
// the suites FROST(Ed25519, SHA-512) and FROST(secp256k1, SHA-256), a
// BIP-340 (Taproot) variant of the secp256k1 suite with BIP-341 key
// tweaking, and key generation either by a trusted dealer (RFC 9591
// Appendix C) or by a Pedersen distributed key generation with proofs of
// knowledge ([DKG]), where no one ever holds the group secret, and
// [Resharing] of the group key to new holders, which is also the proactive
// refresh of their shares.
//
// The package is deterministic: it reads no clock, starts no goroutines and
// draws randomness only from the io.Reader its caller passes. Everything the
// ledger runs (checking round-one DKG packages, judging complaints, deriving
// the group's public keys, verifying signature shares, aggregating and
// verifying signatures) uses public values only and gives the same answer
// on every node.
//
// # Signing
//
// Each of t signers calls [KeyPackage.Commit] and sends the [Commitments];
// the coordinator sends the message and the list of commitments (ascending
// by identifier) to each, who returns [KeyPackage.Sign]'s [SignatureShare];
// anyone holding the [PublicKeyPackage] checks shares with
// [PublicKeyPackage.VerifyShare] and combines them with
// [PublicKeyPackage.Aggregate], which names a cheating signer.
//
// A [Nonces] value is used once: Sign consumes it (overwrites the nonces and
// refuses a second use with [ErrNonceUsed]). Nonces are never serialized by
// this package, so they cannot be restored from disk and reused.
//
// # Constant time
//
// Secrets are signing shares, nonces and polynomial coefficients. Scalar
// arithmetic on them (addition, multiplication, negation, polynomial
// evaluation, reduction of hash outputs) is constant time in both groups:
// edwards25519.Scalar and secp256k1.ModNScalar are. Secrets only ever
// multiply the generator, which Ed25519 does in constant time
// (ScalarBaseMult); other points are multiplied by public scalars only, in
// variable time. The secp256k1 library
// offers only variable-time point multiplication (ScalarBaseMultNonConst),
// so computing a commitment k·G on secp256k1 can leak timing about k; this
// is the same exposure as the library's own ECDSA signing. Scalar inversion
// on secp256k1 is variable time and only applied to public identifiers.
// Verification works on public values and is not constant time.
//
// See docs/spec/frost.md for encodings, the DKG's messages and checks, and
// the rules the ledger applies.
package frost
