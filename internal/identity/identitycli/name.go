package identitycli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/verify"
)

const nameUsage = `
Usage:
  agora name register NAME --did DID --key CONTROLLER [--sponsor-key MEMBER]
  agora name transfer NAME --to DID --key HOLDER_CONTROLLER --to-key NEW_CONTROLLER [--sponsor-key MEMBER]
  agora name release NAME --key HOLDER_CONTROLLER
  agora name resolve NAME [--json] [--log-key KEY]

A name ("tokyo.exchange") points at a DID. It is registered in the
namespace that serves it, the governance resource "names.exchange",
under that namespace's onboarding policy: "open" (the DID's controller
signs alone) or "member-assisted", the default, where a member of the
namespace's community co-signs with --sponsor-key (a key of the
resource's controller body). Names are first come, first served; the
holder transfers them (the new holder's controller co-signs, and a
member where the policy asks) or releases them.

resolve prints the DID a name points at. With --log-key (or
AGORA_LOG_KEY) it trusts the node for nothing: it checks a state proof
of the answer, present or absent, against a checkpoint signed by that
key. Then resolve the DID itself with 'agora did show'.

Examples:
  agora name register tokyo.exchange --did did:agora:... --key alice --sponsor-key exchange-tokyo
  agora name resolve tokyo.exchange --log-key "$AGORA_LOG_KEY"
  agora gov set-entry names.exchange onboarding open     # the exchanges community opens its namespace
  agora name transfer tokyo.exchange --to did:agora:... --key alice --to-key bob
  agora name release tokyo.exchange --key bob
`

func runName(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || cli.IsHelp(args[0]) {
		fmt.Fprint(stderr, strings.TrimLeft(nameUsage, "\n"))
		if len(args) > 0 {
			return flag.ErrHelp
		}
		return &cli.ExitError{Code: 2}
	}
	switch args[0] {
	case "register", "transfer", "release":
		return nameChange(args[0], args[1:], stdout, stderr)
	case "resolve":
		return nameResolve(args[1:], stdout, stderr)
	}
	return cli.UsageError("unknown name command %q (want register, transfer, release or resolve)", args[0])
}

func nameChange(op string, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("name "+op, nameUsage, stderr)
	homeDir := cli.HomeFlag(fs)
	nodeURL := cli.NodeFlag(fs)
	did := fs.String("did", "", "register: the `DID` the name points at")
	to := fs.String("to", "", "transfer: the `DID` the name passes to")
	keyName := fs.String("key", "", "the key `NAME` of the DID's controller (transfer, release: the holder's)")
	toKey := fs.String("to-key", "", "transfer: the key `NAME` of the new holder's controller")
	sponsor := fs.String("sponsor-key", "", "register, transfer: a key `NAME` of a member of the namespace's community, in a member-assisted namespace")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	ttl := fs.Duration("ttl", 5*time.Minute, "how long the signed transaction stays valid")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("usage: agora name %s NAME ...", op)
	}
	name := pos[0]
	if *keyName == "" {
		return cli.UsageError("--key NAME is required: the key of the DID's controller")
	}
	signers := []string{*keyName}
	var body ledger.Msg
	switch op {
	case "register":
		if *did == "" {
			return cli.UsageError("--did DID is required: the DID the name points at")
		}
		body = &identity.RegisterName{Name: name, DID: *did}
	case "transfer":
		if *to == "" || *toKey == "" {
			return cli.UsageError("--to DID and --to-key NAME (its controller's key) are required")
		}
		signers = append(signers, *toKey)
		body = &identity.TransferName{Name: name, To: *to}
	case "release":
		body = &identity.ReleaseName{Name: name}
	}
	if *sponsor != "" {
		signers = append(signers, *sponsor)
	}
	if err := body.Validate(); err != nil {
		return cli.UsageError("%s", strings.TrimPrefix(err.Error(), "invalid: "))
	}
	res, err := cli.SignAndSubmitAll(*homeDir, *nodeURL, signers, identity.Name, op+"-name", body, *ttl, stderr)
	if err != nil {
		if strings.Contains(err.Error(), "member-assisted") && *sponsor == "" {
			err = ledger.WithHint(err, "ask a member of the namespace's community to co-sign with --sponsor-key")
		}
		return err
	}
	if *asJSON {
		return cli.PrintJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "%s: %s\n  height   %d\n  tx       %s\n", op, name, res.Height, res.Hash)
	return nil
}

func nameResolve(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("name resolve", nameUsage, stderr)
	nodeURL := cli.NodeFlag(fs)
	asJSON := fs.Bool("json", false, "print the record as JSON")
	tr := cli.TrustFlags(fs)
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if _, err := tr.Policy(); err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("usage: agora name resolve NAME")
	}
	if _, err := identity.ParseName(pos[0]); err != nil {
		return cli.UsageError("%s", strings.TrimPrefix(err.Error(), "invalid: "))
	}
	var r identity.NameStatus
	cp, err := cli.ModuleQuery(context.Background(), client.New(*nodeURL), identity.Module{}, "name", map[string]string{"name": pos[0]}, tr, &r)
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.PrintJSON(stdout, &r)
	}
	policy := r.Policy
	if r.Sponsor != "" {
		policy += ", sponsor " + r.Sponsor
	}
	fmt.Fprintf(stdout, "%s -> %s\n  namespace   %s (%s)\n  registered  %s\n  updated     %s (height %d)\n",
		r.Name, r.DID, r.Namespace, policy, stampMs(int64(r.Registered)), stampMs(int64(r.Updated)), r.Height)
	printProven(stdout, cp)
	if !r.Valid {
		return &cli.ExitError{Code: 1, Err: fmt.Errorf("INVALID: %s does not stand: %s", r.Name, r.Reason)}
	}
	return nil
}

func stampMs(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }

func printProven(w io.Writer, cp *verify.Checkpoint) {
	if cp != nil {
		fmt.Fprintf(w, "  proven      %s\n", cli.ProvenAt(cp))
	}
}
