package govcli

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
)

// A submitCmd is a command that submits one of the message types gov
// declares (gov.Module.MsgTypes): the zero message of its type, filled in
// from the command's flags and arguments by build.
type submitCmd struct {
	typ string // the declared message type
	// speaks is set for a member who speaks for itself (a comment, a
	// review request): it needs no rule, so the message is never a
	// pending action of its body.
	speaks bool
	// is reports whether a message is of the type build fills.
	is    func(ledger.Msg) bool
	build func(*submission, ledger.Msg) error
}

// builds returns the command that fills a message of type typ, an M.
func builds[M ledger.Msg](typ string, build func(*submission, M) error) submitCmd {
	return submitCmd{typ: typ,
		is:    func(m ledger.Msg) bool { _, ok := m.(M); return ok },
		build: func(s *submission, m ledger.Msg) error { return build(s, m.(M)) }}
}

func (c submitCmd) speaking() submitCmd { c.speaks = true; return c }

// A submission is one submitting command's call: its flags and positional
// arguments, and what build finds out besides the message.
type submission struct {
	op     string
	f      *govFlags
	pos    []string
	g      *govCLI
	ctx    context.Context
	c      *client.Client
	signAs string // the body whose members sign, if --key is not given
	change uint64 // the change to report on afterwards
}

// want checks that the command has n positional arguments.
func (s *submission) want(n int, synopsis string) error {
	if len(s.pos) != n {
		return cli.UsageError("usage: agora gov %s", synopsis)
	}
	return nil
}

// changeArg is the change the first argument names, reported on
// afterwards.
func (s *submission) changeArg() (uint64, error) {
	var err error
	s.change, err = num(s.pos[0], "change")
	return s.change, err
}

func (s *submission) actions() ([]ledger.Action, error) { return s.f.parseActions(s.g.actions()) }

func (s *submission) bylaws() (*gov.Bylaws, error) {
	var b gov.Bylaws
	return &b, s.c.Get(s.ctx, "/v1/gov/bylaws", &b)
}

// bySecretariat has the Secretariat's members sign.
func (s *submission) bySecretariat() error {
	b, err := s.bylaws()
	s.signAs = b.Secretariat
	return err
}

