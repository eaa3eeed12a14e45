// Package consoletest checks a rendered console page the way the reader's
// browser does, for the tests of the packages that serve it: it finds the
// page's checks, fetches each proof from the node and runs the in-browser
// check (package check) over it.
package consoletest

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/console"
	"github.com/agora-ledger/agora/internal/console/check"
)

// checkRE finds a page's checks (console.CheckHTML).
var checkRE = regexp.MustCompile(`<div class="check" role="status" data-kind="([^"]*)" data-path="([^"]*)" data-digest="([^"]*)" data-witnesses="([^"]*)"`)

// Checks returns the checks on a page.
func Checks(page []byte) []console.Check {
	var out []console.Check
	for _, m := range checkRE.FindAllSubmatch(page, -1) {
		out = append(out, console.Check{Kind: html.UnescapeString(string(m[1])), Path: html.UnescapeString(string(m[2])),
			Digest: html.UnescapeString(string(m[3])), Witnesses: strings.Fields(html.UnescapeString(string(m[4])))})
	}
	return out
}

// Run fetches the proof of c from the node at base and checks it as the
// page's script does, under trust (a check.Trust as JSON) at now (Unix
// milliseconds), after tamper (if set) altered the answer. A proven
// answer whose digest is not the page's fails, as in the browser.
func Run(t testing.TB, base string, c console.Check, trust string, now int64, tamper func(string) string) check.Report {
	t.Helper()
	url := base + c.Path
	if c.Kind != "checkpoint" { // as the script asks, after a path's own parameters
		if strings.Contains(c.Path, "?") {
			url += "&proof=1"
		} else {
			url += "?proof=1"
		}
	}
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	body := string(b)
	if tamper != nil {
		body = tamper(body)
	}
	var out string
	switch c.Kind {
	case "answer":
		out = check.Answer(c.Path, []byte(body), trust, now)
	case "tx":
		out = check.Tx([]byte(body), trust, c.Digest, now) // the claim, as the page passes it
	case "checkpoint":
		if len(c.Witnesses) > 0 { // as the page's script adds them
			var tr check.Trust
			json.Unmarshal([]byte(trust), &tr)
			tr.Witnesses = c.Witnesses
			b, _ := json.Marshal(tr)
			trust = string(b)
		}
		out = check.Checkpoint([]byte(body), trust, now)
	default:
		t.Fatalf("unknown check kind %q", c.Kind)
	}
	var rep check.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report %s: %v", out, err)
	}
	if c.Kind == "answer" && rep.OK && rep.Digest != c.Digest {
		rep.OK, rep.Error = false, "the page shows another answer than the proven one"
	}
	return rep
}

// Trust is the trust of a reader who pinned logKey.
func Trust(logKey string) string {
	b, _ := json.Marshal(check.Trust{LogKey: logKey})
	return string(b)
}
