package gov

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/agora-ledger/agora/internal/ledger"
)

func errorsIsNotFound(err error) bool { return errors.Is(err, ledger.ErrNotFound) }

// Module is the governance module.
type Module struct {
	// Actions, if set, decodes the actions of changes and emergencies
	// for display in query answers (ledger.NewActions of the ledger's
	// modules); unset, they show by name only.
	Actions *ledger.Actions
}

// Name implements ledger.Module.
func (Module) Name() string { return Name }

// Execute implements ledger.Module.
func (Module) Execute(ctx *ledger.Context, msg ledger.Msg) error {
	s := newMachine(ctx)
	if _, err := s.bylaws(); err != nil {
		return err
	}
	var err error
	switch m := msg.(type) {
	case *Propose:
		err = s.propose(m)
	case *Advise:
		err = s.advise(m)
	case *Draft:
		err = s.draft(m)
	case *Revise:
		err = s.revise(m)
	case *CastVote:
		err = s.vote(m)
	case *Comment:
		err = s.comment(m)
	case *OpenReview:
		err = s.openReview(m)
	case *Object:
		err = s.object(m)
	case *RequestReview:
		err = s.requestReview(m)
	case *AssignPanel:
		err = s.assignPanel(m)
	case *Declare:
		err = s.declare(m)
	case *Act:
		err = s.emergencyAct(m)
	case *VerifyEmergency:
		err = s.verifyEmergency(m)
	case *PetitionMsg:
		err = s.petitionAct(m)
	case *Appoint:
		err = s.appoint(m)
	case *SetEntry:
		err = s.setEntryByController(m)
	case *Report:
		err = s.report(m)
	case *CreateGroup:
		err = s.createGroup(m)
	case *Agenda:
		err = s.agenda(m)
	case *SendOutcome:
		err = s.sendOutcome(m)
	case *Withdraw:
		err = s.withdraw(m)
	case *Cancel:
		err = s.cancel(m)
	case *SetMembers:
		err = s.setMembers(m)
	default:
		return fmt.Errorf("%w %T", ledger.ErrUnknownType, msg)
	}
	if err != nil {
		return fmt.Errorf("gov: %w", err)
	}
	return nil
}

func (s *machine) propose(m *Propose) error {
	if _, err := s.actAs(m.As, Direct); err != nil {
		return err
	}
	subject := "bylaws"
	if m.Resource != "bylaws" {
		if _, err := s.resource(m.Resource); err != nil {
			return err
		}
		subject = "resource " + m.Resource
	}
	id, err := s.record(&m.Doc, DocProposal, m.As, subject, 0)
	if err != nil {
		return err
	}
	s.ctx.Emit("proposal", ledger.Attr{Key: "document", Value: id}, ledger.Attr{Key: "by", Value: m.As})
	return nil
}

func (s *machine) advise(m *Advise) error {
	if _, err := s.actAs(m.As, Indirect); err != nil {
		return err
	}
	var outcomeOf *Group
	switch {
	case m.About == aboutEmergency: // a consultation; the emergency action names it
	case strings.HasPrefix(m.About, "change "):
		var n uint64
		if _, err := fmt.Sscanf(m.About, "change %d", &n); err != nil {
			return invalid("about %q: \"change N\" or a document id", m.About)
		}
		if _, err := s.change(n); err != nil {
			return err
		}
	case validDigest(m.About):
		d, err := s.document(m.About)
		if err != nil {
			return err
		}
		if d.Kind == DocOutcome {
			g, err := s.group(strings.TrimPrefix(d.Subject, "group "))
			if err != nil {
				return err
			}
			outcomeOf = g
		}
	default:
		return invalid("about %q: \"change N\" or a document id", m.About)
	}
	id, err := s.record(&m.Doc, DocAdvice, m.As, m.About, 0)
	if err != nil {
		return err
	}
	if outcomeOf != nil {
		reviewed := false
		for i := range outcomeOf.Outcomes {
			o := &outcomeOf.Outcomes[i]
			if o.Document == m.About && o.To == m.As {
				o.Advice, reviewed = id, true
			}
		}
		if !reviewed {
			// Advice of a community the outcome was not sent to is
			// advice, not the advisory review.
			s.ctx.Emit("advice", ledger.Attr{Key: "document", Value: id}, ledger.Attr{Key: "by", Value: m.As})
			return nil
		}
		outcomeOf.Timeline = s.appendStep(outcomeOf.Timeline, s.step("outcome reviewed", m.As, id, ""))
		if err := s.put(groupKey(outcomeOf.ID), outcomeOf); err != nil {
			return err
		}
	}
	s.ctx.Emit("advice", ledger.Attr{Key: "document", Value: id}, ledger.Attr{Key: "by", Value: m.As})
	return nil
}

// touchesBylaws reports whether actions change the Bylaws or the bodies,
// which needs a supermajority.
func touchesBylaws(acts []ledger.Action) bool {
	for _, a := range acts {
		if a.Target == Name && (a.Type == "set_bylaws" || a.Type == "set_body") {
			return true
		}
	}
	return false
}

func (s *machine) checkDocs(ids []string, kind string) error {
	for _, id := range ids {
		d, err := s.document(id)
		if err != nil {
			return err
		}
		if d.Kind != kind {
			return invalid("document %s is a %s, not a %s", id, d.Kind, kind)
		}
	}
	return nil
}

