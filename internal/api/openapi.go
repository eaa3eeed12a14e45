package api

import (
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/agora-ledger/agora/internal/ledger"
)

// op is one operation of the OpenAPI document.
type op struct {
	method, path, summary string
	query                 []ledger.Param
	body                  string // request body description, if any
	// produces are the media types of the 200 answer (default
	// application/json); statuses the other answers that are not the
	// Error response, by status.
	produces []string
	statuses map[string]string
}

// coreOps are the routes Handler registers besides module queries. A test
// checks that this list and Handler agree.
var coreOps = []op{
	{method: "post", path: "/v1/tx", summary: "Submit a signed transaction. Returns 202 with its hash, or with wait=commit 200 with its height, index, block hash and result.",
		query: []ledger.Param{{Name: "wait", Summary: "\"commit\" to answer only once the transaction is committed"}},
		body:  "{\"tx\": base64 of the canonical envelope}, or the raw envelope as application/cbor"},
	{method: "post", path: "/v1/txs", summary: "Submit up to 10000 signed transactions; each gets a hash or an error, and with wait=commit its height and result code.",
		query: []ledger.Param{{Name: "wait", Summary: "\"commit\" to answer once every admitted transaction is committed"}},
		body:  "{\"txs\": [base64 envelope, ...]}"},
	{method: "get", path: "/v1/tx/{hash}", summary: "A transaction: pending, dropped from the mempool (with the reason), or committed with its block, result and decoded content.",
		query: []ledger.Param{{Name: "envelope", Summary: "\"1\" to include the signed envelope (base64)"},
			{Name: "proof", Summary: "\"1\" to include the envelope and the log entry's inclusion proof against the head's signed checkpoint"}}},
	{method: "get", path: "/v1/proof/inclusion", summary: "An RFC 6962 inclusion proof of leaf index in the log of size entries (default: the head's), with the signed checkpoint of that size (and its cosignatures) when it is the head's or /log/checkpoint's.",
		query: []ledger.Param{{Name: "index", Summary: "leaf index (required)"}, {Name: "size", Summary: "tree size (default: the log's size)"}}},
	{method: "get", path: "/v1/proof/consistency", summary: "An RFC 6962 consistency proof from the log of size from to the log of size to (default: the head's), with the signed checkpoint of that size (and its cosignatures) when it is the head's or /log/checkpoint's.",
		query: []ledger.Param{{Name: "from", Summary: "older size (required)"}, {Name: "to", Summary: "newer size (default: the log's size)"}}},
	{method: "get", path: "/log/checkpoint", summary: "The latest signed checkpoint (C2SP tlog-checkpoint, signed note) with its witness cosignatures, text/plain: with witnesses configured, the newest one all of them have cosigned (the head's until one has); otherwise the head's."},
	{method: "get", path: "/log/tile/{path}", summary: "C2SP tlog-tiles: hash tiles tile/<L>/<N>[.p/<W>] and entry bundles tile/entries/<N>[.p/<W>], application/octet-stream."},
	{method: "get", path: "/v1/blocks/{height}", summary: "A committed block (height a number or \"latest\"): header, hash, transactions and results."},
	{method: "get", path: "/v1/accounts/{address}", summary: "An account: its key, label, committed sequence and next sequence counting the mempool."},
	{method: "get", path: "/v1/node/info", summary: "Chain id, version, genesis hash, head height, block hash, app hash, time, mempool size, modules, the log's key, size and root, and the witnesses with the newest checkpoint all of them have cosigned."},
	{method: "get", path: "/healthz", summary: "200 while the node commits blocks, 503 once it has stopped."},
	{method: "get", path: "/metrics", summary: "Prometheus metrics."},
	{method: "get", path: "/openapi.json", summary: "This document."},
	{method: "get", path: "/ns/did/v1", summary: "Agora's JSON-LD context (application/ld+json), which DID documents name in their @context: it defines every term they use that the DID context does not."},
}

var wildcardRE = regexp.MustCompile(`\{([a-z0-9_]+)(\.\.\.)?\}`)

// document builds the OpenAPI 3.1 document from coreOps and the modules'
// queries.
func (s *Server) document() map[string]any {
	ops := append([]op(nil), coreOps...)
	for _, q := range s.queries() {
		method, path, _ := strings.Cut(q.Pattern, " ")
		params := append([]ledger.Param{{Name: "proof", Summary: "\"1\" to answer {value, proof}: the proof of every state key read, against the head's signed checkpoint"}}, q.Params...)
		o := op{method: strings.ToLower(method), path: path, summary: q.Summary, query: params, produces: q.MediaTypes}
		if q.Pattern == didResolutionPattern {
			o.statuses = map[string]string{}
			for _, code := range slices.Sorted(maps.Keys(didStatus)) {
				o.statuses[strconv.Itoa(didStatus[code])] += " " + code
			}
			o.statuses["410"] = " deactivated: the last document"
		}
		ops = append(ops, o)
	}
	errorRef := map[string]any{"$ref": "#/components/responses/Error"}
	paths := map[string]any{}
	for _, o := range ops {
		var params []any
		for _, m := range wildcardRE.FindAllStringSubmatch(o.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, p := range o.query {
			params = append(params, map[string]any{"name": p.Name, "in": "query", "description": p.Summary, "schema": map[string]any{"type": "string"}})
		}
		content := map[string]any{}
		for _, mt := range append([]string{"application/json"}, o.produces...) {
			content[mt] = map[string]any{}
		}
		responses := map[string]any{
			"200":     map[string]any{"description": "OK", "content": content},
			"default": errorRef,
		}
		for status, codes := range o.statuses {
			responses[status] = map[string]any{"description": "a DID resolution (or dereferencing) result:" + codes, "content": content}
		}
		operation := map[string]any{"summary": o.summary, "responses": responses}
		if params != nil {
			operation["parameters"] = params
		}
		if o.body != "" {
			operation["requestBody"] = map[string]any{"description": o.body, "required": true,
				"content": map[string]any{"application/json": map[string]any{}, "application/cbor": map[string]any{}}}
		}
		item, _ := paths[o.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[o.path] = item
		}
		item[o.method] = operation
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Agora node API",
			"version":     Version,
			"description": "Every error is {\"error\": {\"code\", \"message\", \"hint\"}} with a stable code.",
		},
		"paths": paths,
		"components": map[string]any{
			"responses": map[string]any{
				"Error": map[string]any{
					"description": "An error with a stable code.",
					"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
						"type": "object",
						"properties": map[string]any{"error": map[string]any{
							"type": "object",
							"properties": map[string]any{
								"code":    map[string]any{"type": "string", "enum": errorCodes()},
								"message": map[string]any{"type": "string"},
								"hint":    map[string]any{"type": "string"},
							},
							"required": []string{"code", "message"},
						}},
					}}},
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
