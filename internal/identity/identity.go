// Package identity implements self-certifying decentralized identifiers,
// did:agora (docs/spec/did-agora.md), and the lifecycle of their keys.
//
// # Identifiers
//
// A DID's id is derived from its inception event: the base32 (lower case,
// no padding) SHA-256 of the canonical CBOR of the Create body, which
// holds the initial keys and the commitment to the next controller key.
// Nobody can claim an id without its inception, and the inception must be
// signed by its controller key, so an id can be neither squatted nor
// forged.
//
// # Messages
//
// "create" (Create), "rotate" (Rotate), "add-key" (AddKey), "revoke"
// (Revoke), "suspend" and "reinstate" (SetStatus), "deactivate"
// (Deactivate), and for recovery "set-guardians" (SetGuardians),
// "recover" (Recover), "cancel-recovery" and "complete-recovery"
// (RecoveryStep), "cancel-change" and "complete-change" (ChangeStep).
// Every one that succeeds appends an Event to the DID's history.
//
// Beside the DIDs' own histories: "register-name" (RegisterName),
// "transfer-name" and "release-name" for names; "attest" and
// "revoke-attestation" for attestations; "anchor-verification" and
// "revoke-verification" for identity-verification anchors.
//
// # Names
//
// A name ("tokyo.exchange") points at a DID. It is registered in the
// namespace that serves its parent: the governance resource
// "names.exchange", delegated through governance like a DNS zone, whose
// entry "onboarding" is its policy: "open", or "member-assisted" (also the
// default) where a key member of the resource's controller body co-signs
// the registration. The DID's controller registers; names are first come,
// first served; the holder transfers (the new holder co-signing, under
// the same policy) or releases them.
//
// # Attestations and verification
//
// An identity attests a claim about another as the claim's type and
// SHA-256(salt || claim); a subject's confidence score (ConfidenceScore)
// weighs its attesters by their accreditation in the governance registry
// "attesters". A verifier accredited in the registry "verifiers" anchors
// SHA-256(salt || ID file); whoever holds the file and salt learns whether
// it was verified and by which organisation (CheckVerification). Names,
// attestations and verification all need DIDs' keys and the governance
// registries, so they live here rather than in modules of their own.
//
// # Rules in state
//
// The controller is the key with capabilityInvocation that the inception
// or the last rotation established. Every update but a rotation must be
// signed by the controller while it is active. A rotation (KERI-style
// pre-rotation) must be signed by the key whose SHA-256 the previous
// event committed to, and commits to the following one; the old
// controller's relationships pass to the new one. A deactivated DID
// refuses everything with ledger.ErrGone.
//
// # Recovery
//
// The controller may name up to 16 guardian keys, a threshold M and a
// delay. A "recover" transaction signed by at least M distinct guardians
// (and by no one else) proposes a new controller and next-key commitment;
// it is pending until the block time passes its effective time (the
// block time of the proposal plus the delay, at least the governed
// Params.MinRecoveryDelay). Until then the controller, or the key the last
// event committed to as the next one, may cancel it — unless the
// controller rotated in less than the delay before the recovery (a thief
// with a stolen next key): then only the controller it replaced may.
// After it, anyone may complete it: the proposed key becomes the
// controller, the old controller is revoked at that time, and the
// commitment is replaced. The pending recovery is part of the State, so
// resolution shows it.
//
// # Key compromise
//
// The controller alone cannot change the guardians or deactivate the DID:
// signed by it alone, either is a pending Change that waits out the
// governed Params.MinChangeDelay, which the committed next key cancels,
// a rotation or completed recovery makes lapse, and a pending recovery
// holds back. With the next key and a settled controller it is made at
// once. KeyStanding (read.go) is the typed read every module asks: did a
// key act for a DID at a time, and had it been compromised by then.
//
// # State
//
// "identity/d/<id>" holds the DID's current State; "identity/e/<id>/<n>"
// (n in 16 hex digits, from 1) its n-th Event; "identity/n/<name>" a
// NameRecord; "identity/a/<subject>/<attester>/<claim>" (ids) an
// Attestation and "identity/ai/<subject>" the sorted list of them;
// "identity/v/<hex digest>" a Verification; "identity/k/<address>/<id>"
// (empty) says that the key with that address is a key of the DID id, for
// Standing (read.go). Replaying the events 1..n
// through the same rules that executed them gives the State as of version
// n, which is how historical resolution works with point reads only.
package identity

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Name is the module's name.
const Name = "identity"

// Method is the DID method name: DIDs are "did:agora:<id>".
const Method = "agora"

// Prefix begins every DID of this method.
const Prefix = "did:" + Method + ":"

// MaxKeys bounds the keys of one DID, over its whole life.
const MaxKeys = 64

// MaxInitialKeys bounds the keys of an inception.
const MaxInitialKeys = 8

// The verification relationships of DID Core, in the order documents list
// them.
const (
	Authentication       = "authentication"
	AssertionMethod      = "assertionMethod"
	KeyAgreement         = "keyAgreement"
	CapabilityInvocation = "capabilityInvocation"
	CapabilityDelegation = "capabilityDelegation"
)

// Relationships lists the verification relationships in document order.
var Relationships = []string{Authentication, AssertionMethod, KeyAgreement, CapabilityInvocation, CapabilityDelegation}

// MaxGuardians bounds the guardians of a DID (and is the most signers a
// transaction has).
const MaxGuardians = tx.MaxSigners

// MinRecoveryDelay is the shortest recovery delay a message may state,
// in seconds. The shortest a ledger accepts is its governed parameter
// Params.MinRecoveryDelay, at least this.
const MinRecoveryDelay = 1

// MaxRecoveryDelay is the longest recovery delay, in seconds: a year.
const MaxRecoveryDelay = 366 * 24 * 3600

// Key statuses.
const (
	Active    = "active"
	Suspended = "suspended"
	Revoked   = "revoked"
	Rotated   = "rotated" // a former controller, replaced by a rotation
)

// Recovery is a pending recovery.
type Recovery struct {
	Key       tx.PublicKey `cbor:"1,keyasint"`
	Next      []byte       `cbor:"2,keyasint"`
	Effective int64        `cbor:"3,keyasint"` // block time, Unix ms, from which it may be completed
	Proposed  int64        `cbor:"4,keyasint"` // block time, Unix ms
}

