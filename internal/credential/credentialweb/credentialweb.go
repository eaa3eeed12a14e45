// Package credentialweb is the credential module's part of the console:
// the accredited issuers and the credential types they registered, an
// issuer's page (its accreditation, its types, its status lists), a
// status list's page and the page of one credential's status (valid,
// revoked or suspended, since when, its history), each fact checked in
// the browser.
package credentialweb

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/agora-ledger/agora/internal/console"
	"github.com/agora-ledger/agora/internal/credential"
)

//go:embed templates
var templates embed.FS

var (
	overviewPage = console.Parse(templates, "templates/credentials.html")
	issuerPage   = console.Parse(templates, "templates/issuer.html")
	listPage     = console.Parse(templates, "templates/list.html")
	statusPage   = console.Parse(templates, "templates/status.html")
)

// Section is the credential module's console section.
func Section() console.Section {
	return console.Section{
		Nav: "Credentials", Home: "/credentials",
		Pages: []console.Page{
			{Pattern: "GET /credentials", Render: overview},
			{Pattern: "GET /credentials/issuers/{did}", Render: issuer},
			{Pattern: "GET /credentials/lists/{id}", Render: list},
			{Pattern: "GET /credentials/lists/{id}/{index}", Render: status},
		},
		Resolve: resolve,
		Glossary: []console.Term{
			{Word: "Credential", Meaning: "A signed statement about someone, such as \"this person passed the identity checks of an exchange, is over 18 and lives in Japan\", that its holder keeps and shows to whom they choose. Anyone can check who signed it and whether it still holds, without asking the signer."},
			{Word: "Credential issuer", Meaning: "An organisation that signs credentials, such as an exchange that checked its customers' identity. Governance accredits it, for some kinds of credential only; the ledger holds the accreditation and the issuer's keys."},
			{Word: "Credential type", Meaning: "A kind of credential, such as KYC (know your customer), registered by an accredited issuer with a name and the list of what it may say; it is written as a code such as urn:agora:vct:kyc:v1."},
			{Word: "Status list", Meaning: "A list an issuer keeps on the ledger with one entry for each credential it issued, saying whether that credential is valid, revoked (withdrawn for good) or suspended (withdrawn until reinstated). Whoever checks a credential reads its entry, with no call to the issuer, and the ledger keeps every change."},
			{Word: "Selective disclosure", Meaning: "Showing only some of what a credential says: its holder can prove to an exchange that they are over 18 and where they live, without showing their name, and the exchange can still check the issuer's signature."},
		},
	}
}

// resolve finds a status entry written "list ID INDEX", a list written
// "list ID" or as its status-list URI (urn:agora:credential:list:ID),
// and a credential type's code (its issuer's page).
func resolve(l console.Ledger, q string) string {
	q = strings.TrimSpace(q)
	if strings.HasPrefix(q, "urn:agora:credential:list:") {
		id, err := credential.ListOfURI(q)
		if err != nil || !exists(l, "/v1/credential/lists/"+url.PathEscape(id)) {
			return ""
		}
		return "/credentials/lists/" + url.PathEscape(id)
	}
	if rest, ok := strings.CutPrefix(strings.ToLower(q), "list "); ok {
		f := strings.Fields(q[len(q)-len(rest):])
		if len(f) == 0 || len(f) > 2 || !exists(l, "/v1/credential/lists/"+url.PathEscape(f[0])) {
			return ""
		}
		p := "/credentials/lists/" + url.PathEscape(f[0])
		if len(f) == 2 {
			if _, err := strconv.ParseUint(f[1], 10, 32); err != nil {
				return ""
			}
			p += "/" + f[1]
		}
		return p
	}
	if strings.HasPrefix(q, "urn:") && !strings.ContainsAny(q, " ?#") {
		raw, err := l.Query("/v1/credential/types?vct=" + url.QueryEscape(q))
		var t credential.TypeMetadata
		if err != nil || json.Unmarshal(raw, &t) != nil {
			return ""
		}
		return "/credentials/issuers/" + url.PathEscape(t.Issuer)
	}
	return ""
}

func exists(l console.Ledger, path string) bool {
	_, err := l.Query(path)
	return err == nil
}

// typeView is a credential type in words: its name and description from
// its Type Metadata, and the claims its schema allows.
type typeView struct {
	credential.TypeMetadata
	Name, Description string
	Claims            []string
	Check             console.Check
}

