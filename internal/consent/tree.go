package consent

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/transparency-dev/merkle"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/agora-ledger/agora/internal/ledger"
)

// The committed policy (docs/spec/consent.md, section 2, "Commitment").
// The ledger holds, for each rule, only its root: the RFC 6962 Merkle
// tree hash of its seven slots (event, action, window, count, purposes,
// recipients, places), each a salted fingerprint, a set slot being itself
// the tree of its entries. A use opens, of the deciding rule, one entry a
// slot; of each rule before it, the one slot that shows it does not
// apply; of the rules after it, nothing.

// Slots of a rule, in the order of its tree.
const (
	SlotEvent = iota
	SlotAction
	SlotWindow
	SlotCount
	SlotPurpose
	SlotRecipient
	SlotPlace
	Slots // how many
)

// SlotNames names the slots, in their order; a slot's fingerprints are
// tagged "agora/consent/v1/" and its name.
var SlotNames = [Slots]string{"event", "action", "window", "count", "purpose", "recipient", "place"}

func slotTag(s uint32) string { return "agora/consent/v1/" + SlotNames[s] }

func isSet(s uint32) bool { return s >= SlotPurpose && s < Slots }

// SetSize is how many entries the tree of a set slot holds: the
// condition's values, or one "any" for a rule that does not set it, then
// padding. So no tree shows how many values a set has.
const SetSize = MaxValues

// TagSalt is the HMAC message prefix that derives each slot's and each
// entry's salt from the rule's salt: the first SlotSalt bytes of
// HMAC-SHA256(rule salt, TagSalt || 0x00 || slot || entry).
const TagSalt = "agora/consent/v1/salt"

// SlotSalt is the size of a slot's or an entry's salt: 128 bits, as
// many as MinSalt, which a use carries one of for each opening.
const SlotSalt = MinSalt

// hasher is RFC 6962's SHA-256 tree hasher (github.com/transparency-dev/
// merkle/rfc6962, which TestHasher checks it against), hashing from the
// stack: a use's check hashes a few dozen leaves and nodes.
var hasher merkle.LogHasher = treeHasher{}

type treeHasher struct{}

func (treeHasher) EmptyRoot() []byte { h := sha256.Sum256(nil); return h[:] }

func (treeHasher) HashLeaf(leaf []byte) []byte {
	var b [1 + sha256.Size]byte
	if len(leaf) != sha256.Size {
		return rfc6962.DefaultHasher.HashLeaf(leaf)
	}
	copy(b[1:], leaf)
	h := sha256.Sum256(b[:])
	return h[:]
}

func (treeHasher) HashChildren(l, r []byte) []byte {
	var b [1 + 2*sha256.Size]byte
	if len(l) != sha256.Size || len(r) != sha256.Size {
		return rfc6962.DefaultHasher.HashChildren(l, r)
	}
	b[0] = 1
	copy(b[1:], l)
	copy(b[1+sha256.Size:], r)
	h := sha256.Sum256(b[:])
	return h[:]
}

func (treeHasher) Size() int { return sha256.Size }

// Act is a rule's action slot: the action with its method, delay and
// obligations, all of which a decision by the rule shows.
type Act struct {
	Action      string `cbor:"1,keyasint" json:"action"`
	Method      string `cbor:"2,keyasint,omitempty" json:"method,omitempty"`
	Delay       int64  `cbor:"3,keyasint,omitempty" json:"delay,omitempty"`
	Notify      bool   `cbor:"4,keyasint,omitempty" json:"notify,omitempty"`
	DeleteAfter int64  `cbor:"5,keyasint,omitempty" json:"delete_after,omitempty"`
}

func (r *Rule) act() Act {
	return Act{Action: r.Action, Method: r.Method, Delay: r.Delay, Notify: r.Notify, DeleteAfter: r.DeleteAfter}
}

