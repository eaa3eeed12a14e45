package identitycli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
)

const attestUsage = `
Usage:
  agora attest claim SUBJECT_DID --as ATTESTER_DID --key KEY --type TYPE (--claim TEXT | --claim-file FILE) [--salt HEX]
  agora attest check SUBJECT_DID --as ATTESTER_DID --type TYPE (--claim TEXT | --claim-file FILE) --salt HEX
  agora attest revoke SUBJECT_DID --as ATTESTER_DID --type TYPE --key KEY
  agora attest list DID [--json] [--log-key KEY]
  agora attest score DID [--json] [--log-key KEY]
  agora attest anchor-id FILE --as VERIFIER_DID --key KEY [--salt HEX]
  agora attest verify-id FILE --salt HEX [--json] [--log-key KEY]
  agora attest revoke-id FILE --salt HEX --as VERIFIER_DID --key KEY

Attestations: an identity (--as, signing with its controller or an
assertionMethod key) vouches for a claim of type TYPE about SUBJECT_DID.
The ledger records only SHA-256(salt || claim): claim prints the salt
(32 random bytes unless --salt is given), which the subject keeps with
the claim and shows, with it, to whoever checks the attestation with
check. revoke removes an attestation; the subject's controller may
revoke one about it too (--as still names the attester). score prints
the subject's confidence score in thousandths: accredited attesters
(entries in the governance registry "attesters") weigh 400 each,
others 50 each up to 200, at most 1000 in all.

Identity verification: a verifier accredited in the governance
registry "verifiers" anchors SHA-256(salt || FILE) after checking the
person's ID file (anchor-id). A visited operator given the file and the
salt asks verify-id: whether it was verified, when, and by which
organisation. No personal data reaches the ledger. With --log-key (or
AGORA_LOG_KEY) list, score and verify-id check a state proof of the
answer against a checkpoint signed by that key.

Examples:
  agora attest claim did:agora:SUBJECT --as did:agora:ACME --key acme --type employment --claim "engineer since 2019"
  agora attest check did:agora:SUBJECT --as did:agora:ACME --type employment --claim "engineer since 2019" --salt 5f3a...
  agora attest score did:agora:SUBJECT --log-key "$AGORA_LOG_KEY"
  agora attest anchor-id passport.pdf --as did:agora:TELCO --key telco-verifier
  agora attest verify-id passport.pdf --salt 9c1e...
`

func runAttest(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || cli.IsHelp(args[0]) {
		fmt.Fprint(stderr, strings.TrimLeft(attestUsage, "\n"))
		if len(args) > 0 {
			return flag.ErrHelp
		}
		return &cli.ExitError{Code: 2}
	}
	switch args[0] {
	case "claim", "check", "revoke", "list", "score", "anchor-id", "verify-id", "revoke-id":
		return attest(args[0], args[1:], stdout, stderr)
	}
	return cli.UsageError("unknown attest command %q (want claim, check, revoke, list, score, anchor-id, verify-id or revoke-id)", args[0])
}