// askType reads the type vct, checked.
func askType(l console.Ledger, vct string) (typeView, error) {
	t, c, err := console.AskFor[credential.TypeMetadata](l, "/v1/credential/types?vct="+url.QueryEscape(vct), "the credential type "+vct)
	if err != nil {
		return typeView{}, err
	}
	v := typeView{TypeMetadata: t, Check: c, Name: vct}
	var doc struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Schema      struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"schema"`
	}
	if json.Unmarshal(t.Document, &doc) == nil {
		if doc.Name != "" {
			v.Name = doc.Name
		}
		v.Description = doc.Description
		for k := range doc.Schema.Properties {
			v.Claims = append(v.Claims, k)
		}
		slices.Sort(v.Claims)
	}
	return v, nil
}

// issuers reads the list of accredited issuers, which is not provable
// complete (each issuer's accreditation is checked on its own).
func issuers(l console.Ledger) ([]credential.IssuerSummary, error) {
	raw, err := l.Query("/v1/credential/issuers")
	if err != nil {
		return nil, err
	}
	var out []credential.IssuerSummary
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("credentialweb: issuers: %w", err)
	}
	return out, nil
}

// issuerView is an issuer with its checked accreditation.
type issuerView struct {
	credential.Accredited
	Check console.Check
	Types []typeView
	Lists []listView
}

func askIssuer(l console.Ledger, did string) (issuerView, error) {
	a, c, err := console.AskFor[credential.Accredited](l, "/v1/credential/issuers/"+url.PathEscape(did), "the accreditation of this issuer")
	return issuerView{Accredited: a, Check: c}, err
}

func overview(l console.Ledger, _ *http.Request) (*console.View, error) {
	all, err := issuers(l)
	if err != nil {
		return nil, err
	}
	var d struct {
		Issuers []issuerView
	}
	for _, s := range all {
		v, err := askIssuer(l, s.DID)
		if err != nil {
			return nil, err
		}
		for _, vct := range s.Types {
			t, err := askType(l, vct)
			if err != nil {
				return nil, err
			}
			v.Types = append(v.Types, t)
		}
		d.Issuers = append(d.Issuers, v)
	}
	return &console.View{Title: "Credentials", Template: overviewPage, Data: d}, nil
}

// listView is a status list, checked.
type listView struct {
	credential.List
	Check console.Check
	// Entries are the indexes of its credentials, up to maxEntries.
	Entries []uint32
}

// maxEntries is how many of a list's credentials its page links to.
const maxEntries = 100

func askList(l console.Ledger, id string) (listView, error) {
	x, c, err := console.AskFor[credential.List](l, "/v1/credential/lists/"+url.PathEscape(id), "the status list "+id)
	return listView{List: x, Check: c}, err
}

func issuer(l console.Ledger, r *http.Request) (*console.View, error) {
	did := r.PathValue("did")
	v, err := askIssuer(l, did)
	if err != nil {
		return nil, err
	}
	all, err := issuers(l)
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		if s.DID != did {
			continue
		}
		for _, vct := range s.Types {
			t, err := askType(l, vct)
			if err != nil {
				return nil, err
			}
			v.Types = append(v.Types, t)
		}
		for _, id := range s.Lists {
			x, err := askList(l, id)
			if err != nil {
				return nil, err
			}
			v.Lists = append(v.Lists, x)
		}
	}
	return &console.View{Title: "Credential issuer", Template: issuerPage, Data: v}, nil
}

func list(l console.Ledger, r *http.Request) (*console.View, error) {
	x, err := askList(l, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	for i := uint32(0); i < x.Next && i < maxEntries; i++ {
		x.Entries = append(x.Entries, i)
	}
	return &console.View{Title: "Status list " + x.ID, Template: listPage, Data: struct {
		listView
		More bool
	}{x, x.Next > maxEntries}}, nil
}

// change is one change of a credential's status, in words.
type change struct {
	credential.Change
	Status string
}

func status(l console.Ledger, r *http.Request) (*console.View, error) {
	id, index := r.PathValue("id"), r.PathValue("index")
	if _, err := strconv.ParseUint(index, 10, 32); err != nil {
		return nil, fmt.Errorf("credentialweb: %q is not an entry of a status list", index)
	}
	s, c, err := console.AskFor[credential.Status](l, "/v1/credential/lists/"+url.PathEscape(id)+"/entries/"+index, "the status of this credential and its history")
	if err != nil {
		return nil, err
	}
	var h []change
	for _, x := range s.Changes {
		h = append(h, change{x, credential.StatusName(x.Status)})
	}
	return &console.View{Title: fmt.Sprintf("Credential %d of list %s", s.Index, s.List), Template: statusPage, Data: struct {
		Status  credential.Status
		Meaning string
		History []change
		Check   console.Check
	}{s, meanings[s.Status], h, c}}, nil
}

// meanings say what a status means for whoever is shown the credential.
var meanings = map[string]string{
	"valid":     "Its issuer has not withdrawn it: whoever is shown it can rely on it.",
	"revoked":   "Its issuer withdrew it for good: it must be refused, and it cannot be reinstated.",
	"suspended": "Its issuer withdrew it for now: it must be refused until the issuer reinstates it.",
}
