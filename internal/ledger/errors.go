package ledger

import (
	"context"
	"errors"

	"github.com/agora-ledger/agora/internal/tx"
)

// Sentinel errors that callers branch on. Modules wrap them with a short
// reason ("notary: %w: already anchored"); Code maps any wrapped error to
// the stable code that clients see.
var (
	// ErrInvalid: the request is well formed but not acceptable (a bad
	// field value, a rule of the module). Fix the input; do not retry.
	ErrInvalid = errors.New("invalid")
	// ErrUnauthorized: the signers are not allowed to do this.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound: the thing asked about does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change collides with existing state (a duplicate).
	ErrConflict = errors.New("conflict")
	// ErrGone: the thing asked about existed and was ended for good (a
	// deactivated identity). Do not retry; nothing can change it back.
	ErrGone = errors.New("gone")
	// ErrSequence: a signer's sequence number is not the next one. Fetch
	// the account's sequence and sign again.
	ErrSequence = errors.New("wrong sequence")
	// ErrExpired: the transaction's expiry has passed. Sign it again.
	ErrExpired = errors.New("expired")
	// ErrOverQuota: no signer has standing and the free quota of
	// transactions without standing is used (in this block, or for good
	// when it is zero or smaller than the transaction). Wait for a later
	// block, or have a key with standing sign too.
	ErrOverQuota = errors.New("over quota")
	// ErrWrongChain: the transaction names another chain.
	ErrWrongChain = errors.New("wrong chain")
	// ErrUnknownModule and ErrUnknownType: no module or message of that name.
	ErrUnknownModule = errors.New("unknown module")
	ErrUnknownType   = errors.New("unknown message type")
	// ErrStorage: the store failed. It is never a property of the input;
	// a block that meets it is not committed and the node stops.
	ErrStorage = errors.New("storage failure")
	// ErrBusy: the node takes no more transactions for now (its mempool
	// is full). Retry shortly. Never a transaction's result.
	ErrBusy = errors.New("busy")
	// ErrStopped: the node has stopped and will commit nothing more.
	// Never a transaction's result.
	ErrStopped = errors.New("node stopped")
)

// An ErrorCode is one row of Agora's error table: a stable code, the
// sentinel an error wraps to carry it, the HTTP status the API answers
// with, and the hint a client shows when the error brings none of its own.
type ErrorCode struct {
	Code string
	// Err is the sentinel; nil for a code that only the API gives, on
	// its own terms, and for "internal", the code of every other error.
	Err error
	// Status is the HTTP status of an answer with this code.
	Status int
	// Hint says what to do about it, in a client's words.
	Hint string
	// Result is true for the codes a transaction's result or a refusal
	// at admission may carry: Codes lists them, and their places there
	// are their ABCI codes, so they only ever grow at the end (before
	// "internal").
	Result bool
}

