// Package console serves the node's web console: pages that a reader with
// no technical background can read, and check. It is mounted by the HTTP
// API (package api) at "/" and reads the ledger through the same functions
// the API's handlers call (a Ledger), never over HTTP.
//
// # Pages
//
// The console's own pages are the home page (the node, the latest blocks,
// live throughput), search, a block, a transaction, the log (checkpoints
// and witness cosignatures) and a glossary. Every module adds its own
// pages through a Section, named in its registry entry: its routes, its
// entry in the navigation and its search resolver.
//
// # What a page promises
//
// Pages are rendered on the server with html/template and read fully with
// JavaScript off. Every time is written once, as ISO 8601 in UTC in a
// <time> element; the script rewrites it in the reader's time zone. Every
// fact that has a proof carries a check (Check): the API path that answers
// it with proof=1 and the SHA-256 of the answer the page was rendered
// from. The script fetches the proof, checks it in the browser with the
// verify package compiled to WebAssembly (assets/verify.wasm), and says in
// plain words what was checked, or that the check failed and what that
// means.
//
// # Assets
//
// Everything the pages load is embedded: one stylesheet, one script, the
// WebAssembly verifier and Go's wasm_exec.js. The Content-Security-Policy
// allows scripts from the node alone, with no inline script.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/agora-ledger/agora/internal/api/wire"
)

// Ledger is what the console reads: the API's own functions, called in
// process. Errors are the API's (*wire.Error, with its status), so that a
// page says "not found" where the API answers 404.
type Ledger interface {
	// Info is GET /v1/node/info's answer.
	Info() (wire.Info, error)
	// Block is GET /v1/blocks/{height}'s answer.
	Block(height uint64) (wire.BlockView, error)
	// Tx is GET /v1/tx/{hash}'s answer: a *wire.TxView for a committed
	// transaction, a *wire.TxStatus for a pending or dropped one.
	Tx(hash string) (any, error)
	// Account is GET /v1/accounts/{address}'s answer: an account's
	// label from the genesis, among others.
	Account(address string) (wire.AccountView, error)
	// Query answers a GET path of a module's or the ledger's query (as
	// "/v1/gov/changes/3"), as the API would without proof=1, encoded
	// as JSON.
	Query(path string) (json.RawMessage, error)
	// Describe says what a module's message type does, in words: its
	// declared summary ("create a DID with its first keys"), or "".
	Describe(module, typ string) string
	// Checkpoint is GET /log/checkpoint's answer: the signed note with
	// its cosignature lines.
	Checkpoint() (string, error)
}

// A Section is a module's part of the console: its pages, its entry in
// the navigation and its part of the search. A module declares one in its
// registry entry; the console mounts them in that order.
type Section struct {
	// Nav is the navigation entry's text, and Home the path it links to
	// ("" for none).
	Nav, Home string
	// Pages are the section's pages.
	Pages []Page
	// Resolve returns the path of the section's page for a search, or ""
	// if q is none of the section's (a DID, a name, a digest...). It may
	// read the ledger to tell.
	Resolve func(l Ledger, q string) string
	// Fallback, if set, is asked as Resolve is once no section's Resolve
	// claimed q: for a page that answers any query of a shape, even of
	// nothing the ledger holds (a digest never anchored), so that it
	// does not hide another section's record with the same shape (a
	// data-usage contract's id is a SHA-256 too).
	Fallback func(l Ledger, q string) string
	// Glossary adds the section's terms to the glossary.
	Glossary []Term
}

// A Page is one route of the console.
type Page struct {
	// Pattern is a ServeMux pattern, "GET /did/{did}".
	Pattern string
	// Render reads the ledger and returns what to show; an error is shown
	// as a page of its own (a *wire.Error's status and hint).
	Render func(l Ledger, r *http.Request) (*View, error)
}

// A View is a page to render: its title, and the template (parsed with
// Parse) that renders Data into the layout's main element.
type View struct {
	Title    string
	Template *template.Template
	Data     any
}

// A Term is one entry of the glossary.
type Term struct {
	Word, Meaning string
}

// A Check is a fact on a page that the browser checks: the API path whose
// proof=1 answer proves it, the SHA-256 of the answer the page shows (hex),
// and what it is, in words ("the DID document"). Kind says how to check:
// "answer" (a module query), "tx" (a transaction's inclusion) or
// "checkpoint" (the log's newest checkpoint).
type Check struct {
	Kind, Path, Digest, What string
	// Witnesses, on a checkpoint's check, are the verifier keys of the
	// witnesses that must all have cosigned it.
	Witnesses []string
}

// Answer is a query's answer as a page shows it: the value decoded from
// JSON, and the Check that proves it.
type Answer struct {
	Raw   json.RawMessage
	Check Check
}

// Ask runs the query at path and returns its answer with its Check; what
// names the fact for the reader.
func Ask(l Ledger, path, what string) (*Answer, error) {
	raw, err := l.Query(path)
	if err != nil {
		return nil, err
	}
	return &Answer{Raw: raw, Check: Check{Kind: "answer", Path: path, Digest: Digest(raw), What: what}}, nil
}

// AskFor runs the query at path and decodes its answer into a T; what
// names the fact for the reader.
func AskFor[T any](l Ledger, path, what string) (T, Check, error) {
	var v T
	a, err := Ask(l, path, what)
	if err != nil {
		return v, Check{}, err
	}
	if err := a.Decode(&v); err != nil {
		return v, Check{}, fmt.Errorf("console: the answer of %s: %w", path, err)
	}
	return v, a.Check, nil
}

// Decode decodes the answer into v.
func (a *Answer) Decode(v any) error { return json.Unmarshal(a.Raw, v) }

// Digest is the hex SHA-256 of an answer's compact JSON, as the browser
// computes it from the value the proof proves.
func Digest(raw []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		buf.Reset()
		buf.Write(raw)
	}
	h := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(h[:])
}

// NotFound reports whether err is the ledger's answer that there is no
// such thing.
func NotFound(err error) bool {
	var e *wire.Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// Console serves the pages.
type Console struct {
	ledger   Ledger
	sections []Section
	log      *slog.Logger
	mux      *http.ServeMux
	patterns []string
}

//go:embed assets
var assets embed.FS

// New returns the console of the ledger l with the modules' sections.
func New(l Ledger, log *slog.Logger, sections ...Section) *Console {
	c := &Console{ledger: l, sections: sections, log: log, mux: http.NewServeMux()}
	static, _ := fs.Sub(assets, "assets")
	c.handle("GET /assets/{file}", http.StripPrefix("/assets/", http.FileServerFS(static)))
	for _, p := range c.pages() {
		c.handle(p.Pattern, c.render(p.Render))
	}
	for _, s := range sections {
		for _, p := range s.Pages {
			c.handle(p.Pattern, c.render(p.Render))
		}
	}
	return c
}

func (c *Console) handle(pattern string, h http.Handler) {
	c.patterns = append(c.patterns, pattern)
	c.mux.Handle(pattern, securityHeaders(h))
}

// Home is the pattern of the console's home page.
const Home = "GET /{$}"

// Patterns lists the routes the console serves but Home, for the API to
// mount.
func (c *Console) Patterns() []string {
	var out []string
	for _, p := range c.patterns {
		if p != Home {
			out = append(out, p)
		}
	}
	return out
}

// ServeHTTP serves one of the console's routes.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

// CSP is the pages' Content-Security-Policy: everything from the node,
// no inline script or style; 'wasm-unsafe-eval' lets the page compile the
// embedded verifier, and nothing else.
const CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", CSP)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}
