package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/agora-ledger/agora/internal/tx"
)

// The scheduler: work that falls due at a block time rather than in a
// transaction (a vote closing, a pending action expiring, a custody
// round ending). A module schedules a callback under a key of its own
// (Context.Schedule, Context.Cancel); after each block's transactions the
// executor runs the entries whose time the block's time has reached,
// soonest first and, at the same time, in the order they were scheduled,
// through the module's Scheduled.Due — at most MaxDuePerBlock a block,
// for all modules together; the rest stay due and run in the next blocks,
// first. A module has at most one entry per key: scheduling a key again
// moves it.
//
// Each callback runs in an overlay of its own. Its writes join the
// block's when it succeeds; when it fails they vanish and the entry is
// kept, out of the due index, as a failed entry with the height, code and
// reason: a failing callback never halts the block or runs again. An
// ErrStorage error fails the block. The entry leaves the due index before
// its callback runs, so a callback may schedule its key again, and an
// entry that an earlier callback of the same block cancelled or moved
// does not run. An entry a callback schedules at or before the block's
// time runs in the next block.
//
// The callbacks that succeed emit events as a transaction does (Emit; an
// enacted action's name its target module, the others the module that
// scheduled the entry), in the order they ran. They are the events of the
// block's scheduled work, which the event feed shows after the block's
// transactions, at the index that follows the last one. The block keeps
// them in state, so that a state proof against any later checkpoint
// proves them: under DueEventsKey(height, index), a Result with code "ok"
// and the events, in canonical CBOR. A block whose callbacks emit nothing
// writes no such key.
//
// State, in the ledger's namespace: "ledger/sched/due/<time><seq>" (an
// Entry; time in Unix milliseconds and seq, each 8 bytes big-endian, so
// that key order is due order), "ledger/sched/key/<module>/<key>" (the
// entry's time and seq: how Schedule and Cancel find it),
// "ledger/sched/failed/<time><seq>" (an Entry with its Failure),
// "ledger/sched/seq" (the last sequence number given) and
// "ledger/sched/events/<height><index>" (the events of a block's scheduled
// work; height 8 bytes and index 4 bytes, big-endian).

// MaxDuePerBlock bounds the scheduled callbacks one block runs, whichever
// modules scheduled them. It is a protocol constant, like tx.MaxSize: it
// bounds the work a block does beyond its transactions, which the block
// limits (governed) do not cover, and it decides no outcome — entries
// beyond it run one block later, still in order — so there is nothing for
// the stakeholders to weigh; raising it is a coordinated upgrade.
const MaxDuePerBlock = 128

// MaxScheduleKey bounds the key of a scheduled entry.
const MaxScheduleKey = 256

// Scheduled is implemented by a module that schedules callbacks with
// Context.Schedule.
type Scheduled interface {
	// Due runs the entry the module scheduled under key, once the block's
	// time has reached the entry's. ctx is the module's, with the block
	// and no signers; Due may schedule and cancel entries, enact (the
	// governance module) and emit events. It must be deterministic. An
	// error other than ErrStorage discards Due's writes and is recorded
	// with the entry, which does not run again; ErrStorage fails the
	// block.
	Due(ctx *Context, key []byte) error
}

// Entry is one scheduled callback.
type Entry struct {
	Seq    uint64 `cbor:"1,keyasint" json:"seq"`
	Time   int64  `cbor:"2,keyasint" json:"time"` // Unix ms
	Module string `cbor:"3,keyasint" json:"module"`
	Key    []byte `cbor:"4,keyasint" json:"key"`
	// Failed says why the callback failed; nil while the entry is due.
	Failed *Failure `cbor:"5,keyasint,omitempty" json:"failed,omitempty"`
}

// Failure is the recorded failure of a scheduled callback.
type Failure struct {
	Height uint64 `cbor:"1,keyasint" json:"height"`
	Code   string `cbor:"2,keyasint" json:"code"`
	Error  string `cbor:"3,keyasint" json:"error"`
}

const (
	schedDue    = "sched/due/"
	schedKey    = "sched/key/"
	schedFailed = "sched/failed/"
	schedEvents = "sched/events/"
)

var schedSeqKey = []byte("sched/seq")

// slot is an entry's time and seq: the suffix of its due and failed keys.
func slot(at int64, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(at)), seq)
}

