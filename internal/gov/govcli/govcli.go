// Package govcli is the governance module's commands: 'agora gov' and
// its subcommands, which propose, draft, vote, petition and the rest of
// the policy process (one declared message type each, built from its
// flags), approve pending actions, and show the governance state, proven
// with --log-key. cmd/agora's registry takes them from Commands; 'agora
// gov types|send' are generated from the module's message types
// (cli.ModuleCommands).
package govcli

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

const govUsage = `
Usage: agora gov COMMAND [ARGS] [flags]

Multi-stakeholder governance that the ledger executes (docs/spec/governance.md).
A body acts when its members meet its rule (k of its n members; a member may
be another body, by its own rule): name it with --as, and sign with --key
(repeatable) or let agora pick the members' keys from your keystore. If they
meet the rule, the command acts at once; if not, it posts a pending action
(or approves the same one already pending) that the other members approve
from their own homes with 'agora gov approve ID'; the approval that meets the
rule executes it. Directors sign with their own --key. Documents are
given with --title and --text (kept in the transaction), --file, or --file
with --uri (only the hash goes on the ledger).

The policy process:
  propose --as COMMUNITY --resource ID|bylaws     a resource-direct community's Proposal
  advise --as COMMUNITY --about DOC|"change N"    a resource-indirect community's Advice
  draft --key DIRECTOR --action NAME=JSON ... [--proposal DOC] [--advice DOC] [--confirms N]
                                                  consolidate into a Proposed change: the Board votes
  vote N yes|no|abstain --key DIRECTOR            a director's vote (non-voting seats are refused)
  comment N --as BODY|board [--key K]             speak on a change in voting or public review
  open-review N                                   the Secretariat opens public review
  object N --as COMMUNITY                         a community objects during public review
  revise N --key DIRECTOR --action NAME=JSON ...  revise a change returned for reconsideration
  withdraw N --key DRAFTER                        its drafter withdraws a change before public review
  cancel N --key DIRECTOR --key DIRECTOR ...      a majority of the voting directors cancel a change
Independent review, emergencies, community powers:
  request-review N --as BODY                      an External Entity or a member asks for review
  assign-panel N --panelist NAME_OR_KEY ... --threshold K
                                                  the Secretariat assigns review N's panel
  declare N uphold|return --key PANELIST ...      the panel's declaration
  emergency --action NAME=JSON ... --minutes TEXT --consulted COMMUNITY --advice DOC
                                                  the emergency officer acts at once, with the
                                                  advice the community gave (advise --about emergency)
  verify-emergency N --as BODY                    external verification, afterwards
  petition reject|remove|recall|approve [CHANGE|SEAT] --as COMMUNITY
                                                  remove names the seat's director, the person;
                                                  approve ratifies a fundamental (Bylaws) change
  support N --as COMMUNITY                        support petition N
  appoint SEAT --as COMMUNITY --director NAME_OR_KEY
  set-members --as COMMUNITY --member NAME_OR_KEY ... [--member-body BODY ...] --threshold K
                                                  a community sets its own members and rule, by its rule
Acting over time (when your keys alone do not meet the body's rule):
  pending [ID] [--as BODY] [--all]                what waits for approvals; one with its approvals
  approve ID [--key K]                            approve pending action ID as a member, from your home
Resources, reports, working groups:
  set-entry RESOURCE KEY VALUE [--delete]         the resource's controller sets an entry
  report --as BODY --kind report|minutes [--subject S]
  group create ID --theme T --director NAME [--member NAME ...]
  group agenda ID [ITEM] --status new|continued|done [--title T] [--progress P] [--schedule S] [--review R]
  group outcome ID --to COMMUNITY                 send an outcome to advisory review
Reading:
  show bylaws|board|history|bodies|resources|groups|deadlines
  show changes|emergencies|petitions|reviews|documents   (provable with --log-key)
  show body|resource|document|change|emergency|review|petition|group|tenure ID
  show entry RESOURCE KEY                         with who set it: controller, change N or emergency M
  timeline N                                      a change's timeline
  actions                                         the executable actions and their JSON bodies
  types                                           the message types and their JSON bodies
  send TYPE BODY.json --key NAME                  sign and submit any message from its JSON body
With --log-key (or AGORA_LOG_KEY), show checks the node's answer against a state
proof and answers from the proven state.

Examples:
  agora gov show board
  agora gov propose --as exchanges --resource root --title "Smaller blocks" --text "Cap blocks at 5000 transactions."
  agora gov draft --key dir-exchanges --title "Block limit 5000" --text "..." \
      --action 'ledger.set_params={"max_block_txs":5000,"max_block_bytes":16777216}'
  agora gov vote 1 yes --key dir-custodians
  agora gov open-review 1
  agora gov timeline 1
`

