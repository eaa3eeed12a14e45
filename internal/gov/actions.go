package gov

import (
	"errors"
	"fmt"
	"slices"

	"github.com/agora-ledger/agora/internal/ledger"
)

func errorsIsStorage(err error) bool { return errors.Is(err, ledger.ErrStorage) }

// SetPolicy replaces the Policy of a resource.
type SetPolicy struct {
	Resource string `cbor:"1,keyasint" json:"resource"`
	Policy   string `cbor:"2,keyasint" json:"policy"` // SHA-256 of its text
}

// Validate implements ledger.Msg.
func (m *SetPolicy) Validate() error {
	if !validResourceID(m.Resource) {
		return invalid("resource %q", m.Resource)
	}
	if !validDigest(m.Policy) {
		return invalid("policy must be a SHA-256 digest (64 hex digits)")
	}
	return nil
}

// ActionTypes implements ledger.Governed: the governance module's own
// resources, which change only by ratified changes (and emergencies).
func (Module) ActionTypes() []ledger.ActionType {
	return []ledger.ActionType{
		{Name: "set_bylaws", Summary: "replace the Bylaws: seats, periods, thresholds, officers (needs a supermajority)", New: func() ledger.Msg { return new(Bylaws) }},
		{Name: "set_body", Summary: "add a body or replace its members and rule (needs a supermajority)", New: func() ledger.Msg { return new(Body) }},
		{Name: "delegate", Summary: "delegate a part of a resource to a resource-direct community", New: func() ledger.Msg { return new(Resource) }},
		{Name: "set_policy", Summary: "replace the Policy of a resource", New: func() ledger.Msg { return new(SetPolicy) }},
		{Name: "set_entry", Summary: "set or delete an entry of any resource (an accredited issuer, a name)", New: func() ledger.Msg { return new(SetEntry) }},
	}
}

// ExecuteAction implements ledger.Governed.
func (Module) ExecuteAction(ctx *ledger.Context, typ string, body ledger.Msg) error {
	s := newMachine(ctx)
	switch typ {
	case "set_bylaws":
		return s.setBylaws(body.(*Bylaws))
	case "set_body":
		return s.setBody(body.(*Body))
	case "delegate":
		return s.delegate(body.(*Resource))
	case "set_policy":
		m := body.(*SetPolicy)
		r, err := s.resource(m.Resource)
		if err != nil {
			return err
		}
		r.Policy = m.Policy
		r.PolicyVersion++
		ctx.Emit("policy", ledger.Attr{Key: "resource", Value: r.ID}, ledger.Attr{Key: "version", Value: fmt.Sprint(r.PolicyVersion)})
		return s.put(resourceKey(r.ID), r)
	case "set_entry":
		m := body.(*SetEntry)
		if _, err := s.resource(m.Resource); err != nil {
			return err
		}
		return s.setEntry(m, "the Community")
	}
	return fmt.Errorf("%w: gov action %q", ledger.ErrUnknownType, typ)
}

// setBylaws checks new Bylaws against the bodies in state, stores them as
// the next version and reallocates the Board's seats.
func (s *machine) setBylaws(b *Bylaws) error {
	old, err := s.bylaws()
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return err
	}
	if err := s.checkBylaws(b); err != nil {
		return err
	}
	b.Version = 1
	var bd *Board
	if old != nil {
		b.Version = old.Version + 1
		if bd, err = s.board(); err != nil {
			return err
		}
	}
	nb, err := s.seats(b, bd)
	if err != nil {
		return err
	}
	if err := s.retenure(bd, nb, b.Version); err != nil {
		return err
	}
	if err := s.put(boardKey, nb); err != nil {
		return err
	}
	s.ctx.Emit("bylaws", ledger.Attr{Key: "version", Value: fmt.Sprint(b.Version)})
	return s.put(bylawsKey, b)
}

