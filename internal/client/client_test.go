package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
)

// TestNodeErrors: a node's error answer becomes an *Error whose text is
// its message and code, which carries the node's hint as a field, not in
// its text, and which unwraps to its code's sentinel.
func TestNodeErrors(t *testing.T) {
	for _, c := range []struct {
		desc     string
		status   int
		body     string
		text     string
		code     string
		hint     string
		sentinel error
	}{
		{desc: "with a hint", status: 409,
			body: `{"error":{"code":"bad_sequence","message":"wrong sequence: signer 0 must use sequence 4","hint":"fetch next_sequence and sign again"}}`,
			text: "wrong sequence: signer 0 must use sequence 4 (bad_sequence)", code: "bad_sequence", hint: "fetch next_sequence and sign again", sentinel: ledger.ErrSequence},
		{desc: "without a hint", status: 404, body: `{"error":{"code":"not_found","message":"no account 00"}}`,
			text: "no account 00 (not_found)", code: "not_found", sentinel: ledger.ErrNotFound},
		{desc: "an API code without a sentinel", status: 406, body: `{"error":{"code":"not_acceptable","message":"no","hint":"ask for JSON"}}`,
			text: "no (not_acceptable)", code: "not_acceptable", hint: "ask for JSON"},
		{desc: "no error object", status: 502, body: `<html>bad gateway</html>`, text: "GET /v1/node/info: 502 Bad Gateway (http)", code: "http"},
	} {
		t.Run(c.desc, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(c.status)
				w.Write([]byte(c.body))
			}))
			defer srv.Close()
			_, err := New(srv.URL).Info(context.Background())
			if err == nil || err.Error() != c.text {
				t.Fatalf("error %v, want %q", err, c.text)
			}
			if !IsCode(err, c.code) {
				t.Errorf("IsCode(%q) = false", c.code)
			}
			if got := ledger.HintOf(err); got != c.hint {
				t.Errorf("hint %q, want %q", got, c.hint)
			}
			if c.sentinel != nil && !errors.Is(err, c.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, c.sentinel)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	_, err := New(srv.URL).Info(context.Background())
	if err == nil || ledger.HintOf(err) == "" {
		t.Fatalf("error %v, want one with a hint", err)
	}
}