func (a *Act) validate() error {
	switch {
	case !slices.Contains(Actions, a.Action):
		return fmt.Errorf("%w: action %q (want one of %v)", ledger.ErrInvalid, a.Action, Actions)
	case (a.Action == ActModify) != slices.Contains(Methods, a.Method):
		return fmt.Errorf("%w: a modify rule names a method of %v, and only it", ledger.ErrInvalid, Methods)
	case (a.Action == ActDelay) != (a.Delay > 0):
		return fmt.Errorf("%w: a delay rule sets a positive delay, and only it", ledger.ErrInvalid)
	case a.Action == ActDeny && (a.Notify || a.DeleteAfter != 0):
		return fmt.Errorf("%w: a deny rule has no obligations", ledger.ErrInvalid)
	case a.DeleteAfter < 0:
		return fmt.Errorf("%w: delete_after is negative", ledger.ErrInvalid)
	}
	return nil
}

// Window is a rule's window slot: {0, 0} for a rule without one.
type Window struct {
	NotBefore int64 `cbor:"1,keyasint,omitempty" json:"not_before,omitempty"` // Unix ms
	NotAfter  int64 `cbor:"2,keyasint,omitempty" json:"not_after,omitempty"`  // Unix ms, exclusive
}

func (r *Rule) window() Window { return Window{NotBefore: r.NotBefore, NotAfter: r.NotAfter} }

func (w *Window) validate() error {
	if w.NotBefore < 0 || w.NotAfter < 0 || (w.NotAfter != 0 && w.NotAfter <= w.NotBefore) {
		return fmt.Errorf("%w: time window [%d, %d) is empty or negative", ledger.ErrInvalid, w.NotBefore, w.NotAfter)
	}
	return nil
}

func (w *Window) holds(now int64) bool {
	return (w.NotBefore == 0 || now >= w.NotBefore) && (w.NotAfter == 0 || now < w.NotAfter)
}

// Member is an entry of a set slot's tree: a value, Any (the rule does
// not set the condition), or neither (padding).
type Member struct {
	Value string `cbor:"1,keyasint,omitempty" json:"value,omitempty"`
	Any   bool   `cbor:"2,keyasint,omitempty" json:"any,omitempty"`
}

// Entry opens one entry of a set slot.
type Entry struct {
	Salt   []byte `cbor:"1,keyasint" json:"salt"`
	Member Member `cbor:"2,keyasint" json:"member"`
	// Index and Path place a lone entry in the set's tree (an RFC 6962
	// inclusion proof); an opening of all SetSize entries has neither.
	Index uint32   `cbor:"3,keyasint,omitempty" json:"index,omitempty"`
	Path  [][]byte `cbor:"4,keyasint,omitempty" json:"path,omitempty"`
}

func (e *Entry) leaf(slot uint32) []byte {
	return hasher.HashLeaf(Fingerprint(slotTag(slot), e.Salt, &e.Member))
}

// Opening opens one slot of a rule: a scalar slot's value with its salt,
// or a set slot's entries (one, or all SetSize). In a proof's Misses it
// carries Path, the slot's RFC 6962 inclusion proof in the rule's tree of
// Slots leaves; in its Match the rule's root is rebuilt from all seven.
type Opening struct {
	Slot    uint32   `cbor:"1,keyasint" json:"slot"`
	Salt    []byte   `cbor:"2,keyasint,omitempty" json:"salt,omitempty"`
	Event   string   `cbor:"3,keyasint,omitempty" json:"event,omitempty"`
	Action  *Act     `cbor:"4,keyasint,omitempty" json:"action,omitempty"`
	Window  *Window  `cbor:"5,keyasint,omitempty" json:"window,omitempty"`
	Count   uint32   `cbor:"6,keyasint,omitempty" json:"count,omitempty"` // max_count, 0 for none
	Entries []Entry  `cbor:"7,keyasint,omitempty" json:"entries,omitempty"`
	Path    [][]byte `cbor:"8,keyasint,omitempty" json:"path,omitempty"`
}

// Proof is what a use shows of the policy: for each rule before the
// deciding one, in order, one opening that shows it does not apply
// (Misses[i] is rule i's); for the deciding rule, rule len(Misses), the
// opening of each of its Slots, in order, that shows it applies (Match).
// Without Match no rule applies, Misses covers every rule and the use is
// denied.
type Proof struct {
	Misses []Opening `cbor:"1,keyasint,omitempty" json:"misses,omitempty"`
	Match  []Opening `cbor:"2,keyasint,omitempty" json:"match,omitempty"`
}

