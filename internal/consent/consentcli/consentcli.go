// Package consentcli is the consent module's commands: 'agora consent
// create|use|transfer|revoke|show|audit|export|policy'. cmd/agora's registry
// takes them from Commands; 'agora consent types|send' are generated
// from the module's message types (cli.ModuleCommands).
//
// The parties hold a contract's terms (consent.Terms) in a file: the
// pairwise DIDs, the items and the policy, with the nonce and salts that
// make the fingerprints and rule roots the ledger holds. create seals the
// file (draws the nonce and salts) and writes it back; use and transfer
// prove the policy's decision from it, opening only the slots of the
// rules that decide it; audit and export read the ledger's proven
// answers against it.
package consentcli

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/api/wire"
	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/consent"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/verify"
)

// Commands returns the consent module's commands, in usage order.
func Commands() []cli.Command {
	return []cli.Command{
		{Name: consent.Name, Run: run, Usage: "consent create|use|transfer|revoke|show|audit|export|policy",
			Summary: "data-usage contracts: ask before every use, audit and revoke (DTM-001)"},
	}
}

const usage = `
Usage:
  agora consent create TERMS.json --subject-key NAME --controller-key NAME
  agora consent use TERMS.json --key NAME --event use|store|delete --items I[,J...]
        [--purpose P] [--recipient R] [--place L]
  agora consent transfer TERMS.json --key NAME --processor-key NAME --child CHILD.json
        --items I[,J...] [--purpose P] [--recipient R] [--place L]
  agora consent revoke TERMS.json --key NAME
  agora consent show TERMS.json|ID [--json] [--log-key KEY | --validators FILE]
  agora consent audit TERMS.json [--json] (--log-key KEY | --validators FILE)
  agora consent export TERMS.json (--log-key KEY | --validators FILE)
  agora consent policy TERMS.json
  agora consent types
  agora consent send TYPE BODY.json --key NAME

A data-usage contract holds salted fingerprints of the subject's and the
controller's pairwise DIDs ('agora did create --pairwise') and of the
data items, and for each rule of the usage policy the root of a Merkle
tree of its salted slots; the ledger shows how many rules the policy has,
never the items or the rules' contents. TERMS.json is what the parties
hold off the ledger: the DIDs, the items (type and value) and the rules.
create draws its nonce and salts, writes them into TERMS.json (keep it:
it is the only way to prove the policy's decisions, and to audit), and
records the contract, signed by the subject's and the controller's keys.

use asks the contract before a use: it reads the contract's counts,
evaluates the policy at the present time and proves the decision,
opening of the deciding rule the slots that show it applies and of each
rule before it one slot that shows it does not; the ledger checks the
openings against the roots, decides (allow, deny, modify, delay, or
refused after a revocation or expiry) and logs the decision. It exits 0
if the use may go ahead (allow, modify with its method, delay until its
release), 1 if not.
transfer asks for the event transfer to a processor, who co-signs: CHILD.json
names the processor's DID and the rules it gets; it is sealed with the
transferred items and becomes the derived contract's terms (give it to
the processor). revoke, by the subject, refuses every later use of the
contract and of every contract derived from it.

show prints a contract (the ledger's view). audit lists, for the subject,
every use of the contract and of the contracts derived from it: who asked,
for which items, for what, and what the ledger decided; every page is
proven against a checkpoint signed by --log-key (or AGORA_LOG_KEY) or the
validators, and checked offline. export prints the contract's consent
record in the ISO/IEC TS 27560 shape with W3C DPV terms (JSON-LD).
policy prints the terms' policy as a W3C ODRL 2.2 Agreement (offline).

Examples:
  agora did create --pairwise bank-alice
  agora consent create terms.json --subject-key pairwise-alice-bank --controller-key pairwise-bank-alice
  agora consent use terms.json --key pairwise-bank-alice --event use --items 1 --purpose dpv:CreditChecking
  agora consent audit terms.json --log-key "$(agora info --json | jq -r .log_key)"
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
		"create": create, "use": use, "transfer": transfer, "revoke": revoke,
		"show": show, "audit": audit, "export": export, "policy": policy,
	}
	if f, ok := cmds[args[0]]; ok {
		return f(args[1:], stdout, stderr)
	}
	return cli.UsageError("unknown consent command %q (want create, use, transfer, revoke, show, audit, export, policy, types or send)", args[0])
}

// readTerms reads a terms file.
func readTerms(path string) (*consent.Terms, error) {
	b, err := cli.ReadInput(path)
	if err != nil {
		return nil, err
	}
	var t consent.Terms
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, cli.UsageError("%s: %v", path, err)
	}
	return &t, nil
}

// sealed reads a terms file that create sealed.
func sealed(path string) (*consent.Terms, error) {
	t, err := readTerms(path)
	if err != nil {
		return nil, err
	}
	if len(t.Nonce) == 0 {
		return nil, cli.UsageHint(fmt.Sprintf("'agora consent create %s' seals and records it", path), "%s is not sealed: it has no nonce", path)
	}
	return t, nil
}

// writeTerms writes t to path, readable by its owner alone: it holds the
// items and every salt.
func writeTerms(path string, t *consent.Terms) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

type txFlags struct {
	home, node *string
	ttl        *time.Duration
	asJSON     *bool
}

func newTxFlags(fs *flag.FlagSet) txFlags {
	return txFlags{home: cli.HomeFlag(fs), node: cli.NodeFlag(fs),
		ttl:    fs.Duration("ttl", 5*time.Minute, "how long the signed transaction stays valid"),
		asJSON: fs.Bool("json", false, "print the result as JSON")}
}

func one(pos []string, what string) error {
	if len(pos) != 1 {
		return cli.UsageError("give exactly one %s", what)
	}
	return nil
}

// A keyFlag is a required flag naming a key of the keystore.
type keyFlag struct {
	name, whose string
	v           *string
}

func keyOf(fs *flag.FlagSet, name, whose string) keyFlag {
	return keyFlag{name, whose, fs.String(name, "", "the key `NAME` of the "+whose)}
}

// termsArgs parses args: one TERMS.json (its path is returned) and the
// required keys.
func termsArgs(fs *flag.FlagSet, args []string, keys ...keyFlag) (string, error) {
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return "", err
	}
	if err := one(pos, "TERMS.json"); err != nil {
		return "", err
	}
	for _, k := range keys {
		if *k.v == "" {
			return "", cli.UsageError("--%s NAME is required: the key of the %s (see 'agora keys list')", k.name, k.whose)
		}
	}
	return pos[0], nil
}

func create(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("consent create", usage, stderr)
	tf := newTxFlags(fs)
	subjectKey := keyOf(fs, "subject-key", "subject's pairwise DID")
	controllerKey := keyOf(fs, "controller-key", "controller's pairwise DID")
	path, err := termsArgs(fs, args, subjectKey, controllerKey)
	if err != nil {
		return err
	}
	t, err := readTerms(path)
	if err != nil {
		return err
	}
	if len(t.Nonce) > 0 {
		return cli.UsageHint("a contract's nonce is used once: write new terms without nonce and salts",
			"%s is sealed already (contract %s)", path, t.ID())
	}
	if err := t.Seal(rand.Reader); err != nil {
		return err
	}
	body := t.Create()
	if err := body.Validate(); err != nil {
		return cli.UsageError("%s: %s", path, strings.TrimPrefix(err.Error(), ledger.ErrInvalid.Error()+": "))
	}
	for i := range t.Rules {
		if err := t.Rules[i].Validate(); err != nil {
			return cli.UsageError("%s: rule %d: %s", path, i, strings.TrimPrefix(err.Error(), ledger.ErrInvalid.Error()+": "))
		}
	}
	// The sealed terms are written first: a contract whose salts were lost
	// could never be used, audited or revoked. A refusal committed gives
	// the file back as it was.
	orig, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := writeTerms(path, t); err != nil {
		return err
	}
	res, err := cli.SignAndSubmitAll(*tf.home, *tf.node, []string{*subjectKey.v, *controllerKey.v}, consent.Name, "create", body, *tf.ttl, stderr)
	if refusedAt(res, err) {
		if werr := os.WriteFile(path, orig, 0o600); werr != nil {
			return errors.Join(err, werr)
		}
	}
	if err != nil {
		return err
	}
	if *tf.asJSON {
		return cli.PrintJSON(stdout, map[string]any{"contract": t.ID(), "tx": res})
	}
	fmt.Fprintf(stdout, "created contract %s\n  items   %d\n  rules   %d\n  height  %d\n  tx      %s\n  terms   %s (sealed: keep it)\n",
		t.ID(), len(t.Items), len(t.Rules), res.Height, res.Hash, path)
	return nil
}

type reqFlags struct {
	items                     *string
	purpose, recipient, place *string
}

func newReqFlags(fs *flag.FlagSet) reqFlags {
	return reqFlags{
		items:     fs.String("items", "", "the items' `INDEXES` in the terms, comma-separated, ascending"),
		purpose:   fs.String("purpose", "", "the `PURPOSE` of the use (a DPV purpose, e.g. dpv:CreditChecking)"),
		recipient: fs.String("recipient", "", "the `RECIPIENT` of the data"),
		place:     fs.String("place", "", "the `PLACE` of the use or storage"),
	}
}

func (r reqFlags) parse(event string) (consent.Request, []uint32, error) {
	if *r.items == "" {
		return consent.Request{}, nil, cli.UsageError("--items is required: which items of the terms (0, 1, ...)")
	}
	var items []uint32
	for _, s := range strings.Split(*r.items, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
		if err != nil {
			return consent.Request{}, nil, cli.UsageError("--items: %q is not an item's index", s)
		}
		items = append(items, uint32(n))
	}
	return consent.Request{Event: event, Purpose: *r.purpose, Recipient: *r.recipient, Place: *r.place}, items, nil
}

// refusedAt says whether a submission was committed and refused: so it
// changed nothing.
func refusedAt(res *wire.SubmitResponse, err error) bool {
	return err != nil && res != nil && res.TxCommit != nil && !res.Result.OK()
}

// derived says whether a committed transfer derived a contract.
func derived(res *wire.SubmitResponse) bool {
	for _, e := range res.Result.Events {
		if e.Module == consent.Name && e.Type == "created" {
			return true
		}
	}
	return false
}

// decided prints the decision a committed use or transfer logged, and
// returns exit status 1 if it does not let the use go ahead.
func decided(stdout io.Writer, asJSON bool, id string, res *wire.SubmitResponse) error {
	var used map[string]string
	for _, e := range res.Result.Events {
		if e.Module == consent.Name && e.Type == "used" {
			used = map[string]string{}
			for _, a := range e.Attrs {
				used[a.Key] = a.Value
			}
		}
	}
	if used == nil {
		return fmt.Errorf("the node's result has no use event (transaction %s)", res.Hash)
	}
	if asJSON {
		cli.PrintJSON(stdout, map[string]any{"contract": id, "decision": used["decision"], "seq": used["seq"], "child": used["child"], "tx": res})
	} else {
		fmt.Fprintf(stdout, "%s\n  contract  %s\n  use       %s (event %s)\n", used["decision"], id, used["seq"], used["event"])
		for _, k := range []struct{ attr, label string }{{"method", "method"}, {"release", "not before"},
			{"delete_by", "delete by"}, {"child", "derived"}, {"reason", "why"}} {
			if v := used[k.attr]; v != "" {
				fmt.Fprintf(stdout, "  %-9s %s\n", k.label, v)
			}
		}
		fmt.Fprintf(stdout, "  height    %d\n  tx        %s\n", res.Height, res.Hash)
	}
	if d := used["decision"]; d == consent.ActDeny || d == consent.DecRefused {
		return &cli.ExitError{Code: 1}
	}
	return nil
}

// countsOf reads how many uses each rule of contract id has permitted,
// which the proof of a decision depends on. The answer needs no proof: a
// node that lied would only make the ledger refuse the proof.
func countsOf(node, id string) ([]uint32, error) {
	var c consent.Contract
	if _, err := cli.ModuleQuery(context.Background(), client.New(node), consent.Module{}, "contract", map[string]string{"id": id}, nil, &c); err != nil {
		return nil, err
	}
	return c.Counts, nil
}

func use(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("consent use", usage, stderr)
	tf := newTxFlags(fs)
	rf := newReqFlags(fs)
	key := keyOf(fs, "key", "controller's DID")
	event := fs.String("event", "", "the `EVENT`: use, store or delete")
	path, err := termsArgs(fs, args, key)
	if err != nil {
		return err
	}
	t, err := sealed(path)
	if err != nil {
		return err
	}
	req, items, err := rf.parse(*event)
	if err != nil {
		return err
	}
	counts, err := countsOf(*tf.node, t.ID())
	if err != nil {
		return err
	}
	body, _ := t.Use(req, items, counts, time.Now().UnixMilli())
	if err := body.Validate(); err != nil {
		return cli.UsageError("%s", strings.TrimPrefix(err.Error(), ledger.ErrInvalid.Error()+": "))
	}
	res, err := cli.SignAndSubmit(*tf.home, *tf.node, *key.v, consent.Name, "use", body, *tf.ttl, stderr)
	if err != nil {
		return err
	}
	return decided(stdout, *tf.asJSON, t.ID(), res)
}

func transfer(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("consent transfer", usage, stderr)
	tf := newTxFlags(fs)
	rf := newReqFlags(fs)
	key := keyOf(fs, "key", "controller's DID")
	processorKey := keyOf(fs, "processor-key", "processor's DID, which co-signs")
	childPath := fs.String("child", "", "the `FILE` of the processor's terms: its DID and rules; sealed in place")
	path, err := termsArgs(fs, args, key, processorKey)
	if err != nil {
		return err
	}
	if *childPath == "" {
		return cli.UsageError("--child FILE is required: the processor's DID and the rules it gets")
	}
	t, err := sealed(path)
	if err != nil {
		return err
	}
	ct, err := readTerms(*childPath)
	if err != nil {
		return err
	}
	if len(ct.Nonce) > 0 {
		return cli.UsageError("%s is sealed already (contract %s): a child's terms are written afresh", *childPath, ct.ID())
	}
	req, items, err := rf.parse(consent.EventTransfer)
	if err != nil {
		return err
	}
	child, err := t.Derive(items, ct.Controller, ct.Rules, ct.Expires, rand.Reader)
	if err != nil {
		return cli.UsageError("%v", err)
	}
	counts, err := countsOf(*tf.node, t.ID())
	if err != nil {
		return err
	}
	body, _ := t.Transfer(req, items, child, counts, time.Now().UnixMilli())
	if err := body.Validate(); err != nil {
		return cli.UsageError("%s", strings.TrimPrefix(err.Error(), ledger.ErrInvalid.Error()+": "))
	}
	// As in create, the child's sealed terms are written first, and given
	// back as they were if the transfer derived no contract.
	orig, err := os.ReadFile(*childPath)
	if err != nil {
		return err
	}
	if err := writeTerms(*childPath, child); err != nil {
		return err
	}
	res, err := cli.SignAndSubmitAll(*tf.home, *tf.node, []string{*key.v, *processorKey.v}, consent.Name, "transfer", body, *tf.ttl, stderr)
	if refusedAt(res, err) || (err == nil && !derived(res)) {
		if werr := os.WriteFile(*childPath, orig, 0o600); werr != nil {
			return errors.Join(err, werr)
		}
	}
	if err != nil {
		return err
	}
	return decided(stdout, *tf.asJSON, t.ID(), res)
}

func revoke(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("consent revoke", usage, stderr)
	tf := newTxFlags(fs)
	key := keyOf(fs, "key", "subject's DID")
	path, err := termsArgs(fs, args, key)
	if err != nil {
		return err
	}
	t, err := sealed(path)
	if err != nil {
		return err
	}
	res, err := cli.SignAndSubmit(*tf.home, *tf.node, *key.v, consent.Name, "revoke", t.Revoke(), *tf.ttl, stderr)
	if err != nil {
		return err
	}
	if *tf.asJSON {
		return cli.PrintJSON(stdout, map[string]any{"contract": t.ID(), "tx": res})
	}
	fmt.Fprintf(stdout, "revoked %s\n  every contract derived from it refuses uses from now on\n  height  %d\n  tx      %s\n", t.ID(), res.Height, res.Hash)
	return nil
}

// contractArg is a contract id, or the id of the terms in a file.
func contractArg(arg string) (string, *consent.Terms, error) {
	if id, err := consent.ParseID(arg); err == nil {
		return id, nil, nil
	}
	t, err := sealed(arg)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", nil, cli.UsageError("%s is neither a contract id nor a terms file", arg)
		}
		return "", nil, err
	}
	return t.ID(), t, nil
}

func show(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("consent show", usage, stderr)
	nodeURL := cli.NodeFlag(fs)
	asJSON := fs.Bool("json", false, "print the contract as JSON")
	tr := cli.TrustFlags(fs)
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if err := one(pos, "TERMS.json or contract id"); err != nil {
		return err
	}
	id, _, err := contractArg(pos[0])
	if err != nil {
		return err
	}
	var c consent.Contract
	cp, err := cli.ModuleQuery(context.Background(), client.New(*nodeURL), consent.Module{}, "contract", map[string]string{"id": id}, tr, &c)
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.PrintJSON(stdout, c)
	}
	fmt.Fprintf(stdout, "contract %s\n  created   %s\n", c.ID, stamp(c.Created))
	if c.Parent != "" {
		fmt.Fprintf(stdout, "  parent    %s (depth %d)\n", c.Parent, c.Depth)
	}
	fmt.Fprintf(stdout, "  items     %d (fingerprints only)\n  uses      %d\n", len(c.Items), c.Uses)
	for i, r := range c.Rules {
		fmt.Fprintf(stdout, "  rule %-3d  %x (permitted %d)\n", i, r[:8], c.Counts[i])
	}
	for _, ch := range c.Children {
		fmt.Fprintf(stdout, "  derived   %s\n", ch)
	}
	if c.Revoked != 0 {
		fmt.Fprintf(stdout, "  revoked   %s", stamp(c.Revoked))
		if c.RevokedVia != "" {
			fmt.Fprintf(stdout, " with %s", c.RevokedVia)
		}
		fmt.Fprintln(stdout)
	}
	proven(stdout, cp)
	return nil
}

func proven(w io.Writer, cp *verify.Checkpoint) {
	if cp != nil {
		fmt.Fprintf(w, "proven %s\n", cli.ProvenAt(cp))
	}
}

func stamp(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }

func policy(args []string, stdout, stderr io.Writer) error {
	path, err := termsArgs(cli.NewFlags("consent policy", usage, stderr), args)
	if err != nil {
		return err
	}
	t, err := sealed(path)
	if err != nil {
		return err
	}
	return cli.PrintJSON(stdout, consent.ODRL(t))
}
