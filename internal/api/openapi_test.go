package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/verify"
)

// docPattern is the document's form of a ServeMux pattern: OpenAPI has no
// {name...} wildcard (the document writes {name}) and no {$} (it writes
// the path alone).
func docPattern(p string) string {
	return strings.ReplaceAll(strings.ReplaceAll(p, "...}", "}"), "{$}", "")
}

// openAPIDoc is the document as a client reads it.
type openAPIDoc struct {
	Paths      map[string]map[string]docOperation `json:"paths"`
	Components struct {
		Schemas   map[string]any         `json:"schemas"`
		Responses map[string]docResponse `json:"responses"`
	} `json:"components"`
}

type docOperation struct {
	RequestBody *struct {
		Content map[string]docMedia `json:"content"`
	} `json:"requestBody"`
	Responses map[string]docResponse `json:"responses"`
}

type docResponse struct {
	Ref     string              `json:"$ref"`
	Content map[string]docMedia `json:"content"`
}

type docMedia struct {
	Schema map[string]any `json:"schema"`
}

func readDoc(t *testing.T, tn *testNode) *openAPIDoc {
	t.Helper()
	r := tn.get(t, "/openapi.json")
	var doc openAPIDoc
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decoding the document: %v", err)
	}
	return &doc
}

// response returns the document's response of the operation for status:
// its own, or the default (a $ref to a component).
func (d *openAPIDoc) response(op docOperation, status int) (docResponse, bool) {
	r, ok := op.Responses[strconv.Itoa(status)]
	if !ok {
		if r, ok = op.Responses["default"]; !ok {
			return r, false
		}
	}
	if name, isRef := strings.CutPrefix(r.Ref, "#/components/responses/"); isRef {
		r, ok = d.Components.Responses[name]
	}
	return r, ok
}

// mediaMatches reports whether the Content-Type got is the document's
// media type doc: the same type, with every parameter doc names.
func mediaMatches(doc, got string) bool {
	dt, dp, err := mime.ParseMediaType(doc)
	if err != nil {
		return false
	}
	gt, gp, err := mime.ParseMediaType(got)
	if err != nil || dt != gt {
		return false
	}
	for k, v := range dp {
		if gp[k] != v {
			return false
		}
	}
	return true
}

