package credentialcli

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/sdjwt"
)

// sdClaims parses a JSON object of claims and makes each member
// selectively disclosable.
func sdClaims(raw []byte) (sdjwt.Object, error) {
	obj, err := sdjwt.ParseObject(raw)
	if err != nil {
		return nil, err
	}
	for i := range obj {
		switch obj[i].Name {
		case "iss", "sub", "vct", "iat", "exp", "nbf", "cnf", "status":
			return nil, fmt.Errorf("claim %q is the issuer's to set", obj[i].Name)
		}
		obj[i].Value = sdjwt.SD{Value: obj[i].Value}
	}
	return obj, nil
}

// issueVC signs the SD-JWT VC: the issuer's public key travels in the
// header ("jwk") beside its DID URL ("kid"), and the verifier proves from
// the ledger that it acts for iss.
func issueVC(priv ed25519.PrivateKey, kid, iss, vct, sub, uri string, idx uint32, holder *jose.JSONWebKey,
	claims sdjwt.Object, iat, exp time.Time) (string, error) {
	all := sdjwt.Object{{Name: "iss", Value: iss}, {Name: "sub", Value: sub}, {Name: "vct", Value: vct},
		{Name: "iat", Value: iat.Unix()}, {Name: "exp", Value: exp.Unix()},
		sdjwt.StatusClaim(int64(idx), uri)}
	all = append(all, claims...)
	pub := &jose.JSONWebKey{Key: priv.Public()}
	tok, err := sdjwt.IssueVC(all, sdjwt.Issuance{
		Key:    jose.SigningKey{Algorithm: jose.EdDSA, Key: priv},
		Header: map[jose.HeaderKey]any{"jwk": pub, "kid": kid},
		Holder: holder,
		Rand:   rand.Reader,
	})
	if err != nil {
		return "", err
	}
	return tok.String(), nil
}

func writeOut(path string, stdout io.Writer, s string) error {
	if path == "" {
		_, err := fmt.Fprintln(stdout, s)
		return err
	}
	return os.WriteFile(path, []byte(s+"\n"), 0o600)
}

