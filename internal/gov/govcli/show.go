package govcli

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/gov"
)

func deadlineNote(t gov.Time) string {
	if t == 0 {
		return ""
	}
	return " until " + time.UnixMilli(int64(t)).UTC().Format(time.RFC3339)
}

// listActions lists the executable actions of every module.
func (g *govCLI) listActions(stdout io.Writer) error {
	acts := g.actions()
	for _, name := range acts.Names() {
		t, _ := acts.Type(name)
		example, _ := json.Marshal(t.New())
		fmt.Fprintf(stdout, "%s\n  %s\n  body: %s\n", name, t.Summary, example)
	}
	return nil
}

// govShow answers a governance query, proven when a log key is given.
func (g *govCLI) show(args []string, stdout, stderr io.Writer) error {
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
	proven, err := cli.ModuleQuery(context.Background(), c, g.module(), qname, params, tr, &raw)
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
		fmt.Fprintf(stdout, "proven %s\n", cli.ProvenAt(proven))
	}
	return nil
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
