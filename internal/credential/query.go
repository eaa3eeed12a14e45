package credential

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/statuslist"
	"github.com/agora-ledger/agora/internal/tx"
)

// StatusURI is the "uri" of the status_list reference of a credential
// whose entry is in list id, and the "sub" of the list's token: a name,
// not an address, since the verifier reads the list from the ledger,
// proven, through any node.
func StatusURI(id string) string { return "urn:agora:credential:list:" + id }

// ListOfURI returns the list id a credential's status uri names: a
// StatusURI, or a list's token or bitstring URL (ListURIs).
func ListOfURI(uri string) (string, error) {
	if id, ok := listOfURL(uri); ok {
		return id, nil
	}
	id, ok := strings.CutPrefix(uri, "urn:agora:credential:list:")
	if !ok || validListID(id) != nil {
		return "", fmt.Errorf("%w: status list uri %q is not an Agora list (urn:agora:credential:list:ID, or a URL ending in %sID/token or /bitstring)", ledger.ErrInvalid, uri, listPath)
	}
	return id, nil
}

// TypeMetadata is the answer of the type query: the registered type and
// its Type Metadata document as served (the registered metadata with
// "vct" and the JSON Schema as "schema").
type TypeMetadata struct {
	Type
	Document json.RawMessage `json:"document"`
}

// TypeMetadataOf returns vct's type with its served document.
func TypeMetadataOf(kv *ledger.KV, vct string) (*TypeMetadata, error) {
	t, err := TypeIn(kv, vct)
	if err != nil {
		return nil, err
	}
	md, err := jsonObject("metadata", t.Metadata)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ledger.ErrStorage, err)
	}
	md["vct"] = t.VCT
	if t.Schema != "" {
		md["schema"] = json.RawMessage(t.Schema)
	}
	doc, err := json.Marshal(md)
	if err != nil {
		return nil, err
	}
	return &TypeMetadata{Type: *t, Document: doc}, nil
}

// TokenClaims are the claims of a Status List Token (statuslist+jwt) of
// a list as the ledger holds it: the issuer signs them to serve the
// token itself; from the ledger they come with a state proof instead.
type TokenClaims struct {
	Subject    string          `json:"sub"`
	Issuer     string          `json:"iss"`
	IssuedAt   int64           `json:"iat"` // the list's last change, Unix seconds
	StatusList statuslist.JSON `json:"status_list"`
	Version    uint64          `json:"version"` // of the list: its status changes
}

