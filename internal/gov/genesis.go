package gov

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Genesis is the module's genesis section: the founding Community.
type Genesis struct {
	Bylaws Bylaws `json:"bylaws"`
	Bodies []Body `json:"bodies"`
	// Board lists the founding directors, seat by seat in the order the
	// Bylaws allocate them; a seat with no director is vacant.
	Board     []Seat         `json:"board,omitempty"`
	Resources []Resource     `json:"resources"`
	Entries   []GenesisEntry `json:"entries,omitempty"`
	Documents []Document     `json:"documents,omitempty"`
	// Records are the process's records (changes, emergencies, reviews,
	// petitions, working groups, counters) as stored, for a ledger
	// exported and started again; their deadlines are the ledger's
	// scheduled entries (ledger.Genesis.Scheduled).
	Records []Record `json:"records,omitempty"`
}

// GenesisEntry is a resource's entry in genesis.
type GenesisEntry struct {
	Resource string `json:"resource"`
	Entry
}

// Record is one stored key (not all text: base64 in JSON, like the
// value) and its canonical CBOR value.
type Record struct {
	Key   []byte `json:"key"`
	Value []byte `json:"value"`
}

var recordPrefixes = []string{"c/", "e/", "v/", "p/", "g/", "n/", "h/", "dl/", activePrefix, overduePrefix}

// InitGenesis implements ledger.Module. Without a section the ledger has
// no governance: every governance message is refused.
func (Module) InitGenesis(kv *ledger.KV, raw json.RawMessage) error {
	if raw == nil {
		return nil
	}
	var g Genesis
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("%w: %v", ledger.ErrInvalid, err)
	}
	s := newMachine(&ledger.Context{KV: kv})
	for i := range g.Bodies {
		b := &g.Bodies[i]
		if err := b.Validate(); err != nil {
			return err
		}
		if found, err := kv.GetValue(bodyKey(b.ID), &Body{}); err != nil || found {
			return fmt.Errorf("%w: body %s twice", ledger.ErrInvalid, b.ID)
		}
		if err := s.put(bodyKey(b.ID), b); err != nil {
			return err
		}
	}
	for i := range g.Bodies {
		for _, m := range g.Bodies[i].Members {
			if m.Body != "" {
				if _, err := s.body(m.Body); err != nil {
					return fmt.Errorf("body %s member %s: %w", g.Bodies[i].ID, m.Name, err)
				}
			}
		}
	}
	g.Bylaws.withDefaults()
	if err := g.Bylaws.Validate(); err != nil {
		return err
	}
	version := max(g.Bylaws.Version, 1)
	if err := s.setBylaws(&g.Bylaws); err != nil {
		return err
	}
	g.Bylaws.Version = version
	if err := s.put(bylawsKey, &g.Bylaws); err != nil {
		return err
	}
	bd, err := s.board()
	if err != nil {
		return err
	}
	if len(g.Board) > len(bd.Seats) {
		return fmt.Errorf("%w: genesis board has %d seats, the Bylaws allocate %d", ledger.ErrInvalid, len(g.Board), len(bd.Seats))
	}
	for i, st := range g.Board {
		if st.Body != bd.Seats[i].Body || st.Voting != bd.Seats[i].Voting {
			return fmt.Errorf("%w: genesis seat %d is %s's (voting %v) by the Bylaws", ledger.ErrInvalid, i+1, bd.Seats[i].Body, bd.Seats[i].Voting)
		}
		if st.Director != nil {
			if err := st.Director.validate("director"); err != nil {
				return err
			}
			if st.Director.Key == nil {
				return fmt.Errorf("%w: seat %d's director is not a key", ledger.ErrInvalid, i+1)
			}
		}
		bd.Seats[i].Director, bd.Seats[i].Tenure = st.Director, st.Tenure
		if st.Director != nil && st.Tenure == 0 {
			if bd.Seats[i].Tenure, err = s.seat(uint32(i+1), &bd.Seats[i]); err != nil {
				return err
			}
		}
	}
	if err := s.put(boardKey, bd); err != nil {
		return err
	}
	root := false
	for i := range g.Resources {
		r := &g.Resources[i]
		if err := r.Validate(); err != nil {
			return err
		}
		if r.Parent == "" {
			if r.ID != RootResource || r.Controller != g.Bylaws.ROLE {
				return fmt.Errorf("%w: the root resource is %q, controlled by the ROLE (%s)", ledger.ErrInvalid, RootResource, g.Bylaws.ROLE)
			}
			root = true
			if err := s.put(resourceKey(r.ID), r); err != nil {
				return err
			}
			continue
		}
		if err := s.delegate(r); err != nil {
			return fmt.Errorf("resource %s: %w", r.ID, err)
		}
		if r.PolicyVersion != 0 {
			if err := s.put(resourceKey(r.ID), r); err != nil {
				return err
			}
		}
	}
	if !root {
		return fmt.Errorf("%w: genesis has no root resource", ledger.ErrInvalid)
	}
	for _, e := range g.Entries {
		if _, err := s.resource(e.Resource); err != nil {
			return err
		}
		m := SetEntry{Resource: e.Resource, Key: e.Key, Value: e.Value}
		if err := m.Validate(); err != nil {
			return err
		}
		if err := s.put(entryKey(e.Resource, e.Key), &e.Entry); err != nil {
			return err
		}
	}
	for i := range g.Documents {
		d := &g.Documents[i]
		if !validDigest(d.ID) || d.Kind == "" {
			return fmt.Errorf("%w: genesis document %d needs an id (SHA-256) and a kind", ledger.ErrInvalid, i)
		}
		put := s.putDoc // numbered in the list of documents...
		if len(g.Records) > 0 {
			put = func(d *Document) error { return s.put(docKey(d.ID), d) } // ...unless the records hold the list
		}
		if err := put(d); err != nil {
			return err
		}
	}
	for _, r := range g.Records {
		ok := false
		for _, p := range recordPrefixes {
			ok = ok || strings.HasPrefix(string(r.Key), p)
		}
		if !ok {
			return fmt.Errorf("%w: genesis record key %q", ledger.ErrInvalid, r.Key)
		}
		kv.Set(r.Key, r.Value)
	}
	return nil
}

