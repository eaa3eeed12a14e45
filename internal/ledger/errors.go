package ledger

import (
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
)

var codes = []struct {
	err  error
	code string
}{
	{ErrStorage, "storage"},
	{tx.ErrTooLarge, "too_large"},
	{tx.ErrBadSignature, "bad_signature"},
	{tx.ErrMalformed, "malformed"},
	{ErrWrongChain, "wrong_chain"},
	{ErrExpired, "expired"},
	{ErrSequence, "bad_sequence"},
	{ErrUnknownModule, "unknown_module"},
	{ErrUnknownType, "unknown_type"},
	{ErrUnauthorized, "unauthorized"},
	{ErrNotFound, "not_found"},
	{ErrConflict, "conflict"},
	{ErrGone, "gone"},
	{ErrInvalid, "invalid"},
	// Appended, so the codes before keep their places (the ABCI code
	// numbers of package cometbft).
	{ErrOverQuota, "over_quota"},
}

// Code returns the stable code for err: the first sentinel err wraps, in
// the order above, or "internal" for none. "ok" is the code of nil.
func Code(err error) string {
	if err == nil {
		return "ok"
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "internal"
}

// Codes lists every code Code can return, for documentation and tests.
func Codes() []string {
	out := []string{"ok"}
	for _, c := range codes {
		out = append(out, c.code)
	}
	return append(out, "internal")
}
