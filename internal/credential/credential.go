// Package credential is the ledger side of verifiable credentials (issue
// 17): which issuers governance accredited, the credential types they
// registered, and the status lists of what they issued.
//
// An issuer is accredited by an entry of the governance registry
// IssuersResource keyed by its DID, whose value lists the credential
// type (vct) prefixes it may issue under. It registers each type with
// its SD-JWT VC Type Metadata and JSON Schema, creates status lists of 1
// or 2 bits an entry, allocates an entry for each credential it issues
// and later revokes, suspends or reinstates it, all by transactions
// signed with an assertionMethod key of its DID (identity.ActingSigner).
// Every change of an entry is kept, so the status of a credential at any
// past time is a point read, and so provable.
//
// The credentials themselves never reach the ledger: the issuer signs
// them off the ledger (internal/sdjwt) and the holder keeps them.
//
// # Messages
//
// "register-type" (RegisterType), "create-list" (CreateList), "allocate"
// (Allocate), "set-status" (SetStatus) and "publish-token"
// (PublishToken); docs/spec/credentials.md has their rules.
//
// # State
//
// "t/<vct>" a Type, "l/<list>" a List, "p/<list>/<page>" a Page of the
// list's packed entries (absent while all are valid), "e/<list>/<index>"
// an Entry: the history of the entry's status, "k/<list>/<n>" the n-th
// Published token of the list.
package credential

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/statuslist"
)

// Name is the module's name.
const Name = "credential"

// IssuersResource is the governance registry of accredited credential
// issuers: an entry keyed by the issuer's DID whose value is a
// comma-separated list of the vct prefixes it may register types under.
const IssuersResource = "issuers"

// AssertionMethod is the DID relationship of the keys that sign for an
// issuer: its credentials and its transactions here.
const AssertionMethod = "assertionMethod"

// authentication is the DID relationship of the key a credential is bound
// to: the holder's, which signs its presentations.
const authentication = "authentication"

// Limits.
const (
	MaxVCT      = 256
	MaxDocument = 16 << 10 // Type Metadata and JSON Schema, bytes each
	MaxCapacity = 1 << 20  // entries of a list
	MaxAllocate = 1000     // entries one allocate takes
	MaxChanges  = 32       // status changes of one entry
	PageBytes   = 1024     // bytes of a page of a list
)

// The status values of an entry, those of the Token Status List.
const (
	Valid     = statuslist.Valid
	Revoked   = statuslist.Invalid
	Suspended = statuslist.Suspended
)

// StatusName names a status value.
func StatusName(s uint8) string {
	switch s {
	case Valid:
		return "valid"
	case Revoked:
		return "revoked"
	case Suspended:
		return "suspended"
	}
	return fmt.Sprintf("status-%d", s)
}

// RegisterType is the body of a "register-type" transaction: Issuer
// registers (or updates) the credential type VCT.
type RegisterType struct {
	Issuer string `cbor:"1,keyasint" json:"issuer"`
	VCT    string `cbor:"2,keyasint" json:"vct"`
	// Metadata is the SD-JWT VC Type Metadata document, a JSON object;
	// its "vct", if present, is VCT, and it has no "schema" (Schema is).
	Metadata string `cbor:"3,keyasint" json:"metadata"`
	// Schema is the JSON Schema of the credential's claims, a JSON object.
	Schema string `cbor:"4,keyasint,omitempty" json:"schema,omitempty"`
}

// Validate checks the message without state.
func (m *RegisterType) Validate() error {
	if err := validDID("issuer", m.Issuer); err != nil {
		return err
	}
	if err := ValidVCT(m.VCT); err != nil {
		return err
	}
	md, err := jsonObject("metadata", m.Metadata)
	if err != nil {
		return err
	}
	if v, ok := md["vct"]; ok && v != m.VCT {
		return fmt.Errorf("%w: the metadata's vct %v is not %s", ledger.ErrInvalid, v, m.VCT)
	}
	if _, ok := md["schema"]; ok {
		return fmt.Errorf("%w: the metadata has a schema; give it as the schema field", ledger.ErrInvalid)
	}
	if m.Schema != "" {
		if _, err := jsonObject("schema", m.Schema); err != nil {
			return err
		}
	}
	return nil
}

