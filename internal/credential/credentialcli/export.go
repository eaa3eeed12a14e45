package credentialcli

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/sdjwt"
)

// What other commands (a relying party's login, a wallet answering one)
// take from the credential commands: the verifier of 'agora vc verify' and
// the wallet of 'agora vc store|present'.

// Report is the outcome of a verification: each step, and the reason of
// the first that failed.
type Report = report

// Step is one check of a Report.
type Step = step

// Verify checks a presentation as 'agora vc verify' does: signatures,
// key binding to aud and nonce (made at most maxKB before now), then the
// ledger's facts (the issuer's key when issued and now, accreditation,
// type and schema, status, the holder's key), proven under tr's policy
// when it names one. Only a failure to ask is an error.
func Verify(ctx context.Context, c *client.Client, tr *cli.Trust, pres, aud, nonce string, maxKB time.Duration, now time.Time) (*Report, error) {
	return verifyPresentation(ctx, c, tr, pres, aud, nonce, maxKB, now)
}

// Held is a credential of the home's wallet.
type Held = held

// Type, Issuer and Subject read the credential's payload (either form).
func (h *held) Type() string    { return h.vct() }
func (h *held) Issuer() string  { return h.issuer() }
func (h *held) Subject() string { return h.subject() }

// Format is the credential's typ: dc+sd-jwt, or vc+sd-jwt for the W3C
// form.
func (h *held) Format() string { return typOf(h.SDJWT) }

// Claims are the payload's claims with every disclosable one disclosed,
// as the holder sees them.
func (h *held) Claims() (map[string]any, error) {
	tok, err := sdjwt.Parse(h.SDJWT)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for k, v := range h.Payload {
		if k != "_sd" && k != "_sd_alg" {
			out[k] = v
		}
	}
	for _, enc := range tok.Disclosures {
		d, err := sdjwt.DecodeDisclosure(enc)
		if err != nil {
			return nil, err
		}
		if !d.IsElement {
			out[d.Name] = d.Value
		}
	}
	return out, nil
}

// Present returns the presentation of h that discloses the claims named
// disclose, bound with priv to aud and nonce at now.
func (h *held) Present(priv ed25519.PrivateKey, disclose []string, aud, nonce string, now time.Time) (string, error) {
	for _, n := range disclose {
		if !slices.Contains(h.Disclosable, n) {
			return "", fmt.Errorf("%s has no claim %q (it has %s)", h.Name, n, strings.Join(h.Disclosable, ", "))
		}
	}
	tok, err := sdjwt.Parse(h.SDJWT)
	if err != nil {
		return "", err
	}
	pres, err := sdjwt.Present(tok, func(p sdjwt.Path) bool {
		n, ok := claimName(p)
		return ok && slices.Contains(disclose, n)
	}, &sdjwt.Binding{Key: jose.SigningKey{Algorithm: jose.EdDSA, Key: priv}, Audience: aud, Nonce: nonce, IssuedAt: now})
	if err != nil {
		return "", err
	}
	return pres.String(), nil
}

// Wallet returns the credentials of the home's wallet, by name.
func Wallet(home string) ([]*Held, error) {
	files, err := filepath.Glob(filepath.Join(walletDir(home), "*.sdjwt"))
	if err != nil {
		return nil, err
	}
	var out []*Held
	for _, f := range files {
		h, err := readHeld(home, strings.TrimSuffix(filepath.Base(f), ".sdjwt"))
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// Unlock returns the Ed25519 private key name of the home's keystore,
// asking for its passphrase (or reading AGORA_PASSPHRASE).
func Unlock(home, name string, stderr io.Writer) (ed25519.PrivateKey, error) {
	_, priv, err := unlock(home, name, stderr)
	return priv, err
}