func checkHashes(what string, hs [][]byte, most int) error {
	if len(hs) > most {
		return fmt.Errorf("%w: %s has %d hashes, at most %d", ledger.ErrInvalid, what, len(hs), most)
	}
	for _, h := range hs {
		if len(h) != sha256.Size {
			return fmt.Errorf("%w: %s: a hash is %d bytes", ledger.ErrInvalid, what, sha256.Size)
		}
	}
	return nil
}

// validate checks the opening without state: a known slot carrying its
// own value only, well formed; miss says whether it is a miss (which has
// a Path, and opens all of a set) or part of a match (no Path, one entry).
func (o *Opening) validate(miss bool) error {
	if o.Slot >= Slots {
		return fmt.Errorf("%w: slot %d (a rule has %d)", ledger.ErrInvalid, o.Slot, Slots)
	}
	name := SlotNames[o.Slot]
	carries := [Slots]bool{SlotEvent: o.Event != "", SlotAction: o.Action != nil, SlotWindow: o.Window != nil,
		SlotCount: o.Count != 0, SlotPurpose: len(o.Entries) > 0}
	want := min(o.Slot, SlotPurpose)
	for s, has := range carries {
		if has && uint32(s) != want {
			return fmt.Errorf("%w: the opening of the %s slot carries a value of another slot", ledger.ErrInvalid, name)
		}
	}
	switch o.Slot {
	case SlotEvent:
		if !slices.Contains(Events, o.Event) {
			return fmt.Errorf("%w: event %q (want one of %v)", ledger.ErrInvalid, o.Event, Events)
		}
	case SlotAction:
		if o.Action == nil {
			return fmt.Errorf("%w: the opening of the action slot has no action", ledger.ErrInvalid)
		}
		if err := o.Action.validate(); err != nil {
			return err
		}
	case SlotWindow:
		if o.Window == nil {
			return fmt.Errorf("%w: the opening of the window slot has no window", ledger.ErrInvalid)
		}
		if err := o.Window.validate(); err != nil {
			return err
		}
	}
	if !isSet(o.Slot) {
		if len(o.Salt) != SlotSalt {
			return fmt.Errorf("%w: the %s slot's salt is %d bytes", ledger.ErrInvalid, name, SlotSalt)
		}
	} else {
		if o.Salt != nil {
			return fmt.Errorf("%w: a set slot's salts are its entries'", ledger.ErrInvalid)
		}
		n := 1
		if miss {
			n = SetSize
		}
		if len(o.Entries) != n {
			return fmt.Errorf("%w: the %s slot opens %d entries here (it opened %d)", ledger.ErrInvalid, name, n, len(o.Entries))
		}
		for i := range o.Entries {
			e := &o.Entries[i]
			if len(e.Salt) != SlotSalt {
				return fmt.Errorf("%w: an entry's salt is %d bytes", ledger.ErrInvalid, SlotSalt)
			}
			if len(e.Member.Value) > MaxString || (e.Member.Any && e.Member.Value != "") {
				return fmt.Errorf("%w: an entry is a value of at most %d bytes, any, or padding", ledger.ErrInvalid, MaxString)
			}
			if miss && (e.Index != 0 || e.Path != nil) {
				return fmt.Errorf("%w: a set opened whole places no entry", ledger.ErrInvalid)
			}
			if err := checkHashes("an entry's path", e.Path, 4); err != nil {
				return err
			}
			if !miss && e.Index >= SetSize {
				return fmt.Errorf("%w: entry %d of a set of %d", ledger.ErrInvalid, e.Index, SetSize)
			}
		}
	}
	if miss != (o.Path != nil) {
		return fmt.Errorf("%w: an opening that shows a rule does not apply carries its path, and only it", ledger.ErrInvalid)
	}
	return checkHashes("a slot's path", o.Path, 3)
}

func (p *Proof) validate() error {
	if len(p.Misses) > MaxRules {
		return fmt.Errorf("%w: at most %d rules", ledger.ErrInvalid, MaxRules)
	}
	for i := range p.Misses {
		if err := p.Misses[i].validate(true); err != nil {
			return fmt.Errorf("rule %d: %w", i, err)
		}
	}
	if len(p.Match) != 0 && len(p.Match) != Slots {
		return fmt.Errorf("%w: the deciding rule opens its %d slots", ledger.ErrInvalid, Slots)
	}
	for s := range p.Match {
		o := &p.Match[s]
		if o.Slot != uint32(s) {
			return fmt.Errorf("%w: rule %d: the deciding rule's slots are opened in order", ledger.ErrInvalid, len(p.Misses))
		}
		if err := o.validate(false); err != nil {
			return fmt.Errorf("rule %d: %w", len(p.Misses), err)
		}
	}
	return nil
}

