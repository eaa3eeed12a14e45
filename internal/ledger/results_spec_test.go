package ledger_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

const transactionsSpec = "../../docs/spec/transactions.md"

// TestSpecResults checks the worked example of docs/spec/transactions.md
// section 8.3 against the code: every byte of the two annotated results,
// their result_sha256, the block's results_hash and that of an empty
// block, so the spec cannot drift from what nodes commit to.
func TestSpecResults(t *testing.T) {
	b, err := os.ReadFile(transactionsSpec)
	if err != nil {
		t.Fatal(err)
	}
	spec := string(b)
	const sum = "8ef277c4ccd14bebdc43431e272929c892247dcbf5c35cac93a985812ee7f50c" // the first tx vector's digest
	const owner = "dc1b27cb3eef585085efcdebbeec141a1eec0256"                       // and its signer's address
	ok := ledger.Result{Code: "ok", Events: []ledger.Event{{Module: "notary", Type: "anchored",
		Attrs: []ledger.Attr{{Key: "sha256", Value: sum}, {Key: "owner", Value: owner}}}}}
	conflict := ledger.Result{Code: "conflict", Error: "conflict: " + sum + " was already anchored at height 1 by " + owner}

	var want []string // hex the spec must show
	for _, c := range []struct {
		name string
		res  ledger.Result
	}{{"ok", ok}, {"conflict", conflict}} {
		enc, err := tx.Marshal(&c.res)
		if err != nil {
			t.Fatal(err)
		}
		if got := annotatedBytes(t, spec, "result-example "+c.name); !bytes.Equal(got, enc) {
			t.Errorf("result %s: the spec shows\n%x\nthe code encodes\n%x", c.name, got, enc)
		}
		if !strings.Contains(spec, fmt.Sprintf("is %d bytes", len(enc))) {
			t.Errorf("result %s: the spec does not say it is %d bytes", c.name, len(enc))
		}
		// result_sha256 is what the log entry holds.
		e := ledger.NewLogEntry(1, 0, tx.ID{}, nil, &c.res)
		if h := sha256.Sum256(enc); !bytes.Equal(e.ResultHash, h[:]) {
			t.Errorf("result %s: the log entry's result_sha256 %x is not SHA-256 of the encoding %x", c.name, e.ResultHash, h)
		}
		want = append(want, hex.EncodeToString(e.ResultHash))
	}
	want = append(want, hex.EncodeToString(ledger.ResultsHash([]ledger.Result{ok, conflict})),
		hex.EncodeToString(ledger.ResultsHash([]ledger.Result{})))
	for _, h := range want {
		if !strings.Contains(spec, h) {
			t.Errorf("%s does not show %s", transactionsSpec, h)
		}
	}
}

var quoted = regexp.MustCompile(`^"(?:[^"\\]|\\.)*"`)

// annotatedBytes returns the bytes of the code block after the comment
// <!-- marker -->: on each line, before the first double space, hex bytes
// and quoted strings (their UTF-8 bytes).
func annotatedBytes(t *testing.T, spec, marker string) []byte {
	t.Helper()
	_, rest, found := strings.Cut(spec, "<!-- "+marker+" -->\n```\n")
	block, _, closed := strings.Cut(rest, "```")
	if !found || !closed {
		t.Fatalf("%s has no code block marked %q", transactionsSpec, marker)
	}
	var out []byte
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		s := strings.TrimSpace(line)
		for s != "" && !strings.HasPrefix(s, " ") {
			if q := quoted.FindString(s); q != "" {
				u, err := strconv.Unquote(q)
				if err != nil {
					t.Fatalf("%q: %v", line, err)
				}
				out = append(out, u...)
				s = s[len(q):]
			} else {
				tok, _, _ := strings.Cut(s, " ")
				b, err := hex.DecodeString(tok)
				if err != nil || len(b) != 1 {
					t.Fatalf("%s, %q: %q is neither a hex byte nor a quoted string", marker, line, tok)
				}
				out = append(out, b...)
				s = s[len(tok):]
			}
			if strings.HasPrefix(s, " ") && !strings.HasPrefix(s, "  ") {
				s = s[1:]
			}
		}
	}
	return out
}
