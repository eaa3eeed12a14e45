package frost

import (
	"crypto/sha256"
	"crypto/sha512"
	"hash"
)

// Suite is a FROST ciphersuite: a prime-order group, its hash functions H1 to
// H5 (RFC 9591 section 6), and the signature format. The three suites are the
// package's variables; a Suite is immutable.
type Suite struct {
	name    string
	context string
	g       group
	// h is the suite's hash: SHA-512 or SHA-256.
	h func() hash.Hash
	// toScalar maps a digest input, under a domain-separation tag, to a
	// scalar: H1, H2 (except where challenge overrides it), H3 and the DKG's
	// proof challenges.
	toScalar func(s *Suite, dst string, msg []byte) scalar
	// taproot marks the BIP-340 variant: even-Y group key and group
	// commitment, tagged-hash challenge, x-only encodings.
	taproot bool
}

// Ed25519 is FROST(Ed25519, SHA-512), RFC 9591 section 6.1. Its signatures
// are Ed25519 signatures (RFC 8032) under the group public key.
var Ed25519 = &Suite{
	name:     "FROST(Ed25519, SHA-512)",
	context:  "FROST-ED25519-SHA512-v1",
	g:        edGroup{},
	h:        sha512.New,
	toScalar: edToScalar,
}

// Secp256k1 is FROST(secp256k1, SHA-256), RFC 9591 section 6.5.
var Secp256k1 = &Suite{
	name:     "FROST(secp256k1, SHA-256)",
	context:  "FROST-secp256k1-SHA256-v1",
	g:        k1Group{},
	h:        sha256.New,
	toScalar: k1ToScalar,
}

// Secp256k1Taproot is FROST(secp256k1, SHA-256) producing BIP-340 Schnorr
// signatures, in the manner of the Zcash Foundation's frost-secp256k1-tr:
// the group key and the group commitment are used with even Y (the secret
// shares and nonces negated where they are odd), the challenge is BIP-340's
// tagged hash over x-only encodings, and a signature is the 64 bytes
// x(R) || z. The group key it reports is the 32-byte x-only key.
var Secp256k1Taproot = &Suite{
	name:     "FROST(secp256k1, SHA-256, BIP-340)",
	context:  "FROST-secp256k1-SHA256-TR-v1",
	g:        k1Group{},
	h:        sha256.New,
	toScalar: k1ToScalar,
	taproot:  true,
}

// String returns the suite's name, as RFC 9591 writes it.
func (s *Suite) String() string { return s.name }

func (s *Suite) digest(parts ...[]byte) []byte {
	h := s.h()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// edToScalar is SHA-512(context || tag || msg) read little-endian mod L; an
// empty dst means no context at all (H2, which must equal RFC 8032's).
func edToScalar(s *Suite, dst string, msg []byte) scalar {
	if dst == "" {
		return edScalarWide(s.digest(msg))
	}
	return edScalarWide(s.digest([]byte(s.context), []byte(dst), msg))
}

// k1ToScalar is hash_to_field (RFC 9380 section 5.2) with
// expand_message_xmd(SHA-256), DST = context || tag, L = 48, count 1.
func k1ToScalar(s *Suite, dst string, msg []byte) scalar {
	return k1ScalarWide(expandMessageXMD(sha256.New, msg, []byte(s.context+dst), 48))
}

// expandMessageXMD is RFC 9380 section 5.3.1 for a DST of at most 255 bytes
// and an output of at most 255 blocks.
func expandMessageXMD(h func() hash.Hash, msg, dst []byte, n int) []byte {
	if len(dst) > 255 {
		panic("frost: DST too long")
	}
	hh := h()
	bLen, sLen := hh.Size(), hh.BlockSize()
	ell := (n + bLen - 1) / bLen
	if ell > 255 {
		panic("frost: expand_message_xmd output too long")
	}
	dstPrime := append(append([]byte{}, dst...), byte(len(dst)))
	hh.Write(make([]byte, sLen))
	hh.Write(msg)
	hh.Write([]byte{byte(n >> 8), byte(n), 0})
	hh.Write(dstPrime)
	b0 := hh.Sum(nil)
	out := make([]byte, 0, ell*bLen)
	prev := make([]byte, bLen)
	for i := 1; i <= ell; i++ {
		x := make([]byte, bLen)
		for j := range x {
			x[j] = b0[j] ^ prev[j]
		}
		if i == 1 {
			x = b0
		}
		hh.Reset()
		hh.Write(x)
		hh.Write([]byte{byte(i)})
		hh.Write(dstPrime)
		prev = hh.Sum(nil)
		out = append(out, prev...)
	}
	return out[:n]
}

// h1 is RFC 9591's H1, the binding factor.
func (s *Suite) h1(m []byte) scalar { return s.toScalar(s, "rho", m) }

// h3 is H3, the nonce derivation.
func (s *Suite) h3(m []byte) scalar { return s.toScalar(s, "nonce", m) }

// h4 is H4, the message hash.
func (s *Suite) h4(m []byte) []byte { return s.digest([]byte(s.context), []byte("msg"), m) }

// h5 is H5, the commitment list hash.
func (s *Suite) h5(m []byte) []byte { return s.digest([]byte(s.context), []byte("com"), m) }

// challenge is RFC 9591's compute_challenge (H2 over R, the group key and
// the message); for the BIP-340 suite it is BIP-340's challenge over x-only
// encodings, with R and the key already of even Y.
func (s *Suite) challenge(r, pk element, msg []byte) scalar {
	switch {
	case s.taproot:
		return k1ScalarWide(taggedHash("BIP0340/challenge", r.bytes()[1:], pk.bytes()[1:], msg))
	case s.g.elementLen() == 32: // Ed25519: H2 is plain SHA-512, as in RFC 8032
		return s.toScalar(s, "", concat(r.bytes(), pk.bytes(), msg))
	default:
		return s.toScalar(s, "chal", concat(r.bytes(), pk.bytes(), msg))
	}
}

// taggedHash is BIP-340's SHA256(SHA256(tag) || SHA256(tag) || x).
func taggedHash(tag string, parts ...[]byte) []byte {
	t := sha256.Sum256([]byte(tag))
	h := sha256.New()
	h.Write(t[:])
	h.Write(t[:])
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func concat(parts ...[]byte) []byte {
	var n int
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