// TestOpenAPIAnswers sends real requests to a node and holds each answer
// to the document: its status is documented for the route, its
// Content-Type is one of that response's media types, and a JSON body
// validates against the schema (no undocumented property either). Every
// core operation is exercised with a success.
func TestOpenAPIAnswers(t *testing.T) {
	var clock atomic.Int64 // the node's, moved on past the Board's vote
	clock.Store(fakeClock().UnixMilli())
	tn := newTestNode(t, nodeOptions{gov: true, clock: func() time.Time { return time.UnixMilli(clock.Load()) }})
	doc := readDoc(t, tn)
	mux := tn.srv.Config.Handler.(*http.ServeMux)

	sum := digest("openapi")
	sr := tn.commit(t, anchorTx(t, tn.alice, 0, sum))
	seq := uint64(1)
	next := func(name string) []byte {
		raw := anchorTx(t, tn.alice, seq, digest(name))
		seq++
		return raw
	}
	size := tn.node.Head().LogSize
	alice := tn.alice.Public().Address()
	absent := "did:agora:" + strings.Repeat("a", 52)

	// State for the modules' queries to answer from: a DID, an emergency
	// action (lapsed once the clock moves on), a change the Board approved
	// and an independent review of it, a working group, a petition, a
	// pending action, an identity verification and a name.
	ctrl := keyFor(t, "openapi did")
	create := &identity.Create{Keys: []identity.KeySpec{{PublicKey: ctrl.Public(), Relationships: []string{identity.Authentication, identity.CapabilityInvocation}}},
		Next: identity.Commitment(keyFor(t, "openapi did next").Public())}
	did := create.DID()
	tn.commit(t, identityTx(t, ctrl, 0, "create", create))
	emergency(t, tn, "bob", 0)
	tn.commit(t, msgTx(t, keyFor(t, "dir-identity"), 0, gov.Name, "draft", &gov.Draft{Doc: gov.NewDocRef("Accredit issuer-y", "accredit issuer-y"),
		Actions: []ledger.Action{{Target: gov.Name, Type: "set_entry", Body: setEntryBody(t, "issuers", "issuer-y", "accredited")}}}))
	// The Board approves change 1 (the vote closes in the scheduled work
	// of the first block after its 30 s), and the users ask for an
	// independent review of that decision.
	boardApproves(t, tn, &clock, next("the vote closes"))
	tn.commit(t, msgTx(t, keyFor(t, "bob"), 1, gov.Name, "request-review", &gov.RequestReview{Change: 1, As: "users",
		Doc: gov.NewDocRef("Review change 1", "the users ask for review")}))
	director := keyFor(t, "dir-users").Public()
	tn.commit(t, msgTx(t, keyFor(t, "secretariat"), 0, gov.Name, "create-group", &gov.CreateGroup{ID: "wg-keys", Theme: "Key management",
		Director: gov.Member{Name: "dir-users", Key: &director}}))
	tn.commit(t, msgTx(t, keyFor(t, "bob"), 2, gov.Name, "petition", &gov.PetitionMsg{Power: gov.PowerRecall, As: "users",
		Doc: gov.NewDocRef("Recall the Board", "the users recall the Board")}))
	tn.commit(t, msgTx(t, keyFor(t, "exchange-tokyo"), 0, ledger.Namespace, "propose", &ledger.ProposeAction{Module: gov.Name,
		Principal: "exchanges", Type: "set-entry", Body: setEntryBody(t, "names.exchange", "tokyo", did), TTL: 60000}))
	bylaws := sha256.Sum256([]byte(gov.DemoBylawsText))
	// The DID as an accredited verifier that anchors a verification, and
	// holding a name (the exchanges' member-assisted namespace: a member
	// co-signs).
	tn.commit(t, msgTx(t, keyFor(t, "telco-id"), 0, gov.Name, "set-entry", &gov.SetEntry{Resource: "verifiers", Key: did, Value: "Telco ID"}))
	verified := sha256.Sum256([]byte("salt and an ID file"))
	tn.commit(t, identityTx(t, ctrl, 1, "anchor-verification", &identity.AnchorVerification{Verifier: did, Digest: verified[:]}))
	nameBody, err := tx.Marshal(&identity.RegisterName{Name: "tokyo.exchange", DID: did})
	if err != nil {
		t.Fatal(err)
	}
	member := keyFor(t, "exchange-tokyo")
	named, err := tx.Sign(&tx.Tx{Version: tx.Version, ChainID: testChain, Module: identity.Name, Type: "register-name", Body: nameBody,
		Signers: []tx.Signer{{Key: ctrl.Public(), Sequence: 2}, {Key: member.Public(), Sequence: 1}}, ExpiryHeight: 1 << 40}, ctrl, member)
	if err != nil {
		t.Fatal(err)
	}
	rawName, err := named.Encode()
	if err != nil {
		t.Fatal(err)
	}
	tn.commit(t, rawName)

	// A transaction pending in an idle node's mempool.
	idle := newTestNode(t, nodeOptions{idle: true})
	pending := decode[SubmitResponse](t, idle.submitJSON(t, anchorTx(t, idle.alice, 0, digest("pending")), ""), http.StatusAccepted)

	// A transaction dropped from the mempool: admitted to an idle node,
	// it has expired by the time the node makes blocks.
	var now atomic.Int64
	now.Store(fakeClock().UnixMilli())
	dropper := newTestNode(t, nodeOptions{idle: true, clock: func() time.Time { return time.UnixMilli(now.Load()) }})
	expiring := newTx(t, dropper.alice, 0, digest("dropped"))
	expiring.ExpiryHeight, expiring.ExpiryTime = 0, now.Load()+100
	dropped := decode[SubmitResponse](t, dropper.submitJSON(t, sign(t, expiring, dropper.alice), ""), http.StatusAccepted)
	now.Add(1000)
	dropper.start(t)
	if _, err := dropper.node.Wait(t.Context(), dropped.Hash); !errors.Is(err, ledger.ErrExpired) {
		t.Fatalf("the expiring transaction: %v, want it dropped as expired", err)
	}

	type call struct {
		desc                      string
		on                        *testNode
		method, path, contentType string
		accept                    string
		body                      []byte
		status                    int
	}
	calls := []call{
		{desc: "submit, wait", method: "POST", path: "/v1/tx?wait=commit", contentType: "application/json", body: jsonTx(t, next("a")), status: 200},
		{desc: "submit CBOR", method: "POST", path: "/v1/tx", contentType: "application/cbor", body: next("b"), status: 202},
		{desc: "submit garbage", method: "POST", path: "/v1/tx", contentType: "application/json", body: []byte(`{"tx":"AAAA"}`), status: 400},
		{desc: "batch", method: "POST", path: "/v1/txs", contentType: "application/json", body: batchBody(t, next("c"), []byte("x")), status: 202},
		{desc: "batch, wait", method: "POST", path: "/v1/txs?wait=commit", contentType: "application/json", body: batchBody(t, next("d")), status: 200},
		{desc: "batch as CBOR", method: "POST", path: "/v1/txs", contentType: "application/cbor", body: next("e"), status: 400},
		{desc: "committed tx", method: "GET", path: "/v1/tx/" + sr.Hash.String(), status: 200},
		{desc: "tx with proof", method: "GET", path: "/v1/tx/" + sr.Hash.String() + "?proof=1", status: 200},
		{desc: "pending tx", on: idle, method: "GET", path: "/v1/tx/" + pending.Hash.String(), status: 200},
		{desc: "dropped tx", on: dropper, method: "GET", path: "/v1/tx/" + dropped.Hash.String(), status: 200},
		{desc: "unknown tx", method: "GET", path: "/v1/tx/" + strings.Repeat("0", 64), status: 404},
		{desc: "events", method: "GET", path: "/v1/events?after=0", status: 200},
		{desc: "events proven", method: "GET", path: "/v1/events?after=0&proof=1", status: 200},
		{desc: "events after a bad cursor", method: "GET", path: "/v1/events?after=x", status: 400},
		{desc: "inclusion", method: "GET", path: "/v1/proof/inclusion?index=0", status: 200},
		{desc: "inclusion out of range", method: "GET", path: "/v1/proof/inclusion?index=100000", status: 400},
		{desc: "consistency", method: "GET", path: "/v1/proof/consistency?from=1", status: 200},
		{desc: "checkpoint", method: "GET", path: "/log/checkpoint", status: 200},
		{desc: "hash tile", method: "GET", path: fmt.Sprintf("/log/tile/0/000.p/%d", size), status: 200},
		{desc: "entry bundle", method: "GET", path: fmt.Sprintf("/log/tile/entries/000.p/%d", size), status: 200},
		{desc: "no tile", method: "GET", path: "/log/tile/0/001", status: 404},
		{desc: "block", method: "GET", path: "/v1/blocks/1", status: 200},
		{desc: "head block", method: "GET", path: "/v1/blocks/latest", status: 200},
		{desc: "bad height", method: "GET", path: "/v1/blocks/x", status: 400},
		{desc: "account", method: "GET", path: "/v1/accounts/" + alice, status: 200},
		{desc: "no account", method: "GET", path: "/v1/accounts/" + strings.Repeat("0", 40), status: 404},
		{desc: "info", method: "GET", path: "/v1/node/info", status: 200},
		{desc: "health", method: "GET", path: "/healthz", status: 200},
		{desc: "metrics", method: "GET", path: "/metrics", status: 200},
		{desc: "document", method: "GET", path: "/openapi.json", status: 200},
		{desc: "JSON-LD context", method: "GET", path: "/ns/did/v1", status: 200},
		{desc: "console", method: "GET", path: "/", status: 200},
		{desc: "anchor", method: "GET", path: fmt.Sprintf("/v1/notary/anchors/%x", sum), status: 200},
		{desc: "anchor proven", method: "GET", path: fmt.Sprintf("/v1/notary/anchors/%x?proof=1", sum), status: 200},
		{desc: "absent anchor proven", method: "GET", path: fmt.Sprintf("/v1/notary/anchors/%x?proof=1", digest("none")), status: 404},
		{desc: "notary policy", method: "GET", path: "/v1/notary/policy", status: 200},
		{desc: "identity params", method: "GET", path: "/v1/identity/params", status: 200},
		{desc: "DID not found", method: "GET", path: "/1.0/identifiers/" + absent, status: 404},
		{desc: "DID not found, resolution", method: "GET", path: "/1.0/identifiers/" + absent, accept: identity.ResolutionType, status: 404},
		{desc: "DID as HTML", method: "GET", path: "/1.0/identifiers/" + absent, accept: "text/html", status: 406},
		{desc: "bad DID", method: "GET", path: "/1.0/identifiers/did:agora:x", status: 400},
		{desc: "no history", method: "GET", path: "/v1/identity/dids/" + absent + "/history", status: 404},
		{desc: "DID", method: "GET", path: "/1.0/identifiers/" + did, status: 200},
		{desc: "DID proven", method: "GET", path: "/1.0/identifiers/" + did + "?proof=1", status: 200},
		{desc: "DID document", method: "GET", path: "/1.0/identifiers/" + did, accept: identity.ContentType, status: 200},
		{desc: "DID URL", method: "GET", path: "/1.0/identifiers/" + did + "%23key-0", accept: identity.DereferencingType, status: 200},
		{desc: "DID URL's resource", method: "GET", path: "/1.0/identifiers/" + did + "%23key-0", accept: identity.JSONType, status: 200},
		{desc: "history", method: "GET", path: "/v1/identity/dids/" + did + "/history", status: 200},
		{desc: "history proven", method: "GET", path: "/v1/identity/dids/" + did + "/history?proof=1", status: 200},
		{desc: "attestations", method: "GET", path: "/v1/identity/dids/" + did + "/attestations", status: 200},
		{desc: "score", method: "GET", path: "/v1/identity/dids/" + did + "/score", status: 200},
		{desc: "name", method: "GET", path: "/v1/identity/names/tokyo.exchange", status: 200},
		{desc: "no name", method: "GET", path: "/v1/identity/names/seoul.exchange", status: 404},
		{desc: "verification", method: "GET", path: fmt.Sprintf("/v1/identity/verifications/%x", verified), status: 200},
		{desc: "no verification", method: "GET", path: "/v1/identity/verifications/" + strings.Repeat("ab", 32), status: 404},
		{desc: "ledger params", method: "GET", path: "/v1/ledger/params", status: 200},
		{desc: "validators", method: "GET", path: "/v1/ledger/validators", status: 200},
		{desc: "pending actions", method: "GET", path: "/v1/ledger/pending", status: 200},
		{desc: "pending action", method: "GET", path: "/v1/ledger/pending/1", status: 200},
		{desc: "no pending action", method: "GET", path: "/v1/ledger/pending/9", status: 404},
		{desc: "schedule", method: "GET", path: "/v1/ledger/schedule", status: 200},
		{desc: "bylaws", method: "GET", path: "/v1/gov/bylaws", status: 200},
		{desc: "board", method: "GET", path: "/v1/gov/board", status: 200},
		{desc: "bodies", method: "GET", path: "/v1/gov/bodies", status: 200},
		{desc: "body", method: "GET", path: "/v1/gov/bodies/users", status: 200},
		{desc: "body proven", method: "GET", path: "/v1/gov/bodies/users?proof=1", status: 200},
		{desc: "resources", method: "GET", path: "/v1/gov/resources", status: 200},
		{desc: "resource", method: "GET", path: "/v1/gov/resources/issuers", status: 200},
		{desc: "entry", method: "GET", path: "/v1/gov/resources/issuers/entries/issuer-acme", status: 200},
		{desc: "documents", method: "GET", path: "/v1/gov/documents", status: 200},
		{desc: "document", method: "GET", path: fmt.Sprintf("/v1/gov/documents/%x", bylaws), status: 200},
		{desc: "changes", method: "GET", path: "/v1/gov/changes", status: 200},
		{desc: "change", method: "GET", path: "/v1/gov/changes/1", status: 200},
		{desc: "emergencies", method: "GET", path: "/v1/gov/emergencies", status: 200},
		{desc: "emergencies proven", method: "GET", path: "/v1/gov/emergencies?proof=1", status: 200},
		{desc: "emergency", method: "GET", path: "/v1/gov/emergencies/1", status: 200},
		{desc: "reviews", method: "GET", path: "/v1/gov/reviews", status: 200},
		{desc: "review", method: "GET", path: "/v1/gov/reviews/1", status: 200},
		{desc: "no review", method: "GET", path: "/v1/gov/reviews/2", status: 404},
		{desc: "petitions", method: "GET", path: "/v1/gov/petitions", status: 200},
		{desc: "petition", method: "GET", path: "/v1/gov/petitions/1", status: 200},
		{desc: "tenures", method: "GET", path: "/v1/gov/tenures", status: 200},
		{desc: "tenure", method: "GET", path: "/v1/gov/tenures/1", status: 200},
		{desc: "groups", method: "GET", path: "/v1/gov/groups", status: 200},
		{desc: "group", method: "GET", path: "/v1/gov/groups/wg-keys", status: 200},
		{desc: "deadlines", method: "GET", path: "/v1/gov/deadlines", status: 200},
	}
	checker := &schemaChecker{defs: doc.Components.Schemas}
	covered := map[string]bool{}
	for _, c := range calls {
		t.Run(c.desc, func(t *testing.T) {
			on := c.on
			if on == nil {
				on = tn
			}
			req := httptest.NewRequest(c.method, c.path, nil)
			_, pattern := mux.Handler(req)
			route := docPattern(pattern)
			method, p, _ := strings.Cut(route, " ")
			op, ok := doc.Paths[p][strings.ToLower(method)]
			if !ok {
				t.Fatalf("route %q is not in the document", route)
			}
			if c.body != nil {
				if _, ok := op.RequestBody.Content[c.contentType]; !ok && c.status < 400 {
					t.Errorf("request media type %s is not in the document", c.contentType)
				}
			}
			hreq, err := http.NewRequest(c.method, on.srv.URL+c.path, bytes.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.contentType != "" {
				hreq.Header.Set("Content-Type", c.contentType)
			}
			if c.accept != "" {
				hreq.Header.Set("Accept", c.accept)
			}
			resp, err := on.srv.Client().Do(hreq)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body bytes.Buffer
			body.ReadFrom(resp.Body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body.Bytes())
			}
			if resp.StatusCode < 300 {
				covered[route] = true
			}
			dr, ok := doc.response(op, resp.StatusCode)
			if !ok {
				t.Fatalf("%s: status %d is not documented", route, resp.StatusCode)
			}
			ct := resp.Header.Get("Content-Type")
			var m *docMedia
			var mt string
			for typ, dm := range dr.Content {
				if mediaMatches(typ, ct) {
					m, mt = &dm, typ
				}
			}
			if m == nil {
				t.Fatalf("%s %d: Content-Type %q is none of the document's %v", route, resp.StatusCode, ct, slices.Sorted(maps.Keys(dr.Content)))
			}
			if m.Schema == nil {
				return
			}
			var v any
			if strings.HasPrefix(mt, "text/") {
				v = body.String()
			} else {
				dec := json.NewDecoder(&body)
				dec.UseNumber()
				if err := dec.Decode(&v); err != nil {
					t.Fatalf("%s: body is not JSON: %v", mt, err)
				}
			}
			if err := checker.check(m.Schema, v, "body"); err != nil {
				t.Errorf("%s %d %s: %v", route, resp.StatusCode, mt, err)
			}
		})
	}
	for _, o := range coreOps {
		if route := strings.ToUpper(o.method) + " " + o.path; !covered[route] {
			t.Errorf("no successful request to %s", route)
		}
	}
	queries := ledger.Queries()
	for _, m := range tn.exec.Modules() {
		queries = append(queries, m.Queries()...)
	}
	for _, q := range queries {
		if route := docPattern(q.Pattern); !covered[route] {
			t.Errorf("no successful request to %s, the query %s", route, q.Name)
		}
	}

	// POST /v1/txs reads JSON only: the document offers nothing else.
	if got := slices.Sorted(maps.Keys(doc.Paths["/v1/txs"]["post"].RequestBody.Content)); !slices.Equal(got, []string{"application/json"}) {
		t.Errorf("POST /v1/txs request media types %v, want only application/json", got)
	}
}

