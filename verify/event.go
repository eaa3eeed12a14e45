package verify

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// EventProof proves an event of the feed (GET /v1/events?proof=1): the
// whole result that holds it, and where that result is recorded. A
// transaction's event comes with the inclusion of the transaction's log
// entry, which records the result's hash; an event of a block's scheduled
// work (EventClaim.Scheduled) with the state proof of the key under which
// the block kept that work's result (ledger.DueEventsKey).
type EventProof struct {
	Result    ledger.Result   `json:"result"`
	Inclusion *InclusionProof `json:"inclusion,omitempty"`
	State     *StateProof     `json:"state,omitempty"`
}

// EventClaim is an event as an answer shows it: the N-th event of the
// result at Index in block Height, that of transaction Tx at leaf Leaf,
// or, Scheduled set, that of the block's scheduled work, which has no
// transaction and no leaf (its Index is the block's transaction count).
type EventClaim struct {
	Height    uint64
	Index     int
	N         int
	Scheduled bool
	Leaf      *uint64
	Tx        *tx.ID
	Event     ledger.Event
}

// Event verifies that p proves the event claimed, exactly, and returns
// the checkpoint the proof is against, whose height says how fresh the
// answer is. For a transaction's event: the log entry is included in a
// log trusted under policy, it is the entry of the claimed transaction at
// the claimed height, index and leaf, and it records the hash of p's
// result. For an event of scheduled work: the state proof, trusted under
// policy, shows that the state holds p's result under the key of the
// claimed height and index. Then, for both: that result's N-th event is
// the claimed event, module, type and every attribute in order.
func Event(claim *EventClaim, p *EventProof, policy Policy) (*Checkpoint, error) {
	var c *Checkpoint
	var err error
	if claim.Scheduled {
		c, err = scheduledResult(claim, p, policy)
	} else {
		c, err = transactionResult(claim, p, policy)
	}
	if err != nil {
		return nil, err
	}
	evs := p.Result.Events
	if claim.N < 0 || claim.N >= len(evs) {
		return nil, fmt.Errorf("%w: the result holds %d events, not an event %d", ErrInvalid, len(evs), claim.N)
	}
	got := evs[claim.N]
	if got.Module != claim.Event.Module || got.Type != claim.Event.Type || !slices.Equal(got.Attrs, claim.Event.Attrs) {
		return nil, fmt.Errorf("%w: the result's event %d is %s.%s %v, not the event shown", ErrInvalid, claim.N, got.Module, got.Type, got.Attrs)
	}
	return c, nil
}

// transactionResult checks that p proves the result of the transaction
// claimed, by its log entry.
func transactionResult(claim *EventClaim, p *EventProof, policy Policy) (*Checkpoint, error) {
	if claim.Tx == nil || claim.Leaf == nil || p.Inclusion == nil || p.State != nil {
		return nil, fmt.Errorf("%w: a transaction's event names its transaction and leaf, and is proven by its log entry's inclusion", ErrInvalid)
	}
	e, c, err := Inclusion(p.Inclusion, policy)
	if err != nil {
		return nil, err
	}
	if e.Height != claim.Height || int(e.Index) != claim.Index || e.TxID != *claim.Tx || p.Inclusion.LeafIndex != *claim.Leaf {
		return nil, fmt.Errorf("%w: the log entry is of transaction %s at %d.%d (leaf %d), not %s at %d.%d (leaf %d)",
			ErrInvalid, e.TxID, e.Height, e.Index, p.Inclusion.LeafIndex, claim.Tx, claim.Height, claim.Index, *claim.Leaf)
	}
	return c, ResultOf(e, &p.Result)
}

// scheduledResult checks that p proves the result of the scheduled work
// of the block claimed, by the state key the block kept it under.
func scheduledResult(claim *EventClaim, p *EventProof, policy Policy) (*Checkpoint, error) {
	if claim.Tx != nil || claim.Leaf != nil || p.State == nil || p.Inclusion != nil {
		return nil, fmt.Errorf("%w: an event of scheduled work has no transaction or leaf, and is proven by the state", ErrInvalid)
	}
	key := ledger.DueEventsKey(claim.Height, claim.Index)
	if len(p.State.Keys) != 1 || !bytes.Equal(p.State.Keys[0].Key, key) {
		return nil, fmt.Errorf("%w: the state proof is not of the key of block %d's scheduled work at index %d", ErrInvalid, claim.Height, claim.Index)
	}
	vals, c, err := State(p.State, policy)
	if err != nil {
		return nil, err
	}
	rb, err := tx.Marshal(&p.Result)
	if err != nil {
		return nil, err
	}
	if v := vals[string(key)]; v == nil || !bytes.Equal(v, rb) {
		return nil, fmt.Errorf("%w: block %d kept another result of its scheduled work at index %d, or none", ErrInvalid, claim.Height, claim.Index)
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
