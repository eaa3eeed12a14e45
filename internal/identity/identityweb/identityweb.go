// Package identityweb is the identity module's part of the console: a
// page for a DID (its document, its keys in plain words, its recovery
// state and its history) and one for a name, and the search for both.
package identityweb

import (
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/agora-ledger/agora/internal/console"
	"github.com/agora-ledger/agora/internal/identity"
)

//go:embed templates
var templates embed.FS

var (
	didPage  = console.ParseWith(template.FuncMap{"change": changeWords}, templates, "templates/did.html")
	namePage = console.Parse(templates, "templates/name.html")
)

// Section is the identity module's console section.
func Section() console.Section {
	return console.Section{
		Pages: []console.Page{
			{Pattern: "GET /did/{did}", Render: did},
			{Pattern: "GET /name/{name}", Render: name},
		},
		Resolve: resolve,
		Glossary: []console.Term{
			{Word: "DID", Meaning: "A decentralised identifier: a name for a person or an organisation that nobody hands out and nobody can take away, written did:agora:… . Its holder proves it is theirs with their keys."},
			{Word: "DID document", Meaning: "What the ledger says about a DID now: which keys act for it, and for what."},
			{Word: "Guardians", Meaning: "People or organisations a DID's holder names in advance, who together can give the DID new keys if the holder loses theirs, after a delay the holder can use to cancel."},
			{Word: "Name", Meaning: "A readable name for a DID, such as tokyo.exchange, registered under a namespace that governance delegates."},
		},
	}
}

// resolve finds a DID or a registered name.
func resolve(l console.Ledger, q string) string {
	if _, err := identity.ParseDID(q); err == nil {
		return "/did/" + url.PathEscape(q)
	}
	if _, err := identity.ParseName(strings.ToLower(q)); err == nil {
		if _, err := l.Query("/v1/identity/names/" + url.PathEscape(strings.ToLower(q))); err == nil {
			return "/name/" + url.PathEscape(strings.ToLower(q))
		}
	}
	return ""
}

// relationships says what a key may do for its DID, in words, by the
// verification relationship that allows it.
var relationships = []struct{ rel, words string }{
	{"authentication", "prove that it is this identity (sign in)"},
	{"assertionMethod", "sign statements and credentials on its behalf"},
	{"capabilityInvocation", "change this identity: its keys, guardians and names"},
	{"capabilityDelegation", "hand some of its powers to others"},
	{"keyAgreement", "receive messages encrypted for it"},
}

// key is one key of a DID document, in words.
type key struct {
	ID, Kind, Status string
	Revoked          string // when, if it was revoked
	May              []string
}

type didData struct {
	DID        string
	Doc        *identity.Document
	Meta       identity.DocumentMetadata
	Keys       []key
	History    identity.HistoryPage
	What       []string // each event of History, in words
	Checks     []console.Check
	Recovering *identity.PendingRecovery
	Changing   *identity.PendingChange
}

func did(l console.Ledger, r *http.Request) (*console.View, error) {
	d := r.PathValue("did")
	rr, doc, err := console.AskFor[identity.Resolution](l, "/1.0/identifiers/"+url.PathEscape(d), "this identity's document")
	if err != nil {
		return nil, err
	}
	hist, histCheck, err := console.AskFor[identity.HistoryPage](l, "/v1/identity/dids/"+url.PathEscape(d)+"/history", "this identity's history")
	if err != nil {
		return nil, err
	}
	data := didData{DID: d, Doc: rr.Document, Meta: rr.DocumentMetadata, History: hist, Checks: []console.Check{doc, histCheck},
		Recovering: rr.DocumentMetadata.Recovery, Changing: rr.DocumentMetadata.Change}
	for _, e := range hist.Events {
		what := l.Describe(identity.Name, e.Type)
		if what == "" {
			what = e.Type
		}
		data.What = append(data.What, what)
	}
	if rr.Document != nil {
		data.Keys = keysOf(rr.Document)
	}
	return &console.View{Title: "Identity", Template: didPage, Data: data}, nil
}

// keysOf lists a document's keys with what each may do; a key shown in
// two forms (multibase and JWK) is listed once.
func keysOf(doc *identity.Document) []key {
	var out []key
	for _, vm := range doc.VerificationMethod {
		if strings.HasSuffix(vm.ID, "-jwk") {
			continue
		}
		_, frag, _ := strings.Cut(vm.ID, "#")
		k := key{ID: frag, Kind: "a signing key", Status: "in use"}
		if vm.PublicKeyJwk != nil {
			k.Kind = vm.PublicKeyJwk.Crv + " key"
		} else if strings.HasPrefix(vm.PublicKeyMultibase, "z6Mk") {
			k.Kind = "Ed25519 key"
		}
		switch {
		case vm.Revoked != "":
			k.Status, k.Revoked = "revoked", vm.Revoked
		case vm.Status != "":
			k.Status = vm.Status
		}
		for _, rel := range relationships {
			if refers(doc, rel.rel, vm.ID) {
				k.May = append(k.May, rel.words)
			}
		}
		out = append(out, k)
	}
	return out
}

// refers reports whether the relationship rel of doc lists the key id.
func refers(doc *identity.Document, rel, id string) bool {
	var ids []string
	switch rel {
	case "authentication":
		ids = doc.Authentication
	case "assertionMethod":
		ids = doc.AssertionMethod
	case "capabilityInvocation":
		ids = doc.CapabilityInvocation
	case "capabilityDelegation":
		ids = doc.CapabilityDelegation
	case "keyAgreement":
		ids = doc.KeyAgreement
	}
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// changes says what a pending change of a DID does, by its type.
var changes = map[string]string{
	"set-guardians": "new guardians",
	"deactivate":    "deactivation, for good",
}

func changeWords(typ string) string {
	if w, ok := changes[typ]; ok {
		return w
	}
	return typ
}

func name(l console.Ledger, r *http.Request) (*console.View, error) {
	n := strings.ToLower(r.PathValue("name"))
	rec, c, err := console.AskFor[identity.NameStatus](l, "/v1/identity/names/"+url.PathEscape(n), "this name's record")
	if err != nil {
		return nil, err
	}
	return &console.View{Title: "The name " + n, Template: namePage, Data: struct {
		Record identity.NameStatus
		Check  console.Check
	}{rec, c}}, nil
}
