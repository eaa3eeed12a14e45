// Package api serves Agora's HTTP API: transaction submission, blocks,
// transactions, accounts, node information, health, Prometheus metrics,
// every module's queries and the OpenAPI document that describes them;
// and it mounts the web console (package console) at "/", which reads the
// ledger through the same functions as the handlers (console.go).
//
// # Errors
//
// Every error is a JSON object {"error": {"code", "message", "hint"}}:
// code is stable, message is written for people, hint says what to do:
// the one the error carries (ledger.WithHint), or its code's default. The
// ledger's error table (ledger.ErrorCodes) gives every code its HTTP
// status and default hint; toError is the one place that applies it.
package api

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/agora-ledger/agora/internal/console"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/smt"
	"github.com/agora-ledger/agora/internal/tx"
)

// Version is the software version reported by /v1/node/info.
var Version = "0.1.0-dev"

// Server is the HTTP API of one node.
type Server struct {
	node        Driver
	log         *slog.Logger
	genesisHash []byte
	logKey      string
	witnesses   []string // the witnesses' verifier keys
	maxBody     int64
	timeout     time.Duration
	gatherer    prometheus.Gatherer
	// console serves the web console's pages.
	console *console.Console
	// prover remembers the state map's nodes that proofs pass through,
	// by content: the nodes near the root are hashed once, not per proof.
	prover *smt.Prover
	// streams counts the event feed's requests that hold their
	// connection (see holdStream), at most maxStreams.
	streams    atomic.Int64
	maxStreams int64
	metrics    apiMetrics
}

// provenNodes bounds the nodes the API's prover remembers (a few MB).
const provenNodes = 4096

// New returns the API of the driver n. genesisHash identifies the genesis file;
// logKey is the signed-note verifier key of the node's checkpoints;
// gatherer serves /metrics, with the API's own metrics (apiMetrics); sections
// are the modules' parts of the console.
func New(n Driver, cfg node.Config, genesisHash []byte, logKey string, log *slog.Logger, gatherer prometheus.Gatherer, sections ...console.Section) *Server {
	cfg = cfg.WithDefaults()
	srv := &Server{node: n, log: log, genesisHash: genesisHash, logKey: logKey, maxBody: cfg.MaxRequestBytes,
		timeout: time.Duration(cfg.RequestTimeout), prover: smt.NewProver(provenNodes),
		maxStreams: int64(cfg.MaxEventStreams), metrics: newAPIMetrics()}
	srv.gatherer = prometheus.Gatherers{srv.metrics.registry}
	if gatherer != nil {
		srv.gatherer = prometheus.Gatherers{gatherer, srv.metrics.registry}
	}
	for _, w := range cfg.Witnesses {
		srv.witnesses = append(srv.witnesses, w.Key)
	}
	srv.console = console.New(newConsoleLedger(srv), log, sections...)
	return srv
}

// Handler returns the API's routes. Every route is registered here.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /v1/tx", s.handle(s.submit))
	mux.Handle("POST /v1/txs", s.handle(s.submitBatch))
	mux.Handle("GET /v1/tx/{hash}", s.handle(s.getTx))
	mux.Handle("GET /v1/blocks/{height}", s.handle(s.getBlock))
	mux.Handle("GET /v1/accounts/{address}", s.handle(s.getAccount))
	mux.Handle("GET /v1/node/info", s.handle(s.getInfo))
	mux.Handle("GET /healthz", s.handle(s.health))
	mux.Handle("GET /openapi.json", s.handle(s.openAPI))
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}))
	mux.Handle("GET /v1/events", http.HandlerFunc(s.events))
	mux.Handle("GET /v1/proof/inclusion", s.handle(s.proofInclusion))
	mux.Handle("GET /v1/proof/consistency", s.handle(s.proofConsistency))
	mux.Handle("GET /log/checkpoint", http.HandlerFunc(s.logCheckpoint))
	mux.Handle("GET /log/tile/{path...}", http.HandlerFunc(s.logTile))
	mux.Handle("GET /ns/did/v1", http.HandlerFunc(contextDocument))
	for _, q := range s.queries() {
		h := s.query(q.namespace, q.Query)
		if q.Pattern == didResolutionPattern {
			h = s.didResolver(q.namespace, q.Query)
		}
		var hh http.Handler = s.handle(h)
		if len(q.MediaTypes) > 0 {
			hh = varyAccept(hh)
		}
		mux.Handle(q.Pattern, hh)
	}
	mux.Handle("GET /{$}", s.console)        // console.Home
	for _, p := range s.console.Patterns() { // its other pages and assets
		mux.Handle(p, s.console)
	}
	mux.Handle("/", s.handle(func(r *http.Request) (any, int, error) {
		return nil, 0, &Error{Status: http.StatusNotFound, Code: "not_found",
			Message: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path), Hint: "GET /openapi.json lists the routes"}
	}))
	return mux
}