// Commands returns governance's commands, in usage order. modules returns
// the ledger's modules (the registry's), whose actions a change carries
// and whose queries 'agora gov show' proves.
func Commands(modules func() []ledger.Module) []cli.Command {
	g := &govCLI{modules: modules}
	return []cli.Command{
		{Name: gov.Name, Run: g.run, Usage: "gov propose|advise|draft|vote|open-review|object|revise|emergency|petition|show|timeline|...",
			Summary: "multi-stakeholder governance that the ledger executes"},
	}
}

// A govCLI runs the gov commands over the ledger's modules.
type govCLI struct {
	modules func() []ledger.Module
}

// actions are the action types of every module.
func (g *govCLI) actions() *ledger.Actions { return ledger.NewActions(g.modules()...) }

// module is the gov module among the ledger's, with their actions.
func (g *govCLI) module() gov.Module {
	for _, m := range g.modules() {
		if gm, ok := m.(gov.Module); ok {
			return gm
		}
	}
	panic("no gov module") // the registry wires it
}

func (g *govCLI) run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || cli.IsHelp(args[0]) {
		fmt.Fprint(stderr, strings.TrimLeft(govUsage, "\n"))
		if len(args) > 0 {
			return flag.ErrHelp
		}
		return &cli.ExitError{Code: 2}
	}
	op, rest := args[0], args[1:]
	switch op {
	case "show":
		return g.show(rest, stdout, stderr)
	case "timeline":
		return g.show(append([]string{"timeline"}, rest...), stdout, stderr)
	case "actions":
		return g.listActions(stdout)
	case "pending":
		return govPending(rest, stdout, stderr)
	case "approve":
		return govApprove(rest, stdout, stderr)
	case "group":
		if len(rest) == 0 {
			return cli.UsageError("usage: agora gov group create|agenda|outcome ...")
		}
		op, rest = "group "+rest[0], rest[1:]
	}
	return g.submit(op, rest, stdout, stderr)
}

// govFlags are every flag of the commands that submit a transaction.
type govFlags struct {
	fs                                     *flag.FlagSet
	home, node, as, title, text, file, uri *string
	keys, actions, proposals, advice       cli.StringList
	panelists, members, memberBodies       cli.StringList
	resource, about, consulted, minutes    *string
	kind, subject, theme                   *string
	director, status, progress, schedule   *string
	review, to                             *string
	confirms, threshold                    *uint
	del, asJSON                            *bool
	ttl, expiresIn                         *time.Duration
}