func (s *machine) draft(m *Draft) error {
	bl, _ := s.bylaws()
	_, seat, st, err := s.signingDirector()
	if err != nil {
		return err
	}
	if err := s.checkDocs(m.Proposals, DocProposal); err != nil {
		return err
	}
	if err := s.checkDocs(m.Advice, DocAdvice); err != nil {
		return err
	}
	if err := s.ctx.CheckActions(m.Actions); err != nil {
		return fmt.Errorf("%w: %v", ledger.ErrInvalid, err)
	}
	if m.Confirms != 0 {
		e, err := s.emergency(m.Confirms)
		if err != nil {
			return err
		}
		if e.Status == EmergencyConfirmed {
			return fmt.Errorf("%w: emergency %d is already confirmed (by change %d)", ledger.ErrConflict, e.ID, e.ConfirmedBy)
		}
	}
	id, err := s.next(kindChange)
	if err != nil {
		return err
	}
	by := directorName(seat, st)
	doc, err := s.record(&m.Doc, DocProposed, by, fmt.Sprintf("change %d", id), 1)
	if err != nil {
		return err
	}
	c := &Change{ID: id, Title: m.Doc.Title, Document: doc, Proposals: m.Proposals, Advice: m.Advice, Actions: m.Actions,
		Confirms: m.Confirms, Supermajority: touchesBylaws(m.Actions), Status: StatusVoting, Round: 1, Drafter: st.Director.Key}
	if err := s.reschedule(kindChange, id, &c.Deadline, s.after(bl.VotingPeriod)); err != nil {
		return err
	}
	note := fmt.Sprintf("%d actions; the Board votes until %s", len(m.Actions), fmtTime(c.Deadline))
	if c.Supermajority {
		note += "; it touches the Bylaws, so it needs a supermajority"
	}
	c.Timeline = []Step{s.step("drafted", by, doc, note)}
	return s.saveChange(c, true)
}

func (s *machine) revise(m *Revise) error {
	bl, _ := s.bylaws()
	c, err := s.change(m.Change)
	if err != nil {
		return err
	}
	if c.Status != StatusReconsideration {
		return fmt.Errorf("%w: change %d is %s; only a change returned for reconsideration is revised; draft a new change instead (agora gov draft)", ledger.ErrInvalid, c.ID, c.Status)
	}
	_, seat, st, err := s.signingDirector()
	if err != nil {
		return err
	}
	if err := s.ctx.CheckActions(m.Actions); err != nil {
		return fmt.Errorf("%w: %v", ledger.ErrInvalid, err)
	}
	by := directorName(seat, st)
	doc, err := s.record(&m.Doc, DocProposed, by, fmt.Sprintf("change %d", c.ID), uint64(c.Round)+1)
	if err != nil {
		return err
	}
	c.Title, c.Document, c.Actions = m.Doc.Title, doc, m.Actions
	c.Supermajority = touchesBylaws(m.Actions)
	c.Round++
	c.Votes, c.Objections, c.Status, c.Drafter = nil, nil, StatusVoting, st.Director.Key
	if err := s.reschedule(kindChange, c.ID, &c.Deadline, s.after(bl.VotingPeriod)); err != nil {
		return err
	}
	c.Timeline = s.appendStep(c.Timeline, s.step("revised", by, doc, fmt.Sprintf("round %d; the Board votes until %s", c.Round, fmtTime(c.Deadline))))
	return s.saveChange(c, true)
}

func (s *machine) vote(m *CastVote) error {
	c, err := s.change(m.Change)
	if err != nil {
		return err
	}
	if c.Status != StatusVoting {
		return fmt.Errorf("%w: change %d is %s, not in a vote (agora gov timeline %d shows where it stands)", ledger.ErrInvalid, c.ID, c.Status, c.ID)
	}
	bd, seat, st, err := s.signingDirector()
	if err != nil {
		return err
	}
	if !st.Voting {
		return fmt.Errorf("%w: seat %d (%s) is a non-voting seat: its director may comment but not vote", ledger.ErrUnauthorized, seat, st.Body)
	}
	for _, v := range counted(bd, c.Votes) {
		if v.Seat == seat {
			return fmt.Errorf("%w: seat %d has already voted %s on change %d in round %d; a vote is final", ledger.ErrConflict, seat, v.Choice, c.ID, c.Round)
		}
	}
	// A vote of the seat's unseated director gives way to its new one's.
	c.Votes = slices.DeleteFunc(c.Votes, func(v Vote) bool { return v.Seat == seat })
	c.Votes = append(c.Votes, Vote{Seat: seat, Director: st.Director.Name, Choice: m.Choice, Time: s.now(), Key: st.Director.Key})
	c.Timeline = s.appendStep(c.Timeline, s.step("vote "+m.Choice, directorName(seat, st), "", ""))
	if len(counted(bd, c.Votes)) >= votingDirectors(bd) {
		if err := s.tally(c); err != nil {
			return err
		}
	}
	s.ctx.Emit("vote", ledger.Attr{Key: "change", Value: fmt.Sprint(c.ID)}, ledger.Attr{Key: "seat", Value: fmt.Sprint(seat)}, ledger.Attr{Key: "choice", Value: m.Choice})
	return s.saveChange(c, false)
}

// signingDirector returns the Board and the seat a signer holds as its
// director.
func (s *machine) signingDirector() (*Board, uint32, *Seat, error) {
	bd, err := s.board()
	if err != nil {
		return nil, 0, nil, err
	}
	seat, st, err := s.director(bd)
	return bd, seat, st, err
}

// saveChange stores c and, with emit, an event with its status.
func (s *machine) saveChange(c *Change, emit bool) error {
	if emit {
		s.ctx.Emit("change", ledger.Attr{Key: "id", Value: fmt.Sprint(c.ID)}, ledger.Attr{Key: "status", Value: c.Status})
	}
	return s.put(numKey(kindChange, c.ID), c)
}

