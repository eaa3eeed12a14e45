package identity

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Names are human-readable names ("tokyo.exchange") that point at DIDs,
// in namespaces that governance delegates, as DNS zones are delegated
// under ICANN. A namespace is a governance resource whose id is
// NamespacePrefix followed by the name's parent ("names.exchange" serves
// "tokyo.exchange"); its resource entry OnboardingEntry is its onboarding
// policy; its controller body's key members are the members who may
// assist a registration.

// NamespacePrefix begins the id of every governance resource that is a
// namespace of names.
const NamespacePrefix = "names."

// OnboardingEntry is the namespace resource's entry that holds its
// onboarding policy.
const OnboardingEntry = "onboarding"

// Onboarding policies. A namespace without an OnboardingEntry is
// MemberAssisted: the safe default.
const (
	// Open: the DID's controller alone registers a name.
	Open = "open"
	// MemberAssisted: the registration (or transfer) is also signed by a
	// key member of the namespace resource's controller body: Alastria's
	// member-assisted setup.
	MemberAssisted = "member-assisted"
)

// MaxName is the longest name, as in DNS.
const MaxName = 253

// maxNamespace is the longest parent a name may have: its namespace's
// resource id is NamespacePrefix and the parent, at most 64 characters.
const maxNamespace = 64 - len(NamespacePrefix)

// ParseName checks that s is a name (lower-case LDH labels of 1 to 63
// characters, at least two of them, at most MaxName in all) and returns
// the id of the namespace resource that serves it: NamespacePrefix and s
// without its first label. Errors wrap ledger.ErrInvalid.
func ParseName(s string) (namespace string, err error) {
	bad := func(why string) error {
		return fmt.Errorf("%w: invalidName: %q %s", ledger.ErrInvalid, s, why)
	}
	if len(s) > MaxName {
		return "", bad(fmt.Sprintf("is longer than %d characters", MaxName))
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return "", bad("has no namespace: a name is a label and the namespace it is registered in (tokyo.exchange)")
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 {
			return "", bad("has a label that is empty or longer than 63 characters")
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "", bad("has a label that begins or ends with a hyphen")
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", bad("may use only a-z, 0-9, hyphens and dots")
			}
		}
	}
	parent := s[len(labels[0])+1:]
	if len(parent) > maxNamespace {
		return "", bad(fmt.Sprintf("is in a namespace longer than %d characters", maxNamespace))
	}
	return NamespacePrefix + parent, nil
}

// RegisterName is the body of a "register-name" transaction: the first
// come registers Name for DID. It is signed by DID's controller and, in
// a member-assisted namespace, also by a member of the namespace's
// controller body.
type RegisterName struct {
	Name string `cbor:"1,keyasint" json:"name"`
	DID  string `cbor:"2,keyasint" json:"did"`
}

// Validate checks the message without state.
func (m *RegisterName) Validate() error {
	if _, err := ParseName(m.Name); err != nil {
		return err
	}
	_, err := ParseDID(m.DID)
	return err
}

// TransferName is the body of a "transfer-name" transaction: the name
// passes to the DID To. It is signed by the controllers of the holder and
// of To and, in a member-assisted namespace, by a member as a
// registration is.
type TransferName struct {
	Name string `cbor:"1,keyasint" json:"name"`
	To   string `cbor:"2,keyasint" json:"to"`
}

// Validate checks the message without state.
func (m *TransferName) Validate() error {
	if _, err := ParseName(m.Name); err != nil {
		return err
	}
	_, err := ParseDID(m.To)
	return err
}

// ReleaseName is the body of a "release-name" transaction, signed by the
// holder's controller (or by anyone once the holder is deactivated): the
// name is free again.
type ReleaseName struct {
	Name string `cbor:"1,keyasint" json:"name"`
}

// Validate checks the message without state.
func (m *ReleaseName) Validate() error {
	_, err := ParseName(m.Name)
	return err
}