// errorCodes is the one table. Code takes the first row whose sentinel an
// error wraps: the node's own states first, then the ledger's in their
// historical order (which transaction results depend on).
var errorCodes = []ErrorCode{
	{Code: "stopped", Err: ErrStopped, Status: 503, Hint: "the node stopped committing: check its log"},
	{Code: "busy", Err: ErrBusy, Status: 503, Hint: "the mempool is full: retry after a short wait"},
	{Code: "timeout", Err: context.DeadlineExceeded, Status: 504, Hint: "the transaction may still commit: check GET /v1/tx/{hash}"},

	{Code: "storage", Err: ErrStorage, Status: 500, Result: true, Hint: "the node's store failed: its operator finds why in its log"},
	{Code: "too_large", Err: tx.ErrTooLarge, Status: 413, Result: true, Hint: "split the request; limits are in docs/spec/transactions.md"},
	{Code: "bad_signature", Err: tx.ErrBadSignature, Status: 400, Result: true, Hint: "sign the exact transaction bytes, prefixed with \"agora/tx/v1\\x00\", with each signer's key"},
	{Code: "malformed", Err: tx.ErrMalformed, Status: 400, Result: true, Hint: "see docs/spec/transactions.md for the envelope format"},
	{Code: "wrong_chain", Err: ErrWrongChain, Status: 400, Result: true, Hint: "sign for the chain_id that GET /v1/node/info reports"},
	{Code: "expired", Err: ErrExpired, Status: 400, Result: true, Hint: "sign the transaction again with a later expiry"},
	{Code: "bad_sequence", Err: ErrSequence, Status: 409, Result: true, Hint: "fetch next_sequence from GET /v1/accounts/{address} and sign again"},
	{Code: "unknown_module", Err: ErrUnknownModule, Status: 400, Result: true, Hint: "GET /v1/node/info lists the modules"},
	{Code: "unknown_type", Err: ErrUnknownType, Status: 400, Result: true, Hint: "the module's spec in docs/spec lists its message types"},
	{Code: "unauthorized", Err: ErrUnauthorized, Status: 403, Result: true, Hint: "the module's spec in docs/spec says whose signatures it needs"},
	{Code: "not_found", Err: ErrNotFound, Status: 404, Result: true, Hint: "check the name, hash or height; what is not committed yet is not found"},
	{Code: "conflict", Err: ErrConflict, Status: 409, Result: true, Hint: "it collides with what is already in the ledger: read that first"},
	{Code: "gone", Err: ErrGone, Status: 410, Result: true, Hint: "it was ended for good (a deactivated DID): nothing can change it back"},
	{Code: "invalid", Err: ErrInvalid, Status: 400, Result: true, Hint: "fix the input: the same request is refused the same way"},
	{Code: "over_quota", Err: ErrOverQuota, Status: 403, Result: true, Hint: "no signer has standing: create a DID for the key first, or have a key of a DID or a governance body member co-sign; see docs/spec/transactions.md section 8.6"},

	{Code: "not_acceptable", Status: 406, Hint: "ask for a media type the route serves"},
	{Code: "not_implemented", Status: 501, Hint: "the node does not do this"},
	{Code: "too_many_streams", Status: 503, Hint: "the node holds as many event streams and long polls as its max_event_streams allows: retry later, ask without wait, or ask another node"},
	{Code: "internal", Status: 500, Result: true, Hint: "the node's operator finds what failed in its log"},
}

// Code returns the stable code for err: that of the first row of the
// table whose sentinel err wraps, or "internal" for none. "ok" is the
// code of nil.
func Code(err error) string {
	if err == nil {
		return "ok"
	}
	for _, c := range errorCodes {
		if c.Err != nil && errors.Is(err, c.Err) {
			return c.Code
		}
	}
	return "internal"
}

// Codes lists the codes a transaction's result or a refusal at admission
// may carry, "ok" first and "internal" last: for documentation, tests and
// the ABCI codes (a code's place in this list).
func Codes() []string {
	out := []string{"ok"}
	for _, c := range errorCodes {
		if c.Result {
			out = append(out, c.Code)
		}
	}
	return out
}

// ErrorCodes returns the error table: every code an error may carry.
func ErrorCodes() []ErrorCode {
	return append([]ErrorCode(nil), errorCodes...)
}

// CodeInfo returns the row of code; an unknown code's is "internal"'s.
func CodeInfo(code string) ErrorCode {
	for _, c := range errorCodes {
		if c.Code == code {
			return c
		}
	}
	return errorCodes[len(errorCodes)-1]
}

// Sentinel returns the sentinel error of code, or nil if it has none: a
// client that reads a code from the wire unwraps to it, so that
// errors.Is works on both sides.
func Sentinel(code string) error {
	for _, c := range errorCodes {
		if c.Code == code {
			return c.Err
		}
	}
	return nil
}

// A Hinted error says what the person who meets it can do: its Hint,
// written for them, which the CLI prints on a line of its own after the
// error and the API answers in its error's "hint" field. Its text is
// Err's alone; Unwrap gives Err, so errors.Is still finds the sentinels
// Err wraps. Wrap it further with %w: HintOf still finds the hint.
type Hinted struct {
	Err  error
	Hint string
}

func (e *Hinted) Error() string { return e.Err.Error() }

func (e *Hinted) Unwrap() error { return e.Err }

// WithHint returns err carrying hint; nil if err is nil, err itself if
// hint is empty.
func WithHint(err error, hint string) error {
	if err == nil || hint == "" {
		return err
	}
	return &Hinted{Err: err, Hint: hint}
}

// HintOf returns the hint err carries: that of the outermost Hinted in its
// chain, or "" for none. A code's default hint is not carried: see
// CodeInfo.
func HintOf(err error) string {
	var h *Hinted
	if errors.As(err, &h) {
		return h.Hint
	}
	return ""
}
