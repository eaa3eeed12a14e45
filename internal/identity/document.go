package identity

import (
	"crypto/elliptic"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Document is a DID document (W3C DID Core) in its JSON-LD form.
type Document struct {
	Context            []string             `json:"@context"`
	ID                 string               `json:"id"`
	Controller         string               `json:"controller"`
	VerificationMethod []VerificationMethod `json:"verificationMethod"`
	// The relationships reference methods by DID URL.
	Authentication       []string `json:"authentication,omitempty"`
	AssertionMethod      []string `json:"assertionMethod,omitempty"`
	KeyAgreement         []string `json:"keyAgreement,omitempty"`
	CapabilityInvocation []string `json:"capabilityInvocation,omitempty"`
	CapabilityDelegation []string `json:"capabilityDelegation,omitempty"`
}

// VerificationMethod is one verification method. Each key is listed twice:
// "#key-N" as a Multikey (publicKeyMultibase) and "#key-N-jwk" as a
// JsonWebKey2020 (publicKeyJwk), since DID Core allows one form of key
// material per method.
type VerificationMethod struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	Controller         string `json:"controller"`
	PublicKeyMultibase string `json:"publicKeyMultibase,omitempty"`
	PublicKeyJwk       *JWK   `json:"publicKeyJwk,omitempty"`
	// Revoked (Security Vocabulary sec:revoked) is the compromise time of
	// a revoked key: signatures made after it are invalid.
	Revoked string `json:"revoked,omitempty"`
	// Status is "suspended", "revoked" or "rotated" for a key that no
	// relationship references any more; absent for an active key.
	Status string `json:"agoraKeyStatus,omitempty"`
}

// JWK is a public JSON Web Key (RFC 7517, RFC 8037).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y,omitempty"`
}

// DocumentMetadata is the DID document metadata of DID Resolution. It is
// empty in the result of a resolution that failed.
type DocumentMetadata struct {
	Created string `json:"created,omitempty"`
	// Updated is the time of the last event after the inception: absent
	// at version 1, which was never updated (DID Core § 7.1.3).
	Updated     string `json:"updated,omitempty"`
	VersionID   string `json:"versionId,omitempty"`
	Deactivated bool   `json:"deactivated,omitempty"`
	// NextVersionID is set when an older version was asked for.
	NextVersionID string `json:"nextVersionId,omitempty"`
	// NextKeyCommitment is the hex SHA-256 the next rotation must reveal
	// a key for.
	NextKeyCommitment string `json:"agoraNextKeyCommitment,omitempty"`
	// Recovery is the pending recovery, if there is one.
	Recovery *PendingRecovery `json:"agoraRecovery,omitempty"`
	// Change is the pending change of guardians or deactivation, if
	// there is one.
	Change *PendingChange `json:"agoraChange,omitempty"`
}

// PendingChange describes a pending change in the metadata.
type PendingChange struct {
	Type      string `json:"type"` // set-guardians or deactivate
	Proposed  string `json:"proposed"`
	Effective string `json:"effective"`
}

// PendingRecovery describes a pending recovery in the metadata.
type PendingRecovery struct {
	// Key is the proposed controller.
	Key tx.PublicKey `json:"key"`
	// Proposed is when the guardians proposed it.
	Proposed string `json:"proposed"`
	// Effective is when anyone may complete it, unless the controller
	// or the committed next key cancels it first.
	Effective string `json:"effective"`
}

