package clientcmd

import (
	"bytes"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/api/wire"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/verify"
)

// TestWatcherShow checks what 'agora events watch' does with a page of
// the feed when it trusts the node (no log key): it prints the events in
// order, at most the count left, quoting attribute values that need it,
// and still refuses a page whose events are out of order, past its next
// cursor, or not of the kind asked for. The proven feed is tested
// against a node in cmd/agora (TestEventsWatchRefusesForgeries).
func TestWatcherShow(t *testing.T) {
	id := tx.ID{1}
	ev := func(h uint64, i, n int, typ string, attrs ...ledger.Attr) wire.Event {
		e := wire.Event{Cursor: verify.Cursor{Height: h, Index: i, N: n}.String(), Height: h, Index: i, N: n,
			Module: "notary", Type: typ, Attrs: attrs, Tx: &id}
		return e
	}
	scheduled := func(e wire.Event) wire.Event { e.Tx, e.Scheduled = nil, true; return e }
	tests := []struct {
		desc    string
		filter  verify.EventFilter
		from    string
		events  []wire.Event
		next    string
		max     int
		want    string // printed
		wantErr string // or the refusal
	}{
		{desc: "two events", next: "3", events: []wire.Event{
			ev(2, 0, 0, "anchored", ledger.Attr{Key: "sha256", Value: "ab"}),
			ev(3, 1, 2, "anchored", ledger.Attr{Key: "note", Value: "two words"}, ledger.Attr{Key: "empty"}),
		}, want: "2.0.0 notary.anchored sha256=ab tx=" + id.String() + "\n" +
			"3.1.2 notary.anchored note=\"two words\" empty=\"\" tx=" + id.String() + "\n"},
		{desc: "scheduled work", next: "4", events: []wire.Event{scheduled(ev(4, 2, 0, "lapsed"))},
			want: "4.2.0 notary.lapsed scheduled\n"},
		{desc: "at most max", next: "3", max: 1, events: []wire.Event{ev(2, 0, 0, "a"), ev(3, 0, 0, "b")},
			want: "2.0.0 notary.a tx=" + id.String() + "\n"},
		{desc: "an empty page", next: "9"},
		{desc: "out of order", next: "3", events: []wire.Event{ev(3, 0, 0, "a"), ev(2, 0, 0, "b")},
			wantErr: "event 2.0.0 is out of order"},
		{desc: "not after the cursor", from: "2.0.0", next: "3", events: []wire.Event{ev(2, 0, 0, "a")},
			wantErr: "event 2.0.0 is out of order"},
		{desc: "past next", next: "2", events: []wire.Event{ev(3, 0, 0, "a")},
			wantErr: "event 3.0.0 is out of order"},
		{desc: "a type not asked for", filter: verify.EventFilter{Type: "anchored"}, next: "3",
			events: []wire.Event{ev(2, 0, 0, "revoked")}, wantErr: "event 2.0.0 is not one asked for"},
		{desc: "a bad next", next: "x", wantErr: "the answer's next"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var out bytes.Buffer
			w := &watcher{filter: tt.filter, out: &out}
			n, err := w.show(&wire.Events{Events: tt.events, Next: tt.next}, tt.from, tt.max)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || out.Len() != 0 {
					t.Fatalf("show: %d, %v, printed %q; want the refusal %q and nothing printed", n, err, out.String(), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want || n != strings.Count(tt.want, "\n") {
				t.Errorf("show printed %d:\n%s\nwant:\n%s", n, out.String(), tt.want)
			}
		})
	}
}
