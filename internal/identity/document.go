package identity

import (
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
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

// DocumentMetadata is the DID document metadata of DID Resolution.
type DocumentMetadata struct {
	Created     string `json:"created"`
	Updated     string `json:"updated"`
	VersionID   string `json:"versionId"`
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

// ResolutionMetadata is the DID resolution metadata.
type ResolutionMetadata struct {
	ContentType string `json:"contentType"`
}

// Resolution is a DID resolution result.
type Resolution struct {
	Context            string             `json:"@context"`
	Document           *Document          `json:"didDocument"`
	ResolutionMetadata ResolutionMetadata `json:"didResolutionMetadata"`
	DocumentMetadata   DocumentMetadata   `json:"didDocumentMetadata"`
}

// Contexts of the documents.
var Contexts = []string{
	"https://www.w3.org/ns/did/v1",
	"https://w3id.org/security/multikey/v1",
	"https://w3id.org/security/suites/jws-2020/v1",
}

// ContentType is the media type of the document in a resolution result.
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
	md := DocumentMetadata{Created: stamp(s.Created), Updated: stamp(s.Updated), VersionID: strconv.FormatUint(s.Version, 10),
		Deactivated: s.Deactivated}
	if !s.Deactivated {
		md.NextKeyCommitment = fmt.Sprintf("%x", s.Next)
		if p := s.Pending; p != nil {
			md.Recovery = &PendingRecovery{Key: p.Key, Proposed: stamp(p.Proposed), Effective: stamp(p.Effective)}
		}
		if c := s.Change; c != nil {
			md.Change = &PendingChange{Type: c.Type, Proposed: stamp(c.Proposed), Effective: stamp(c.Effective)}
		}
	}
	return &Resolution{Context: "https://w3id.org/did-resolution/v1", Document: d,
		ResolutionMetadata: ResolutionMetadata{ContentType: ContentType}, DocumentMetadata: md}, nil
}

// MediaTypes are the media types a resolution is served as: the
// resolution result (the first two, the default), or the DID document
// alone (the last two).
var MediaTypes = []string{
	"application/json",
	`application/ld+json;profile="https://w3id.org/did-resolution"`,
	ContentType,
	"application/did+json",
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

// Resolve answers a resolution of did as of versionID or versionTime
// (RFC 3339), both optional, from point reads only. A deactivated DID's
// result comes with an error wrapping ledger.ErrGone.
func Resolve(kv *ledger.KV, did, versionID, versionTime string) (*Resolution, error) {
	s, err := load(kv, did)
	if err != nil {
		return nil, err
	}
	if versionID != "" && versionTime != "" {
		return nil, fmt.Errorf("%w: give versionId or versionTime, not both", ledger.ErrInvalid)
	}
	var want uint64
	switch {
	case versionID != "":
		n, err := strconv.ParseUint(versionID, 10, 64)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("%w: versionId %q is not a version number (1, 2, ...)", ledger.ErrInvalid, versionID)
		}
		if n > s.Version {
			return nil, fmt.Errorf("identity: %w: %s has %d versions, not %d", ledger.ErrNotFound, did, s.Version, n)
		}
		want = n
	case versionTime != "":
		t, err := time.Parse(time.RFC3339, versionTime)
		if err != nil {
			return nil, fmt.Errorf("%w: versionTime %q is not an RFC 3339 time", ledger.ErrInvalid, versionTime)
		}
		ms := t.UnixMilli()
		if ms < s.Created {
			return nil, fmt.Errorf("identity: %w: %s did not exist at %s", ledger.ErrNotFound, did, versionTime)
		}
		if ms < s.Updated {
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
				if ev.Time > ms {
					break
				}
				if cur, err = replayOne(cur, ev); err != nil {
					return nil, err
				}
			}
			s, want = cur, 0
			return finish(s, s.Version+1)
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

// HistoryEntry is an event as the history query serves it.
type HistoryEntry struct {
	Version uint64       `json:"version"`
	Type    string       `json:"type"`
	Body    any          `json:"body"`
	Signer  tx.PublicKey `json:"signer"`
	// Signers are all the signers of a multi-signer transaction.
	Signers []tx.PublicKey `json:"signers,omitempty"`
	TxHash  tx.ID          `json:"tx_hash"`
	Height  uint64         `json:"height"`
	Time    time.Time      `json:"time"`
}

// History returns the events of did, oldest first. It reads the state
// (whose Version is the number of events) and then each event by its
// number, with point reads only, so a state proof of the reads shows the
// history complete: no event can be left out or added.
func History(kv *ledger.KV, did string) ([]HistoryEntry, error) {
	s, err := load(kv, did)
	if err != nil {
		return nil, err
	}
	out := []HistoryEntry{}
	for v := uint64(1); v <= s.Version; v++ {
		var ev Event
		found, err := kv.GetValue(eventKey(s.ID, v), &ev)
		if err != nil {
			return nil, err
		}
		if !found || ev.Version != v {
			return nil, fmt.Errorf("%w: %s lacks event %d", ledger.ErrStorage, did, v)
		}
		msg, err := decodeEvent(&ev)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ledger.ErrStorage, err)
		}
		out = append(out, HistoryEntry{Version: ev.Version, Type: ev.Type, Body: msg, Signer: ev.Signer, Signers: ev.Signers, TxHash: ev.TxID,
			Height: ev.Height, Time: time.UnixMilli(ev.Time).UTC()})
	}
	return out, nil
}

// Queries implements ledger.Module.
func (Module) Queries() []ledger.Query {
	return []ledger.Query{{
		Name:    "resolve",
		Pattern: "GET /1.0/identifiers/{did}",
		Summary: "Resolves a did:agora DID to its DID document and metadata (W3C DID Resolution); a deactivated DID answers 410 with its last document.",
		Params: []ledger.Param{
			{Name: "versionId", Summary: "the version (1, 2, ...: the count of events) to resolve"},
			{Name: "versionTime", Summary: "resolve the document as it was at this RFC 3339 time"},
		},
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			r, err := Resolve(kv, arg("did"), arg("versionId"), arg("versionTime"))
			if r == nil {
				return nil, err
			}
			return r, err
		},
		MediaTypes: MediaTypes,
		Represent: func(ans any, mediaType string) any {
			if r, ok := ans.(*Resolution); ok && (mediaType == ContentType || mediaType == "application/did+json") {
				return r.Document
			}
			return ans
		},
	}, {
		Name:    "history",
		Pattern: "GET /v1/identity/dids/{did}/history",
		Summary: "Every event of a DID's history, oldest first, with its transaction, height and block time; with proof=1, proven complete.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			h, err := History(kv, arg("did"))
			if err != nil {
				return nil, err // not a nil slice in an interface: that would be an answer served with the error's status
			}
			return h, nil
		},
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
	}, paramsQuery}
}