func schedKeyOf(module string, key []byte) []byte {
	return append([]byte(schedKey+module+"/"), key...)
}

// Schedule schedules the calling module's Due with key at time at (to the
// millisecond), moving the entry already scheduled under key, if any. The
// module must implement Scheduled.
func (c *Context) Schedule(at time.Time, key []byte) error {
	if err := c.checkSchedule(key); err != nil {
		return err
	}
	ms := at.UnixMilli()
	if ms < 0 {
		return fmt.Errorf("%w: schedule: time %s is before 1970", ErrInvalid, at.UTC().Format(time.RFC3339))
	}
	kv := c.ledgerKV()
	if err := unschedule(kv, c.module, key); err != nil {
		return err
	}
	var seq uint64
	if _, err := kv.GetValue(schedSeqKey, &seq); err != nil {
		return err
	}
	seq++
	if err := kv.SetValue(schedSeqKey, seq); err != nil {
		return err
	}
	return putEntry(kv, &Entry{Seq: seq, Time: ms, Module: c.module, Key: bytes.Clone(key)})
}

// Cancel removes the calling module's entry under key; without one it
// does nothing.
func (c *Context) Cancel(key []byte) error {
	if err := c.checkSchedule(key); err != nil {
		return err
	}
	return unschedule(c.ledgerKV(), c.module, key)
}

func (c *Context) checkSchedule(key []byte) error {
	if c.exec == nil || c.o == nil {
		return fmt.Errorf("%w: schedule: no executor", ErrInvalid)
	}
	if _, ok := c.exec.mods[c.module].(Scheduled); !ok && c.module != Namespace {
		return fmt.Errorf("%w: schedule: module %q has no Due callback", ErrInvalid, c.module)
	}
	if len(key) == 0 || len(key) > MaxScheduleKey {
		return fmt.Errorf("%w: schedule: a key is 1 to %d bytes", ErrInvalid, MaxScheduleKey)
	}
	return nil
}

func (c *Context) ledgerKV() *KV { return &KV{o: c.o, prefix: []byte(Namespace + "/")} }

// putEntry indexes a due entry.
func putEntry(kv *KV, en *Entry) error {
	s := slot(en.Time, en.Seq)
	kv.Set(schedKeyOf(en.Module, en.Key), s)
	return kv.SetValue(append([]byte(schedDue), s...), en)
}

// unschedule removes module's due entry under key, if any.
func unschedule(kv *KV, module string, key []byte) error {
	k := schedKeyOf(module, key)
	s, ok, err := kv.Get(k)
	if err != nil || !ok {
		return err
	}
	if len(s) != 16 {
		return fmt.Errorf("%w: bad schedule index %q", ErrStorage, k)
	}
	kv.Delete(k)
	kv.Delete(append([]byte(schedDue), s...))
	return nil
}

// runDue runs the scheduled callbacks that are due at block b, at most
// MaxDuePerBlock, in due order, and records their events under
// DueEventsKey(b.Height, index): index is the block's transaction count.
func (e *Executor) runDue(blk *overlay, b Block, index int) error {
	kv := &KV{o: blk, prefix: []byte(Namespace + "/")}
	now := b.Time.UnixMilli()
	var due [][]byte // slots
	err := kv.Iterate([]byte(schedDue), func(k, _ []byte) (bool, error) {
		if len(k) != 16 {
			return false, fmt.Errorf("%w: bad scheduled entry key %q", ErrStorage, k)
		}
		if int64(binary.BigEndian.Uint64(k)) > now || len(due) == MaxDuePerBlock {
			return false, nil
		}
		due = append(due, bytes.Clone(k))
		return true, nil
	})
	if err != nil {
		return err
	}
	var events []Event
	for _, s := range due {
		var en Entry
		found, err := kv.GetValue(append([]byte(schedDue), s...), &en)
		if err != nil {
			return err
		}
		if !found {
			continue // cancelled or moved by an earlier callback
		}
		if err := unschedule(kv, en.Module, en.Key); err != nil {
			return err
		}
		evs, err := e.runEntry(blk, b, &en)
		if err != nil {
			return err
		}
		events = append(events, evs...)
	}
	if len(events) == 0 {
		return nil
	}
	return kv.SetValue(dueEventsKey(b.Height, index), &Result{Code: "ok", Events: events})
}

