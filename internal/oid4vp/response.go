package oid4vp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrResponse wraps every reason an authorization response is malformed.
var ErrResponse = errors.New("authorization response")

// Response is an authorization response (§8): the vp_token, a JSON
// object whose members are the ids of the credential queries answered
// and whose values are arrays of presentations (§8.1), and the request's
// state.
type Response struct {
	VPToken map[string][]json.RawMessage
	State   string
}

// StringPresentations returns the presentations answering query id that
// are strings (SD-JWTs and JWTs are).
func (r *Response) StringPresentations(id string) ([]string, error) {
	var out []string
	for _, p := range r.VPToken[id] {
		var s string
		if err := json.Unmarshal(p, &s); err != nil {
			return nil, fmt.Errorf("%w: a presentation for %s is not a string", ErrResponse, id)
		}
		out = append(out, s)
	}
	return out, nil
}

// NewResponse returns the response with one string presentation (an
// SD-JWT, a JWT) per credential query id.
func NewResponse(state string, presentations map[string]string) *Response {
	r := &Response{VPToken: map[string][]json.RawMessage{}, State: state}
	for id, p := range presentations {
		b, _ := json.Marshal(p)
		r.VPToken[id] = []json.RawMessage{b}
	}
	return r
}

// Form is the response as the wallet posts it with direct_post (§8.2):
// application/x-www-form-urlencoded, vp_token a JSON object.
func (r *Response) Form() url.Values {
	b, _ := json.Marshal(r.VPToken)
	f := url.Values{"vp_token": {string(b)}}
	if r.State != "" {
		f.Set("state", r.State)
	}
	return f
}

// ErrorResponse is a wallet's refusal (§8.5).
type ErrorResponse struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	State       string `json:"state,omitempty"`
}

func (e *ErrorResponse) Error() string {
	if e.Description == "" {
		return "the wallet answered " + e.Code
	}
	return fmt.Sprintf("the wallet answered %s: %s", e.Code, e.Description)
}

// Form is the error as the wallet posts it.
func (e *ErrorResponse) Form() url.Values {
	f := url.Values{"error": {e.Code}}
	if e.Description != "" {
		f.Set("error_description", e.Description)
	}
	if e.State != "" {
		f.Set("state", e.State)
	}
	return f
}

// ParseResponse reads a direct_post body's parameters: a response, or
// the wallet's *ErrorResponse as the error.
func ParseResponse(f url.Values) (*Response, error) {
	if code := f.Get("error"); code != "" {
		return nil, &ErrorResponse{Code: code, Description: f.Get("error_description"), State: f.Get("state")}
	}
	for k, vs := range f {
		if len(vs) > 1 {
			return nil, fmt.Errorf("%w: %s given %d times", ErrResponse, k, len(vs))
		}
	}
	raw := f.Get("vp_token")
	if raw == "" {
		return nil, fmt.Errorf("%w: no vp_token", ErrResponse)
	}
	r, err := ParseVPToken([]byte(raw))
	if err != nil {
		return nil, err
	}
	r.State = f.Get("state")
	return r, nil
}

// ParseVPToken parses a vp_token (§8.1): an object of non-empty arrays.
func ParseVPToken(b []byte) (*Response, error) {
	var direct map[string][]json.RawMessage // one pass, when it is well formed
	if json.Unmarshal(b, &direct) == nil && len(direct) > 0 {
		well := true
		for _, ps := range direct {
			well = well && len(ps) > 0
		}
		if well {
			return &Response{VPToken: direct}, nil
		}
	}
	var tok map[string]json.RawMessage
	if err := json.Unmarshal(b, &tok); err != nil {
		return nil, fmt.Errorf("%w: vp_token is not a JSON object: %v", ErrResponse, err)
	}
	r := &Response{VPToken: map[string][]json.RawMessage{}}
	for id, v := range tok {
		var ps []json.RawMessage
		if err := json.Unmarshal(v, &ps); err != nil || len(ps) == 0 {
			return nil, fmt.Errorf("%w: vp_token's %s is not a non-empty array of presentations", ErrResponse, id)
		}
		r.VPToken[id] = ps
	}
	if len(r.VPToken) == 0 {
		return nil, fmt.Errorf("%w: vp_token is empty", ErrResponse)
	}
	return r, nil
}

// CheckAnswers checks that r answers q as its credential sets ask:
// every id is one of q's, one presentation an id unless the query allows
// multiple, and each required set has an option all of whose ids are
// answered (every query, without sets).
func (r *Response) CheckAnswers(q *Query) error {
	byID := map[string]*CredentialQuery{}
	for i := range q.Credentials {
		byID[q.Credentials[i].ID] = &q.Credentials[i]
	}
	for id, ps := range r.VPToken {
		cq := byID[id]
		if cq == nil {
			return fmt.Errorf("%w: vp_token answers %s, which the query did not ask", ErrResponse, id)
		}
		if len(ps) > 1 && !cq.Multiple {
			return fmt.Errorf("%w: %d presentations for %s, which asked for one", ErrResponse, len(ps), id)
		}
	}
	if q.CredentialSets == nil {
		var missing []string
		for _, cq := range q.Credentials {
			if r.VPToken[cq.ID] == nil {
				missing = append(missing, cq.ID)
			}
		}
		if missing != nil {
			return fmt.Errorf("%w: no presentation for %s", ErrResponse, strings.Join(missing, ", "))
		}
		return nil
	}
	for i, s := range q.CredentialSets {
		if !s.IsRequired() {
			continue
		}
		ok := false
		for _, o := range s.Options {
			all := true
			for _, id := range o {
				all = all && r.VPToken[id] != nil
			}
			ok = ok || all
		}
		if !ok {
			return fmt.Errorf("%w: no option of credential set %d is answered", ErrResponse, i)
		}
	}
	return nil
}

// DirectPostAnswer is the verifier's answer to a direct_post (§8.2): where
// the wallet sends the user next, if anywhere.
type DirectPostAnswer struct {
	RedirectURI string `json:"redirect_uri,omitempty"`
}
