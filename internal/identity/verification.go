package identity

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Identity verification as a service (IDM-002): an accredited verifier,
// the home operator that checked a person's documents, anchors
// SHA-256(salt || ID file). A visited operator that the person gives the
// file and the salt computes the digest and asks the ledger: it learns
// whether the file was verified, when, and by which organisation. The
// ledger holds no personal data, and without the salt the digest reveals
// nothing about the file.

// VerifiersResource is the governance registry of accredited verifiers:
// an entry keyed by a verifier's DID whose value is the name of its
// organisation.
const VerifiersResource = "verifiers"

// AnchorVerification is the body of an "anchor-verification" transaction:
// Verifier, accredited in VerifiersResource, records that it verified the
// ID file whose salted hash is Digest. It is signed by the verifier's
// controller or one of its active assertionMethod keys.
type AnchorVerification struct {
	Verifier string `cbor:"1,keyasint" json:"verifier"`
	Digest   []byte `cbor:"2,keyasint" json:"digest"`
}

// Validate checks the message without state.
func (m *AnchorVerification) Validate() error {
	if _, err := ParseDID(m.Verifier); err != nil {
		return err
	}
	return validDigest("the ID file's salted digest", m.Digest)
}

// RevokeVerification is the body of a "revoke-verification" transaction,
// signed as the anchor was by the verifier that anchored it: the anchor
// is removed (the file is no longer vouched for).
type RevokeVerification struct {
	Verifier string `cbor:"1,keyasint" json:"verifier"`
	Digest   []byte `cbor:"2,keyasint" json:"digest"`
}

// Validate checks the message without state.
func (m *RevokeVerification) Validate() error { return (*AnchorVerification)(m).Validate() }

// Verification is an anchored identity verification.
//
// Evolution: fields are numbered; new optional fields take new numbers.
type Verification struct {
	Digest   HexBytes `cbor:"1,keyasint" json:"digest"`
	Verifier string   `cbor:"2,keyasint" json:"verifier"`
	// Organisation is the verifier's organisation as the registry named
	// it when the anchor was made.
	Organisation string   `cbor:"3,keyasint" json:"organisation"`
	KeyID        string   `cbor:"4,keyasint" json:"key_id"`
	Time         gov.Time `cbor:"5,keyasint" json:"time"`
	Height       uint64   `cbor:"6,keyasint" json:"height"`
	TxID         tx.ID    `cbor:"7,keyasint" json:"tx_hash"`
}

// VerificationStatus answers a visited operator's question about a
// digest.
type VerificationStatus struct {
	Verification
	// Accredited says whether the verifier is accredited now, and
	// Organisation (beside the one at anchoring) what the registry names
	// it now.
	Accredited      bool   `json:"accredited"`
	OrganisationNow string `json:"organisation_now,omitempty"`
	// KeyStanding is the standing, when the anchor was made, of the
	// verifier's key that signed it.
	KeyStanding *Standing `json:"key_standing"`
	// Valid is true when the anchor exists, its verifier is still
	// accredited, and the key that signed it acted for the verifier then
	// (it had not been compromised by then).
	Valid bool `json:"valid"`
}

func verificationKey(digest []byte) []byte { return []byte("v/" + hex.EncodeToString(digest)) }

// accreditedVerifier returns the organisation the registry names for
// verifier, and whether it has an entry.
func accreditedVerifier(gv *ledger.KV, verifier string) (string, bool, error) {
	e, found, err := gov.EntryIn(gv, VerifiersResource, verifier)
	if err != nil || !found {
		return "", false, err
	}
	return e.Value, true, nil
}

// executeVerification runs anchor-verification and revoke-verification.
func executeVerification(ctx *ledger.Context, msg ledger.Msg) error {
	var v Verification
	switch m := msg.(type) {
	case *AnchorVerification:
		org, ok, err := accreditedVerifier(ctx.View(gov.Name), m.Verifier)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %s is not an accredited verifier (governance registry %s)", ledger.ErrUnauthorized, m.Verifier, VerifiersResource)
		}
		_, keyID, err := assertingKey(ctx, m.Verifier)
		if err != nil {
			return fmt.Errorf("the verifier: %w", err)
		}
		found, err := ctx.KV.GetValue(verificationKey(m.Digest), &v)
		if err != nil {
			return err
		}
		if found {
			return fmt.Errorf("%w: %s already anchored this digest", ledger.ErrConflict, v.Verifier)
		}
		v = Verification{Digest: m.Digest, Verifier: m.Verifier, Organisation: org, KeyID: keyID,
			Time: gov.Time(ctx.Block.Time.UnixMilli()), Height: ctx.Block.Height, TxID: ctx.TxID}
		ctx.Emit("verification-anchored", ledger.Attr{Key: "verifier", Value: m.Verifier}, ledger.Attr{Key: "digest", Value: hex.EncodeToString(m.Digest)})
		return ctx.KV.SetValue(verificationKey(m.Digest), &v)
	case *RevokeVerification:
		found, err := ctx.KV.GetValue(verificationKey(m.Digest), &v)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%w: no verification is anchored with this digest", ledger.ErrNotFound)
		}
		if v.Verifier != m.Verifier {
			return fmt.Errorf("%w: %s anchored this digest; only it may revoke it", ledger.ErrUnauthorized, v.Verifier)
		}
		if _, _, err := assertingKey(ctx, m.Verifier); err != nil {
			return fmt.Errorf("the verifier: %w", err)
		}
		ctx.KV.Delete(verificationKey(m.Digest))
		ctx.Emit("verification-revoked", ledger.Attr{Key: "verifier", Value: m.Verifier}, ledger.Attr{Key: "digest", Value: hex.EncodeToString(m.Digest)})
		return nil
	}
	return fmt.Errorf("%w %T", ledger.ErrUnknownType, msg)
}

// CheckVerification answers whether the digest (hex SHA-256 of salt and
// ID file) is anchored and by whom, reading the anchor and the verifier's
// registry entry (gv, a view of the governance namespace): point reads
// only.
func CheckVerification(kv, gv *ledger.KV, digestHex string) (*VerificationStatus, error) {
	d, err := hex.DecodeString(digestHex)
	if err != nil || len(d) != 32 || hex.EncodeToString(d) != digestHex {
		return nil, fmt.Errorf("%w: %q is not a SHA-256 digest in lower-case hex", ledger.ErrInvalid, digestHex)
	}
	var v Verification
	found, err := kv.GetValue(verificationKey(d), &v)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("identity: %w: no verification is anchored with this digest (check the file and the salt)", ledger.ErrNotFound)
	}
	org, ok, err := accreditedVerifier(gv, v.Verifier)
	if err != nil {
		return nil, err
	}
	st, err := KeyIDStanding(kv, v.Verifier, v.KeyID, AssertionMethod, time.UnixMilli(int64(v.Time)))
	if err != nil {
		return nil, fmt.Errorf("%w: verifier %s: %v", ledger.ErrStorage, v.Verifier, err)
	}
	return &VerificationStatus{Verification: v, Accredited: ok, OrganisationNow: org, KeyStanding: st, Valid: ok && st.Acts}, nil
}
