// Package notaryweb is the notary module's part of the console: the page
// of a file's record (whether, when and by whom its digest was anchored,
// or the proof that it never was), which a file dropped on the search
// page leads to.
package notaryweb

import (
	"embed"
	"net/http"
	"strings"

	"github.com/agora-ledger/agora/internal/console"
	"github.com/agora-ledger/agora/internal/notary"
)

//go:embed templates
var templates embed.FS

var anchorPage = console.Parse(templates, "templates/anchor.html")

// Section is the notary module's console section.
func Section() console.Section {
	return console.Section{
		Pages:    []console.Page{{Pattern: "GET /anchor/{sha256}", Render: anchor}},
		Resolve:  anchored,
		Fallback: resolve,
		Glossary: []console.Term{
			{Word: "Anchor", Meaning: "A file's SHA-256 digest recorded in the ledger: proof that the file existed, unchanged, when the record was made, without the file itself ever being published."},
		},
	}
}

// anchored claims the digest of an anchored file.
func anchored(l console.Ledger, q string) string {
	q = strings.ToLower(q)
	if _, err := notary.ParseDigest(q); err != nil {
		return ""
	}
	if _, err := l.Query("/v1/notary/anchors/" + q); err != nil {
		return ""
	}
	return "/anchor/" + q
}

// resolve claims, once no section did, every SHA-256 digest: its page
// shows the record, or proves there is none.
func resolve(_ console.Ledger, q string) string {
	q = strings.ToLower(q)
	if _, err := notary.ParseDigest(q); err != nil {
		return ""
	}
	return "/anchor/" + q
}

func anchor(l console.Ledger, r *http.Request) (*console.View, error) {
	sum := strings.ToLower(r.PathValue("sha256"))
	if _, err := notary.ParseDigest(sum); err != nil {
		return nil, err
	}
	path := "/v1/notary/anchors/" + sum
	d := struct {
		SHA256 string
		Record *notary.RecordJSON
		Label  string
		Check  console.Check
	}{SHA256: sum}
	rec, c, err := console.AskFor[notary.RecordJSON](l, path, "this file's record")
	switch {
	case console.NotFound(err):
		// The absence is proven too: the check's digest is empty.
		d.Check = console.Check{Kind: "answer", Path: path, What: "that no file with this digest was anchored"}
		return &console.View{Title: "No record of this file", Template: anchorPage, Data: d}, nil
	case err != nil:
		return nil, err
	}
	d.Record, d.Check = &rec, c
	if acc, err := l.Account(d.Record.Owner); err == nil {
		d.Label = acc.Label
	}
	return &console.View{Title: "A file's record", Template: anchorPage, Data: d}, nil
}
