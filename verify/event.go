package verify

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// EventProof proves an event of the feed (GET /v1/events?proof=1): the
// whole result of the transaction that emitted it, and the inclusion of
// the transaction's log entry, which records the result's hash.
type EventProof struct {
	Result    ledger.Result  `json:"result"`
	Inclusion InclusionProof `json:"inclusion"`
}

// EventClaim is an event as an answer shows it: the N-th event of the
// result of transaction Tx, at Index in block Height and at leaf Leaf.
type EventClaim struct {
	Height uint64
	Index  int
	N      int
	Leaf   uint64
	Tx     tx.ID
	Event  ledger.Event
}

// Event verifies that p proves the event claimed, exactly: the log entry
// is included in a log trusted under policy, it is the entry of the
// claimed transaction at the claimed height, index and leaf, it records
// the hash of p's result, and that result's N-th event is the claimed
// event, module, type and every attribute in order. It returns the
// checkpoint the proof is against, whose height says how fresh the answer
// is.
func Event(claim *EventClaim, p *EventProof, policy Policy) (*Checkpoint, error) {
	e, c, err := Inclusion(&p.Inclusion, policy)
	if err != nil {
		return nil, err
	}
	if e.Height != claim.Height || int(e.Index) != claim.Index || e.TxID != claim.Tx || p.Inclusion.LeafIndex != claim.Leaf {
		return nil, fmt.Errorf("%w: the log entry is of transaction %s at %d.%d (leaf %d), not %s at %d.%d (leaf %d)",
			ErrInvalid, e.TxID, e.Height, e.Index, p.Inclusion.LeafIndex, claim.Tx, claim.Height, claim.Index, claim.Leaf)
	}
	if err := ResultOf(e, &p.Result); err != nil {
		return nil, err
	}
	evs := p.Result.Events
	if claim.N < 0 || claim.N >= len(evs) {
		return nil, fmt.Errorf("%w: the transaction emitted %d events, not an event %d", ErrInvalid, len(evs), claim.N)
	}
	got := evs[claim.N]
	if got.Module != claim.Event.Module || got.Type != claim.Event.Type || !slices.Equal(got.Attrs, claim.Event.Attrs) {
		return nil, fmt.Errorf("%w: the transaction's event %d is %s.%s %v, not the event shown", ErrInvalid, claim.N, got.Module, got.Type, got.Attrs)
	}
	return c, nil
}

// Cursor is a position in the event feed: the N-th event of the
// transaction at Index in block Height. A cursor with End set stands
// after every event of its block.
type Cursor struct {
	Height uint64
	Index  int
	N      int
	End    bool
}

// String writes c as "HEIGHT.INDEX.N", or as "HEIGHT" for an end of block.
func (c Cursor) String() string {
	if c.End {
		return strconv.FormatUint(c.Height, 10)
	}
	return fmt.Sprintf("%d.%d.%d", c.Height, c.Index, c.N)
}

// ParseCursor parses "HEIGHT.INDEX.N", or a bare "HEIGHT", which stands
// after every event of that block.
func ParseCursor(s string) (Cursor, error) {
	parts := strings.Split(s, ".")
	bad := fmt.Errorf("cursor %q is not HEIGHT or HEIGHT.INDEX.N", s)
	if len(parts) != 1 && len(parts) != 3 {
		return Cursor{}, bad
	}
	var nums [3]uint64
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil || (i > 0 && n > math.MaxInt32) {
			return Cursor{}, bad
		}
		nums[i] = n
	}
	if len(parts) == 1 {
		return Cursor{Height: nums[0], End: true}, nil
	}
	return Cursor{Height: nums[0], Index: int(nums[1]), N: int(nums[2])}, nil
}

// Before reports whether the event at (h, i, n) comes after c.
func (c Cursor) Before(h uint64, i, n int) bool {
	switch {
	case h != c.Height:
		return h > c.Height
	case c.End:
		return false
	case i != c.Index:
		return i > c.Index
	}
	return n > c.N
}

// EventFilter selects events of the feed: by module, by type, and by
// attributes that must all be present (empty fields select all).
type EventFilter struct {
	Module string
	Type   string
	Attrs  []ledger.Attr
}

// Match reports whether f selects ev.
func (f *EventFilter) Match(ev *ledger.Event) bool {
	if (f.Module != "" && ev.Module != f.Module) || (f.Type != "" && ev.Type != f.Type) {
		return false
	}
	for _, want := range f.Attrs {
		if !slices.Contains(ev.Attrs, want) {
			return false
		}
	}
	return true
}
