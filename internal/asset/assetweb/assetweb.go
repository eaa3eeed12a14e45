// Package assetweb is the asset module's part of the console, the
// citizens' dashboard of seed 003's Lithopia: an asset's page (its owner,
// its rules in words, its history) and a trigger's page (the observation,
// the providers whose signatures made it fire, any dispute and
// governance's decision), each fact checked in the browser.
package assetweb

import (
	"embed"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/agora-ledger/agora/internal/asset"
	"github.com/agora-ledger/agora/internal/console"
)

//go:embed templates
var templates embed.FS

var (
	assetPage   = console.Parse(templates, "templates/asset.html")
	triggerPage = console.Parse(templates, "templates/trigger.html")
)

// Section is the asset module's console section.
func Section() console.Section {
	return console.Section{
		Pages: []console.Page{
			{Pattern: "GET /asset/{id}", Render: assetView},
			{Pattern: "GET /trigger/{n}", Render: triggerView},
		},
		Resolve: resolve,
		Glossary: []console.Term{
			{Word: "Asset", Meaning: "Something the ledger records an owner for, such as a parcel of land: its owner is a DID, and it changes hands only by a rule its owner set or a governance decision."},
			{Word: "Data provider", Meaning: "An organisation accredited by governance to sign observations, such as a satellite operator; the ledger holds its key."},
			{Word: "Trigger", Meaning: "A rule firing: enough accredited data providers signed an observation that matches the rule, and the asset changed hands."},
			{Word: "Dispute window", Meaning: "The time after a trigger during which its previous owner may dispute it, and governance may reverse it."},
		},
	}
}

// resolve finds an asset by its id, or a trigger written "trigger N".
func resolve(l console.Ledger, q string) string {
	q = strings.ToLower(strings.TrimSpace(q))
	if n, ok := strings.CutPrefix(q, "trigger "); ok {
		if _, err := strconv.ParseUint(n, 10, 64); err == nil {
			return "/trigger/" + n
		}
		return ""
	}
	if strings.ContainsAny(q, " /?#") || q == "" {
		return ""
	}
	if _, err := l.Query("/v1/asset/assets/" + url.PathEscape(q)); err == nil {
		return "/asset/" + url.PathEscape(q)
	}
	return ""
}

func assetView(l console.Ledger, r *http.Request) (*console.View, error) {
	id := r.PathValue("id")
	a, ac, err := console.AskFor[asset.AssetJSON](l, "/v1/asset/assets/"+url.PathEscape(id), "this asset's owner and rules")
	if err != nil {
		return nil, err
	}
	h, hc, err := console.AskFor[[]asset.EventJSON](l, "/v1/asset/assets/"+url.PathEscape(id)+"/history", "this asset's history")
	if err != nil {
		return nil, err
	}
	return &console.View{Title: "Asset " + a.ID, Template: assetPage, Data: struct {
		Asset   asset.AssetJSON
		History []asset.EventJSON
		Checks  []console.Check
	}{a, h, []console.Check{ac, hc}}}, nil
}

func triggerView(l console.Ledger, r *http.Request) (*console.View, error) {
	n := r.PathValue("n")
	if _, err := strconv.ParseUint(n, 10, 64); err != nil {
		return nil, err
	}
	t, c, err := console.AskFor[asset.TriggerJSON](l, "/v1/asset/triggers/"+n, "this trigger, its observation and its signatures")
	if err != nil {
		return nil, err
	}
	return &console.View{Title: "Trigger " + n, Template: triggerPage, Data: struct {
		Trigger asset.TriggerJSON
		Check   console.Check
	}{t, c}}, nil
}
