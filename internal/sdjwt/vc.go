package sdjwt

import (
	"fmt"
	"net/url"
)

// VCType is the "typ" of an SD-JWT VC (draft-ietf-oauth-sd-jwt-vc, Section 3.2.1).
const VCType = "dc+sd-jwt"

// vcFixed are the claims an SD-JWT VC must not make selectively disclosable
// (draft-ietf-oauth-sd-jwt-vc-18, Section 3.2.2.2).
var vcFixed = map[string]bool{
	"iss": true, "nbf": true, "exp": true, "cnf": true,
	"vct": true, "vct#integrity": true, "status": true,
}

// StatusClaim is the "status" claim that points at index idx of the Token Status List
// at uri (draft-ietf-oauth-status-list, Section 6.1).
func StatusClaim(idx int64, uri string) Member {
	return Member{"status", Object{{"status_list", Object{{"idx", idx}, {"uri", uri}}}}}
}

// IssueVC issues an SD-JWT VC: an SD-JWT with typ "dc+sd-jwt" whose claims carry a
// string "vct", an optional URI "iss" and an optional "status", none of which (nor nbf,
// exp, cnf, vct#integrity) may be wrapped in SD. opt.Type must be empty or VCType.
func IssueVC(claims Object, opt Issuance) (Token, error) {
	if opt.Type != "" && opt.Type != VCType {
		return Token{}, fmt.Errorf("%w: an SD-JWT VC has typ %q, not %q", ErrClaims, VCType, opt.Type)
	}
	opt.Type = VCType
	plain := map[string]any{}
	for _, m := range claims {
		if _, sd := m.Value.(SD); sd {
			if vcFixed[m.Name] {
				return Token{}, fmt.Errorf("%w: claim %q must not be selectively disclosable", ErrClaims, m.Name)
			}
			continue
		}
		plain[m.Name] = m.Value
	}
	if err := checkVCClaims(plain, ErrClaims); err != nil {
		return Token{}, err
	}
	return Issue(claims, opt)
}

// VC is a verified SD-JWT VC presentation.
type VC struct {
	*Verified
	// Type is the "vct" claim.
	Type string
	// Issuer is the "iss" claim, or empty.
	Issuer string
	// Status is the status list entry the "status" claim points at, or nil.
	Status *StatusRef
}

// StatusRef is a "status_list" reference: the entry Index of the list at URI.
type StatusRef struct {
	Index int64
	URI   string
}

// VerifyVC verifies an SD-JWT VC presentation: everything Verify checks, with typ
// "dc+sd-jwt" required, a Disclosure of any of iss, nbf, exp, cnf, vct, vct#integrity or
// status at the top level refused, and "vct", "iss" and "status" checked for shape.
// v.Type must be empty or VCType.
func VerifyVC(presentation string, v Verification) (*VC, error) {
	if v.Type != "" && v.Type != VCType {
		return nil, fmt.Errorf("%w: an SD-JWT VC has typ %q, not %q", ErrClaims, VCType, v.Type)
	}
	v.Type = VCType
	v.notDisclosable = vcFixed
	got, err := Verify(presentation, v)
	if err != nil {
		return nil, err
	}
	if err := checkVCClaims(got.Claims, ErrMalformed); err != nil {
		return nil, err
	}
	vc := &VC{Verified: got, Type: got.Claims["vct"].(string)}
	vc.Issuer, _ = got.Claims["iss"].(string)
	if st, ok := got.Claims["status"].(map[string]any); ok {
		if sl, ok := st["status_list"].(map[string]any); ok {
			idx, _ := intOf(sl["idx"])
			vc.Status = &StatusRef{Index: idx, URI: sl["uri"].(string)}
		}
	}
	return vc, nil
}

// checkVCClaims checks the shape of vct, iss and status; errors wrap kind.
func checkVCClaims(c map[string]any, kind error) error {
	if vct, ok := c["vct"].(string); !ok || vct == "" {
		return fmt.Errorf("%w: an SD-JWT VC needs a string vct claim", kind)
	}
	if iss, ok := c["iss"]; ok {
		s, _ := iss.(string)
		if u, err := url.Parse(s); err != nil || u.Scheme == "" {
			return fmt.Errorf("%w: iss %v is not a URI", kind, iss)
		}
	}
	st, ok := c["status"]
	if !ok {
		return nil
	}
	obj := asMap(st)
	if obj == nil {
		return fmt.Errorf("%w: status is not an object", kind)
	}
	sl, ok := obj["status_list"]
	if !ok {
		return nil // another status mechanism: not ours to judge
	}
	ref := asMap(sl)
	if ref == nil {
		return fmt.Errorf("%w: status.status_list is not an object", kind)
	}
	idx, okIdx := intOf(ref["idx"])
	uri, okURI := ref["uri"].(string)
	if !okIdx || idx < 0 || !okURI || uri == "" {
		return fmt.Errorf("%w: status.status_list needs a non-negative integer idx and a uri", kind)
	}
	return nil
}

// asMap reads an Object or a decoded JSON object as a map.
func asMap(v any) map[string]any {
	switch x := v.(type) {
	case map[string]any:
		return x
	case Object:
		m := make(map[string]any, len(x))
		for _, e := range x {
			m[e.Name] = e.Value
		}
		return m
	}
	return nil
}