// ProvenHistory answers the history query from proven values alone. A
// verifier compares it with the node's answer: since the proof covers
// the event count and every event, an answer that omits, adds or alters
// an event differs.
func ProvenHistory(vals map[string][]byte, did string) ([]HistoryEntry, error) {
	return History(ledger.NewReadView(ledger.Proven(vals), Name, nil), did)
}

// VerifyHistory checks a node's history answer (the JSON list the history
// query serves) against proven values, from verify.State: it is nil only
// if the answer is exactly the history the proof shows, with no event
// omitted, added, reordered or altered. Errors wrap ledger.ErrInvalid.
func VerifyHistory(vals map[string][]byte, did string, answer []json.RawMessage) error {
	mine, err := ProvenHistory(vals, did)
	if err != nil {
		return err
	}
	if len(answer) != len(mine) {
		return fmt.Errorf("%w: the answer has %d events, the proven history %d", ledger.ErrInvalid, len(answer), len(mine))
	}
	for i := range mine {
		b, err := json.Marshal(&mine[i])
		if err != nil {
			return err
		}
		if a, b := normalJSON(answer[i]), normalJSON(b); a == "" || a != b {
			return fmt.Errorf("%w: event %d of the answer differs from the proven one", ledger.ErrInvalid, i+1)
		}
	}
	return nil
}

// normalJSON re-encodes b so that equal values are equal strings; "" if b
// is not JSON.
func normalJSON(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return ""
	}
	out, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(out)
}
