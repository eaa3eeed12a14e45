// Package credentialcli is the credential module's commands: 'agora vc'
// issues SD-JWT VCs, keeps them in a holder's wallet, presents them with
// a key-binding JWT or as a W3C presentation (vp+sd-jwt) and verifies
// presentations against ledger proofs.
// cmd/agora's registry takes them from Commands; 'agora credential
// types|send' are generated from the module's message types
// (cli.ModuleCommands).
package credentialcli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/credential"
	"github.com/agora-ledger/agora/internal/sdjwt"
	"github.com/agora-ledger/agora/internal/tx"
)

// Commands returns the credential module's commands, in usage order.
func Commands() []cli.Command {
	return []cli.Command{
		{Name: "vc", Run: run, Usage: "vc issue|publish|store|list|show|present|verify|status|statuslist",
			Summary: "verifiable credentials (SD-JWT VC): issue, hold, present, verify offline"},
	}
}

const usage = `
Usage:
  agora vc issue --as ISSUER_DID --key NAME --type VCT --list LIST --subject DID
                 --holder-key KEY --claims FILE [--valid-for DURATION] [--format FORM] [--out FILE]
  agora vc publish LIST --as ISSUER_DID --key NAME [--valid-for DURATION] [--ttl DURATION]
  agora vc store FILE --name NAME
  agora vc list
  agora vc show NAME
  agora vc present NAME --key NAME --disclose CLAIM,... --audience A --nonce N [--format FORM] [--out FILE]
  agora vc verify FILE --audience A --nonce N [--log-key KEY | --validators FILE] [--json]
  agora vc status LIST INDEX [--at TIME] [--log-key KEY | --validators FILE] [--json]
  agora vc statuslist LIST [--form token|bitstring] [--at TIME] [--log-key KEY | --validators FILE]

issue makes an SD-JWT VC (dc+sd-jwt) of type VCT about the holder DID:
every claim of the JSON object in FILE is selectively disclosable; it is
signed by your key NAME, an assertionMethod key of ISSUER_DID, bound
(cnf) to the holder's public key KEY (one of the holder DID's
authentication keys) and points at a fresh entry of your status list
LIST, which it first allocates on the ledger. The issuer must be
accredited (the governance registry "issuers") for VCT. --format
vc+sd-jwt issues the same credential in the W3C form (VC Data Model 2.0
secured with SD-JWT: VCT its second type, the claims disclosable in
credentialSubject, its status a BitstringStatusListEntry); store,
present and verify take either form.
publish signs your status LIST as the ledger holds it now as a Token
Status List token (statuslist+jwt: sub the uri the list's credentials
reference, iat now, exp --valid-for later, ttl) with your key NAME and
posts it; the ledger takes it only if its bits are the list's. Publish
again after status changes: the node serves the latest token.
store keeps a credential in your wallet (the home's credentials folder);
list and show read it. present discloses only the claims named and binds
the presentation to the verifier's audience and nonce with the holder's
key NAME (a key-binding JWT). With --format vp+sd-jwt it presents a
W3C credential (vc+sd-jwt) as a W3C VerifiablePresentation instead
(application/vp+sd-jwt): the credential, with the claims named, enveloped
in a presentation the holder's key NAME signs over the audience, the
nonce and the time. verify checks a presentation of either form and reports
every step: the signatures, the issuer key (an assertionMethod key of the
issuer's DID when it was issued and now, not compromised), the issuer's
accreditation, the type and its JSON Schema, the status, and the holder
binding. With --log-key (or AGORA_LOG_KEY) or --validators it trusts the
node for nothing: every ledger fact comes with a state proof checked
offline. It exits 0 only if every step passed.
status shows an entry's status now or at an earlier TIME, with every
change and who signed it (a change signed by a key compromised by then is
void), proven with the trust flags. statuslist verifies the list's latest
Token Status List token (at TIME, or now), proven the same way: its
signature by a key of the issuer the ledger recorded, its sub, its exp,
and, now, that its bits are the list's as proven; then prints it. With
--form bitstring it prints the list as a W3C Bitstring Status List
credential, proven (the proof stands for the issuer's signature).
The ledger's side (register-type, create-list, set-status) is
'agora credential send'; 'agora credential types' lists the bodies.

Examples:
  agora vc issue --as did:agora:... --key exchange --type urn:agora:vct:kyc:v1 \
      --list kyc-1 --subject did:agora:... --holder-key ed25519:... --claims kyc.json --out alice.sdjwt
  agora vc store alice.sdjwt --name kyc --home alice-home
  agora vc present kyc --key alice --disclose age_over_18,country --audience exchange-b --nonce 8f2a
  agora vc verify presentation.txt --audience exchange-b --nonce 8f2a --log-key "$LOG_KEY"
  agora vc present kyc-w3c --key alice --disclose country --audience exchange-b --nonce 8f2b --format vp+sd-jwt
`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || cli.IsHelp(args[0]) {
		fmt.Fprint(stderr, strings.TrimLeft(usage, "\n"))
		if len(args) > 0 {
			return flag.ErrHelp
		}
		return &cli.ExitError{Code: 2}
	}
	cmds := map[string]func([]string, io.Writer, io.Writer) error{
		"issue": issue, "publish": publish, "store": store, "list": list, "show": show, "present": present, "verify": verifyCmd, "status": statusCmd,
		"statuslist": statusListCmd,
	}
	if f, ok := cmds[args[0]]; ok {
		return f(args[1:], stdout, stderr)
	}
	return cli.UsageError("unknown vc command %q (want issue, publish, store, list, show, present, verify, status or statuslist)", args[0])
}