// namespacedQuery is a query with the state namespace it reads.
type namespacedQuery struct {
	ledger.Query
	namespace string
}

// queries are the ledger's own queries and every module's.
func (s *Server) queries() []namespacedQuery {
	var out []namespacedQuery
	for _, q := range ledger.Queries() {
		out = append(out, namespacedQuery{q, ledger.Namespace})
	}
	for _, m := range s.node.Executor().Modules() {
		for _, q := range m.Queries() {
			out = append(out, namespacedQuery{q, m.Name()})
		}
	}
	return out
}

// handlerFunc is a thin handler: it returns a response to encode as JSON
// (with status, 0 meaning 200) or an error that writeError maps.
type handlerFunc func(r *http.Request) (any, int, error)

func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
		defer cancel()
		resp, status, err := h(r.WithContext(ctx))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if status == 0 {
			status = http.StatusOK
		}
		if t, ok := resp.(typed); ok {
			writeJSONAs(w, status, t.mediaType, t.v)
			return
		}
		writeJSON(w, status, resp)
	})
}

// typed is a response served with its own (JSON-based) media type.
type typed struct {
	mediaType string
	v         any
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONAs(w, status, "application/json", v)
}

func writeJSONAs(w http.ResponseWriter, status int, mediaType string, v any) {
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(status)
	if raw, ok := v.(ledger.Raw); ok { // a representation that is not JSON
		io.WriteString(w, string(raw))
		return
	}
	json.NewEncoder(w).Encode(v) // compact: indenting costs a quarter of a proven answer
}

// statusOf maps a stable code to its HTTP status: its row in the ledger's
// error table.
func statusOf(code string) int { return ledger.CodeInfo(code).Status }

// toError turns any error into the Error clients see. The hint is the one
// the error carries, or its code's default; an internal failure's message
// and hint are the table's, since its own are for the node's log.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.Status == 0 {
			e.Status = statusOf(e.Code)
		}
		if e.Hint == "" {
			e.Hint = ledger.CodeInfo(e.Code).Hint
		}
		return e
	}
	var maxErr *http.MaxBytesError
	code := ledger.Code(err)
	if errors.As(err, &maxErr) {
		code = "too_large"
	}
	row := ledger.CodeInfo(code)
	msg, hint := err.Error(), ledger.HintOf(err)
	switch code {
	case "internal", "storage":
		msg, hint = "internal error: see the node's log", ""
	case "stopped":
		// The reason the node stopped is an internal failure: it is in
		// the node's log, not for clients.
		msg, hint = "the node stopped committing blocks", ""
	}
	if hint == "" {
		hint = row.Hint
	}
	return &Error{Status: row.Status, Code: code, Message: msg, Hint: hint}
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := toError(err)
	if e.Status >= 500 && e.Code != "busy" && e.Code != "timeout" && e.Code != "not_implemented" && e.Code != "too_many_streams" {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, e.Status, map[string]*Error{"error": e})
}

