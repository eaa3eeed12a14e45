// Package notary implements proof of existence (use case ENT-001): an
// account anchors the SHA-256 of a file with a media type and a
// description, and anyone holding the file can later learn whether, when
// and by whom it was anchored. The file itself never reaches the ledger.
//
// # Messages
//
// "anchor" (Anchor): records a digest. A digest is anchored once; a second
// anchor of the same digest fails with ledger.ErrConflict.
//
// # Rules in state
//
// The genesis section sets the policy: "open" lets any account anchor;
// "allowlist" lets only the listed addresses anchor.
//
// # State
//
// "notary/policy" holds the Policy, "notary/a/<hex digest>" a Record.
package notary

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Name is the module's name.
const Name = "notary"

// MaxDescription bounds a description, in bytes.
const MaxDescription = 1024

// Anchor is the body of an "anchor" transaction.
type Anchor struct {
	SHA256      []byte `cbor:"1,keyasint"`
	MediaType   string `cbor:"2,keyasint"`
	Description string `cbor:"3,keyasint,omitempty"`
}

var mediaTypeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$`)

// Validate checks the anchor without state.
func (a *Anchor) Validate() error {
	if len(a.SHA256) != 32 {
		return fmt.Errorf("%w: sha256 is %d bytes, want 32", ledger.ErrInvalid, len(a.SHA256))
	}
	if !mediaTypeRE.MatchString(a.MediaType) {
		return fmt.Errorf("%w: media type %q is not a lower-case type/subtype (RFC 6838)", ledger.ErrInvalid, a.MediaType)
	}
	if len(a.Description) > MaxDescription {
		return fmt.Errorf("%w: description is %d bytes, at most %d", ledger.ErrInvalid, len(a.Description), MaxDescription)
	}
	if !utf8.ValidString(a.Description) || strings.ContainsFunc(a.Description, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) {
		return fmt.Errorf("%w: description has control characters", ledger.ErrInvalid)
	}
	return nil
}

// Record is an anchored digest.
type Record struct {
	SHA256      []byte       `cbor:"1,keyasint"`
	MediaType   string       `cbor:"2,keyasint"`
	Description string       `cbor:"3,keyasint,omitempty"`
	Owner       tx.PublicKey `cbor:"4,keyasint"`
	TxID        tx.ID        `cbor:"5,keyasint"`
	Height      uint64       `cbor:"6,keyasint"`
	Time        int64        `cbor:"7,keyasint"` // block time, Unix milliseconds
}

// RecordJSON is the JSON form of a Record that the API serves.
type RecordJSON struct {
	SHA256      string       `json:"sha256"`
	MediaType   string       `json:"media_type"`
	Description string       `json:"description,omitempty"`
	Owner       string       `json:"owner"`
	OwnerKey    tx.PublicKey `json:"owner_key"`
	OwnerLabel  string       `json:"owner_label,omitempty"`
	TxHash      tx.ID        `json:"tx_hash"`
	Height      uint64       `json:"height"`
	Time        time.Time    `json:"time"`
}

// Policy says who may anchor.
type Policy struct {
	// Mode is "open" or "allowlist".
	Mode string `cbor:"1,keyasint" json:"mode"`
	// Allowed lists the addresses that may anchor under "allowlist".
	Allowed []string `cbor:"2,keyasint,omitempty" json:"allowed,omitempty"`
}

func (p *Policy) validate() error {
	switch p.Mode {
	case "open":
		if len(p.Allowed) > 0 {
			return fmt.Errorf("%w: an open policy takes no allowed list", ledger.ErrInvalid)
		}
	case "allowlist":
		for _, a := range p.Allowed {
			// Addresses are lower case; an upper-case one would never
			// match a signer and would lock its owner out silently.
			if _, err := hex.DecodeString(a); err != nil || len(a) != 40 || a != strings.ToLower(a) {
				return fmt.Errorf("%w: allowed address %q is not 40 lower-case hex digits", ledger.ErrInvalid, a)
			}
		}
	default:
		return fmt.Errorf("%w: policy mode %q (want open or allowlist)", ledger.ErrInvalid, p.Mode)
	}
	return nil
}

// Module is the notary module.
type Module struct{}

// Name implements ledger.Module.
func (Module) Name() string { return Name }

// msgTypes are the notary's message types.
var msgTypes = []ledger.MsgType{
	{Name: "anchor", Summary: "record a document's SHA-256, owned by the signer", New: func() ledger.Msg { return &Anchor{} }},
}

// MsgTypes implements ledger.Declarer.
func (Module) MsgTypes() []ledger.MsgType { return msgTypes }

// Decode implements ledger.Module.
func (Module) Decode(typ string, body []byte) (ledger.Msg, error) {
	return ledger.DecodeMsg(msgTypes, typ, body)
}

func recordKey(sum []byte) []byte { return []byte("a/" + hex.EncodeToString(sum)) }

var policyKey = []byte("policy")

// Execute implements ledger.Module.
func (Module) Execute(ctx *ledger.Context, msg ledger.Msg) error {
	switch m := msg.(type) {
	case *Anchor:
		return anchor(ctx, m)
	}
	return fmt.Errorf("%w %T", ledger.ErrUnknownType, msg)
}

func anchor(ctx *ledger.Context, a *Anchor) error {
	var p Policy
	if _, err := ctx.KV.GetValue(policyKey, &p); err != nil {
		return err
	}
	owner := ctx.Signer()
	if p.Mode == "allowlist" && !slices.Contains(p.Allowed, owner.Address()) {
		return fmt.Errorf("%w: %s is not on the notary allow-list", ledger.ErrUnauthorized, owner.Address())
	}
	var prev Record
	found, err := ctx.KV.GetValue(recordKey(a.SHA256), &prev)
	if err != nil {
		return err
	}
	if found {
		return fmt.Errorf("%w: %x was already anchored at height %d by %s", ledger.ErrConflict, a.SHA256, prev.Height, prev.Owner.Address())
	}
	r := Record{
		SHA256:      a.SHA256,
		MediaType:   a.MediaType,
		Description: a.Description,
		Owner:       owner,
		TxID:        ctx.TxID,
		Height:      ctx.Block.Height,
		Time:        ctx.Block.Time.UnixMilli(),
	}
	if err := ctx.KV.SetValue(recordKey(a.SHA256), &r); err != nil {
		return err
	}
	ctx.Emit("anchored", ledger.Attr{Key: "sha256", Value: hex.EncodeToString(a.SHA256)}, ledger.Attr{Key: "owner", Value: owner.Address()})
	return nil
}

// Lookup returns the record of a digest, or an error wrapping
// ledger.ErrNotFound.
func Lookup(kv *ledger.KV, sum []byte) (*Record, error) {
	var r Record
	found, err := kv.GetValue(recordKey(sum), &r)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: %x has not been anchored", ledger.ErrNotFound, sum)
	}
	return &r, nil
}

// ParseDigest parses a SHA-256 digest written as 64 hex digits.
func ParseDigest(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("%w: %q is not a SHA-256 digest (64 hex digits)", ledger.ErrInvalid, s)
	}
	return b, nil
}

// Queries implements ledger.Module.
func (Module) Queries() []ledger.Query {
	return []ledger.Query{{
		Name:    "anchor",
		Pattern: "GET /v1/notary/anchors/{sha256}",
		Summary: "Whether, when and by whom a SHA-256 digest was anchored.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			sum, err := ParseDigest(arg("sha256"))
			if err != nil {
				return nil, err
			}
			r, err := Lookup(kv, sum)
			if err != nil {
				return nil, err
			}
			return r.JSON(), nil
		},
		Answer: RecordJSON{},
	}, {
		Name:    "policy",
		Pattern: "GET /v1/notary/policy",
		Summary: "Who may anchor.",
		Run: func(kv *ledger.KV, _ func(string) string) (any, error) {
			var p Policy
			if _, err := kv.GetValue(policyKey, &p); err != nil {
				return nil, err
			}
			return p, nil
		},
		Answer: Policy{},
	}}
}

// JSON returns the record's API form.
func (r *Record) JSON() RecordJSON {
	return RecordJSON{
		SHA256:      hex.EncodeToString(r.SHA256),
		MediaType:   r.MediaType,
		Description: r.Description,
		Owner:       r.Owner.Address(),
		OwnerKey:    r.Owner,
		TxHash:      r.TxID,
		Height:      r.Height,
		Time:        time.UnixMilli(r.Time).UTC(),
	}
}

// Genesis is the module's genesis section.
type Genesis struct {
	Policy  Policy       `json:"policy"`
	Records []RecordJSON `json:"records,omitempty"`
}

// InitGenesis implements ledger.Module. With no section the policy is open.
func (Module) InitGenesis(kv *ledger.KV, raw json.RawMessage) error {
	g := Genesis{Policy: Policy{Mode: "open"}}
	if raw != nil {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&g); err != nil {
			return fmt.Errorf("%w: %v", ledger.ErrInvalid, err)
		}
	}
	if err := g.Policy.validate(); err != nil {
		return err
	}
	if err := kv.SetValue(policyKey, &g.Policy); err != nil {
		return err
	}
	for _, rj := range g.Records {
		sum, err := ParseDigest(rj.SHA256)
		if err != nil {
			return err
		}
		r := Record{SHA256: sum, MediaType: rj.MediaType, Description: rj.Description, Owner: rj.OwnerKey,
			TxID: rj.TxHash, Height: rj.Height, Time: rj.Time.UnixMilli()}
		if err := (&Anchor{SHA256: sum, MediaType: r.MediaType, Description: r.Description}).Validate(); err != nil {
			return err
		}
		if err := kv.SetValue(recordKey(sum), &r); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis implements ledger.Module.
func (Module) ExportGenesis(kv *ledger.KV) (json.RawMessage, error) {
	var g Genesis
	if _, err := kv.GetValue(policyKey, &g.Policy); err != nil {
		return nil, err
	}
	err := kv.Iterate([]byte("a/"), func(_, v []byte) (bool, error) {
		var r Record
		if err := tx.Unmarshal(v, &r); err != nil {
			return false, fmt.Errorf("%w: %v", ledger.ErrStorage, err)
		}
		g.Records = append(g.Records, r.JSON())
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(&g)
}