// runEntry runs one entry's callback, recording its failure. It returns
// the events of a callback that succeeded.
func (e *Executor) runEntry(blk *overlay, b Block, en *Entry) ([]Event, error) {
	o := newOverlay(blk)
	ctx := &Context{Block: b, KV: &KV{o: o, prefix: []byte(en.Module + "/")}, o: o, module: en.Module, exec: e}
	var err error
	if en.Module == Namespace {
		err = e.ledgerDue(ctx, en.Key)
	} else if m, ok := e.mods[en.Module].(Scheduled); ok {
		err = m.Due(ctx, en.Key)
	} else {
		err = fmt.Errorf("%w: no module %q with a Due callback", ErrNotFound, en.Module)
	}
	if errors.Is(err, ErrStorage) {
		return nil, err
	}
	if err == nil {
		o.mergeInto(blk)
		return ctx.emitted(), nil
	}
	en.Failed = &Failure{Height: b.Height, Code: Code(err), Error: err.Error()}
	return nil, (&KV{o: blk, prefix: []byte(Namespace + "/")}).SetValue(append([]byte(schedFailed), slot(en.Time, en.Seq)...), en)
}

// dueEventsKey is DueEventsKey within the ledger's namespace.
func dueEventsKey(height uint64, index int) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64([]byte(schedEvents), height), uint32(index))
}

// DueEventsKey is the state key under which block height keeps the
// events of its scheduled work; index is the block's transaction count,
// the feed's index of that work.
func DueEventsKey(height uint64, index int) []byte {
	return append([]byte(Namespace+"/"), dueEventsKey(height, index)...)
}

// DueEvents returns the events of block height's scheduled work, as the
// Result the block kept, and whether it kept one (it does only when its
// callbacks emitted events); index is the block's transaction count.
func DueEvents(r StateReader, height uint64, index int) (*Result, bool, error) {
	b, ok, err := r.Get(DueEventsKey(height, index))
	if err != nil || !ok {
		return nil, false, err
	}
	var res Result
	if err := tx.Unmarshal(b, &res); err != nil {
		return nil, false, fmt.Errorf("%w: the events of block %d's scheduled work: %v", ErrStorage, height, err)
	}
	return &res, true, nil
}

// ledgerDue runs the ledger's own scheduled entries: pending actions
// expiring.
func (e *Executor) ledgerDue(ctx *Context, key []byte) error {
	id, ok := parsePendingKey(key)
	if !ok {
		return fmt.Errorf("%w: ledger: no scheduled work %q", ErrInvalid, key)
	}
	return expirePending(ctx, id)
}

// ScheduleOf returns module's due entries, soonest first; kv is a view of
// the ledger's namespace (KV.View(Namespace) in a query).
func ScheduleOf(kv *KV, module string) ([]Entry, error) {
	out := []Entry{}
	err := kv.Iterate(schedKeyOf(module, nil), func(k, s []byte) (bool, error) {
		if len(s) != 16 {
			return false, fmt.Errorf("%w: bad schedule index %q", ErrStorage, k)
		}
		out = append(out, Entry{Time: int64(binary.BigEndian.Uint64(s)), Seq: binary.BigEndian.Uint64(s[8:]),
			Module: module, Key: bytes.Clone(k)})
		return true, nil
	})
	slices.SortFunc(out, func(a, b Entry) int { return bytes.Compare(slot(a.Time, a.Seq), slot(b.Time, b.Seq)) })
	return out, err
}

// loadSchedule stores the scheduler's entries of a genesis: due ones
// indexed, failed ones kept; seq is the last sequence number given.
func (e *Executor) loadSchedule(kv *KV, entries []Entry, seq uint64) error {
	for i := range entries {
		en := &entries[i]
		if en.Module != Namespace && e.mods[en.Module] == nil {
			return fmt.Errorf("genesis scheduled entry %d: unknown module %q", en.Seq, en.Module)
		}
		if en.Seq == 0 || en.Seq > seq || en.Time < 0 || len(en.Key) == 0 || len(en.Key) > MaxScheduleKey {
			return fmt.Errorf("genesis scheduled entry %d: needs a seq from 1 to schedule_seq (%d), a time and a key of 1 to %d bytes", en.Seq, seq, MaxScheduleKey)
		}
		s := slot(en.Time, en.Seq)
		if en.Failed != nil {
			if err := kv.SetValue(append([]byte(schedFailed), s...), en); err != nil {
				return err
			}
			continue
		}
		_, dupSlot, err := kv.Get(append([]byte(schedDue), s...))
		if err != nil {
			return err
		}
		_, dupKey, err := kv.Get(schedKeyOf(en.Module, en.Key))
		if err != nil {
			return err
		}
		if dupSlot || dupKey {
			return fmt.Errorf("genesis scheduled entry %d: its time and seq, or %s's key %q, repeat", en.Seq, en.Module, en.Key)
		}
		if err := putEntry(kv, en); err != nil {
			return err
		}
	}
	if seq == 0 {
		return nil
	}
	return kv.SetValue(schedSeqKey, seq)
}

