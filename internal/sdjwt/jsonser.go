package sdjwt

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// jwsJSON is the JWS JSON serialization of an SD-JWT (RFC 9901 Section 8): flattened
// (protected, header, signature at the top) or general (a signatures array).
type jwsJSON struct {
	Payload    string       `json:"payload"`
	Signatures []jwsJSONSig `json:"signatures"`
	jwsJSONSig
}

type jwsJSONSig struct {
	Protected string `json:"protected"`
	Signature string `json:"signature"`
	Header    struct {
		Disclosures []string `json:"disclosures"`
		KeyBinding  string   `json:"kb_jwt"`
	} `json:"header"`
}

// ParseJSON reads an SD-JWT or SD-JWT+KB in the JWS JSON serialization (Section 8,
// flattened or general) and returns it as the compact Token it stands for: the
// Issuer-signed JWT of the signature whose unprotected header carries the
// "disclosures" (the first signature of the general form), its Disclosures and its
// "kb_jwt". That is also what the KB-JWT's sd_hash covers (Section 8.1), so Verify of
// the Token's String verifies the presentation. Other signatures of the general form,
// and other members of the unprotected headers (such as "kid"), are not kept: the
// KeyFunc sees the protected header only.
func ParseJSON(data []byte) (Token, error) {
	var j jwsJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&j); err != nil {
		return Token{}, fmt.Errorf("%w: not a JWS JSON serialization: %v", ErrMalformed, err)
	}
	sig := j.jwsJSONSig
	switch {
	case len(j.Signatures) > 0 && sig.Protected+sig.Signature != "":
		return Token{}, fmt.Errorf("%w: both the flattened and the general serialization", ErrMalformed)
	case len(j.Signatures) > 0:
		sig = j.Signatures[0]
		for _, other := range j.Signatures[1:] {
			if other.Header.Disclosures != nil || other.Header.KeyBinding != "" {
				return Token{}, fmt.Errorf("%w: disclosures or kb_jwt outside the first signature", ErrMalformed)
			}
		}
	}
	if j.Payload == "" || sig.Protected == "" || sig.Signature == "" {
		return Token{}, fmt.Errorf("%w: payload, protected and signature are required", ErrMalformed)
	}
	// Through Parse, so that the JSON form gets exactly the compact form's checks.
	t := Token{JWT: sig.Protected + "." + j.Payload + "." + sig.Signature, Disclosures: sig.Header.Disclosures, KeyBinding: sig.Header.KeyBinding}
	parsed, err := Parse(t.String())
	if err != nil {
		return Token{}, err
	}
	if len(parsed.Disclosures) != len(t.Disclosures) || parsed.String() != t.String() {
		return Token{}, fmt.Errorf("%w: a member holds a '~'", ErrMalformed)
	}
	return parsed, nil
}