// walletDir is the home's folder of credentials.
func walletDir(home string) string { return filepath.Join(home, "credentials") }

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$`)

func walletPath(home, name string) (string, error) {
	if !nameRE.MatchString(name) {
		return "", cli.UsageError("credential name %q: use letters, digits, ., _ and - (up to 64)", name)
	}
	return filepath.Join(walletDir(home), name+".sdjwt"), nil
}

// held is a credential of the wallet, its payload decoded.
type held struct {
	Name        string         `json:"name"`
	Payload     map[string]any `json:"payload"`
	Disclosable []string       `json:"disclosable"`
	SDJWT       string         `json:"sd_jwt"`
}

// vct, issuer and subject read the payload of either form (the W3C
// form's payload claims are plain, only the subject's claims disclosable).
func (h *held) vct() string {
	if v, ok := h.Payload["vct"].(string); ok {
		return v
	}
	types, _ := h.Payload["type"].([]any)
	for _, t := range types {
		if s, ok := t.(string); ok && s != "VerifiableCredential" {
			return s
		}
	}
	return ""
}

func (h *held) issuer() string {
	if v, ok := h.Payload["iss"].(string); ok {
		return v
	}
	v, _ := h.Payload["issuer"].(string)
	return v
}

func (h *held) subject() string {
	if v, ok := h.Payload["sub"].(string); ok {
		return v
	}
	s, _ := h.Payload[subjectKey].(map[string]any)
	v, _ := s["id"].(string)
	return v
}

func readHeld(home, name string) (*held, error) {
	path, err := walletPath(home, name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("no credential %s in the wallet (%w)", name, err)
	}
	return decodeHeld(name, strings.TrimSpace(string(b)))
}

// decodeHeld parses an issued SD-JWT without verifying it (the holder
// verified it when it stored it).
func decodeHeld(name, s string) (*held, error) {
	tok, err := sdjwt.Parse(s)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(tok.JWT, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("the issuer-signed JWT is not a compact JWS")
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	h := &held{Name: name, SDJWT: s}
	if err := json.Unmarshal(pb, &h.Payload); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	for _, enc := range tok.Disclosures {
		d, err := sdjwt.DecodeDisclosure(enc)
		if err != nil {
			return nil, err
		}
		if !d.IsElement {
			h.Disclosable = append(h.Disclosable, d.Name)
		}
	}
	slices.Sort(h.Disclosable)
	return h, nil
}

func store(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("vc store", usage, stderr)
	homeDir := cli.HomeFlag(fs)
	name := fs.String("name", "", "the credential's `NAME` in the wallet")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *name == "" {
		return cli.UsageError("give the credential FILE (- for stdin) and --name NAME")
	}
	raw, err := cli.ReadInput(pos[0])
	if err != nil {
		return err
	}
	s := strings.TrimSpace(string(raw))
	h, err := decodeHeld(*name, s)
	if err != nil {
		return fmt.Errorf("%s is not an SD-JWT: %w", pos[0], err)
	}
	// Verify the issuer's signature before keeping it.
	if _, _, _, err := verifySD(s, sdjwt.Verification{IssuerKey: headerKey, Now: time.Now(), Leeway: time.Minute}); err != nil {
		return fmt.Errorf("%s does not verify: %w", pos[0], err)
	}
	path, err := walletPath(*homeDir, *name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(walletDir(*homeDir), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "stored %s: %s from %s\n", *name, h.vct(), h.issuer())
	return nil
}

func list(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("vc list", usage, stderr)
	homeDir := cli.HomeFlag(fs)
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(walletDir(*homeDir), "*.sdjwt"))
	if err != nil {
		return err
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sdjwt")
		h, err := readHeld(*homeDir, name)
		if err != nil {
			fmt.Fprintf(stdout, "%-16s (unreadable: %v)\n", name, err)
			continue
		}
		fmt.Fprintf(stdout, "%-16s %s  from %s\n", name, h.vct(), h.issuer())
	}
	return nil
}

func show(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("vc show", usage, stderr)
	homeDir := cli.HomeFlag(fs)
	asJSON := fs.Bool("json", false, "print the credential as JSON")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("give the NAME of a credential of the wallet")
	}
	h, err := readHeld(*homeDir, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.PrintJSON(stdout, h)
	}
	p := h.Payload
	fmt.Fprintf(stdout, "%s\n  type     %s\n  issuer   %s\n  subject  %s\n  form     %s\n", h.Name, h.vct(), h.issuer(), h.subject(), typOf(h.SDJWT))
	for _, k := range []string{"iat", "exp"} {
		if n, ok := p[k].(float64); ok {
			fmt.Fprintf(stdout, "  %-8s %s\n", k, time.Unix(int64(n), 0).UTC().Format(time.RFC3339))
		}
	}
	status := p["status"]
	if status == nil {
		status = p["credentialStatus"]
	}
	if st, err := json.Marshal(status); err == nil {
		fmt.Fprintf(stdout, "  status   %s\n", st)
	}
	fmt.Fprintf(stdout, "  claims   %s (each disclosed only when presented)\n", strings.Join(h.Disclosable, ", "))
	return nil
}

// headerKey finds the issuer's key in the header's "jwk": the ledger, not
// the credential, says whether that key acts for the issuer.
func headerKey(h jose.Header, _ map[string]any) (any, error) {
	if h.JSONWebKey == nil || !h.JSONWebKey.Valid() {
		return nil, fmt.Errorf("the header carries no issuer key (jwk)")
	}
	return h.JSONWebKey.Key, nil
}

func present(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("vc present", usage, stderr)
	homeDir := cli.HomeFlag(fs)
	keyName := fs.String("key", "", "the holder's key `NAME` the credential is bound to")
	var disclose cli.StringList
	fs.Var(&disclose, "disclose", "the `CLAIMS` to disclose, comma-separated (repeatable)")
	audience := fs.String("audience", "", "the verifier's audience `A`")
	nonce := fs.String("nonce", "", "the verifier's nonce `N`")
	format := fs.String("format", kbForm, "the presentation's `FORM`: "+kbForm+" (the SD-JWT with a key-binding JWT) or "+vpTyp+
		" (a W3C VerifiablePresentation enveloping a vc+sd-jwt credential, signed by the holder)")
	out := fs.String("out", "", "write the presentation to `FILE` (default: stdout)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *keyName == "" || *audience == "" || *nonce == "" {
		return cli.UsageError("give the credential's NAME, --key, --audience and --nonce")
	}
	if *format != kbForm && *format != vpTyp {
		return cli.UsageError("--format %q: %s or %s", *format, kbForm, vpTyp)
	}
	h, err := readHeld(*homeDir, pos[0])
	if err != nil {
		return err
	}
	if *format == vpTyp && typOf(h.SDJWT) != w3cTyp {
		return cli.UsageError("--format %s envelopes a W3C credential (%s); %s is %s", vpTyp, w3cTyp, pos[0], typOf(h.SDJWT))
	}
	want := map[string]bool{}
	for _, d := range disclose {
		for _, n := range strings.Split(d, ",") {
			if n = strings.TrimSpace(n); n != "" {
				if !slices.Contains(h.Disclosable, n) {
					return cli.UsageError("%s has no claim %q (it has %s)", pos[0], n, strings.Join(h.Disclosable, ", "))
				}
				want[n] = true
			}
		}
	}
	_, priv, err := unlock(*homeDir, *keyName, stderr)
	if err != nil {
		return err
	}
	tok, err := sdjwt.Parse(h.SDJWT)
	if err != nil {
		return err
	}
	keep := func(p sdjwt.Path) bool {
		n, ok := claimName(p)
		return ok && want[n]
	}
	if *format == vpTyp {
		cred, err := sdjwt.Present(tok, keep, nil)
		if err != nil {
			return err
		}
		vp, err := presentVP(cred, h.subject(), priv, *audience, *nonce, time.Now())
		if err != nil {
			return err
		}
		return writeOut(*out, stdout, vp)
	}
	pres, err := sdjwt.Present(tok, keep, &sdjwt.Binding{Key: jose.SigningKey{Algorithm: jose.EdDSA, Key: priv}, Audience: *audience, Nonce: *nonce, IssuedAt: time.Now()})
	if err != nil {
		return err
	}
	return writeOut(*out, stdout, pres.String())
}
