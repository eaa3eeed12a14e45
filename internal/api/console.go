package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/agora-ledger/agora/internal/console"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// consoleLedger is the console's view of the ledger: the functions the
// API's handlers call, in process.
type consoleLedger struct {
	s *Server
	// queries routes a query's path to its handler, as the API's mux
	// does.
	queries *http.ServeMux
}

// queryAnswer carries a query handler's answer out of consoleLedger's
// mux.
type queryAnswer struct {
	v      any
	status int
	err    error
}

type answerKey struct{}

func newConsoleLedger(s *Server) *consoleLedger {
	l := &consoleLedger{s: s, queries: http.NewServeMux()}
	for _, q := range s.queries() {
		h := s.query(q.namespace, q.Query)
		if q.Pattern == didResolutionPattern {
			h = s.didResolver(q.namespace, q.Query)
		}
		l.queries.Handle(q.Pattern, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			a := r.Context().Value(answerKey{}).(*queryAnswer)
			a.v, a.status, a.err = h(r)
		}))
	}
	return l
}

func (l *consoleLedger) Info() (Info, error) { return l.s.info(), nil }

func (l *consoleLedger) Block(h uint64) (BlockView, error) {
	v, err := l.s.block(h)
	return v, asAPIError(err)
}

func (l *consoleLedger) Tx(hash string) (any, error) {
	id, err := tx.ParseID(hash)
	if err != nil {
		return nil, asAPIError(err)
	}
	v, err := l.s.tx(context.Background(), id, false, false)
	return v, asAPIError(err)
}

func (l *consoleLedger) Account(addr string) (AccountView, error) {
	addr = strings.ToLower(addr)
	if b, err := hex.DecodeString(addr); err != nil || len(b) != 20 {
		return AccountView{}, &Error{Status: 400, Code: "invalid", Message: fmt.Sprintf("%q is not an address (40 hex digits)", addr)}
	}
	v, err := l.s.account(addr)
	return v, asAPIError(err)
}

func (l *consoleLedger) Describe(module, typ string) string {
	for _, m := range l.s.node.Executor().Modules() {
		if d, ok := m.(ledger.Declarer); ok && m.Name() == module {
			if t, ok := ledger.FindMsgType(d.MsgTypes(), typ); ok {
				return t.Summary
			}
		}
	}
	return ""
}

func (l *consoleLedger) Checkpoint() (string, error) {
	c, err := l.s.latestCheckpoint()
	return c, asAPIError(err)
}

// Query runs the query whose route matches path through the same
// handler the API serves it with, without proof=1.
func (l *consoleLedger) Query(path string) (json.RawMessage, error) {
	a := &queryAnswer{}
	r, err := http.NewRequestWithContext(context.WithValue(context.Background(), answerKey{}, a), http.MethodGet, path, nil)
	if err != nil {
		return nil, &Error{Status: 400, Code: "invalid", Message: fmt.Sprintf("%q is not a path", path)}
	}
	if _, pattern := l.queries.Handler(r); pattern == "" {
		return nil, &Error{Status: 404, Code: "not_found", Message: fmt.Sprintf("no query answers %s", path)}
	}
	l.queries.ServeHTTP(nil, r)
	if a.err != nil {
		return nil, asAPIError(a.err)
	}
	v := a.v
	if t, ok := v.(typed); ok {
		v = t.v
	}
	if a.status == http.StatusNotFound || v == nil {
		// A DID Resolution result that found nothing.
		return nil, &Error{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("nothing at %s", path)}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// asAPIError turns err into the *Error the API would answer, so that the
// console shows its status, message and hint.
func asAPIError(err error) error {
	if err == nil {
		return nil
	}
	return toError(err)
}

var _ console.Ledger = (*consoleLedger)(nil)