func votingDirectors(bd *Board) int {
	n := 0
	for _, st := range bd.Seats {
		if st.Voting && st.Director != nil {
			n++
		}
	}
	return n
}

// tally closes the Board's vote on c.
func (s *machine) tally(c *Change) error {
	bl, err := s.bylaws()
	if err != nil {
		return err
	}
	bd, err := s.board()
	if err != nil {
		return err
	}
	seated := votingDirectors(bd)
	votes := counted(bd, c.Votes)
	var yes, no, abstain int
	for _, v := range votes {
		switch v.Choice {
		case "yes":
			yes++
		case "no":
			no++
		default:
			abstain++
		}
	}
	need, needName := bl.Majority, "majority"
	if c.Supermajority {
		need, needName = bl.Supermajority, "supermajority"
	}
	count := fmt.Sprintf("%d yes, %d no, %d abstain of %d voting directors", yes, no, abstain, seated)
	if n := len(c.Votes) - len(votes); n > 0 {
		count += fmt.Sprintf(" (%d votes of unseated directors do not count)", n)
	}
	if err := s.reschedule(kindChange, c.ID, &c.Deadline, 0); err != nil {
		return err
	}
	switch {
	case seated == 0 || len(votes)*1000 < int(bl.Quorum)*seated:
		c.Status = StatusRejected
		c.Timeline = s.appendStep(c.Timeline, s.step("rejected", "board", "", fmt.Sprintf("no quorum: %s; the Bylaws need %d‰ to vote", count, bl.Quorum)))
	case yes == 0 || yes*1000 < int(need)*(yes+no):
		c.Status = StatusRejected
		c.Timeline = s.appendStep(c.Timeline, s.step("rejected", "board", "", fmt.Sprintf("%s; a %s of %d‰ is needed", count, needName, need)))
	default:
		c.Status = StatusApproved
		c.Decided = s.now()
		if err := s.reschedule(kindChange, c.ID, &c.Deadline, s.after(bl.SecretariatPeriod)); err != nil {
			return err
		}
		c.Timeline = s.appendStep(c.Timeline, s.step("approved", "board", "", fmt.Sprintf("%s (%s of %d‰); the Secretariat opens public review by %s, or it opens then", count, needName, need, fmtTime(c.Deadline))))
	}
	s.ctx.Emit("change", ledger.Attr{Key: "id", Value: fmt.Sprint(c.ID)}, ledger.Attr{Key: "status", Value: c.Status})
	return nil
}

func (s *machine) comment(m *Comment) error {
	c, err := s.change(m.Change)
	if err != nil {
		return err
	}
	if c.Status != StatusVoting && c.Status != StatusReview {
		return fmt.Errorf("%w: change %d is %s; comments are taken during the Board's vote and public review; advice about it is still taken (agora gov advise --about \"change %d\")", ledger.ErrInvalid, c.ID, c.Status, c.ID)
	}
	var by string
	if m.As == "board" {
		_, seat, st, err := s.signingDirector()
		if err != nil {
			return err
		}
		by = directorName(seat, st)
	} else if by, err = s.memberOf(m.As); err != nil {
		return err
	}
	doc, err := s.record(&m.Doc, DocComment, by, fmt.Sprintf("change %d", c.ID), 0)
	if err != nil {
		return err
	}
	c.Comments++
	c.Timeline = s.appendStep(c.Timeline, s.step("comment", by, doc, m.Doc.Title))
	return s.saveChange(c, false)
}

func (s *machine) openReview(m *OpenReview) error {
	bl, _ := s.bylaws()
	if _, err := s.actAs(bl.Secretariat); err != nil {
		return err
	}
	c, err := s.change(m.Change)
	if err != nil {
		return err
	}
	if c.Status != StatusApproved {
		return fmt.Errorf("%w: change %d is %s; public review opens on a change the Board approved (agora gov timeline %d shows its steps)", ledger.ErrInvalid, c.ID, c.Status, c.ID)
	}
	if err := s.startReview(c, bl, bl.Secretariat, ""); err != nil {
		return err
	}
	return s.saveChange(c, true)
}

// startReview opens c's public review: by the Secretariat, or by the
// ledger when the Secretariat's deadline passed (note says so).
func (s *machine) startReview(c *Change, bl *Bylaws, by, note string) error {
	c.Status = StatusReview
	c.Objections = nil
	if err := s.reschedule(kindChange, c.ID, &c.Deadline, s.after(bl.ReviewPeriod)); err != nil {
		return err
	}
	c.Timeline = s.appendStep(c.Timeline, s.step("public review opened", by, "",
		note+fmt.Sprintf("comments and objections until %s; %d communities objecting return it to the Board", fmtTime(c.Deadline), bl.Objections)))
	return nil
}

func (s *machine) object(m *Object) error {
	c, err := s.change(m.Change)
	if err != nil {
		return err
	}
	if c.Status != StatusReview {
		return fmt.Errorf("%w: change %d is %s; objections are taken during public review; a decision not yet executed can still be rejected by petition (agora gov petition reject %d)", ledger.ErrInvalid, c.ID, c.Status, c.ID)
	}
	if _, err := s.actAs(m.As, Direct, Indirect); err != nil {
		return err
	}
	if slices.Contains(c.Objections, m.As) {
		return fmt.Errorf("%w: %s has already objected to change %d; one objection per community per review (comment to add to it)", ledger.ErrConflict, m.As, c.ID)
	}
	doc, err := s.record(&m.Doc, DocReview, m.As, fmt.Sprintf("change %d", c.ID), 0)
	if err != nil {
		return err
	}
	c.Objections = append(c.Objections, m.As)
	c.Timeline = s.appendStep(c.Timeline, s.step("objection", m.As, doc, m.Doc.Title))
	return s.saveChange(c, false)
}

