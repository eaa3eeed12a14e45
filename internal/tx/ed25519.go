package tx

import (
	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519/extra/cache"
)

// ed25519CacheKeys bounds how many public keys keep their expanded
// form; past it the least recently used is dropped.
const ed25519CacheKeys = 4096

// ed25519Verifier verifies Ed25519 signatures with curve25519-voi, which
// CometBFT also uses: about 1.6 times as fast as crypto/ed25519 on this
// project's machines, and twice as fast for a key seen recently, whose
// expanded form (its decompressed point and precomputed multiples) the
// cache keeps. The answers are crypto/ed25519's exactly: see
// ed25519Rules. Safe for concurrent use.
var ed25519Verifier = cache.NewVerifier(cache.NewLRUCache(ed25519CacheKeys))

// ed25519Rules are crypto/ed25519's verification rules (RFC 8032's
// cofactorless equation; S must be canonical, A may be any encoding of
// any point, including small-order ones; R is compared as encoded), so
// that which signatures are valid never depends on the implementation:
// FuzzEd25519MatchesStdlib holds the two equal.
var ed25519Rules = &ed25519.Options{Verify: ed25519.VerifyOptionsStdLib}

// verifyEd25519 reports whether sig is pub's Ed25519 signature of msg.
func verifyEd25519(pub, msg, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && len(sig) == ed25519.SignatureSize &&
		ed25519Verifier.VerifyWithOptions(pub, msg, sig, ed25519Rules)
}
