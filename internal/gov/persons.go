package gov

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// This file holds what makes powers act on persons: the Board's history
// of tenures, votes that count only while their director holds the seat,
// and the provenance of what ratified changes and emergency actions
// write.

// seat opens a tenure for the director now in seat n (from 1) and
// returns its id.
func (s *machine) seat(n uint32, st *Seat) (uint64, error) {
	id, err := s.next(kindTenure)
	if err != nil {
		return 0, err
	}
	t := &Tenure{ID: id, Seat: n, Body: st.Body, Director: *st.Director}
	if !s.ctx.Block.Time.IsZero() { // genesis has no block time
		t.From = s.now()
	}
	return id, s.put(numKey(kindTenure, id), t)
}

// unseat vacates seat n (from 1), ending its director's tenure with why.
func (s *machine) unseat(bd *Board, n int, why string) error {
	st := &bd.Seats[n-1]
	if st.Tenure != 0 {
		if err := s.endTenure(st.Tenure, why); err != nil {
			return err
		}
	}
	st.Director, st.Tenure = nil, 0
	return nil
}

func (s *machine) endTenure(id uint64, why string) error {
	t, err := s.tenure(id)
	if err != nil {
		return err
	}
	t.To, t.Ended = s.now(), why
	return s.put(numKey(kindTenure, id), t)
}

// seatOf returns the seat (from 1) key holds, or 0.
func seatOf(bd *Board, key tx.PublicKey) int {
	for i, st := range bd.Seats {
		if st.Director != nil && st.Director.Key.Equal(key) {
			return i + 1
		}
	}
	return 0
}

// counts reports whether v counts: it was cast by the director who still
// holds a voting seat. An unseated director's vote stops counting at
// once.
func counts(bd *Board, v Vote) bool {
	if v.Seat == 0 || int(v.Seat) > len(bd.Seats) {
		return false
	}
	st := bd.Seats[v.Seat-1]
	if !st.Voting || st.Director == nil {
		return false
	}
	if v.Key == nil { // recorded before votes named their key
		return st.Director.Name == v.Director
	}
	return st.Director.Key.Equal(*v.Key)
}

// counted returns the votes that count.
func counted(bd *Board, votes []Vote) []Vote {
	var out []Vote
	for _, v := range votes {
		if counts(bd, v) {
			out = append(out, v)
		}
	}
	return out
}

// stamp records provenance on the resource entries that enacted changes
// wrote — the ratified change or the emergency action that set them, and
// by whom — and returns the changes with the entries' stamped values.
func (s *machine) stamp(changes []ledger.Change, change, emergency uint64, by string) ([]ledger.Change, error) {
	prefix := []byte(Name + "/re/")
	for i := range changes {
		ch := &changes[i]
		if ch.New == nil || !bytes.HasPrefix(ch.Key, prefix) {
			continue
		}
		var e Entry
		if err := tx.Unmarshal(ch.New, &e); err != nil {
			return nil, fmt.Errorf("%w: entry %q: %v", ledger.ErrStorage, ch.Key, err)
		}
		e.By, e.Change, e.Emergency = by, change, emergency
		b, err := tx.Marshal(&e)
		if err != nil {
			return nil, err
		}
		s.kv.Set(ch.Key[len(Name)+1:], b)
		ch.New = b
	}
	return changes, nil
}

// provenance says, for people, who set an entry and on what authority.
func (s *machine) provenance(e *Entry) (string, error) {
	switch {
	case e.Change != 0:
		return fmt.Sprintf("ratified by change %d", e.Change), nil
	case e.Emergency != 0:
		em, err := s.emergency(e.Emergency)
		if err != nil {
			return "", err
		}
		switch em.Status {
		case EmergencyConfirmed:
			return fmt.Sprintf("set by emergency %d, confirmed by change %d", em.ID, em.ConfirmedBy), nil
		case EmergencyLapsed:
			return fmt.Sprintf("set by emergency %d, lapsed: never ratified", em.ID), nil
		}
		return fmt.Sprintf("set by emergency %d, pending: it lapses at %s unless a ratified change confirms it", em.ID, fmtTime(em.Deadline)), nil
	case e.Height == 0:
		return fmt.Sprintf("set at genesis by %s", e.By), nil
	}
	return fmt.Sprintf("set by %s, the resource's controller", e.By), nil
}

// active returns the emergency actions in effect, oldest first.
func (s *machine) active() ([]*Emergency, error) {
	var ids []uint64
	err := s.kv.Iterate([]byte(activePrefix), func(k, _ []byte) (bool, error) {
		id, err := strconv.ParseUint(string(k), 16, 64)
		ids = append(ids, id)
		return err == nil, err
	})
	if err != nil {
		return nil, err
	}
	out := make([]*Emergency, len(ids))
	for i, id := range ids {
		if out[i], err = s.emergency(id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func activeKey(id uint64) []byte  { return fmt.Appendf(nil, "%s%016x", activePrefix, id) }
func overdueKey(id uint64) []byte { return fmt.Appendf(nil, "%s%016x", overduePrefix, id) }

// layers finds the keys whose value before changes another emergency
// action, still in effect, had written.
func (s *machine) layers(changes []ledger.Change) ([]Layer, error) {
	act, err := s.active()
	if err != nil {
		return nil, err
	}
	var out []Layer
	for _, ch := range changes {
		for _, a := range slices.Backward(act) {
			if i := slices.IndexFunc(a.Changes, func(x ledger.Change) bool { return bytes.Equal(x.Key, ch.Key) }); i >= 0 && bytes.Equal(a.Changes[i].New, ch.Old) {
				out = append(out, Layer{Key: string(ch.Key), Emergency: a.ID})
				break
			}
		}
	}
	return out, nil
}

func layerOf(e *Emergency, key []byte) uint64 {
	for _, l := range e.Over {
		if l.Key == string(key) {
			return l.Emergency
		}
	}
	return 0
}

// baseline returns e's changes with, for each key, the value a lapse
// restores: the one before e, or, where e wrote over emergency actions
// that have lapsed since, the one before them — never an unratified
// emergency's leftover.
func (s *machine) baseline(e *Emergency) ([]ledger.Change, error) {
	out := slices.Clone(e.Changes)
	for i := range out {
		ch := &out[i]
		for under := layerOf(e, ch.Key); under != 0; {
			u, err := s.emergency(under)
			if err != nil {
				return nil, err
			}
			if u.Status != EmergencyLapsed {
				break // in effect or confirmed: its value is the one to restore
			}
			if j := slices.IndexFunc(u.Changes, func(x ledger.Change) bool { return bytes.Equal(x.Key, ch.Key) }); j >= 0 {
				ch.Old = u.Changes[j].Old
			}
			under = layerOf(u, ch.Key)
		}
	}
	return out, nil
}
