package gov

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Due implements ledger.Scheduled: it settles the deadline of the record
// key names (numKey: its kind and number), which the ledger runs once the
// block's time has reached it. A record whose deadline moved on since is
// left as it is.
func (Module) Due(ctx *ledger.Context, key []byte) error {
	d, err := parseDue(key)
	if err != nil {
		return err
	}
	s := newMachine(ctx)
	switch d.Kind {
	case kindChange:
		return s.changeDue(d.ID)
	case kindEmergency:
		return s.emergencyDue(d.ID)
	case kindPetition:
		return s.petitionDue(d.ID)
	case kindReview:
		return s.reviewDue(d.ID)
	case kindVerify:
		return s.verificationDue(d.ID)
	}
	return fmt.Errorf("%w: gov: no deadline of kind %q", ledger.ErrInvalid, d.Kind)
}

// due reports whether deadline at is set and the block's time has
// reached it: the record's deadline is the one the scheduler ran.
func (s *machine) due(at Time) bool { return at != 0 && at <= s.now() }

// changeDue settles a change whose deadline has come, unless the
// deadline is stale (the change moved on since).
func (s *machine) changeDue(id uint64) error {
	c, err := s.change(id)
	if err != nil {
		return err
	}
	if !s.due(c.Deadline) {
		return nil
	}
	c.Deadline = 0 // the scheduler removed it
	switch c.Status {
	case StatusVoting:
		if err := s.tally(c); err != nil {
			return err
		}
	case StatusApproved:
		bl, err := s.bylaws()
		if err != nil {
			return err
		}
		if err := s.startReview(c, bl, "the ledger", fmt.Sprintf("the Secretariat (%s) did not open it by its deadline; ", bl.Secretariat)); err != nil {
			return err
		}
		s.ctx.Emit("change", ledger.Attr{Key: "id", Value: fmt.Sprint(c.ID)}, ledger.Attr{Key: "status", Value: c.Status})
	case StatusApproval:
		bl, err := s.bylaws()
		if err != nil {
			return err
		}
		c.Status = StatusNotApproved
		c.Timeline = s.appendStep(c.Timeline, s.step("not approved", "the communities", "",
			fmt.Sprintf("a fundamental change needs the approval of %d communities (petition approve %d) within the petition window", bl.Approve, c.ID)))
		s.ctx.Emit("change", ledger.Attr{Key: "id", Value: fmt.Sprint(c.ID)}, ledger.Attr{Key: "status", Value: c.Status})
	case StatusReview:
		if err := s.endReview(c); err != nil {
			return err
		}
	case StatusRatified:
		if len(c.Reviews) > 0 {
			c.Status = StatusStayed
			c.Timeline = s.appendStep(c.Timeline, s.step("stayed", "", "", fmt.Sprintf("independent review %d is pending; it lapses undeclared at its deadline", c.Reviews[0])))
		} else if err := s.execute(c); err != nil {
			return err
		}
	default:
		return nil
	}
	return s.saveChange(c, false)
}

// endReview closes public review: back to the Board if enough
// communities objected, ratified otherwise.
func (s *machine) endReview(c *Change) error {
	bl, err := s.bylaws()
	if err != nil {
		return err
	}
	if len(c.Objections) >= int(bl.Objections) {
		c.Status = StatusReconsideration
		if err := s.reschedule(kindChange, c.ID, &c.Deadline, 0); err != nil {
			return err
		}
		c.Timeline = s.appendStep(c.Timeline, s.step("returned for reconsideration", "the Community", "",
			fmt.Sprintf("objections from %s (%d; the Bylaws return a change at %d)", strings.Join(c.Objections, ", "), len(c.Objections), bl.Objections)))
		s.ctx.Emit("change", ledger.Attr{Key: "id", Value: fmt.Sprint(c.ID)}, ledger.Attr{Key: "status", Value: c.Status})
		return nil
	}
	if c.Supermajority {
		// A fundamental change: the Empowered Community approves it.
		c.Status = StatusApproval
		if err := s.reschedule(kindChange, c.ID, &c.Deadline, s.after(bl.PetitionWindow)); err != nil {
			return err
		}
		c.Timeline = s.appendStep(c.Timeline, s.step("awaiting the communities' approval", "", "",
			fmt.Sprintf("objections: %d; a fundamental change is ratified when %d communities approve it (agora gov petition approve %d) by %s", len(c.Objections), bl.Approve, c.ID, fmtTime(c.Deadline))))
		s.ctx.Emit("change", ledger.Attr{Key: "id", Value: fmt.Sprint(c.ID)}, ledger.Attr{Key: "status", Value: c.Status})
		return nil
	}
	return s.ratify(c)
}