func newGovFlags(op string, stderr io.Writer) *govFlags {
	fs := cli.NewFlags("gov "+op, govUsage, stderr)
	f := &govFlags{fs: fs, home: cli.HomeFlag(fs), node: cli.NodeFlag(fs)}
	f.as = fs.String("as", "", "the `BODY` that acts")
	fs.Var(&f.keys, "key", "a key `NAME` that signs (repeatable); default: your keys among the body's members")
	f.title = fs.String("title", "", "the document's title")
	f.text = fs.String("text", "", "the document's text, kept in the transaction")
	f.file = fs.String("file", "", "read the document's text from `FILE`")
	f.uri = fs.String("uri", "", "with --file: keep only the hash on the ledger; the text lives at `URI`")
	fs.Var(&f.actions, "action", "an executable action `NAME=JSON` (repeatable; 'agora gov actions' lists them)")
	fs.Var(&f.proposals, "proposal", "a Proposal `DOC` id the change consolidates (repeatable)")
	fs.Var(&f.advice, "advice", "draft: an Advice `DOC` id the change consolidates (repeatable); emergency: the consulted community's advice")
	fs.Var(&f.panelists, "panelist", "a panelist: key `NAME` or public key (repeatable)")
	fs.Var(&f.members, "member", "a working group's or community's member: key `NAME`, public key, or NAME=PUBLIC_KEY (repeatable)")
	fs.Var(&f.memberBodies, "member-body", "set-members: a member that is a `BODY`, acting by its own rule (repeatable)")
	f.resource = fs.String("resource", "", "propose: the resource `ID` (or bylaws) the proposal is about")
	f.about = fs.String("about", "", "advise: the document id or \"change N\" the advice is about")
	f.consulted = fs.String("consulted", "", "emergency: the advisory `COMMUNITY` consulted")
	f.minutes = fs.String("minutes", "", "emergency: the minutes' text")
	f.kind = fs.String("kind", "report", "report: report or minutes")
	f.subject = fs.String("subject", "", "report: what it is about")
	f.theme = fs.String("theme", "", "group create: the working group's theme")
	f.director = fs.String("director", "", "appoint, group create: the director's key `NAME` or public key")
	f.status = fs.String("status", "", "group agenda: new, continued or done")
	f.progress = fs.String("progress", "", "group agenda: progress")
	f.schedule = fs.String("schedule", "", "group agenda: schedule")
	f.review = fs.String("review", "", "group agenda: the director's review")
	f.to = fs.String("to", "", "group outcome: the advisory `COMMUNITY`")
	f.confirms = fs.Uint("confirms", 0, "draft: the emergency `N` the change confirms")
	f.threshold = fs.Uint("threshold", 0, "assign-panel: how many panelists declare; set-members: how many members act")
	f.del = fs.Bool("delete", false, "set-entry: delete the entry")
	f.asJSON = fs.Bool("json", false, "print the result as JSON")
	f.ttl = fs.Duration("ttl", 5*time.Minute, "how long the signed transaction stays valid")
	f.expiresIn = fs.Duration("expires-in", 72*time.Hour, "a pending action: how long, in block time, it waits for the other members' approvals")
	return f
}

// doc builds the document the flags give; what names it in errors.
func (f *govFlags) doc(what string) (gov.DocRef, error) {
	if *f.title == "" {
		return gov.DocRef{}, cli.UsageError("--title is required: the %s's title", what)
	}
	switch {
	case *f.file != "":
		b, err := os.ReadFile(*f.file)
		if err != nil {
			return gov.DocRef{}, err
		}
		if *f.uri != "" {
			sum := sha256.Sum256(b)
			return gov.DocRef{SHA256: sum[:], Title: *f.title, URI: *f.uri}, nil
		}
		return gov.NewDocRef(*f.title, string(b)), nil
	case *f.text != "":
		return gov.NewDocRef(*f.title, *f.text), nil
	}
	return gov.DocRef{}, cli.UsageError("give the %s's text with --text or --file", what)
}

// parseActions builds the --action flags' actions, of the types acts.
func (f *govFlags) parseActions(acts *ledger.Actions) ([]ledger.Action, error) {
	var out []ledger.Action
	for _, s := range f.actions {
		name, body, ok := strings.Cut(s, "=")
		if !ok {
			return nil, cli.UsageError("--action %q: want NAME=JSON, e.g. ledger.set_params={\"max_block_txs\":5000,\"max_block_bytes\":16777216}", s)
		}
		a, err := acts.FromJSON(name, []byte(body))
		if err != nil {
			return nil, cli.UsageHint("'agora gov actions' shows each action's JSON body", "--action %s: %v", name, strings.TrimPrefix(err.Error(), "invalid: "))
		}
		out = append(out, a)
	}
	return out, nil
}

// member resolves a key name in the keystore, a public key, or NAME=KEY
// (a public key under that name).
func (f *govFlags) member(s string) (gov.Member, error) {
	if name, key, ok := strings.Cut(s, "="); ok {
		k, err := tx.ParsePublicKey(key)
		if err != nil {
			return gov.Member{}, cli.UsageError("%q: NAME=KEY wants a public key (alg:base64url) after the =", s)
		}
		return gov.Member{Name: name, Key: &k}, nil
	}
	if k, err := tx.ParsePublicKey(s); err == nil {
		return gov.Member{Name: k.Address()[:12], Key: &k}, nil
	}
	e, err := cli.Keys(*f.home).Get(s)
	if err != nil {
		return gov.Member{}, cli.UsageError("%q is neither a public key (alg:base64url) nor a key in your keystore", s)
	}
	k := e.PublicKey
	return gov.Member{Name: s, Key: &k}, nil
}

func num(s, what string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, cli.UsageError("%q is not a %s number (from 1)", s, what)
	}
	return n, nil
}