// schemaChecker validates JSON values (decoded with UseNumber) against
// the subset of JSON Schema the document uses: $ref to its components,
// anyOf, type, enum, pattern, format date-time, contentEncoding base64,
// minimum, properties, required and items. An object may have only the
// properties its schema lists, unless it gives additionalProperties: an
// undocumented field is an error.
type schemaChecker struct {
	defs map[string]any
}

func (c *schemaChecker) check(sc map[string]any, v any, at string) error {
	if r, ok := sc["$ref"].(string); ok {
		name, _ := strings.CutPrefix(r, "#/components/schemas/")
		def, ok := c.defs[name].(map[string]any)
		if !ok {
			return fmt.Errorf("%s: unresolved $ref %q", at, r)
		}
		return c.check(def, v, at)
	}
	if alts, ok := sc["anyOf"].([]any); ok {
		var errs []error
		for _, a := range alts {
			err := c.check(a.(map[string]any), v, at)
			if err == nil {
				errs = nil
				break
			}
			errs = append(errs, err)
		}
		if errs != nil {
			return fmt.Errorf("%s: matches no alternative: %w", at, errors.Join(errs...))
		}
	}
	if types, ok := sc["type"]; ok {
		var allowed []any
		switch ts := types.(type) {
		case string:
			allowed = []any{ts}
		case []any:
			allowed = ts
		}
		got := jsonType(v)
		if !slices.ContainsFunc(allowed, func(a any) bool {
			return a == got || (a == "number" && got == "integer")
		}) {
			return fmt.Errorf("%s: a %s, want %v", at, got, allowed)
		}
	}
	if enum, ok := sc["enum"].([]any); ok && !slices.Contains(enum, v) {
		return fmt.Errorf("%s: %v is not one of %v", at, v, enum)
	}
	switch v := v.(type) {
	case string:
		if p, ok := sc["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(v) {
			return fmt.Errorf("%s: %q does not match %s", at, v, p)
		}
		if sc["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				return fmt.Errorf("%s: %q is not a date-time", at, v)
			}
		}
		if sc["contentEncoding"] == "base64" {
			if _, err := base64.StdEncoding.DecodeString(v); err != nil {
				return fmt.Errorf("%s: %q is not base64", at, v)
			}
		}
	case json.Number:
		if m, ok := sc["minimum"].(json.Number); ok {
			if f, _ := v.Float64(); f < mustFloat(m) {
				return fmt.Errorf("%s: %s is below %s", at, v, m)
			}
		}
	case []any:
		if items, ok := sc["items"].(map[string]any); ok {
			for i, e := range v {
				if err := c.check(items, e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	case map[string]any:
		props, _ := sc["properties"].(map[string]any)
		for _, r := range asStrings(sc["required"]) {
			if _, ok := v[r]; !ok {
				return fmt.Errorf("%s: required property %q is missing", at, r)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			p, ok := props[k].(map[string]any)
			if !ok {
				p, ok = sc["additionalProperties"].(map[string]any)
			}
			if !ok {
				if props != nil {
					return fmt.Errorf("%s: property %q is not in the schema", at, k)
				}
				continue
			}
			if err := c.check(p, v[k], at+"."+k); err != nil {
				return err
			}
		}
	}
	return nil
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "integer"
		}
		if _, err := strconv.ParseUint(string(v), 10, 64); err == nil {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func mustFloat(n json.Number) float64 {
	f, _ := n.Float64()
	return f
}

func asStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, e := range l {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// TestSchemaChecker shows the checker refuses what the document does not
// allow, so TestOpenAPIAnswers can fail.
func TestSchemaChecker(t *testing.T) {
	c := &schemaChecker{defs: map[string]any{
		"Item": map[string]any{"type": "object", "properties": map[string]any{
			"hash":  map[string]any{"type": "string", "pattern": "^[0-9a-f]{4}$"},
			"state": map[string]any{"type": "string", "enum": []any{"pending", "dropped"}},
			"n":     map[string]any{"type": "integer", "minimum": json.Number("0")},
			"data":  map[string]any{"type": []any{"string", "null"}, "contentEncoding": "base64"},
			"time":  map[string]any{"type": "string", "format": "date-time"},
			"tags":  map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			"any":   map[string]any{},
		}, "required": []any{"hash"}},
		"Other": map[string]any{"type": "object", "properties": map[string]any{"code": map[string]any{"type": "string"}}, "required": []any{"code"}},
	}}
	schema := map[string]any{"anyOf": []any{map[string]any{"$ref": "#/components/schemas/Item"}, map[string]any{"$ref": "#/components/schemas/Other"}}}
	for _, tc := range []struct {
		desc, json string
		ok         bool
	}{
		{"everything", `{"hash":"00ff","state":"dropped","n":3,"data":"AAE=","time":"2025-01-02T03:04:05.006Z","tags":["a"],"any":[1,{"b":null}]}`, true},
		{"the other alternative", `{"code":"ok"}`, true},
		{"null where allowed", `{"hash":"00ff","data":null}`, true},
		{"missing required", `{"state":"pending"}`, false},
		{"undocumented property", `{"hash":"00ff","extra":1}`, false},
		{"bad pattern", `{"hash":"00FF"}`, false},
		{"not in enum", `{"hash":"00ff","state":"committed"}`, false},
		{"negative", `{"hash":"00ff","n":-1}`, false},
		{"not an integer", `{"hash":"00ff","n":1.5}`, false},
		{"not base64", `{"hash":"00ff","data":"%%"}`, false},
		{"not a time", `{"hash":"00ff","time":"yesterday"}`, false},
		{"wrong item type", `{"hash":"00ff","tags":[1]}`, false},
		{"null where not allowed", `{"hash":null}`, false},
		{"not an object", `[]`, false},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			dec := json.NewDecoder(strings.NewReader(tc.json))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			if err := c.check(schema, v, "body"); (err == nil) != tc.ok {
				t.Errorf("check(%s) = %v, want ok %v", tc.json, err, tc.ok)
			}
		})
	}
}

// TestSchemaOf pins how Go types become schemas.
func TestSchemaOf(t *testing.T) {
	type inner struct {
		A string `json:"a"`
	}
	type outer struct {
		*inner `json:",omitempty"`
		ID     tx.ID    `json:"id"`
		Status string   `json:"status" enum:"x,y"`
		Opt    uint64   `json:"opt,omitempty"`
		List   []string `json:"list"`
		Raw    []byte   `json:"raw,omitempty"`
		Hex    string   `json:"hex" encoding:"hex"`
		Skip   int      `json:"-"`
		Any    any      `json:"any"`
	}
	s := newSchemaSet()
	got := s.of(reflect.TypeFor[outer]())
	if s.err != nil {
		t.Fatal(s.err)
	}
	want := map[string]any{"$ref": "#/components/schemas/outer"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reference (-want +got):\n%s", diff)
	}
	wantDef := map[string]any{"type": "object", "properties": map[string]any{
		"a":      map[string]any{"type": "string"},
		"id":     textSchemas[reflect.TypeFor[tx.ID]()],
		"status": map[string]any{"type": "string", "enum": []string{"x", "y"}},
		"opt":    map[string]any{"type": "integer", "minimum": 0},
		"list":   map[string]any{"type": []string{"array", "null"}, "items": map[string]any{"type": "string"}},
		"raw":    map[string]any{"type": "string", "contentEncoding": "base64"},
		"hex":    map[string]any{"type": "string", "pattern": hexString},
		"any":    map[string]any{},
	}, "required": []string{"id", "status", "list", "hex", "any"}}
	if diff := cmp.Diff(wantDef, s.defs["outer"]); diff != "" {
		t.Errorf("definition (-want +got):\n%s", diff)
	}

	// A type with its own JSON form that textSchemas does not describe is
	// an error, not a wrong schema.
	s = newSchemaSet()
	s.of(reflect.TypeFor[struct {
		M node.Duration `json:"m"`
	}]())
	if s.err == nil {
		t.Error("a self-marshalling type without a schema: no error")
	}
}

// TestSpecNamesFields checks that the spec's prose names every JSON field
// of the bodies it documents (docs/spec/log.md section 7, the proofs;
// docs/spec/transactions.md section 9.1, a submission's states), and
// every status, so a field added to a wire type cannot go unsaid.
func TestSpecNamesFields(t *testing.T) {
	section := func(file, from, to string) string {
		b, err := os.ReadFile("../../docs/spec/" + file)
		if err != nil {
			t.Fatal(err)
		}
		_, s, ok := strings.Cut(string(b), from)
		if !ok {
			t.Fatalf("%s has no %q", file, from)
		}
		s, _, _ = strings.Cut(s, to)
		return s
	}
	proofs := section("log.md", "## 7. Proofs in the HTTP API", "\n## ")
	states := section("transactions.md", "### 9.1 Following a submission", "\n## ")
	for _, c := range []struct {
		name   string
		text   string
		goType reflect.Type
		quote  string // how the text writes a field name
	}{
		{"log.md 7", proofs, reflect.TypeFor[verify.InclusionProof](), "`%s`"},
		{"log.md 7", proofs, reflect.TypeFor[InclusionResponse](), `"%s"`},
		{"log.md 7", proofs, reflect.TypeFor[ConsistencyResponse](), `"%s"`},
		{"log.md 7", proofs, reflect.TypeFor[verify.StateProof](), `"%s"`},
		{"log.md 7", proofs, reflect.TypeFor[verify.KeyProof](), "`%s`"},
		{"log.md 7", proofs, reflect.TypeFor[Proven](), `"%s"`},
		{"transactions.md 9.1", states, reflect.TypeFor[TxStatus](), `"%s"`},
		{"transactions.md 9.1", states, reflect.TypeFor[BatchItem](), `"%s"`},
		{"transactions.md 9.1", states, reflect.TypeFor[BatchResponse](), `"%s"`},
	} {
		s := newSchemaSet()
		s.of(c.goType)
		def := s.defs[c.goType.Name()].(map[string]any)
		for name, p := range def["properties"].(map[string]any) {
			if !strings.Contains(c.text, fmt.Sprintf(c.quote, name)) {
				t.Errorf("%s does not name %s's field %s", c.name, c.goType.Name(), fmt.Sprintf(c.quote, name))
			}
			for _, v := range asStringsOf(p.(map[string]any)["enum"]) {
				if want := fmt.Sprintf(`"%s": "%s"`, name, v); !strings.Contains(c.text, want) {
					t.Errorf("%s does not show %s", c.name, want)
				}
			}
		}
	}
}

func asStringsOf(v any) []string {
	l, _ := v.([]string)
	return l
}

// TestAPIDocListsRoutes checks that docs/api.md names every operation of
// the document (as "`GET /path"), so the prose and the OpenAPI agree on
// what exists.
func TestAPIDocListsRoutes(t *testing.T) {
	b, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	tn := newTestNode(t, nodeOptions{idle: true})
	for p, item := range readDoc(t, tn).Paths {
		for method := range item {
			if route := "`" + strings.ToUpper(method) + " " + p; !bytes.Contains(b, []byte(route)) {
				t.Errorf("docs/api.md does not list %s`", route)
			}
		}
	}
}

// TestOpenAPIRefsResolve walks the whole document: every $ref names a
// component it has, and every path wildcard is a required path parameter.
func TestOpenAPIRefsResolve(t *testing.T) {
	tn := newTestNode(t, nodeOptions{idle: true})
	var doc map[string]any
	if err := json.Unmarshal(tn.get(t, "/openapi.json").body, &doc); err != nil {
		t.Fatal(err)
	}
	components := doc["components"].(map[string]any)
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				kind, name, _ := strings.Cut(strings.TrimPrefix(r, "#/components/"), "/")
				if _, ok := components[kind].(map[string]any)[name]; !ok {
					t.Errorf("%s: $ref %q names no component", at, r)
				}
			}
			for k, e := range v {
				walk(e, at+"/"+k)
			}
		case []any:
			for i, e := range v {
				walk(e, fmt.Sprintf("%s/%d", at, i))
			}
		}
	}
	walk(doc, "#")
	for p, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			params, _ := op.(map[string]any)["parameters"].([]any)
			for _, m := range wildcardRE.FindAllStringSubmatch(p, -1) {
				if !slices.ContainsFunc(params, func(pm any) bool {
					pm2 := pm.(map[string]any)
					return pm2["name"] == m[1] && pm2["in"] == "path" && pm2["required"] == true
				}) {
					t.Errorf("%s %s: no required path parameter %s", method, p, m[1])
				}
			}
		}
	}
}