// NameRecord is a registered name.
//
// Evolution: fields are numbered; new optional fields take new numbers.
type NameRecord struct {
	Name      string `cbor:"1,keyasint" json:"name"`
	DID       string `cbor:"2,keyasint" json:"did"`
	Namespace string `cbor:"3,keyasint" json:"namespace"` // the governance resource
	// Policy is the onboarding policy the name was registered (or last
	// transferred) under; Sponsor, for member-assisted, the member who
	// co-signed ("exchange-tokyo of exchanges").
	Policy     string   `cbor:"4,keyasint" json:"policy"`
	Sponsor    string   `cbor:"5,keyasint,omitempty" json:"sponsor,omitempty"`
	Registered gov.Time `cbor:"6,keyasint" json:"registered"`
	Updated    gov.Time `cbor:"7,keyasint" json:"updated"`
	Height     uint64   `cbor:"8,keyasint" json:"height"`  // of the last change
	TxID       tx.ID    `cbor:"9,keyasint" json:"tx_hash"` // of the last change
	// Key is the DID's controller key that signed the registration (or
	// the transfer to it); From and FromKey, for a transfer, the DID that
	// gave the name away and its key that signed.
	Key     string `cbor:"10,keyasint,omitempty" json:"key_id,omitempty"`
	From    string `cbor:"11,keyasint,omitempty" json:"from,omitempty"`
	FromKey string `cbor:"12,keyasint,omitempty" json:"from_key_id,omitempty"`
}

// NameStatus is a name's record and whether it stands: the keys that
// registered or last transferred it acted for their DIDs then (neither
// had been compromised by then). A name that does not stand points at a
// DID its holder did not choose: resolvers must not follow it.
type NameStatus struct {
	NameRecord
	Valid  bool   `json:"valid"`
	Reason string `json:"reason,omitempty"`
}

// CheckName returns the record of name and whether it stands, with point
// reads only (the record, then the DIDs whose keys signed it).
func CheckName(kv *ledger.KV, name string) (*NameStatus, error) {
	r, err := LookupName(kv, name)
	if err != nil {
		return nil, err
	}
	ns := &NameStatus{NameRecord: *r, Valid: true}
	at := time.UnixMilli(int64(r.Updated))
	for _, k := range []struct{ did, key string }{{r.From, r.FromKey}, {r.DID, r.Key}} {
		if k.key == "" {
			continue
		}
		st, err := KeyIDStanding(kv, k.did, k.key, CapabilityInvocation, at)
		if err != nil {
			return nil, fmt.Errorf("%w: name %s: %v", ledger.ErrStorage, name, err)
		}
		if !st.Acts && st.Compromised {
			ns.Valid, ns.Reason = false, "signed when "+st.Reason
			break
		}
	}
	return ns, nil
}

func nameKey(name string) []byte { return []byte("n/" + name) }

// LookupName returns the record of name: ledger.ErrInvalid for a
// malformed name, ledger.ErrNotFound for one nobody holds. It reads one
// key, so a state proof covers the answer, present or absent.
func LookupName(kv *ledger.KV, name string) (*NameRecord, error) {
	if _, err := ParseName(name); err != nil {
		return nil, err
	}
	var r NameRecord
	found, err := kv.GetValue(nameKey(name), &r)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("identity: %w: no one holds the name %s", ledger.ErrNotFound, name)
	}
	return &r, nil
}

// controlledBy loads did and checks that its active controller is among
// the signers.
func controlledBy(ctx *ledger.Context, did string) (*State, error) {
	s, err := load(ctx.KV, did)
	if err != nil {
		return nil, err
	}
	if s.Deactivated {
		return nil, fmt.Errorf("%w: %s was deactivated", ledger.ErrGone, did)
	}
	c := s.Key(s.Controller)
	if !ctx.Signed(c.PublicKey) {
		return nil, fmt.Errorf("%w: the controller of %s (%s#%s) must sign", ledger.ErrUnauthorized, did, did, c.ID)
	}
	if c.Status != Active {
		return nil, fmt.Errorf("%w: the controller key %s#%s is %s: rotate to the pre-committed next key", ledger.ErrUnauthorized, did, c.ID, c.Status)
	}
	if st := s.standing(c, CapabilityInvocation, ctx.Block.Time.UnixMilli()); !st.Acts {
		return nil, fmt.Errorf("%w: %s", ledger.ErrUnauthorized, st.Reason)
	}
	return s, nil
}

// controllerOf returns the id of did's controller key.
func controllerOf(kv *ledger.KV, did string) (string, error) {
	s, err := load(kv, did)
	if err != nil {
		return "", err
	}
	return s.Controller, nil
}

