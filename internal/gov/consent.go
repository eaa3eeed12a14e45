package gov

import (
	"fmt"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// A body acts over time through the ledger's pending actions: one member
// posts a message to be executed as the body, the others approve it from
// their own machines, and the approval that meets the body's rule — k of
// its n members, member bodies each by their own rule — executes it with
// the approvers as signers (ledger.Consenter).

// Consent implements ledger.Consenter: keys stand against body
// principal's rule as the signers of one transaction would.
func (Module) Consent(kv *ledger.KV, principal string, keys []tx.PublicKey) (ledger.Consent, error) {
	s := newMachine(&ledger.Context{KV: kv, Signers: keys})
	b, err := s.body(principal)
	if err != nil {
		return ledger.Consent{}, err
	}
	c := ledger.Consent{Members: make([]bool, len(keys))}
	for i, k := range keys {
		name, err := findKey(kv, b, k, 1)
		if err != nil {
			return ledger.Consent{}, err
		}
		c.Members[i] = name != ""
	}
	n, err := s.signed(b, 1)
	if err != nil {
		return ledger.Consent{}, err
	}
	c.Met = n >= int(b.Threshold)
	return c, nil
}

// setMembers is a community changing its own members and rule by its own
// rule. Its kind, its seats and its existence stay the Community's, which
// change them only by a ratified change (gov.set_body, gov.set_bylaws).
func (s *machine) setMembers(m *SetMembers) error {
	b, err := s.actAs(m.As, Direct, Indirect)
	if err != nil {
		return err
	}
	for _, mb := range m.Members {
		if mb.Body == "" {
			continue
		}
		if _, err := s.body(mb.Body); err != nil {
			return fmt.Errorf("member %s: %w", mb.Name, err)
		}
		in, err := s.contains(mb.Body, b.ID, 1)
		if err != nil {
			return err
		}
		if in {
			return fmt.Errorf("%w: %s cannot take %s as a member: %s is already a member of %s, at some depth", ledger.ErrInvalid, b.ID, mb.Body, b.ID, mb.Body)
		}
	}
	b.Members, b.Threshold, b.Policy = m.Members, m.Threshold, m.Policy
	s.ctx.Emit("members", ledger.Attr{Key: "body", Value: b.ID},
		ledger.Attr{Key: "rule", Value: fmt.Sprintf("%d of %d", b.Threshold, len(b.Members))})
	return s.put(bodyKey(b.ID), b)
}

// contains reports whether body id has member body target, directly or
// through member bodies nested up to MaxNesting deep.
func (s *machine) contains(id, target string, depth int) (bool, error) {
	if depth > MaxNesting {
		return false, nil
	}
	b, err := s.body(id)
	if errorsIsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, m := range b.Members {
		if m.Body == "" {
			continue
		}
		if m.Body == target {
			return true, nil
		}
		if in, err := s.contains(m.Body, target, depth+1); in || err != nil {
			return in, err
		}
	}
	return false, nil
}

// aboutEmergency is what a consulted community's advice to the emergency
// officer is about until an emergency action names it.
const aboutEmergency = "emergency"

// consultation takes the advice the consulted community gave (advise,
// about "emergency") for the emergency subject: the advice must be that
// community's own, and serves one emergency.
func (s *machine) consultation(consulted, advice, subject string) (string, error) {
	d, err := s.document(advice)
	if err != nil {
		return "", err
	}
	if d.Kind != DocAdvice || d.Author != consulted {
		return "", fmt.Errorf("%w: document %s (%s, by %s) is not advice given by %s; the consulted community gives its advice itself ('advise --about emergency')",
			ledger.ErrUnauthorized, advice, d.Kind, d.Author, consulted)
	}
	if d.Subject != aboutEmergency {
		return "", fmt.Errorf("%w: advice %s is about %s, not a pending emergency consultation", ledger.ErrConflict, advice, d.Subject)
	}
	d.Subject = subject
	return advice, s.put(docKey(advice), d)
}
