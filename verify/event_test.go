package verify

import (
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
)

func TestCursor(t *testing.T) {
	tests := []struct {
		desc   string
		in     string
		bad    bool
		before [][3]int // positions (height, index, n) after the cursor
		after  [][3]int // positions at or before it
	}{
		{desc: "an event", in: "5.1.2", before: [][3]int{{5, 1, 3}, {5, 2, 0}, {6, 0, 0}}, after: [][3]int{{5, 1, 2}, {5, 1, 1}, {5, 0, 9}, {4, 9, 9}}},
		{desc: "the end of a block", in: "5", before: [][3]int{{6, 0, 0}}, after: [][3]int{{5, 1 << 30, 0}, {5, 0, 0}, {4, 0, 0}}},
		{desc: "the whole history", in: "0", before: [][3]int{{1, 0, 0}}},
		{desc: "two numbers", in: "5.1", bad: true},
		{desc: "four numbers", in: "5.1.2.3", bad: true},
		{desc: "not a number", in: "five", bad: true},
		{desc: "negative", in: "5.-1.0", bad: true},
		{desc: "an index beyond 32 bits", in: "5.4294967296.0", bad: true},
		{desc: "empty", in: "", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			c, err := ParseCursor(tt.in)
			if (err != nil) != tt.bad {
				t.Fatalf("ParseCursor(%q) = %v, %v", tt.in, c, err)
			}
			if tt.bad {
				return
			}
			if c.String() != tt.in {
				t.Errorf("%q reads back as %q", tt.in, c)
			}
			for _, p := range tt.before {
				if !c.Before(uint64(p[0]), p[1], p[2]) {
					t.Errorf("%v is not after %s", p, c)
				}
			}
			for _, p := range tt.after {
				if c.Before(uint64(p[0]), p[1], p[2]) {
					t.Errorf("%v is after %s", p, c)
				}
			}
		})
	}
}

func TestEventFilter(t *testing.T) {
	ev := ledger.Event{Module: "gov", Type: "change", Attrs: []ledger.Attr{{Key: "id", Value: "1"}, {Key: "status", Value: "approved"}}}
	tests := []struct {
		desc string
		f    EventFilter
		want bool
	}{
		{desc: "nothing asked", want: true},
		{desc: "its module and type", f: EventFilter{Module: "gov", Type: "change"}, want: true},
		{desc: "another module", f: EventFilter{Module: "notary"}},
		{desc: "another type", f: EventFilter{Type: "vote"}},
		{desc: "both its attributes", f: EventFilter{Attrs: []ledger.Attr{{Key: "status", Value: "approved"}, {Key: "id", Value: "1"}}}, want: true},
		{desc: "one attribute it lacks", f: EventFilter{Attrs: []ledger.Attr{{Key: "id", Value: "1"}, {Key: "status", Value: "voting"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := tt.f.Match(&ev); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}
