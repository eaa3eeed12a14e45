package bench

import (
	"bytes"
	"strings"
	"testing"
)

// TestScenarioList: each scenario's summary stands beside its name,
// wrapped at 75 columns with the lines after the first indented under it.
func TestScenarioList(t *testing.T) {
	got := ScenarioList([]Scenario{
		{Name: "short", Summary: "one line"},
		{Name: "long", Summary: strings.Repeat("word ", 20)},
	})
	want := "  short          one line\n" +
		"  long           word word word word word word word word word word word\n" +
		"                 word word word word word word word word word"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestWriteText: a read scenario's report counts requests answered, a
// write scenario's transactions committed; the optional lines show only
// when their numbers are set.
func TestWriteText(t *testing.T) {
	rep := &Report{Scenario: "x", Node: "embedded", Committed: 7, TxPerSec: 3.5, Ceiling: 100, Cores: 2, Ratio: 0.035}
	for _, tt := range []struct {
		desc string
		sc   Scenario
		rep  Report
		want []string
		not  []string
	}{
		{desc: "writes", sc: Notary, rep: *rep,
			want: []string{"committed    7 transactions in", "throughput   4 tx/s", "(submit to durable commit)"},
			not:  []string{"process", "scale", "soak"}},
		{desc: "reads", sc: Resolve, rep: *rep,
			want: []string{"answered     7 requests (200 OK) in", "throughput   4 req/s", "(per request)"}},
		{desc: "scale", sc: Notary, rep: Report{Records: 9, ProofBytes: 100, RestartS: 0.5},
			want: []string{"scale        9 records: a proven answer 100 bytes, 0 bytes of store per record, restart 0.50s\n"}},
	} {
		t.Run(tt.desc, func(t *testing.T) {
			var b bytes.Buffer
			tt.rep.WriteText(&b, tt.sc)
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("no %q in:\n%s", w, b.String())
				}
			}
			for _, w := range tt.not {
				if strings.Contains(b.String(), w) {
					t.Errorf("%q in:\n%s", w, b.String())
				}
			}
		})
	}
}
