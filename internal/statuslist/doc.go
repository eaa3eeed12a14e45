// Package statuslist encodes and decodes the two status list formats a credential
// issuer publishes to revoke or suspend what it issued:
//
//   - the IETF Token Status List (draft-ietf-oauth-status-list): entries of 1, 2, 4 or
//     8 bits packed from the least significant bit, compressed with DEFLATE in the ZLIB
//     format, base64url in JSON ([List], [Encode], [Decode]) or a byte string in CBOR,
//     and signed as a "statuslist+jwt" Status List Token ([SignToken], [VerifyToken]);
//   - the W3C Bitstring Status List v1.0: bits indexed from the most significant bit,
//     at least 131,072 entries (16 KB), compressed with GZIP and written as a multibase
//     base64url string ([Bitstring]).
//
// Decoding bounds the decompressed size ([MaxBytes]) so that a small hostile list
// cannot expand without limit. Nothing here reads a clock: the verifier's time is an
// argument.
package statuslist
