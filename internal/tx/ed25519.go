//go:build !(js && wasm)

package tx

import (
	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// ed25519Rules are crypto/ed25519's verification rules (RFC 8032's
// cofactorless equation; S must be canonical; A may be any encoding of
// any point, small-order ones included; R is compared as encoded), so
// that which signatures are valid never depends on the implementation:
// the edge-case tests and FuzzEd25519MatchesStdlib hold the two equal.
// Which keys may sign is PublicKey.Check's business (checkEd25519Key).
var ed25519Rules = &ed25519.Options{Verify: ed25519.VerifyOptionsStdLib}

// verifyEd25519 reports whether sig is pub's Ed25519 signature of msg. It
// verifies with curve25519-voi, which CometBFT also uses: about 1.5 times
// as fast as crypto/ed25519 on this project's machines (see
// BenchmarkVerifyEd25519). Its cache of expanded public keys is not used:
// it pays only for keys that sign again soon, and costs more than it
// saves for a ledger's many occasional signers. A js/wasm build, where
// curve25519-voi does not compile, verifies with crypto/ed25519 instead
// (ed25519_wasm.go): the same rules, as the tests hold.
func verifyEd25519(pub, msg, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && len(sig) == ed25519.SignatureSize &&
		ed25519.VerifyWithOptions(pub, msg, sig, ed25519Rules)
}
