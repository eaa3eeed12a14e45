package consent

import (
	"fmt"
	"io"
)

// Terms are what the subject and the controller hold off the ledger: the
// plain DIDs, items and policy with the nonce and salts that make the
// contract's fingerprints and rule roots. The ledger never sees the
// items; it sees a DID when its holder acts, and of a rule only the slots
// a use opens.
type Terms struct {
	Nonce      []byte       `json:"nonce,omitempty"`
	Subject    Actor        `json:"subject"`
	Controller Actor        `json:"controller"`
	Items      []SaltedItem `json:"items"`
	Rules      []SaltedRule `json:"rules"`
	Expires    int64        `json:"expires,omitempty"` // Unix ms
}

// SaltedItem is an item with its salt.
type SaltedItem struct {
	Item
	Salt []byte `json:"salt,omitempty"`
}

// SaltedRule is a rule with its salt, from which the salt of each slot
// and entry of its tree is derived.
type SaltedRule struct {
	Rule
	Salt []byte `json:"salt,omitempty"`
}

// Seal draws the nonce and every missing salt (MaxSalt bytes) from rand,
// the caller's randomness.
func (t *Terms) Seal(rand io.Reader) error {
	draw := func(b *[]byte) error {
		if len(*b) > 0 {
			return nil
		}
		*b = make([]byte, MaxSalt)
		_, err := io.ReadFull(rand, *b)
		return err
	}
	bs := []*[]byte{&t.Nonce, &t.Subject.Salt, &t.Controller.Salt}
	for i := range t.Items {
		bs = append(bs, &t.Items[i].Salt)
	}
	for i := range t.Rules {
		bs = append(bs, &t.Rules[i].Salt)
	}
	for _, b := range bs {
		if err := draw(b); err != nil {
			return fmt.Errorf("consent: drawing salts: %w", err)
		}
	}
	return nil
}

// Create returns the contract's create message, which the subject and
// the controller sign.
func (t *Terms) Create() *Create {
	c := t.child()
	c.SubjectDID, c.ControllerDID = &t.Subject, &t.Controller
	return c
}

// child returns the create message without the parties' DIDs: a
// transfer's child.
func (t *Terms) child() *Create {
	c := &Create{Nonce: t.Nonce, Subject: t.Subject.Fingerprint(), Controller: t.Controller.Fingerprint(), Expires: t.Expires}
	for i := range t.Items {
		c.Items = append(c.Items, Fingerprint(TagItem, t.Items[i].Salt, &t.Items[i].Item))
	}
	for i := range t.Rules {
		c.Rules = append(c.Rules, t.Rules[i].Root(t.Rules[i].Salt))
	}
	return c
}

// ID returns the contract's id.
func (t *Terms) ID() string { return ContractID(t.Nonce) }

// Use returns the use message asking for req on the items, with the
// proof of the policy's decision at now (Unix ms; the block's time is the
// one the ledger decides at) given the contract's counts (Contract.Counts,
// nil before any use), and the decision it proves.
func (t *Terms) Use(req Request, items []uint32, counts []uint32, now int64) (*Use, Decision) {
	p, d := Prove(t.Rules, counts, req, now)
	return &Use{Contract: t.ID(), Controller: t.Controller, Event: req.Event, Items: items,
		Purpose: req.Purpose, Recipient: req.Recipient, Place: req.Place, Proof: *p}, d
}

// Derive returns the child's terms for a transfer of items to the
// processor under policy rules (salts from rand): the same subject, the
// transferred items with their salts, the processor as controller.
func (t *Terms) Derive(items []uint32, processor Actor, rules []SaltedRule, expires int64, rand io.Reader) (*Terms, error) {
	ch := &Terms{Subject: t.Subject, Controller: processor, Rules: rules, Expires: expires}
	for _, i := range items {
		if int(i) >= len(t.Items) {
			return nil, fmt.Errorf("consent: item %d: the terms hold %d items", i, len(t.Items))
		}
		ch.Items = append(ch.Items, t.Items[i])
	}
	if err := ch.Seal(rand); err != nil {
		return nil, err
	}
	return ch, nil
}

// Transfer returns the transfer message deriving child from t, with the
// proof of the decision at now given counts (as Use).
func (t *Terms) Transfer(req Request, items []uint32, child *Terms, counts []uint32, now int64) (*Transfer, Decision) {
	req.Event = EventTransfer
	u, d := t.Use(req, items, counts, now)
	return &Transfer{Use: *u, Processor: child.Controller, Child: *child.child()}, d
}

// Revoke returns the subject's revoke message for t.
func (t *Terms) Revoke() *Revoke { return &Revoke{Contract: t.ID(), Subject: t.Subject} }