func (s *machine) requestReview(m *RequestReview) error {
	bl, _ := s.bylaws()
	c, err := s.change(m.Change)
	if err != nil {
		return err
	}
	switch c.Status {
	case StatusApproved, StatusReview, StatusRatified:
	default:
		return fmt.Errorf("%w: change %d is %s; review is of a Board decision not yet executed", ledger.ErrInvalid, c.ID, c.Status)
	}
	if closes := c.Decided + Time(bl.ReviewWindow); s.now() > closes {
		return fmt.Errorf("%w: the window for review of change %d closed at %s; the communities may still reject it by petition (agora gov petition reject %d)", ledger.ErrInvalid, c.ID, fmtTime(closes), c.ID)
	}
	b, err := s.body(m.As)
	if err != nil {
		return err
	}
	requester := m.As
	if b.Kind == External {
		if _, err := s.actAs(m.As); err != nil {
			return err
		}
	} else if requester, err = s.memberOf(m.As); err != nil {
		return err
	}
	if n := occurrences(c.Requesters, requester); n >= int(bl.StaysPerRequester) {
		return fmt.Errorf("%w: %s has requested %d reviews of change %d, as many as the Bylaws allow one requester (stays_per_requester); follow them with agora gov show reviews", ledger.ErrConflict, requester, n, c.ID)
	}
	if len(c.Requesters) >= int(bl.StaysPerChange) {
		return fmt.Errorf("%w: change %d has had %d review requests, as many as the Bylaws allow (stays_per_change); join a pending one or petition the communities (agora gov petition reject %d)", ledger.ErrConflict, c.ID, len(c.Requesters), c.ID)
	}
	id, err := s.next(kindReview)
	if err != nil {
		return err
	}
	doc, err := s.record(&m.Doc, DocReview, requester, fmt.Sprintf("change %d", c.ID), 0)
	if err != nil {
		return err
	}
	r := &Review{ID: id, Change: c.ID, Requester: requester, Request: doc, Status: ReviewRequested}
	if err := s.reschedule(kindReview, id, &r.Deadline, s.after(bl.PanelPeriod)); err != nil {
		return err
	}
	r.Timeline = []Step{s.step("requested", requester, doc, fmt.Sprintf(
		"execution of the change stays until the panel declares; undeclared at %s, the review lapses and the decision stands", fmtTime(r.Deadline)))}
	c.Reviews = append(c.Reviews, id)
	c.Requesters = append(c.Requesters, requester)
	c.Timeline = s.appendStep(c.Timeline, s.step(fmt.Sprintf("independent review %d requested", id), requester, doc, "execution stays while it is pending"))
	s.ctx.Emit("review", ledger.Attr{Key: "id", Value: fmt.Sprint(id)}, ledger.Attr{Key: "change", Value: fmt.Sprint(c.ID)})
	if err := s.put(numKey(kindReview, id), r); err != nil {
		return err
	}
	return s.saveChange(c, false)
}

func (s *machine) assignPanel(m *AssignPanel) error {
	bl, _ := s.bylaws()
	if _, err := s.actAs(bl.Secretariat); err != nil {
		return err
	}
	r, err := s.review(m.Review)
	if err != nil {
		return err
	}
	if r.Status != ReviewRequested {
		return fmt.Errorf("%w: review %d is %s; a panel is assigned to a requested review (agora gov show review %d)", ledger.ErrInvalid, r.ID, r.Status, r.ID)
	}
	r.Panel, r.Threshold, r.Status = m.Panel, m.Threshold, ReviewPanel
	names := make([]string, len(m.Panel))
	for i, p := range m.Panel {
		names[i] = p.Name
	}
	r.Timeline = s.appendStep(r.Timeline, s.step("panel assigned", bl.Secretariat, "",
		fmt.Sprintf("%s; %d of them declare", strings.Join(names, ", "), m.Threshold)))
	return s.put(numKey(kindReview, r.ID), r)
}

func (s *machine) declare(m *Declare) error {
	r, err := s.review(m.Review)
	if err != nil {
		return err
	}
	if r.Status != ReviewPanel {
		return fmt.Errorf("%w: review %d is %s; only an assigned panel declares (agora gov show review %d)", ledger.ErrInvalid, r.ID, r.Status, r.ID)
	}
	n := 0
	for _, p := range r.Panel {
		if s.ctx.Signed(*p.Key) {
			n++
		}
	}
	if n < int(r.Threshold) {
		return fmt.Errorf("%w: review %d's panel declares with %d of its %d panelists; the signers are %d of them", ledger.ErrUnauthorized, r.ID, r.Threshold, len(r.Panel), n)
	}
	c, err := s.change(r.Change)
	if err != nil {
		return err
	}
	doc, err := s.record(&m.Doc, DocReview, fmt.Sprintf("panel of review %d", r.ID), fmt.Sprintf("change %d", c.ID), 0)
	if err != nil {
		return err
	}
	r.Declaration = doc
	if err := s.reschedule(kindReview, r.ID, &r.Deadline, 0); err != nil {
		return err
	}
	c.Reviews = slices.DeleteFunc(c.Reviews, func(id uint64) bool { return id == r.ID })
	if m.Decision == "uphold" {
		r.Status = ReviewUpheld
		c.Timeline = s.appendStep(c.Timeline, s.step(fmt.Sprintf("review %d upheld the decision", r.ID), "panel", doc, ""))
		if c.Status == StatusStayed && len(c.Reviews) == 0 {
			if err := s.execute(c); err != nil {
				return err
			}
		}
	} else {
		r.Status = ReviewReturned
		if !final(c.Status) {
			c.Status = StatusReconsideration
			if err := s.reschedule(kindChange, c.ID, &c.Deadline, 0); err != nil {
				return err
			}
		}
		c.Timeline = s.appendStep(c.Timeline, s.step(fmt.Sprintf("review %d returned it to the Board", r.ID), "panel", doc, "a director revises it"))
	}
	r.Timeline = s.appendStep(r.Timeline, s.step(r.Status, "panel", doc, ""))
	s.ctx.Emit("review", ledger.Attr{Key: "id", Value: fmt.Sprint(r.ID)}, ledger.Attr{Key: "status", Value: r.Status})
	if err := s.put(numKey(kindReview, r.ID), r); err != nil {
		return err
	}
	return s.saveChange(c, false)
}

