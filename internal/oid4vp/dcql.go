package oid4vp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
)

// Credential formats (OpenID4VP Appendix B).
const (
	FormatSDJWTVC = "dc+sd-jwt"
	FormatMdoc    = "mso_mdoc"
	FormatJWTVC   = "jwt_vc_json"
	FormatLDPVC   = "ldp_vc"
	// FormatDID is Agora's DID authentication (see the package doc).
	FormatDID = "agora_did"
)

// ErrQuery wraps every reason a DCQL query is not well formed.
var ErrQuery = errors.New("dcql")

// Query is a DCQL query (OpenID4VP §6.1).
type Query struct {
	Credentials    []CredentialQuery `json:"credentials"`
	CredentialSets []CredentialSet   `json:"credential_sets,omitempty"`
}

// CredentialQuery asks for one credential (§6.1).
type CredentialQuery struct {
	ID                 string             `json:"id"`
	Format             string             `json:"format"`
	Multiple           bool               `json:"multiple,omitempty"`
	Meta               *Meta              `json:"meta"`
	TrustedAuthorities []TrustedAuthority `json:"trusted_authorities,omitempty"`
	// RequireHolderBinding is require_cryptographic_holder_binding;
	// absent means true.
	RequireHolderBinding *bool         `json:"require_cryptographic_holder_binding,omitempty"`
	Claims               []ClaimsQuery `json:"claims,omitempty"`
	ClaimSets            [][]string    `json:"claim_sets,omitempty"`
}

// Meta holds the format-specific constraints of a credential query
// (Appendix B): vct_values for dc+sd-jwt, doctype_value for mso_mdoc,
// type_values for the W3C formats.
type Meta struct {
	VCTValues    []string   `json:"vct_values,omitempty"`
	DoctypeValue string     `json:"doctype_value,omitempty"`
	TypeValues   [][]string `json:"type_values,omitempty"`
}

// TrustedAuthority names authorities the verifier trusts (§6.1.1).
type TrustedAuthority struct {
	Type   string   `json:"type"`
	Values []string `json:"values"`
}

// CredentialSet is a credential set query (§6.2).
type CredentialSet struct {
	Options [][]string `json:"options"`
	// Required is absent for true.
	Required *bool `json:"required,omitempty"`
}

// IsRequired reports whether the set must be satisfied.
func (s CredentialSet) IsRequired() bool { return s.Required == nil || *s.Required }

// ClaimsQuery asks for one claim (§6.3).
type ClaimsQuery struct {
	ID     string `json:"id,omitempty"`
	Path   Path   `json:"path"`
	Values []any  `json:"values,omitempty"`
	// IntentToRetain is mso_mdoc's intent_to_retain.
	IntentToRetain *bool `json:"intent_to_retain,omitempty"`
}

// Path is a claims path pointer (§7): each element is a string (an
// object's member), an int (an array's element) or nil (every element
// of an array).
type Path []any

// UnmarshalJSON decodes a path, its numbers as ints.
func (p *Path) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw []any
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	out := make(Path, len(raw))
	for i, e := range raw {
		switch v := e.(type) {
		case string, nil:
			out[i] = v
		case json.Number:
			n, err := v.Int64()
			if err != nil || n < 0 {
				return fmt.Errorf("%w: path element %s is not a non-negative integer", ErrQuery, v)
			}
			out[i] = int(n)
		default:
			return fmt.Errorf("%w: path element %v is not a string, a non-negative integer or null", ErrQuery, e)
		}
	}
	*p = out
	return nil
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// ParseQuery decodes and validates a DCQL query.
func ParseQuery(b []byte) (*Query, error) {
	var q Query
	if err := json.Unmarshal(b, &q); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrQuery, err)
	}
	return &q, q.Validate()
}

