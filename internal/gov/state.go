package gov

import (
	"fmt"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
)

// machine is one transaction's (or tick's) view of the module's state.
type machine struct {
	ctx *ledger.Context
	kv  *ledger.KV
}

func newMachine(ctx *ledger.Context) *machine { return &machine{ctx: ctx, kv: ctx.KV} }

func (s *machine) now() Time { return Time(s.ctx.Block.Time.UnixMilli()) }

func (s *machine) step(what, by, doc, note string) Step {
	return Step{Height: s.ctx.Block.Height, Time: s.now(), What: what, By: by, Doc: doc, Note: note}
}

// State keys.
var (
	bylawsKey = []byte("bylaws")
	boardKey  = []byte("board")
)

func bodyKey(id string) []byte      { return []byte("b/" + id) }
func resourceKey(id string) []byte  { return []byte("r/" + id) }
func entryKey(res, k string) []byte { return []byte("re/" + res + "/" + k) }
func docKey(id string) []byte       { return []byte("d/" + id) }
func numKey(kind string, n uint64) []byte {
	return fmt.Appendf(nil, "%s/%016x", kind, n)
}
func groupKey(id string) []byte { return []byte("g/" + id) }

// Kinds of numbered record, and of deadline.
const (
	kindChange    = "c"
	kindEmergency = "e"
	kindReview    = "v"
	kindPetition  = "p"
	kindTenure    = "h"
	kindDocument  = "dl" // the documents in the order recorded: "dl/<n>" holds the id
	// kindVerify is the deadline of an emergency's external verification.
	kindVerify = "ev"
)

// Indexes of emergencies: in effect ("ae/<n>"), and overdue for their
// external verification ("ov/<n>").
const (
	activePrefix  = "ae/"
	overduePrefix = "ov/"
)

func (s *machine) get(key []byte, v any, what string) error {
	ok, err := s.kv.GetValue(key, v)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: no %s", ledger.ErrNotFound, what)
	}
	return nil
}

func (s *machine) bylaws() (*Bylaws, error) {
	var b Bylaws
	if err := s.get(bylawsKey, &b, "bylaws (the genesis has no governance section)"); err != nil {
		return nil, err
	}
	return &b, nil
}

func (s *machine) board() (*Board, error) {
	var b Board
	return &b, s.get(boardKey, &b, "board")
}

func (s *machine) body(id string) (*Body, error) {
	var b Body
	return &b, s.get(bodyKey(id), &b, "body "+id)
}

func (s *machine) resource(id string) (*Resource, error) {
	var r Resource
	return &r, s.get(resourceKey(id), &r, "resource "+id)
}

func (s *machine) change(id uint64) (*Change, error) {
	var c Change
	return &c, s.get(numKey(kindChange, id), &c, fmt.Sprintf("change %d", id))
}

func (s *machine) emergency(id uint64) (*Emergency, error) {
	var e Emergency
	return &e, s.get(numKey(kindEmergency, id), &e, fmt.Sprintf("emergency %d", id))
}

func (s *machine) review(id uint64) (*Review, error) {
	var r Review
	return &r, s.get(numKey(kindReview, id), &r, fmt.Sprintf("review %d", id))
}

func (s *machine) petition(id uint64) (*Petition, error) {
	var p Petition
	return &p, s.get(numKey(kindPetition, id), &p, fmt.Sprintf("petition %d", id))
}

func (s *machine) tenure(id uint64) (*Tenure, error) {
	var t Tenure
	return &t, s.get(numKey(kindTenure, id), &t, fmt.Sprintf("tenure %d", id))
}

func (s *machine) group(id string) (*Group, error) {
	var g Group
	return &g, s.get(groupKey(id), &g, "working group "+id)
}

func (s *machine) document(id string) (*Document, error) {
	var d Document
	return &d, s.get(docKey(id), &d, "document "+id)
}

func (s *machine) put(key []byte, v any) error { return s.kv.SetValue(key, v) }

// next returns the next number of a kind of record, from 1.
func (s *machine) next(kind string) (uint64, error) {
	k := []byte("n/" + kind)
	var n uint64
	if _, err := s.kv.GetValue(k, &n); err != nil {
		return 0, err
	}
	n++
	return n, s.kv.SetValue(k, n)
}

// reschedule moves the deadline *at of record kind/id to t (0: none),
// in the record and in the ledger's scheduler, where the deadline is the
// entry under the record's key (numKey), so that no stale deadline stays
// listed.
func (s *machine) reschedule(kind string, id uint64, at *Time, t Time) error {
	*at = t
	if t == 0 {
		return s.ctx.Cancel(numKey(kind, id))
	}
	return s.ctx.Schedule(time.UnixMilli(int64(t)), numKey(kind, id))
}