func commitOf(c node.Committed) *TxCommit {
	h := c.Header.Hash()
	return &TxCommit{Height: c.Height, Index: c.Index, LeafIndex: c.Leaf, BlockHash: hex.EncodeToString(h[:]),
		Time: time.UnixMilli(c.Header.Time).UTC(), Result: c.Result}
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: tx is not base64", tx.ErrMalformed)
	}
	return b, nil
}

// readJSON decodes a request body strictly: one JSON value with no
// unknown fields and nothing after it.
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err = dec.Token(); err == io.EOF {
			return nil
		} else if err == nil {
			err = errors.New("data after the JSON value")
		}
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return err
	}
	return fmt.Errorf("%w: request body: %v", tx.ErrMalformed, err)
}

// readBody reads a raw request body. A body over the request limit is
// too large; one that ends before its Content-Length (the client stopped
// sending) is malformed: both are the client's to fix, never an internal
// failure.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	var maxErr *http.MaxBytesError
	if err != nil && !errors.As(err, &maxErr) {
		return nil, fmt.Errorf("%w: request body: %v", tx.ErrMalformed, err)
	}
	return b, err
}

func (s *Server) submit(r *http.Request) (any, int, error) {
	var raw []byte
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/cbor") {
		b, err := readBody(r)
		if err != nil {
			return nil, 0, err
		}
		raw = b
	} else {
		var req SubmitRequest
		if err := readJSON(r, &req); err != nil {
			return nil, 0, err
		}
		b, err := decodeBase64(req.Tx)
		if err != nil {
			return nil, 0, err
		}
		raw = b
	}
	wait := r.URL.Query().Get("wait")
	if wait != "" && wait != "commit" && wait != "none" {
		return nil, 0, &Error{Status: 400, Code: "invalid", Message: fmt.Sprintf("wait=%q: use wait=commit or omit it", wait)}
	}
	id, err := s.node.Submit(raw)
	if err != nil {
		return nil, 0, err
	}
	if wait != "commit" {
		return SubmitResponse{Hash: id, Status: "pending"}, http.StatusAccepted, nil
	}
	c, err := s.node.Wait(r.Context(), id)
	if err != nil {
		return nil, 0, err
	}
	resp := SubmitResponse{Hash: id, Status: "committed", TxCommit: commitOf(c)}
	v, err := s.view()
	if err != nil {
		return nil, 0, err
	}
	defer v.Close()
	// The proof carries the node's checkpoint as it is now, without
	// waiting for the quorum's signatures: GET /v1/tx/{hash}?proof=1 has
	// those (quorumCheckpoint).
	if resp.Proof, err = inclusionAt(v, c.Leaf, c.Height, v.signedCheckpoint); err != nil {
		var e *Error
		if !errors.As(err, &e) { // a node without checkpoints answers without proofs
			return nil, 0, err
		}
	}
	return resp, http.StatusOK, nil
}

// MaxBatch bounds the envelopes in one POST /v1/txs.
const MaxBatch = 10000

func (s *Server) submitBatch(r *http.Request) (any, int, error) {
	var req BatchRequest
	if err := readJSON(r, &req); err != nil {
		return nil, 0, err
	}
	if len(req.Txs) > MaxBatch {
		return nil, 0, &Error{Status: 413, Code: "too_large", Message: fmt.Sprintf("%d transactions in a batch, at most %d", len(req.Txs), MaxBatch)}
	}
	out := BatchResponse{Results: make([]BatchItem, len(req.Txs))}
	wait := r.URL.Query().Get("wait")
	if wait != "" && wait != "commit" && wait != "none" {
		return nil, 0, &Error{Status: 400, Code: "invalid", Message: fmt.Sprintf("wait=%q: use wait=commit or omit it", wait)}
	}
	for i, enc := range req.Txs {
		raw, err := decodeBase64(enc)
		if err == nil {
			var id tx.ID
			id, err = s.node.Submit(raw)
			if err == nil {
				out.Results[i].Hash = &id
				continue
			}
		}
		out.Results[i].Error = toError(err)
	}
	if wait != "commit" {
		return out, http.StatusAccepted, nil
	}
	for i := range out.Results {
		item := &out.Results[i]
		if item.Hash == nil {
			continue
		}
		c, err := s.node.Wait(r.Context(), *item.Hash)
		if err != nil {
			item.Error = toError(err)
			continue
		}
		item.Code = c.Result.Code
		item.Height = c.Height
	}
	return out, http.StatusOK, nil
}

