package ledger

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// bell is a module whose scheduled callbacks emit: each emits "rang"
// with its key, and a key beginning with "fail" then fails.
type bell struct{}

func (bell) Name() string                               { return "bell" }
func (bell) Decode(string, []byte) (Msg, error)         { return nil, ErrUnknownType }
func (bell) Execute(*Context, Msg) error                { return ErrUnknownType }
func (bell) Queries() []Query                           { return nil }
func (bell) InitGenesis(*KV, json.RawMessage) error     { return nil }
func (bell) ExportGenesis(*KV) (json.RawMessage, error) { return nil, nil }

func (bell) Due(ctx *Context, key []byte) error {
	ctx.Emit("rang", Attr{Key: "key", Value: string(key)})
	if strings.HasPrefix(string(key), "fail") {
		return fmt.Errorf("%w: bell: %s fails", ErrInvalid, key)
	}
	return nil
}

// TestDueEvents: a block keeps the events of its scheduled callbacks that
// succeeded, in the order they ran and named by their module, under the
// key of its height and transaction count; a failed callback's events
// vanish with its writes, and a block whose callbacks emit nothing keeps
// no key. The same schedule gives the same writes.
func TestDueEvents(t *testing.T) {
	e, err := NewExecutor("due-events", bell{})
	if err != nil {
		t.Fatal(err)
	}
	run := func() *overlay {
		blk := newOverlay(emptyState{})
		kv := &KV{o: blk, prefix: []byte(Namespace + "/")}
		entries := []Entry{
			{Seq: 1, Time: 1000, Module: "bell", Key: []byte("ring-a")},
			{Seq: 2, Time: 1000, Module: "bell", Key: []byte("fail-b")},
			{Seq: 3, Time: 1500, Module: "bell", Key: []byte("ring-c")},
			{Seq: 4, Time: 9000, Module: "bell", Key: []byte("ring-later")},
		}
		if err := e.loadSchedule(kv, entries, 4); err != nil {
			t.Fatal(err)
		}
		if err := e.runDue(blk, Block{Height: 7, Time: time.UnixMilli(2000)}, 3); err != nil {
			t.Fatal(err)
		}
		if err := e.runDue(blk, Block{Height: 8, Time: time.UnixMilli(3000)}, 0); err != nil {
			t.Fatal(err)
		}
		return blk
	}
	blk := run()
	got, ok, err := DueEvents(blk, 7, 3)
	if err != nil || !ok {
		t.Fatalf("block 7 kept no events of its scheduled work: %v", err)
	}
	want := &Result{Code: "ok", Events: []Event{
		{Module: "bell", Type: "rang", Attrs: []Attr{{Key: "key", Value: "ring-a"}}},
		{Module: "bell", Type: "rang", Attrs: []Attr{{Key: "key", Value: "ring-c"}}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("block 7's scheduled work (-want +got):\n%s", diff)
	}
	for _, at := range [][2]uint64{{7, 0}, {7, 4}, {6, 3}, {8, 0}} {
		if _, ok, err := DueEvents(blk, at[0], int(at[1])); ok || err != nil {
			t.Errorf("DueEvents(%d, %d) = %v, %v: want nothing kept", at[0], at[1], ok, err)
		}
	}
	if diff := cmp.Diff(blk.sorted(), run().sorted()); diff != "" {
		t.Errorf("the same schedule gave other writes (-first +second):\n%s", diff)
	}
}