// ResolutionMetadata is the DID resolution metadata. A successful
// resolution (the resolve function of DID Core § 7.1) has none; a failed
// one has Error, a keyword of DID Core § 7.1.2 or DID Resolution, and
// ErrorMessage, the reason for people.
type ResolutionMetadata struct {
	ContentType  string `json:"contentType,omitempty"`
	Error        string `json:"error,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}

// Resolution is a DID resolution result. Document is nil in the result
// of a resolution that failed.
type Resolution struct {
	Context            []string           `json:"@context"`
	Document           *Document          `json:"didDocument"`
	ResolutionMetadata ResolutionMetadata `json:"didResolutionMetadata"`
	DocumentMetadata   DocumentMetadata   `json:"didDocumentMetadata"`
}

// Context is the IRI of Agora's JSON-LD context, which defines every term
// of the documents and their metadata that the DID context does not:
// the key types and key material (Multikey, JsonWebKey2020), revoked and
// the agora* extensions. It is a name: every node serves the document
// (ContextDocument) at GET /ns/did/v1, and a JSON-LD processor preloads it.
const Context = "https://agora-ledger.github.io/ns/did/v1"

// ContextDocument is the JSON-LD context document named by Context.
//
//go:embed context-v1.jsonld
var ContextDocument []byte

// Contexts of the documents: the DID context and Agora's, which between
// them define every term a document uses.
var Contexts = []string{"https://www.w3.org/ns/did/v1", Context}

// ResultContexts are the contexts of a resolution or dereferencing
// result.
var ResultContexts = []string{"https://w3id.org/did-resolution/v1", Context}

// ContentType is the media type of the JSON-LD representation of a DID
// document (DID Core § 6.3).
const ContentType = "application/did+ld+json"

func stamp(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }

// Document renders the state as a DID document.
func (s *State) Document() (*Document, error) {
	did := s.DID()
	d := &Document{Context: Contexts, ID: did, Controller: did, VerificationMethod: []VerificationMethod{}}
	for _, k := range s.Keys {
		mb, jwk, err := keyMaterial(k.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ledger.ErrStorage, k.ID, err)
		}
		status := ""
		if k.Status != Active {
			status = k.Status
		}
		revoked := ""
		if k.Status == Revoked {
			revoked = stamp(k.CompromisedAt)
		}
		ids := []string{did + "#" + k.ID, did + "#" + k.ID + "-jwk"}
		d.VerificationMethod = append(d.VerificationMethod,
			VerificationMethod{ID: ids[0], Type: "Multikey", Controller: did, PublicKeyMultibase: mb, Revoked: revoked, Status: status},
			VerificationMethod{ID: ids[1], Type: "JsonWebKey2020", Controller: did, PublicKeyJwk: jwk, Revoked: revoked, Status: status})
		if k.Status != Active || s.Deactivated {
			continue
		}
		for _, r := range k.Relationships {
			switch r {
			case Authentication:
				d.Authentication = append(d.Authentication, ids...)
			case AssertionMethod:
				d.AssertionMethod = append(d.AssertionMethod, ids...)
			case KeyAgreement:
				d.KeyAgreement = append(d.KeyAgreement, ids...)
			case CapabilityInvocation:
				d.CapabilityInvocation = append(d.CapabilityInvocation, ids...)
			case CapabilityDelegation:
				d.CapabilityDelegation = append(d.CapabilityDelegation, ids...)
			}
		}
	}
	return d, nil
}

// Resolution renders the state as a resolution result.
func (s *State) Resolution() (*Resolution, error) {
	d, err := s.Document()
	if err != nil {
		return nil, err
	}
	md := DocumentMetadata{Created: stamp(s.Created), VersionID: strconv.FormatUint(s.Version, 10), Deactivated: s.Deactivated}
	if s.Version > 1 {
		md.Updated = stamp(s.Updated)
	}
	if !s.Deactivated {
		md.NextKeyCommitment = fmt.Sprintf("%x", s.Next)
		if p := s.Pending; p != nil {
			md.Recovery = &PendingRecovery{Key: p.Key, Proposed: stamp(p.Proposed), Effective: stamp(p.Effective)}
		}
		if c := s.Change; c != nil {
			md.Change = &PendingChange{Type: c.Type, Proposed: stamp(c.Proposed), Effective: stamp(c.Effective)}
		}
	}
	return &Resolution{Context: ResultContexts, Document: d, DocumentMetadata: md}, nil
}

// Media types of DID Resolution's HTTP(S) binding.
const (
	// ResolutionType is the media type of a DID resolution result.
	ResolutionType = "application/did-resolution"
	// DereferencingType is the media type of a DID URL dereferencing
	// result.
	DereferencingType = "application/did-url-dereferencing"
	// JSONType is the media type of the DID document's plain JSON
	// representation (DID Core § 6.2).
	JSONType = "application/did+json"
)

// MediaTypes are the media types a resolution is served as: a result
// (resolution, or dereferencing for a DID URL) in the first four, the
// first being the default; the DID document (or the dereferenced
// resource) alone in the last two.
var MediaTypes = []string{
	"application/json",
	ResolutionType,
	DereferencingType,
	`application/ld+json;profile="https://w3id.org/did-resolution"`,
	ContentType,
	JSONType,
}

// IsRepresentation reports whether mediaType, one of MediaTypes, asks for
// the document (or the dereferenced resource) alone, not a result.
func IsRepresentation(mediaType string) bool {
	return mediaType == ContentType || mediaType == JSONType
}

// Multicodec prefixes (unsigned varints) of public keys in Multikey.
var multicodec = map[tx.Alg][]byte{
	tx.Ed25519:   {0xed, 0x01},
	tx.P256:      {0x80, 0x24},
	tx.Secp256k1: {0xe7, 0x01},
}

// keyMaterial returns the key as publicKeyMultibase and as a JWK.
func keyMaterial(k tx.PublicKey) (string, *JWK, error) {
	prefix, ok := multicodec[k.Alg]
	if !ok {
		return "", nil, fmt.Errorf("no multicodec for %s", k.Alg)
	}
	mb := "z" + base58(append(append([]byte{}, prefix...), k.Key...))
	b64 := base64.RawURLEncoding.EncodeToString
	switch k.Alg {
	case tx.Ed25519:
		return mb, &JWK{Kty: "OKP", Crv: "Ed25519", X: b64(k.Key)}, nil
	case tx.P256:
		x, y := elliptic.UnmarshalCompressed(elliptic.P256(), k.Key)
		if x == nil {
			return "", nil, fmt.Errorf("not a P-256 point")
		}
		return mb, &JWK{Kty: "EC", Crv: "P-256", X: b64(x.FillBytes(make([]byte, 32))), Y: b64(y.FillBytes(make([]byte, 32)))}, nil
	case tx.Secp256k1:
		pk, err := secp256k1.ParsePubKey(k.Key)
		if err != nil {
			return "", nil, err
		}
		u := pk.SerializeUncompressed()
		return mb, &JWK{Kty: "EC", Crv: "secp256k1", X: b64(u[1:33]), Y: b64(u[33:])}, nil
	}
	return "", nil, fmt.Errorf("unsupported key algorithm %s", k.Alg)
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// base58 encodes b in the Bitcoin alphabet (base58btc).
func base58(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	digits := make([]byte, 0, len(b)*138/100+1) // little-endian base-58 digits
	for _, c := range b[zeros:] {
		carry := int(c)
		for i := range digits {
			carry += int(digits[i]) << 8
			digits[i] = byte(carry % 58)
			carry /= 58
		}
		for carry > 0 {
			digits = append(digits, byte(carry%58))
			carry /= 58
		}
	}
	out := make([]byte, 0, zeros+len(digits))
	for range zeros {
		out = append(out, '1')
	}
	for i := len(digits) - 1; i >= 0; i-- {
		out = append(out, base58Alphabet[digits[i]])
	}
	return string(out)
}

// Error codes of DID resolution and DID URL dereferencing: DID Core
// § 7.1.2 and § 7.2.2, and DID Resolution.
const (
	InvalidDid                 = "invalidDid"
	InvalidDidURL              = "invalidDidUrl"
	InvalidOptions             = "invalidOptions"
	NotFound                   = "notFound"
	MethodNotSupported         = "methodNotSupported"
	RepresentationNotSupported = "representationNotSupported"
	InternalError              = "internalError"
)

// ResolveError is a resolution or dereferencing error with its DID
// Resolution error code. It wraps a ledger sentinel (ledger.ErrInvalid,
// ledger.ErrNotFound), so ledger.Code gives Agora's code as well.
type ResolveError struct {
	Code string // InvalidDid, NotFound, ...
	Err  error
}

func (e *ResolveError) Error() string { return e.Err.Error() }
func (e *ResolveError) Unwrap() error { return e.Err }

func resolveErr(code string, sentinel error, format string, a ...any) error {
	return &ResolveError{Code: code, Err: fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, a...))}
}

// Message is err's reason for a result's errorMessage, without the codes
// its error property already gives.
func Message(err error) string {
	m := strings.TrimPrefix(err.Error(), "identity: ")
	for _, sentinel := range []error{ledger.ErrInvalid, ledger.ErrNotFound} {
		m = strings.TrimPrefix(m, sentinel.Error()+": ")
	}
	return strings.TrimPrefix(m, ErrorCode(err)+": ")
}

// ErrorCode returns the DID Resolution error code of err: the code of a
// ResolveError, notFound for another ledger.ErrNotFound, internalError
// otherwise.
func ErrorCode(err error) string {
	var re *ResolveError
	switch {
	case errors.As(err, &re):
		return re.Code
	case errors.Is(err, ledger.ErrNotFound):
		return NotFound
	}
	return InternalError
}

// Failed returns the resolution result of a resolution that failed with
// code: no document, empty document metadata, and the error in the
// resolution metadata.
func Failed(code, message string) *Resolution {
	return &Resolution{Context: ResultContexts, ResolutionMetadata: ResolutionMetadata{Error: code, ErrorMessage: message}}
}

// didSyntax is the DID syntax of DID Core § 3.1 (the method-specific id
// may not end with ':'); didURLSyntax the DID URL syntax with an optional
// fragment (Agora's DID URLs have no path, and their query travels as
// the request's parameters).
var (
	idchars      = `(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})`
	didSyntax    = regexp.MustCompile(`^did:([a-z0-9]+):((?:` + idchars + `*:)*` + idchars + `+)$`)
	pchar        = `(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})`
	fragmentPart = regexp.MustCompile(`^(?:` + pchar + `|[/?])*$`)
)

// ParseDIDURL splits a DID URL (a DID with an optional #fragment) into
// the DID and the fragment, checking its syntax (DID Core § 3.2) and its
// method. Errors are ResolveErrors: invalidDid, or invalidDidUrl for a
// DID URL, with a syntax error; methodNotSupported for a DID of another
// method; invalidDid for a did:agora DID whose id is malformed.
func ParseDIDURL(s string) (did, fragment string, err error) {
	did, fragment, isURL := strings.Cut(s, "#")
	code := InvalidDid
	if isURL {
		code = InvalidDidURL
	}
	m := didSyntax.FindStringSubmatch(did)
	if m == nil || (isURL && (fragment == "" || !fragmentPart.MatchString(fragment))) {
		return "", "", resolveErr(code, ledger.ErrInvalid, "%q is not a DID%s (did:<method>:<id>, DID Core § 3)", s, map[bool]string{true: " URL"}[isURL])
	}
	if m[1] != Method {
		return "", "", resolveErr(MethodNotSupported, ledger.ErrInvalid, "this resolver knows did:%s only, not did:%s", Method, m[1])
	}
	if _, err := ParseDID(did); err != nil {
		return "", "", &ResolveError{Code: code, Err: err}
	}
	return did, fragment, nil
}

// Resolve answers a resolution of did as of versionID or versionTime
// (an RFC 3339 time, compared to the second, as the metadata's times
// are), both optional, from point reads only. A deactivated DID's result
// comes with an error wrapping ledger.ErrGone. Other errors are
// ResolveErrors.
func Resolve(kv *ledger.KV, did, versionID, versionTime string) (*Resolution, error) {
	if _, _, err := ParseDIDURL(did); err != nil {
		return nil, err
	}
	if strings.Contains(did, "#") {
		return nil, resolveErr(InvalidDid, ledger.ErrInvalid, "%q is a DID URL: dereference it", did)
	}
	s, err := load(kv, did)
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, &ResolveError{Code: NotFound, Err: err}
	}
	if err != nil {
		return nil, err
	}
	if versionID != "" && versionTime != "" {
		return nil, resolveErr(InvalidOptions, ledger.ErrInvalid, "give versionId or versionTime, not both")
	}
	var want uint64
	switch {
	case versionID != "":
		n, err := strconv.ParseUint(versionID, 10, 64)
		if err != nil || n == 0 {
			return nil, resolveErr(InvalidOptions, ledger.ErrInvalid, "versionId %q is not a version number (1, 2, ...)", versionID)
		}
		if n > s.Version {
			return nil, resolveErr(NotFound, ledger.ErrNotFound, "%s has %d versions, not %d", did, s.Version, n)
		}
		want = n
	case versionTime != "":
		t, err := time.Parse(time.RFC3339, versionTime)
		if err != nil {
			return nil, resolveErr(InvalidOptions, ledger.ErrInvalid, "versionTime %q is not an RFC 3339 time", versionTime)
		}
		// The metadata's times are block times to the second: the
		// version as of a second is the last one whose block time falls
		// in it or before, so versionTime=created gives version 1 and
		// versionTime=updated the version that says so.
		last := t.Unix()*1000 + 999
		if last < s.Created {
			return nil, resolveErr(NotFound, ledger.ErrNotFound, "%s did not exist at %s", did, versionTime)
		}
		if last < s.Updated {
			// The last version at or before the time: replay until the
			// next event is later.
			var cur *State
			for v := uint64(1); v <= s.Version; v++ {
				var ev Event
				found, err := kv.GetValue(eventKey(s.ID, v), &ev)
				if err != nil {
					return nil, err
				}
				if !found {
					return nil, fmt.Errorf("%w: %s lacks event %d", ledger.ErrStorage, did, v)
				}
				if ev.Time > last {
					break
				}
				if cur, err = replayOne(cur, ev); err != nil {
					return nil, err
				}
			}
			return finish(cur, cur.Version+1)
		}
	}
	if want != 0 && want != s.Version {
		var err error
		if s, _, err = Replay(kv, s.ID, want); err != nil {
			return nil, err
		}
		return finish(s, want+1)
	}
	return finish(s, 0)
}

func finish(s *State, next uint64) (*Resolution, error) {
	r, err := s.Resolution()
	if err != nil {
		return nil, err
	}
	if next != 0 {
		r.DocumentMetadata.NextVersionID = strconv.FormatUint(next, 10)
	}
	if s.Deactivated {
		return r, fmt.Errorf("identity: %w: %s was deactivated", ledger.ErrGone, s.DID())
	}
	return r, nil
}

// Dereferencing is a DID URL dereferencing result (DID Core § 7.2).
// Content is the resource: a *Document or a *Resource; nil in the result
// of a dereferencing that failed.
type Dereferencing struct {
	Context  []string           `json:"@context"`
	Content  any                `json:"contentStream"`
	Metadata ResolutionMetadata `json:"dereferencingMetadata"`
	// ContentMetadata is the metadata of the document the resource is
	// part of.
	ContentMetadata DocumentMetadata `json:"contentMetadata"`
}

// Resource is a resource a DID URL dereferences to: a verification
// method, with the contexts that define its terms.
type Resource struct {
	Context []string `json:"@context,omitempty"`
	*VerificationMethod
}

// Dereferencing is the result of dereferencing the DID itself: the
// document, in its JSON-LD representation.
func (r *Resolution) Dereferencing() *Dereferencing {
	return &Dereferencing{Context: ResultContexts, Content: r.Document, Metadata: ResolutionMetadata{ContentType: ContentType},
		ContentMetadata: r.DocumentMetadata}
}

// FailedDereferencing returns the result of a dereferencing that failed
// with code.
func FailedDereferencing(code, message string) *Dereferencing {
	return &Dereferencing{Context: ResultContexts, Metadata: ResolutionMetadata{Error: code, ErrorMessage: message}}
}

// Dereference dereferences a DID URL (DID Core § 7.2, DID Resolution):
// didURL's #fragment selects a verification method of the document,
// service, the DID URL's service parameter, a service, and a DID alone
// its document. The document is
// resolved as of versionID or versionTime, as Resolve does. A did:agora
// document has no services, so a service parameter is notFound. As with
// Resolve, the result of a deactivated DID comes with ledger.ErrGone,
// and other errors are ResolveErrors.
func Dereference(kv *ledger.KV, didURL, versionID, versionTime, service string) (*Dereferencing, error) {
	did, fragment, err := ParseDIDURL(didURL)
	if err != nil {
		return nil, err
	}
	r, rerr := Resolve(kv, did, versionID, versionTime)
	if r == nil {
		return nil, rerr
	}
	if service != "" {
		return nil, resolveErr(NotFound, ledger.ErrNotFound, "%s has no service %q: did:agora documents list no services", did, service)
	}
	if fragment == "" {
		return r.Dereferencing(), rerr
	}
	for i := range r.Document.VerificationMethod {
		if vm := &r.Document.VerificationMethod[i]; vm.ID == did+"#"+fragment {
			return &Dereferencing{Context: ResultContexts, Content: &Resource{Context: Contexts, VerificationMethod: vm},
				Metadata: ResolutionMetadata{ContentType: ContentType}, ContentMetadata: r.DocumentMetadata}, rerr
		}
	}
	return nil, resolveErr(NotFound, ledger.ErrNotFound, "%s has no verification method #%s", did, fragment)
}

// Queries implements ledger.Module.
func (Module) Queries() []ledger.Query {
	return []ledger.Query{{
		Name:    "resolve",
		Pattern: "GET /1.0/identifiers/{did}",
		Summary: "Resolves a did:agora DID to its DID document and metadata, or dereferences a DID URL (#fragment, percent-encoded as %23, or service=) (W3C DID Resolution, HTTP(S) binding); errors are resolution results with a DID Resolution error code; a deactivated DID answers 410 with its last document.",
		Params: []ledger.Param{
			{Name: "versionId", Summary: "the version (1, 2, ...: the count of events) to resolve"},
			{Name: "versionTime", Summary: "resolve the document as it was at this RFC 3339 time (to the second)"},
			{Name: "service", Summary: "the DID URL's service parameter: dereference to that service (did:agora documents have none: notFound)"},
		},
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			if did := arg("did"); strings.Contains(did, "#") || arg("service") != "" {
				d, err := Dereference(kv, did, arg("versionId"), arg("versionTime"), arg("service"))
				if d == nil {
					return nil, err
				}
				return d, err
			}
			r, err := Resolve(kv, arg("did"), arg("versionId"), arg("versionTime"))
			if r == nil {
				return nil, err
			}
			return r, err
		},
		Answer:     ledger.OneOf{(*Resolution)(nil), (*Dereferencing)(nil)},
		MediaTypes: MediaTypes,
	}, {
		Name:    "history",
		Pattern: "GET /v1/identity/dids/{did}/history",
		Summary: "A page of a DID's history, oldest first: each event with its transaction, height and block time, the event count and the next page's first version; with proof=1, the page proven complete.",
		Params: []ledger.Param{
			{Name: "from", Summary: "the version of the page's first event (default 1)"},
			{Name: "limit", Summary: fmt.Sprintf("the most events in the page (default and at most %d)", HistoryPageSize)},
		},
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			from, limit, err := PageArgs(arg("from"), arg("limit"))
			if err != nil {
				return nil, err
			}
			h, err := History(kv, arg("did"), from, limit)
			if err != nil {
				return nil, err // not a nil slice in an interface: that would be an answer served with the error's status
			}
			return h, nil
		},
		Answer: (*HistoryPage)(nil),
	}, {
		Name:    "name",
		Pattern: "GET /v1/identity/names/{name}",
		Summary: "The DID a name points at, its namespace, and the onboarding policy it was registered under; with proof=1, proven present or absent.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			r, err := CheckName(kv, arg("name"))
			if err != nil {
				return nil, err
			}
			return r, nil
		},
		Answer: (*NameStatus)(nil),
	}, {
		Name:    "attestations",
		Pattern: "GET /v1/identity/dids/{did}/attestations",
		Summary: "The live attestations about a DID (attester, claim type, salted digest), by attester; with proof=1, proven complete.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			a, err := Attestations(kv, arg("did"))
			if err != nil {
				return nil, err
			}
			return a, nil
		},
		Answer: []AttestationStatus{},
	}, {
		Name:    "score",
		Pattern: "GET /v1/identity/dids/{did}/score",
		Summary: "A DID's confidence score in thousandths, from its attesters weighted by their accreditation (docs/spec/did-agora.md); with proof=1, proven.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			sc, err := ConfidenceScore(kv, kv.View(gov.Name), arg("did"))
			if err != nil {
				return nil, err
			}
			return sc, nil
		},
		Answer: (*Score)(nil),
	}, {
		Name:    "verification",
		Pattern: "GET /v1/identity/verifications/{sha256}",
		Summary: "Whether an identity verification with this salted digest is anchored, when, by which verifier and organisation, and whether the verifier is still accredited; with proof=1, proven.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			v, err := CheckVerification(kv, kv.View(gov.Name), arg("sha256"))
			if err != nil {
				return nil, err
			}
			return v, nil
		},
		Answer: (*VerificationStatus)(nil),
	}, paramsQuery}
}