func viewTx(raw []byte) (*TxView, error) {
	s, t, err := tx.Decode(raw)
	if err != nil {
		return nil, err
	}
	v := &TxView{Hash: s.ID(), ChainID: t.ChainID, Module: t.Module, Type: t.Type, ExpiryHeight: t.ExpiryHeight,
		Body: hex.EncodeToString(t.Body)}
	if t.ExpiryTime != 0 {
		et := time.UnixMilli(t.ExpiryTime).UTC()
		v.ExpiryTime = &et
	}
	for _, sg := range t.Signers {
		v.Signers = append(v.Signers, SignerView{Address: sg.Key.Address(), Key: sg.Key, Sequence: sg.Sequence})
	}
	return v, nil
}

func (s *Server) getTx(r *http.Request) (any, int, error) {
	id, err := tx.ParseID(r.PathValue("hash"))
	if err != nil {
		return nil, 0, err
	}
	ans, err := s.tx(r.Context(), id, r.URL.Query().Get("envelope") == "1", wantProof(r))
	if err != nil {
		return nil, 0, err
	}
	return ans, 0, nil
}

// tx answers GET /v1/tx/{hash}: a *TxStatus for a pending or dropped
// transaction, a *TxView for a committed one, with its envelope if
// envelope or proof, and its inclusion proof if proof.
func (s *Server) tx(ctx context.Context, id tx.ID, envelope, proof bool) (any, error) {
	c, err := s.node.Lookup(id)
	if errors.Is(err, ledger.ErrNotFound) {
		if s.node.Pending(id) {
			return &TxStatus{Hash: id, Status: "pending"}, nil
		}
		// The node commits a block before it takes the block's
		// transactions out of the mempool, so one that left the mempool
		// since the first look may be committed now.
		c, err = s.node.Lookup(id)
	}
	if errors.Is(err, ledger.ErrNotFound) {
		if derr := s.node.Dropped(id); derr != nil {
			return &TxStatus{Hash: id, Status: "dropped", Error: toError(derr)}, nil
		}
		return nil, &Error{Status: 404, Code: "not_found", Message: fmt.Sprintf("no transaction %s", id),
			Hint: "it was never submitted, was refused, or was dropped from the mempool"}
	}
	if err != nil {
		return nil, err
	}
	env, err := s.node.Store().Envelope(c.Leaf)
	if err != nil {
		return nil, err
	}
	v, err := viewTx(env)
	if err != nil {
		return nil, err
	}
	v.Status = "committed"
	v.TxCommit = commitOf(c)
	if envelope || proof {
		v.Envelope = base64.StdEncoding.EncodeToString(env)
	}
	if proof {
		lv, err := s.view()
		if err != nil {
			return nil, err
		}
		defer lv.Close()
		signed := func(h uint64) (string, error) { return s.quorumCheckpoint(ctx, lv, h) }
		if v.Proof, err = inclusionAt(lv, c.Leaf, lv.head.Height, signed); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (s *Server) getBlock(r *http.Request) (any, int, error) {
	hs := r.PathValue("height")
	var h uint64
	if hs == "latest" {
		h = s.node.Head().Height
	} else {
		var err error
		h, err = strconv.ParseUint(hs, 10, 64)
		if err != nil {
			return nil, 0, &Error{Status: 400, Code: "invalid", Message: fmt.Sprintf("height %q is not a number", hs), Hint: "use a height such as 12, or latest"}
		}
	}
	v, err := s.block(h)
	if err != nil {
		return nil, 0, err
	}
	return v, 0, nil
}

// block answers GET /v1/blocks/{height}.
func (s *Server) block(h uint64) (BlockView, error) {
	rec, err := s.node.Store().Block(h)
	if err != nil {
		return BlockView{}, err
	}
	hash := rec.Header.Hash()
	v := BlockView{Hash: hex.EncodeToString(hash[:]), Header: rec.Header, Txs: []BlockTx{}}
	for i, raw := range rec.Txs {
		tv, err := viewTx(raw)
		if err != nil {
			return BlockView{}, err
		}
		v.Txs = append(v.Txs, BlockTx{Hash: tv.Hash, Module: tv.Module, Type: tv.Type, Result: rec.Results[i]})
	}
	return v, nil
}

func (s *Server) getAccount(r *http.Request) (any, int, error) {
	addr := strings.ToLower(r.PathValue("address")) // accounts are keyed by lower-case hex
	if b, err := hex.DecodeString(addr); err != nil || len(b) != 20 {
		return nil, 0, &Error{Status: 400, Code: "invalid", Message: fmt.Sprintf("%q is not an address (40 hex digits)", addr)}
	}
	a, err := s.account(addr)
	if err != nil {
		return nil, 0, err
	}
	return a, 0, nil
}

// account answers GET /v1/accounts/{address}, addr in lower-case hex.
func (s *Server) account(addr string) (AccountView, error) {
	snap := s.node.Store().Snapshot()
	defer snap.Close()
	a, err := ledger.GetAccountByAddress(snap, addr)
	if errors.Is(err, ledger.ErrNotFound) {
		// A key that never signed has sequence 0 and no record yet.
		return AccountView{}, &Error{Status: 404, Code: "not_found", Message: fmt.Sprintf("no account %s", addr),
			Hint: "an account appears when its key first signs a committed transaction; its first sequence is 0"}
	}
	if err != nil {
		return AccountView{}, err
	}
	return AccountView{Address: addr, Key: a.Key, Label: a.Label, Sequence: a.Sequence,
		NextSequence: s.node.NextSequence(addr, a.Sequence)}, nil
}

func (s *Server) getInfo(*http.Request) (any, int, error) { return s.info(), 0, nil }

// info answers GET /v1/node/info.
func (s *Server) info() Info {
	h := s.node.Head()
	hash := h.Hash()
	inf := Info{ChainID: h.ChainID, Version: Version, GenesisHash: hex.EncodeToString(s.genesisHash), Height: h.Height,
		BlockHash: hex.EncodeToString(hash[:]), AppHash: hex.EncodeToString(h.AppHash), Time: time.UnixMilli(h.Time).UTC(),
		Mempool: s.node.MempoolSize(), LogOrigin: ledger.Origin(h.ChainID), LogKey: s.logKey, LogSize: h.LogSize,
		LogRoot: hex.EncodeToString(h.LogRoot)}
	for _, m := range s.node.Executor().Modules() {
		inf.Modules = append(inf.Modules, m.Name())
	}
	inf.Witnesses = s.witnesses
	if w, ok := s.node.Witnessed(); ok {
		inf.WitnessedHeight, inf.WitnessedLogSize = &w.Height, &w.LogSize
	}
	return inf
}

func (s *Server) health(*http.Request) (any, int, error) {
	if err := s.node.Err(); err != nil {
		return nil, 0, &Error{Status: 503, Code: "stopped", Message: "the node stopped committing blocks"}
	}
	return Health{Status: "ok", Height: s.node.Head().Height}, 0, nil
}

// wantProof reports whether the request asks for a proof (proof=1).
func wantProof(r *http.Request) bool {
	p := r.URL.Query().Get("proof")
	return p != "" && p != "0"
}

func (s *Server) query(module string, q ledger.Query) handlerFunc {
	return func(r *http.Request) (any, int, error) {
		v, err := s.view()
		if err != nil {
			return nil, 0, err
		}
		defer v.Close()
		params := r.URL.Query() // once: a query reads each of its arguments
		arg := func(name string) string {
			if p := r.PathValue(name); p != "" {
				return p
			}
			return params.Get(name)
		}
		mediaType := ""
		if len(q.MediaTypes) > 0 {
			if mediaType = negotiate(r.Header.Values("Accept"), q.MediaTypes); mediaType == "" {
				return nil, 0, &Error{Status: http.StatusNotAcceptable, Code: "not_acceptable",
					Message: fmt.Sprintf("this route serves none of the media types %q accepts", r.Header.Values("Accept")),
					Hint:    "accept one of " + strings.Join(q.MediaTypes, ", ")}
			}
		}
		if !wantProof(r) {
			ans, err := q.Run(ledger.NewReadView(v, module, nil), arg)
			if ans == nil {
				return nil, 0, err
			}
			status := 0
			if err != nil {
				status = toError(err).Status
			}
			if mediaType == "" {
				return ans, status, nil
			}
			if q.Represent != nil {
				ans = q.Represent(ans, mediaType)
			}
			return typed{mediaType: mediaType, v: ans}, status, nil
		}
		var reads ledger.Reads
		ans, qerr := q.Run(ledger.NewReadView(v, module, &reads), arg)
		if qerr != nil && ans == nil && !errors.Is(qerr, ledger.ErrNotFound) {
			return nil, 0, qerr
		}
		if reads.Iterated {
			return nil, 0, &Error{Status: 501, Code: "not_implemented",
				Message: "this query reads a range of keys, which a state proof cannot show complete", Hint: "omit proof=1"}
		}
		c, err := s.quorumCheckpoint(r.Context(), v, v.head.Height)
		if err != nil {
			return nil, 0, err
		}
		p, err := stateProof(v, s.prover, &reads, c)
		if err != nil {
			return nil, 0, err
		}
		if qerr != nil && ans != nil {
			return Proven{Value: ans, Proof: p}, toError(qerr).Status, nil
		}
		if qerr != nil {
			e := toError(qerr)
			e.Proof = p
			return nil, 0, e
		}
		return Proven{Value: ans, Proof: p}, 0, nil
	}
}

// negotiate returns the media type of produces (the first the default)
// that the Accept header values prefer, or "" if they allow none. A range
// matches a type of the same type/subtype whose parameters it lists with
// the same values (so application/ld+json matches any profile of it);
// charset=utf-8 matches every type (all are UTF-8 JSON), another charset
// none; q=0 excludes; among equal q, the client's order wins.
func negotiate(accept []string, produces []string) string {
	var ranges []string
	for _, a := range accept {
		ranges = append(ranges, strings.Split(a, ",")...)
	}
	best, bestQ := "", 0.0
	if len(strings.TrimSpace(strings.Join(ranges, ""))) == 0 {
		return produces[0]
	}
	for _, rg := range ranges {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(rg))
		if err != nil {
			continue
		}
		if cs, ok := params["charset"]; ok {
			// Every answer is JSON, in UTF-8: charset=utf-8 asks for
			// nothing more, and another charset cannot be served.
			if !strings.EqualFold(cs, "utf-8") {
				continue
			}
			delete(params, "charset")
		}
		q := 1.0
		if qs, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(qs, 64); err != nil || q < 0 || q > 1 {
				continue
			}
			delete(params, "q")
		}
		if q <= bestQ {
			continue
		}
		for _, p := range produces {
			pt, pparams, err := mime.ParseMediaType(p)
			if err != nil {
				continue
			}
			typ, sub, _ := strings.Cut(mt, "/")
			ptyp, _, _ := strings.Cut(pt, "/")
			if !(mt == "*/*" || (sub == "*" && typ == ptyp) || mt == pt) {
				continue
			}
			ok := true
			for k, v := range params {
				if pparams[k] != v {
					ok = false
				}
			}
			if ok {
				best, bestQ = p, q
				break
			}
		}
	}
	return best
}