func final(status string) bool {
	switch status {
	case StatusRejected, StatusExecuted, StatusFailed, StatusVetoed, StatusNotApproved, StatusWithdrawn, StatusCancelled:
		return true
	}
	return false
}

func (s *machine) emergencyAct(m *Act) error {
	bl, _ := s.bylaws()
	if _, err := s.actAs(bl.EmergencyOfficer); err != nil {
		return fmt.Errorf("only the emergency officer (%s) takes emergency action: %w", bl.EmergencyOfficer, err)
	}
	for _, a := range m.Actions {
		if name := a.Name(); !slices.Contains(bl.EmergencyScope, name) || contains(outOfScope, name) {
			return fmt.Errorf("%w: %s is outside the emergency scope the Bylaws set (%s); it takes the full process: agora gov draft", ledger.ErrInvalid, name, strings.Join(bl.EmergencyScope, ", "))
		}
	}
	overdue, err := s.overdue()
	if err != nil {
		return err
	}
	if len(overdue) > 0 {
		return fmt.Errorf("%w: emergency %d's external verification is overdue; no new emergency action until an External Entity or the Ombudsman records it (agora gov verify-emergency %d)", ledger.ErrInvalid, overdue[0], overdue[0])
	}
	adv, err := s.body(m.Consulted)
	if err != nil {
		return err
	}
	if adv.Kind != Indirect {
		return fmt.Errorf("%w: %s is a %s body; the consultation is of an advisory (resource-indirect) community", ledger.ErrInvalid, adv.ID, adv.Kind)
	}
	id, err := s.next(kindEmergency)
	if err != nil {
		return err
	}
	subject := fmt.Sprintf("emergency %d", id)
	minutes, err := s.record(&m.Minutes, DocMinutes, bl.EmergencyOfficer, subject, 0)
	if err != nil {
		return err
	}
	advice, err := s.consultation(m.Consulted, m.Advice, subject)
	if err != nil {
		return err
	}
	changes, err := s.ctx.Enact(m.Actions)
	if err != nil {
		return err // nothing took effect; the transaction records why
	}
	if changes, err = s.stamp(changes, 0, id, bl.EmergencyOfficer); err != nil {
		return err
	}
	over, err := s.layers(changes)
	if err != nil {
		return err
	}
	e := &Emergency{ID: id, Title: m.Title, Officer: bl.EmergencyOfficer, Actions: m.Actions, Changes: changes, Over: over,
		Minutes: minutes, Consulted: m.Consulted, Advice: advice, Status: EmergencyInEffect}
	if err := s.reschedule(kindEmergency, id, &e.Deadline, s.after(bl.EmergencyPeriod)); err != nil {
		return err
	}
	if err := s.reschedule(kindVerify, id, &e.VerifyBy, s.after(bl.VerificationPeriod)); err != nil {
		return err
	}
	s.kv.Set(activeKey(id), nil)
	e.Timeline = []Step{s.step("in effect", bl.EmergencyOfficer, minutes,
		fmt.Sprintf("consulted %s; lapses at %s unless a ratified change confirms it; external verification due by %s", m.Consulted, fmtTime(e.Deadline), fmtTime(e.VerifyBy)))}
	s.ctx.Emit("emergency", ledger.Attr{Key: "id", Value: fmt.Sprint(id)}, ledger.Attr{Key: "status", Value: e.Status})
	return s.put(numKey(kindEmergency, id), e)
}

func (s *machine) verifyEmergency(m *VerifyEmergency) error {
	e, err := s.emergency(m.Emergency)
	if err != nil {
		return err
	}
	if _, err := s.actAs(m.As, External, Ombudsman); err != nil {
		return err
	}
	if e.Verification != "" {
		return fmt.Errorf("%w: emergency %d was verified by %s; its report is %s (agora gov show document)", ledger.ErrConflict, e.ID, e.Verifier, e.Verification)
	}
	doc, err := s.record(&m.Report, DocReport, m.As, fmt.Sprintf("emergency %d", e.ID), 0)
	if err != nil {
		return err
	}
	e.Verification, e.Verifier = doc, m.As
	if err := s.reschedule(kindVerify, e.ID, &e.VerifyBy, 0); err != nil {
		return err
	}
	s.kv.Delete(overdueKey(e.ID))
	e.Timeline = s.appendStep(e.Timeline, s.step("externally verified", m.As, doc, m.Report.Title))
	return s.put(numKey(kindEmergency, e.ID), e)
}

