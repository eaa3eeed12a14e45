//go:build js && wasm

package tx

import "crypto/ed25519"

// verifyEd25519 reports whether sig is pub's Ed25519 signature of msg,
// with crypto/ed25519: curve25519-voi, which other builds use for speed
// (ed25519.go), does not compile for js/wasm. Its rules are the ones
// verifyEd25519 holds everywhere, so a browser accepts exactly the
// signatures a node does.
func verifyEd25519(pub, msg, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && len(sig) == ed25519.SignatureSize &&
		ed25519.Verify(pub, msg, sig)
}