// commitment returns the slot's commitment: a scalar's fingerprint, or
// the root of a set's tree, rebuilt from all its entries or from one and
// its path.
func (o *Opening) commitment() ([]byte, error) {
	tag := slotTag(o.Slot)
	switch o.Slot {
	case SlotEvent:
		return Fingerprint(tag, o.Salt, o.Event), nil
	case SlotAction:
		return Fingerprint(tag, o.Salt, o.Action), nil
	case SlotWindow:
		return Fingerprint(tag, o.Salt, o.Window), nil
	case SlotCount:
		return Fingerprint(tag, o.Salt, o.Count), nil
	}
	if len(o.Entries) == 1 {
		e := &o.Entries[0]
		root, err := proof.RootFromInclusionProof(hasher, uint64(e.Index), SetSize, e.leaf(o.Slot), e.Path)
		if err != nil {
			return nil, fmt.Errorf("%w: the %s entry's path: %v", ledger.ErrInvalid, SlotNames[o.Slot], err)
		}
		return root, nil
	}
	leaves := make([][]byte, len(o.Entries))
	for i := range o.Entries {
		leaves[i] = o.Entries[i].leaf(o.Slot)
	}
	return mth(leaves), nil
}

// asked is the request's value a set slot is about.
func asked(slot uint32, req Request) string {
	switch slot {
	case SlotPurpose:
		return req.Purpose
	case SlotRecipient:
		return req.Recipient
	}
	return req.Place
}

// keeps says why the opened slot keeps its rule from applying to req at
// now, count being the uses the rule permitted ("" if it does not keep it).
func (o *Opening) keeps(req Request, count uint32, now int64) string {
	switch o.Slot {
	case SlotEvent:
		if o.Event != req.Event {
			return "it is for the event " + o.Event
		}
	case SlotWindow:
		if !o.Window.holds(now) {
			return fmt.Sprintf("its window [%d, %d) excludes %d", o.Window.NotBefore, o.Window.NotAfter, now)
		}
	case SlotCount:
		if o.Count > 0 && count >= o.Count {
			return fmt.Sprintf("its %d uses are spent", o.Count)
		}
	case SlotPurpose, SlotRecipient, SlotPlace:
		v := asked(o.Slot, req)
		for i := range o.Entries {
			if m := &o.Entries[i].Member; m.Any || (m.Value != "" && m.Value == v) {
				return ""
			}
		}
		if len(o.Entries) == SetSize {
			return fmt.Sprintf("its %ss exclude %q", SlotNames[o.Slot], v)
		}
		return fmt.Sprintf("its %s entry is %q, not %q", SlotNames[o.Slot], o.Entries[0].Member.Value, v)
	}
	return ""
}

