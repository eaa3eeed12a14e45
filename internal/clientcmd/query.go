package clientcmd

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/agora-ledger/agora/internal/api"
	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

const txUsage = `
Usage: agora tx show HASH [--json [--proof]]

Shows a transaction: pending, dropped, or committed with its block,
result and decoded content. With --json --proof the answer carries the
envelope and the proof that it is in the log, which 'agora verify tx'
checks offline.

Examples:
  agora tx show 3f5a...e1
  agora tx show 3f5a...e1 --json --proof > tx.json && agora verify tx tx.json
`

func runTx(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("tx show", txUsage, stderr)
	nodeURL := cli.NodeFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	withProof := fs.Bool("proof", false, "with --json: include the envelope and the inclusion proof, for 'agora verify tx'")
	pos, err := cli.ShowArgs(fs, args, "tx show HASH", 1, 1)
	if err != nil {
		return err
	}
	id, err := tx.ParseID(pos[0])
	if err != nil {
		return cli.UsageError("%q is not a transaction hash (64 hex digits)", pos[0])
	}
	var v api.TxView
	path := "/v1/tx/" + id.String()
	if *withProof {
		path += "?proof=1"
	}
	if err := client.New(*nodeURL).Get(context.Background(), path, &v); err != nil {
		return err
	}
	if *asJSON {
		return cli.PrintJSON(stdout, v)
	}
	fmt.Fprintf(stdout, "tx %s\n  status   %s\n", v.Hash, v.Status)
	if v.Status != "committed" {
		return nil
	}
	fmt.Fprintf(stdout, "  module   %s/%s\n  block    %d (index %d, %s)\n  result   %s\n", v.Module, v.Type, v.Height, v.Index, v.Time.Format(time.RFC3339Nano), v.Result.Code)
	if v.Result.Error != "" {
		fmt.Fprintf(stdout, "  reason   %s\n", cli.Reason(v.Result))
	}
	for _, s := range v.Signers {
		fmt.Fprintf(stdout, "  signer   %s (sequence %d)\n", s.Address, s.Sequence)
	}
	for _, e := range v.Result.Events {
		fmt.Fprintf(stdout, "  event    %s.%s", e.Module, e.Type)
		for _, a := range e.Attrs {
			fmt.Fprintf(stdout, " %s=%s", a.Key, a.Value)
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

const blockUsage = `
Usage: agora block show [HEIGHT|latest] [--json]

Shows a committed block: its hash, header and transactions.

Examples:
  agora block show
  agora block show 42 --json
`

func runBlock(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("block show", blockUsage, stderr)
	nodeURL := cli.NodeFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := cli.ShowArgs(fs, args, "block show [HEIGHT|latest]", 0, 1)
	if err != nil {
		return err
	}
	h := "latest"
	if len(pos) == 1 {
		h = pos[0]
	}
	if _, err := strconv.ParseUint(h, 10, 64); err != nil && h != "latest" {
		return cli.UsageError("%q is not a height: give a number such as 12, or latest", h)
	}
	b, err := client.New(*nodeURL).Block(context.Background(), h)
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.PrintJSON(stdout, b)
	}
	fmt.Fprintf(stdout, "block %d\n  hash      %s\n  time      %s\n  previous  %x\n  app hash  %x\n  txs       %d\n",
		b.Header.Height, b.Hash, time.UnixMilli(b.Header.Time).UTC().Format(time.RFC3339Nano), b.Header.PrevHash, b.Header.AppHash, len(b.Txs))
	for _, t := range b.Txs {
		fmt.Fprintf(stdout, "    %s  %s/%s  %s\n", t.Hash, t.Module, t.Type, t.Result.Code)
	}
	return nil
}

const accountUsage = `
Usage: agora account show ADDRESS|KEYNAME [--json]

Shows an account: its key, label and sequence numbers. KEYNAME is a key in
your keystore.

Example:
  agora account show alice
`

func runAccount(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("account show", accountUsage, stderr)
	homeDir := cli.HomeFlag(fs)
	nodeURL := cli.NodeFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := cli.ShowArgs(fs, args, "account show ADDRESS|KEYNAME", 1, 1)
	if err != nil {
		return err
	}
	addr := pos[0]
	ks := cli.Keys(*homeDir)
	if e, err := ks.Get(addr); err == nil {
		addr = e.Address
	} else if b, err := hex.DecodeString(addr); err != nil || len(b) != 20 {
		return ledger.WithHint(fmt.Errorf("%q is neither an address (40 hex digits) nor a key in %s", addr, ks.Dir()), "'agora keys list' shows your keys")
	}
	a, err := client.New(*nodeURL).Account(context.Background(), addr)
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.PrintJSON(stdout, a)
	}
	fmt.Fprintf(stdout, "account %s\n  key            %s\n", a.Address, a.Key)
	if a.Label != "" {
		fmt.Fprintf(stdout, "  label          %s\n", a.Label)
	}
	fmt.Fprintf(stdout, "  sequence       %d\n  next sequence  %d\n", a.Sequence, a.NextSequence)
	return nil
}

const infoUsage = `
Usage: agora info [--json]

Shows the node's chain, height, hashes and modules.

Examples:
  agora info
  agora info --node http://127.0.0.1:7780 --json
`

func runInfo(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("info", infoUsage, stderr)
	nodeURL := cli.NodeFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	i, err := client.New(*nodeURL).Info(context.Background())
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.PrintJSON(stdout, i)
	}
	fmt.Fprintf(stdout, "chain     %s\nversion   %s\nheight    %d\ntime      %s\nblock     %s\napp hash  %s\ngenesis   %s\nmempool   %d\nmodules   %v\n",
		i.ChainID, i.Version, i.Height, i.Time.Format(time.RFC3339Nano), i.BlockHash, i.AppHash, i.GenesisHash, i.Mempool, i.Modules)
	if len(i.Witnesses) > 0 {
		witnessed := "no checkpoint yet"
		if i.WitnessedHeight != nil {
			witnessed = fmt.Sprintf("height %d", *i.WitnessedHeight)
		}
		fmt.Fprintf(stdout, "witnessed %s, by all %d witnesses\n", witnessed, len(i.Witnesses))
	}
	return nil
}