// Change is a pending change of guardians or a pending deactivation:
// proposed by the controller alone, it takes effect only when completed
// after its effective time, and the committed next key (or a rotation)
// cancels it.
type Change struct {
	Type      string `cbor:"1,keyasint"` // "set-guardians" or "deactivate"
	Body      []byte `cbor:"2,keyasint"` // the message's canonical CBOR
	Proposed  int64  `cbor:"3,keyasint"` // block time, Unix ms
	Effective int64  `cbor:"4,keyasint"` // block time, Unix ms, from which it may be completed
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// idLen is the length of an id: 32 bytes in unpadded base32.
const idLen = 52

// Commitment returns the pre-rotation commitment to key: SHA-256 of its
// canonical CBOR encoding (tx.PublicKey).
func Commitment(key tx.PublicKey) []byte {
	b, err := tx.Marshal(key)
	if err != nil {
		panic(err) // a PublicKey always encodes
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

// ParseDID checks that s is a did:agora DID and returns its id. Errors
// wrap ledger.ErrInvalid.
func ParseDID(s string) (string, error) {
	id, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return "", fmt.Errorf("%w: invalidDid: %q is not a did:agora DID", ledger.ErrInvalid, s)
	}
	if len(id) != idLen || strings.ToLower(id) != id {
		return "", fmt.Errorf("%w: invalidDid: %q: the id is not 52 lower-case base32 characters", ledger.ErrInvalid, s)
	}
	if _, err := b32.DecodeString(strings.ToUpper(id)); err != nil {
		return "", fmt.Errorf("%w: invalidDid: %q: the id is not base32", ledger.ErrInvalid, s)
	}
	return id, nil
}

// KeySpec is a key to register with its verification relationships.
type KeySpec struct {
	PublicKey     tx.PublicKey `cbor:"1,keyasint" json:"public_key"`
	Relationships []string     `cbor:"2,keyasint" json:"relationships"`
}

func (k *KeySpec) validate() error {
	if err := k.PublicKey.Check(); err != nil {
		return fmt.Errorf("%w: key %s: %v", ledger.ErrInvalid, k.PublicKey, err)
	}
	if k.PublicKey.Alg == tx.Ed25519 && slices.Contains(k.Relationships, KeyAgreement) {
		// Ed25519 signs; key agreement needs a Diffie-Hellman key.
		return fmt.Errorf("%w: an Ed25519 key cannot do keyAgreement: use a P-256 or secp256k1 key for it", ledger.ErrInvalid)
	}
	return validRelationships(k.Relationships)
}

// inherited returns the relationships a new controller key takes from the
// one it replaces (by rotation or recovery): all of them, except
// keyAgreement for an Ed25519 key, which signs and cannot agree on keys
// (KeySpec.validate refuses it the relationship too).
func inherited(rels []string, k tx.PublicKey) []string {
	if k.Alg != tx.Ed25519 {
		return rels
	}
	return slices.DeleteFunc(slices.Clone(rels), func(r string) bool { return r == KeyAgreement })
}

// validRelationships requires a non-empty list of known relationships in
// document order without duplicates: one canonical form per set.
func validRelationships(rels []string) error {
	if len(rels) == 0 {
		return fmt.Errorf("%w: a key needs at least one verification relationship", ledger.ErrInvalid)
	}
	last := -1
	for _, r := range rels {
		i := slices.Index(Relationships, r)
		if i < 0 {
			return fmt.Errorf("%w: unknown verification relationship %q (want one of %s)", ledger.ErrInvalid, r, strings.Join(Relationships, ", "))
		}
		if i <= last {
			return fmt.Errorf("%w: relationships must be listed once each, in the order %s", ledger.ErrInvalid, strings.Join(Relationships, ", "))
		}
		last = i
	}
	return nil
}

// SortRelationships puts rels in document order without duplicates.
func SortRelationships(rels []string) []string {
	var out []string
	for _, r := range Relationships {
		if slices.Contains(rels, r) {
			out = append(out, r)
		}
	}
	for _, r := range rels {
		if !slices.Contains(Relationships, r) {
			out = append(out, r) // left for validation to refuse
		}
	}
	return out
}

func validDigest(what string, d []byte) error {
	if len(d) != sha256.Size {
		return fmt.Errorf("%w: %s is %d bytes, want a 32-byte SHA-256", ledger.ErrInvalid, what, len(d))
	}
	return nil
}

// Create is the body of a "create" transaction: the inception event.
// Exactly one key has capabilityInvocation: the controller, which must
// sign the transaction. Next is the commitment to the next controller key.
//
// Evolution: fields are numbered; new optional fields take new numbers,
// and a DID's id is the hash of the exact bytes, so a field never
// changes meaning.
type Create struct {
	Keys []KeySpec `cbor:"1,keyasint" json:"keys"`
	Next []byte    `cbor:"2,keyasint" json:"next"`
}

// Validate checks the inception without state.
func (c *Create) Validate() error {
	if len(c.Keys) == 0 || len(c.Keys) > MaxInitialKeys {
		return fmt.Errorf("%w: an inception has 1 to %d keys, not %d", ledger.ErrInvalid, MaxInitialKeys, len(c.Keys))
	}
	controllers := 0
	for i := range c.Keys {
		if err := c.Keys[i].validate(); err != nil {
			return err
		}
		for j := range i {
			if c.Keys[j].PublicKey.Equal(c.Keys[i].PublicKey) {
				return fmt.Errorf("%w: key %s is listed twice", ledger.ErrInvalid, c.Keys[i].PublicKey)
			}
		}
		if slices.Contains(c.Keys[i].Relationships, CapabilityInvocation) {
			controllers++
		}
	}
	if controllers != 1 {
		return fmt.Errorf("%w: exactly one initial key must have capabilityInvocation (the controller), not %d", ledger.ErrInvalid, controllers)
	}
	if err := validDigest("the next-key commitment", c.Next); err != nil {
		return err
	}
	if bytes.Equal(c.Next, Commitment(c.controller().PublicKey)) {
		return fmt.Errorf("%w: the next-key commitment must be to a new key, not the controller", ledger.ErrInvalid)
	}
	return nil
}

func (c *Create) controller() *KeySpec {
	for i := range c.Keys {
		if slices.Contains(c.Keys[i].Relationships, CapabilityInvocation) {
			return &c.Keys[i]
		}
	}
	return nil
}

// ID returns the DID id the inception derives: base32 of SHA-256 of the
// canonical body.
func (c *Create) ID() string {
	b, err := tx.Marshal(c)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return strings.ToLower(b32.EncodeToString(sum[:]))
}

// DID returns "did:agora:" followed by the id.
func (c *Create) DID() string { return Prefix + c.ID() }

// Rotate is the body of a "rotate" transaction: Key is the new controller,
// whose commitment the previous event holds, and which signs; Next commits
// to the one after it.
type Rotate struct {
	DID  string       `cbor:"1,keyasint" json:"did"`
	Key  tx.PublicKey `cbor:"2,keyasint" json:"key"`
	Next []byte       `cbor:"3,keyasint" json:"next"`
}

// Validate checks the rotation without state.
func (r *Rotate) Validate() error {
	if _, err := ParseDID(r.DID); err != nil {
		return err
	}
	if err := r.Key.Check(); err != nil {
		return fmt.Errorf("%w: key %s: %v", ledger.ErrInvalid, r.Key, err)
	}
	if err := validDigest("the next-key commitment", r.Next); err != nil {
		return err
	}
	if bytes.Equal(r.Next, Commitment(r.Key)) {
		return fmt.Errorf("%w: the next-key commitment must be to a new key, not the one rotated in", ledger.ErrInvalid)
	}
	return nil
}

// AddKey is the body of an "add-key" transaction. Only a rotation gives
// capabilityInvocation, so Relationships may not include it.
type AddKey struct {
	DID string  `cbor:"1,keyasint" json:"did"`
	Key KeySpec `cbor:"2,keyasint" json:"key"`
}

// Validate checks the message without state.
func (a *AddKey) Validate() error {
	if _, err := ParseDID(a.DID); err != nil {
		return err
	}
	if err := a.Key.validate(); err != nil {
		return err
	}
	if slices.Contains(a.Key.Relationships, CapabilityInvocation) {
		return fmt.Errorf("%w: capabilityInvocation belongs to the controller alone; a rotation changes it", ledger.ErrInvalid)
	}
	return nil
}

// Revoke is the body of a "revoke" transaction. CompromisedAt (Unix
// milliseconds) is when the key is believed compromised, at or before the
// block time; 0 means the block time. Signatures by the key after it are
// invalid.
type Revoke struct {
	DID           string `cbor:"1,keyasint" json:"did"`
	KeyID         string `cbor:"2,keyasint" json:"key_id"`
	CompromisedAt int64  `cbor:"3,keyasint,omitempty" json:"compromised_at,omitempty"`
}

// Validate checks the message without state.
func (r *Revoke) Validate() error {
	if _, err := ParseDID(r.DID); err != nil {
		return err
	}
	if r.CompromisedAt < 0 {
		return fmt.Errorf("%w: compromise time before 1970", ledger.ErrInvalid)
	}
	return validKeyID(r.KeyID)
}

// SetStatus is the body of "suspend" and "reinstate".
type SetStatus struct {
	DID   string `cbor:"1,keyasint" json:"did"`
	KeyID string `cbor:"2,keyasint" json:"key_id"`

	reinstate bool
}

// Validate checks the message without state.
func (s *SetStatus) Validate() error {
	if _, err := ParseDID(s.DID); err != nil {
		return err
	}
	return validKeyID(s.KeyID)
}

// SetGuardians is the body of a "set-guardians" transaction, signed by the
// controller: the guardians who may recover the DID, how many of them
// must sign a recovery, and how long (seconds of block time) a recovery
// waits before it may be completed. It replaces any earlier guardians.
type SetGuardians struct {
	DID       string         `cbor:"1,keyasint" json:"did"`
	Guardians []tx.PublicKey `cbor:"2,keyasint" json:"guardians"`
	Threshold uint32         `cbor:"3,keyasint" json:"threshold"`
	Delay     uint64         `cbor:"4,keyasint" json:"delay"`
}

// Validate checks the message without state.
func (g *SetGuardians) Validate() error {
	if _, err := ParseDID(g.DID); err != nil {
		return err
	}
	n := len(g.Guardians)
	if n == 0 || n > MaxGuardians {
		return fmt.Errorf("%w: a DID has 1 to %d guardians, not %d", ledger.ErrInvalid, MaxGuardians, n)
	}
	for i, k := range g.Guardians {
		if err := k.Check(); err != nil {
			return fmt.Errorf("%w: guardian %s: %v", ledger.ErrInvalid, k, err)
		}
		for _, o := range g.Guardians[:i] {
			if o.Equal(k) {
				return fmt.Errorf("%w: guardian %s is listed twice", ledger.ErrInvalid, k)
			}
		}
	}
	if g.Threshold < 1 || int(g.Threshold) > n {
		return fmt.Errorf("%w: the threshold must be from 1 to the number of guardians (%d), not %d", ledger.ErrInvalid, n, g.Threshold)
	}
	if g.Delay < MinRecoveryDelay || g.Delay > MaxRecoveryDelay {
		return fmt.Errorf("%w: the recovery delay must be from %d to %d seconds, not %d", ledger.ErrInvalid, MinRecoveryDelay, MaxRecoveryDelay, g.Delay)
	}
	return nil
}

// Recover is the body of a "recover" transaction, signed by at least the
// threshold of the DID's guardians: Key is the proposed controller, Next
// the commitment to the key after it.
type Recover struct {
	DID  string       `cbor:"1,keyasint" json:"did"`
	Key  tx.PublicKey `cbor:"2,keyasint" json:"key"`
	Next []byte       `cbor:"3,keyasint" json:"next"`
}

// Validate checks the message without state.
func (r *Recover) Validate() error {
	return (*Rotate)(r).Validate()
}

// RecoveryStep is the body of "cancel-recovery" (signed by the controller
// or the committed next key) and "complete-recovery" (signed by anyone,
// once the pending recovery's effective time has passed).
type RecoveryStep struct {
	DID string `cbor:"1,keyasint" json:"did"`

	complete bool
}

// Validate checks the message without state.
func (r *RecoveryStep) Validate() error {
	_, err := ParseDID(r.DID)
	return err
}

// ChangeStep is the body of "cancel-change" (signed by the controller or
// the committed next key) and "complete-change" (signed by anyone, once
// the pending change's effective time has passed and no recovery is
// pending).
type ChangeStep struct {
	DID string `cbor:"1,keyasint" json:"did"`

	complete bool
}

// Validate checks the message without state.
func (c *ChangeStep) Validate() error {
	_, err := ParseDID(c.DID)
	return err
}

// Deactivate is the body of a "deactivate" transaction: the end of the
// DID, for good. Like SetGuardians, the controller alone only proposes
// it (a pending Change); with the committed next key it is at once.
type Deactivate struct {
	DID string `cbor:"1,keyasint" json:"did"`
}

// Validate checks the message without state.
func (d *Deactivate) Validate() error {
	_, err := ParseDID(d.DID)
	return err
}

// KeyID returns the id of a DID's n-th key (from 0): its fragment.
func KeyID(n int) string { return fmt.Sprintf("key-%d", n) }

func validKeyID(s string) error {
	var n int
	if _, err := fmt.Sscanf(s, "key-%d", &n); err != nil || n < 0 || n >= MaxKeys || KeyID(n) != s {
		return fmt.Errorf("%w: key id %q is not of the form key-N", ledger.ErrInvalid, s)
	}
	return nil
}

// Key is one key of a DID.
type Key struct {
	ID            string       `cbor:"1,keyasint" json:"id"`
	PublicKey     tx.PublicKey `cbor:"2,keyasint" json:"public_key"`
	Relationships []string     `cbor:"3,keyasint" json:"relationships"`
	Status        string       `cbor:"4,keyasint" json:"status"`
	Added         int64        `cbor:"5,keyasint" json:"added"`                    // block time, Unix ms
	Changed       int64        `cbor:"6,keyasint,omitempty" json:"changed"`        // of the last status change
	CompromisedAt int64        `cbor:"7,keyasint,omitempty" json:"compromised_at"` // revoked keys
	// AddedBy is the key that signed the add-key that added it, and
	// RevokedBy the key that signed its revocation (absent: the
	// inception, a rotation or a recovery). KeyStanding discounts what a
	// key compromised before the time did.
	AddedBy   string `cbor:"8,keyasint,omitempty" json:"added_by,omitempty"`
	RevokedBy string `cbor:"9,keyasint,omitempty" json:"revoked_by,omitempty"`
}

// State is a DID as of one version.
type State struct {
	ID          string `cbor:"1,keyasint"`
	Keys        []Key  `cbor:"2,keyasint"`
	Controller  string `cbor:"3,keyasint"` // key id
	Next        []byte `cbor:"4,keyasint"`
	Deactivated bool   `cbor:"5,keyasint,omitempty"`
	Created     int64  `cbor:"6,keyasint"` // block times, Unix ms
	Updated     int64  `cbor:"7,keyasint"`
	Version     uint64 `cbor:"8,keyasint"` // events so far
	TxID        tx.ID  `cbor:"9,keyasint"` // of the last event
	// Recovery (fields 10-13; absent until set-guardians).
	Guardians []tx.PublicKey `cbor:"10,keyasint,omitempty"`
	Threshold uint32         `cbor:"11,keyasint,omitempty"`
	Delay     uint64         `cbor:"12,keyasint,omitempty"` // seconds
	Pending   *Recovery      `cbor:"13,keyasint,omitempty"`
	// Change is a pending change of guardians or deactivation.
	Change *Change `cbor:"14,keyasint,omitempty"`
}

// DID returns the state's DID.
func (s *State) DID() string { return Prefix + s.ID }

// Key returns the key with id, or nil.
func (s *State) Key(id string) *Key {
	for i := range s.Keys {
		if s.Keys[i].ID == id {
			return &s.Keys[i]
		}
	}
	return nil
}

// Event is one change in a DID's history.
type Event struct {
	Version uint64       `cbor:"1,keyasint" json:"version"` // from 1
	Type    string       `cbor:"2,keyasint" json:"type"`
	Body    []byte       `cbor:"3,keyasint" json:"body"` // the message's canonical CBOR
	Signer  tx.PublicKey `cbor:"4,keyasint" json:"signer"`
	TxID    tx.ID        `cbor:"5,keyasint" json:"tx_hash"`
	Height  uint64       `cbor:"6,keyasint" json:"height"`
	Time    int64        `cbor:"7,keyasint" json:"time"` // block time, Unix ms
	// Signers are all the signers of a multi-signer transaction (a
	// recovery), Signer first; absent for a single signer.
	Signers []tx.PublicKey `cbor:"8,keyasint,omitempty" json:"signers,omitempty"`
	// Wait is the governed delay, in seconds, the event was given when it
	// executed (Params): a recovery's wait, or a change's. Replay reads it
	// here, so a later change of the parameters does not change history.
	Wait uint64 `cbor:"9,keyasint,omitempty" json:"wait,omitempty"`
}

// signers returns every signer of the event's transaction.
func (ev *Event) signers() []tx.PublicKey {
	if len(ev.Signers) > 0 {
		return ev.Signers
	}
	return []tx.PublicKey{ev.Signer}
}

// Module is the identity module.
type Module struct{}

// Name implements ledger.Module.
func (Module) Name() string { return Name }

// msgTypes are the identity message types. Two types that share a struct
// (suspend and reinstate, ...) differ by a flag that New sets.
var msgTypes = []ledger.MsgType{
	{Name: "create", Summary: "create a DID with its first keys", New: func() ledger.Msg { return &Create{} }},
	{Name: "rotate", Summary: "replace a DID's keys", New: func() ledger.Msg { return &Rotate{} }},
	{Name: "add-key", Summary: "add a key to a DID", New: func() ledger.Msg { return &AddKey{} }},
	{Name: "revoke", Summary: "revoke one of a DID's keys", New: func() ledger.Msg { return &Revoke{} }},
	{Name: "suspend", Summary: "suspend one of a DID's keys", New: func() ledger.Msg { return &SetStatus{} }},
	{Name: "reinstate", Summary: "reinstate a suspended key", New: func() ledger.Msg { return &SetStatus{reinstate: true} }},
	{Name: "deactivate", Summary: "deactivate a DID for good", New: func() ledger.Msg { return &Deactivate{} }},
	{Name: "set-guardians", Summary: "set a DID's recovery guardians and their rule", New: func() ledger.Msg { return &SetGuardians{} }},
	{Name: "recover", Summary: "guardians start replacing a DID's keys", New: func() ledger.Msg { return &Recover{} }},
	{Name: "cancel-recovery", Summary: "cancel a pending recovery", New: func() ledger.Msg { return &RecoveryStep{} }},
	{Name: "complete-recovery", Summary: "complete a recovery whose delay has passed", New: func() ledger.Msg { return &RecoveryStep{complete: true} }},
	{Name: "cancel-change", Summary: "cancel a pending guardian change", New: func() ledger.Msg { return &ChangeStep{} }},
	{Name: "complete-change", Summary: "complete a guardian change whose delay has passed", New: func() ledger.Msg { return &ChangeStep{complete: true} }},
	{Name: "register-name", Summary: "register a name for a DID in a governed namespace", New: func() ledger.Msg { return &RegisterName{} }},
	{Name: "transfer-name", Summary: "transfer a name to another DID", New: func() ledger.Msg { return &TransferName{} }},
	{Name: "release-name", Summary: "release a name", New: func() ledger.Msg { return &ReleaseName{} }},
	{Name: "attest", Summary: "record an attestation (a claim's hash) about a subject", New: func() ledger.Msg { return &Attest{} }},
	{Name: "revoke-attestation", Summary: "revoke one's attestation", New: func() ledger.Msg { return &RevokeAttestation{} }},
	{Name: "anchor-verification", Summary: "anchor an ID verification of a DID", New: func() ledger.Msg { return &AnchorVerification{} }},
	{Name: "revoke-verification", Summary: "revoke an anchored ID verification", New: func() ledger.Msg { return &RevokeVerification{} }},
}

// MsgTypes implements ledger.Declarer.
func (Module) MsgTypes() []ledger.MsgType { return msgTypes }

// Decode implements ledger.Module.
func (Module) Decode(typ string, body []byte) (ledger.Msg, error) {
	return ledger.DecodeMsg(msgTypes, typ, body)
}

// flagged is implemented by a message struct that two types share; flag
// tells them apart.
type flagged interface{ flag() bool }

func (s *SetStatus) flag() bool    { return s.reinstate }
func (r *RecoveryStep) flag() bool { return r.complete }
func (c *ChangeStep) flag() bool   { return c.complete }

// TypeOf returns the message type of a decoded message: the first of
// msgTypes whose New returns the same struct with the same flag; "" if
// none does.
func TypeOf(m ledger.Msg) string {
	for _, t := range msgTypes {
		v := t.New()
		if reflect.TypeOf(v) != reflect.TypeOf(m) {
			continue
		}
		if f, ok := v.(flagged); ok && f.flag() != m.(flagged).flag() {
			continue
		}
		return t.Name
	}
	return ""
}

func stateKey(id string) []byte { return []byte("d/" + id) }

func eventKey(id string, n uint64) []byte { return fmt.Appendf(nil, "e/%s/%016x", id, n) }

func didOf(m ledger.Msg) string {
	switch m := m.(type) {
	case *Rotate:
		return m.DID
	case *AddKey:
		return m.DID
	case *Revoke:
		return m.DID
	case *SetStatus:
		return m.DID
	case *Deactivate:
		return m.DID
	case *SetGuardians:
		return m.DID
	case *Recover:
		return m.DID
	case *RecoveryStep:
		return m.DID
	case *ChangeStep:
		return m.DID
	}
	return ""
}

// Execute implements ledger.Module.
func (Module) Execute(ctx *ledger.Context, msg ledger.Msg) error {
	typ := TypeOf(msg)
	if typ == "" {
		return fmt.Errorf("%w %T", ledger.ErrUnknownType, msg)
	}
	var run func(*ledger.Context, ledger.Msg) error
	switch msg.(type) {
	case *RegisterName, *TransferName, *ReleaseName:
		run = executeName
	case *Attest, *RevokeAttestation:
		run = executeAttestation
	case *AnchorVerification, *RevokeVerification:
		run = executeVerification
	}
	if run != nil {
		if err := run(ctx, msg); err != nil {
			return fmt.Errorf("identity: %w", err)
		}
		return nil
	}
	var s *State
	if c, ok := msg.(*Create); ok {
		id := c.ID()
		found, err := ctx.KV.GetValue(stateKey(id), &State{})
		if err != nil {
			return err
		}
		if found {
			return fmt.Errorf("identity: %w: %s already exists", ledger.ErrConflict, c.DID())
		}
	} else {
		var err error
		if s, err = load(ctx.KV, didOf(msg)); err != nil {
			return err
		}
	}
	body, err := tx.Marshal(msg)
	if err != nil {
		return err
	}
	ev := Event{Type: typ, Body: body, Signer: ctx.Signer(), TxID: ctx.TxID, Height: ctx.Block.Height, Time: ctx.Block.Time.UnixMilli()}
	if len(ctx.Signers) > 1 {
		ev.Signers = slices.Clone(ctx.Signers)
	}
	if ev.Wait, err = governedWait(ctx.KV, s, msg); err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	known := 0
	if s != nil {
		known = len(s.Keys)
	}
	s, err = apply(s, &ev, msg)
	if err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	if err := ctx.KV.SetValue(stateKey(s.ID), s); err != nil {
		return err
	}
	indexKeys(ctx.KV, s, known) // keys are only ever appended
	if err := ctx.KV.SetValue(eventKey(s.ID, ev.Version), &ev); err != nil {
		return err
	}
	attrs := []ledger.Attr{{Key: "did", Value: s.DID()}, {Key: "version", Value: fmt.Sprint(ev.Version)}}
	if c := s.Change; c != nil && c.Proposed == ev.Time && c.Type == typ {
		attrs = append(attrs, ledger.Attr{Key: "pending_until", Value: stamp(c.Effective)})
	}
	ctx.Emit(typ, attrs...)
	return nil
}

// governedWait returns the delay, in seconds, that the governed
// parameters give msg: a recovery waits the DID's delay or the governed
// minimum, whichever is longer; a change of guardians or a deactivation
// the governed change delay. A delay shorter than the minimum is refused.
func governedWait(kv *ledger.KV, s *State, msg ledger.Msg) (uint64, error) {
	p, err := LoadParams(kv)
	if err != nil {
		return 0, err
	}
	switch m := msg.(type) {
	case *Recover:
		return max(s.Delay, p.MinRecoveryDelay), nil
	case *SetGuardians:
		if m.Delay < p.MinRecoveryDelay {
			return 0, fmt.Errorf("%w: the recovery delay must be at least %d seconds, the governed minimum (identity params)", ledger.ErrInvalid, p.MinRecoveryDelay)
		}
		return p.MinChangeDelay, nil
	case *Deactivate:
		return p.MinChangeDelay, nil
	}
	return 0, nil
}

// load returns the current state of did: ledger.ErrInvalid for a
// malformed DID, ledger.ErrNotFound for an unknown one.
func load(kv *ledger.KV, did string) (*State, error) {
	id, err := ParseDID(did)
	if err != nil {
		return nil, err
	}
	var s State
	found, err := kv.GetValue(stateKey(id), &s)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("identity: %w: %s does not exist", ledger.ErrNotFound, did)
	}
	return &s, nil
}

// apply applies one event to s (nil before the inception) and returns the
// new state. Execute and the replay of a history both call it, so the
// rules that accepted an event are the rules that replay it. It fills
// ev.Version. It does not modify *s.
func apply(prev *State, ev *Event, msg ledger.Msg) (*State, error) {
	var s State
	if _, ok := msg.(*Create); !ok && prev == nil {
		return nil, fmt.Errorf("%w: a DID's history begins with its inception", ledger.ErrNotFound)
	}
	if prev != nil {
		s = *prev
		s.Keys = slices.Clone(prev.Keys)
		if prev.Pending != nil {
			p := *prev.Pending
			s.Pending = &p
		}
		if s.Deactivated {
			return nil, fmt.Errorf("%w: %s was deactivated", ledger.ErrGone, s.DID())
		}
	}
	at := ev.Time
	switch m := msg.(type) {
	case *Create:
		if prev != nil {
			return nil, fmt.Errorf("%w: %s already exists", ledger.ErrConflict, m.DID())
		}
		ctrl := m.controller()
		if !ev.Signer.Equal(ctrl.PublicKey) {
			return nil, fmt.Errorf("%w: an inception must be signed by its controller key %s, not %s", ledger.ErrUnauthorized, ctrl.PublicKey, ev.Signer)
		}
		s = State{ID: m.ID(), Next: m.Next, Created: at}
		for _, k := range m.Keys {
			id := KeyID(len(s.Keys))
			if slices.Contains(k.Relationships, CapabilityInvocation) {
				s.Controller = id
			}
			s.Keys = append(s.Keys, Key{ID: id, PublicKey: k.PublicKey, Relationships: k.Relationships, Status: Active, Added: at})
		}
	case *Rotate:
		if !bytes.Equal(Commitment(m.Key), s.Next) {
			return nil, fmt.Errorf("%w: key %s does not match the pre-rotation commitment of %s", ledger.ErrUnauthorized, m.Key, s.DID())
		}
		if !ev.Signer.Equal(m.Key) {
			return nil, fmt.Errorf("%w: a rotation must be signed by the key it rotates in (%s), not %s", ledger.ErrUnauthorized, m.Key, ev.Signer)
		}
		if err := s.addable(m.Key); err != nil {
			return nil, err
		}
		old := s.Key(s.Controller)
		if old.Status != Revoked { // a revoked key stays revoked: its compromise time matters
			old.Status, old.Changed = Rotated, at
		}
		id := KeyID(len(s.Keys))
		s.Keys = append(s.Keys, Key{ID: id, PublicKey: m.Key, Relationships: inherited(old.Relationships, m.Key), Status: Active, Added: at})
		s.Controller = id
		s.Next = m.Next
		s.Change = nil // a change the replaced controller proposed lapses
	case *Recover:
		if len(s.Guardians) == 0 {
			return nil, fmt.Errorf("%w: %s has no guardians", ledger.ErrUnauthorized, s.DID())
		}
		signers := ev.signers()
		for _, k := range signers {
			if !slices.ContainsFunc(s.Guardians, k.Equal) {
				return nil, fmt.Errorf("%w: %s is not a guardian of %s", ledger.ErrUnauthorized, k, s.DID())
			}
		}
		if len(signers) < int(s.Threshold) { // the envelope refuses a signer twice
			return nil, fmt.Errorf("%w: a recovery of %s needs %d of its %d guardians, not %d", ledger.ErrUnauthorized, s.DID(), s.Threshold, len(s.Guardians), len(signers))
		}
		if s.Pending != nil {
			return nil, fmt.Errorf("%w: %s already has a pending recovery (effective %s): cancel it first", ledger.ErrConflict, s.DID(), stamp(s.Pending.Effective))
		}
		if err := s.addable(m.Key); err != nil {
			return nil, err
		}
		s.Pending = &Recovery{Key: m.Key, Next: m.Next, Effective: at + int64(max(ev.Wait, s.Delay))*1000, Proposed: at}
	case *RecoveryStep:
		if s.Pending == nil {
			return nil, fmt.Errorf("%w: %s has no pending recovery", ledger.ErrNotFound, s.DID())
		}
		if !m.complete {
			if err := s.mayCancelRecovery(ev.Signer); err != nil {
				return nil, err
			}
			s.Pending = nil
			break
		}
		p := s.Pending
		if at < p.Effective {
			return nil, fmt.Errorf("%w: the recovery of %s takes effect at %s, not before", ledger.ErrConflict, s.DID(), stamp(p.Effective))
		}
		if err := s.addable(p.Key); err != nil {
			return nil, err
		}
		old := s.Key(s.Controller)
		if old.Status != Revoked {
			old.Status, old.Changed, old.CompromisedAt = Revoked, at, at
		}
		id := KeyID(len(s.Keys))
		s.Keys = append(s.Keys, Key{ID: id, PublicKey: p.Key, Relationships: inherited(old.Relationships, p.Key), Status: Active, Added: at})
		s.Controller = id
		s.Next = p.Next
		s.Pending = nil
		s.Change = nil // a change the replaced controller proposed lapses
	case *ChangeStep:
		c := s.Change
		if c == nil {
			return nil, fmt.Errorf("%w: %s has no pending change", ledger.ErrNotFound, s.DID())
		}
		if !m.complete {
			if !bytes.Equal(Commitment(ev.Signer), s.Next) {
				if err := s.authorize(ev.Signer); err != nil {
					return nil, fmt.Errorf("%w (or the committed next key)", err)
				}
			}
			s.Change = nil
			break
		}
		if at < c.Effective {
			return nil, fmt.Errorf("%w: the %s of %s takes effect at %s, not before", ledger.ErrConflict, c.Type, s.DID(), stamp(c.Effective))
		}
		if s.Pending != nil {
			return nil, fmt.Errorf("%w: %s has a pending recovery: the %s waits until it is cancelled, and lapses if it completes", ledger.ErrConflict, s.DID(), c.Type)
		}
		msg, err := Module{}.Decode(c.Type, c.Body)
		if err != nil {
			return nil, fmt.Errorf("%w: the pending change of %s: %v", ledger.ErrStorage, s.DID(), err)
		}
		s.Change = nil
		s.enact(msg)
	default:
		if err := s.authorize(ev.Signer); err != nil {
			return nil, err
		}
		switch m := msg.(type) {
		case *AddKey:
			if err := s.addable(m.Key.PublicKey); err != nil {
				return nil, err
			}
			s.Keys = append(s.Keys, Key{ID: KeyID(len(s.Keys)), PublicKey: m.Key.PublicKey, Relationships: m.Key.Relationships, Status: Active, Added: at, AddedBy: s.Controller})
		case *Revoke:
			k, err := s.keyForChange(m.KeyID)
			if err != nil {
				return nil, err
			}
			when := m.CompromisedAt
			if when == 0 {
				when = at
			}
			if when > at {
				return nil, fmt.Errorf("%w: the compromise time is after the block time: it must be now or in the past", ledger.ErrInvalid)
			}
			if k.Status == Revoked {
				// A revoked key's compromise time may only be corrected:
				// moved earlier, or set by the holder where the revocation
				// was signed by a key compromised by then (a thief).
				c, credible := s.compromisedAt(k, 0)
				if credible && when >= c {
					return nil, fmt.Errorf("%w: %s#%s is already revoked, compromised at %s (a correction may only move it earlier)", ledger.ErrConflict, s.DID(), k.ID, stamp(k.CompromisedAt))
				}
				k.CompromisedAt, k.RevokedBy = when, s.Controller
				break
			}
			k.Status, k.Changed, k.CompromisedAt, k.RevokedBy = Revoked, at, when, s.Controller
		case *SetStatus:
			k, err := s.keyForChange(m.KeyID)
			if err != nil {
				return nil, err
			}
			from, to := Active, Suspended
			if m.reinstate {
				from, to = Suspended, Active
			}
			if k.Status != from {
				return nil, fmt.Errorf("%w: %s#%s is %s, not %s", ledger.ErrConflict, s.DID(), k.ID, k.Status, from)
			}
			k.Status, k.Changed = to, at
		case *Deactivate, *SetGuardians:
			if s.Pending != nil {
				return nil, fmt.Errorf("%w: %s has a pending recovery: cancel it first", ledger.ErrConflict, s.DID())
			}
			if s.Change != nil {
				return nil, fmt.Errorf("%w: %s already has a pending %s (effective %s): complete or cancel it first", ledger.ErrConflict, s.DID(), s.Change.Type, stamp(s.Change.Effective))
			}
			if s.nextSigned(ev) && s.settled(at, ev.Wait) {
				s.enact(m)
				break
			}
			s.Change = &Change{Type: ev.Type, Body: ev.Body, Proposed: at, Effective: at + int64(ev.Wait)*1000}
		default:
			return nil, fmt.Errorf("%w %T", ledger.ErrUnknownType, msg)
		}
	}
	s.Version++
	s.Updated = at
	s.TxID = ev.TxID
	ev.Version = s.Version
	return &s, nil
}

// enact applies a change of guardians or a deactivation.
func (s *State) enact(msg ledger.Msg) {
	switch m := msg.(type) {
	case *Deactivate:
		s.Deactivated = true
		s.Change, s.Pending = nil, nil
	case *SetGuardians:
		s.Guardians, s.Threshold, s.Delay = m.Guardians, m.Threshold, m.Delay
	}
}

// nextSigned reports whether the key the last event committed to as next
// is among the event's signers.
func (s *State) nextSigned(ev *Event) bool {
	return slices.ContainsFunc(ev.signers(), func(k tx.PublicKey) bool { return bytes.Equal(Commitment(k), s.Next) })
}

// controllers returns the indexes in s.Keys of every key that has been the
// controller, oldest first: the keys with capabilityInvocation, which only
// the inception, a rotation or a recovery gives.
func (s *State) controllers() []int {
	var out []int
	for i, k := range s.Keys {
		if slices.Contains(k.Relationships, CapabilityInvocation) {
			out = append(out, i)
		}
	}
	return out
}

// settled reports whether the controller may act with the committed next
// key at once at time at: it came with the inception, or has been the
// controller for at least wait seconds. A thief who rotated in with a
// stolen next key is not settled, so the holder's guardians have that long
// to start a recovery before he can change them.
func (s *State) settled(at int64, wait uint64) bool {
	c := s.controllers()
	return len(c) == 1 || at-s.Keys[c[len(c)-1]].Added >= int64(wait)*1000
}

// mayCancelRecovery checks that signer may cancel the pending recovery.
// A controller that had been in place for the recovery's delay when it was
// proposed (or came with the inception) may, and so may the committed next
// key. A controller that came in less than the delay before it may not:
// it may be a thief's, rotated in with a stolen next key, and the recovery
// is the holder's answer. Then the key it replaced may: the latest earlier
// controller that had held the DID for the delay, or the inception's,
// unless it is revoked.
func (s *State) mayCancelRecovery(signer tx.PublicKey) error {
	p := s.Pending
	delay := p.Effective - p.Proposed
	c := s.controllers()
	last := len(c) - 1
	if last == 0 || p.Proposed-s.Keys[c[last]].Added >= delay {
		if bytes.Equal(Commitment(signer), s.Next) {
			return nil
		}
		if err := s.authorize(signer); err != nil {
			return fmt.Errorf("%w (or the committed next key)", err)
		}
		return nil
	}
	i := last - 1
	for i > 0 && s.Keys[c[i+1]].Added-s.Keys[c[i]].Added < delay {
		i--
	}
	k := &s.Keys[c[i]]
	if !signer.Equal(k.PublicKey) || k.Status == Revoked {
		return fmt.Errorf("%w: %s's controller came in less than the recovery delay before the recovery, so only the controller it replaced (%s#%s, unless revoked) may cancel it", ledger.ErrUnauthorized, s.DID(), s.DID(), k.ID)
	}
	return nil
}

// authorize checks that signer is the DID's active controller.
func (s *State) authorize(signer tx.PublicKey) error {
	c := s.Key(s.Controller)
	if !signer.Equal(c.PublicKey) {
		return fmt.Errorf("%w: %s is not the controller key of %s (%s#%s)", ledger.ErrUnauthorized, signer, s.DID(), s.DID(), c.ID)
	}
	if c.Status != Active {
		return fmt.Errorf("%w: the controller key %s#%s is %s: rotate to the pre-committed next key", ledger.ErrUnauthorized, s.DID(), c.ID, c.Status)
	}
	return nil
}

func (s *State) addable(k tx.PublicKey) error {
	if len(s.Keys) >= MaxKeys {
		return fmt.Errorf("%w: %s has %d keys, the most a DID may have", ledger.ErrInvalid, s.DID(), MaxKeys)
	}
	for _, o := range s.Keys {
		if o.PublicKey.Equal(k) {
			return fmt.Errorf("%w: key %s is already %s#%s", ledger.ErrConflict, k, s.DID(), o.ID)
		}
	}
	return nil
}

func (s *State) keyForChange(id string) (*Key, error) {
	k := s.Key(id)
	if k == nil {
		return nil, fmt.Errorf("%w: %s has no key %s", ledger.ErrNotFound, s.DID(), id)
	}
	return k, nil
}

// decodeEvent decodes an event's message with the module's decoder.
func decodeEvent(ev *Event) (ledger.Msg, error) {
	return Module{}.Decode(ev.Type, ev.Body)
}

// Replay returns the state of the DID id as of version n (n ≥ 1) by
// replaying its stored events, reading each with a point read (so a state
// proof covers the answer). ErrNotFound if there is no such version.
func Replay(kv *ledger.KV, id string, n uint64) (*State, []Event, error) {
	var s *State
	var evs []Event
	for v := uint64(1); v <= n; v++ {
		var ev Event
		found, err := kv.GetValue(eventKey(id, v), &ev)
		if err != nil {
			return nil, nil, err
		}
		if !found {
			return nil, nil, fmt.Errorf("identity: %w: %s has no version %d", ledger.ErrNotFound, Prefix+id, v)
		}
		if s, err = replayOne(s, ev); err != nil {
			return nil, nil, err
		}
		evs = append(evs, ev)
	}
	return s, evs, nil
}

func replayOne(s *State, ev Event) (*State, error) {
	msg, err := decodeEvent(&ev)
	if err != nil {
		return nil, fmt.Errorf("%w: stored event %d: %v", ledger.ErrStorage, ev.Version, err)
	}
	want := ev.Version
	out, err := apply(s, &ev, msg)
	if err != nil || ev.Version != want {
		return nil, fmt.Errorf("%w: stored event %d does not replay: %v", ledger.ErrStorage, want, err)
	}
	return out, nil
}

// Genesis is the module's genesis section: the DIDs' histories, each
// replayed through the rules.
type Genesis struct {
	// Params are the governed parameters; absent, DefaultParams.
	Params *Params      `json:"params,omitempty"`
	DIDs   []GenesisDID `json:"dids,omitempty"`
	// Names, Attestations and Verifications are stored as they are, for
	// a ledger exported and started again.
	Names         []NameRecord   `json:"names,omitempty"`
	Attestations  []Attestation  `json:"attestations,omitempty"`
	Verifications []Verification `json:"verifications,omitempty"`
}

// GenesisDID is one DID's history.
type GenesisDID struct {
	DID    string  `json:"did"`
	Events []Event `json:"events"`
}

// InitGenesis implements ledger.Module.
func (Module) InitGenesis(kv *ledger.KV, raw json.RawMessage) error {
	if raw == nil {
		return nil
	}
	var g Genesis
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("%w: identity genesis: %v", ledger.ErrInvalid, err)
	}
	if g.Params != nil {
		if err := g.Params.Validate(); err != nil {
			return fmt.Errorf("identity genesis: %w", err)
		}
		if err := kv.SetValue(paramsKey, g.Params); err != nil {
			return err
		}
	}
	for _, d := range g.DIDs {
		id, err := ParseDID(d.DID)
		if err != nil {
			return err
		}
		var s *State
		for _, ev := range d.Events {
			msg, err := decodeEvent(&ev)
			if err != nil {
				return err
			}
			want := ev.Version
			if s, err = apply(s, &ev, msg); err != nil {
				return fmt.Errorf("identity genesis: %s event %d: %w", d.DID, want, err)
			}
			if ev.Version != want || s.ID != id {
				return fmt.Errorf("%w: identity genesis: %s event %d is out of order or of another DID", ledger.ErrInvalid, d.DID, want)
			}
			if err := kv.SetValue(eventKey(id, ev.Version), &ev); err != nil {
				return err
			}
		}
		if s == nil {
			return fmt.Errorf("%w: identity genesis: %s has no events", ledger.ErrInvalid, d.DID)
		}
		if err := kv.SetValue(stateKey(id), s); err != nil {
			return err
		}
		indexKeys(kv, s, 0)
	}
	return initRecords(kv, &g)
}

