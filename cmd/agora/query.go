package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/api"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/keystore"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/verify"
)

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// signAndSubmit unlocks the key name, signs a transaction with it and
// submits it, waiting for the commit. A committed transaction whose module
// refused it is an error carrying the result's code and reason.
func signAndSubmit(homeDir, nodeURL, name, module, typ string, body any, ttl time.Duration, stderr io.Writer) (*api.SubmitResponse, error) {
	return signAndSubmitAll(homeDir, nodeURL, []string{name}, module, typ, body, ttl, stderr)
}

// signAndSubmitAll is signAndSubmit for a transaction signed by every key
// in names, in order.
func signAndSubmitAll(homeDir, nodeURL string, names []string, module, typ string, body any, ttl time.Duration, stderr io.Writer) (*api.SubmitResponse, error) {
	ks := home(homeDir).keys()
	var keys []*tx.PrivateKey
	for _, name := range names {
		if _, err := ks.Get(name); err != nil {
			return nil, ledger.WithHint(err, fmt.Sprintf("'agora keys list --home %s' shows your keys", homeDir))
		}
		pass, err := passphrase(stderr, fmt.Sprintf("Passphrase for key %s: ", name), false)
		if err != nil {
			return nil, err
		}
		key, err := ks.Unlock(name, pass)
		if errors.Is(err, keystore.ErrPassphrase) {
			if _, ok := os.LookupEnv("AGORA_PASSPHRASE"); ok {
				return nil, ledger.WithHint(err, "the passphrase was taken from AGORA_PASSPHRASE")
			}
		}
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	res, err := submitFresh(context.Background(), client.New(nodeURL), keys, names, module, typ, body, ttl, stderr)
	if err != nil {
		return nil, err
	}
	if res.TxCommit != nil && !res.Result.OK() {
		return res, fmt.Errorf("refused: %s (%s)\n(transaction %s, committed at height %d without effect)", reason(res.Result), res.Result.Code, res.Hash, res.Height)
	}
	return res, nil
}

// submitAttempts bounds how many times submitFresh signs one transaction.
const submitAttempts = 3

// submitFresh signs a transaction with keys (named names), each with the
// next sequence the node reports, and submits it, waiting for the commit.
// A refusal for a sequence (bad_sequence) means that another transaction
// of a signer took it between the read and the submission, perhaps one
// sent earlier through another node that committed only now; the refused
// transaction never commits. So it reads the sequences again and signs
// again, at most submitAttempts times in all, and says so on stderr.
func submitFresh(ctx context.Context, c *client.Client, keys []*tx.PrivateKey, names []string, module, typ string, body any, ttl time.Duration, stderr io.Writer) (*api.SubmitResponse, error) {
	var refused []uint64 // the sequences of the refused attempt
	for attempt := 1; ; attempt++ {
		raw, seqs, err := build(ctx, c, keys, module, typ, body, ttl)
		if err == nil && refused != nil && slices.Equal(refused, seqs) {
			// The node has not yet seen what took the sequence: give it
			// a moment.
			time.Sleep(time.Second)
			raw, seqs, err = build(ctx, c, keys, module, typ, body, ttl)
		}
		if err != nil {
			return nil, err
		}
		same := slices.Equal(refused, seqs)
		for i, seq := range refused {
			switch {
			case seqs[i] != seq:
				fmt.Fprintf(stderr, "sequence %d of %s was taken; signed again with %d\n", seq, names[i], seqs[i])
			case same:
				fmt.Fprintf(stderr, "sequence %d of %s was refused, and the node still reports it; signed again\n", seq, names[i])
			}
		}
		res, err := c.Submit(ctx, raw, true)
		if attempt < submitAttempts && client.IsCode(err, "bad_sequence") {
			refused = seqs
			continue
		}
		return res, err
	}
}

// build signs a transaction with each key's next sequence, and returns it
// with the sequences it carries.
func build(ctx context.Context, c *client.Client, keys []*tx.PrivateKey, module, typ string, body any, ttl time.Duration) ([]byte, []uint64, error) {
	raw, err := c.BuildMulti(ctx, keys, module, typ, body, ttl)
	if err != nil {
		return nil, nil, err
	}
	_, t, err := tx.Decode(raw)
	if err != nil {
		return nil, nil, err
	}
	seqs := make([]uint64, len(t.Signers))
	for i, s := range t.Signers {
		seqs[i] = s.Sequence
	}
	return raw, seqs, nil
}

// reason returns why a transaction was refused, without the leading
// code that the ledger's error text repeats ("conflict: ...").
func reason(r ledger.Result) string {
	return strings.TrimPrefix(r.Error, r.Code+": ")
}

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
	fs := newFlags("tx show", txUsage, stderr)
	nodeURL := nodeFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	withProof := fs.Bool("proof", false, "with --json: include the envelope and the inclusion proof, for 'agora verify tx'")
	pos, err := showArgs(fs, args, "tx show HASH", 1, 1)
	if err != nil {
		return err
	}
	id, err := tx.ParseID(pos[0])
	if err != nil {
		return usageError("%q is not a transaction hash (64 hex digits)", pos[0])
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
		return printJSON(stdout, v)
	}
	fmt.Fprintf(stdout, "tx %s\n  status   %s\n", v.Hash, v.Status)
	if v.Status != "committed" {
		return nil
	}
	fmt.Fprintf(stdout, "  module   %s/%s\n  block    %d (index %d, %s)\n  result   %s\n", v.Module, v.Type, v.Height, v.Index, v.Time.Format(time.RFC3339Nano), v.Result.Code)
	if v.Result.Error != "" {
		fmt.Fprintf(stdout, "  reason   %s\n", reason(v.Result))
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
	fs := newFlags("block show", blockUsage, stderr)
	nodeURL := nodeFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := showArgs(fs, args, "block show [HEIGHT|latest]", 0, 1)
	if err != nil {
		return err
	}
	h := "latest"
	if len(pos) == 1 {
		h = pos[0]
	}
	if _, err := strconv.ParseUint(h, 10, 64); err != nil && h != "latest" {
		return usageError("%q is not a height: give a number such as 12, or latest", h)
	}
	b, err := client.New(*nodeURL).Block(context.Background(), h)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, b)
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
	fs := newFlags("account show", accountUsage, stderr)
	homeDir := homeFlag(fs)
	nodeURL := nodeFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := showArgs(fs, args, "account show ADDRESS|KEYNAME", 1, 1)
	if err != nil {
		return err
	}
	addr := pos[0]
	ks := home(*homeDir).keys()
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
		return printJSON(stdout, a)
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
	fs := newFlags("info", infoUsage, stderr)
	nodeURL := nodeFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	i, err := client.New(*nodeURL).Info(context.Background())
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, i)
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