// Entries returns the statuses of every entry of l, read page by page.
func Entries(kv *ledger.KV, l *List) (*statuslist.List, error) {
	sl, err := statuslist.New(int(l.Bits), int(l.Capacity))
	if err != nil {
		return nil, err
	}
	per := PageBytes * 8 / int(l.Bits)
	for n := range l.Pages() {
		p, err := pageIn(kv, l.ID, n)
		if err != nil {
			return nil, err
		}
		for i, b := range p {
			if b == 0 {
				continue
			}
			for j := range 8 / int(l.Bits) {
				idx := int(n)*per + i*8/int(l.Bits) + j
				if s := b >> (j * int(l.Bits)) & (1<<l.Bits - 1); s != 0 && idx < sl.Len() {
					if err := sl.Set(idx, s); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return sl, nil
}

// listEntries returns list id and its entries.
func listEntries(kv *ledger.KV, id string) (*List, *statuslist.List, error) {
	l, err := ListIn(kv, id)
	if err != nil {
		return nil, nil, err
	}
	sl, err := Entries(kv, l)
	return l, sl, err
}

// TokenOf returns the Status List Token claims of list id.
func TokenOf(kv *ledger.KV, id string) (*TokenClaims, error) {
	l, sl, err := listEntries(kv, id)
	if err != nil {
		return nil, err
	}
	j, err := sl.Encode()
	if err != nil {
		return nil, err
	}
	uri, _ := l.URIs()
	return &TokenClaims{Subject: uri, Issuer: l.Issuer, IssuedAt: int64(l.Updated) / 1000, StatusList: j, Version: l.Version}, nil
}

// BitstringCredential is a list in the W3C Bitstring Status List form:
// a BitstringStatusListCredential whose proof is the ledger's.
type BitstringCredential struct {
	Context           []string         `json:"@context"`
	ID                string           `json:"id"`
	Type              []string         `json:"type"`
	Issuer            string           `json:"issuer"`
	ValidFrom         string           `json:"validFrom"`
	CredentialSubject BitstringSubject `json:"credentialSubject"`
}

// BitstringSubject is the credentialSubject of a BitstringCredential: a
// BitstringStatusList has only these members (Bitstring Status List v1.0,
// Section 2.2); a 2-bit list's statusSize and statusMessage are in each
// credential's BitstringStatusListEntry, which points at it.
type BitstringSubject struct {
	ID            string `json:"id"`
	Type          string `json:"type"`
	StatusPurpose string `json:"statusPurpose"` // revocation (1 bit) or message (2 bits)
	EncodedList   string `json:"encodedList"`
}

// BitstringOf returns list id as a Bitstring Status List credential. Its
// entries are those of the token (W3C packs from the most significant
// bit, and lists of fewer than statuslist.MinEntries are padded).
func BitstringOf(kv *ledger.KV, id string) (*BitstringCredential, error) {
	l, sl, err := listEntries(kv, id)
	if err != nil {
		return nil, err
	}
	bs, err := statuslist.NewBitstring(int(l.Capacity), int(l.Bits))
	if err != nil {
		return nil, err
	}
	for i := range int(l.Next) {
		if s, _ := sl.Get(i); s != 0 {
			if err := bs.Set(i, s); err != nil {
				return nil, err
			}
		}
	}
	enc, err := bs.Encode()
	if err != nil {
		return nil, err
	}
	_, uri := l.URIs()
	sub := BitstringSubject{ID: uri + "#list", Type: "BitstringStatusList", StatusPurpose: "revocation", EncodedList: enc}
	if l.Bits == 2 {
		sub.StatusPurpose = "message"
	}
	return &BitstringCredential{
		Context: []string{"https://www.w3.org/ns/credentials/v2"},
		ID:      uri, Type: []string{"VerifiableCredential", "BitstringStatusListCredential"},
		Issuer: l.Issuer, ValidFrom: time.UnixMilli(int64(l.Updated)).UTC().Format(time.RFC3339),
		CredentialSubject: sub,
	}, nil
}

// parseIndex parses an entry index.
func parseIndex(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: index %q is not a number", ledger.ErrInvalid, s)
	}
	return uint32(n), nil
}

// parseAt parses an RFC 3339 time; "" is the latest.
func parseAt(s string) (time.Time, error) {
	if s == "" {
		return latest, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: at %q is not an RFC 3339 time", ledger.ErrInvalid, s)
	}
	return t, nil
}

// Queries implements ledger.Module.
func (Module) Queries() []ledger.Query {
	return []ledger.Query{{
		Name:    "issuer",
		Pattern: "GET /v1/credential/issuers/{did}",
		Summary: "Whether governance accredits an issuer, since when and for which credential types.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			a, err := Accreditation(kv.View(gov.Name), arg("did"))
			if err != nil {
				return nil, err
			}
			if a == nil {
				return nil, fmt.Errorf("%w: %s is not an accredited issuer", ledger.ErrNotFound, arg("did"))
			}
			return a, nil
		},
		Answer: (*Accredited)(nil),
	}, {
		Name:    "type",
		Pattern: "GET /v1/credential/types",
		Summary: "A credential type's Type Metadata document, with its JSON Schema.",
		Params:  []ledger.Param{{Name: "vct", Summary: "the credential type"}},
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			return TypeMetadataOf(kv, arg("vct"))
		},
		Answer: (*TypeMetadata)(nil),
	}, {
		Name:    "check",
		Pattern: "GET /v1/credential/check",
		Summary: "Everything the ledger says about one credential: accreditation, issuer key at issue and now, type, status, holder binding.",
		Params: []ledger.Param{{Name: "iss", Summary: "the issuer's DID"}, {Name: "key", Summary: "the public key that signed it"},
			{Name: "iat", Summary: "when it was issued, Unix seconds"}, {Name: "vct", Summary: "its type"},
			{Name: "status_uri", Summary: "its status list's uri"}, {Name: "idx", Summary: "its entry"},
			{Name: "sub", Summary: "the holder's DID (optional)"}, {Name: "cnf", Summary: "the public key it is bound to"}},
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			a, err := parseCheckArgs(arg)
			if err != nil {
				return nil, err
			}
			return CheckOf(kv, a)
		},
		Answer: (*Check)(nil),
	},
		{
			Name:    "issuers",
			Pattern: "GET /v1/credential/issuers",
			Summary: "Every accredited issuer, with the credential types it registered and the status lists it holds. It reads ranges of keys, which a state proof cannot show complete: each issuer, type and list is provable by its own query.",
			Run: func(kv *ledger.KV, _ func(string) string) (any, error) {
				return IssuersIn(kv)
			},
			Answer: []IssuerSummary{},
		},
		{
			Name:    "issuer-metadata",
			Pattern: IssuerMetadataPattern,
			Summary: "An accredited issuer's SD-JWT VC Issuer Metadata (jwt-vc-issuer): its DID and, as a JWK Set, the keys that act for it as assertionMethod now.",
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
				return IssuerMetadataOf(kv, arg("did"))
			},
			Answer: (*IssuerMetadata)(nil),
		}, {
			Name:    "type-metadata",
			Pattern: "GET /v1/credential/types/metadata",
			Summary: "A credential type's SD-JWT VC Type Metadata document alone, as a wallet or verifier resolves its vct (the registered metadata, its vct and its JSON Schema as schema).",
			Params:  []ledger.Param{{Name: "vct", Summary: "the credential type"}},
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
				return TypeMetadataDocument(kv, arg("vct"))
			},
			Answer: map[string]any{},
		},
		listQuery("list", "", "A status list: its issuer, size, allocated entries and version.", ListIn),
		{
			Name:    "status",
			Pattern: "GET /v1/credential/lists/{id}/entries/{index}",
			Summary: "The status of one credential's entry, now or at a past time, with its history; changes signed by a key compromised by then are void.",
			Params:  []ledger.Param{{Name: "at", Summary: "an RFC 3339 time (default: now)"}},
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
				i, err := parseIndex(arg("index"))
				if err != nil {
					return nil, err
				}
				at, err := parseAt(arg("at"))
				if err != nil {
					return nil, err
				}
				st, err := StatusOf(kv, kv.View(identity.Name), arg("id"), i, at)
				if err != nil {
					return nil, err
				}
				if arg("at") == "" {
					st.At = 0
				}
				return st, nil
			},
			Answer: (*Status)(nil),
		},
		{
			Name:    "token",
			Pattern: "GET /v1/credential/lists/{id}/token",
			Summary: "A status list's latest Status List Token (statuslist+jwt) the issuer signed and the ledger took, now or at a past time, with the list as the ledger holds it now to compare; served as the bare token to a request that accepts " + TokenMediaType + ".",
			Params:  []ledger.Param{{Name: "at", Summary: "an RFC 3339 time (default: now)"}},
			Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
				at, err := parseAt(arg("at"))
				if err != nil {
					return nil, err
				}
				return ListTokenOf(kv, arg("id"), at)
			},
			Answer:     (*ListToken)(nil),
			MediaTypes: []string{"application/json", TokenMediaType},
			Represent: func(ans any, mediaType string) any {
				a, ok := ans.(*ListToken)
				switch {
				case !ok || mediaType != TokenMediaType:
					return ans
				case a.Published == nil:
					return ledger.Raw("") // with the not_found status
				}
				return ledger.Raw(a.Published.Token)
			},
		},
		listQuery("bitstring", "/bitstring", "A status list as a W3C Bitstring Status List credential.", BitstringOf),
	}
}