// initRecords stores the genesis's names, attestations and verifications
// after checking each statically, and rebuilds the attestation index.
func initRecords(kv *ledger.KV, g *Genesis) error {
	for _, n := range g.Names {
		if err := (&RegisterName{Name: n.Name, DID: n.DID}).Validate(); err != nil {
			return fmt.Errorf("identity genesis: name %s: %w", n.Name, err)
		}
		if err := kv.SetValue(nameKey(n.Name), &n); err != nil {
			return err
		}
	}
	index := map[string][]AttestationRef{}
	var subjects []string
	for _, a := range g.Attestations {
		if err := (&Attest{Attester: a.Attester, Subject: a.Subject, Claim: a.Claim, Digest: a.Digest}).Validate(); err != nil {
			return fmt.Errorf("identity genesis: attestation: %w", err)
		}
		sid, _ := ParseDID(a.Subject)
		aid, _ := ParseDID(a.Attester)
		if err := kv.SetValue(attestationKey(sid, aid, a.Claim), &a); err != nil {
			return err
		}
		if index[sid] == nil {
			subjects = append(subjects, sid)
		}
		index[sid] = append(index[sid], AttestationRef{Attester: a.Attester, Claim: a.Claim, Accredited: a.Accredited})
	}
	for _, sid := range subjects { // in the genesis's order: deterministic
		refs := index[sid]
		slices.SortFunc(refs, compareRefs)
		if slotsUsed(refs, true) > MaxAttestations || slotsUsed(refs, false) > MaxAttestations || len(slices.CompactFunc(slices.Clone(refs), func(a, b AttestationRef) bool { return compareRefs(a, b) == 0 })) != len(refs) {
			return fmt.Errorf("%w: identity genesis: the attestations about %s are more than %d or repeat one", ledger.ErrInvalid, Prefix+sid, MaxAttestations)
		}
		if err := kv.SetValue(indexKey(sid), refs); err != nil {
			return err
		}
	}
	for _, v := range g.Verifications {
		if err := (&AnchorVerification{Verifier: v.Verifier, Digest: v.Digest}).Validate(); err != nil {
			return fmt.Errorf("identity genesis: verification: %w", err)
		}
		if err := kv.SetValue(verificationKey(v.Digest), &v); err != nil {
			return err
		}
	}
	return nil
}

