package logincli

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agora-ledger/agora/internal/credential/credentialcli"
	"github.com/agora-ledger/agora/internal/login"
	"github.com/agora-ledger/agora/internal/oid4vp"
)

// wallet is the holder's side of a login: the home's credentials and one
// key, which never leaves it.
type wallet struct {
	home   string
	did    string
	kid    string
	priv   ed25519.PrivateKey
	ledger *ledger
	http   *http.Client
	now    func() time.Time
}

// request is a verified authorization request and what the wallet would
// answer it with.
type request struct {
	*oid4vp.Request
	// Signer is the verifier's key that signed it, and Proven how its
	// DID was resolved.
	Signer, Proven string
	// Answers are, by credential query id, the chosen credential (nil
	// for a DID authentication) and the claims it discloses.
	Answers []answer
}

type answer struct {
	QueryID string
	Held    *credentialcli.Held // nil: the DID itself
	Claims  []string
}

// fetch gets the request an invocation points to and verifies it: a
// request object signed by a key of the verifier's DID, proven on the
// ledger.
func (w *wallet) fetch(ctx context.Context, uri string) (*request, error) {
	in, err := oid4vp.ParseInvocation(uri)
	if err != nil {
		return nil, err
	}
	if prefix, _ := oid4vp.SplitClientID(in.ClientID); prefix != oid4vp.PrefixDID {
		return nil, fmt.Errorf("client_id %s: this wallet answers verifiers identified by their DID (decentralized_identifier:)", in.ClientID)
	}
	jwt := in.RequestJWT
	if in.RequestURI != "" {
		if in.RequestURIMethod == "post" {
			return nil, errors.New("request_uri_method post is not supported; the verifier must serve its request with GET")
		}
		if jwt, err = w.get(ctx, in.RequestURI); err != nil {
			return nil, err
		}
	}
	if jwt == "" {
		return nil, errors.New("the invocation carries no request object (request or request_uri)")
	}
	r := &request{}
	r.Request, err = oid4vp.ParseRequestObject(jwt, in.ClientID, func(clientID, kid string) (any, error) {
		_, did := oid4vp.SplitClientID(clientID)
		doc, at, err := w.ledger.document(ctx, did)
		if err != nil {
			return nil, err
		}
		r.Signer, r.Proven = kid, at
		return authKey(doc, kid)
	})
	if err != nil {
		return nil, err
	}
	if r.ResponseMode != oid4vp.ResponseModeDirect {
		return nil, fmt.Errorf("response_mode %q: this wallet answers with direct_post", r.ResponseMode)
	}
	if r.Expiry != 0 && w.now().Unix() > r.Expiry {
		return nil, fmt.Errorf("the request expired at %s", time.Unix(r.Expiry, 0).UTC().Format(time.RFC3339))
	}
	return r, nil
}

func (w *wallet) get(ctx context.Context, uri string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return "", err
	}
	resp, err := w.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("fetching the request: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		var e oid4vp.ErrorResponse
		if json.Unmarshal(b, &e) == nil && e.Description != "" {
			return "", fmt.Errorf("the verifier has no such request (%s): %s", resp.Status, e.Description)
		}
		return "", fmt.Errorf("fetching the request: %s", resp.Status)
	}
	return strings.TrimSpace(string(b)), nil
}

// plan chooses what answers r: for each credential query DCQL chooses,
// the first matching credential (or the one named choose), or the DID.
func (w *wallet) plan(r *request, choose string) error {
	q := r.DCQLQuery
	if q == nil {
		return errors.New("the request has no DCQL query (scope requests are not supported)")
	}
	helds, err := credentialcli.Wallet(w.home)
	if err != nil {
		return err
	}
	var creds []*oid4vp.Credential
	byID := map[string]*credentialcli.Held{}
	for _, h := range helds {
		if choose != "" && h.Name != choose {
			continue
		}
		claims, err := h.Claims()
		if err != nil {
			return fmt.Errorf("credential %s: %w", h.Name, err)
		}
		creds = append(creds, &oid4vp.Credential{ID: h.Name, Format: h.Format(), Type: h.Type(), Claims: claims})
		byID[h.Name] = h
	}
	if w.did != "" {
		creds = append(creds, &oid4vp.Credential{ID: w.did, Format: oid4vp.FormatDID, Claims: map[string]any{}})
	}
	res, err := oid4vp.Evaluate(q, creds)
	if err != nil {
		return err
	}
	r.Answers = nil
	for _, id := range res.Chosen {
		m := res.Matches[id][0]
		a := answer{QueryID: id, Held: byID[m.Credential.ID]}
		for _, p := range m.Claims {
			if n, ok := p[0].(string); ok && !slices.Contains(a.Claims, n) {
				a.Claims = append(a.Claims, n)
			}
		}
		r.Answers = append(r.Answers, a)
	}
	return nil
}

// describe says what the answer would disclose, for the holder to agree.
func (r *request) describe(out io.Writer) {
	_, did := oid4vp.SplitClientID(r.ClientID)
	fmt.Fprintf(out, "%s asks you to log in.\n  its request is signed by %s, %s\n", did, r.Signer, r.Proven)
	for _, a := range r.Answers {
		if a.Held == nil {
			fmt.Fprintf(out, "  %s: your DID, proven by a signature of your authentication key (no credential)\n", a.QueryID)
			continue
		}
		fmt.Fprintf(out, "  %s: credential %s (%s from %s), disclosing only: %s\n", a.QueryID, a.Held.Name, a.Held.Type(), a.Held.Issuer(), strings.Join(a.Claims, ", "))
	}
}

// respond makes the presentations and posts them (direct_post).
func (w *wallet) respond(ctx context.Context, r *request) (*login.Answer, error) {
	ps := map[string]string{}
	for _, a := range r.Answers {
		var err error
		if a.Held == nil {
			ps[a.QueryID], err = oid4vp.SignDIDAuth(jose.SigningKey{Algorithm: jose.EdDSA, Key: w.priv}, w.kid, w.did, r.ClientID, r.Nonce, w.now())
		} else {
			ps[a.QueryID], err = a.Held.Present(w.priv, a.Claims, r.ClientID, r.Nonce, w.now())
		}
		if err != nil {
			return nil, err
		}
	}
	return w.post(ctx, r, oid4vp.NewResponse(r.State, ps).Form())
}

// decline tells the verifier the holder said no.
func (w *wallet) decline(ctx context.Context, r *request) (*login.Answer, error) {
	return w.post(ctx, r, (&oid4vp.ErrorResponse{Code: "access_denied", Description: "the holder declined", State: r.State}).Form())
}

func (w *wallet) post(ctx context.Context, r *request, form url.Values) (*login.Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.ResponseURI, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := w.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("posting the answer: %w", err)
	}
	defer resp.Body.Close()
	var a login.Answer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&a); err != nil {
		return nil, fmt.Errorf("the verifier's answer (%s): %w", resp.Status, err)
	}
	return &a, nil
}