// members resolves names with f.member.
func (s *submission) members(names []string) ([]gov.Member, error) {
	var out []gov.Member
	for _, n := range names {
		m, err := s.f.member(n)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// onChange fills a message that a body (or "board") sends about change N
// with a document: a comment, an objection, a review request.
func (s *submission) onChange(change *uint64, as *string, doc *gov.DocRef) (err error) {
	if err = s.want(1, s.op+" N --as BODY --title T --text TEXT"); err != nil {
		return err
	}
	if *change, err = s.changeArg(); err != nil {
		return err
	}
	if *doc, err = s.f.doc(s.op); err != nil {
		return err
	}
	if *as = *s.f.as; *as != "board" {
		s.signAs = *as
	}
	return nil
}

// statement fills a message that directors send about change N with a
// statement: a withdrawal, a cancellation.
func (s *submission) statement(change *uint64, doc *gov.DocRef) (err error) {
	if err = s.want(1, s.op+" N --key DIRECTOR ... --title T --text TEXT"); err != nil {
		return err
	}
	if *change, err = s.changeArg(); err != nil {
		return err
	}
	*doc, err = s.f.doc(s.op + " statement")
	return err
}

// submitCmds are the commands that submit a message, by the words after
// 'agora gov'. TestSubmitCmdsDeclared holds each to its declared type.
var submitCmds = map[string]submitCmd{
	"propose": builds("propose", func(s *submission, m *gov.Propose) (err error) {
		if err = s.want(0, "propose --as COMMUNITY --resource ID|bylaws --title T --text TEXT"); err != nil {
			return err
		}
		m.As, m.Resource, s.signAs = *s.f.as, *s.f.resource, *s.f.as
		m.Doc, err = s.f.doc("proposal")
		return err
	}),
	"advise": builds("advise", func(s *submission, m *gov.Advise) (err error) {
		m.As, m.About, s.signAs = *s.f.as, *s.f.about, *s.f.as
		m.Doc, err = s.f.doc("advice")
		return err
	}),
	"draft": builds("draft", func(s *submission, m *gov.Draft) (err error) {
		if m.Actions, err = s.actions(); err != nil {
			return err
		}
		if m.Doc, err = s.f.doc("proposed change"); err != nil {
			return err
		}
		m.Proposals, m.Advice, m.Confirms = s.f.proposals, s.f.advice, uint64(*s.f.confirms)
		return s.want(0, "draft --key DIRECTOR --title T --text TEXT --action NAME=JSON ...")
	}),
	"revise": builds("revise", func(s *submission, m *gov.Revise) (err error) {
		if m.Actions, err = s.actions(); err != nil {
			return err
		}
		if m.Doc, err = s.f.doc("proposed change"); err != nil {
			return err
		}
		if err = s.want(1, "revise N --key DIRECTOR --title T --text TEXT --action NAME=JSON ..."); err != nil {
			return err
		}
		m.Change, err = s.changeArg()
		return err
	}),
	"vote": builds("vote", func(s *submission, m *gov.CastVote) (err error) {
		if err = s.want(2, "vote N yes|no|abstain --key DIRECTOR"); err != nil {
			return err
		}
		m.Choice = s.pos[1]
		m.Change, err = s.changeArg()
		return err
	}),
	"comment": builds("comment", func(s *submission, m *gov.Comment) error {
		return s.onChange(&m.Change, &m.As, &m.Doc)
	}).speaking(),
	"object": builds("object", func(s *submission, m *gov.Object) error {
		return s.onChange(&m.Change, &m.As, &m.Doc)
	}),
	"request-review": builds("request-review", func(s *submission, m *gov.RequestReview) error {
		return s.onChange(&m.Change, &m.As, &m.Doc)
	}).speaking(),
	"open-review": builds("open-review", func(s *submission, m *gov.OpenReview) (err error) {
		if err = s.want(1, "open-review N"); err != nil {
			return err
		}
		if m.Change, err = s.changeArg(); err != nil {
			return err
		}
		return s.bySecretariat()
	}),
	"assign-panel": builds("assign-panel", func(s *submission, m *gov.AssignPanel) (err error) {
		if err = s.want(1, "assign-panel N --panelist NAME ... --threshold K"); err != nil {
			return err
		}
		if m.Review, err = num(s.pos[0], "review"); err != nil {
			return err
		}
		m.Threshold = uint32(min(*s.f.threshold, 1<<31))
		if m.Panel, err = s.members(s.f.panelists); err != nil {
			return err
		}
		return s.bySecretariat()
	}),
	"declare": builds("declare", func(s *submission, m *gov.Declare) (err error) {
		if err = s.want(2, "declare N uphold|return --key PANELIST ... --title T --text TEXT"); err != nil {
			return err
		}
		if m.Review, err = num(s.pos[0], "review"); err != nil {
			return err
		}
		m.Decision = s.pos[1]
		m.Doc, err = s.f.doc("declaration")
		return err
	}),
	"emergency": builds("emergency", func(s *submission, m *gov.Act) (err error) {
		if m.Actions, err = s.actions(); err != nil {
			return err
		}
		f := s.f
		if *f.title == "" || *f.minutes == "" || len(f.advice) != 1 || *f.consulted == "" {
			return cli.UsageHint("the consulted community gives its advice itself: agora gov advise --as COMMUNITY --about emergency --title T --text TEXT",
				"emergency needs --title, --action, --minutes TEXT, --consulted COMMUNITY and --advice DOC")
		}
		b, err := s.bylaws()
		if err != nil {
			return err
		}
		s.signAs = b.EmergencyOfficer
		m.Title, m.Minutes = *f.title, gov.NewDocRef("Minutes: "+*f.title, *f.minutes)
		m.Consulted, m.Advice = *f.consulted, f.advice[0]
		return nil
	}),
	"verify-emergency": builds("verify-emergency", func(s *submission, m *gov.VerifyEmergency) (err error) {
		if err = s.want(1, "verify-emergency N --as BODY --title T --text TEXT"); err != nil {
			return err
		}
		if m.Emergency, err = num(s.pos[0], "emergency"); err != nil {
			return err
		}
		m.As, s.signAs = *s.f.as, *s.f.as
		m.Report, err = s.f.doc("verification report")
		return err
	}),
	"petition": builds("petition", func(s *submission, m *gov.PetitionMsg) (err error) {
		if m.Doc, err = s.f.doc("petition statement"); err != nil {
			return err
		}
		if len(s.pos) < 1 || len(s.pos) > 2 {
			return cli.UsageError("usage: agora gov petition reject CHANGE|remove SEAT|recall|approve CHANGE --as COMMUNITY --title T --text TEXT")
		}
		m.As, m.Power, s.signAs = *s.f.as, s.pos[0], *s.f.as
		if len(s.pos) == 2 {
			if m.Target, err = num(s.pos[1], "target"); err != nil {
				return err
			}
		}
		switch m.Power {
		case gov.PowerReject, gov.PowerApprove:
			s.change = m.Target
		case gov.PowerRemove:
			// A remove petition names the person: the seat's director now.
			var bd gov.Board
			if err := s.c.Get(s.ctx, "/v1/gov/board", &bd); err != nil {
				return err
			}
			if m.Target > uint64(len(bd.Seats)) || bd.Seats[m.Target-1].Director == nil {
				return cli.UsageError("seat %d has no director to remove (agora gov show board)", m.Target)
			}
			m.Director = bd.Seats[m.Target-1].Director.Key
		}
		return nil
	}),
	"support": builds("petition", func(s *submission, m *gov.PetitionMsg) (err error) {
		if m.Doc, err = s.f.doc("petition statement"); err != nil {
			return err
		}
		if err = s.want(1, "support N --as COMMUNITY --title T --text TEXT"); err != nil {
			return err
		}
		m.As, s.signAs = *s.f.as, *s.f.as
		m.Petition, err = num(s.pos[0], "petition")
		return err
	}),
	"withdraw": builds("withdraw", func(s *submission, m *gov.Withdraw) error {
		return s.statement(&m.Change, &m.Doc)
	}),
	"cancel": builds("cancel", func(s *submission, m *gov.Cancel) error {
		return s.statement(&m.Change, &m.Doc)
	}),
	"appoint": builds("appoint", func(s *submission, m *gov.Appoint) (err error) {
		if err = s.want(1, "appoint SEAT --as COMMUNITY --director NAME"); err != nil {
			return err
		}
		seat, err := num(s.pos[0], "seat")
		if err != nil {
			return err
		}
		m.As, m.Seat, s.signAs = *s.f.as, uint32(min(seat, 1<<31)), *s.f.as
		m.Director, err = s.f.member(*s.f.director)
		return err
	}),
	"set-entry": builds("set-entry", func(s *submission, m *gov.SetEntry) (err error) {
		if *s.f.del {
			if err = s.want(2, "set-entry RESOURCE KEY --delete"); err != nil {
				return err
			}
			s.pos = append(s.pos, "")
		} else if err = s.want(3, "set-entry RESOURCE KEY VALUE"); err != nil {
			return err
		}
		var r gov.Resource
		if err := s.c.Get(s.ctx, "/v1/gov/resources/"+url.PathEscape(s.pos[0]), &r); err != nil {
			return err
		}
		m.Resource, m.Key, m.Value, m.Delete = s.pos[0], s.pos[1], s.pos[2], *s.f.del
		s.signAs = r.Controller
		return nil
	}),
	"set-members": builds("set-members", func(s *submission, m *gov.SetMembers) (err error) {
		if err = s.want(0, "set-members --as COMMUNITY --member NAME_OR_KEY ... [--member-body BODY ...] --threshold K"); err != nil {
			return err
		}
		m.As, m.Threshold, s.signAs = *s.f.as, uint32(min(*s.f.threshold, 1<<31)), *s.f.as
		if m.Members, err = s.members(s.f.members); err != nil {
			return err
		}
		for _, b := range s.f.memberBodies {
			m.Members = append(m.Members, gov.Member{Name: b, Body: b})
		}
		return nil
	}),
	"report": builds("report", func(s *submission, m *gov.Report) (err error) {
		m.As, m.Kind, m.Subject, s.signAs = *s.f.as, *s.f.kind, *s.f.subject, *s.f.as
		m.Doc, err = s.f.doc(*s.f.kind)
		return err
	}),
	"group create": builds("create-group", func(s *submission, m *gov.CreateGroup) (err error) {
		if err = s.want(1, "group create ID --theme T --director NAME [--member NAME ...]"); err != nil {
			return err
		}
		if m.Director, err = s.f.member(*s.f.director); err != nil {
			return err
		}
		if m.Members, err = s.members(s.f.members); err != nil {
			return err
		}
		m.ID, m.Theme = s.pos[0], *s.f.theme
		return s.bySecretariat()
	}),
	"group agenda": builds("agenda", func(s *submission, m *gov.Agenda) error {
		if len(s.pos) < 1 || len(s.pos) > 2 {
			return cli.UsageError("usage: agora gov group agenda ID [ITEM] --status S ...")
		}
		f := s.f
		m.Group, m.Title, m.Status, m.Progress, m.Schedule, m.Review = s.pos[0], *f.title, *f.status, *f.progress, *f.schedule, *f.review
		if len(s.pos) == 2 {
			n, err := num(s.pos[1], "item")
			if err != nil {
				return err
			}
			m.Item = uint32(min(n, 1<<31))
		}
		return nil
	}),
	"group outcome": builds("send-outcome", func(s *submission, m *gov.SendOutcome) (err error) {
		if err = s.want(1, "group outcome ID --to COMMUNITY --title T --text TEXT"); err != nil {
			return err
		}
		m.Group, m.To = s.pos[0], *s.f.to
		m.Doc, err = s.f.doc("outcome")
		return err
	}),
}

// submit builds the message of the command op from its declared type,
// then signs and submits it.
func (g *govCLI) submit(op string, args []string, stdout, stderr io.Writer) error {
	f := newGovFlags(op, stderr)
	pos, err := cli.Parse(f.fs, args)
	if err != nil {
		return err
	}
	sc, ok := submitCmds[op]
	if !ok {
		return cli.UsageError("unknown gov command %q\nRun 'agora gov help' for the commands.", op)
	}
	t, ok := ledger.FindMsgType(gov.Module{}.MsgTypes(), sc.typ)
	if !ok {
		return fmt.Errorf("gov declares no message type %q", sc.typ)
	}
	s := &submission{op: op, f: f, pos: pos, g: g, ctx: context.Background(), c: client.New(*f.node)}
	msg := t.New()
	if err := sc.build(s, msg); err != nil {
		return err
	}
	if err := msg.Validate(); err != nil {
		return cli.UsageError("%s", strings.TrimPrefix(err.Error(), "invalid: "))
	}
	ctx, c, typ, signAs := s.ctx, s.c, t.Name, s.signAs
	signers := []string(f.keys)
	if len(signers) == 0 && signAs == "" {
		return cli.UsageError("--key NAME is required: the key that signs")
	}
	if signAs != "" {
		// A member who speaks for itself needs no rule; anything else
		// acts as the body, at once if the keys meet its rule, over time
		// if not.
		a := &acting{ctx: ctx, c: c, ks: cli.Keys(*f.home), given: signers}
		met, err := a.meets(signAs, 1)
		if err != nil {
			return err
		}
		switch {
		case len(a.names) == 0 && len(signers) == 0:
			return ledger.WithHint(fmt.Errorf("no key in your keystore is a member of %s", signAs),
				fmt.Sprintf("'agora gov show body %s' lists its members; sign with --key NAME", signAs))
		case len(a.names) > 0 && !met && !sc.speaks:
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
	change := s.change
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