func (s *machine) petitionAct(m *PetitionMsg) error {
	bl, _ := s.bylaws()
	if _, err := s.actAs(m.As, Direct, Indirect); err != nil {
		return err
	}
	var p *Petition
	if m.Petition == 0 {
		var against *Member
		if m.Power == PowerRemove {
			bd, err := s.board()
			if err != nil {
				return err
			}
			if m.Target > uint64(len(bd.Seats)) || bd.Seats[m.Target-1].Director == nil || !bd.Seats[m.Target-1].Director.Key.Equal(*m.Director) {
				return fmt.Errorf("%w: the director named does not hold seat %d; a remove petition names the seat's director (agora gov show board)", ledger.ErrInvalid, m.Target)
			}
			d := *bd.Seats[m.Target-1].Director
			against = &d
		}
		id, err := s.next(kindPetition)
		if err != nil {
			return err
		}
		need := map[string]uint32{PowerReject: bl.Reject, PowerRemove: bl.Remove, PowerRecall: bl.Recall, PowerApprove: bl.Approve}[m.Power]
		p = &Petition{ID: id, Power: m.Power, Target: m.Target, Director: against, Needed: need, Status: PetitionOpen}
		if err := s.checkTarget(p); err != nil {
			return err
		}
		if err := s.reschedule(kindPetition, id, &p.Deadline, s.after(bl.PetitionWindow)); err != nil {
			return err
		}
	} else {
		var err error
		if p, err = s.petition(m.Petition); err != nil {
			return err
		}
		if p.Status != PetitionOpen {
			return fmt.Errorf("%w: petition %d is %s; open a new one to try again (agora gov petition)", ledger.ErrInvalid, p.ID, p.Status)
		}
		if s.now() >= p.Deadline {
			return fmt.Errorf("%w: petition %d's window closed at %s; open a new one to try again (agora gov petition)", ledger.ErrInvalid, p.ID, fmtTime(p.Deadline))
		}
		if slices.Contains(p.Supporters, m.As) {
			return fmt.Errorf("%w: %s already supports petition %d; other communities carry it (agora gov show petition %d)", ledger.ErrConflict, m.As, p.ID, p.ID)
		}
		if err := s.checkTarget(p); err != nil {
			return err
		}
	}
	doc, err := s.record(&m.Doc, DocReview, m.As, fmt.Sprintf("petition %d", p.ID), 0)
	if err != nil {
		return err
	}
	p.Supporters = append(p.Supporters, m.As)
	p.Timeline = s.appendStep(p.Timeline, s.step("supported", m.As, doc, fmt.Sprintf("%d of %d communities needed by %s", len(p.Supporters), p.Needed, fmtTime(p.Deadline))))
	if len(p.Supporters) >= int(p.Needed) {
		if err := s.reschedule(kindPetition, p.ID, &p.Deadline, 0); err != nil {
			return err
		}
		if err := s.carry(p); err != nil {
			return err
		}
	}
	s.ctx.Emit("petition", ledger.Attr{Key: "id", Value: fmt.Sprint(p.ID)}, ledger.Attr{Key: "status", Value: p.Status})
	return s.put(numKey(kindPetition, p.ID), p)
}

// checkTarget checks that a petition's target can still be acted on.
func (s *machine) checkTarget(p *Petition) error {
	switch p.Power {
	case PowerReject:
		c, err := s.change(p.Target)
		if err != nil {
			return err
		}
		if final(c.Status) || c.Status == StatusVoting || c.Status == StatusReconsideration {
			return fmt.Errorf("%w: change %d is %s; the communities reject a Board decision not yet executed", ledger.ErrInvalid, c.ID, c.Status)
		}
	case PowerApprove:
		c, err := s.change(p.Target)
		if err != nil {
			return err
		}
		if c.Status != StatusApproval {
			return fmt.Errorf("%w: change %d is %s; the communities approve a fundamental change awaiting their approval after public review", ledger.ErrInvalid, c.ID, c.Status)
		}
	case PowerRemove:
		bd, err := s.board()
		if err != nil {
			return err
		}
		if seatOf(bd, *p.Director.Key) == 0 {
			return fmt.Errorf("%w: %s, whom petition %d would remove, no longer sits on the Board; the petition is moot", ledger.ErrInvalid, p.Director.Name, p.ID)
		}
	}
	return nil
}

// carry gives a petition its effect.
func (s *machine) carry(p *Petition) error {
	p.Status = PetitionCarried
	switch p.Power {
	case PowerReject:
		c, err := s.change(p.Target)
		if err != nil {
			return err
		}
		c.Status = StatusVetoed
		if err := s.reschedule(kindChange, c.ID, &c.Deadline, 0); err != nil {
			return err
		}
		c.Timeline = s.appendStep(c.Timeline, s.step("vetoed", "the communities", "", fmt.Sprintf("petition %d carried by %s", p.ID, strings.Join(p.Supporters, ", "))))
		if err := s.put(numKey(kindChange, c.ID), c); err != nil {
			return err
		}
	case PowerApprove:
		c, err := s.change(p.Target)
		if err != nil {
			return err
		}
		c.Timeline = s.appendStep(c.Timeline, s.step("approval carried", "the communities", "", fmt.Sprintf("petition %d carried by %s", p.ID, strings.Join(p.Supporters, ", "))))
		if err := s.ratify(c); err != nil {
			return err
		}
		if err := s.put(numKey(kindChange, c.ID), c); err != nil {
			return err
		}
	case PowerRemove, PowerRecall:
		bd, err := s.board()
		if err != nil {
			return err
		}
		why := fmt.Sprintf("recalled by petition %d of %s", p.ID, strings.Join(p.Supporters, ", "))
		for i := range bd.Seats {
			if bd.Seats[i].Director == nil {
				continue
			}
			if p.Power == PowerRemove {
				if !bd.Seats[i].Director.Key.Equal(*p.Director.Key) {
					continue
				}
				why = fmt.Sprintf("removed by petition %d of %s", p.ID, strings.Join(p.Supporters, ", "))
			}
			if err := s.unseat(bd, i+1, why); err != nil {
				return err
			}
		}
		if err := s.put(boardKey, bd); err != nil {
			return err
		}
	}
	p.Timeline = s.appendStep(p.Timeline, s.step("carried", "the communities", "", strings.Join(p.Supporters, ", ")))
	return nil
}