// IssuerSummary is one accredited issuer of the issuers query: its
// accreditation, the vct of each type it registered and the id of each
// status list it holds, in key order.
type IssuerSummary struct {
	Accredited
	Types []string `json:"types"`
	Lists []string `json:"lists"`
}

// IssuersIn lists every accredited issuer with its types and lists (kv
// is this module's view). It reads ranges of keys: not provable complete.
func IssuersIn(kv *ledger.KV) ([]IssuerSummary, error) {
	gv := kv.View(gov.Name)
	dids, err := gov.EntryKeysIn(gv, IssuersResource)
	if err != nil {
		return nil, err
	}
	out := []IssuerSummary{}
	at := map[string]int{}
	for _, did := range dids {
		a, err := Accreditation(gv, did)
		if err != nil {
			return nil, err
		}
		if a == nil {
			continue
		}
		at[did] = len(out)
		out = append(out, IssuerSummary{Accredited: *a, Types: []string{}, Lists: []string{}})
	}
	err = each(kv, "t/", func(t *Type) {
		if i, ok := at[t.Issuer]; ok {
			out[i].Types = append(out[i].Types, t.VCT)
		}
	})
	if err != nil {
		return nil, err
	}
	err = each(kv, "l/", func(l *List) {
		if i, ok := at[l.Issuer]; ok {
			out[i].Lists = append(out[i].Lists, l.ID)
		}
	})
	return out, err
}

