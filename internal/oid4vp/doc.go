// Package oid4vp implements the parts of OpenID for Verifiable
// Presentations 1.0 (Final) that a relying party and a wallet of Agora
// speak: the authorization request (by value, or by reference through
// request_uri as a signed request object of type oauth-authz-req+jwt),
// the Digital Credentials Query Language (DCQL) and its evaluation over a
// wallet's credentials, and the direct_post response with its vp_token.
//
// # Client identifiers
//
// A client_id is "<prefix>:<identifier>" (OpenID4VP §5.9). Two prefixes
// are supported:
//
//   - decentralized_identifier: the verifier is a DID (did:agora:...);
//     its request must be a request object signed by a key of that DID,
//     named by the JWS "kid" (a DID URL), which the wallet resolves on the
//     ledger, proven, and checks is an authentication or assertionMethod
//     key of the DID.
//   - redirect_uri: the verifier is its response URI; its request must not
//     be signed, and its response_uri must be the identifier.
//
// The client_id, prefix included, is the audience of every presentation:
// the "aud" of an SD-JWT's Key Binding JWT and of a DID authentication.
//
// # DID authentication
//
// Besides the formats of the specification, a credential query of format
// FormatDID asks for no credential but for the holder's DID: its
// presentation is a JWT (typ DIDAuthType) signed by an authentication key
// of the DID, whose "kid" names the key, with iss the DID, aud the
// client_id, the request's nonce and iat. It is the W3C "DID
// authentication" presentation (a VerifiablePresentation with a holder
// and no credential), for access where a credential is not needed.
//
// Nothing here reads a clock, the network or randomness: the caller
// passes them in.
package oid4vp
