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
		{Name: "bylaws", Pattern: "GET /v1/gov/bylaws", Summary: "The Bylaws in force: seat allocation, periods, thresholds and officers.",
			Run: func(kv *ledger.KV, _ func(string) string) (any, error) { return reader(kv).bylaws() }},
		{Name: "board", Pattern: "GET /v1/gov/board", Summary: "The Board of Directors: each seat, its community, whether it votes, and its director.",
			Run: func(kv *ledger.KV, _ func(string) string) (any, error) { return reader(kv).board() }},
		{Name: "bodies", Pattern: "GET /v1/gov/bodies", Summary: "Every body: communities, the ROLE, the Secretariat, the Ombudsman, External Entities.",
			Run: func(kv *ledger.KV, _ func(string) string) (any, error) {
				return list(kv, "b/", func(b *Body) Summary { return Summary{ID: b.ID, Title: b.Name, Status: b.Kind} })
			}},
		{Name: "body", Pattern: "GET /v1/gov/bodies/{id}", Summary: "One body: its kind, members and rule (k of n).",
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) { return reader(kv).body(arg("id")) }},
		{Name: "resources", Pattern: "GET /v1/gov/resources", Summary: "The governed resources: the root and its delegated parts.",
			Run: func(kv *ledger.KV, _ func(string) string) (any, error) {
				return list(kv, "r/", func(r *Resource) Summary {
					return Summary{ID: r.ID, Title: r.Name, Status: "controlled by " + r.Controller}
				})
			}},
		{Name: "resource", Pattern: "GET /v1/gov/resources/{id}", Summary: "One resource: its parent, controller and Policy.",
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) { return reader(kv).resource(arg("id")) }},
		{Name: "entry", Pattern: "GET /v1/gov/resources/{id}/entries/{key}", Summary: "One entry of a resource (an accredited issuer, a name).",
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
				var e Entry
				return &e, reader(kv).get(entryKey(arg("id"), arg("key")), &e, fmt.Sprintf("entry %q in resource %s", arg("key"), arg("id")))
			}},
		{Name: "document", Pattern: "GET /v1/gov/documents/{id}", Summary: "A document's record: kind, title, author, version and the transaction that carried its text.",
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) { return reader(kv).document(arg("id")) }},
		{Name: "changes", Pattern: "GET /v1/gov/changes", Summary: "Every proposed change, with its status and current deadline.",
			Run: func(kv *ledger.KV, _ func(string) string) (any, error) {
				return list(kv, kindChange+"/", func(c *Change) Summary {
					return Summary{ID: strconv.FormatUint(c.ID, 10), Title: c.Title, Status: c.Status, Deadline: c.Deadline}
				})
			}},
		{Name: "change", Pattern: "GET /v1/gov/changes/{id}", Summary: "One proposed change: its actions, votes, objections, deadline and timeline.",
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
		{Name: "emergency", Pattern: "GET /v1/gov/emergencies/{id}", Summary: "One emergency action: minutes, consultation, deadline, confirmation, verification.",
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
		{Name: "review", Pattern: "GET /v1/gov/reviews/{id}", Summary: "One independent review: the request, the panel and its declaration.",
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
				id, err := numArg(arg, "id")
				if err != nil {
					return nil, err
				}
				return reader(kv).review(id)
			}},
		{Name: "petition", Pattern: "GET /v1/gov/petitions/{id}", Summary: "One petition of the communities: its power, target, supporters and window.",
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
				id, err := numArg(arg, "id")
				if err != nil {
					return nil, err
				}
				return reader(kv).petition(id)
			}},
		{Name: "groups", Pattern: "GET /v1/gov/groups", Summary: "The working groups and their themes.",
			Run: func(kv *ledger.KV, _ func(string) string) (any, error) {
				return list(kv, "g/", func(g *Group) Summary {
					return Summary{ID: g.ID, Title: g.Theme, Status: "director " + g.Director.Name}
				})
			}},
		{Name: "group", Pattern: "GET /v1/gov/groups/{id}", Summary: "One working group: director, members, agenda with progress, outcomes.",
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) { return reader(kv).group(arg("id")) }},
		{Name: "deadlines", Pattern: "GET /v1/gov/deadlines", Summary: "Every pending deadline, soonest first.",
			Run: func(kv *ledger.KV, _ func(string) string) (any, error) {
				out := []Deadline{}
				err := kv.Iterate([]byte("due/"), func(k, _ []byte) (bool, error) {
					d, err := parseDue(k)
					out = append(out, d)
					return err == nil, err
				})
				return out, err
			}},
	}
}
