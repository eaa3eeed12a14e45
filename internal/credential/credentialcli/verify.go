package credentialcli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/credential"
	"github.com/agora-ledger/agora/internal/sdjwt"
)

// step is one check of a verification and its outcome.
type step struct {
	Name   string `json:"step"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// report is the outcome of 'agora vc verify'.
type report struct {
	Verified  bool           `json:"verified"`
	Steps     []step         `json:"steps"`
	Disclosed map[string]any `json:"disclosed,omitempty"`
	Reason    string         `json:"reason,omitempty"`
}

func (r *report) add(name string, ok bool, format string, a ...any) {
	r.Steps = append(r.Steps, step{Name: name, OK: ok, Detail: fmt.Sprintf(format, a...)})
	if !ok && r.Reason == "" {
		r.Reason = name + ": " + r.Steps[len(r.Steps)-1].Detail
	}
}

func verifyCmd(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("vc verify", usage, stderr)
	nodeURL := cli.NodeFlag(fs)
	audience := fs.String("audience", "", "the audience `A` the presentation must be bound to")
	nonce := fs.String("nonce", "", "the nonce `N` the presentation must be bound to")
	maxKB := fs.Duration("kb-max-age", 10*time.Minute, "how old the key-binding JWT (or a vp+sd-jwt presentation) may be")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	tr := cli.TrustFlags(fs)
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *audience == "" || *nonce == "" {
		return cli.UsageError("give the presentation FILE (- for stdin), --audience and --nonce")
	}
	raw, err := cli.ReadInput(pos[0])
	if err != nil {
		return err
	}
	r, err := verifyPresentation(context.Background(), client.New(*nodeURL), tr, strings.TrimSpace(string(raw)), *audience, *nonce, *maxKB, time.Now())
	if err != nil {
		return err
	}
	if *asJSON {
		cli.PrintJSON(stdout, r)
	} else {
		for _, s := range r.Steps {
			mark := "ok  "
			if !s.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(stdout, "  %s  %-13s %s\n", mark, s.Name, s.Detail)
		}
		if r.Verified {
			b, _ := json.Marshal(r.Disclosed)
			fmt.Fprintf(stdout, "VERIFIED: disclosed %s\n", b)
		} else {
			fmt.Fprintf(stdout, "REFUSED: %s\n", r.Reason)
		}
	}
	if !r.Verified {
		return &cli.ExitError{Code: 1}
	}
	return nil
}

// verifyPresentation checks pres step by step. Only a failure to ask
// (the node unreachable, a proof that does not verify) is an error; a
// presentation that fails a check is a report that says which.
func verifyPresentation(ctx context.Context, c *client.Client, tr *cli.Trust, pres, aud, nonce string, maxKB time.Duration, now time.Time) (*report, error) {
	r := &report{}
	var (
		vc  *sdjwt.VC
		sub string
		iat int64
	)
	if typOf(pres) == vpTyp {
		var ok bool
		if vc, sub, iat, ok = verifyVP(r, pres, aud, nonce, maxKB, now); !ok {
			return r, nil
		}
	} else {
		v := sdjwt.Verification{
			IssuerKey:  headerKey,
			Now:        now,
			Leeway:     time.Minute,
			KeyBinding: &sdjwt.KeyBindingPolicy{Audience: aud, Nonce: nonce, MaxAge: maxKB},
		}
		var err error
		if vc, sub, iat, err = verifySD(pres, v); err != nil {
			r.add("signatures", false, "%v", err)
			return r, nil
		}
		r.add("signatures", true, "the issuer's JWT (%s), %d disclosure(s), and the key-binding JWT for %s (nonce %s)", typOf(pres), len(vc.Disclosed), aud, nonce)
	}
	issuerKey, err := keyOfJWK(vc.Header.JSONWebKey)
	if err != nil {
		r.add("issuer key", false, "%v", err)
		return r, nil
	}
	holderKey, err := keyOfJWK(vc.Holder)
	if err != nil {
		r.add("binding", false, "the cnf key: %v", err)
		return r, nil
	}
	if vc.Status == nil || vc.Issuer == "" || sub == "" || iat == 0 {
		r.add("claims", false, "an Agora credential has an issuer, a subject, an issuance time and a status reference")
		return r, nil
	}
	var chk credential.Check
	params := map[string]string{"iss": vc.Issuer, "key": issuerKey.String(), "iat": fmt.Sprint(iat), "vct": vc.Type,
		"status_uri": vc.Status.URI, "idx": fmt.Sprint(vc.Status.Index), "sub": sub, "cnf": holderKey.String()}
	cp, err := cli.ModuleQuery(ctx, c, credential.Module{}, "check", params, tr, &chk)
	if err != nil {
		var ce *client.Error
		if errors.As(err, &ce) && ce.Code == "invalid" {
			r.add("claims", false, "%s", ce.Message)
			return r, nil
		}
		return nil, err
	}
	judge(r, &chk, vc, iat)
	if cp != nil {
		r.add("proof", true, "every ledger fact above proven %s", cli.ProvenAt(cp))
	} else {
		r.add("proof", true, "none asked: the node was trusted (give --log-key or --validators to trust no node)")
	}
	r.Verified = r.Reason == ""
	if r.Verified {
		r.Disclosed = map[string]any{}
		for _, d := range vc.Disclosed {
			r.Disclosed[d.Disclosure.Name] = d.Disclosure.Value
		}
	}
	return r, nil
}

// verifySD verifies an SD-JWT VC or a W3C credential secured with SD-JWT,
// by its typ, and returns it with its subject and issuance time (Unix
// seconds; 0 if it has none).
func verifySD(pres string, v sdjwt.Verification) (*sdjwt.VC, string, int64, error) {
	if typOf(pres) == w3cTyp {
		v.Type = w3cTyp
		ver, err := sdjwt.Verify(pres, v)
		if err != nil {
			return nil, "", 0, err
		}
		if err := w3cValid(ver.Claims, v.Now, v.Leeway); err != nil {
			return nil, "", 0, err
		}
		return w3cVC(ver)
	}
	vc, err := sdjwt.VerifyVC(pres, v)
	if err != nil {
		return nil, "", 0, err
	}
	sub, _ := vc.Claims["sub"].(string)
	n, _ := vc.Claims["iat"].(json.Number)
	iat, _ := n.Int64()
	return vc, sub, iat, nil
}

// judge adds the steps that rest on the ledger's answer.
func judge(r *report, chk *credential.Check, vc *sdjwt.VC, iat int64) {
	at := time.Unix(iat, 0).UTC().Format(time.RFC3339)
	switch st := chk.KeyAtIssue; {
	case st == nil:
		r.add("issuer key", false, "%s", strings.Join(chk.Reasons, "; "))
	case !st.Acts:
		r.add("issuer key", false, "when issued (%s): %s", at, st.Reason)
	case chk.KeyNow == nil:
		r.add("issuer key", false, "%s", strings.Join(chk.Reasons, "; "))
	case !chk.KeyNow.Acts:
		r.add("issuer key", false, "%s#%s acted when issued (%s) but not now: %s", st.DID, st.KeyID, at, chk.KeyNow.Reason)
	case vc.Header.KeyID != "" && vc.Header.KeyID != st.DID+"#"+st.KeyID:
		r.add("issuer key", false, "the header's kid %s is not the signing key, %s#%s", vc.Header.KeyID, st.DID, st.KeyID)
	default:
		r.add("issuer key", true, "%s#%s, an assertionMethod key, when issued (%s) and now", st.DID, st.KeyID, at)
	}
	switch a := chk.Accredited; {
	case a == nil:
		r.add("accreditation", false, "%s is not an accredited issuer (governance registry %s)", vc.Issuer, credential.IssuersResource)
	case !chk.InScope:
		r.add("accreditation", false, "%s is accredited for %s, not %s", vc.Issuer, strings.Join(a.Scope, ", "), vc.Type)
	default:
		r.add("accreditation", true, "accredited by %s for %s", a.By, strings.Join(a.Scope, ", "))
	}
	switch t := chk.Type; {
	case t == nil:
		r.add("type", false, "%s is not a registered credential type", vc.Type)
	case t.Issuer != vc.Issuer:
		r.add("type", false, "%s was registered by %s, not by the issuer", vc.Type, t.Issuer)
	default:
		r.add("type", true, "%s, version %d", vc.Type, t.Version)
		if err := checkSchema(t.Schema, vc.Disclosed); err != nil {
			r.add("schema", false, "%v", err)
		} else {
			r.add("schema", true, "the disclosed claims match the type's JSON Schema")
		}
	}
	switch s := chk.Status; {
	case s == nil:
		r.add("status", false, "%s", strings.Join(chk.Reasons, "; "))
	case s.Issuer != vc.Issuer:
		r.add("status", false, "list %s is %s's, not the issuer's", s.List, s.Issuer)
	case !listURI(s, vc.Status.URI):
		tok, _ := credential.ListURIs(s.List, s.URI)
		r.add("status", false, "the credential points at %s, not at list %s's uri %s", vc.Status.URI, s.List, tok)
	case s.Value != credential.Valid:
		r.add("status", false, "%s since %s (entry %d of %s)", s.Status, time.UnixMilli(int64(s.Since)).UTC().Format(time.RFC3339), s.Index, s.List)
	default:
		r.add("status", true, "valid (entry %d of %s)", s.Index, s.List)
	}
	switch h := chk.Holder; {
	case h == nil:
		r.add("binding", false, "%s", strings.Join(chk.Reasons, "; "))
	case !h.Acts:
		r.add("binding", false, "the cnf key does not act for the subject: %s", h.Reason)
	default:
		r.add("binding", true, "the cnf key is %s#%s, an authentication key of the subject", h.DID, h.KeyID)
	}
}

// listURI reports whether uri is one of the uris of s's list.
func listURI(s *credential.Status, uri string) bool {
	tok, bs := credential.ListURIs(s.List, s.URI)
	return uri == tok || uri == bs
}

func statusCmd(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("vc status", usage, stderr)
	nodeURL := cli.NodeFlag(fs)
	at := fs.String("at", "", "the status at this RFC 3339 `TIME` (default: now)")
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	tr := cli.TrustFlags(fs)
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return cli.UsageError("give the status LIST and the entry's INDEX")
	}
	var st credential.Status
	cp, err := cli.ModuleQuery(context.Background(), client.New(*nodeURL), credential.Module{}, "status",
		map[string]string{"id": pos[0], "index": pos[1], "at": *at}, tr, &st)
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.PrintJSON(stdout, st)
	}
	when := "now"
	if *at != "" {
		when = "at " + *at
	}
	fmt.Fprintf(stdout, "entry %d of %s (issuer %s) %s: %s\n", st.Index, st.List, st.Issuer, when, st.Status)
	for _, c := range st.Changes {
		fmt.Fprintf(stdout, "  %s  %-9s by %s", time.UnixMilli(int64(c.Time)).UTC().Format(time.RFC3339Nano), credential.StatusName(c.Status), c.KeyID)
		if c.Void != "" {
			fmt.Fprintf(stdout, "  (void: %s)", c.Void)
		}
		fmt.Fprintln(stdout)
	}
	if cp != nil {
		fmt.Fprintf(stdout, "  proven %s\n", cli.ProvenAt(cp))
	}
	return nil
}

func statusListCmd(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("vc statuslist", usage, stderr)
	nodeURL := cli.NodeFlag(fs)
	form := fs.String("form", "token", "the list's `FORM`: token (the issuer-signed Token Status List token) or bitstring (W3C Bitstring Status List credential)")
	at := fs.String("at", "", "the token latest at this RFC 3339 `TIME` (default: now)")
	tr := cli.TrustFlags(fs)
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *form != "token" && *form != "bitstring" || *at != "" && *form != "token" {
		return cli.UsageError("give the status LIST, and --form token or bitstring (--at with token only)")
	}
	ctx, c := context.Background(), client.New(*nodeURL)
	if *form == "bitstring" {
		var bc credential.BitstringCredential
		cp, err := cli.ModuleQuery(ctx, c, credential.Module{}, "bitstring", map[string]string{"id": pos[0]}, tr, &bc)
		if err != nil {
			return err
		}
		if err := cli.PrintJSON(stdout, &bc); err != nil {
			return err
		}
		if cp != nil {
			fmt.Fprintf(stderr, "proven %s\n", cli.ProvenAt(cp))
		}
		return nil
	}
	var a credential.ListToken
	cp, err := cli.ModuleQuery(ctx, c, credential.Module{}, "token", map[string]string{"id": pos[0], "at": *at}, tr, &a)
	if err != nil {
		return err
	}
	if cp != nil {
		fmt.Fprintf(stderr, "proven %s\n", cli.ProvenAt(cp))
	}
	return tokenReport(&a, time.Now(), stdout)
}