// Validate checks the rules of §6 that need no credential.
func (q *Query) Validate() error {
	if len(q.Credentials) == 0 {
		return fmt.Errorf("%w: credentials is empty", ErrQuery)
	}
	ids := map[string]bool{}
	for i, c := range q.Credentials {
		if !idRE.MatchString(c.ID) {
			return fmt.Errorf("%w: credentials[%d].id %q is not alphanumeric, _ or -", ErrQuery, i, c.ID)
		}
		if ids[c.ID] {
			return fmt.Errorf("%w: two credential queries have id %q", ErrQuery, c.ID)
		}
		ids[c.ID] = true
		if c.Format == "" {
			return fmt.Errorf("%w: credential query %s has no format", ErrQuery, c.ID)
		}
		if c.Meta == nil {
			return fmt.Errorf("%w: credential query %s has no meta", ErrQuery, c.ID)
		}
		if err := c.validateClaims(); err != nil {
			return err
		}
	}
	if q.CredentialSets != nil && len(q.CredentialSets) == 0 {
		return fmt.Errorf("%w: credential_sets is empty", ErrQuery)
	}
	for i, s := range q.CredentialSets {
		if len(s.Options) == 0 {
			return fmt.Errorf("%w: credential_sets[%d] has no options", ErrQuery, i)
		}
		for _, o := range s.Options {
			if len(o) == 0 {
				return fmt.Errorf("%w: credential_sets[%d] has an empty option", ErrQuery, i)
			}
			for _, id := range o {
				if !ids[id] {
					return fmt.Errorf("%w: credential_sets[%d] names %q, which no credential query has", ErrQuery, i, id)
				}
			}
		}
	}
	return nil
}

func (c *CredentialQuery) validateClaims() error {
	if c.Claims != nil && len(c.Claims) == 0 {
		return fmt.Errorf("%w: credential query %s: claims is empty", ErrQuery, c.ID)
	}
	ids := map[string]bool{}
	for i, cl := range c.Claims {
		if len(cl.Path) == 0 {
			return fmt.Errorf("%w: credential query %s: claims[%d] has an empty path", ErrQuery, c.ID, i)
		}
		if cl.ID != "" {
			if !idRE.MatchString(cl.ID) {
				return fmt.Errorf("%w: credential query %s: claim id %q is not alphanumeric, _ or -", ErrQuery, c.ID, cl.ID)
			}
			if ids[cl.ID] {
				return fmt.Errorf("%w: credential query %s: two claims have id %q", ErrQuery, c.ID, cl.ID)
			}
			ids[cl.ID] = true
		} else if c.ClaimSets != nil {
			return fmt.Errorf("%w: credential query %s has claim_sets, so claims[%d] needs an id", ErrQuery, c.ID, i)
		}
		for _, v := range cl.Values {
			switch v.(type) {
			case string, bool, float64:
			default:
				return fmt.Errorf("%w: credential query %s: claims[%d] has a value %v that is not a string, number or boolean", ErrQuery, c.ID, i, v)
			}
		}
	}
	if c.ClaimSets != nil {
		if c.Claims == nil {
			return fmt.Errorf("%w: credential query %s has claim_sets but no claims", ErrQuery, c.ID)
		}
		if len(c.ClaimSets) == 0 {
			return fmt.Errorf("%w: credential query %s: claim_sets is empty", ErrQuery, c.ID)
		}
		for _, set := range c.ClaimSets {
			for _, id := range set {
				if !ids[id] {
					return fmt.Errorf("%w: credential query %s: claim_sets names %q, which no claim has", ErrQuery, c.ID, id)
				}
			}
		}
	}
	return nil
}

// Select applies a claims path pointer to a credential's claims (§7.2)
// and returns the selected values; none if the path selects nothing.
func (p Path) Select(claims any) []any {
	sel := []any{claims}
	for _, e := range p {
		var next []any
		for _, v := range sel {
			switch e := e.(type) {
			case string:
				if o, ok := v.(map[string]any); ok {
					if x, ok := o[e]; ok {
						next = append(next, x)
					}
				}
			case int:
				if a, ok := v.([]any); ok && e < len(a) {
					next = append(next, a[e])
				}
			case nil:
				if a, ok := v.([]any); ok {
					next = append(next, a...)
				}
			}
		}
		sel = next
	}
	return sel
}

// Credential is what a wallet holds, as the evaluation sees it.
type Credential struct {
	// ID is the wallet's name for it.
	ID     string
	Format string
	// Type is the vct of a dc+sd-jwt credential.
	Type string
	// Claims are the credential's claims, every disclosable one
	// disclosed.
	Claims map[string]any
}

// Match is one credential that answers a credential query, and the claims
// it would disclose.
type Match struct {
	Credential *Credential
	Claims     []Path
}