func attest(op string, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("attest "+op, attestUsage, stderr)
	homeDir := cli.HomeFlag(fs)
	nodeURL := cli.NodeFlag(fs)
	as := fs.String("as", "", "the attester's (or verifier's) `DID`")
	keyName := fs.String("key", "", "the key `NAME` that signs")
	typ := fs.String("type", "", "the claim's `TYPE` (employment, kyc.address, ...)")
	claim := fs.String("claim", "", "the claim's `TEXT`")
	claimFile := fs.String("claim-file", "", "the claim, as the contents of `FILE`")
	saltHex := fs.String("salt", "", "the salt, in `HEX` (claim, anchor-id: default 32 random bytes)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	tr := cli.TrustFlags(fs)
	ttl := fs.Duration("ttl", 5*time.Minute, "how long the signed transaction stays valid")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if _, err := tr.Policy(); err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("usage: agora attest %s %s ...", op, map[bool]string{true: "FILE", false: "DID"}[strings.HasSuffix(op, "-id")])
	}
	arg := pos[0]
	ctx := context.Background()
	c := client.New(*nodeURL)
	salt, err := hex.DecodeString(*saltHex)
	if err != nil {
		return cli.UsageError("--salt %q is not hex", *saltHex)
	}
	needSalt := func(random bool) error {
		if len(salt) > 0 {
			return nil
		}
		if !random {
			return cli.UsageError("--salt HEX is required: the salt the claim or file was hashed with")
		}
		salt = make([]byte, 32)
		_, err := rand.Read(salt)
		return err
	}
	claimBytes := func() ([]byte, error) {
		switch {
		case *claimFile != "" && *claim != "":
			return nil, cli.UsageError("give the claim with --claim or --claim-file, not both")
		case *claimFile != "":
			return os.ReadFile(*claimFile)
		case *claim != "":
			return []byte(*claim), nil
		}
		return nil, cli.UsageError("give the claim with --claim TEXT or --claim-file FILE")
	}
	submit := func(typ string, body ledger.Msg) error {
		if err := body.Validate(); err != nil {
			return cli.UsageError("%s", strings.TrimPrefix(err.Error(), "invalid: "))
		}
		if *keyName == "" {
			return cli.UsageError("--key NAME is required: the key that signs")
		}
		res, err := cli.SignAndSubmit(*homeDir, *nodeURL, *keyName, identity.Name, typ, body, *ttl, stderr)
		if err != nil {
			return err
		}
		if *asJSON {
			return cli.PrintJSON(stdout, map[string]any{"salt": hex.EncodeToString(salt), "tx": res})
		}
		fmt.Fprintf(stdout, "%s: ok\n", typ)
		if len(salt) > 0 {
			fmt.Fprintf(stdout, "  salt     %x  (keep it with the %s; the ledger has only the salted hash)\n", salt,
				map[bool]string{true: "file", false: "claim"}[strings.HasSuffix(op, "-id")])
		}
		fmt.Fprintf(stdout, "  height   %d\n  tx       %s\n", res.Height, res.Hash)
		return nil
	}
	fileDigest := func() ([]byte, error) {
		b, err := os.ReadFile(arg)
		if err != nil {
			return nil, err
		}
		return identity.ClaimDigest(salt, b), nil
	}
	switch op {
	case "claim", "check":
		cl, err := claimBytes()
		if err != nil {
			return err
		}
		if err := needSalt(op == "claim"); err != nil {
			return err
		}
		d := identity.ClaimDigest(salt, cl)
		if op == "claim" {
			return submit("attest", &identity.Attest{Attester: *as, Subject: arg, Claim: *typ, Digest: d})
		}
		var atts []identity.AttestationStatus
		if _, err := cli.ModuleQuery(ctx, c, identity.Module{}, "attestations", map[string]string{"did": arg}, tr, &atts); err != nil {
			return err
		}
		for _, a := range atts {
			if a.Attester == *as && a.Claim == *typ {
				if !bytes.Equal(a.Digest, d) {
					return &cli.ExitError{Code: 1, Err: fmt.Errorf("MISMATCH: %s attests %s about %s, but not this claim with this salt", *as, *typ, arg)}
				}
				if !a.Valid {
					reason := "its key does not act for it"
					if a.Standing != nil && a.Standing.Reason != "" {
						reason = a.Standing.Reason
					}
					return &cli.ExitError{Code: 1, Err: fmt.Errorf("INVALID: %s attests %s about %s, but signed it when %s", *as, *typ, arg, reason)}
				}
				fmt.Fprintf(stdout, "valid: %s attests %s about %s (since %s, height %d)\n", *as, *typ, arg, stampMs(int64(a.Time)), a.Height)
				return nil
			}
		}
		return &cli.ExitError{Code: 1, Err: fmt.Errorf("NOT attested: %s has no %s attestation about %s", *as, *typ, arg)}
	case "revoke":
		return submit("revoke-attestation", &identity.RevokeAttestation{Attester: *as, Subject: arg, Claim: *typ})
	case "list":
		var atts []identity.Attestation
		cp, err := cli.ModuleQuery(ctx, c, identity.Module{}, "attestations", map[string]string{"did": arg}, tr, &atts)
		if err != nil {
			return err
		}
		if *asJSON {
			return cli.PrintJSON(stdout, atts)
		}
		for _, a := range atts {
			fmt.Fprintf(stdout, "%-16s by %s  %s  digest %x\n", a.Claim, a.Attester, stampMs(int64(a.Time)), []byte(a.Digest))
		}
		printProven(stdout, cp)
		return nil
	case "score":
		var sc identity.Score
		cp, err := cli.ModuleQuery(ctx, c, identity.Module{}, "score", map[string]string{"did": arg}, tr, &sc)
		if err != nil {
			return err
		}
		if *asJSON {
			return cli.PrintJSON(stdout, &sc)
		}
		fmt.Fprintf(stdout, "%s\n  score       %d/1000\n", sc.DID, sc.Score)
		for _, a := range sc.Attesters {
			what := "unaccredited"
			if a.Accredited {
				what = "accredited"
			}
			if a.Deactivated {
				what += ", deactivated"
			}
			fmt.Fprintf(stdout, "  %+5d  %s (%s: %s)\n", a.Weight, a.DID, what, strings.Join(a.Claims, ", "))
		}
		printProven(stdout, cp)
		return nil
	case "anchor-id", "revoke-id":
		if err := needSalt(op == "anchor-id"); err != nil {
			return err
		}
		d, err := fileDigest()
		if err != nil {
			return err
		}
		if op == "anchor-id" {
			return submit("anchor-verification", &identity.AnchorVerification{Verifier: *as, Digest: d})
		}
		return submit("revoke-verification", &identity.RevokeVerification{Verifier: *as, Digest: d})
	case "verify-id":
		if err := needSalt(false); err != nil {
			return err
		}
		d, err := fileDigest()
		if err != nil {
			return err
		}
		var v identity.VerificationStatus
		cp, err := cli.ModuleQuery(ctx, c, identity.Module{}, "verification", map[string]string{"sha256": hex.EncodeToString(d)}, tr, &v)
		if err != nil {
			return err
		}
		if *asJSON {
			return cli.PrintJSON(stdout, &v)
		}
		status := "VALID"
		switch {
		case v.KeyStanding != nil && !v.KeyStanding.Acts:
			status = "NOT VALID: signed when " + v.KeyStanding.Reason
		case !v.Valid:
			status = "NOT VALID: the verifier is no longer accredited"
		}
		fmt.Fprintf(stdout, "%s\n  verified by  %s (%s)\n  verified at  %s (height %d)\n", status, v.Organisation, v.Verifier, stampMs(int64(v.Time)), v.Height)
		printProven(stdout, cp)
		if !v.Valid {
			return &cli.ExitError{Code: 1}
		}
		return nil
	}
	return nil
}