// ExportGenesis implements ledger.Module.
func (Module) ExportGenesis(kv *ledger.KV) (json.RawMessage, error) {
	var g Genesis
	ok, err := kv.GetValue(bylawsKey, &g.Bylaws)
	if err != nil || !ok {
		return nil, err
	}
	var bd Board
	if _, err := kv.GetValue(boardKey, &bd); err != nil {
		return nil, err
	}
	g.Board = bd.Seats
	each := func(prefix string, fn func(k, v []byte) error) error {
		return kv.Iterate([]byte(prefix), func(k, v []byte) (bool, error) { return true, fn(k, v) })
	}
	if err := each("b/", func(_, v []byte) error {
		var b Body
		g.Bodies = append(g.Bodies, b)
		return tx.Unmarshal(v, &g.Bodies[len(g.Bodies)-1])
	}); err != nil {
		return nil, err
	}
	// Parents before children: the root first, then by depth.
	var res []Resource
	if err := each("r/", func(_, v []byte) error {
		var r Resource
		if err := tx.Unmarshal(v, &r); err != nil {
			return err
		}
		res = append(res, r)
		return nil
	}); err != nil {
		return nil, err
	}
	placed := map[string]bool{"": true}
	for len(g.Resources) < len(res) {
		n := len(g.Resources)
		for _, r := range res {
			if !placed[r.ID] && placed[r.Parent] {
				g.Resources = append(g.Resources, r)
				placed[r.ID] = true
			}
		}
		if len(g.Resources) == n {
			return nil, fmt.Errorf("%w: gov: resources without a root", ledger.ErrStorage)
		}
	}
	if err := each("re/", func(k, v []byte) error {
		var e Entry
		if err := tx.Unmarshal(v, &e); err != nil {
			return err
		}
		res, _, _ := strings.Cut(string(k), "/")
		g.Entries = append(g.Entries, GenesisEntry{Resource: res, Entry: e})
		return nil
	}); err != nil {
		return nil, err
	}
	if err := each("d/", func(_, v []byte) error {
		var d Document
		g.Documents = append(g.Documents, d)
		return tx.Unmarshal(v, &g.Documents[len(g.Documents)-1])
	}); err != nil {
		return nil, err
	}
	for _, p := range recordPrefixes {
		if err := each(p, func(k, v []byte) error {
			g.Records = append(g.Records, Record{Key: append([]byte(p), k...), Value: bytes.Clone(v)})
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return json.Marshal(&g)
}
