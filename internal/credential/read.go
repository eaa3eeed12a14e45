package credential

import (
	"fmt"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
)

// The typed questions other modules, the queries and the offline verifier
// ask of credential state. Each reads by point lookups only, so a state
// proof covers the answer: kv is a read-only view of this module's
// namespace, gv one of governance's.

// Type is a registered credential type.
//
// Evolution: fields are numbered; new optional fields take new numbers.
type Type struct {
	VCT      string   `cbor:"1,keyasint" json:"vct"`
	Issuer   string   `cbor:"2,keyasint" json:"issuer"`
	Metadata string   `cbor:"3,keyasint" json:"metadata"`
	Schema   string   `cbor:"4,keyasint,omitempty" json:"schema,omitempty"`
	KeyID    string   `cbor:"5,keyasint" json:"key_id"` // the issuer's key that registered this version
	Version  uint64   `cbor:"6,keyasint" json:"version"`
	Height   uint64   `cbor:"7,keyasint" json:"height"`
	Time     gov.Time `cbor:"8,keyasint" json:"time"`
}

// List is a status list.
//
// Evolution: fields are numbered; new optional fields take new numbers.
type List struct {
	ID       string `cbor:"1,keyasint" json:"id"`
	Issuer   string `cbor:"2,keyasint" json:"issuer"`
	Bits     uint8  `cbor:"3,keyasint" json:"bits"`
	Capacity uint32 `cbor:"4,keyasint" json:"capacity"`
	// Next is the next free entry: entries 0 to Next-1 are allocated.
	Next uint32 `cbor:"5,keyasint" json:"next"`
	// Version counts the status changes; Updated is the last one's time.
	Version uint64   `cbor:"6,keyasint" json:"version"`
	Created gov.Time `cbor:"7,keyasint" json:"created"`
	Updated gov.Time `cbor:"8,keyasint" json:"updated"`
	Height  uint64   `cbor:"9,keyasint" json:"height"` // of the creation
	// URI is the list's URL ("" for none): see CreateList.
	URI string `cbor:"10,keyasint,omitempty" json:"uri,omitempty"`
	// Tokens counts the Status List Tokens published for it.
	Tokens uint32 `cbor:"11,keyasint,omitempty" json:"tokens,omitempty"`
}

// Pages is the number of pages that hold l's entries.
func (l *List) Pages() uint32 {
	return uint32((uint64(l.Capacity)*uint64(l.Bits)+7)/8+PageBytes-1) / PageBytes
}

// Entry is the history of one entry's status: empty while it has been
// valid since its allocation.
type Entry struct {
	Changes []Change `cbor:"1,keyasint" json:"changes"`
}

// Change is one change of an entry's status.
type Change struct {
	Status uint8    `cbor:"1,keyasint" json:"status"`
	Time   gov.Time `cbor:"2,keyasint" json:"time"`
	Height uint64   `cbor:"3,keyasint" json:"height"`
	KeyID  string   `cbor:"4,keyasint" json:"key_id"` // the issuer's key that signed it
	// Void, in an answer (never stored), says why the change does not
	// count: its key had been compromised when it signed.
	Void string `cbor:"-" json:"void,omitempty"`
}

// StatusAt is the entry's status at t (Unix ms): that of the last change
// at or before t that is not void, Valid before any.
func (e *Entry) StatusAt(t int64) uint8 {
	s := uint8(Valid)
	for _, c := range e.Changes {
		if int64(c.Time) > t {
			break
		}
		if c.Void == "" {
			s = c.Status
		}
	}
	return s
}

// Accredited is an issuer's accreditation: the governance entry.
type Accredited struct {
	DID   string   `json:"did"`
	Scope []string `json:"scope"` // the vct prefixes it may register types under
	By    string   `json:"by"`    // the body that set the entry
	Since gov.Time `json:"since"` // when the entry was set
}

// Accreditation returns the accreditation of the issuer did in the
// governance registry IssuersResource (gv is a view of governance's
// namespace), or nil if it has none.
func Accreditation(gv *ledger.KV, did string) (*Accredited, error) {
	e, found, err := gov.EntryIn(gv, IssuersResource, did)
	if err != nil || !found {
		return nil, err
	}
	a := &Accredited{DID: did, By: e.By, Since: e.Time}
	for _, p := range strings.Split(e.Value, ",") {
		if p = strings.TrimSpace(p); p != "" {
			a.Scope = append(a.Scope, p)
		}
	}
	return a, nil
}