// unlock returns the Ed25519 private key NAME of the home's keystore.
func unlock(homeDir, name string, stderr io.Writer) (*tx.PrivateKey, ed25519.PrivateKey, error) {
	ks := cli.Keys(homeDir)
	if _, err := ks.Get(name); err != nil {
		return nil, nil, err
	}
	pass, err := cli.Passphrase(stderr, fmt.Sprintf("Passphrase for key %s: ", name), false)
	if err != nil {
		return nil, nil, err
	}
	k, err := ks.Unlock(name, pass)
	if err != nil {
		return nil, nil, err
	}
	priv, ok := k.Ed25519()
	if !ok {
		return nil, nil, fmt.Errorf("key %s is %s: credentials are signed with Ed25519 keys (EdDSA) here", name, k.Alg())
	}
	return k, priv, nil
}

// jwkOf is the public JWK of an Ed25519 tx.PublicKey.
func jwkOf(k tx.PublicKey) (*jose.JSONWebKey, error) {
	if k.Alg != tx.Ed25519 || len(k.Key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("key %s is not an Ed25519 key", k)
	}
	return &jose.JSONWebKey{Key: ed25519.PublicKey(k.Key)}, nil
}

// keyOfJWK is the tx.PublicKey of an Ed25519 JWK.
func keyOfJWK(j *jose.JSONWebKey) (tx.PublicKey, error) {
	if j == nil {
		return tx.PublicKey{}, errors.New("no key")
	}
	pub, ok := j.Key.(ed25519.PublicKey)
	if !ok {
		return tx.PublicKey{}, fmt.Errorf("a %T key, not Ed25519", j.Key)
	}
	return tx.PublicKey{Alg: tx.Ed25519, Key: []byte(pub)}, nil
}

// allocate takes the next entry of list for issuer, signed by k, and
// returns its index and the list: it reads the list's next free entry
// and allocates it, reading again if another allocation took it first.
func allocate(ctx context.Context, c *client.Client, k *tx.PrivateKey, keyName, issuer, list string, stderr io.Writer) (uint32, *credential.List, error) {
	for attempt := 1; ; attempt++ {
		var l credential.List
		if _, err := cli.ModuleQuery(ctx, c, credential.Module{}, "list", map[string]string{"id": list}, nil, &l); err != nil {
			return 0, nil, fmt.Errorf("status list %s: %w", list, err)
		}
		msg := &credential.Allocate{Issuer: issuer, List: list, Index: l.Next, Count: 1}
		res, err := cli.SubmitFresh(ctx, c, []*tx.PrivateKey{k}, []string{keyName}, credential.Name, "allocate", msg, 5*time.Minute, stderr)
		if err != nil {
			return 0, nil, err
		}
		if res.Result.OK() {
			return l.Next, &l, nil
		}
		if res.Result.Code != "conflict" || attempt == cli.SubmitAttempts || !strings.Contains(res.Result.Error, "next free entry") {
			return 0, nil, fmt.Errorf("allocating an entry of %s: %s (%s)", list, cli.Reason(res.Result), res.Result.Code)
		}
		fmt.Fprintf(stderr, "entry %d of %s was taken meanwhile; allocating again\n", l.Next, list)
	}
}

// keyID returns the DID URL of key, an assertionMethod key of issuer
// (SD-JWT VC: an issuer that is a DID names its key by a DID URL in kid),
// as the ledger's check of the credential about to be signed says.
func keyID(ctx context.Context, c *client.Client, key tx.PublicKey, issuer, vct, uri string, idx uint32, now time.Time) (string, error) {
	var chk credential.Check
	params := map[string]string{"iss": issuer, "key": key.String(), "iat": fmt.Sprint(now.Unix()), "vct": vct,
		"status_uri": uri, "idx": fmt.Sprint(idx)}
	if _, err := cli.ModuleQuery(ctx, c, credential.Module{}, "check", params, nil, &chk); err != nil {
		return "", err
	}
	if st := chk.KeyAtIssue; st == nil || !st.Acts {
		why := chk.Reasons
		if st != nil && st.Reason != "" {
			why = append([]string{st.Reason}, why...)
		}
		return "", fmt.Errorf("your key does not sign for %s at %s: %s", issuer, now.UTC().Format(time.RFC3339), strings.Join(why, "; "))
	}
	return issuer + "#" + chk.KeyAtIssue.KeyID, nil
}