func (s *machine) appoint(m *Appoint) error {
	if _, err := s.actAs(m.As, Direct, Indirect); err != nil {
		return err
	}
	bd, err := s.board()
	if err != nil {
		return err
	}
	if int(m.Seat) > len(bd.Seats) {
		return fmt.Errorf("%w: the Board has %d seats (agora gov show board)", ledger.ErrNotFound, len(bd.Seats))
	}
	st := &bd.Seats[m.Seat-1]
	if st.Body != m.As {
		return fmt.Errorf("%w: seat %d belongs to %s, which appoints its director (agora gov show board)", ledger.ErrUnauthorized, m.Seat, st.Body)
	}
	if st.Director != nil {
		return fmt.Errorf("%w: seat %d has a director (%s); the communities may remove one by petition", ledger.ErrConflict, m.Seat, st.Director.Name)
	}
	for i, o := range bd.Seats {
		if o.Director != nil && o.Director.Key.Equal(*m.Director.Key) {
			return fmt.Errorf("%w: %s already holds seat %d; a director holds one seat, so appoint someone else", ledger.ErrConflict, m.Director.Name, i+1)
		}
	}
	d := m.Director
	st.Director = &d
	if st.Tenure, err = s.seat(m.Seat, st); err != nil {
		return err
	}
	s.ctx.Emit("appointed", ledger.Attr{Key: "seat", Value: fmt.Sprint(m.Seat)}, ledger.Attr{Key: "director", Value: d.Name})
	return s.put(boardKey, bd)
}

func (s *machine) setEntryByController(m *SetEntry) error {
	r, err := s.resource(m.Resource)
	if err != nil {
		return err
	}
	if _, err := s.actAs(r.Controller); err != nil {
		return fmt.Errorf("resource %s is controlled by %s: %w", r.ID, r.Controller, err)
	}
	return s.setEntry(m, r.Controller)
}

func (s *machine) setEntry(m *SetEntry, by string) error {
	k := entryKey(m.Resource, m.Key)
	if m.Delete {
		found, err := s.kv.GetValue(k, &Entry{})
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%w: resource %s has no entry %q", ledger.ErrNotFound, m.Resource, m.Key)
		}
		s.kv.Delete(k)
		s.ctx.Emit("entry_deleted", ledger.Attr{Key: "resource", Value: m.Resource}, ledger.Attr{Key: "key", Value: m.Key})
		return nil
	}
	s.ctx.Emit("entry_set", ledger.Attr{Key: "resource", Value: m.Resource}, ledger.Attr{Key: "key", Value: m.Key})
	return s.put(k, &Entry{Key: m.Key, Value: m.Value, By: by, Height: s.ctx.Block.Height, Time: s.now()})
}

func (s *machine) report(m *Report) error {
	bl, _ := s.bylaws()
	if m.As != bl.Secretariat && m.As != bl.Ombudsman {
		return fmt.Errorf("%w: reports and minutes are recorded by the Secretariat (%s) or the Ombudsman (%s)", ledger.ErrUnauthorized, bl.Secretariat, bl.Ombudsman)
	}
	if _, err := s.actAs(m.As); err != nil {
		return err
	}
	id, err := s.record(&m.Doc, m.Kind, m.As, m.Subject, 0)
	if err != nil {
		return err
	}
	s.ctx.Emit(m.Kind, ledger.Attr{Key: "document", Value: id})
	return nil
}

func (s *machine) createGroup(m *CreateGroup) error {
	bl, _ := s.bylaws()
	if _, err := s.actAs(bl.Secretariat); err != nil {
		return fmt.Errorf("working groups are established by the Secretariat: %w", err)
	}
	found, err := s.kv.GetValue(groupKey(m.ID), &Group{})
	if err != nil {
		return err
	}
	if found {
		return fmt.Errorf("%w: working group %s exists; choose another id (agora gov show groups)", ledger.ErrConflict, m.ID)
	}
	g := &Group{ID: m.ID, Theme: m.Theme, Director: m.Director, Members: m.Members,
		Timeline: []Step{s.step("established", bl.Secretariat, "", "director "+m.Director.Name)}}
	return s.put(groupKey(m.ID), g)
}

func (s *machine) groupDirector(id string) (*Group, error) {
	g, err := s.group(id)
	if err != nil {
		return nil, err
	}
	if !s.ctx.Signed(*g.Director.Key) {
		return nil, fmt.Errorf("%w: only working group %s's director (%s) does this", ledger.ErrUnauthorized, g.ID, g.Director.Name)
	}
	return g, nil
}

