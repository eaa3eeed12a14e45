package custody

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/frost"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
)

// Limits of the messages.
const (
	MaxHolders    = 16
	MaxLabel      = 64
	MaxSealed     = 512  // bytes of one encrypted round-two share
	MaxPackage    = 4096 // bytes of a round-one package
	MaxMessage    = 1024 // bytes of a message to sign
	DKGTimeout    = 24 * time.Hour
	MaxRequestTTL = 30 * 24 * time.Hour
)

// Wallet states.
const (
	Generation   = "generation"
	InActivation = "in_activation"
	Active       = "active"
	InUse        = "in_use"
	Suspended    = "suspended"
	Destroyed    = "destroyed"
	Failed       = "failed"
)

var (
	idRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	labelRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._:/-]{0,63}$`)
)

// Suite returns the FROST suite of a wallet's suite name: ed25519,
// secp256k1 or taproot (BIP-340).
func Suite(name string) (*frost.Suite, error) {
	switch name {
	case "ed25519":
		return frost.Ed25519, nil
	case "secp256k1":
		return frost.Secp256k1, nil
	case "taproot":
		return frost.Secp256k1Taproot, nil
	}
	return nil, fmt.Errorf("%w: suite %q (want ed25519, secp256k1 or taproot)", ledger.ErrInvalid, name)
}

func checkDID(field, did string) error {
	if !strings.HasPrefix(did, "did:agora:") || len(did) > 128 {
		return fmt.Errorf("%w: %s %q is not a did:agora DID", ledger.ErrInvalid, field, did)
	}
	return nil
}

func checkWalletID(id string) error {
	if !idRE.MatchString(id) {
		return fmt.Errorf("%w: wallet %q is not 1 to 64 lower-case letters, digits and hyphens", ledger.ErrInvalid, id)
	}
	return nil
}

// Create is the body of "create".
type Create struct {
	Wallet    string   `cbor:"1,keyasint" json:"wallet"`
	Owner     string   `cbor:"2,keyasint" json:"owner"` // DID
	Tier      string   `cbor:"3,keyasint" json:"tier"`  // hot, warm, cold
	Asset     string   `cbor:"4,keyasint" json:"asset"`
	Network   string   `cbor:"5,keyasint" json:"network"`
	Suite     string   `cbor:"6,keyasint" json:"suite"`
	Threshold uint16   `cbor:"7,keyasint" json:"threshold"`
	Holders   []string `cbor:"8,keyasint" json:"holders"` // DIDs; holder i+1 is Holders[i]
	Policy    Policy   `cbor:"9,keyasint" json:"policy"`
}

// Validate implements ledger.Msg.
func (m *Create) Validate() error {
	if err := checkWalletID(m.Wallet); err != nil {
		return err
	}
	if err := checkDID("owner", m.Owner); err != nil {
		return err
	}
	switch m.Tier {
	case "hot", "warm", "cold":
	default:
		return fmt.Errorf("%w: tier %q (want hot, warm or cold)", ledger.ErrInvalid, m.Tier)
	}
	if !labelRE.MatchString(m.Asset) || !labelRE.MatchString(m.Network) {
		return fmt.Errorf("%w: asset and network are labels of 1 to %d letters, digits and . _ : / -", ledger.ErrInvalid, MaxLabel)
	}
	if _, err := Suite(m.Suite); err != nil {
		return err
	}
	if err := checkHolders(m.Holders, m.Threshold); err != nil {
		return err
	}
	return m.Policy.validate(m.Tier)
}

// Holder is a key holder of a wallet.
type Holder struct {
	ID     uint16 `cbor:"1,keyasint" json:"id"` // FROST identifier, 1..n
	DID    string `cbor:"2,keyasint" json:"did"`
	HPKE   []byte `cbor:"3,keyasint,omitempty" json:"hpke,omitempty"`   // X25519 public key, once joined
	Round1 []byte `cbor:"4,keyasint,omitempty" json:"round1,omitempty"` // its DKG round-one package
	Dealt  bool   `cbor:"5,keyasint,omitempty" json:"dealt,omitempty"`  // its round-two shares are posted
	Backup []byte `cbor:"6,keyasint,omitempty" json:"backup,omitempty"` // digest of its last recorded backup
}

// Wallet is a custody wallet.
type Wallet struct {
	ID        string   `cbor:"1,keyasint" json:"id"`
	Owner     string   `cbor:"2,keyasint" json:"owner"`
	Tier      string   `cbor:"3,keyasint" json:"tier"`
	Asset     string   `cbor:"4,keyasint" json:"asset"`
	Network   string   `cbor:"5,keyasint" json:"network"`
	Suite     string   `cbor:"6,keyasint" json:"suite"`
	Threshold uint16   `cbor:"7,keyasint" json:"threshold"`
	Holders   []Holder `cbor:"8,keyasint" json:"holders"`
	State     string   `cbor:"9,keyasint" json:"state"`
	Policy    Policy   `cbor:"10,keyasint" json:"policy"`
	Session   []byte   `cbor:"11,keyasint" json:"session"` // the DKG's session: SHA-256 of the creating transaction's ID and the wallet
	// PublicKeys is the frost.PublicKeyPackage derived from round one.
	PublicKeys []byte `cbor:"12,keyasint,omitempty" json:"public_keys,omitempty"`
	GroupKey   []byte `cbor:"13,keyasint,omitempty" json:"group_key,omitempty"`
	Created    int64  `cbor:"14,keyasint" json:"created"` // Unix ms
	Changed    int64  `cbor:"15,keyasint" json:"changed"`
	Reason     string `cbor:"16,keyasint,omitempty" json:"reason,omitempty"`   // why it failed
	Requests   uint64 `cbor:"17,keyasint,omitempty" json:"requests,omitempty"` // requests made; the next is Requests+1
	Log        uint64 `cbor:"18,keyasint,omitempty" json:"log,omitempty"`      // audit entries
	Usage      Usage  `cbor:"19,keyasint" json:"usage"`
	Address    string `cbor:"20,keyasint,omitempty" json:"address,omitempty"`
	// Rotations counts the rotations started; the current or last is
	// number Rotations.
	Rotations uint64 `cbor:"21,keyasint,omitempty" json:"rotations,omitempty"`
}

// Usage is what the wallet's approved requests have spent, for the
// policy's limits.
type Usage struct {
	Window   int64  `cbor:"1,keyasint" json:"window"` // index of the current period
	Period   uint64 `cbor:"2,keyasint" json:"period"` // spent in it
	Lifetime uint64 `cbor:"3,keyasint" json:"lifetime"`
}

func walletKey(id string) []byte { return []byte("w/" + id) }

func sealedKey(id string, dealer uint16) []byte {
	return fmt.Appendf(nil, "w/%s/r2/%05d", id, dealer)
}

func loadWallet(kv *ledger.KV, id string) (*Wallet, error) {
	var w Wallet
	found, err := kv.GetValue(walletKey(id), &w)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: no wallet %q", ledger.ErrNotFound, id)
	}
	return &w, nil
}

func (w *Wallet) save(ctx *ledger.Context) error {
	w.Changed = ctx.Block.Time.UnixMilli()
	return ctx.KV.SetValue(walletKey(w.ID), w)
}

func (w *Wallet) holder(did string) *Holder {
	for i := range w.Holders {
		if w.Holders[i].DID == did {
			return &w.Holders[i]
		}
	}
	return nil
}

func (w *Wallet) suite() *frost.Suite {
	s, _ := Suite(w.Suite) // validated at creation
	return s
}

func (w *Wallet) publicKeys() (*frost.PublicKeyPackage, error) {
	pub, err := w.suite().DecodePublicKeyPackage(w.PublicKeys)
	if err != nil {
		return nil, fmt.Errorf("%w: wallet %s public keys: %v", ledger.ErrStorage, w.ID, err)
	}
	return pub, nil
}

// want refuses unless the wallet is in one of the states.
func (w *Wallet) want(states ...string) error {
	if slices.Contains(states, w.State) {
		return nil
	}
	if w.State == Destroyed || w.State == Failed {
		return fmt.Errorf("%w: wallet %s is %s", ledger.ErrGone, w.ID, w.State)
	}
	return fmt.Errorf("%w: wallet %s is %s, not %s", ledger.ErrConflict, w.ID, w.State, strings.Join(states, " or "))
}

// acting checks that a signer acts for did now.
func acting(ctx *ledger.Context, did string) error {
	_, err := identity.ActingSigner(ctx, did, "")
	return err
}

// asHolder loads the wallet and checks that a signer acts for did, a
// holder of it.
func asHolder(ctx *ledger.Context, wallet, did string) (*Wallet, *Holder, error) {
	w, err := loadWallet(ctx.KV, wallet)
	if err != nil {
		return nil, nil, err
	}
	h := w.holder(did)
	if h == nil {
		return nil, nil, fmt.Errorf("%w: %s is not a holder of wallet %s", ledger.ErrUnauthorized, did, wallet)
	}
	if err := acting(ctx, did); err != nil {
		return nil, nil, err
	}
	return w, h, nil
}

func create(ctx *ledger.Context, m *Create) error {
	if err := acting(ctx, m.Owner); err != nil {
		return err
	}
	if _, err := loadWallet(ctx.KV, m.Wallet); err == nil {
		return fmt.Errorf("%w: wallet %s exists", ledger.ErrConflict, m.Wallet)
	}
	now := ctx.Block.Time.UnixMilli()
	session := sha256.Sum256(append(ctx.TxID[:], m.Wallet...))
	w := &Wallet{ID: m.Wallet, Owner: m.Owner, Tier: m.Tier, Asset: m.Asset, Network: m.Network, Suite: m.Suite,
		Threshold: m.Threshold, State: Generation, Policy: m.Policy, Session: session[:], Created: now}
	for i, did := range m.Holders {
		w.Holders = append(w.Holders, Holder{ID: uint16(i + 1), DID: did})
	}
	w.Policy.stamp(nil, now)
	if err := ctx.Schedule(ctx.Block.Time.Add(DKGTimeout), dkgDue(w.ID)); err != nil {
		return err
	}
	if err := numberWallet(ctx.KV, w.ID); err != nil {
		return err
	}
	return w.record(ctx, "created", m.Owner, fmt.Sprintf("%s %d-of-%d %s wallet for %s on %s", m.Tier, m.Threshold, len(m.Holders), m.Suite, m.Asset, m.Network))
}

// Join is the body of "join".
type Join struct {
	Wallet string `cbor:"1,keyasint" json:"wallet"`
	Holder string `cbor:"2,keyasint" json:"holder"` // DID
	HPKE   []byte `cbor:"3,keyasint" json:"hpke"`   // X25519 public key
}

// Validate implements ledger.Msg.
func (m *Join) Validate() error {
	if err := checkWalletID(m.Wallet); err != nil {
		return err
	}
	if len(m.HPKE) != 32 || bytes.Equal(m.HPKE, make([]byte, 32)) {
		return fmt.Errorf("%w: hpke is an X25519 public key, 32 bytes", ledger.ErrInvalid)
	}
	return checkDID("holder", m.Holder)
}

func join(ctx *ledger.Context, m *Join) error {
	if w, r, err := openRotation(ctx.KV, m.Wallet); err != nil || r != nil {
		if err != nil {
			return err
		}
		return rotationJoin(ctx, w, r, m)
	}
	w, h, err := asHolder(ctx, m.Wallet, m.Holder)
	if err != nil {
		return err
	}
	if err := w.want(Generation); err != nil {
		return err
	}
	if h.HPKE != nil {
		return fmt.Errorf("%w: %s already joined wallet %s", ledger.ErrConflict, m.Holder, w.ID)
	}
	h.HPKE = m.HPKE
	return w.record(ctx, "joined", m.Holder, fmt.Sprintf("holder %d", h.ID))
}

// Round1 is the body of "round1".
type Round1 struct {
	Wallet  string `cbor:"1,keyasint" json:"wallet"`
	Holder  string `cbor:"2,keyasint" json:"holder"`
	Package []byte `cbor:"3,keyasint" json:"package"` // frost.Round1Package
}

// Validate implements ledger.Msg.
func (m *Round1) Validate() error {
	if err := checkWalletID(m.Wallet); err != nil {
		return err
	}
	if len(m.Package) == 0 || len(m.Package) > MaxPackage {
		return fmt.Errorf("%w: package is 1 to %d bytes", ledger.ErrInvalid, MaxPackage)
	}
	return checkDID("holder", m.Holder)
}

func (w *Wallet) joined() bool {
	for _, h := range w.Holders {
		if h.HPKE == nil {
			return false
		}
	}
	return true
}

func round1(ctx *ledger.Context, m *Round1) error {
	if w, r, err := openRotation(ctx.KV, m.Wallet); err != nil || r != nil {
		if err != nil {
			return err
		}
		return rotationRound1(ctx, w, r, m)
	}
	w, h, err := asHolder(ctx, m.Wallet, m.Holder)
	if err != nil {
		return err
	}
	if err := w.want(Generation); err != nil {
		return err
	}
	if !w.joined() {
		return fmt.Errorf("%w: wallet %s: every holder joins before round 1", ledger.ErrConflict, w.ID)
	}
	if h.Round1 != nil {
		return fmt.Errorf("%w: holder %d posted round 1 already", ledger.ErrConflict, h.ID)
	}
	s := w.suite()
	p, err := s.DecodeRound1Package(m.Package)
	if err != nil {
		return fmt.Errorf("%w: round-one package: %v", ledger.ErrInvalid, err)
	}
	if p.Dealer != frost.Identifier(h.ID) {
		return fmt.Errorf("%w: round-one package of dealer %d posted by holder %d", ledger.ErrInvalid, p.Dealer, h.ID)
	}
	if err := s.VerifyRound1(w.Session, int(w.Threshold), p); err != nil {
		return fmt.Errorf("%w: round-one package: %v", ledger.ErrInvalid, err)
	}
	h.Round1 = m.Package
	return w.record(ctx, "round1", m.Holder, fmt.Sprintf("holder %d", h.ID))
}

// Sealed is a round-two share encrypted to its recipient.
type Sealed struct {
	To         uint16 `cbor:"1,keyasint" json:"to"`
	Ciphertext []byte `cbor:"2,keyasint" json:"ciphertext"` // HPKE enc || ct
}

// SealInfo is the HPKE info string (RFC 9180, mode base,
// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305) under which
// dealer seals its round-two share to holder to: it binds the ciphertext
// to the wallet's DKG session and to both holders, so a sealed share
// cannot be replayed into another DKG or to another recipient.
func SealInfo(session []byte, dealer, to uint16) []byte {
	return fmt.Appendf(append([]byte("agora/custody/dkg/v1\x00"), session...), "\x00%d\x00%d", dealer, to)
}

// Round2 is the body of "round2".
type Round2 struct {
	Wallet string   `cbor:"1,keyasint" json:"wallet"`
	Holder string   `cbor:"2,keyasint" json:"holder"`
	Shares []Sealed `cbor:"3,keyasint" json:"shares"` // one per other holder, ascending
}

// Validate implements ledger.Msg.
func (m *Round2) Validate() error {
	if err := checkWalletID(m.Wallet); err != nil {
		return err
	}
	if len(m.Shares) == 0 || len(m.Shares) > MaxHolders {
		return fmt.Errorf("%w: 1 to %d shares", ledger.ErrInvalid, MaxHolders)
	}
	for i, s := range m.Shares {
		if i > 0 && s.To <= m.Shares[i-1].To {
			return fmt.Errorf("%w: shares not in ascending order of recipient", ledger.ErrInvalid)
		}
		if len(s.Ciphertext) == 0 || len(s.Ciphertext) > MaxSealed {
			return fmt.Errorf("%w: a sealed share is 1 to %d bytes", ledger.ErrInvalid, MaxSealed)
		}
	}
	return checkDID("holder", m.Holder)
}

func (w *Wallet) round1Packages() ([]*frost.Round1Package, error) {
	var out []*frost.Round1Package
	for _, h := range w.Holders {
		p, err := w.suite().DecodeRound1Package(h.Round1)
		if err != nil {
			return nil, fmt.Errorf("%w: holder %d round one: %v", ledger.ErrStorage, h.ID, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func round2(ctx *ledger.Context, m *Round2) error {
	if w, r, err := openRotation(ctx.KV, m.Wallet); err != nil || r != nil {
		if err != nil {
			return err
		}
		return rotationRound2(ctx, w, r, m)
	}
	w, h, err := asHolder(ctx, m.Wallet, m.Holder)
	if err != nil {
		return err
	}
	if err := w.want(Generation); err != nil {
		return err
	}
	for _, o := range w.Holders {
		if o.Round1 == nil {
			return fmt.Errorf("%w: wallet %s: holder %d has not posted round 1", ledger.ErrConflict, w.ID, o.ID)
		}
	}
	if h.Dealt {
		return fmt.Errorf("%w: holder %d posted round 2 already", ledger.ErrConflict, h.ID)
	}
	var want []uint16
	for _, o := range w.Holders {
		if o.ID != h.ID {
			want = append(want, o.ID)
		}
	}
	var got []uint16
	for _, s := range m.Shares {
		got = append(got, s.To)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("%w: shares for %v, want one for each other holder %v", ledger.ErrInvalid, got, want)
	}
	if err := ctx.KV.SetValue(sealedKey(w.ID, h.ID), m.Shares); err != nil {
		return err
	}
	h.Dealt = true
	if err := w.record(ctx, "round2", m.Holder, fmt.Sprintf("holder %d dealt %d sealed shares", h.ID, len(m.Shares))); err != nil {
		return err
	}
	for _, o := range w.Holders {
		if !o.Dealt {
			return w.save(ctx)
		}
	}
	// Every holder dealt: the group's public keys follow from round one.
	r1, err := w.round1Packages()
	if err != nil {
		return err
	}
	pub, err := w.suite().DKGPublicKeys(w.Session, int(w.Threshold), len(w.Holders), r1)
	if err != nil {
		return fmt.Errorf("%w: %v", ledger.ErrInvalid, err)
	}
	w.PublicKeys, w.GroupKey, w.State = pub.Bytes(), pub.GroupKey(), InActivation
	w.Address = hex.EncodeToString(w.GroupKey)
	if err := ctx.Cancel(dkgDue(w.ID)); err != nil {
		return err
	}
	return w.record(ctx, "generated", "", "group key "+w.Address)
}

// Complain is the body of "complain": a holder publishes the round-two
// package it decrypted, which its dealer signed.
type Complain struct {
	Wallet  string `cbor:"1,keyasint" json:"wallet"`
	Holder  string `cbor:"2,keyasint" json:"holder"`
	Package []byte `cbor:"3,keyasint" json:"package"` // frost.Round2Package, decrypted
}

// Validate implements ledger.Msg.
func (m *Complain) Validate() error {
	if err := checkWalletID(m.Wallet); err != nil {
		return err
	}
	if len(m.Package) == 0 || len(m.Package) > MaxPackage {
		return fmt.Errorf("%w: package is 1 to %d bytes", ledger.ErrInvalid, MaxPackage)
	}
	return checkDID("holder", m.Holder)
}

func complain(ctx *ledger.Context, m *Complain) error {
	if w, r, err := openRotation(ctx.KV, m.Wallet); err != nil || r != nil {
		if err != nil {
			return err
		}
		return rotationComplain(ctx, w, r, m)
	}
	w, h, err := asHolder(ctx, m.Wallet, m.Holder)
	if err != nil {
		return err
	}
	if err := w.want(Generation, InActivation); err != nil {
		return err
	}
	s := w.suite()
	p, err := s.DecodeRound2Package(m.Package)
	if err != nil {
		return fmt.Errorf("%w: round-two package: %v", ledger.ErrInvalid, err)
	}
	if p.Recipient != frost.Identifier(h.ID) || p.Dealer == 0 || int(p.Dealer) > len(w.Holders) {
		return fmt.Errorf("%w: a complaint publishes a share the complainer received", ledger.ErrInvalid)
	}
	dealer := w.Holders[p.Dealer-1]
	if dealer.Round1 == nil {
		return fmt.Errorf("%w: dealer %d posted no round one", ledger.ErrConflict, p.Dealer)
	}
	d1, err := s.DecodeRound1Package(dealer.Round1)
	if err != nil {
		return fmt.Errorf("%w: %v", ledger.ErrStorage, err)
	}
	guilty, err := s.JudgeComplaint(w.Session, d1, p)
	if err != nil {
		return fmt.Errorf("%w: the share is not evidence: %v", ledger.ErrInvalid, err)
	}
	if uint16(guilty) == h.ID {
		return fmt.Errorf("%w: the share of dealer %d matches its commitments: the complaint is false", ledger.ErrInvalid, p.Dealer)
	}
	w.State = Failed
	w.Reason = fmt.Sprintf("dealer %d (%s) dealt holder %d a share that does not match its commitments", dealer.ID, dealer.DID, h.ID)
	if err := ctx.Cancel(dkgDue(w.ID)); err != nil {
		return err
	}
	return w.record(ctx, "dkg_failed", m.Holder, w.Reason)
}

// Lifecycle is the body of "activate", "suspend" and "resume", signed by
// a key of the wallet's owner. (Destruction is a key operation: KeyOp.)
type Lifecycle struct {
	Wallet string `cbor:"1,keyasint" json:"wallet"`
	Reason string `cbor:"2,keyasint,omitempty" json:"reason,omitempty"`
	step   string
}

// Validate implements ledger.Msg.
func (m *Lifecycle) Validate() error {
	if err := checkWalletID(m.Wallet); err != nil {
		return err
	}
	if len(m.Reason) > 256 {
		return fmt.Errorf("%w: reason is at most 256 bytes", ledger.ErrInvalid)
	}
	return nil
}

func lifecycle(ctx *ledger.Context, m *Lifecycle) error {
	w, err := loadWallet(ctx.KV, m.Wallet)
	if err != nil {
		return err
	}
	if err := acting(ctx, w.Owner); err != nil {
		return err
	}
	var from []string
	var to string
	switch m.step {
	case "activate":
		from, to = []string{InActivation}, Active
	case "suspend":
		from, to = []string{Active, InUse}, Suspended
	case "resume":
		from, to = []string{Suspended}, Active
	default:
		return fmt.Errorf("%w: lifecycle step %q", ledger.ErrUnknownType, m.step)
	}
	if err := w.want(from...); err != nil {
		return err
	}
	w.State = to
	return w.record(ctx, m.step, w.Owner, m.Reason)
}

// Backup is the body of "backup".
type Backup struct {
	Wallet string `cbor:"1,keyasint" json:"wallet"`
	Holder string `cbor:"2,keyasint" json:"holder"`
	SHA256 []byte `cbor:"3,keyasint" json:"sha256"` // of the encrypted backup
	Where  string `cbor:"4,keyasint" json:"where"`  // a label of where it is kept
}

// Validate implements ledger.Msg.
func (m *Backup) Validate() error {
	if err := checkWalletID(m.Wallet); err != nil {
		return err
	}
	if len(m.SHA256) != 32 {
		return fmt.Errorf("%w: sha256 is 32 bytes", ledger.ErrInvalid)
	}
	if !labelRE.MatchString(m.Where) {
		return fmt.Errorf("%w: where is a label of 1 to %d letters, digits and . _ : / -", ledger.ErrInvalid, MaxLabel)
	}
	return checkDID("holder", m.Holder)
}

func backup(ctx *ledger.Context, m *Backup) error {
	w, h, err := asHolder(ctx, m.Wallet, m.Holder)
	if err != nil {
		return err
	}
	if err := w.want(InActivation, Active, InUse, Suspended); err != nil {
		return err
	}
	h.Backup = m.SHA256
	return w.record(ctx, "backup", m.Holder, fmt.Sprintf("holder %d backup %x at %s", h.ID, m.SHA256, m.Where))
}