// showArgs parses the arguments of a "GROUP show ARG" command: -h prints
// its usage, anything but "show" or a count of positional arguments
// outside [lo, hi] is a usage error naming synopsis.
func showArgs(fs *flag.FlagSet, args []string, synopsis string, lo, hi int) ([]string, error) {
	if len(args) > 0 && isHelp(args[0]) {
		fs.Usage()
		return nil, flag.ErrHelp
	}
	if len(args) == 0 || args[0] != "show" {
		return nil, usageError("usage: agora %s", synopsis)
	}
	pos, err := parse(fs, args[1:])
	if err != nil {
		return nil, err
	}
	if len(pos) < lo || len(pos) > hi {
		return nil, usageError("usage: agora %s", synopsis)
	}
	return pos, nil
}

// moduleQuery answers module m's query name with params into out. With a
// policy it asks for a proof and accepts the node's answer (or its
// refusal) only if verify.Answer does: the query, run again over the
// proven values alone, gives the same; it then returns the checkpoint the
// answer is proven against, once tr accepts it as fresh. Without a policy
// (tr nil, or no trust flags given) the node is trusted.
func moduleQuery(ctx context.Context, c *client.Client, m ledger.Module, name string, params map[string]string, tr *trust, out any) (*verify.Checkpoint, error) {
	var policy *verify.Policy
	if tr != nil {
		var err error
		if policy, err = tr.policy(); err != nil {
			return nil, err
		}
	}
	var q ledger.Query
	for _, qq := range m.Queries() {
		if qq.Name == name {
			q = qq
		}
	}
	path := strings.TrimPrefix(q.Pattern, "GET ")
	for k, v := range params {
		path = strings.Replace(path, "{"+k+"}", url.PathEscape(v), 1)
	}
	if policy == nil {
		return nil, c.Get(ctx, path, out)
	}
	status, body, err := c.GetRaw(ctx, path+"?proof=1")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Error *client.Error `json:"error"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("the node's answer (status %d) is not JSON: %w", status, err)
	}
	a, err := verify.ParseAnswer(body)
	if err != nil && doc.Error != nil {
		doc.Error.Status = status
		return nil, doc.Error // a refusal without a proof: not a query's answer
	}
	if err != nil {
		return nil, notVerified(err)
	}
	cp, err := verify.Answer(m, q, func(n string) string { return params[n] }, a, *policy)
	if err == nil {
		err = tr.accept(ctx, c, policy, cp)
	}
	if err != nil {
		return nil, notVerified(err)
	}
	if doc.Error != nil {
		doc.Error.Status = status
		doc.Error.Message += fmt.Sprintf(" (proven against the checkpoint of %s at height %d)", cp.Origin, cp.Height)
		return nil, doc.Error
	}
	return cp, json.Unmarshal(a.Value, out)
}

// acceptOrRefuse turns trust.accept's refusal into an answer that does
// not verify.
func acceptOrRefuse(err error) error {
	if err != nil {
		return notVerified(err)
	}
	return nil
}

// notVerified is the error of an answer that does not verify: exit
// status 1.
func notVerified(err error) error {
	return &exitError{code: 1, err: fmt.Errorf("NOT verified: %w", err)}
}