func (s *machine) agenda(m *Agenda) error {
	g, err := s.groupDirector(m.Group)
	if err != nil {
		return err
	}
	if m.Item == 0 {
		if len(g.Agenda) >= MaxAgenda {
			return fmt.Errorf("%w: working group %s has %d agenda items", ledger.ErrInvalid, g.ID, MaxAgenda)
		}
		g.Agenda = append(g.Agenda, Item{Title: m.Title, Status: m.Status, Progress: m.Progress, Schedule: m.Schedule, Review: m.Review, Updated: s.now()})
		g.Timeline = s.appendStep(g.Timeline, s.step(fmt.Sprintf("item %d added", len(g.Agenda)), g.Director.Name, "", m.Title))
	} else {
		if int(m.Item) > len(g.Agenda) {
			return fmt.Errorf("%w: working group %s has %d agenda items", ledger.ErrNotFound, g.ID, len(g.Agenda))
		}
		it := &g.Agenda[m.Item-1]
		if m.Title != "" {
			it.Title = m.Title
		}
		it.Status, it.Updated = m.Status, s.now()
		if m.Progress != "" {
			it.Progress = m.Progress
		}
		if m.Schedule != "" {
			it.Schedule = m.Schedule
		}
		if m.Review != "" {
			it.Review = m.Review
		}
		g.Timeline = s.appendStep(g.Timeline, s.step(fmt.Sprintf("item %d %s", m.Item, m.Status), g.Director.Name, "", m.Progress))
	}
	return s.put(groupKey(g.ID), g)
}

func (s *machine) sendOutcome(m *SendOutcome) error {
	g, err := s.groupDirector(m.Group)
	if err != nil {
		return err
	}
	to, err := s.body(m.To)
	if err != nil {
		return err
	}
	if to.Kind != Indirect {
		return fmt.Errorf("%w: %s is a %s body; outcomes go to an advisory (resource-indirect) community", ledger.ErrInvalid, to.ID, to.Kind)
	}
	doc, err := s.record(&m.Doc, DocOutcome, g.Director.Name, "group "+g.ID, 0)
	if err != nil {
		return err
	}
	g.Outcomes = append(g.Outcomes, Outcome{Document: doc, To: m.To})
	g.Timeline = s.appendStep(g.Timeline, s.step("outcome sent to advisory review", g.Director.Name, doc, "to "+m.To))
	return s.put(groupKey(g.ID), g)
}

// appendStep appends to a timeline, keeping at most MaxTimeline steps
// (the first and the latest ones; the log keeps every transaction).
func (s *machine) appendStep(tl []Step, st Step) []Step {
	tl = append(tl, st)
	if len(tl) > MaxTimeline {
		tl = append(tl[:1], tl[len(tl)-MaxTimeline+1:]...)
	}
	return tl
}

func (s *machine) withdraw(m *Withdraw) error {
	c, err := s.change(m.Change)
	if err != nil {
		return err
	}
	switch c.Status {
	case StatusVoting, StatusApproved, StatusReconsideration:
	default:
		return fmt.Errorf("%w: change %d is %s; its drafter withdraws it before public review opens, the Board cancels it later (agora gov cancel %d)", ledger.ErrInvalid, c.ID, c.Status, c.ID)
	}
	bd, err := s.board()
	if err != nil {
		return err
	}
	if c.Drafter == nil || !s.ctx.Signed(*c.Drafter) {
		return fmt.Errorf("%w: only change %d's drafter withdraws it; the Board may cancel it (agora gov cancel %d, signed by a majority of the voting directors)", ledger.ErrUnauthorized, c.ID, c.ID)
	}
	by := "its drafter"
	if n := seatOf(bd, *c.Drafter); n > 0 {
		by = directorName(uint32(n), &bd.Seats[n-1])
	}
	doc, err := s.record(&m.Doc, DocComment, by, fmt.Sprintf("change %d", c.ID), 0)
	if err != nil {
		return err
	}
	c.Status = StatusWithdrawn
	if err := s.reschedule(kindChange, c.ID, &c.Deadline, 0); err != nil {
		return err
	}
	c.Timeline = s.appendStep(c.Timeline, s.step("withdrawn", by, doc, m.Doc.Title))
	return s.saveChange(c, true)
}

func (s *machine) cancel(m *Cancel) error {
	bl, _ := s.bylaws()
	c, err := s.change(m.Change)
	if err != nil {
		return err
	}
	if final(c.Status) {
		return fmt.Errorf("%w: change %d is %s, which is final (agora gov timeline %d)", ledger.ErrInvalid, c.ID, c.Status, c.ID)
	}
	bd, err := s.board()
	if err != nil {
		return err
	}
	var names []string
	for i, st := range bd.Seats {
		if st.Voting && st.Director != nil && s.ctx.Signed(*st.Director.Key) {
			names = append(names, directorName(uint32(i+1), &bd.Seats[i]))
		}
	}
	seated := votingDirectors(bd)
	if len(names) == 0 || len(names)*1000 < int(bl.Majority)*seated {
		return fmt.Errorf("%w: the Board cancels a change when a majority (%d‰) of its %d seated voting directors sign; %d signed (sign with --key for each)", ledger.ErrUnauthorized, bl.Majority, seated, len(names))
	}
	doc, err := s.record(&m.Doc, DocMinutes, "board", fmt.Sprintf("change %d", c.ID), 0)
	if err != nil {
		return err
	}
	c.Status = StatusCancelled
	if err := s.reschedule(kindChange, c.ID, &c.Deadline, 0); err != nil {
		return err
	}
	c.Timeline = s.appendStep(c.Timeline, s.step("cancelled", "board", doc, strings.Join(names, ", ")))
	return s.saveChange(c, true)
}

// overdue returns the emergency actions whose external verification is
// overdue.
func (s *machine) overdue() ([]uint64, error) {
	var ids []uint64
	err := s.kv.Iterate([]byte(overduePrefix), func(k, _ []byte) (bool, error) {
		id, err := strconv.ParseUint(string(k), 16, 64)
		ids = append(ids, id)
		return err == nil, err
	})
	return ids, err
}

func occurrences(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}
