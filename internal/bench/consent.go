package bench

import (
	"crypto/rand"
	"time"

	"github.com/agora-ledger/agora/internal/consent"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/tx"
)

// ConsentUse is the consent module's use check: a controller asks its
// contract before a use, proving the decision from the policy's rule
// roots, and the ledger checks the openings, decides and logs the use.
var ConsentUse = Scenario{
	Name: "consent-use", Module: consent.Name, Type: "use",
	Summary: "use checks: each worker is the controller of a contract of its own (pairwise DIDs and the " +
		"contract created before the clock), and each transaction asks it before a use, showing that the deny rule " +
		"before the allow rule does not apply (its 16 purpose entries) and opening the allow rule's 7 slots; the ledger " +
		"checks the openings against the rule roots, decides (allow) and logs the use (consent/use)",
	Chain: consentUses,
}

// consentUses signs the setup of one contract (the subject's and the
// controller's DIDs, then the contract both sign) and n uses of it, each
// signed by the controller's key in sequence.
func consentUses(chainID string, n int) (setup, run [][]byte, err error) {
	_, setup, run, err = ConsentTrail(chainID, n)
	return setup, run, err
}

// ConsentTrail returns what consent-use runs on chainID, with n uses, and
// the contract's terms, which its subject audits (cmd/agora's
// BenchmarkConsentAudit): the setup (two DIDs on fresh keys and the
// contract both sign) and the uses, each signed by the controller's key
// in sequence and valid for an hour.
func ConsentTrail(chainID string, n int) (terms *consent.Terms, setup, run [][]byte, err error) {
	expiry := time.Now().Add(time.Hour).UnixMilli()
	sign := func(typ, module string, body any, keys []*tx.PrivateKey, seqs ...uint64) ([]byte, error) {
		b, err := tx.Marshal(body)
		if err != nil {
			return nil, err
		}
		t := &tx.Tx{Version: tx.Version, ChainID: chainID, Module: module, Type: typ, Body: b, ExpiryTime: expiry}
		for i, k := range keys {
			t.Signers = append(t.Signers, tx.Signer{Key: k.Public(), Sequence: seqs[i]})
		}
		st, err := tx.Sign(t, keys...)
		if err != nil {
			return nil, err
		}
		return st.Encode()
	}
	var keys [2]*tx.PrivateKey // the subject's, the controller's
	var dids [2]string
	for i := range keys {
		if keys[i], err = tx.GenerateKey(tx.Ed25519, rand.Reader); err != nil {
			return nil, nil, nil, err
		}
		next := make([]byte, 32)
		rand.Read(next)
		c := &identity.Create{Keys: []identity.KeySpec{{PublicKey: keys[i].Public(),
			Relationships: []string{identity.Authentication, identity.CapabilityInvocation}}}, Next: next}
		raw, err := sign("create", identity.Name, c, keys[i:i+1], 0)
		if err != nil {
			return nil, nil, nil, err
		}
		setup, dids[i] = append(setup, raw), c.DID()
	}
	t := &consent.Terms{
		Subject:    consent.Actor{DID: dids[0]},
		Controller: consent.Actor{DID: dids[1]},
		Items:      []consent.SaltedItem{{Item: consent.Item{Type: "dpv-pd:Income", Value: "52000 EUR"}}},
		Rules: []consent.SaltedRule{
			{Rule: consent.Rule{Event: consent.EventUse, Purposes: []string{"dpv:Marketing"}, Action: consent.ActDeny}},
			{Rule: consent.Rule{Event: consent.EventUse, Purposes: []string{"dpv:CreditChecking"}, Action: consent.ActAllow}},
		},
	}
	if err := t.Seal(rand.Reader); err != nil {
		return nil, nil, nil, err
	}
	raw, err := sign("create", consent.Name, t.Create(), keys[:], 1, 1)
	if err != nil {
		return nil, nil, nil, err
	}
	setup = append(setup, raw)
	use, _ := t.Use(consent.Request{Event: consent.EventUse, Purpose: "dpv:CreditChecking"}, []uint32{0}, nil, time.Now().UnixMilli())
	for i := range n {
		raw, err := sign("use", consent.Name, use, keys[1:], uint64(2+i))
		if err != nil {
			return nil, nil, nil, err
		}
		run = append(run, raw)
	}
	return t, setup, run, nil
}