// exportSchedule reads the scheduler: its entries, due ones (in due
// order) then failed ones, and the last sequence number given.
func exportSchedule(kv *KV) ([]Entry, uint64, error) {
	var out []Entry
	for _, p := range []string{schedDue, schedFailed} {
		err := kv.Iterate([]byte(p), func(_, v []byte) (bool, error) {
			var en Entry
			if err := tx.Unmarshal(v, &en); err != nil {
				return false, fmt.Errorf("%w: scheduled entry: %v", ErrStorage, err)
			}
			out = append(out, en)
			return true, nil
		})
		if err != nil {
			return nil, 0, err
		}
	}
	var seq uint64
	_, err := kv.GetValue(schedSeqKey, &seq)
	return out, seq, err
}

// DueEventRecord is what the state keeps of one block's scheduled work
// (DueEvents), as a genesis carries it.
type DueEventRecord struct {
	Height uint64 `json:"height"`
	Index  uint32 `json:"index"`
	Result Result `json:"result"`
}

// exportDueEvents reads the kept events of scheduled work, in key order.
func exportDueEvents(kv *KV) ([]DueEventRecord, error) {
	var out []DueEventRecord
	err := kv.Iterate([]byte(schedEvents), func(k, v []byte) (bool, error) {
		at := k // the key after the prefix
		if len(at) != 12 {
			return false, fmt.Errorf("%w: bad scheduled events key %q", ErrStorage, k)
		}
		rec := DueEventRecord{Height: binary.BigEndian.Uint64(at), Index: binary.BigEndian.Uint32(at[8:])}
		if err := tx.Unmarshal(v, &rec.Result); err != nil {
			return false, fmt.Errorf("%w: the events of block %d's scheduled work: %v", ErrStorage, rec.Height, err)
		}
		out = append(out, rec)
		return true, nil
	})
	return out, err
}

// loadDueEvents stores the kept events of a genesis's scheduled work.
func loadDueEvents(kv *KV, recs []DueEventRecord) error {
	for i := range recs {
		r := &recs[i]
		k := dueEventsKey(r.Height, int(r.Index))
		_, dup, err := kv.Get(k)
		if err != nil {
			return err
		}
		if dup || r.Height == 0 || r.Result.Code != "ok" || len(r.Result.Events) == 0 {
			return fmt.Errorf("genesis due event record %d: needs a height, code ok and events, once per height and index", i)
		}
		if err := kv.SetValue(k, &r.Result); err != nil {
			return err
		}
	}
	return nil
}

// scheduleQueries answer what is scheduled.
func scheduleQueries() []Query {
	return []Query{
		{Name: "schedule", Pattern: "GET /v1/ledger/schedule",
			Summary: "The scheduler's entries: callbacks the modules scheduled at a block time, soonest first, then those whose callback failed, with why.",
			Params:  []Param{{"module", "only those of this module"}, {"status", "only the due entries (due) or the failed ones (failed)"}},
			Run: func(kv *KV, arg func(string) string) (any, error) {
				status := arg("status")
				if status != "" && status != "due" && status != "failed" {
					return nil, fmt.Errorf("%w: status is due or failed, not %q", ErrInvalid, status)
				}
				all, _, err := exportSchedule(kv)
				out := []Entry{}
				for _, en := range all {
					if (arg("module") == "" || arg("module") == en.Module) &&
						(status == "" || (status == "failed") == (en.Failed != nil)) {
						out = append(out, en)
					}
				}
				if err != nil {
					return nil, err
				}
				return out, nil
			}, Answer: []Entry{}},
	}
}