// keyIDNow is keyID at the time of signing, whole seconds (iat is): a
// key the ledger added earlier in this second does not yet sign at its
// floor, and then the issuer waits for the next second rather than
// refuse.
func keyIDNow(ctx context.Context, c *client.Client, key tx.PublicKey, issuer, vct, uri string, idx uint32) (string, time.Time, error) {
	now := time.Now().Truncate(time.Second)
	kid, err := keyID(ctx, c, key, issuer, vct, uri, idx, now)
	if err != nil {
		next := now.Add(time.Second)
		if kid2, err2 := keyID(ctx, c, key, issuer, vct, uri, idx, next); err2 == nil {
			time.Sleep(time.Until(next))
			return kid2, next, nil
		}
	}
	return kid, now, err
}

func issue(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("vc issue", usage, stderr)
	homeDir := cli.HomeFlag(fs)
	nodeURL := cli.NodeFlag(fs)
	issuer := fs.String("as", "", "the issuer's `DID`")
	keyName := fs.String("key", "", "the issuer's key `NAME` (an assertionMethod key of its DID)")
	vct := fs.String("type", "", "the credential type `VCT`")
	list := fs.String("list", "", "the issuer's status `LIST`")
	subject := fs.String("subject", "", "the holder's `DID`")
	holderKey := fs.String("holder-key", "", "the holder's public `KEY` the credential is bound to")
	claimsFile := fs.String("claims", "", "a JSON object of the claims (`FILE`, - for stdin)")
	validFor := fs.Duration("valid-for", 365*24*time.Hour, "how long the credential is valid")
	format := fs.String("format", "dc+sd-jwt", "the credential's `FORM`: dc+sd-jwt (SD-JWT VC) or vc+sd-jwt (W3C VC Data Model 2.0 secured with SD-JWT)")
	out := fs.String("out", "", "write the credential to `FILE` (default: stdout)")
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	for _, f := range []struct{ v, name string }{{*issuer, "--as"}, {*keyName, "--key"}, {*vct, "--type"}, {*list, "--list"},
		{*subject, "--subject"}, {*holderKey, "--holder-key"}, {*claimsFile, "--claims"}} {
		if f.v == "" {
			return cli.UsageError("%s is required (see 'agora vc -h')", f.name)
		}
	}
	if *format != sdjwt.VCType && *format != w3cTyp {
		return cli.UsageError("--format %q: dc+sd-jwt or vc+sd-jwt", *format)
	}
	hk, err := tx.ParsePublicKey(*holderKey)
	if err != nil {
		return cli.UsageError("--holder-key: %v", err)
	}
	holder, err := jwkOf(hk)
	if err != nil {
		return cli.UsageError("--holder-key: %v", err)
	}
	raw, err := cli.ReadInput(*claimsFile)
	if err != nil {
		return err
	}
	claims, err := sdClaims(raw)
	if err != nil {
		return fmt.Errorf("--claims %s: %w", *claimsFile, err)
	}
	k, priv, err := unlock(*homeDir, *keyName, stderr)
	if err != nil {
		return err
	}
	ctx := context.Background()
	c := client.New(*nodeURL)
	idx, l, err := allocate(ctx, c, k, *keyName, *issuer, *list, stderr)
	if err != nil {
		return err
	}
	uri, bsURI := l.URIs()
	kid, now, err := keyIDNow(ctx, c, k.Public(), *issuer, *vct, uri, idx)
	if err != nil {
		return err
	}
	issueForm := issueVC
	if *format == w3cTyp {
		issueForm = func(priv ed25519.PrivateKey, kid, iss, vct, sub, _ string, idx uint32, holder *jose.JSONWebKey,
			claims sdjwt.Object, iat, exp time.Time) (string, error) {
			return issueW3C(priv, kid, iss, vct, sub, bsURI, l.Bits, idx, holder, claims, iat, exp)
		}
	}
	tok, err := issueForm(priv, kid, *issuer, *vct, *subject, uri, idx, holder, claims, now, now.Add(*validFor))
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "issued %s to %s: status entry %d of %s\n", *vct, *subject, idx, *list)
	return writeOut(*out, stdout, tok)
}
