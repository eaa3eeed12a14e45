package ledgertest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		desc string
		line string
		want []string
	}{
		{desc: "words", line: "do alice gov vote  change=1", want: []string{"do", "alice", "gov", "vote", "change=1"}},
		{desc: "a quoted value", line: `do alice gov propose doc="Smaller blocks"`, want: []string{"do", "alice", "gov", "propose", "doc=Smaller blocks"}},
		{desc: "escapes in quotes", line: `x desc="a \"b\""`, want: []string{"x", `desc=a "b"`}},
		{desc: "JSON kept as written", line: `x actions=ledger.set_params{"a": 1, "b": "c d"} y`,
			want: []string{"x", `actions=ledger.set_params{"a": 1, "b": "c d"}`, "y"}},
		{desc: "a bracket in a JSON string", line: `x v=["]", "{"] y`, want: []string{"x", `v=["]", "{"]`, "y"}},
		{desc: "an empty quoted value", line: `x id="" y`, want: []string{"x", "id=", "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got, err := tokenize(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("tokenize(%s) (-want +got):\n%s", tt.line, diff)
			}
		})
	}
	if _, err := tokenize(`x doc="open`); err == nil {
		t.Error("an unterminated quote tokenized")
	}
}

func TestSplitTop(t *testing.T) {
	tests := []struct {
		desc, in string
		want     []string
	}{
		{desc: "names", in: "a,b,c", want: []string{"a", "b", "c"}},
		{desc: "one", in: "a", want: []string{"a"}},
		{desc: "commas inside JSON", in: `x{"a":1,"b":[1,2]},y:a0`, want: []string{`x{"a":1,"b":[1,2]}`, "y:a0"}},
		{desc: "a comma in a JSON string", in: `x{"a":"1,2"},y`, want: []string{`x{"a":"1,2"}`, "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, splitTop(tt.in)); diff != "" {
				t.Errorf("splitTop(%s) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}