// each decodes every record under prefix, in key order, and hands it to fn.
func each[T any](kv *ledger.KV, prefix string, fn func(*T)) error {
	return kv.Iterate([]byte(prefix), func(_, v []byte) (bool, error) {
		var x T
		if err := tx.Unmarshal(v, &x); err != nil {
			return false, fmt.Errorf("%w: %v", ledger.ErrStorage, err)
		}
		fn(&x)
		return true, nil
	})
}

// listQuery is the query name of the list {id}: GET
// /v1/credential/lists/{id}+suffix, answered by fn.
func listQuery[T any](name, suffix, summary string, fn func(*ledger.KV, string) (*T, error)) ledger.Query {
	return ledger.Query{
		Name:    name,
		Pattern: "GET /v1/credential/lists/{id}" + suffix,
		Summary: summary,
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			return fn(kv, arg("id"))
		},
		Answer: (*T)(nil),
	}
}

// Genesis is the module's genesis section: its state as stored, for a
// ledger exported and started again. A new ledger has none.
type Genesis struct {
	Records []Record `json:"records,omitempty"`
}

// Record is one stored key and its value (base64 in JSON).
type Record struct {
	Key   []byte `json:"key"`
	Value []byte `json:"value"`
}

// InitGenesis implements ledger.Module.
func (Module) InitGenesis(kv *ledger.KV, raw json.RawMessage) error {
	if raw == nil {
		return nil
	}
	var g Genesis
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("%w: %v", ledger.ErrInvalid, err)
	}
	for _, r := range g.Records {
		if err := checkRecord(r); err != nil {
			return err
		}
		kv.Set(r.Key, r.Value)
	}
	return nil
}

// checkRecord checks that a genesis record is one the module writes.
func checkRecord(r Record) error {
	k := string(r.Key)
	var err error
	switch {
	case strings.HasPrefix(k, "t/"):
		err = tx.Unmarshal(r.Value, &Type{})
	case strings.HasPrefix(k, "l/"):
		err = tx.Unmarshal(r.Value, &List{})
	case strings.HasPrefix(k, "e/"):
		err = tx.Unmarshal(r.Value, &Entry{})
	case strings.HasPrefix(k, "k/"):
		err = tx.Unmarshal(r.Value, &Published{})
	case strings.HasPrefix(k, "p/"):
		if len(r.Value) != PageBytes {
			err = fmt.Errorf("a page is %d bytes", PageBytes)
		}
	default:
		err = fmt.Errorf("unknown key")
	}
	if err != nil {
		return fmt.Errorf("%w: genesis record %q: %v", ledger.ErrInvalid, k, err)
	}
	return nil
}