// Result is the outcome of evaluating a query over a wallet's
// credentials.
type Result struct {
	// Matches are, by credential query id, the credentials that answer
	// it, in the wallet's order.
	Matches map[string][]Match
	// Chosen are the credential query ids to answer: for each required
	// credential set (or every query, without sets), the first option
	// all of whose queries have a match; then the first such option of
	// each optional set.
	Chosen []string
}

// ErrUnsatisfied is the evaluation's error when the wallet cannot answer
// a required part of the query.
var ErrUnsatisfied = errors.New("the wallet holds no credential that answers the query")

// Evaluate runs q over creds (§6.4).
func Evaluate(q *Query, creds []*Credential) (*Result, error) {
	r := &Result{Matches: map[string][]Match{}}
	for i := range q.Credentials {
		cq := &q.Credentials[i]
		for _, c := range creds {
			if paths, ok := cq.match(c); ok {
				r.Matches[cq.ID] = append(r.Matches[cq.ID], Match{Credential: c, Claims: paths})
			}
		}
	}
	if q.CredentialSets == nil {
		for _, cq := range q.Credentials {
			if len(r.Matches[cq.ID]) == 0 {
				return r, fmt.Errorf("%w: none for %s (%s)", ErrUnsatisfied, cq.ID, cq.describe())
			}
			r.Chosen = append(r.Chosen, cq.ID)
		}
		return r, nil
	}
	for i, s := range q.CredentialSets {
		found := false
		for _, o := range s.Options {
			if !slices.ContainsFunc(o, func(id string) bool { return len(r.Matches[id]) == 0 }) {
				for _, id := range o {
					if !slices.Contains(r.Chosen, id) {
						r.Chosen = append(r.Chosen, id)
					}
				}
				found = true
				break
			}
		}
		if !found && s.IsRequired() {
			return r, fmt.Errorf("%w: no option of credential set %d", ErrUnsatisfied, i)
		}
	}
	return r, nil
}

func (cq *CredentialQuery) describe() string {
	if cq.Meta != nil && len(cq.Meta.VCTValues) > 0 {
		return fmt.Sprintf("%s of type %v", cq.Format, cq.Meta.VCTValues)
	}
	return cq.Format
}

// match says whether c answers cq and, if so, the claims to disclose.
func (cq *CredentialQuery) match(c *Credential) ([]Path, bool) {
	if cq.Format != c.Format {
		return nil, false
	}
	if cq.Format == FormatSDJWTVC && len(cq.Meta.VCTValues) > 0 && !slices.Contains(cq.Meta.VCTValues, c.Type) {
		return nil, false
	}
	if cq.Claims == nil {
		return nil, true
	}
	ok := func(cl ClaimsQuery) bool { return claimMatches(cl, c.Claims) }
	if cq.ClaimSets == nil {
		var paths []Path
		for _, cl := range cq.Claims {
			if !ok(cl) {
				return nil, false
			}
			paths = append(paths, cl.Path)
		}
		return paths, true
	}
	byID := map[string]ClaimsQuery{}
	for _, cl := range cq.Claims {
		byID[cl.ID] = cl
	}
	for _, set := range cq.ClaimSets {
		var paths []Path
		all := true
		for _, id := range set {
			if !ok(byID[id]) {
				all = false
				break
			}
			paths = append(paths, byID[id].Path)
		}
		if all {
			return paths, true
		}
	}
	return nil, false
}

// claimMatches says whether the claim exists in claims and, if the query
// lists values, whether a selected value is one of them (§6.4.1).
func claimMatches(cl ClaimsQuery, claims map[string]any) bool {
	sel := cl.Path.Select(claims)
	if len(sel) == 0 {
		return false
	}
	if len(cl.Values) == 0 {
		return true
	}
	for _, s := range sel {
		for _, v := range cl.Values {
			if equalValue(s, v) {
				return true
			}
		}
	}
	return false
}

func equalValue(a, b any) bool {
	an, aok := number(a)
	bn, bok := number(b)
	if aok && bok {
		return an == bn
	}
	return a == b
}

func number(v any) (string, bool) {
	switch v := v.(type) {
	case float64:
		return fmt.Sprint(v), true
	case json.Number:
		return v.String(), true
	case int64:
		return fmt.Sprint(v), true
	case int:
		return fmt.Sprint(v), true
	}
	return "", false
}
