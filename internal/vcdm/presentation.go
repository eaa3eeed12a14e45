package vcdm

import (
	"net/url"
	"slices"
	"strings"
)

// Presentation checks p, a verifiable presentation's JSON (VC 2.0
// Section 4.13; its secured form already verified and decoded by the
// caller): @context as a credential's, type with VerifiablePresentation
// among defined terms or URLs, id a URL, holder a URL or an object with
// a URL id, and verifiableCredential one or more objects, each an
// enveloped credential (Enveloped) or an embedded credential that
// Credential accepts. Strings, numbers and URLs are no credentials.
func (k *Checker) Presentation(p map[string]any) error {
	ctx, _, err := k.typed(p, "VerifiablePresentation")
	if err != nil {
		return err
	}
	if err := optionalURL(p, "id"); err != nil {
		return err
	}
	if h, ok := p["holder"]; ok {
		if err := holder(h); err != nil {
			return err
		}
	}
	if vcs, ok := p["verifiableCredential"]; ok {
		list, err := objects("verifiableCredential", vcs)
		if err != nil {
			return err
		}
		for i, c := range list {
			check := k.Credential
			if HasType(c, "EnvelopedVerifiableCredential") {
				check = k.Enveloped
			}
			if err := check(c); err != nil {
				return invalid("verifiableCredential[%d]: %s", i, strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
			}
		}
	}
	return typedObjects("proof", p, "", ctx)
}

// CheckPresentation checks p with the embedded contexts.
func CheckPresentation(p map[string]any) error { return defaultChecker.Presentation(p) }

func holder(v any) error {
	switch v := v.(type) {
	case string:
		return urlValue("holder", v)
	case map[string]any:
		id, ok := v["id"]
		if !ok {
			return invalid("holder object has no id")
		}
		return urlValue("holder id", id)
	default:
		return invalid("holder is neither a URL nor an object")
	}
}

// HasType reports whether o's type is t or a list holding t (unchecked:
// the type a checker would start from).
func HasType(o map[string]any, t string) bool {
	switch ty := o["type"].(type) {
	case string:
		return ty == t
	case []any:
		return slices.Contains(ty, any(t))
	}
	return false
}

// Enveloped checks c, an EnvelopedVerifiableCredential (VC 2.0 Section
// 4.13.1): @context first the base context, type with
// EnvelopedVerifiableCredential, and an id that is a data: URL, the
// secured credential. What the URL holds is the caller's to verify
// (EnvelopedData reads it).
func (k *Checker) Enveloped(c map[string]any) error {
	if _, _, err := k.typed(c, "EnvelopedVerifiableCredential"); err != nil {
		return err
	}
	id, _ := c["id"].(string)
	if _, _, err := EnvelopedData(id); err != nil {
		return err
	}
	return nil
}

// EnvelopedData reads the id of an enveloped credential, a data: URL
// (RFC 2397): the media type without its parameters (";base64url" and
// the like) and the data, percent-decoded. A secured credential's
// compact form (a JWS, an SD-JWT) needs no encoding:
// data:application/vc+sd-jwt,eyJ...~WyJ...~.
func EnvelopedData(id string) (mediaType, data string, err error) {
	rest, ok := strings.CutPrefix(id, "data:")
	if !ok {
		return "", "", invalid("an enveloped credential's id %q is not a data: URL", id)
	}
	head, body, ok := strings.Cut(rest, ",")
	if !ok {
		return "", "", invalid("an enveloped credential's data: URL has no ','")
	}
	mediaType, _, _ = strings.Cut(head, ";")
	if data, err = url.PathUnescape(body); err != nil || data == "" {
		return "", "", invalid("an enveloped credential's data: URL holds no data")
	}
	if !strings.Contains(mediaType, "/") {
		return "", "", invalid("an enveloped credential's data: URL has no media type")
	}
	return mediaType, data, nil
}
