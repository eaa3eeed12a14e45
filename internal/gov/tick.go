package gov

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// maxDuePerBlock bounds the deadlines one block settles; the rest wait
// for the next block.
const maxDuePerBlock = 64

// Tick implements ledger.Ticker: it settles every deadline the block's
// time has reached, oldest first.
func (Module) Tick(ctx *ledger.Context) error {
	s := newMachine(ctx)
	type dueItem struct {
		key  []byte
		at   Time
		kind string
		id   uint64
	}
	var items []dueItem
	now := s.now()
	err := s.kv.Iterate([]byte("due/"), func(k, _ []byte) (bool, error) {
		d, err := parseDue(k)
		if err != nil {
			return false, err
		}
		if d.Time > now || len(items) == maxDuePerBlock {
			return false, nil
		}
		items = append(items, dueItem{key: append([]byte("due/"), k...), at: d.Time, kind: d.Kind, id: d.ID})
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, it := range items {
		s.kv.Delete(it.key)
		var err error
		switch it.kind {
		case kindChange:
			err = s.changeDue(it.id, it.at)
		case kindEmergency:
			err = s.emergencyDue(it.id, it.at)
		case kindPetition:
			err = s.petitionDue(it.id, it.at)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// changeDue settles a change whose deadline at has come, unless the
// deadline is stale (the change moved on since).
func (s *machine) changeDue(id uint64, at Time) error {
	c, err := s.change(id)
	if err != nil {
		return err
	}
	if c.Deadline != at {
		return nil
	}
	switch c.Status {
	case StatusVoting:
		if err := s.tally(c); err != nil {
			return err
		}
	case StatusReview:
		if err := s.endReview(c); err != nil {
			return err
		}
	case StatusRatified:
		if len(c.Reviews) > 0 {
			c.Status, c.Deadline = StatusStayed, 0
			c.Timeline = s.appendStep(c.Timeline, s.step("stayed", "", "", fmt.Sprintf("independent review %d is pending", c.Reviews[0])))
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
		c.Status, c.Deadline = StatusReconsideration, 0
		c.Timeline = s.appendStep(c.Timeline, s.step("returned for reconsideration", "the Community", "",
			fmt.Sprintf("objections from %s (%d; the Bylaws return a change at %d)", strings.Join(c.Objections, ", "), len(c.Objections), bl.Objections)))
		s.ctx.Emit("change", ledger.Attr{Key: "id", Value: fmt.Sprint(c.ID)}, ledger.Attr{Key: "status", Value: c.Status})
		return nil
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
	if err := s.put(docKey(doc), &d); err != nil {
		return err
	}
	c.Ratified = doc
	c.Status = StatusRatified
	c.Deadline = s.after(bl.ExecutionDelay)
	note := fmt.Sprintf("objections: %d (the Bylaws return a change at %d); executes at %s", len(c.Objections), bl.Objections, fmtTime(c.Deadline))
	c.Timeline = s.appendStep(c.Timeline, s.step("ratified", "the Community", doc, note))
	s.due(c.Deadline, kindChange, c.ID)
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
	_, err := s.ctx.Enact(c.Actions)
	if err != nil {
		if errorsIsStorage(err) {
			return err
		}
		c.Status, c.Deadline, c.Failure = StatusFailed, 0, err.Error()
		c.Timeline = s.appendStep(c.Timeline, s.step("execution failed", "the ledger", "", err.Error()))
		s.ctx.Emit("change", ledger.Attr{Key: "id", Value: fmt.Sprint(c.ID)}, ledger.Attr{Key: "status", Value: c.Status})
		return nil
	}
	c.Status, c.Deadline = StatusExecuted, 0
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
func (s *machine) emergencyDue(id uint64, at Time) error {
	e, err := s.emergency(id)
	if err != nil {
		return err
	}
	if e.Status != EmergencyInEffect || e.Deadline != at {
		return nil
	}
	kept, err := s.ctx.Revert(e.Changes)
	if err != nil {
		return err
	}
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

func (s *machine) petitionDue(id uint64, at Time) error {
	p, err := s.petition(id)
	if err != nil {
		return err
	}
	if p.Status != PetitionOpen || p.Deadline != at {
		return nil
	}
	p.Status = PetitionExpired
	p.Timeline = s.appendStep(p.Timeline, s.step("expired", "", "", fmt.Sprintf("%d of %d communities", len(p.Supporters), p.Needed)))
	return s.put(numKey(kindPetition, id), p)
}

// parseDue parses a deadline key, without its "due/" prefix.
func parseDue(k []byte) (Deadline, error) {
	bad := fmt.Errorf("%w: gov: bad deadline key %q", ledger.ErrStorage, k)
	if len(k) < 8+3+16 || k[8] != '/' {
		return Deadline{}, bad
	}
	kind, num, ok := strings.Cut(string(k[9:]), "/")
	id, err := strconv.ParseUint(num, 16, 64)
	if !ok || err != nil {
		return Deadline{}, bad
	}
	return Deadline{Time: Time(binary.BigEndian.Uint64(k[:8])), Kind: kind, ID: id}, nil
}

func fmtTime(t Time) string {
	return time.UnixMilli(int64(t)).UTC().Format(time.RFC3339Nano)
}