// exportRecords is ExportGenesis for names, attestations and
// verifications.
func exportRecords(kv *ledger.KV, g *Genesis) error {
	for _, p := range []struct {
		prefix string
		add    func(v []byte) error
	}{
		{"n/", func(v []byte) error { return appendDecoded(v, &g.Names) }},
		{"a/", func(v []byte) error { return appendDecoded(v, &g.Attestations) }},
		{"v/", func(v []byte) error { return appendDecoded(v, &g.Verifications) }},
	} {
		err := kv.Iterate([]byte(p.prefix), func(_, v []byte) (bool, error) { return true, p.add(v) })
		if err != nil {
			return err
		}
	}
	return nil
}

func appendDecoded[T any](v []byte, list *[]T) error {
	var x T
	if err := tx.Unmarshal(v, &x); err != nil {
		return fmt.Errorf("%w: %v", ledger.ErrStorage, err)
	}
	*list = append(*list, x)
	return nil
}

// ExportGenesis implements ledger.Module.
func (Module) ExportGenesis(kv *ledger.KV) (json.RawMessage, error) {
	var g Genesis
	err := kv.Iterate([]byte("e/"), func(k, v []byte) (bool, error) {
		var ev Event
		if err := tx.Unmarshal(v, &ev); err != nil {
			return false, fmt.Errorf("%w: %v", ledger.ErrStorage, err)
		}
		did := Prefix + string(k[:idLen])
		if len(g.DIDs) == 0 || g.DIDs[len(g.DIDs)-1].DID != did {
			g.DIDs = append(g.DIDs, GenesisDID{DID: did})
		}
		last := &g.DIDs[len(g.DIDs)-1]
		last.Events = append(last.Events, ev)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if err := exportRecords(kv, &g); err != nil {
		return nil, err
	}
	var p Params
	if found, err := kv.GetValue(paramsKey, &p); err != nil {
		return nil, err
	} else if found {
		g.Params = &p
	}
	return json.Marshal(&g)
}