// onboard checks that the signers may give name to did under its
// namespace's policy: the namespace exists, did's controller signs, and
// in a member-assisted namespace a member of its controller body signs.
// It returns the namespace, the policy and the sponsor.
func onboard(ctx *ledger.Context, name, did string) (ns, policy, sponsor string, err error) {
	ns, err = ParseName(name)
	if err != nil {
		return "", "", "", err
	}
	gv := ctx.View(gov.Name)
	r, err := gov.ResourceIn(gv, ns)
	if errors.Is(err, ledger.ErrNotFound) {
		return "", "", "", fmt.Errorf("%w: no namespace serves %s: governance delegates namespaces (resource %s)", ledger.ErrNotFound, name, ns)
	}
	if err != nil {
		return "", "", "", err
	}
	if _, err := controlledBy(ctx, did); err != nil {
		return "", "", "", err
	}
	policy = MemberAssisted
	e, found, err := gov.EntryIn(gv, ns, OnboardingEntry)
	if err != nil {
		return "", "", "", err
	}
	if found {
		policy = e.Value
	}
	switch policy {
	case Open:
		return ns, policy, "", nil
	case MemberAssisted:
		for _, k := range ctx.Signers {
			name, ok, err := gov.IsMember(gv, r.Controller, k)
			if err != nil {
				return "", "", "", err
			}
			if ok {
				return ns, policy, name, nil
			}
		}
		return "", "", "", fmt.Errorf("%w: namespace %s is member-assisted: a member of %s must co-sign", ledger.ErrUnauthorized, ns, r.Controller)
	}
	return "", "", "", fmt.Errorf("%w: namespace %s has the onboarding policy %q, which is neither %s nor %s; its controller %s must correct it", ledger.ErrInvalid, ns, policy, Open, MemberAssisted, r.Controller)
}

// executeName runs register-name, transfer-name and release-name.
func executeName(ctx *ledger.Context, msg ledger.Msg) error {
	now := gov.Time(ctx.Block.Time.UnixMilli())
	var name string
	switch m := msg.(type) {
	case *RegisterName:
		name = m.Name
	case *TransferName:
		name = m.Name
	case *ReleaseName:
		name = m.Name
	}
	var rec NameRecord
	held, err := ctx.KV.GetValue(nameKey(name), &rec)
	if err != nil {
		return err
	}
	switch m := msg.(type) {
	case *RegisterName:
		if held {
			return fmt.Errorf("%w: the name %s is already registered to %s", ledger.ErrConflict, name, rec.DID)
		}
		ns, policy, sponsor, err := onboard(ctx, name, m.DID)
		if err != nil {
			return err
		}
		rec = NameRecord{Name: name, DID: m.DID, Namespace: ns, Policy: policy, Sponsor: sponsor, Registered: now}
		if rec.Key, err = controllerOf(ctx.KV, m.DID); err != nil {
			return err
		}
		ctx.Emit("name-registered", ledger.Attr{Key: "name", Value: name}, ledger.Attr{Key: "did", Value: m.DID})
	case *TransferName:
		if !held {
			return fmt.Errorf("%w: no one holds the name %s", ledger.ErrNotFound, name)
		}
		if m.To == rec.DID {
			return fmt.Errorf("%w: the name %s already points at %s", ledger.ErrConflict, name, m.To)
		}
		hs, err := controlledBy(ctx, rec.DID)
		if err != nil {
			return fmt.Errorf("the holder must sign a transfer: %w", err)
		}
		ns, policy, sponsor, err := onboard(ctx, name, m.To)
		if err != nil {
			return fmt.Errorf("the name's new holder: %w", err)
		}
		from := rec.DID
		rec.DID, rec.Namespace, rec.Policy, rec.Sponsor = m.To, ns, policy, sponsor
		rec.From, rec.FromKey = from, hs.Controller
		if rec.Key, err = controllerOf(ctx.KV, m.To); err != nil {
			return err
		}
		ctx.Emit("name-transferred", ledger.Attr{Key: "name", Value: name}, ledger.Attr{Key: "from", Value: from}, ledger.Attr{Key: "did", Value: m.To})
	case *ReleaseName:
		if !held {
			return fmt.Errorf("%w: no one holds the name %s", ledger.ErrNotFound, name)
		}
		if _, err := controlledBy(ctx, rec.DID); err != nil && !isGone(err) {
			return fmt.Errorf("the holder must sign a release: %w", err)
		}
		ctx.KV.Delete(nameKey(name))
		ctx.Emit("name-released", ledger.Attr{Key: "name", Value: name}, ledger.Attr{Key: "did", Value: rec.DID})
		return nil
	}
	rec.Updated, rec.Height, rec.TxID = now, ctx.Block.Height, ctx.TxID
	return ctx.KV.SetValue(nameKey(name), &rec)
}