func (s *machine) checkBylaws(b *Bylaws) error {
	for _, r := range []struct{ role, id, kind string }{
		{"role", b.ROLE, ROLE}, {"secretariat", b.Secretariat, Secretariat}, {"ombudsman", b.Ombudsman, Ombudsman}, {"emergency_officer", b.EmergencyOfficer, ""},
	} {
		body, err := s.body(r.id)
		if err != nil {
			return fmt.Errorf("bylaws %s: %w", r.role, err)
		}
		if r.kind != "" && body.Kind != r.kind {
			return fmt.Errorf("%w: bylaws %s names %s, a %s body", ledger.ErrInvalid, r.role, r.id, body.Kind)
		}
	}
	for _, a := range b.Seats {
		body, err := s.body(a.Body)
		if err != nil {
			return fmt.Errorf("bylaws seats: %w", err)
		}
		if !body.Community() {
			return fmt.Errorf("%w: bylaws give seats to %s, a %s body; seats go to stakeholder communities", ledger.ErrInvalid, a.Body, body.Kind)
		}
	}
	return nil
}

// seats lays out the Board the Bylaws allocate, keeping the directors of
// seats that remain (the k-th seat of a community stays its k-th seat).
func (s *machine) seats(b *Bylaws, old *Board) (*Board, error) {
	kept := map[string][]Seat{}
	if old != nil {
		for _, st := range old.Seats {
			kept[st.Body] = append(kept[st.Body], st)
		}
	}
	nb := &Board{}
	for _, a := range b.Seats {
		body, err := s.body(a.Body)
		if err != nil {
			return nil, err
		}
		for k := 0; k < int(a.Seats); k++ {
			st := Seat{Body: a.Body, Voting: body.Kind == Direct}
			if k < len(kept[a.Body]) {
				st.Director, st.Tenure = kept[a.Body][k].Director, kept[a.Body][k].Tenure
			}
			nb.Seats = append(nb.Seats, st)
		}
	}
	return nb, nil
}

// retenure keeps the Board's history true across a reallocation: a
// director whose seat went away, or moved, ends that tenure (and, moved,
// starts one in the new seat).
func (s *machine) retenure(old, nb *Board, version uint64) error {
	if old == nil {
		return nil
	}
	for i, st := range old.Seats {
		if st.Tenure == 0 {
			continue
		}
		j := slices.IndexFunc(nb.Seats, func(x Seat) bool { return x.Tenure == st.Tenure })
		switch {
		case j < 0:
			if err := s.endTenure(st.Tenure, fmt.Sprintf("seat %d abolished by Bylaws version %d", i+1, version)); err != nil {
				return err
			}
		case j != i:
			if err := s.endTenure(st.Tenure, fmt.Sprintf("seat renumbered %d by Bylaws version %d", j+1, version)); err != nil {
				return err
			}
			id, err := s.seat(uint32(j+1), &nb.Seats[j])
			if err != nil {
				return err
			}
			nb.Seats[j].Tenure = id
		}
	}
	return nil
}

func (s *machine) setBody(b *Body) error {
	for _, m := range b.Members {
		if m.Body != "" {
			if _, err := s.body(m.Body); err != nil {
				return fmt.Errorf("body %s member %s: %w", b.ID, m.Name, err)
			}
		}
	}
	var old Body
	found, err := s.kv.GetValue(bodyKey(b.ID), &old)
	if err != nil {
		return err
	}
	if found && old.Kind != b.Kind {
		return fmt.Errorf("%w: body %s is a %s body; its kind does not change", ledger.ErrInvalid, b.ID, old.Kind)
	}
	s.ctx.Emit("body", ledger.Attr{Key: "id", Value: b.ID})
	return s.put(bodyKey(b.ID), b)
}

func (s *machine) delegate(r *Resource) error {
	if r.Parent == "" {
		return fmt.Errorf("%w: a delegated resource names its parent", ledger.ErrInvalid)
	}
	if _, err := s.resource(r.Parent); err != nil {
		return err
	}
	found, err := s.kv.GetValue(resourceKey(r.ID), &Resource{})
	if err != nil {
		return err
	}
	if found {
		return fmt.Errorf("%w: resource %s exists", ledger.ErrConflict, r.ID)
	}
	c, err := s.body(r.Controller)
	if err != nil {
		return err
	}
	if c.Kind != Direct {
		return fmt.Errorf("%w: %s is a %s body; delegated resources are controlled by resource-direct communities", ledger.ErrInvalid, c.ID, c.Kind)
	}
	if r.Policy != "" {
		r.PolicyVersion = 1
	}
	s.ctx.Emit("delegated", ledger.Attr{Key: "resource", Value: r.ID}, ledger.Attr{Key: "controller", Value: r.Controller})
	return s.put(resourceKey(r.ID), r)
}
