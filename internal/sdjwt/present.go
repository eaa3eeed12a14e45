package sdjwt

import (
	"encoding/base64"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// KeyBindingType is the "typ" of a Key Binding JWT (RFC 9901 Section 4.3).
const KeyBindingType = "kb+jwt"

// Binding says how a holder binds a presentation to its key (RFC 9901 Section 4.3).
type Binding struct {
	// Key is the holder's private key, the one the SD-JWT's "cnf" names.
	Key jose.SigningKey
	// Audience and Nonce are the verifier's, as it asked for them.
	Audience, Nonce string
	// IssuedAt is the KB-JWT's "iat": the caller's clock, not read here.
	IssuedAt time.Time
}

// Present selects Disclosures from an issued SD-JWT and, if b is not nil, appends a Key
// Binding JWT. keep is asked about every Disclosure's path; a Disclosure is kept when
// keep says so for it, and also when a Disclosure nested in its value is kept (a
// Disclosure whose parent is withheld would be unreferenced, Section 7.1). The kept
// Disclosures keep the issuer's order. The issuer's signature is not checked: the
// holder is assumed to have verified the SD-JWT when it received it.
func Present(issued Token, keep func(Path) bool, b *Binding) (Token, error) {
	payload, err := UnverifiedPayload(issued.JWT)
	if err != nil {
		return Token{}, err
	}
	p, err := newProcessor(issued.Disclosures)
	if err != nil {
		return Token{}, err
	}
	if _, err := p.run(payload); err != nil {
		return Token{}, err
	}
	parent := map[string]string{}
	for _, f := range p.found {
		parent[Digest(f.Encoded)] = f.Parent
	}
	chosen := map[string]bool{}
	for _, f := range p.found {
		if !keep(f.Path) {
			continue
		}
		for dg := Digest(f.Encoded); dg != "" && !chosen[dg]; dg = parent[dg] {
			chosen[dg] = true
		}
	}
	out := Token{JWT: issued.JWT, Disclosures: []string{}}
	ordered, err := parseOrdered(payloadOf(issued.JWT))
	if err != nil {
		return Token{}, err
	}
	w := orderWalker{byDigest: map[string]string{}, chosen: chosen}
	for _, d := range issued.Disclosures {
		w.byDigest[Digest(d)] = d
	}
	if err := w.walk(ordered); err != nil {
		return Token{}, err
	}
	out.Disclosures = append(out.Disclosures, w.out...)
	if b == nil {
		return out, nil
	}
	kb, err := keyBindingJWT(out.sdJWT(), *b)
	if err != nil {
		return Token{}, err
	}
	out.KeyBinding = kb
	return out, nil
}

// orderWalker lists the chosen Disclosures in the order a reader of the payload meets
// them: depth first, members in payload order, a Disclosure before what it contains.
// That is the order of RFC 9901's example presentations.
type orderWalker struct {
	byDigest map[string]string
	chosen   map[string]bool
	out      []string
}

func (w *orderWalker) walk(v any) error {
	switch x := v.(type) {
	case Object:
		for _, m := range x {
			if m.Name != "_sd" {
				if err := w.walk(m.Value); err != nil {
					return err
				}
				continue
			}
			list, _ := m.Value.([]any)
			for _, d := range list {
				if err := w.digest(d); err != nil {
					return err
				}
			}
		}
	case []any:
		for _, e := range x {
			if o, ok := e.(Object); ok && len(o) == 1 && o[0].Name == "..." {
				if err := w.digest(o[0].Value); err != nil {
					return err
				}
				continue
			}
			if err := w.walk(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *orderWalker) digest(v any) error {
	dg, _ := v.(string)
	if !w.chosen[dg] {
		return nil
	}
	enc := w.byDigest[dg]
	w.out = append(w.out, enc)
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return fmt.Errorf("%w: disclosure is not base64url", ErrMalformed)
	}
	arr, err := parseOrdered(raw)
	if err != nil {
		return err
	}
	a := arr.([]any) // checked by DecodeDisclosure
	return w.walk(a[len(a)-1])
}

// keyBindingJWT signs {nonce, aud, iat, sd_hash} over the SD-JWT text sd.
func keyBindingJWT(sd string, b Binding) (string, error) {
	if b.Audience == "" || b.Nonce == "" {
		return "", fmt.Errorf("%w: key binding needs an audience and a nonce", ErrClaims)
	}
	body, err := encode(Object{
		{"nonce", b.Nonce},
		{"aud", b.Audience},
		{"iat", b.IssuedAt.Unix()},
		{"sd_hash", Digest(sd)},
	})
	if err != nil {
		return "", err
	}
	return sign(b.Key, KeyBindingType, nil, body)
}

// Everything is a keep function that discloses every claim.
func Everything(Path) bool { return true }

// Nothing is a keep function that discloses no claim.
func Nothing(Path) bool { return false }
