package api

import (
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/verify"
)

// op is one operation of the OpenAPI document: a route with its
// parameters, request body and answers. Adding a route to the document is
// adding one op to coreOps.
type op struct {
	method, path, summary string
	params                []param
	// body lists the request body's media types, if it has one.
	body []media
	// answers are the responses other than the Error response, which
	// every operation but a plain one may give.
	answers []answer
	plain   bool // answers no API error (a page, metrics, a context)
}

// param is a path or query parameter.
type param struct {
	name, in, summary string
	required          bool
	schema            map[string]any // nil: a string
}

// answer is the response of one status.
type answer struct {
	status  int
	summary string
	media   []media
}

// media is one media type of a body, with the Go type its JSON values
// have (described by reflection), or the Go types one of which they have,
// or a schema as written, or none (a body that is not JSON).
type media struct {
	typ    string
	goType reflect.Type
	anyOf  []reflect.Type
	schema map[string]any
}

// jsonOf is application/json with values of type T.
func jsonOf[T any]() media { return media{typ: "application/json", goType: reflect.TypeFor[T]()} }

func queryParam(name, summary string) param { return param{name: name, in: "query", summary: summary} }

func pathParam(name, summary string, schema map[string]any) param {
	return param{name: name, in: "path", summary: summary, required: true, schema: schema}
}

var (
	hexPattern = func(n int) map[string]any {
		return map[string]any{"type": "string", "pattern": "^[0-9a-fA-F]{" + strconv.Itoa(n) + "}$"}
	}
	uintSchema  = map[string]any{"type": "integer", "minimum": 0}
	proofParam  = queryParam("proof", `"1" to add proofs (any value but "" and "0")`)
	waitCommit  = param{name: "wait", in: "query", schema: map[string]any{"type": "string", "enum": []string{"commit", "none"}}}
	anyObject   = map[string]any{"type": "object"}
	textPlain   = media{typ: "text/plain; charset=utf-8", schema: map[string]any{"type": "string"}}
	octetStream = media{typ: "application/octet-stream"}
)

func withSummary(p param, s string) param { p.summary = s; return p }

