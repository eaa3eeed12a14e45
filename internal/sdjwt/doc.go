// Package sdjwt implements Selective Disclosure for JWTs (SD-JWT, RFC 9901) and the
// SD-JWT VC profile on top of it (draft-ietf-oauth-sd-jwt-vc).
//
// # Issuing
//
// An issuer writes its claims as an [Object], wrapping in [SD] every object member or
// array element the holder may later withhold, and calls [Issue]. Salts and decoy
// digests are read from the [Issuance]'s Rand; nothing else is random.
//
// # Presenting
//
// A holder calls [Present] with a keep function that picks Disclosures by their [Path],
// and a [Binding] to append a Key Binding JWT. The KB-JWT's time is the caller's.
//
// # Verifying
//
// A verifier calls [Verify] (or [VerifyVC]) with the issuer's key, its own time and,
// when it wants holder binding, a [KeyBindingPolicy]. The result holds the processed
// claims. Errors wrap one of the Err values of this package.
//
// The JWS layer is go-jose; algorithms EdDSA (Ed25519), ES256 and ES256K (secp256k1,
// plugged into go-jose as an opaque signer and verifier). docs/spec/sd-jwt.md
// states what is implemented and every choice made where the RFC leaves one.
package sdjwt
