package ledger

import (
	"encoding/json"
	"time"

	"github.com/agora-ledger/agora/internal/tx"
)

// Module is one capability of the ledger (notary, identity, governance,
// ...). Its methods must be deterministic: no wall clock, randomness,
// goroutines, floats or map-order dependence; what they need to know about
// time and the caller comes in the Context.
type Module interface {
	// Name is the module's name in transactions and its state namespace.
	Name() string
	// Decode strictly decodes the body of a message of type typ and
	// validates it without state. Errors wrap ErrUnknownType,
	// tx.ErrMalformed or ErrInvalid.
	Decode(typ string, body []byte) (Msg, error)
	// Execute applies a decoded message. The transaction's signatures and
	// sequence numbers are already checked; Execute decides whether the
	// signers are authorised by the rules in state. On error every write
	// Execute made is discarded, and the error is the transaction's
	// recorded result.
	Execute(ctx *Context, msg Msg) error
	// Queries describes the module's read-only questions.
	Queries() []Query
	// InitGenesis loads the module's section of the genesis file; raw is
	// nil when the genesis has none.
	InitGenesis(kv *KV, raw json.RawMessage) error
	// ExportGenesis writes the module's state as a genesis section that
	// InitGenesis reads back to the same state.
	ExportGenesis(kv *KV) (json.RawMessage, error)
}

// Msg is a decoded, statically valid module message.
type Msg interface {
	// Validate checks the message without state.
	Validate() error
}

// Query is one read-only question a module answers. The API serves each
// at its Pattern; other transports may call Run directly.
type Query struct {
	// Name is a short identifier, unique within the module.
	Name string
	// Pattern is the HTTP route in net/http ServeMux form, for example
	// "GET /v1/notary/anchors/{sha256}".
	Pattern string
	// Summary says in one sentence what the query answers.
	Summary string
	// Params documents the query-string parameters (path wildcards are in
	// Pattern).
	Params []Param
	// Run answers the query from kv, the module's read-only view. arg
	// returns a path wildcard or query parameter by name ("" if absent).
	// Errors wrap the package's sentinels. A Run that returns an answer
	// together with an error asks for the answer to be served with the
	// error's status (a deactivated DID's last document, with 410 Gone).
	Run func(kv *KV, arg func(name string) string) (any, error)
	// Answer is a value of the type Run answers, its zero value (such as
	// RecordJSON{} or (*Document)(nil)); OneOf lists one of each when Run
	// answers one of several types. The API describes the answer's JSON
	// in its OpenAPI document by it, so every query sets it.
	Answer any
	// MediaTypes, if set, are the media types the answer can be served
	// as, the first being the default; the API then negotiates with the
	// request's Accept header and refuses one that allows none of them.
	// Unset: application/json only, whatever the Accept header says.
	MediaTypes []string
	// Represent, if set, returns the representation of ans in mediaType,
	// one of MediaTypes. Unset: ans as it is. A Raw representation is
	// served as its bytes, not as JSON.
	Represent func(ans any, mediaType string) any
}

// Raw is a representation (Query.Represent) served as it is, such as a
// compact JWS.
type Raw string

// OneOf is the Answer of a query whose Run answers one of several types:
// a value of each.
type OneOf []any

// Param documents one query parameter.
type Param struct {
	Name, Summary string
}

// Block is what the executor knows of the block being applied.
type Block struct {
	ChainID string
	Height  uint64
	Time    time.Time // from the block header, never from the machine
}

// Context is a transaction's view while a module executes it.
type Context struct {
	Block   Block
	TxID    tx.ID
	Signers []tx.PublicKey
	// Principal is set when a pending action executes: the principal
	// (a governance body) whose rule the approvals met, Signers being the
	// approvers. It is empty for an ordinary transaction.
	Principal string
	// KV is the module's own namespace.
	KV *KV

	o      *overlay
	events []Event
	module string    // the module executing
	exec   *Executor // for Enact
}

// Signer returns the first signer's key: the actor of a single-signer
// transaction.
func (c *Context) Signer() tx.PublicKey { return c.Signers[0] }

// Signed reports whether key is among the transaction's signers.
func (c *Context) Signed(key tx.PublicKey) bool {
	for _, s := range c.Signers {
		if s.Equal(key) {
			return true
		}
	}
	return false
}

// Emit records an event in the transaction's result.
func (c *Context) Emit(typ string, attrs ...Attr) {
	c.events = append(c.events, Event{Type: typ, Attrs: attrs})
}

// emitted returns the events the context emitted, each naming its
// module: an enacted action's its target, the others the module that
// executed.
func (c *Context) emitted() []Event {
	for i := range c.events {
		if c.events[i].Module == "" {
			c.events[i].Module = c.module
		}
	}
	return c.events
}

// View returns a read-only view of another module's namespace.
func (c *Context) View(module string) *KV {
	return &KV{o: c.o, prefix: []byte(module + "/"), readOnly: true}
}

// Event is a typed record of something a transaction did. The executor
// fills Module; Type and the attribute keys are part of the module's
// documented interface.
type Event struct {
	Module string `cbor:"1,keyasint" json:"module"`
	Type   string `cbor:"2,keyasint" json:"type"`
	Attrs  []Attr `cbor:"3,keyasint,omitempty" json:"attrs,omitempty"`
}

// Attr is one attribute of an event.
type Attr struct {
	Key   string `cbor:"1,keyasint" json:"key"`
	Value string `cbor:"2,keyasint" json:"value"`
}