// CreateList is the body of a "create-list" transaction: Issuer creates
// the status list ID of Capacity entries of Bits bits (1: valid or
// revoked; 2: also suspended).
type CreateList struct {
	Issuer   string `cbor:"1,keyasint" json:"issuer"`
	ID       string `cbor:"2,keyasint" json:"id"`
	Bits     uint8  `cbor:"3,keyasint" json:"bits"`
	Capacity uint32 `cbor:"4,keyasint" json:"capacity"`
	// URI, optional, is the list's URL, an http(s) URL ending in
	// /v1/credential/lists/<ID> where a node serves it: its credentials
	// then reference URI/token (SD-JWT VC) or URI/bitstring (W3C), which
	// resolve to the list's token and Bitstring credential. Without one
	// they reference urn:agora:credential:list:<ID>.
	URI string `cbor:"5,keyasint,omitempty" json:"uri,omitempty"`
}

var listIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,63}$`)

// Validate checks the message without state.
func (m *CreateList) Validate() error {
	if err := validIssuerList(m.Issuer, m.ID); err != nil {
		return err
	}
	if m.Bits != 1 && m.Bits != 2 {
		return fmt.Errorf("%w: a list has 1 or 2 bits an entry, not %d", ledger.ErrInvalid, m.Bits)
	}
	if m.Capacity == 0 || m.Capacity > MaxCapacity {
		return fmt.Errorf("%w: capacity %d: 1 to %d entries", ledger.ErrInvalid, m.Capacity, MaxCapacity)
	}
	if m.URI != "" {
		return validListURL(m.ID, m.URI)
	}
	return nil
}

// Allocate is the body of an "allocate" transaction: Issuer takes the
// Count entries of List from Index, which must be the list's next free
// entry (so the issuer learns its indexes before it signs, and two
// allocations never get the same one).
type Allocate struct {
	Issuer string `cbor:"1,keyasint" json:"issuer"`
	List   string `cbor:"2,keyasint" json:"list"`
	Index  uint32 `cbor:"3,keyasint" json:"index"`
	Count  uint32 `cbor:"4,keyasint" json:"count"`
}

// Validate checks the message without state.
func (m *Allocate) Validate() error {
	if err := validIssuerList(m.Issuer, m.List); err != nil {
		return err
	}
	if m.Count == 0 || m.Count > MaxAllocate {
		return fmt.Errorf("%w: count %d: 1 to %d", ledger.ErrInvalid, m.Count, MaxAllocate)
	}
	return nil
}

// SetStatus is the body of a "set-status" transaction: Issuer sets the
// status of entry Index of List: revokes it (for good), suspends it (a
// 2-bit list) or reinstates a suspended one (Status Valid).
type SetStatus struct {
	Issuer string `cbor:"1,keyasint" json:"issuer"`
	List   string `cbor:"2,keyasint" json:"list"`
	Index  uint32 `cbor:"3,keyasint" json:"index"`
	Status uint8  `cbor:"4,keyasint" json:"status"`
}

// Validate checks the message without state.
func (m *SetStatus) Validate() error {
	if err := validIssuerList(m.Issuer, m.List); err != nil {
		return err
	}
	if m.Status > Suspended {
		return fmt.Errorf("%w: status %d: 0 valid, 1 revoked, 2 suspended", ledger.ErrInvalid, m.Status)
	}
	return nil
}

// ValidVCT checks a credential type: an absolute URI or URN of at most
// MaxVCT bytes.
func ValidVCT(vct string) error {
	u, err := url.Parse(vct)
	if err != nil || u.Scheme == "" || len(vct) > MaxVCT || strings.ContainsAny(vct, " \t\n") {
		return fmt.Errorf("%w: vct %q is not an absolute URI of at most %d bytes", ledger.ErrInvalid, vct, MaxVCT)
	}
	return nil
}

func validIssuerList(issuer, list string) error {
	if err := validDID("issuer", issuer); err != nil {
		return err
	}
	return validListID(list)
}

func validListID(id string) error {
	if !listIDRE.MatchString(id) {
		return fmt.Errorf("%w: list id %q: use a-z, 0-9, . and - (up to 64)", ledger.ErrInvalid, id)
	}
	return nil
}

func validDID(what, did string) error {
	if !strings.HasPrefix(did, "did:") || len(did) > 256 || strings.ContainsAny(did, " #?/") {
		return fmt.Errorf("%w: %s %q is not a DID", ledger.ErrInvalid, what, did)
	}
	return nil
}

// jsonObject decodes s, which must be one JSON object of at most
// MaxDocument bytes.
func jsonObject(what, s string) (map[string]any, error) {
	if len(s) > MaxDocument {
		return nil, fmt.Errorf("%w: %s is %d bytes, at most %d", ledger.ErrInvalid, what, len(s), MaxDocument)
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return nil, fmt.Errorf("%w: %s is not one JSON object", ledger.ErrInvalid, what)
	}
	return m, nil
}

// Module is the credential module.
type Module struct{}

// Name implements ledger.Module.
func (Module) Name() string { return Name }

var msgTypes = []ledger.MsgType{
	{Name: "register-type", Summary: "register or update a credential type (vct) with its Type Metadata and JSON Schema",
		New: func() ledger.Msg { return &RegisterType{} }},
	{Name: "create-list", Summary: "create a status list of 1 or 2 bits an entry",
		New: func() ledger.Msg { return &CreateList{} }},
	{Name: "allocate", Summary: "take the next entries of a status list for credentials about to be issued",
		New: func() ledger.Msg { return &Allocate{} }},
	{Name: "set-status", Summary: "revoke, suspend or reinstate a credential's entry",
		New: func() ledger.Msg { return &SetStatus{} }},
	{Name: "publish-token", Summary: "post a Status List Token the issuer signed over its list as the ledger holds it",
		New: func() ledger.Msg { return &PublishToken{} }},
}

// MsgTypes implements ledger.Declarer.
func (Module) MsgTypes() []ledger.MsgType { return msgTypes }

// Decode implements ledger.Module.
func (Module) Decode(typ string, body []byte) (ledger.Msg, error) {
	return ledger.DecodeMsg(msgTypes, typ, body)
}

// Execute implements ledger.Module.
func (Module) Execute(ctx *ledger.Context, msg ledger.Msg) error {
	switch m := msg.(type) {
	case *RegisterType:
		return registerType(ctx, m)
	case *CreateList:
		return createList(ctx, m)
	case *Allocate:
		return allocate(ctx, m)
	case *SetStatus:
		return setStatus(ctx, m)
	case *PublishToken:
		return publishToken(ctx, m)
	}
	return fmt.Errorf("%w %T", ledger.ErrUnknownType, msg)
}

// signedByIssuer checks that an assertionMethod key of issuer signed and,
// if accredited, that governance accredits it; it returns the key's id
// and the accreditation's scope.
func signedByIssuer(ctx *ledger.Context, issuer string, accredited bool) (string, []string, error) {
	st, err := identity.ActingSigner(ctx, issuer, AssertionMethod)
	if err != nil {
		return "", nil, fmt.Errorf("the issuer: %w", err)
	}
	if !accredited {
		return st.KeyID, nil, nil
	}
	a, err := Accreditation(ctx.View(gov.Name), issuer)
	if err != nil {
		return "", nil, err
	}
	if a == nil {
		return "", nil, fmt.Errorf("%w: %s is not an accredited issuer (governance registry %s)", ledger.ErrUnauthorized, issuer, IssuersResource)
	}
	return st.KeyID, a.Scope, nil
}

func registerType(ctx *ledger.Context, m *RegisterType) error {
	keyID, scope, err := signedByIssuer(ctx, m.Issuer, true)
	if err != nil {
		return err
	}
	if !InScope(scope, m.VCT) {
		return fmt.Errorf("%w: %s is accredited for %s, not %s", ledger.ErrUnauthorized, m.Issuer, strings.Join(scope, ", "), m.VCT)
	}
	var t Type
	found, err := ctx.KV.GetValue(typeKey(m.VCT), &t)
	if err != nil {
		return err
	}
	if found && t.Issuer != m.Issuer {
		return fmt.Errorf("%w: %s registered %s", ledger.ErrConflict, t.Issuer, m.VCT)
	}
	t = Type{VCT: m.VCT, Issuer: m.Issuer, Metadata: m.Metadata, Schema: m.Schema, KeyID: keyID,
		Version: t.Version + 1, Height: ctx.Block.Height, Time: gov.Time(ctx.Block.Time.UnixMilli())}
	ctx.Emit("type-registered", ledger.Attr{Key: "vct", Value: m.VCT}, ledger.Attr{Key: "version", Value: fmt.Sprint(t.Version)})
	return ctx.KV.SetValue(typeKey(m.VCT), &t)
}

func createList(ctx *ledger.Context, m *CreateList) error {
	if _, _, err := signedByIssuer(ctx, m.Issuer, true); err != nil {
		return err
	}
	var l List
	found, err := ctx.KV.GetValue(listKey(m.ID), &l)
	if err != nil {
		return err
	}
	if found {
		return fmt.Errorf("%w: list %s exists (issuer %s)", ledger.ErrConflict, m.ID, l.Issuer)
	}
	now := gov.Time(ctx.Block.Time.UnixMilli())
	l = List{ID: m.ID, Issuer: m.Issuer, Bits: m.Bits, Capacity: m.Capacity, Created: now, Updated: now, Height: ctx.Block.Height, URI: m.URI}
	ctx.Emit("list-created", ledger.Attr{Key: "list", Value: m.ID})
	return ctx.KV.SetValue(listKey(m.ID), &l)
}

// issuersList loads list id and checks that issuer holds it.
func issuersList(ctx *ledger.Context, issuer, id string) (*List, error) {
	l, err := ListIn(ctx.KV, id)
	if err != nil {
		return nil, err
	}
	if l.Issuer != issuer {
		return nil, fmt.Errorf("%w: list %s is %s's", ledger.ErrUnauthorized, id, l.Issuer)
	}
	return l, nil
}

func allocate(ctx *ledger.Context, m *Allocate) error {
	if _, _, err := signedByIssuer(ctx, m.Issuer, true); err != nil {
		return err
	}
	l, err := issuersList(ctx, m.Issuer, m.List)
	if err != nil {
		return err
	}
	if m.Index != l.Next {
		return ledger.WithHint(fmt.Errorf("%w: the next free entry of %s is %d, not %d", ledger.ErrConflict, l.ID, l.Next, m.Index),
			"read the list again and allocate from its next entry")
	}
	if uint64(l.Next)+uint64(m.Count) > uint64(l.Capacity) {
		return fmt.Errorf("%w: list %s has %d free entries, not %d", ledger.ErrConflict, l.ID, l.Capacity-l.Next, m.Count)
	}
	l.Next += m.Count
	ctx.Emit("allocated", ledger.Attr{Key: "list", Value: l.ID}, ledger.Attr{Key: "from", Value: fmt.Sprint(m.Index)},
		ledger.Attr{Key: "count", Value: fmt.Sprint(m.Count)})
	return ctx.KV.SetValue(listKey(l.ID), l)
}

func setStatus(ctx *ledger.Context, m *SetStatus) error {
	// An issuer no longer accredited may still revoke what it issued.
	keyID, _, err := signedByIssuer(ctx, m.Issuer, false)
	if err != nil {
		return err
	}
	l, err := issuersList(ctx, m.Issuer, m.List)
	if err != nil {
		return err
	}
	if m.Index >= l.Next {
		return fmt.Errorf("%w: entry %d of %s was not allocated (%d are)", ledger.ErrNotFound, m.Index, l.ID, l.Next)
	}
	if m.Status == Suspended && l.Bits < 2 {
		return fmt.Errorf("%w: list %s has 1 bit an entry: it cannot suspend", ledger.ErrInvalid, l.ID)
	}
	e, err := EntryIn(ctx.KV, l.ID, m.Index)
	if err != nil {
		return err
	}
	if err := e.voidCompromised(ctx.View(identity.Name), l.Issuer); err != nil {
		return err
	}
	cur := e.StatusAt(ctx.Block.Time.UnixMilli())
	packed, err := bitsOf(ctx.KV, l, m.Index)
	if err != nil {
		return err
	}
	switch {
	case cur == Revoked:
		return fmt.Errorf("%w: entry %d of %s is revoked for good", ledger.ErrConflict, m.Index, l.ID)
	case cur == m.Status && packed == cur:
		// When they differ, a void change (its key compromised) set the
		// packed list: setting the status again repairs it.
		return fmt.Errorf("%w: entry %d of %s is already %s", ledger.ErrConflict, m.Index, l.ID, StatusName(cur))
	case len(e.Changes) >= MaxChanges:
		return fmt.Errorf("%w: entry %d of %s changed %d times, the most", ledger.ErrConflict, m.Index, l.ID, MaxChanges)
	}
	now := gov.Time(ctx.Block.Time.UnixMilli())
	for j := range e.Changes {
		e.Changes[j].Void = "" // not stored: asked again at every read
	}
	e.Changes = append(e.Changes, Change{Status: m.Status, Time: now, Height: ctx.Block.Height, KeyID: keyID})
	if err := ctx.KV.SetValue(entryKey(l.ID, m.Index), e); err != nil {
		return err
	}
	if err := setBits(ctx.KV, l, m.Index, m.Status); err != nil {
		return err
	}
	l.Updated, l.Version = now, l.Version+1
	ctx.Emit("status-set", ledger.Attr{Key: "list", Value: l.ID}, ledger.Attr{Key: "index", Value: fmt.Sprint(m.Index)},
		ledger.Attr{Key: "status", Value: StatusName(m.Status)})
	return ctx.KV.SetValue(listKey(l.ID), l)
}

// setBits writes status s into entry i of l's pages (Token Status List
// packing: entry i at bit i*bits counted from the least significant bit).
func setBits(kv *ledger.KV, l *List, i uint32, s uint8) error {
	bit := uint64(i) * uint64(l.Bits)
	page := uint32(bit / 8 / PageBytes)
	p, err := pageIn(kv, l.ID, page)
	if err != nil {
		return err
	}
	off, shift := (bit/8)%PageBytes, bit%8
	mask := byte(1<<l.Bits-1) << shift
	p[off] = p[off]&^mask | s<<shift
	if bytes.Count(p, []byte{0}) == len(p) {
		kv.Delete(pageKey(l.ID, page))
		return nil
	}
	kv.Set(pageKey(l.ID, page), p)
	return nil
}

// bitsOf returns the status entry i of l's pages holds.
func bitsOf(kv *ledger.KV, l *List, i uint32) (uint8, error) {
	bit := uint64(i) * uint64(l.Bits)
	p, err := pageIn(kv, l.ID, uint32(bit/8/PageBytes))
	if err != nil {
		return 0, err
	}
	return p[(bit/8)%PageBytes] >> (bit % 8) & (1<<l.Bits - 1), nil
}

// pageIn returns page n of list id (PageBytes bytes, zero if absent).
func pageIn(kv *ledger.KV, id string, n uint32) ([]byte, error) {
	b, found, err := kv.Get(pageKey(id, n))
	if err != nil {
		return nil, err
	}
	p := make([]byte, PageBytes)
	if found {
		if len(b) != PageBytes {
			return nil, fmt.Errorf("%w: page %d of %s is %d bytes", ledger.ErrStorage, n, id, len(b))
		}
		copy(p, b)
	}
	return p, nil
}

func typeKey(vct string) []byte           { return []byte("t/" + vct) }
func listKey(id string) []byte            { return []byte("l/" + id) }
func pageKey(id string, n uint32) []byte  { return fmt.Appendf(nil, "p/%s/%08x", id, n) }
func entryKey(id string, i uint32) []byte { return fmt.Appendf(nil, "e/%s/%08x", id, i) }
