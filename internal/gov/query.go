package gov

import (
	"fmt"
	"strconv"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// ChangeJSON is a change as the API serves it, its actions decoded.
type ChangeJSON struct {
	Change
	Actions []ledger.ActionJSON `json:"actions"`
}

// EmergencyJSON is an emergency action as the API serves it.
type EmergencyJSON struct {
	Emergency
	Actions []ledger.ActionJSON `json:"actions"`
	// ChangedKeys are the state keys its actions changed.
	ChangedKeys []string `json:"changed_keys"`
}

// EntryJSON is an entry as the API serves it, with its provenance in
// words (read from the emergency's record, so proven with it).
type EntryJSON struct {
	Entry
	Provenance string `json:"provenance"`
}

// Summary is one line of a list.
type Summary struct {
	ID       string `json:"id"`
	Title    string `json:"title,omitempty"`
	Status   string `json:"status,omitempty"`
	Deadline Time   `json:"deadline,omitempty"`
}

// Deadline is one pending deadline.
type Deadline struct {
	Time Time   `json:"time"`
	Kind string `json:"kind"`
	ID   uint64 `json:"id"`
}

func (m Module) decodeActions(acts []ledger.Action) []ledger.ActionJSON {
	out := make([]ledger.ActionJSON, len(acts))
	for i := range acts {
		if m.Actions == nil {
			out[i] = ledger.ActionJSON{Action: acts[i].Name()}
			continue
		}
		out[i] = m.Actions.JSON(&acts[i])
	}
	return out
}

func numArg(arg func(string) string, name string) (uint64, error) {
	n, err := strconv.ParseUint(arg(name), 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%w: %s %q is not a number from 1", ledger.ErrInvalid, name, arg(name))
	}
	return n, nil
}

func reader(kv *ledger.KV) *machine { return newMachine(&ledger.Context{KV: kv}) }

// one answers a single record: the record, or only the error (never an
// empty record with it).
func one[T any](v *T, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

// maxList bounds a list's answer; ?from=N pages on.
const maxList = 200

// numbered lists records of a numbered kind by point lookups from the
// counter, so that the list is provably complete: from ?from= (default
// 1), at most maxList.
func numbered[T any](kv *ledger.KV, arg func(string) string, kind string, fn func(uint64, *T) Summary) ([]Summary, error) {
	var n uint64
	if _, err := kv.GetValue([]byte("n/"+kind), &n); err != nil {
		return nil, err
	}
	from := uint64(1)
	if arg("from") != "" {
		var err error
		if from, err = numArg(arg, "from"); err != nil {
			return nil, err
		}
	}
	out := []Summary{}
	for i := from; i <= n && len(out) < maxList; i++ {
		var x T
		if err := reader(kv).get(numKey(kind, i), &x, fmt.Sprintf("%s %d", kind, i)); err != nil {
			return nil, err
		}
		out = append(out, fn(i, &x))
	}
	return out, nil
}

func single(name, pattern, summary string, answer any, get func(*machine, uint64) (any, error)) ledger.Query {
	return ledger.Query{Name: name, Pattern: pattern, Summary: summary, Answer: answer,
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			id, err := numArg(arg, "id")
			if err != nil {
				return nil, err
			}
			return get(reader(kv), id)
		}}
}

func list[T any](kv *ledger.KV, prefix string, fn func(*T) Summary) ([]Summary, error) {
	out := []Summary{}
	err := kv.Iterate([]byte(prefix), func(_, v []byte) (bool, error) {
		var x T
		if err := tx.Unmarshal(v, &x); err != nil {
			return false, fmt.Errorf("%w: %v", ledger.ErrStorage, err)
		}
		out = append(out, fn(&x))
		return true, nil
	})
	return out, err
}

// Queries implements ledger.Module.
func (m Module) Queries() []ledger.Query {
	return []ledger.Query{
		{Name: "bylaws", Pattern: "GET /v1/gov/bylaws", Summary: "The Bylaws in force: seat allocation, periods, thresholds and officers.", Answer: (*Bylaws)(nil),
			Run: func(kv *ledger.KV, _ func(string) string) (any, error) { return one(reader(kv).bylaws()) }},
		{Name: "board", Pattern: "GET /v1/gov/board", Summary: "The Board of Directors: each seat, its community, whether it votes, and its director.", Answer: (*Board)(nil),
			Run: func(kv *ledger.KV, _ func(string) string) (any, error) { return one(reader(kv).board()) }},
		{Name: "bodies", Pattern: "GET /v1/gov/bodies", Summary: "Every body: communities, the ROLE, the Secretariat, the Ombudsman, External Entities.", Answer: []Summary{},
			Run: func(kv *ledger.KV, _ func(string) string) (any, error) {
				return list(kv, "b/", func(b *Body) Summary { return Summary{ID: b.ID, Title: b.Name, Status: b.Kind} })
			}},
		{Name: "body", Pattern: "GET /v1/gov/bodies/{id}", Summary: "One body: its kind, members and rule (k of n).", Answer: (*Body)(nil),
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) { return one(reader(kv).body(arg("id"))) }},
		{Name: "resources", Pattern: "GET /v1/gov/resources", Summary: "The governed resources: the root and its delegated parts.", Answer: []Summary{},
			Run: func(kv *ledger.KV, _ func(string) string) (any, error) {
				return list(kv, "r/", func(r *Resource) Summary {
					return Summary{ID: r.ID, Title: r.Name, Status: "controlled by " + r.Controller}
				})
			}},
		{Name: "resource", Pattern: "GET /v1/gov/resources/{id}", Summary: "One resource: its parent, controller and Policy.", Answer: (*Resource)(nil),
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) { return one(reader(kv).resource(arg("id"))) }},
		{Name: "entry", Pattern: "GET /v1/gov/resources/{id}/entries/{key}", Summary: "One entry of a resource (an accredited issuer, a name), with its provenance: set by its controller, ratified by change N, or set by emergency M (pending, confirmed or lapsed).", Answer: (*EntryJSON)(nil),
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
				r := reader(kv)
				var e Entry
				if err := r.get(entryKey(arg("id"), arg("key")), &e, fmt.Sprintf("entry %q in resource %s", arg("key"), arg("id"))); err != nil {
					return nil, err
				}
				p, err := r.provenance(&e)
				if err != nil {
					return nil, err
				}
				return &EntryJSON{Entry: e, Provenance: p}, nil
			}},
		{Name: "document", Pattern: "GET /v1/gov/documents/{id}", Summary: "A document's record: kind, title, author, version and the transaction that carried its text.", Answer: (*Document)(nil),
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) { return one(reader(kv).document(arg("id"))) }},
		{Name: "documents", Pattern: "GET /v1/gov/documents", Summary: "Every document in the order recorded (?from=N pages on; provable with proof=1).", Answer: []Summary{},
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
				r := reader(kv)
				return numbered(kv, arg, kindDocument, func(i uint64, id *string) Summary {
					d, err := r.document(*id)
					if err != nil {
						return Summary{ID: *id, Status: "missing"}
					}
					return Summary{ID: d.ID, Title: d.Title, Status: d.Kind + " by " + d.Author}
				})
			}},
		{Name: "changes", Pattern: "GET /v1/gov/changes", Summary: "Every proposed change, with its status and current deadline.", Answer: []Summary{},
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
				return numbered(kv, arg, kindChange, func(_ uint64, c *Change) Summary {
					return Summary{ID: strconv.FormatUint(c.ID, 10), Title: c.Title, Status: c.Status, Deadline: c.Deadline}
				})
			}},
		{Name: "emergencies", Pattern: "GET /v1/gov/emergencies", Summary: "Every emergency action, with its status and deadline (provable with proof=1).", Answer: []Summary{},
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
				return numbered(kv, arg, kindEmergency, func(_ uint64, e *Emergency) Summary {
					st, dl := e.Status, e.Deadline
					if e.Status != EmergencyInEffect {
						dl = 0
					}
					if e.Overdue && e.Verification == "" {
						st += ", verification overdue"
					}
					return Summary{ID: strconv.FormatUint(e.ID, 10), Title: e.Title, Status: st, Deadline: dl}
				})
			}},
		{Name: "reviews", Pattern: "GET /v1/gov/reviews", Summary: "Every independent review, with the change it reviews and its status (provable with proof=1).", Answer: []Summary{},
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
				return numbered(kv, arg, kindReview, func(_ uint64, r *Review) Summary {
					return Summary{ID: strconv.FormatUint(r.ID, 10), Title: fmt.Sprintf("change %d, requested by %s", r.Change, r.Requester), Status: r.Status, Deadline: r.Deadline}
				})
			}},
		{Name: "petitions", Pattern: "GET /v1/gov/petitions", Summary: "Every petition of the communities, with its power, target and status (provable with proof=1).", Answer: []Summary{},
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
				return numbered(kv, arg, kindPetition, func(_ uint64, p *Petition) Summary {
					return Summary{ID: strconv.FormatUint(p.ID, 10), Title: petitionTitle(p), Status: fmt.Sprintf("%s (%d of %d)", p.Status, len(p.Supporters), p.Needed), Deadline: p.Deadline}
				})
			}},
		{Name: "tenures", Pattern: "GET /v1/gov/tenures", Summary: "The Board's history: who sat in which seat when, and what ended each tenure (provable with proof=1).", Answer: []Summary{},
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
				return numbered(kv, arg, kindTenure, func(_ uint64, t *Tenure) Summary {
					st := "seated"
					if t.Ended != "" {
						st = t.Ended
					}
					return Summary{ID: strconv.FormatUint(t.ID, 10), Title: fmt.Sprintf("%s in seat %d (%s)", t.Director.Name, t.Seat, t.Body), Status: st}
				})
			}},
		{Name: "change", Pattern: "GET /v1/gov/changes/{id}", Summary: "One proposed change: its actions, votes, objections, deadline and timeline.", Answer: (*ChangeJSON)(nil),
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
				id, err := numArg(arg, "id")
				if err != nil {
					return nil, err
				}
				c, err := reader(kv).change(id)
				if err != nil {
					return nil, err
				}
				return &ChangeJSON{Change: *c, Actions: m.decodeActions(c.Actions)}, nil
			}},
		{Name: "emergency", Pattern: "GET /v1/gov/emergencies/{id}", Summary: "One emergency action: minutes, consultation, deadline, confirmation, verification.", Answer: (*EmergencyJSON)(nil),
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
				id, err := numArg(arg, "id")
				if err != nil {
					return nil, err
				}
				e, err := reader(kv).emergency(id)
				if err != nil {
					return nil, err
				}
				keys := make([]string, len(e.Changes))
				for i, c := range e.Changes {
					keys[i] = string(c.Key)
				}
				return &EmergencyJSON{Emergency: *e, Actions: m.decodeActions(e.Actions), ChangedKeys: keys}, nil
			}},
		single("review", "GET /v1/gov/reviews/{id}", "One independent review: the request, the panel, its deadline and declaration.", (*Review)(nil),
			func(r *machine, id uint64) (any, error) { return one(r.review(id)) }),
		single("petition", "GET /v1/gov/petitions/{id}", "One petition of the communities: its power, target (a change, or a seat and its director), supporters and window.", (*Petition)(nil),
			func(r *machine, id uint64) (any, error) { return one(r.petition(id)) }),
		single("tenure", "GET /v1/gov/tenures/{id}", "One director's tenure: the seat, from when, until when, and what ended it.", (*Tenure)(nil),
			func(r *machine, id uint64) (any, error) { return one(r.tenure(id)) }),
		{Name: "groups", Pattern: "GET /v1/gov/groups", Summary: "The working groups and their themes.", Answer: []Summary{},
			Run: func(kv *ledger.KV, _ func(string) string) (any, error) {
				return list(kv, "g/", func(g *Group) Summary {
					return Summary{ID: g.ID, Title: g.Theme, Status: "director " + g.Director.Name}
				})
			}},
		{Name: "group", Pattern: "GET /v1/gov/groups/{id}", Summary: "One working group: director, members, agenda with progress, outcomes.", Answer: (*Group)(nil),
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) { return one(reader(kv).group(arg("id"))) }},
		{Name: "deadlines", Pattern: "GET /v1/gov/deadlines", Summary: "Every pending deadline, soonest first.", Answer: []Deadline{},
			Run: func(kv *ledger.KV, _ func(string) string) (any, error) {
				entries, err := ledger.ScheduleOf(kv.View(ledger.Namespace), Name)
				if err != nil {
					return nil, err
				}
				out := make([]Deadline, len(entries))
				for i, en := range entries {
					if out[i], err = parseDue(en.Key); err != nil {
						return nil, err
					}
					out[i].Time = Time(en.Time)
				}
				return out, nil
			}},
	}
}

func petitionTitle(p *Petition) string {
	switch p.Power {
	case PowerRemove:
		if p.Director != nil {
			return fmt.Sprintf("remove %s (seat %d)", p.Director.Name, p.Target)
		}
		return fmt.Sprintf("remove the director of seat %d", p.Target)
	case PowerRecall:
		return "recall the Board"
	}
	return fmt.Sprintf("%s change %d", p.Power, p.Target)
}