// ratify makes the Ratified change document of c and schedules its
// execution.
func (s *machine) ratify(c *Change) error {
	bl, err := s.bylaws()
	if err != nil {
		return err
	}
	// The Ratified change document commits to exactly what was ratified.
	b, err := tx.Marshal(&ratifiedText{Change: c.ID, Round: c.Round, Title: c.Title, Document: c.Document, Actions: c.Actions})
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	doc := hex.EncodeToString(sum[:])
	d := Document{ID: doc, Kind: DocRatified, Title: c.Title, Author: "the Community", Subject: fmt.Sprintf("change %d", c.ID),
		Version: uint64(c.Round), Height: s.ctx.Block.Height, Time: s.now()}
	if err := s.putDoc(&d); err != nil {
		return err
	}
	c.Ratified = doc
	c.Status = StatusRatified
	if err := s.reschedule(kindChange, c.ID, &c.Deadline, s.after(bl.ExecutionDelay)); err != nil {
		return err
	}
	note := fmt.Sprintf("objections: %d (the Bylaws return a change at %d); executes at %s", len(c.Objections), bl.Objections, fmtTime(c.Deadline))
	c.Timeline = s.appendStep(c.Timeline, s.step("ratified", "the Community", doc, note))
	s.ctx.Emit("change", ledger.Attr{Key: "id", Value: fmt.Sprint(c.ID)}, ledger.Attr{Key: "status", Value: c.Status})
	return nil
}

// ratifiedText is what a Ratified change document's digest covers.
type ratifiedText struct {
	Change   uint64          `cbor:"1,keyasint"`
	Round    uint32          `cbor:"2,keyasint"`
	Title    string          `cbor:"3,keyasint"`
	Document string          `cbor:"4,keyasint"`
	Actions  []ledger.Action `cbor:"5,keyasint"`
}

// execute runs a ratified change's actions atomically; a failure is
// recorded with its reason and changes nothing else.
func (s *machine) execute(c *Change) error {
	if err := s.reschedule(kindChange, c.ID, &c.Deadline, 0); err != nil {
		return err
	}
	changes, err := s.ctx.Enact(c.Actions)
	if err == nil {
		_, err = s.stamp(changes, c.ID, 0, "the Community")
	}
	if err != nil {
		if errorsIsStorage(err) {
			return err
		}
		c.Status, c.Failure = StatusFailed, err.Error()
		c.Timeline = s.appendStep(c.Timeline, s.step("execution failed", "the ledger", "", err.Error()))
		s.ctx.Emit("change", ledger.Attr{Key: "id", Value: fmt.Sprint(c.ID)}, ledger.Attr{Key: "status", Value: c.Status})
		return nil
	}
	c.Status = StatusExecuted
	names := make([]string, len(c.Actions))
	for i := range c.Actions {
		names[i] = c.Actions[i].Name()
	}
	c.Timeline = s.appendStep(c.Timeline, s.step("executed", "the ledger", "", strings.Join(names, ", ")))
	s.ctx.Emit("change", ledger.Attr{Key: "id", Value: fmt.Sprint(c.ID)}, ledger.Attr{Key: "status", Value: c.Status})
	if c.Confirms != 0 {
		e, err := s.emergency(c.Confirms)
		if err != nil {
			return err
		}
		if e.Status == EmergencyInEffect {
			e.Status = EmergencyConfirmed
			if err := s.reschedule(kindEmergency, e.ID, &e.Deadline, 0); err != nil {
				return err
			}
			s.kv.Delete(activeKey(e.ID))
		}
		e.ConfirmedBy = c.ID
		e.Timeline = s.appendStep(e.Timeline, s.step("confirmed", "the Community", c.Ratified, fmt.Sprintf("by change %d", c.ID)))
		if err := s.put(numKey(kindEmergency, e.ID), e); err != nil {
			return err
		}
	}
	return nil
}