// Decide checks the proof p against the contract's rule roots and
// decides req at now (Unix ms), counts[i] being how many uses rule i has
// permitted. Each miss must match its rule's root at its slot and show the
// rule does not apply; the match must rebuild its rule's root and show
// the rule applies. So the controller can neither skip a rule that would
// apply (a deny among them) nor claim one applies that does not. A proof
// that does not match a root is ErrUnauthorized; one that matches but
// does not show what it claims is ErrInvalid. Deterministic.
func Decide(roots [][]byte, counts []uint32, p *Proof, req Request, now int64) (Decision, error) {
	k := len(p.Misses)
	switch {
	case k > len(roots) || (k == len(roots) && len(p.Match) > 0):
		return Decision{}, fmt.Errorf("%w: the policy has %d rules; %d were shown not to apply and one to apply", ledger.ErrInvalid, len(roots), k)
	case k < len(roots) && len(p.Match) == 0:
		return Decision{}, fmt.Errorf("%w: the policy has %d rules; %d were shown not to apply and none to apply (show every rule before the deciding one)", ledger.ErrInvalid, len(roots), k)
	}
	for i := range p.Misses {
		o := &p.Misses[i]
		c, err := o.commitment()
		if err != nil {
			return Decision{}, fmt.Errorf("rule %d: %w", i, err)
		}
		if err := proof.VerifyInclusion(hasher, uint64(o.Slot), Slots, hasher.HashLeaf(c), o.Path, roots[i]); err != nil {
			return Decision{}, fmt.Errorf("%w: rule %d: the opened %s is not the rule's", ledger.ErrUnauthorized, i, SlotNames[o.Slot])
		}
		if o.keeps(req, counts[i], now) == "" {
			return Decision{}, fmt.Errorf("%w: rule %d: its opened %s does not show that it does not apply", ledger.ErrInvalid, i, SlotNames[o.Slot])
		}
	}
	if len(p.Match) == 0 {
		return Decision{Action: ActDeny, Rule: -1, Reason: "no rule permits it"}, nil
	}
	leaves := make([][]byte, Slots)
	for s := range p.Match {
		c, err := p.Match[s].commitment()
		if err != nil {
			return Decision{}, fmt.Errorf("rule %d: %w", k, err)
		}
		leaves[s] = hasher.HashLeaf(c)
	}
	if !bytes.Equal(mth(leaves), roots[k]) {
		return Decision{}, fmt.Errorf("%w: rule %d: the opened slots are not the rule's", ledger.ErrUnauthorized, k)
	}
	for s := range p.Match {
		if why := p.Match[s].keeps(req, counts[k], now); why != "" {
			return Decision{}, fmt.Errorf("%w: rule %d does not apply: %s", ledger.ErrInvalid, k, why)
		}
	}
	a := p.Match[SlotAction].Action
	return Decision{Action: a.Action, Rule: k, Method: a.Method, Delay: a.Delay, Notify: a.Notify,
		DeleteAfter: a.DeleteAfter, Reason: fmt.Sprintf("rule %d", k)}, nil
}

// mth is the RFC 6962 Merkle tree hash of leaf hashes (at least one).
func mth(leaves [][]byte) []byte {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := split(len(leaves))
	return hasher.HashChildren(mth(leaves[:k]), mth(leaves[k:]))
}

// path is the RFC 6962 inclusion proof of leaves[i].
func path(leaves [][]byte, i int) [][]byte {
	if len(leaves) <= 1 {
		return nil
	}
	k := split(len(leaves))
	if i < k {
		return append(path(leaves[:k], i), mth(leaves[k:]))
	}
	return append(path(leaves[k:], i-k), mth(leaves[:k]))
}

