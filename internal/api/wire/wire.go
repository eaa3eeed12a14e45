// Package wire defines the JSON bodies of Agora's HTTP API
// (docs/api.md): what package api serves and package client reads. It
// holds types only, so that a client need not link the node.
package wire

import (
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/verify"
)

// Schemas: the OpenAPI document (GET /openapi.json) describes these types
// by reflection, as encoding/json writes them. A field's `enum` tag lists
// the only values it takes; `encoding:"hex"` or `encoding:"base64"` says
// how a string encodes bytes.

// Error is an API error as clients see it.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
	// Proof, with proof=1 on a query that found nothing, proves the
	// absence.
	Proof *verify.StateProof `json:"proof,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// SubmitRequest is the JSON body of POST /v1/tx: the canonical envelope,
// base64 (standard or URL alphabet, padding optional). A body of type
// application/cbor is the raw envelope instead.
type SubmitRequest struct {
	Tx string `json:"tx"`
}

// SubmitResponse answers POST /v1/tx.
type SubmitResponse struct {
	Hash   tx.ID  `json:"hash"`
	Status string `json:"status" enum:"pending,committed"`
	*TxCommit
}

// TxCommit says where a transaction was committed and its result.
type TxCommit struct {
	Height    uint64        `json:"height"`
	Index     int           `json:"index"`
	LeafIndex uint64        `json:"leaf_index"`
	BlockHash string        `json:"block_hash" encoding:"hex"`
	Time      time.Time     `json:"time"`
	Result    ledger.Result `json:"result"`
	// Proof proves the transaction's log entry against a signed
	// checkpoint: the commit block's on submit with wait=commit, the
	// head's with proof=1 on GET /v1/tx/{hash}.
	Proof *verify.InclusionProof `json:"proof,omitempty"`
}

// BatchRequest is the body of POST /v1/txs: many envelopes at once.
type BatchRequest struct {
	Txs []string `json:"txs"`
}

// BatchResponse answers POST /v1/txs: one item per envelope, in order.
type BatchResponse struct {
	Results []BatchItem `json:"results"`
}

// BatchItem is one envelope's outcome in a BatchResponse: its hash, or an
// error; an error does not stop the envelopes after it. Without wait, an
// item with a hash is admitted and pending. With wait=commit, an item
// with a hash is committed (height and code), or also carries the error
// that ended the wait: the transaction was dropped (its reason), or the
// request timed out (timeout; it may still commit).
type BatchItem struct {
	Hash  *tx.ID `json:"hash,omitempty"`
	Error *Error `json:"error,omitempty"`
	// With wait=commit: the block height and the result code.
	Height uint64 `json:"height,omitempty"`
	Code   string `json:"code,omitempty"`
}

// TxStatus is GET /v1/tx/{hash}'s answer for a transaction that is not
// committed: pending in the mempool, or dropped from it (the node
// remembers the last 10,000) with the error that dropped it, whose code
// says why (expired, bad_sequence, ...). A dropped transaction changed
// nothing; sign a new one.
type TxStatus struct {
	Hash   tx.ID  `json:"hash"`
	Status string `json:"status" enum:"pending,dropped"`
	Error  *Error `json:"error,omitempty"` // dropped only
}

// TxView is a committed transaction as GET /v1/tx/{hash} shows it. Its
// hash and status are a TxStatus's, so a client may decode any answer of
// that route as a TxView and read the status first.
type TxView struct {
	Hash         tx.ID        `json:"hash"`
	Status       string       `json:"status" enum:"committed"`
	ChainID      string       `json:"chain_id"`
	Module       string       `json:"module"`
	Type         string       `json:"type"`
	Signers      []SignerView `json:"signers"`
	ExpiryHeight uint64       `json:"expiry_height,omitempty"`
	ExpiryTime   *time.Time   `json:"expiry_time,omitempty"`
	Body         string       `json:"body" encoding:"hex"` // hex of the canonical CBOR body
	Envelope     string       `json:"envelope,omitempty" encoding:"base64"`
	*TxCommit    `json:",omitempty"`
}

// SignerView is one signer of a transaction.
type SignerView struct {
	Address  string       `json:"address" encoding:"hex"`
	Key      tx.PublicKey `json:"key"`
	Sequence uint64       `json:"sequence"`
}

// TxClaim is what a console page shows of a transaction, which the
// browser's verifier (internal/console/check.Tx) checks beside its proof. Hash, Height, Index and Code are always checked;
// each other field only when the page shows it (set).
type TxClaim struct {
	Hash   string `json:"hash"`
	Height uint64 `json:"height"`
	Index  int    `json:"index"`
	// Code is the result code the page shows ("ok": accepted), and
	// Error the reason of a refusal.
	Code  string `json:"code"`
	Error string `json:"error,omitempty"`
	// ChainID names the ledger; Module and Type the transaction's kind;
	// Body is its canonical CBOR body in hex.
	ChainID string `json:"chain_id,omitempty"`
	Module  string `json:"module,omitempty"`
	Type    string `json:"type,omitempty"`
	Body    string `json:"body,omitempty"`
	// LeafIndex is the transaction's position in the log.
	LeafIndex *uint64 `json:"leaf_index,omitempty"`
	// Signers are the accounts the page says signed it, in order, and
	// Events what the page says it did: null is not shown, [] is none.
	Signers []ClaimSigner  `json:"signers"`
	Events  []ledger.Event `json:"events"`
	// Fields are values the page shows from the body: each key is a
	// JSON pointer (RFC 6901) into the module's message as JSON, each
	// value the string found there.
	Fields map[string]string `json:"fields,omitempty"`
}

// ClaimSigner is one signer a TxClaim shows: its account and its
// transaction number.
type ClaimSigner struct {
	Address  string `json:"address"`
	Sequence uint64 `json:"sequence"`
}

// BlockView is a block as GET /v1/blocks/{height} shows it.
type BlockView struct {
	Hash   string        `json:"hash" encoding:"hex"`
	Header ledger.Header `json:"header"`
	Txs    []BlockTx     `json:"txs"`
}

// BlockTx is one transaction in a BlockView.
type BlockTx struct {
	Hash   tx.ID         `json:"hash"`
	Module string        `json:"module"`
	Type   string        `json:"type"`
	Result ledger.Result `json:"result"`
}

// AccountView is an account as GET /v1/accounts/{address} shows it.
type AccountView struct {
	Address string       `json:"address" encoding:"hex"`
	Key     tx.PublicKey `json:"key"`
	Label   string       `json:"label,omitempty"`
	// Sequence is the committed next sequence; NextSequence counts the
	// account's transactions waiting in the mempool too.
	Sequence     uint64 `json:"sequence"`
	NextSequence uint64 `json:"next_sequence"`
}

// Health answers GET /healthz while the node commits blocks.
type Health struct {
	Status string `json:"status" enum:"ok"`
	Height uint64 `json:"height"`
}

// Info answers GET /v1/node/info.
type Info struct {
	ChainID     string    `json:"chain_id"`
	Version     string    `json:"version"`
	GenesisHash string    `json:"genesis_hash" encoding:"hex"`
	Height      uint64    `json:"height"`
	BlockHash   string    `json:"block_hash" encoding:"hex"`
	AppHash     string    `json:"app_hash" encoding:"hex"`
	Time        time.Time `json:"time"`
	Mempool     int       `json:"mempool"`
	Modules     []string  `json:"modules"`
	// LogOrigin names the log in its checkpoints; LogKey is the
	// signed-note verifier key that signs them (pin it); LogSize and
	// LogRoot are the log's at the head.
	LogOrigin string `json:"log_origin"`
	LogKey    string `json:"log_key,omitempty"`
	LogSize   uint64 `json:"log_size"`
	LogRoot   string `json:"log_root" encoding:"hex"`
	// Witnesses are the cosigner verifier keys of the witnesses the node
	// asks to cosign its checkpoints (pin those you trust). With them,
	// WitnessedHeight and WitnessedLogSize are those of the newest
	// checkpoint all of them have cosigned, which GET /log/checkpoint
	// serves; both are absent until there is one.
	Witnesses        []string `json:"witnesses,omitempty"`
	WitnessedHeight  *uint64  `json:"witnessed_height,omitempty"`
	WitnessedLogSize *uint64  `json:"witnessed_log_size,omitempty"`
}

// Proven is a query's answer with proof=1: the value and the proof of
// every state key the answer was computed from.
type Proven struct {
	Value any                `json:"value"`
	Proof *verify.StateProof `json:"proof"`
}

// Event is one event of the feed (GET /v1/events): the N-th event of the
// result of transaction Tx, at Index in block Height and at leaf Leaf of
// the log; or, Scheduled set, of the result of block Height's scheduled
// work, which comes after the block's transactions (Index is their count)
// and has no transaction and no leaf.
type Event struct {
	// Cursor is the event's position, "HEIGHT.INDEX.N": ask after it to
	// go on from here.
	Cursor string `json:"cursor"`
	Height uint64 `json:"height"`
	Index  int    `json:"index"`
	N      int    `json:"n"`
	// Time is the block's time; the event's proof does not cover it.
	Time time.Time `json:"time"`
	// Tx and Leaf are the transaction's ID and its log entry's leaf
	// index; absent for scheduled work.
	Tx        *tx.ID  `json:"tx,omitempty"`
	Leaf      *uint64 `json:"leaf,omitempty"`
	Scheduled bool    `json:"scheduled,omitempty"`
	Module    string  `json:"module"`
	Type      string  `json:"type"`
	// Attrs are the event's attributes, in the order the module emitted
	// them.
	Attrs []ledger.Attr `json:"attrs,omitempty"`
	// Proof, with proof=1, proves the event (verify.Event checks it): a
	// transaction's against the checkpoint GET /log/checkpoint serves,
	// scheduled work's against the head's, as a query's proof.
	Proof *verify.EventProof `json:"proof,omitempty"`
}

// Events is an answer of the event feed.
type Events struct {
	Events []Event `json:"events"`
	// Next is the cursor to ask after next: the last event's, or the end
	// of the last block scanned (a bare height).
	Next string `json:"next"`
	// Head is the height the answer scanned to: the newest committed
	// block, or with proof=1 the height of the checkpoint the proofs are
	// against.
	Head uint64 `json:"head"`
}
