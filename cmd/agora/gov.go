package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
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

func runGov(args []string, stdout, stderr io.Writer) error {
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
		return govShow(rest, stdout, stderr)
	case "timeline":
		return govShow(append([]string{"timeline"}, rest...), stdout, stderr)
	case "actions":
		return govActions(stdout)
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
	return govSubmit(op, rest, stdout, stderr)
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

func (f *govFlags) parseActions() ([]ledger.Action, error) {
	acts := ledger.NewActions(modules()...)
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
	e, err := home(*f.home).keys().Get(s)
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

// govSubmit builds, signs and submits the message of one command.
func govSubmit(op string, args []string, stdout, stderr io.Writer) error {
	f := newGovFlags(op, stderr)
	pos, err := cli.Parse(f.fs, args)
	if err != nil {
		return err
	}
	want := func(n int, synopsis string) error {
		if len(pos) != n {
			return cli.UsageError("usage: agora gov %s", synopsis)
		}
		return nil
	}
	c := client.New(*f.node)
	ctx := context.Background()
	var (
		typ    string
		msg    ledger.Msg
		signAs string // the body whose members sign, if --key is not given
		change uint64 // the change to report on afterwards
	)
	bylaws := func() (*gov.Bylaws, error) {
		var b gov.Bylaws
		return &b, c.Get(ctx, "/v1/gov/bylaws", &b)
	}
	docMsg := func(what string) (gov.DocRef, error) { return f.doc(what) }
	switch op {
	case "propose":
		if err := want(0, "propose --as COMMUNITY --resource ID|bylaws --title T --text TEXT"); err != nil {
			return err
		}
		d, err := docMsg("proposal")
		if err != nil {
			return err
		}
		typ, msg, signAs = "propose", &gov.Propose{As: *f.as, Resource: *f.resource, Doc: d}, *f.as
	case "advise":
		d, err := docMsg("advice")
		if err != nil {
			return err
		}
		typ, msg, signAs = "advise", &gov.Advise{As: *f.as, About: *f.about, Doc: d}, *f.as
	case "draft", "revise":
		acts, err := f.parseActions()
		if err != nil {
			return err
		}
		d, err := docMsg("proposed change")
		if err != nil {
			return err
		}
		if op == "draft" {
			if err := want(0, "draft --key DIRECTOR --title T --text TEXT --action NAME=JSON ..."); err != nil {
				return err
			}
			typ, msg = "draft", &gov.Draft{Doc: d, Proposals: f.proposals, Advice: f.advice, Actions: acts, Confirms: uint64(*f.confirms)}
		} else {
			if err := want(1, "revise N --key DIRECTOR --title T --text TEXT --action NAME=JSON ..."); err != nil {
				return err
			}
			if change, err = num(pos[0], "change"); err != nil {
				return err
			}
			typ, msg = "revise", &gov.Revise{Change: change, Doc: d, Actions: acts}
		}
	case "vote":
		if err := want(2, "vote N yes|no|abstain --key DIRECTOR"); err != nil {
			return err
		}
		if change, err = num(pos[0], "change"); err != nil {
			return err
		}
		typ, msg = "vote", &gov.CastVote{Change: change, Choice: pos[1]}
	case "comment", "object", "request-review":
		if err := want(1, op+" N --as BODY --title T --text TEXT"); err != nil {
			return err
		}
		if change, err = num(pos[0], "change"); err != nil {
			return err
		}
		d, err := docMsg(op)
		if err != nil {
			return err
		}
		typ = op
		switch op {
		case "comment":
			msg = &gov.Comment{Change: change, As: *f.as, Doc: d}
		case "object":
			msg = &gov.Object{Change: change, As: *f.as, Doc: d}
		default:
			msg = &gov.RequestReview{Change: change, As: *f.as, Doc: d}
		}
		if *f.as != "board" {
			signAs = *f.as
		}
	case "open-review":
		if err := want(1, "open-review N"); err != nil {
			return err
		}
		if change, err = num(pos[0], "change"); err != nil {
			return err
		}
		b, err := bylaws()
		if err != nil {
			return err
		}
		typ, msg, signAs = op, &gov.OpenReview{Change: change}, b.Secretariat
	case "assign-panel":
		if err := want(1, "assign-panel N --panelist NAME ... --threshold K"); err != nil {
			return err
		}
		n, err := num(pos[0], "review")
		if err != nil {
			return err
		}
		m := &gov.AssignPanel{Review: n, Threshold: uint32(min(*f.threshold, 1<<31))}
		for _, p := range f.panelists {
			mm, err := f.member(p)
			if err != nil {
				return err
			}
			m.Panel = append(m.Panel, mm)
		}
		b, err := bylaws()
		if err != nil {
			return err
		}
		typ, msg, signAs = op, m, b.Secretariat
	case "declare":
		if err := want(2, "declare N uphold|return --key PANELIST ... --title T --text TEXT"); err != nil {
			return err
		}
		n, err := num(pos[0], "review")
		if err != nil {
			return err
		}
		d, err := docMsg("declaration")
		if err != nil {
			return err
		}
		typ, msg = op, &gov.Declare{Review: n, Decision: pos[1], Doc: d}
	case "emergency":
		acts, err := f.parseActions()
		if err != nil {
			return err
		}
		if *f.title == "" || *f.minutes == "" || len(f.advice) != 1 || *f.consulted == "" {
			return cli.UsageHint("the consulted community gives its advice itself: agora gov advise --as COMMUNITY --about emergency --title T --text TEXT",
				"emergency needs --title, --action, --minutes TEXT, --consulted COMMUNITY and --advice DOC")
		}
		b, err := bylaws()
		if err != nil {
			return err
		}
		typ, signAs = op, b.EmergencyOfficer
		msg = &gov.Act{Title: *f.title, Actions: acts, Minutes: gov.NewDocRef("Minutes: "+*f.title, *f.minutes),
			Consulted: *f.consulted, Advice: f.advice[0]}
	case "verify-emergency":
		if err := want(1, "verify-emergency N --as BODY --title T --text TEXT"); err != nil {
			return err
		}
		n, err := num(pos[0], "emergency")
		if err != nil {
			return err
		}
		d, err := docMsg("verification report")
		if err != nil {
			return err
		}
		typ, msg, signAs = op, &gov.VerifyEmergency{Emergency: n, As: *f.as, Report: d}, *f.as
	case "petition", "support":
		d, err := docMsg("petition statement")
		if err != nil {
			return err
		}
		m := &gov.PetitionMsg{As: *f.as, Doc: d}
		if op == "support" {
			if err := want(1, "support N --as COMMUNITY --title T --text TEXT"); err != nil {
				return err
			}
			if m.Petition, err = num(pos[0], "petition"); err != nil {
				return err
			}
		} else {
			if len(pos) < 1 || len(pos) > 2 {
				return cli.UsageError("usage: agora gov petition reject CHANGE|remove SEAT|recall|approve CHANGE --as COMMUNITY --title T --text TEXT")
			}
			m.Power = pos[0]
			if len(pos) == 2 {
				if m.Target, err = num(pos[1], "target"); err != nil {
					return err
				}
			}
			switch m.Power {
			case gov.PowerReject, gov.PowerApprove:
				change = m.Target
			case gov.PowerRemove:
				// A remove petition names the person: the seat's director now.
				var bd gov.Board
				if err := c.Get(ctx, "/v1/gov/board", &bd); err != nil {
					return err
				}
				if m.Target > uint64(len(bd.Seats)) || bd.Seats[m.Target-1].Director == nil {
					return cli.UsageError("seat %d has no director to remove (agora gov show board)", m.Target)
				}
				m.Director = bd.Seats[m.Target-1].Director.Key
			}
		}
		typ, msg, signAs = "petition", m, *f.as
	case "withdraw", "cancel":
		if err := want(1, op+" N --key DIRECTOR ... --title T --text TEXT"); err != nil {
			return err
		}
		if change, err = num(pos[0], "change"); err != nil {
			return err
		}
		d, err := docMsg(op + " statement")
		if err != nil {
			return err
		}
		if typ, msg = op, ledger.Msg(&gov.Withdraw{Change: change, Doc: d}); op == "cancel" {
			msg = &gov.Cancel{Change: change, Doc: d}
		}
	case "appoint":
		if err := want(1, "appoint SEAT --as COMMUNITY --director NAME"); err != nil {
			return err
		}
		seat, err := num(pos[0], "seat")
		if err != nil {
			return err
		}
		d, err := f.member(*f.director)
		if err != nil {
			return err
		}
		typ, msg, signAs = op, &gov.Appoint{As: *f.as, Seat: uint32(min(seat, 1<<31)), Director: d}, *f.as
	case "set-entry":
		if *f.del {
			if err := want(2, "set-entry RESOURCE KEY --delete"); err != nil {
				return err
			}
			pos = append(pos, "")
		} else if err := want(3, "set-entry RESOURCE KEY VALUE"); err != nil {
			return err
		}
		var r gov.Resource
		if err := c.Get(ctx, "/v1/gov/resources/"+url.PathEscape(pos[0]), &r); err != nil {
			return err
		}
		typ, msg, signAs = op, &gov.SetEntry{Resource: pos[0], Key: pos[1], Value: pos[2], Delete: *f.del}, r.Controller
	case "set-members":
		if err := want(0, "set-members --as COMMUNITY --member NAME_OR_KEY ... [--member-body BODY ...] --threshold K"); err != nil {
			return err
		}
		m := &gov.SetMembers{As: *f.as, Threshold: uint32(min(*f.threshold, 1<<31))}
		for _, n := range f.members {
			mm, err := f.member(n)
			if err != nil {
				return err
			}
			m.Members = append(m.Members, mm)
		}
		for _, b := range f.memberBodies {
			m.Members = append(m.Members, gov.Member{Name: b, Body: b})
		}
		typ, msg, signAs = op, m, *f.as
	case "report":
		d, err := docMsg(*f.kind)
		if err != nil {
			return err
		}
		typ, msg, signAs = op, &gov.Report{As: *f.as, Kind: *f.kind, Doc: d, Subject: *f.subject}, *f.as
	case "group create":
		if err := want(1, "group create ID --theme T --director NAME [--member NAME ...]"); err != nil {
			return err
		}
		d, err := f.member(*f.director)
		if err != nil {
			return err
		}
		m := &gov.CreateGroup{ID: pos[0], Theme: *f.theme, Director: d}
		for _, n := range f.members {
			mm, err := f.member(n)
			if err != nil {
				return err
			}
			m.Members = append(m.Members, mm)
		}
		b, err := bylaws()
		if err != nil {
			return err
		}
		typ, msg, signAs = "create-group", m, b.Secretariat
	case "group agenda":
		if len(pos) < 1 || len(pos) > 2 {
			return cli.UsageError("usage: agora gov group agenda ID [ITEM] --status S ...")
		}
		m := &gov.Agenda{Group: pos[0], Title: *f.title, Status: *f.status, Progress: *f.progress, Schedule: *f.schedule, Review: *f.review}
		if len(pos) == 2 {
			n, err := num(pos[1], "item")
			if err != nil {
				return err
			}
			m.Item = uint32(min(n, 1<<31))
		}
		typ, msg = "agenda", m
	case "group outcome":
		if err := want(1, "group outcome ID --to COMMUNITY --title T --text TEXT"); err != nil {
			return err
		}
		d, err := docMsg("outcome")
		if err != nil {
			return err
		}
		typ, msg = "send-outcome", &gov.SendOutcome{Group: pos[0], To: *f.to, Doc: d}
	default:
		return cli.UsageError("unknown gov command %q\nRun 'agora gov help' for the commands.", op)
	}
	if err := msg.Validate(); err != nil {
		return cli.UsageError("%s", strings.TrimPrefix(err.Error(), "invalid: "))
	}
	signers := []string(f.keys)
	if len(signers) == 0 && signAs == "" {
		return cli.UsageError("--key NAME is required: the key that signs")
	}
	if signAs != "" {
		// A member who speaks for itself (a comment, a review request)
		// needs no rule; anything else acts as the body, at once if the
		// keys meet its rule, over time if not.
		speaks := op == "comment" || op == "request-review"
		a := &acting{ctx: ctx, c: c, ks: home(*f.home).keys(), given: signers}
		met, err := a.meets(signAs, 1)
		if err != nil {
			return err
		}
		switch {
		case len(a.names) == 0 && len(signers) == 0:
			return ledger.WithHint(fmt.Errorf("no key in your keystore is a member of %s", signAs),
				fmt.Sprintf("'agora gov show body %s' lists its members; sign with --key NAME", signAs))
		case len(a.names) > 0 && !met && !speaks:
			return govPropose(ctx, c, f, signAs, typ, msg, a.names, stdout, stderr)
		case len(signers) == 0:
			signers = a.names
		}
	}
	res, err := cli.SignAndSubmitAll(*f.home, *f.node, signers, gov.Name, typ, msg, *f.ttl, stderr)
	if err != nil {
		return err
	}
	if *f.asJSON {
		return cli.PrintJSON(stdout, res)
	}
	cli.PrintResult(stdout, typ, res)
	for _, e := range res.Result.Events {
		for _, a := range e.Attrs {
			if e.Type == "change" && a.Key == "id" && change == 0 {
				change, _ = strconv.ParseUint(a.Value, 10, 64)
			}
		}
	}
	if change != 0 {
		var ch gov.ChangeJSON
		if err := c.Get(ctx, fmt.Sprintf("/v1/gov/changes/%d", change), &ch); err == nil {
			fmt.Fprintf(stdout, "  change %d: %s%s\n", ch.ID, ch.Status, deadlineNote(ch.Deadline))
		}
	}
	return nil
}

func deadlineNote(t gov.Time) string {
	if t == 0 {
		return ""
	}
	return " until " + time.UnixMilli(int64(t)).UTC().Format(time.RFC3339)
}

func govActions(stdout io.Writer) error {
	acts := ledger.NewActions(modules()...)
	for _, name := range acts.Names() {
		t, _ := acts.Type(name)
		example, _ := json.Marshal(t.New())
		fmt.Fprintf(stdout, "%s\n  %s\n  body: %s\n", name, t.Summary, example)
	}
	return nil
}

// govShow answers a governance query, proven when a log key is given.
func govShow(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("gov show", govUsage, stderr)
	nodeURL := cli.NodeFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	tr := cli.TrustFlags(fs)
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	policy, err := tr.Policy()
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return cli.UsageError("usage: agora gov show WHAT [ID]")
	}
	what, ids := pos[0], pos[1:]
	single := map[string]string{"bylaws": "bylaws", "board": "board", "bodies": "bodies", "resources": "resources",
		"changes": "changes", "groups": "groups", "deadlines": "deadlines", "emergencies": "emergencies",
		"petitions": "petitions", "reviews": "reviews", "documents": "documents", "history": "tenures"}
	one := map[string]string{"body": "body", "resource": "resource", "document": "document", "change": "change",
		"timeline": "change", "emergency": "emergency", "review": "review", "petition": "petition", "group": "group", "tenure": "tenure"}
	var qname string
	params := map[string]string{}
	switch {
	case single[what] != "" && len(ids) == 0:
		qname = single[what]
	case one[what] != "" && len(ids) == 1:
		qname, params["id"] = one[what], ids[0]
	case what == "entry" && len(ids) == 2:
		qname, params["id"], params["key"] = "entry", ids[0], ids[1]
	default:
		return cli.UsageError("usage: agora gov show bylaws|board|history|bodies|resources|changes|emergencies|petitions|reviews|documents|groups|deadlines, or show body|resource|document|change|emergency|review|petition|group|tenure ID, or show entry RESOURCE KEY")
	}
	c := client.New(*nodeURL)
	var raw json.RawMessage
	// Lists of numbered records are read by point lookups: provable.
	list := slices.Contains([]string{"bodies", "resources", "groups", "deadlines"}, what)
	if policy != nil && list {
		fmt.Fprintf(stderr, "note: a list cannot be proven complete; show each item with --log-key to prove it\n")
		tr = nil
	}
	proven, err := cli.ModuleQuery(context.Background(), c, govModule(), qname, params, tr, &raw)
	if err != nil {
		return err
	}
	if *asJSON {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		return cli.PrintJSON(stdout, v)
	}
	if err := printGov(stdout, what, raw); err != nil {
		return err
	}
	if proven != nil {
		fmt.Fprintf(stdout, "proven against the checkpoint of %s at height %d\n", proven.Origin, proven.Height)
	}
	return nil
}

func govModule() gov.Module {
	for _, m := range modules() {
		if g, ok := m.(gov.Module); ok {
			return g
		}
	}
	panic("no gov module") // modules() wires it
}

// printGov prints an answer for people.
func printGov(w io.Writer, what string, raw json.RawMessage) error {
	switch what {
	case "change", "timeline":
		var c gov.ChangeJSON
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		fmt.Fprintf(w, "change %d: %s\n  status    %s (round %d)%s\n", c.ID, c.Title, c.Status, c.Round, deadlineNote(c.Deadline))
		if what == "change" {
			for _, a := range c.Actions {
				b, _ := json.Marshal(a.Body)
				fmt.Fprintf(w, "  action    %s %s\n", a.Action, b)
			}
			for _, v := range c.Votes {
				fmt.Fprintf(w, "  vote      seat %d %s: %s\n", v.Seat, v.Director, v.Choice)
			}
			if len(c.Objections) > 0 {
				fmt.Fprintf(w, "  objecting %s\n", strings.Join(c.Objections, ", "))
			}
			if c.Failure != "" {
				fmt.Fprintf(w, "  failure   %s\n", c.Failure)
			}
		}
		printSteps(w, c.Timeline)
		return nil
	case "board":
		var b gov.Board
		if err := json.Unmarshal(raw, &b); err != nil {
			return err
		}
		for i, st := range b.Seats {
			vote := "voting"
			if !st.Voting {
				vote = "non-voting"
			}
			d := "(vacant)"
			if st.Director != nil {
				d = st.Director.Name
			}
			fmt.Fprintf(w, "seat %d  %-12s %-10s %s\n", i+1, st.Body, vote, d)
		}
		return nil
	case "bodies", "resources", "changes", "groups", "emergencies", "petitions", "reviews", "documents", "history":
		var list []gov.Summary
		if err := json.Unmarshal(raw, &list); err != nil {
			return err
		}
		for _, s := range list {
			fmt.Fprintf(w, "%-14s %-18s %s%s\n", s.ID, s.Status, s.Title, deadlineNote(s.Deadline))
		}
		return nil
	case "deadlines":
		var list []gov.Deadline
		if err := json.Unmarshal(raw, &list); err != nil {
			return err
		}
		kinds := map[string]string{"c": "change", "e": "emergency", "p": "petition", "v": "review", "ev": "verification of emergency"}
		for _, d := range list {
			fmt.Fprintf(w, "%s  %s %d\n", time.UnixMilli(int64(d.Time)).UTC().Format(time.RFC3339), kinds[d.Kind], d.ID)
		}
		return nil
	}
	return printGovRecord(w, what, raw)
}

// printGovRecord prints one record of the process for people: its fields,
// then its timeline.
func printGovRecord(w io.Writer, what string, raw json.RawMessage) error {
	row := func(label string, v any) {
		if s := fmt.Sprint(v); s != "" && s != "0" && s != "[]" && s != "false" {
			fmt.Fprintf(w, "  %-12s %s\n", label, s)
		}
	}
	at := func(t gov.Time) string {
		if t == 0 {
			return ""
		}
		return time.UnixMilli(int64(t)).UTC().Format(time.RFC3339)
	}
	var timeline []gov.Step
	switch what {
	case "bylaws":
		var b gov.Bylaws
		if err := json.Unmarshal(raw, &b); err != nil {
			return err
		}
		fmt.Fprintf(w, "Bylaws version %d (document %s)\n", b.Version, b.Document)
		var seats []string
		for _, a := range b.Seats {
			seats = append(seats, fmt.Sprintf("%s %d", a.Body, a.Seats))
		}
		row("seats", strings.Join(seats, ", "))
		row("voting", fmt.Sprintf("%s; quorum %d‰, majority %d‰, supermajority %d‰", b.VotingPeriod, b.Quorum, b.Majority, b.Supermajority))
		row("secretariat", fmt.Sprintf("%s opens public review within %s", b.Secretariat, b.SecretariatPeriod))
		row("review", fmt.Sprintf("%s; %d objecting communities return a change", b.ReviewPeriod, b.Objections))
		row("execution", fmt.Sprintf("%s after ratification", b.ExecutionDelay))
		row("indep. review", fmt.Sprintf("requested within %s of the decision, declared within %s; %d per requester, %d per change", b.ReviewWindow, b.PanelPeriod, b.StaysPerRequester, b.StaysPerChange))
		row("petitions", fmt.Sprintf("%s; reject %d, remove %d, recall %d, approve (fundamental changes) %d communities", b.PetitionWindow, b.Reject, b.Remove, b.Recall, b.Approve))
		row("emergency", fmt.Sprintf("%s, lasts %s unconfirmed, verified within %s; scope %s", b.EmergencyOfficer, b.EmergencyPeriod, b.VerificationPeriod, strings.Join(b.EmergencyScope, ", ")))
		row("offices", fmt.Sprintf("ROLE %s, Secretariat %s, Ombudsman %s", b.ROLE, b.Secretariat, b.Ombudsman))
		return nil
	case "body":
		var b gov.Body
		if err := json.Unmarshal(raw, &b); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s: %s (%s)\n", b.ID, b.Name, b.Kind)
		row("rule", fmt.Sprintf("%d of its %d members", b.Threshold, len(b.Members)))
		for _, m := range b.Members {
			if m.Body != "" {
				row("member", m.Name+" (body "+m.Body+")")
			} else {
				row("member", m.Name+" "+m.Key.String())
			}
		}
		return nil
	case "resource":
		var r gov.Resource
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s: %s\n", r.ID, r.Name)
		row("parent", r.Parent)
		row("controller", r.Controller)
		if r.Policy != "" {
			row("policy", fmt.Sprintf("%s (version %d)", r.Policy, r.PolicyVersion))
		}
		return nil
	case "entry":
		var e gov.EntryJSON
		if err := json.Unmarshal(raw, &e); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s = %s\n", e.Key, e.Value)
		row("provenance", e.Provenance)
		row("height", e.Height)
		row("time", at(e.Time))
		return nil
	case "document":
		var d gov.Document
		if err := json.Unmarshal(raw, &d); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s %s: %s\n", d.Kind, d.ID, d.Title)
		row("author", d.Author)
		row("subject", d.Subject)
		row("version", d.Version)
		row("uri", d.URI)
		if d.Inline {
			row("text", fmt.Sprintf("in transaction %s", d.TxID))
		}
		row("recorded", fmt.Sprintf("height %d, %s", d.Height, at(d.Time)))
		return nil
	case "emergency":
		var e gov.EmergencyJSON
		if err := json.Unmarshal(raw, &e); err != nil {
			return err
		}
		fmt.Fprintf(w, "emergency %d: %s\n", e.ID, e.Title)
		row("status", e.Status)
		if e.Status == gov.EmergencyInEffect {
			row("lapses", at(e.Deadline))
		}
		row("confirmed by", e.ConfirmedBy)
		row("officer", e.Officer)
		for _, a := range e.Actions {
			b, _ := json.Marshal(a.Body)
			row("action", fmt.Sprintf("%s %s", a.Action, b))
		}
		row("changed", strings.Join(e.ChangedKeys, ", "))
		row("kept", strings.Join(e.Kept, ", "))
		row("minutes", e.Minutes)
		row("consulted", e.Consulted+", advice "+e.Advice)
		switch {
		case e.Verification != "":
			row("verified", e.Verifier+", report "+e.Verification)
		case e.Overdue:
			row("verified", fmt.Sprintf("overdue since %s: no new emergency until it is (agora gov verify-emergency %d)", at(e.VerifyBy), e.ID))
		default:
			row("verified", "due by "+at(e.VerifyBy))
		}
		timeline = e.Timeline
	case "review":
		var r gov.Review
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		fmt.Fprintf(w, "review %d of change %d\n", r.ID, r.Change)
		row("status", r.Status)
		row("deadline", at(r.Deadline))
		row("requester", r.Requester)
		var panel []string
		for _, p := range r.Panel {
			panel = append(panel, p.Name)
		}
		if len(panel) > 0 {
			row("panel", fmt.Sprintf("%s; %d declare", strings.Join(panel, ", "), r.Threshold))
		}
		row("declaration", r.Declaration)
		timeline = r.Timeline
	case "petition":
		var p gov.Petition
		if err := json.Unmarshal(raw, &p); err != nil {
			return err
		}
		fmt.Fprintf(w, "petition %d: %s\n", p.ID, p.Power)
		switch {
		case p.Director != nil:
			row("against", fmt.Sprintf("%s (seat %d)", p.Director.Name, p.Target))
		case p.Target != 0:
			row("change", p.Target)
		}
		row("status", fmt.Sprintf("%s, %d of %d communities: %s", p.Status, len(p.Supporters), p.Needed, strings.Join(p.Supporters, ", ")))
		row("deadline", at(p.Deadline))
		timeline = p.Timeline
	case "tenure":
		var t gov.Tenure
		if err := json.Unmarshal(raw, &t); err != nil {
			return err
		}
		fmt.Fprintf(w, "tenure %d: %s in seat %d (%s)\n", t.ID, t.Director.Name, t.Seat, t.Body)
		row("from", cmp.Or(at(t.From), "genesis"))
		row("to", at(t.To))
		row("ended", t.Ended)
		return nil
	case "group":
		var g gov.Group
		if err := json.Unmarshal(raw, &g); err != nil {
			return err
		}
		fmt.Fprintf(w, "working group %s: %s\n", g.ID, g.Theme)
		row("director", g.Director.Name)
		for i, it := range g.Agenda {
			row(fmt.Sprintf("item %d", i+1), fmt.Sprintf("%s [%s] %s %s %s", it.Title, it.Status, it.Progress, it.Schedule, it.Review))
		}
		for _, o := range g.Outcomes {
			row("outcome", fmt.Sprintf("%s to %s; advice %s", o.Document, o.To, cmp.Or(o.Advice, "pending")))
		}
		timeline = g.Timeline
	default:
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		return cli.PrintJSON(w, v)
	}
	printSteps(w, timeline)
	return nil
}

func printSteps(w io.Writer, steps []gov.Step) {
	fmt.Fprintln(w, "  timeline")
	for _, st := range steps {
		fmt.Fprintf(w, "    %s  h%-5d %s", time.UnixMilli(int64(st.Time)).UTC().Format("15:04:05"), st.Height, st.What)
		if st.By != "" {
			fmt.Fprintf(w, " by %s", st.By)
		}
		if st.Note != "" {
			fmt.Fprintf(w, ": %s", st.Note)
		}
		fmt.Fprintln(w)
	}
}