// split is the largest power of two below n (n > 1).
func split(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

// The holder's side: the tree of a rule in the clear, and the openings.

// tree is a rule's committed form, as its holders compute it from the
// rule and its salt.
type tree struct {
	rule   *Rule
	salts  [Slots][]byte   // a scalar slot's salt
	sets   [Slots][]Entry  // a set slot's entries, in the tree's order
	leaves [Slots][][]byte // a set slot's leaf hashes, in that order
	slots  [][]byte        // the leaf hash of each slot's commitment
}

func deriveSalt(ruleSalt []byte, slot, entry int) []byte {
	m := hmac.New(sha256.New, ruleSalt)
	m.Write([]byte(TagSalt))
	m.Write([]byte{0, byte(slot), byte(entry)})
	return m.Sum(nil)[:SlotSalt]
}

func (r *Rule) values(slot uint32) []string {
	switch slot {
	case SlotPurpose:
		return r.Purposes
	case SlotRecipient:
		return r.Recipients
	}
	return r.Places
}

// scalar returns the opening of a scalar slot.
func (t *tree) scalar(s uint32) Opening {
	o := Opening{Slot: s, Salt: t.salts[s]}
	switch s {
	case SlotEvent:
		o.Event = t.rule.Event
	case SlotAction:
		a := t.rule.act()
		o.Action = &a
	case SlotWindow:
		w := t.rule.window()
		o.Window = &w
	case SlotCount:
		o.Count = t.rule.MaxCount
	}
	return o
}

// newTree computes the tree of r under its salt. Each set holds its values
// (or one "any"), then padding, to SetSize entries, ordered by their
// fingerprints, which the salts make random: so an entry's place shows
// nothing of the set.
func newTree(r *Rule, salt []byte) *tree {
	t := &tree{rule: r, slots: make([][]byte, Slots)}
	for s := uint32(0); s < Slots; s++ {
		if !isSet(s) {
			t.salts[s] = deriveSalt(salt, int(s), 0)
			o := t.scalar(s)
			c, _ := o.commitment()
			t.slots[s] = hasher.HashLeaf(c)
			continue
		}
		ms := make([]Member, SetSize)
		for i, v := range r.values(s) {
			ms[i] = Member{Value: v}
		}
		if len(r.values(s)) == 0 {
			ms[0].Any = true
		}
		type leaf struct {
			e    Entry
			hash []byte
		}
		ls := make([]leaf, SetSize)
		for i := range ms {
			ls[i].e = Entry{Salt: deriveSalt(salt, int(s), i), Member: ms[i]}
			ls[i].hash = ls[i].e.leaf(s)
		}
		slices.SortFunc(ls, func(a, b leaf) int { return cmp.Compare(string(a.hash), string(b.hash)) })
		for _, l := range ls {
			t.sets[s] = append(t.sets[s], l.e)
			t.leaves[s] = append(t.leaves[s], l.hash)
		}
		t.slots[s] = hasher.HashLeaf(mth(t.leaves[s]))
	}
	return t
}

// Root returns the rule's root under its salt: what the ledger holds.
func (r *Rule) Root(salt []byte) []byte { return mth(newTree(r, salt).slots) }

// member returns the opening of the entry of set slot s that lets the
// rule apply to v: v itself, or "any".
func (t *tree) member(s uint32, v string) (Opening, bool) {
	for i, e := range t.sets[s] {
		if e.Member.Any || (e.Member.Value != "" && e.Member.Value == v) {
			e.Index, e.Path = uint32(i), path(t.leaves[s], i)
			return Opening{Slot: s, Entries: []Entry{e}}, true
		}
	}
	return Opening{}, false
}

// miss returns the opening that shows the rule does not apply to req, the
// one that shows least of it: its event, else its spent count, else its
// window, else the smallest set that excludes the asked value.
func (t *tree) miss(req Request, count uint32, now int64) (Opening, bool) {
	r := t.rule
	var o Opening
	switch {
	case r.Event != req.Event:
		o = t.scalar(SlotEvent)
	case r.MaxCount > 0 && count >= r.MaxCount:
		o = t.scalar(SlotCount)
	case !(&Window{NotBefore: r.NotBefore, NotAfter: r.NotAfter}).holds(now):
		o = t.scalar(SlotWindow)
	default:
		best := uint32(0)
		for s := uint32(SlotPurpose); s < Slots; s++ {
			vs := r.values(s)
			if len(vs) > 0 && !slices.Contains(vs, asked(s, req)) && (best == 0 || len(vs) < len(r.values(best))) {
				best = s
			}
		}
		if best == 0 {
			return Opening{}, false
		}
		o = Opening{Slot: best, Entries: t.sets[best]}
	}
	o.Path = path(t.slots, int(o.Slot))
	return o, true
}

// Prove returns the decision the policy rules (with their salts) make on
// req at now, counts being the contract's, and the proof of it that a use
// presents: the holder's side of Decide.
func Prove(rules []SaltedRule, counts []uint32, req Request, now int64) (*Proof, Decision) {
	plain := make([]Rule, len(rules))
	for i := range rules {
		plain[i] = rules[i].Rule
	}
	cs := make([]uint32, len(rules))
	copy(cs, counts)
	d := Evaluate(plain, cs, req, now)
	last := d.Rule
	if last < 0 {
		last = len(rules)
	}
	p := &Proof{}
	for i := 0; i < last; i++ {
		o, ok := newTree(&rules[i].Rule, rules[i].Salt).miss(req, cs[i], now)
		if !ok {
			panic(fmt.Sprintf("consent: rule %d neither applies nor misses", i)) // Evaluate said it does not apply
		}
		p.Misses = append(p.Misses, o)
	}
	if d.Rule >= 0 {
		t := newTree(&rules[d.Rule].Rule, rules[d.Rule].Salt)
		for s := uint32(0); s < Slots; s++ {
			if !isSet(s) {
				p.Match = append(p.Match, t.scalar(s))
				continue
			}
			o, _ := t.member(s, asked(s, req))
			p.Match = append(p.Match, o)
		}
	}
	return p, d
}