// coreOps are the routes Handler registers besides module queries. A test
// checks that this list and Handler agree.
var coreOps = []op{
	{method: "post", path: "/v1/tx", summary: "Submit a signed transaction. Without wait, 202 once admitted to the mempool: its hash, status pending. With wait=commit, 200 once committed: where, its result and the inclusion proof of its log entry; an error if it was dropped (the reason's code) or the request timed out (timeout: it may still commit).",
		params: []param{withSummary(waitCommit, `"commit" to answer only once the transaction is committed; "none" or absent not to wait`)},
		body: []media{{typ: "application/json", goType: reflect.TypeFor[SubmitRequest]()},
			{typ: "application/cbor", schema: map[string]any{"description": "the raw signed envelope (docs/spec/transactions.md); any other Content-Type is read as JSON"}}},
		answers: []answer{{http.StatusAccepted, "admitted: pending", []media{jsonOf[SubmitResponse]()}},
			{http.StatusOK, "committed (result.code says whether its module accepted it)", []media{jsonOf[SubmitResponse]()}}}},
	{method: "post", path: "/v1/txs", summary: "Submit up to 10000 signed transactions; each gets its hash or an error, and the errors do not stop the rest. Without wait, 202 at once: every item with a hash is pending (follow it with GET /v1/tx/{hash}). With wait=commit, 200 once every admitted one is committed (height and result code) or has ended its wait with an error (dropped, or timeout).",
		params:  []param{withSummary(waitCommit, `"commit" to answer once every admitted transaction is committed`)},
		body:    []media{jsonOf[BatchRequest]()},
		answers: []answer{{http.StatusAccepted, "admitted (items with a hash) or refused (items with an error)", []media{jsonOf[BatchResponse]()}}, {http.StatusOK, "committed", []media{jsonOf[BatchResponse]()}}}},
	{method: "get", path: "/v1/tx/{hash}", summary: "A transaction: pending, dropped from the mempool (with the error that dropped it; the node remembers the last 10000), or committed with its block, result and decoded content.",
		params: []param{pathParam("hash", "the transaction ID, 64 hex digits", hexPattern(64)),
			queryParam("envelope", `"1" to include the signed envelope (base64)`),
			queryParam("proof", `"1" to include the envelope and the log entry's inclusion proof against the head's signed checkpoint`)},
		answers: []answer{{http.StatusOK, "committed (TxView), or pending or dropped (TxStatus)", []media{{typ: "application/json",
			anyOf: []reflect.Type{reflect.TypeFor[TxView](), reflect.TypeFor[TxStatus]()}}}}}},
	{method: "get", path: "/v1/events", summary: "The event feed (docs/spec/events.md): the events committed transactions emitted, in log order, and after each block's transactions those of its scheduled work (scheduled: true), each with its cursor HEIGHT.INDEX.N; ask again after the answer's next. With Accept: text/event-stream, the feed as Server-Sent Events (id the cursor, event MODULE.TYPE, data an Event as JSON) until the client goes.",
		params: []param{queryParam("module", "only this module's events"), queryParam("type", "only events of this type"),
			queryParam("attr", "KEY=VALUE: only events with this attribute (repeatable; all must match)"),
			queryParam("after", "a cursor HEIGHT.INDEX.N or a height: the events after it (0: the whole history; default: from now on; the Last-Event-ID header works too)"),
			{name: "limit", in: "query", summary: "at most this many events (default 100)", schema: map[string]any{"type": "integer", "minimum": 1, "maximum": maxEvents}},
			queryParam("wait", "a duration up to 60s, such as 30s: hold the answer until an event comes or the wait ends (long poll)"),
			withSummary(proofParam, `"1" to prove each event (its transaction's result and its log entry's inclusion against the checkpoint /log/checkpoint serves; scheduled work's result and its state key against the head's checkpoint); the feed then runs only to /log/checkpoint's height`)},
		answers: []answer{{http.StatusOK, "the events after the cursor, and where to go on", []media{jsonOf[EventsView](),
			{typ: "text/event-stream", schema: map[string]any{"type": "string", "description": "Server-Sent Events: id the cursor, event MODULE.TYPE, data an Event as JSON; a keep-alive comment every 15 s"}}}}}},
	{method: "get", path: "/v1/proof/inclusion", summary: "An RFC 6962 inclusion proof of leaf index in the log of size entries (default: the head's), with the signed checkpoint of that size (and its cosignatures) when it is the head's or /log/checkpoint's.",
		params:  []param{{name: "index", in: "query", summary: "leaf index", required: true, schema: uintSchema}, {name: "size", in: "query", summary: "tree size (default: the log's size)", schema: uintSchema}},
		answers: []answer{{http.StatusOK, "the proof", []media{jsonOf[InclusionResponse]()}}}},
	{method: "get", path: "/v1/proof/consistency", summary: "An RFC 6962 consistency proof from the log of size from to the log of size to (default: the head's), with the signed checkpoint of that size (and its cosignatures) when it is the head's or /log/checkpoint's.",
		params:  []param{{name: "from", in: "query", summary: "older size", required: true, schema: uintSchema}, {name: "to", in: "query", summary: "newer size (default: the log's size)", schema: uintSchema}},
		answers: []answer{{http.StatusOK, "the proof", []media{jsonOf[ConsistencyResponse]()}}}},
	{method: "get", path: "/log/checkpoint", summary: "The latest signed checkpoint (C2SP tlog-checkpoint, signed note) with its witness cosignatures: with witnesses configured, the newest one all of them have cosigned (the head's until one has); otherwise the head's.",
		answers: []answer{{http.StatusOK, "the signed note", []media{textPlain}}}},
	{method: "get", path: "/log/tile/{path}", summary: "C2SP tlog-tiles: hash tiles tile/<L>/<N>[.p/<W>] and entry bundles tile/entries/<N>[.p/<W>]; immutable.",
		params:  []param{pathParam("path", "the tile's path below /log/tile/, e.g. 0/000.p/1 or entries/000 (it may contain slashes)", nil)},
		answers: []answer{{http.StatusOK, "the tile's bytes", []media{octetStream}}}},
	{method: "get", path: "/v1/blocks/{height}", summary: "A committed block: header, hash, transactions and results.",
		params:  []param{pathParam("height", "a height, or latest", map[string]any{"type": "string", "pattern": "^([0-9]+|latest)$"})},
		answers: []answer{{http.StatusOK, "the block", []media{jsonOf[BlockView]()}}}},
	{method: "get", path: "/v1/accounts/{address}", summary: "An account: its key, label, committed sequence and next sequence counting the mempool.",
		params:  []param{pathParam("address", "the account's address, 40 hex digits", hexPattern(40))},
		answers: []answer{{http.StatusOK, "the account", []media{jsonOf[AccountView]()}}}},
	{method: "get", path: "/v1/node/info", summary: "Chain id, version, genesis hash, head height, block hash, app hash, time, mempool size, modules, the log's key, size and root, and the witnesses with the newest checkpoint all of them have cosigned.",
		answers: []answer{{http.StatusOK, "the node", []media{jsonOf[Info]()}}}},
	{method: "get", path: "/healthz", summary: "200 while the node commits blocks, 503 (stopped) once it has stopped.",
		answers: []answer{{http.StatusOK, "committing", []media{jsonOf[Health]()}}}},
	{method: "get", path: "/metrics", summary: "Prometheus metrics, in the Prometheus text format.", plain: true,
		answers: []answer{{http.StatusOK, "the metrics", []media{{typ: "text/plain; version=0.0.4", schema: map[string]any{"type": "string"}}}}}},
	{method: "get", path: "/openapi.json", summary: "This document.", plain: true,
		answers: []answer{{http.StatusOK, "OpenAPI 3.1", []media{{typ: "application/json", schema: map[string]any{"type": "object", "required": []string{"openapi", "info", "paths"}}}}}}},
	{method: "get", path: "/ns/did/v1", summary: "Agora's JSON-LD context, which DID documents name in their @context: it defines every term they use that the DID context does not.", plain: true,
		answers: []answer{{http.StatusOK, "the context", []media{{typ: "application/ld+json", schema: anyObject}}}}},
	{method: "get", path: "/", summary: "The console's home page (HTML); the console's other pages are listed in docs/console.md.", plain: true,
		answers: []answer{{http.StatusOK, "HTML", []media{{typ: "text/html; charset=utf-8"}}}}},
}