// InScope reports whether vct is one of the prefixes of scope or
// extends one at a boundary: urn:x:kyc covers urn:x:kyc and urn:x:kyc:v1,
// not urn:x:kycx.
func InScope(scope []string, vct string) bool {
	for _, p := range scope {
		rest, ok := strings.CutPrefix(vct, p)
		if ok && (rest == "" || strings.HasSuffix(p, ":") || strings.HasSuffix(p, "/") || rest[0] == ':' || rest[0] == '/') {
			return true
		}
	}
	return false
}

// TypeIn returns the credential type vct. Errors wrap ledger.ErrNotFound
// when it is not registered.
func TypeIn(kv *ledger.KV, vct string) (*Type, error) {
	var t Type
	found, err := kv.GetValue(typeKey(vct), &t)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: no credential type %s is registered", ledger.ErrNotFound, vct)
	}
	return &t, nil
}

// ListIn returns the status list id. Errors wrap ledger.ErrNotFound when
// there is none.
func ListIn(kv *ledger.KV, id string) (*List, error) {
	var l List
	found, err := kv.GetValue(listKey(id), &l)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: no status list %s", ledger.ErrNotFound, id)
	}
	return &l, nil
}

// EntryIn returns the history of entry i of list id (empty if it never
// changed).
func EntryIn(kv *ledger.KV, id string, i uint32) (*Entry, error) {
	var e Entry
	if _, err := kv.GetValue(entryKey(id, i), &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// Status is the status of one credential's entry at a time.
type Status struct {
	List   string   `json:"list"`
	Issuer string   `json:"issuer"`
	URI    string   `json:"uri,omitempty"` // the list's URL (see ListURIs)
	Index  uint32   `json:"index"`
	At     gov.Time `json:"at,omitempty"`
	Status string   `json:"status"` // valid, revoked or suspended
	Value  uint8    `json:"value"`  // the list's value for it
	// Since is when it took that status (the allocation's list creation
	// if it never changed).
	Since   gov.Time `json:"since"`
	Changes []Change `json:"changes,omitempty"` // every change, up to now
}

// StatusOf answers the status of entry i of list id at time at, under
// identity's compromise semantics: a change signed by an issuer key that
// has since been revoked as compromised at or before the change is void
// (a thief's suspension, reinstatement or revocation does not count).
// iv is a view of identity's namespace. Errors wrap ledger.ErrNotFound
// for an unknown list or an entry not allocated.
func StatusOf(kv, iv *ledger.KV, id string, i uint32, at time.Time) (*Status, error) {
	l, err := ListIn(kv, id)
	if err != nil {
		return nil, err
	}
	if i >= l.Next {
		return nil, fmt.Errorf("%w: entry %d of %s was not allocated (%d are)", ledger.ErrNotFound, i, id, l.Next)
	}
	e, err := EntryIn(kv, id, i)
	if err != nil {
		return nil, err
	}
	if err := e.voidCompromised(iv, l.Issuer); err != nil {
		return nil, err
	}
	t := at.UnixMilli()
	st := &Status{List: id, Issuer: l.Issuer, URI: l.URI, Index: i, At: gov.Time(t), Since: l.Created, Changes: e.Changes}
	st.Value = e.StatusAt(t)
	st.Status = StatusName(st.Value)
	for _, c := range e.Changes {
		if int64(c.Time) <= t && c.Void == "" {
			st.Since = c.Time
		}
	}
	return st, nil
}

// voidCompromised marks void the changes signed by a key of issuer that
// had been compromised when it signed (iv is a view of identity's
// namespace).
func (e *Entry) voidCompromised(iv *ledger.KV, issuer string) error {
	for j := range e.Changes {
		c := &e.Changes[j]
		ks, err := identity.KeyIDStanding(iv, issuer, c.KeyID, AssertionMethod, time.UnixMilli(int64(c.Time)))
		if err != nil {
			return err
		}
		if ks.Compromised {
			c.Void = ks.Reason
		}
	}
	return nil
}