// emergencyDue lapses an emergency action nobody confirmed: its changes
// are reverted where nothing changed them since.
func (s *machine) emergencyDue(id uint64) error {
	e, err := s.emergency(id)
	if err != nil {
		return err
	}
	if e.Status != EmergencyInEffect || !s.due(e.Deadline) {
		return nil
	}
	base, err := s.baseline(e)
	if err != nil {
		return err
	}
	kept, err := s.ctx.Revert(base)
	if err != nil {
		return err
	}
	s.kv.Delete(activeKey(e.ID))
	e.Status = EmergencyLapsed
	note := "its changes are reverted"
	for _, k := range kept {
		e.Kept = append(e.Kept, string(k))
	}
	if len(kept) > 0 {
		note = fmt.Sprintf("reverted, except %s, changed since", strings.Join(e.Kept, ", "))
	}
	e.Timeline = s.appendStep(e.Timeline, s.step("lapsed", "", "", note))
	s.ctx.Emit("emergency", ledger.Attr{Key: "id", Value: fmt.Sprint(id)}, ledger.Attr{Key: "status", Value: e.Status})
	return s.put(numKey(kindEmergency, id), e)
}

// verificationDue marks an emergency action whose external verification
// is overdue: until it is recorded, the officer takes no new one.
func (s *machine) verificationDue(id uint64) error {
	e, err := s.emergency(id)
	if err != nil {
		return err
	}
	if e.Verification != "" || !s.due(e.VerifyBy) {
		return nil
	}
	e.Overdue = true
	s.kv.Set(overdueKey(id), nil)
	e.Timeline = s.appendStep(e.Timeline, s.step("external verification overdue", "", "",
		"no new emergency action until an External Entity or the Ombudsman records it (agora gov verify-emergency)"))
	s.ctx.Emit("emergency", ledger.Attr{Key: "id", Value: fmt.Sprint(id)}, ledger.Attr{Key: "status", Value: "verification-overdue"})
	return s.put(numKey(kindEmergency, id), e)
}

// reviewDue lapses an independent review its panel did not declare in
// time: the Board's decision stands, and a change it stayed executes.
func (s *machine) reviewDue(id uint64) error {
	r, err := s.review(id)
	if err != nil {
		return err
	}
	if (r.Status != ReviewRequested && r.Status != ReviewPanel) || !s.due(r.Deadline) {
		return nil
	}
	r.Status, r.Deadline = ReviewLapsed, 0
	note := "no panel was assigned"
	if len(r.Panel) > 0 {
		note = "the panel did not declare"
	}
	r.Timeline = s.appendStep(r.Timeline, s.step("lapsed", "", "", note+" by the deadline; the Board's decision stands"))
	c, err := s.change(r.Change)
	if err != nil {
		return err
	}
	c.Reviews = slices.DeleteFunc(c.Reviews, func(x uint64) bool { return x == id })
	c.Timeline = s.appendStep(c.Timeline, s.step(fmt.Sprintf("review %d lapsed", id), "", "", note+" in time; the decision stands"))
	if c.Status == StatusStayed && len(c.Reviews) == 0 {
		if err := s.execute(c); err != nil {
			return err
		}
	}
	s.ctx.Emit("review", ledger.Attr{Key: "id", Value: fmt.Sprint(id)}, ledger.Attr{Key: "status", Value: r.Status})
	if err := s.put(numKey(kindReview, id), r); err != nil {
		return err
	}
	return s.saveChange(c, false)
}

func (s *machine) petitionDue(id uint64) error {
	p, err := s.petition(id)
	if err != nil {
		return err
	}
	if p.Status != PetitionOpen || !s.due(p.Deadline) {
		return nil
	}
	p.Status, p.Deadline = PetitionExpired, 0
	p.Timeline = s.appendStep(p.Timeline, s.step("expired", "", "", fmt.Sprintf("%d of %d communities", len(p.Supporters), p.Needed)))
	return s.put(numKey(kindPetition, id), p)
}

// parseDue parses a deadline's key in the scheduler (numKey).
func parseDue(k []byte) (Deadline, error) {
	kind, num, ok := strings.Cut(string(k), "/")
	id, err := strconv.ParseUint(num, 16, 64)
	if !ok || len(num) != 16 || err != nil {
		return Deadline{}, fmt.Errorf("%w: gov: bad deadline key %q", ledger.ErrInvalid, k)
	}
	return Deadline{Kind: kind, ID: id}, nil
}

func fmtTime(t Time) string {
	return time.UnixMilli(int64(t)).UTC().Format(time.RFC3339Nano)
}