// queryOp is the operation of a module query, whose answer schemas
// describes by the query's Answer.
func queryOp(q ledger.Query, schemas *schemaSet) op {
	method, p, _ := strings.Cut(q.Pattern, " ")
	o := op{method: strings.ToLower(method), path: p, summary: q.Summary, params: []param{withSummary(proofParam,
		`"1" to answer {value, proof}: the value and the proof of every state key read, against the head's signed checkpoint; a 404 then carries the proof of absence in error.proof`)}}
	for _, qp := range q.Params {
		o.params = append(o.params, queryParam(qp.Name, qp.Summary))
	}
	value := answerSchema(q, schemas)
	answered := map[string]any{"anyOf": []any{value, provenSchema(value, schemas)}}
	types := q.MediaTypes
	if len(types) == 0 {
		types = []string{"application/json"}
	}
	var all []media
	for _, t := range types {
		all = append(all, media{typ: t, schema: answered})
	}
	o.answers = []answer{{http.StatusOK, "the answer; with proof=1, the answer proven", all}}
	if q.Pattern == didResolutionPattern {
		// The representations are the document or the dereferenced
		// resource alone. Every failure is a resolution (or
		// dereferencing) result with its DID Resolution error code and
		// that code's status; a deactivated DID answers 410 with its last
		// document.
		representation := map[string]any{"anyOf": []any{schemas.of(reflect.TypeFor[*identity.Document]()), schemas.of(reflect.TypeFor[*identity.Resource]())}}
		var results []media
		for i, m := range all {
			if identity.IsRepresentation(m.typ) {
				all[i].schema = map[string]any{"anyOf": []any{representation, provenSchema(value, schemas)}}
			} else {
				results = append(results, media{typ: m.typ, schema: value})
			}
		}
		byStatus := map[int][]string{}
		for code, status := range didStatus {
			byStatus[status] = append(byStatus[status], code)
		}
		for _, status := range slices.Sorted(maps.Keys(byStatus)) {
			codes := byStatus[status]
			slices.Sort(codes)
			o.answers = append(o.answers, answer{status, "a DID Resolution error: " + strings.Join(codes, ", "), results})
		}
		o.answers = append(o.answers, answer{http.StatusGone, "deactivated: the last document", all})
	}
	return o
}