// TestQueryAnswerSchema: a query that declares no Answer makes the
// document fail, and an answer is held to the type its query declares:
// the same answer does not match another type's schema.
func TestQueryAnswerSchema(t *testing.T) {
	s := newSchemaSet()
	answerSchema(ledger.Query{Name: "undeclared", Pattern: "GET /v1/undeclared"}, s)
	if s.err == nil {
		t.Error("a query without an Answer: no error")
	}

	tn := newTestNode(t, nodeOptions{})
	sum := digest("declared")
	tn.commit(t, anchorTx(t, tn.alice, 0, sum))
	var answer any
	dec := json.NewDecoder(bytes.NewReader(tn.get(t, fmt.Sprintf("/v1/notary/anchors/%x", sum)).body))
	dec.UseNumber()
	if err := dec.Decode(&answer); err != nil {
		t.Fatal(err)
	}
	anchor := notary.Module{}.Queries()[0]
	for _, c := range []struct {
		desc   string
		answer any
		ok     bool
	}{
		{"the type it answers", notary.RecordJSON{}, true},
		{"another type", notary.Policy{}, false},
		{"one of two types, one its own", ledger.OneOf{notary.Policy{}, (*notary.RecordJSON)(nil)}, true},
	} {
		t.Run(c.desc, func(t *testing.T) {
			q := anchor
			q.Answer = c.answer
			s := newSchemaSet()
			sc := answerSchema(q, s)
			if s.err != nil {
				t.Fatal(s.err)
			}
			// The schemas as a client reads them from the document.
			var doc struct {
				Schema map[string]any `json:"schema"`
				Defs   map[string]any `json:"defs"`
			}
			b, err := json.Marshal(map[string]any{"schema": sc, "defs": s.defs})
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			if err := dec.Decode(&doc); err != nil {
				t.Fatal(err)
			}
			err = (&schemaChecker{defs: doc.Defs}).check(doc.Schema, answer, "body")
			if (err == nil) != c.ok {
				t.Errorf("the anchor's answer against the schema of %T: %v, want ok %v", c.answer, err, c.ok)
			}
		})
	}
}

// setEntryBody is the body of governance's set_entry action.
func setEntryBody(t *testing.T, resource, key, value string) []byte {
	t.Helper()
	b, err := tx.Marshal(&gov.SetEntry{Resource: resource, Key: key, Value: value})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// boardApproves has the demo Board's voting directors approve change 1,
// which dir-identity drafted as its first transaction, then moves clock
// past the voting period and commits closing, in whose block the vote
// closes.
func boardApproves(t *testing.T, tn *testNode, clock *atomic.Int64, closing []byte) {
	t.Helper()
	for _, dir := range []struct {
		name string
		seq  uint64
	}{{"dir-exchanges", 0}, {"dir-custodians", 0}, {"dir-identity", 1}} {
		tn.commit(t, msgTx(t, keyFor(t, dir.name), dir.seq, gov.Name, "vote", &gov.CastVote{Change: 1, Choice: "yes"}))
	}
	clock.Add((31 * time.Second).Milliseconds())
	tn.commit(t, closing)
}
