package clientcmd

import (
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/keystore"
	"github.com/agora-ledger/agora/internal/tx"
)

const keysUsage = `
Usage:
  agora keys new NAME [--alg ed25519|p256|secp256k1]
  agora keys list
  agora keys show NAME
  agora keys export-public NAME

Your keys live in HOME/keys, each private key encrypted with your
passphrase (AGORA_PASSPHRASE, or asked on the terminal). No command sends a
private key anywhere: transactions are signed here and only signatures
travel. export-public prints the public key in the alg:base64url form
other commands and genesis files take.

Examples:
  agora keys new alice
  agora keys new hsm-bridge --alg p256
  agora keys list --json
`

func runKeys(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || cli.IsHelp(args[0]) {
		fmt.Fprint(stderr, strings.TrimLeft(keysUsage, "\n"))
		if len(args) > 0 {
			return flag.ErrHelp
		}
		return &cli.ExitError{Code: 2}
	}
	fs := cli.NewFlags("keys "+args[0], keysUsage, stderr)
	homeDir := cli.HomeFlag(fs)
	alg := fs.String("alg", "ed25519", "key algorithm: ed25519, p256 or secp256k1")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := cli.Parse(fs, args[1:])
	if err != nil {
		return err
	}
	ks := cli.Keys(*homeDir)
	one := func() (string, error) {
		if len(pos) != 1 {
			return "", cli.UsageError("give exactly one key NAME")
		}
		return pos[0], nil
	}
	switch args[0] {
	case "new":
		name, err := one()
		if err != nil {
			return err
		}
		a, err := tx.ParseAlg(*alg)
		if err != nil {
			return cli.UsageError("--alg %q: use ed25519, p256 or secp256k1", *alg)
		}
		// Refuse a bad or taken name before asking for a passphrase.
		if err := keystore.CheckName(name); err != nil {
			return cli.UsageError("%v", err)
		}
		if _, err := ks.Get(name); err == nil {
			return fmt.Errorf("%w: %q (in %s)", keystore.ErrExists, name, ks.Dir())
		}
		pass, err := cli.Passphrase(stderr, "Passphrase for the new key: ", true)
		if err != nil {
			return err
		}
		e, err := ks.New(name, a, pass, rand.Reader, time.Now())
		if err != nil {
			return err
		}
		if *asJSON {
			return cli.PrintJSON(stdout, keyView(e.Name, e.PublicKey, e.Address, e.Created))
		}
		fmt.Fprintf(stdout, "created key %s\n  address     %s\n  public key  %s\n  stored in   %s\n", e.Name, e.Address, e.PublicKey, ks.Dir())
		return nil
	case "list":
		if len(pos) != 0 {
			return cli.UsageError("list takes no arguments")
		}
		es, err := ks.List()
		if err != nil {
			return err
		}
		if *asJSON {
			out := []any{}
			for _, e := range es {
				out = append(out, keyView(e.Name, e.PublicKey, e.Address, e.Created))
			}
			return cli.PrintJSON(stdout, out)
		}
		if len(es) == 0 {
			fmt.Fprintf(stdout, "no keys in %s\ncreate one with: agora keys new NAME\n", ks.Dir())
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tALG\tADDRESS")
		for _, e := range es {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Name, e.PublicKey.Alg, e.Address)
		}
		return tw.Flush()
	case "show", "export-public":
		name, err := one()
		if err != nil {
			return err
		}
		e, err := ks.Get(name)
		if err != nil {
			return err
		}
		if *asJSON {
			return cli.PrintJSON(stdout, keyView(e.Name, e.PublicKey, e.Address, e.Created))
		}
		if args[0] == "export-public" {
			fmt.Fprintln(stdout, e.PublicKey)
			return nil
		}
		fmt.Fprintf(stdout, "key %s\n  algorithm   %s\n  address     %s\n  public key  %s\n  created     %s\n",
			e.Name, e.PublicKey.Alg, e.Address, e.PublicKey, e.Created.Format(time.RFC3339))
		return nil
	}
	return cli.UsageError("unknown keys command %q (want new, list, show or export-public)", args[0])
}

func keyView(name string, pub tx.PublicKey, addr string, created time.Time) map[string]any {
	return map[string]any{"name": name, "alg": pub.Alg.String(), "address": addr, "public_key": pub, "created": created}
}