// answerSchema is the schema of the value q answers, from its Answer: a
// value of the type Run answers, or ledger.OneOf several.
func answerSchema(q ledger.Query, schemas *schemaSet) map[string]any {
	var of func(v any) map[string]any
	of = func(v any) map[string]any {
		alts, ok := v.(ledger.OneOf)
		if !ok {
			return schemas.of(reflect.TypeOf(v))
		}
		var out []any
		for _, a := range alts {
			out = append(out, of(a))
		}
		return map[string]any{"anyOf": out}
	}
	if q.Answer == nil {
		schemas.fail(fmt.Errorf("query %s (%s) declares no Answer: set it to a value of the type its Run answers", q.Name, q.Pattern))
		return map[string]any{}
	}
	return of(q.Answer)
}

// provenSchema is the schema of a query's answer with proof=1: a Proven
// whose value is of the schema value.
func provenSchema(value map[string]any, schemas *schemaSet) map[string]any {
	return map[string]any{"type": "object", "required": []string{"value", "proof"}, "properties": map[string]any{
		"value": value,
		"proof": schemas.of(reflect.TypeFor[verify.StateProof]()),
	}}
}

var wildcardRE = regexp.MustCompile(`\{([a-z0-9_]+)(\.\.\.)?\}`)

// document builds the OpenAPI 3.1 document from coreOps and the modules'
// queries.
func (s *Server) document() map[string]any {
	schemas := newSchemaSet()
	ops := slices.Clone(coreOps)
	for _, q := range s.queries() {
		ops = append(ops, queryOp(q.Query, schemas))
	}
	content := func(ms []media) map[string]any {
		c := map[string]any{}
		for _, m := range ms {
			mt := map[string]any{}
			switch {
			case m.goType != nil:
				mt["schema"] = schemas.of(m.goType)
			case m.anyOf != nil:
				var alts []any
				for _, t := range m.anyOf {
					alts = append(alts, schemas.of(t))
				}
				mt["schema"] = map[string]any{"anyOf": alts}
			case m.schema != nil:
				mt["schema"] = m.schema
			}
			c[m.typ] = mt
		}
		return c
	}
	paths := map[string]any{}
	for _, o := range ops {
		var params []any
		described := map[string]bool{}
		for _, p := range o.params {
			described[p.in+" "+p.name] = true
			sc := p.schema
			if sc == nil {
				sc = map[string]any{"type": "string"}
			}
			pm := map[string]any{"name": p.name, "in": p.in, "schema": sc}
			if p.summary != "" {
				pm["description"] = p.summary
			}
			if p.required {
				pm["required"] = true
			}
			params = append(params, pm)
		}
		for _, m := range wildcardRE.FindAllStringSubmatch(o.path, -1) {
			if !described["path "+m[1]] {
				params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		responses := map[string]any{}
		for _, a := range o.answers {
			responses[strconv.Itoa(a.status)] = map[string]any{"description": a.summary, "content": content(a.media)}
		}
		if !o.plain {
			responses["default"] = map[string]any{"$ref": "#/components/responses/Error"}
		}
		operation := map[string]any{"summary": o.summary, "responses": responses}
		if params != nil {
			operation["parameters"] = params
		}
		if o.body != nil {
			operation["requestBody"] = map[string]any{"required": true, "content": content(o.body)}
		}
		item, _ := paths[o.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[o.path] = item
		}
		item[o.method] = operation
	}
	// Every error is {"error": Error}; Error's code takes the stable codes.
	errorBody := schemas.of(reflect.TypeFor[struct {
		Error *Error `json:"error"`
	}]())
	schemas.of(reflect.TypeFor[Proven]())
	if e, ok := schemas.defs["Error"].(map[string]any); ok {
		props := e["properties"].(map[string]any)
		props["code"] = map[string]any{"type": "string", "enum": errorCodes()}
	}
	if schemas.err != nil {
		panic(schemas.err) // a type the schemas cannot describe: TestOpenAPI fails
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Agora node API",
			"version":     Version,
			"description": "Every error is {\"error\": {\"code\", \"message\", \"hint\"}} with a stable code (docs/api.md).",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": schemas.defs,
			"responses": map[string]any{
				"Error": map[string]any{
					"description": "An error with a stable code.",
					"content":     map[string]any{"application/json": map[string]any{"schema": errorBody}},
				},
			},
		},
	}
}

// errorCodes lists every code an error response may carry.
func errorCodes() []string {
	var out []string
	for _, c := range ledger.ErrorCodes() {
		out = append(out, c.Code)
	}
	return out
}

func (s *Server) openAPI(*http.Request) (any, int, error) { return s.document(), 0, nil }