// putDoc stores a document's record, numbering it in the list of
// documents.
func (s *machine) putDoc(d *Document) error {
	n, err := s.next(kindDocument)
	if err != nil {
		return err
	}
	if err := s.kv.SetValue(numKey(kindDocument, n), d.ID); err != nil {
		return err
	}
	return s.put(docKey(d.ID), d)
}

func (s *machine) after(d Duration) Time { return s.now() + Time(d) }

// record stores a document carried by the transaction.
func (s *machine) record(ref *DocRef, kind, author, subject string, version uint64) (string, error) {
	id := ref.ID()
	found, err := s.kv.GetValue(docKey(id), &Document{})
	if err != nil {
		return "", err
	}
	if found {
		return "", fmt.Errorf("%w: document %s is already recorded; documents are content-addressed, so change the text", ledger.ErrConflict, id)
	}
	d := Document{ID: id, Kind: kind, Title: ref.Title, Author: author, URI: ref.URI, Inline: ref.Text != "",
		Subject: subject, Version: version, TxID: s.ctx.TxID, Height: s.ctx.Block.Height, Time: s.now()}
	return id, s.putDoc(&d)
}

// signed counts the members of b whose part the signers play: key members
// who signed, and member bodies whose own rule the signers meet.
func (s *machine) signed(b *Body, depth int) (int, error) {
	n := 0
	for _, m := range b.Members {
		if m.Key != nil {
			if s.ctx.Signed(*m.Key) {
				n++
			}
			continue
		}
		if depth >= MaxNesting {
			continue
		}
		sub, err := s.body(m.Body)
		if err != nil {
			if errorsIsNotFound(err) {
				continue
			}
			return 0, err
		}
		k, err := s.signed(sub, depth+1)
		if err != nil {
			return 0, err
		}
		if k >= int(sub.Threshold) {
			n++
		}
	}
	return n, nil
}

// actAs returns body id if the transaction's signers meet its rule and it
// is of one of kinds (any kind if none is given).
func (s *machine) actAs(id string, kinds ...string) (*Body, error) {
	b, err := s.body(id)
	if err != nil {
		return nil, err
	}
	if p := s.ctx.Principal; p != "" && p != id {
		return nil, fmt.Errorf("%w: this pending action was approved as %s, not %s", ledger.ErrUnauthorized, p, id)
	}
	if len(kinds) > 0 && !contains(kinds, b.Kind) {
		return nil, fmt.Errorf("%w: %s is a %s body; only a %s body may do this", ledger.ErrUnauthorized, id, b.Kind, strings.Join(kinds, " or "))
	}
	if len(s.ctx.Signers) == 0 {
		return nil, fmt.Errorf("%w: no signers", ledger.ErrUnauthorized)
	}
	n, err := s.signed(b, 1)
	if err != nil {
		return nil, err
	}
	if n < int(b.Threshold) {
		return nil, fmt.Errorf("%w: %s acts when %d of its %d members sign; the signers are %d of them (agora gov show body %s lists them)", ledger.ErrUnauthorized, id, b.Threshold, len(b.Members), n, id)
	}
	return b, nil
}

// memberOf returns the name under which one of the signers is a member of
// body id (directly or through member bodies).
func (s *machine) memberOf(id string) (string, error) {
	b, err := s.body(id)
	if err != nil {
		return "", err
	}
	name, err := s.findMember(b, 1)
	if err != nil {
		return "", err
	}
	if name == "" {
		return "", fmt.Errorf("%w: no signer is a member of %s (agora gov show body %s lists them)", ledger.ErrUnauthorized, id, id)
	}
	return name, nil
}

func (s *machine) findMember(b *Body, depth int) (string, error) {
	for _, m := range b.Members {
		if m.Key != nil && s.ctx.Signed(*m.Key) {
			return m.Name + " of " + b.ID, nil
		}
	}
	if depth >= MaxNesting {
		return "", nil
	}
	for _, m := range b.Members {
		if m.Body == "" {
			continue
		}
		sub, err := s.body(m.Body)
		if errorsIsNotFound(err) {
			continue
		}
		if err != nil {
			return "", err
		}
		if name, err := s.findMember(sub, depth+1); name != "" || err != nil {
			return name, err
		}
	}
	return "", nil
}

// director returns the seat (from 1) and director the signers hold.
func (s *machine) director(bd *Board) (uint32, *Seat, error) {
	for i := range bd.Seats {
		d := bd.Seats[i].Director
		if d != nil && s.ctx.Signed(*d.Key) {
			return uint32(i + 1), &bd.Seats[i], nil
		}
	}
	return 0, nil, fmt.Errorf("%w: no signer is a director on the Board (agora gov show board lists them; sign with --key DIRECTOR)", ledger.ErrUnauthorized)
}

func directorName(seat uint32, st *Seat) string {
	return fmt.Sprintf("%s (seat %d, %s)", st.Director.Name, seat, st.Body)
}