// ExportGenesis implements ledger.Module.
func (Module) ExportGenesis(kv *ledger.KV) (json.RawMessage, error) {
	var g Genesis
	err := kv.Iterate(nil, func(k, v []byte) (bool, error) {
		g.Records = append(g.Records, Record{Key: append([]byte(nil), k...), Value: append([]byte(nil), v...)})
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(&g)
}

// Check is everything the ledger says about one credential, in one
// provable answer: whether its issuer is accredited for its type, whether
// the key that signed it acted for the issuer when it was issued and
// still does (under identity's compromise semantics), the type's
// metadata, the status of its entry, and whether the key it is bound to
// acts for its subject. A part the ledger has nothing for is nil or says
// why in its Reason; the answer is the same offline over the proven
// values, so a verifier judges each part itself.
type Check struct {
	Issuer     string             `json:"issuer"`
	Accredited *Accredited        `json:"accredited,omitempty"`
	InScope    bool               `json:"in_scope"`
	KeyAtIssue *identity.Standing `json:"key_at_issue,omitempty"`
	KeyNow     *identity.Standing `json:"key_now,omitempty"`
	Type       *TypeMetadata      `json:"type,omitempty"`
	Status     *Status            `json:"status,omitempty"`
	Holder     *identity.Standing `json:"holder,omitempty"`
	// Reasons are what the ledger could not answer, for people.
	Reasons []string `json:"reasons,omitempty"`
}

// CheckArgs name a credential's parts for CheckOf.
type CheckArgs struct {
	Issuer, VCT, List string
	Key               tx.PublicKey // the key that signed it
	IssuedAt          time.Time
	Index             uint32
	Subject           string       // the holder's DID ("" skips the binding)
	HolderKey         tx.PublicKey // the cnf key
}

// CheckOf answers Check (kv is this module's view).
func CheckOf(kv *ledger.KV, a CheckArgs) (*Check, error) {
	c := &Check{Issuer: a.Issuer}
	iv := kv.View(identity.Name)
	var err error
	if c.Accredited, err = Accreditation(kv.View(gov.Name), a.Issuer); err != nil {
		return nil, err
	}
	if c.Accredited != nil {
		c.InScope = InScope(c.Accredited.Scope, a.VCT)
	}
	note := func(err error) error {
		if errors.Is(err, ledger.ErrNotFound) || errors.Is(err, ledger.ErrInvalid) {
			c.Reasons = append(c.Reasons, err.Error())
			return nil
		}
		return err
	}
	if c.KeyAtIssue, err = identity.KeyStanding(iv, a.Issuer, a.Key, AssertionMethod, a.IssuedAt); note(err) != nil {
		return nil, err
	}
	if c.KeyNow, err = identity.KeyStanding(iv, a.Issuer, a.Key, AssertionMethod, latest); note(err) != nil {
		return nil, err
	}
	if c.Type, err = TypeMetadataOf(kv, a.VCT); note(err) != nil {
		return nil, err
	}
	if c.Status, err = StatusOf(kv, iv, a.List, a.Index, latest); note(err) != nil {
		return nil, err
	}
	if c.Status != nil {
		c.Status.At = 0
	}
	if a.Subject != "" {
		if c.Holder, err = identity.KeyStanding(iv, a.Subject, a.HolderKey, authentication, latest); note(err) != nil {
			return nil, err
		}
	}
	return c, nil
}

// latest stands for "as of the state read": later than any block, and
// still a time JSON writes and reads back.
var latest = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// parseCheckArgs reads CheckArgs from the check query's parameters.
func parseCheckArgs(arg func(string) string) (CheckArgs, error) {
	a := CheckArgs{Issuer: arg("iss"), VCT: arg("vct"), Subject: arg("sub")}
	key, cnf, iatS, uri, idx := arg("key"), arg("cnf"), arg("iat"), arg("status_uri"), arg("idx")
	var err error
	if a.Key, err = tx.ParsePublicKey(key); err != nil {
		return a, fmt.Errorf("%w: key: %v", ledger.ErrInvalid, err)
	}
	if a.Subject != "" {
		if a.HolderKey, err = tx.ParsePublicKey(cnf); err != nil {
			return a, fmt.Errorf("%w: cnf: %v", ledger.ErrInvalid, err)
		}
	}
	iat, err := strconv.ParseInt(iatS, 10, 64)
	if err != nil {
		return a, fmt.Errorf("%w: iat %q is not Unix seconds", ledger.ErrInvalid, iatS)
	}
	a.IssuedAt = time.Unix(iat, 0)
	if a.List, err = ListOfURI(uri); err != nil {
		return a, err
	}
	a.Index, err = parseIndex(idx)
	return a, err
}

// IssuerMetadata is the SD-JWT VC Issuer Metadata of an accredited
// issuer (the jwt-vc-issuer well-known form): its identifier, the "iss"
// of its credentials (its DID), and its keys, those that act for it as
// assertionMethod now, as a JWK Set whose kids are their DID URLs.
type IssuerMetadata struct {
	Issuer string `json:"issuer"`
	JWKS   JWKS   `json:"jwks"`
}

// JWKS is a JWK Set.
type JWKS struct {
	Keys []identity.KeyJWK `json:"keys"`
}

// IssuerMetadataPattern is the route of an issuer's metadata: the
// well-known location (SD-JWT VC, Section 5) of the issuer identifier
// URL NODE/v1/credential/issuers/<did>, "/.well-known/jwt-vc-issuer"
// inserted between its host and its path.
const IssuerMetadataPattern = "GET /.well-known/jwt-vc-issuer/v1/credential/issuers/{did}"

// IssuerMetadataOf answers the metadata of the accredited issuer did
// (kv is this module's view). Errors wrap ledger.ErrNotFound for an
// issuer governance does not accredit.
func IssuerMetadataOf(kv *ledger.KV, did string) (*IssuerMetadata, error) {
	a, err := Accreditation(kv.View(gov.Name), did)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, fmt.Errorf("%w: %s is not an accredited issuer", ledger.ErrNotFound, did)
	}
	keys, err := identity.ActingKeys(kv.View(identity.Name), did, AssertionMethod, latest)
	if err != nil {
		return nil, err
	}
	return &IssuerMetadata{Issuer: did, JWKS: JWKS{Keys: keys}}, nil
}

// TypeMetadataDocument returns the Type Metadata document of vct as
// served (TypeMetadata's Document), decoded.
func TypeMetadataDocument(kv *ledger.KV, vct string) (map[string]any, error) {
	t, err := TypeMetadataOf(kv, vct)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(t.Document))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ledger.ErrStorage, err)
	}
	return doc, nil
}
