package logincli

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/credential/credentialcli"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/login"
	"github.com/agora-ledger/agora/verify"
)

// ledger answers the relying party's and the wallet's questions from a
// node, each answer proven under the trust flags' policy (or trusted,
// without one).
type ledger struct {
	c     *client.Client
	tr    *cli.Trust
	maxKB time.Duration
	now   func() time.Time
}

// Credential implements login.Ledger with 'agora vc verify”s checks.
func (l *ledger) Credential(ctx context.Context, pres, aud, nonce string) (*login.Checked, error) {
	var r *credentialcli.Report
	err := retryStale(func() (err error) {
		r, err = credentialcli.Verify(ctx, l.c, l.tr, pres, aud, nonce, l.maxKB, l.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	chk := &login.Checked{Disclosed: r.Disclosed}
	for _, s := range r.Steps {
		chk.Steps = append(chk.Steps, s.Name+": "+s.Detail)
		if s.Name == "proof" {
			chk.ProvenAt = s.Detail
		}
		if !s.OK && chk.Refused == "" {
			chk.Refused, chk.Reason = refusalOf(s), s.Name+": "+s.Detail
		}
	}
	if chk.Refused == "" && !r.Verified {
		chk.Refused, chk.Reason = login.CodeTampered, r.Reason
	}
	if chk.Refused == "" {
		chk.Subject = subjectOf(pres)
	}
	return chk, nil
}

// refusalOf is the stable code of a failed step of 'agora vc verify'.
func refusalOf(s credentialcli.Step) string {
	switch s.Name {
	case "signatures":
		if strings.Contains(s.Detail, "older than") {
			return login.CodeStale
		}
		return login.CodeTampered
	case "issuer key":
		return login.CodeIssuerKey
	case "accreditation":
		return login.CodeAccreditation
	case "type", "schema", "claims":
		return login.CodeType
	case "status":
		switch {
		case strings.HasPrefix(s.Detail, "revoked"):
			return login.CodeRevoked
		case strings.HasPrefix(s.Detail, "suspended"):
			return login.CodeSuspended
		}
		return login.CodeStatus
	case "binding":
		return login.CodeBinding
	}
	return login.CodeUnproven
}

// subjectOf reads the subject of a verified presentation's issuer JWT:
// sub, or the W3C form's credentialSubject.id.
func subjectOf(pres string) string {
	parts := strings.SplitN(strings.SplitN(pres, "~", 2)[0], ".", 3)
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Sub     string `json:"sub"`
		Subject struct {
			ID string `json:"id"`
		} `json:"credentialSubject"`
	}
	json.Unmarshal(b, &c)
	if c.Sub != "" {
		return c.Sub
	}
	return c.Subject.ID
}

// retryStale runs ask again, twice at most, while its answer is proven
// against a checkpoint older than one this home accepted before: with
// answers checked concurrently (a relying party's logins), another
// answer may have accepted a newer checkpoint between this one's read and
// its check. A node that stays behind is refused all the same.
func retryStale(ask func() error) error {
	err := ask()
	for i := 0; i < 2 && errors.Is(err, verify.ErrStale); i++ {
		err = ask()
	}
	return err
}

// document resolves did, proven.
func (l *ledger) document(ctx context.Context, did string) (*identity.Document, string, error) {
	var res identity.Resolution
	var cp *verify.Checkpoint
	err := retryStale(func() (err error) {
		cp, err = cli.ModuleQuery(ctx, l.c, identity.Module{}, "resolve", map[string]string{"did": did}, l.tr, &res)
		return err
	})
	if err != nil {
		var ce *client.Error
		if errors.As(err, &ce) && (ce.Code == "not_found" || ce.Code == "gone") {
			return nil, "", fmt.Errorf("%s: %s", did, ce.Message)
		}
		return nil, "", fmt.Errorf("%w: resolving %s: %v", login.ErrUnproven, did, err)
	}
	if res.Document == nil {
		return nil, "", fmt.Errorf("%s does not resolve: %s", did, res.ResolutionMetadata.ErrorMessage)
	}
	at := "trusting the node (no --log-key or --validators)"
	if cp != nil {
		at = "proven " + cli.ProvenAt(cp)
	}
	return res.Document, at, nil
}

// AuthenticationKey implements login.Ledger: kid's key, if it is an
// authentication key of did in its document now.
func (l *ledger) AuthenticationKey(ctx context.Context, did, kid string) (any, error) {
	doc, _, err := l.document(ctx, did)
	if err != nil {
		return nil, err
	}
	return authKey(doc, kid)
}

// authKey returns the Ed25519 key of kid if doc lists it as an
// authentication key.
func authKey(doc *identity.Document, kid string) (ed25519.PublicKey, error) {
	if !slices.Contains(doc.Authentication, kid) {
		return nil, fmt.Errorf("%s is not an authentication key of %s now", kid, doc.ID)
	}
	for _, vm := range doc.VerificationMethod {
		if (vm.ID == kid || vm.ID == kid+"-jwk") && vm.PublicKeyJwk != nil {
			if vm.PublicKeyJwk.Kty != "OKP" || vm.PublicKeyJwk.Crv != "Ed25519" {
				return nil, fmt.Errorf("%s is a %s %s key; logins take Ed25519 (EdDSA) keys", kid, vm.PublicKeyJwk.Kty, vm.PublicKeyJwk.Crv)
			}
			x, err := base64.RawURLEncoding.DecodeString(vm.PublicKeyJwk.X)
			if err != nil || len(x) != ed25519.PublicKeySize {
				return nil, fmt.Errorf("%s: a malformed key", kid)
			}
			return ed25519.PublicKey(x), nil
		}
	}
	return nil, fmt.Errorf("%s has no key material for %s", doc.ID, kid)
}

// keyID finds the DID URL of pub among did's authentication keys.
func (l *ledger) keyID(ctx context.Context, did string, pub ed25519.PublicKey) (string, error) {
	doc, _, err := l.document(ctx, did)
	if err != nil {
		return "", err
	}
	for _, kid := range doc.Authentication {
		if strings.HasSuffix(kid, "-jwk") {
			continue
		}
		if k, err := authKey(doc, kid); err == nil && k.Equal(pub) {
			return kid, nil
		}
	}
	return "", fmt.Errorf("the key is not an authentication key of %s", did)
}
