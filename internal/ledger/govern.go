package ledger

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/tx"
)

// GovernanceModule is the name of the one module whose decisions may
// change the governed resources of the ledger and of other modules
// (Context.Enact): the multi-stakeholder process of package gov.
const GovernanceModule = "gov"

// Action is one typed, executable change to a governed resource: a
// message of type Type for the module Target ("ledger" for the ledger's
// own parameters and validator set), its body in canonical CBOR.
type Action struct {
	Target string `cbor:"1,keyasint" json:"target"`
	Type   string `cbor:"2,keyasint" json:"type"`
	Body   []byte `cbor:"3,keyasint" json:"body"`
}

// Name returns "<target>.<type>", the action's name in the CLI and docs.
func (a *Action) Name() string { return a.Target + "." + a.Type }

// Governed is implemented by a module with resources that change only by
// ratified governance decisions (or an emergency action), never by a
// transaction of its own.
type Governed interface {
	// ActionTypes lists the action types the module executes.
	ActionTypes() []ActionType
	// ExecuteAction applies a decoded, statically valid action body.
	// The caller (governance) has authorised it; ExecuteAction checks
	// only that it applies to the current state. ctx.Signers are the
	// signers of the transaction that triggered it, or none when it falls
	// due at a block time.
	ExecuteAction(ctx *Context, typ string, body Msg) error
}

// ActionType describes one action type of a governed module: a name, a
// summary and a zero body, as a module's message types are described.
type ActionType = MsgType

// Actions is the set of action types a ledger's modules accept, keyed by
// "<target>.<type>". It decodes action bodies from CBOR for execution and
// display and from JSON for clients that build them.
type Actions struct {
	types map[string]ActionType
	names []string
}

// NewActions returns the ledger's own action types and those of every
// module in mods that is Governed.
func NewActions(mods ...Module) *Actions {
	a := &Actions{types: map[string]ActionType{}}
	add := func(target string, ts []ActionType) {
		for _, t := range ts {
			n := target + "." + t.Name
			a.types[n] = t
			a.names = append(a.names, n)
		}
	}
	add(Namespace, ledgerActions)
	for _, m := range mods {
		if g, ok := m.(Governed); ok {
			add(m.Name(), g.ActionTypes())
		}
	}
	sort.Strings(a.names)
	return a
}

// Names lists every action name, sorted.
func (a *Actions) Names() []string { return a.names }

// Type returns the action type named "<target>.<type>".
func (a *Actions) Type(name string) (ActionType, bool) {
	t, ok := a.types[name]
	return t, ok
}

// Decode strictly decodes and validates an action's body.
func (a *Actions) Decode(act *Action) (Msg, error) {
	t, ok := a.types[act.Name()]
	if !ok {
		return nil, fmt.Errorf("%w: no action %q", ErrInvalid, act.Name())
	}
	v := t.New()
	if err := tx.Unmarshal(act.Body, v); err != nil {
		return nil, fmt.Errorf("%w: action %s: %v", ErrInvalid, act.Name(), err)
	}
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("action %s: %w", act.Name(), err)
	}
	return v, nil
}

// FromJSON builds the action name ("<target>.<type>") with the body given
// as JSON, decoded strictly (unknown fields are errors) and validated.
func (a *Actions) FromJSON(name string, body []byte) (Action, error) {
	t, ok := a.types[name]
	if !ok {
		return Action{}, fmt.Errorf("%w: no action %q (have %s)", ErrInvalid, name, strings.Join(a.names, ", "))
	}
	v := t.New()
	if err := decodeJSON(body, v); err != nil {
		return Action{}, fmt.Errorf("%w: action %s: %v", ErrInvalid, name, err)
	}
	if err := v.Validate(); err != nil {
		return Action{}, fmt.Errorf("action %s: %w", name, err)
	}
	b, err := tx.Marshal(v)
	if err != nil {
		return Action{}, err
	}
	target, typ, _ := strings.Cut(name, ".")
	return Action{Target: target, Type: typ, Body: b}, nil
}

// JSON returns the action with its body decoded, for display; a body that
// no longer decodes is shown as hex with the reason.
func (a *Actions) JSON(act *Action) ActionJSON {
	out := ActionJSON{Action: act.Name()}
	v, err := a.Decode(act)
	if err != nil {
		out.Error = err.Error()
		out.Raw = hex.EncodeToString(act.Body)
		return out
	}
	out.Body = v
	return out
}

// ActionJSON is an action as the API shows it.
type ActionJSON struct {
	Action string `json:"action"`
	Body   any    `json:"body,omitempty"`
	Raw    string `json:"raw,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Change is one state write an enacted action made: the full state key,
// its value before (nil: absent) and after (nil: deleted).
type Change struct {
	Key []byte `cbor:"1,keyasint" json:"key"`
	Old []byte `cbor:"2,keyasint,omitempty" json:"old,omitempty"`
	New []byte `cbor:"3,keyasint,omitempty" json:"new,omitempty"`
}

// Enact executes actions in order, atomically: either every one succeeds
// and their writes join this transaction's, or none does and the error
// names the first that failed and why. It returns every state key the
// actions changed with its values before and after, which Revert takes to
// undo them. Only the governance module may enact.
func (c *Context) Enact(actions []Action) ([]Change, error) {
	if c.module != GovernanceModule || c.exec == nil {
		return nil, fmt.Errorf("%w: only %s enacts actions", ErrUnauthorized, GovernanceModule)
	}
	sub := newOverlay(c.o)
	var events []Event
	for i := range actions {
		act := &actions[i]
		msg, err := c.exec.actions.Decode(act)
		if err != nil {
			return nil, fmt.Errorf("action %d (%s): %w", i+1, act.Name(), err)
		}
		actx := &Context{Block: c.Block, TxID: c.TxID, Signers: c.Signers,
			KV: &KV{o: sub, prefix: []byte(act.Target + "/")}, o: sub, module: act.Target, exec: c.exec}
		if act.Target == Namespace {
			err = executeLedgerAction(actx, act.Type, msg)
		} else {
			err = c.exec.mods[act.Target].(Governed).ExecuteAction(actx, act.Type, msg)
		}
		if err != nil {
			return nil, fmt.Errorf("action %d (%s): %w", i+1, act.Name(), err)
		}
		for _, e := range actx.events {
			e.Module = act.Target
			events = append(events, e)
		}
	}
	changes := make([]Change, 0, len(sub.writes))
	for _, w := range sub.sorted() {
		old, _, err := c.o.Get(w.Key)
		if err != nil {
			return nil, err
		}
		changes = append(changes, Change{Key: w.Key, Old: old, New: w.Value})
	}
	sub.mergeInto(c.o)
	c.events = append(c.events, events...)
	return changes, nil
}

// CheckActions decodes and statically validates actions, as Enact will
// before executing them, so that a process can refuse a bad action when it
// is proposed rather than when it falls due.
func (c *Context) CheckActions(actions []Action) error {
	if c.exec == nil {
		return fmt.Errorf("%w: no executor", ErrInvalid)
	}
	for i := range actions {
		if _, err := c.exec.actions.Decode(&actions[i]); err != nil {
			return fmt.Errorf("action %d (%s): %w", i+1, actions[i].Name(), err)
		}
	}
	return nil
}

// Revert undoes changes that Enact returned: each key still holding the
// value the actions wrote gets its old value back. Keys changed since are
// left as they are and returned, so that the caller can record them.
// Only the governance module may revert.
func (c *Context) Revert(changes []Change) (kept [][]byte, err error) {
	if c.module != GovernanceModule {
		return nil, fmt.Errorf("%w: only %s reverts actions", ErrUnauthorized, GovernanceModule)
	}
	for _, ch := range changes {
		cur, _, err := c.o.Get(ch.Key)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(cur, ch.New) {
			kept = append(kept, ch.Key)
			continue
		}
		c.o.set(ch.Key, ch.Old)
	}
	return kept, nil
}

// The ledger's own governed resources: its parameters and, for a network
// of validators, the validator set.

var ledgerActions = []ActionType{
	{Name: "set_params", Summary: "replace the ledger parameters (block limits, the free quota for keys without standing)", New: func() Msg { return new(Params) }},
	{Name: "set_validator", Summary: "add a validator, change its power, or remove it with power 0", New: func() Msg { return new(Validator) }},
}

func executeLedgerAction(ctx *Context, typ string, msg Msg) error {
	switch typ {
	case "set_params":
		return ctx.KV.SetValue([]byte("params"), msg.(*Params))
	case "set_validator":
		v := msg.(*Validator)
		k := []byte(validatorPrefix + hex.EncodeToString(v.PubKey))
		ok, err := ctx.KV.GetValue(k, new(Validator))
		if err != nil {
			return err
		}
		if v.Power == 0 {
			if !ok {
				return fmt.Errorf("%w: no validator %x to remove", ErrNotFound, v.PubKey)
			}
			ctx.KV.Delete(k)
			if err := checkValidatorSet(ctx.KV); err != nil {
				return err
			}
			ctx.Emit("validator_removed", Attr{"pub_key", hex.EncodeToString(v.PubKey)})
			return nil
		}
		if err := ctx.KV.SetValue(k, v); err != nil {
			return err
		}
		ctx.Emit("validator_set", Attr{"pub_key", hex.EncodeToString(v.PubKey)}, Attr{"power", fmt.Sprint(v.Power)})
		return nil
	}
	return fmt.Errorf("%w: ledger action %q", ErrUnknownType, typ)
}

// checkValidatorSet refuses to leave a network that has validators with
// none: removing the last one would halt it for good.
func checkValidatorSet(kv *KV) error {
	found := false
	err := kv.Iterate([]byte(validatorPrefix), func(_, _ []byte) (bool, error) {
		found = true
		return false, nil
	})
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%w: removing the last validator would halt the network", ErrInvalid)
	}
	return nil
}

// validatorPrefix is where validators live in the ledger's namespace:
// "ledger/val/<hex public key>".
const validatorPrefix = "val/"

// MaxValidatorPower bounds one validator's voting power, keeping the total
// well inside CometBFT's limit (MaxInt64/8).
const MaxValidatorPower = 1 << 40

// Validator is a member of the validator set of a network of validators
// (package cometbft). The embedded node has none.
type Validator struct {
	// Name is a label for people: the organisation that runs it.
	Name string `cbor:"1,keyasint" json:"name"`
	// PubKey is the validator's Ed25519 consensus key (32 bytes; base64 in
	// JSON, as in CometBFT's genesis).
	PubKey []byte `cbor:"2,keyasint" json:"pub_key"`
	// Power is its voting power; in an action, 0 removes it.
	Power uint64 `cbor:"3,keyasint" json:"power"`
	// NoteKey is the signed-note verifier key with which its checkpoint
	// signatures verify.
	NoteKey string `cbor:"4,keyasint,omitempty" json:"note_key,omitempty"`
}

// Validate implements Msg.
func (v *Validator) Validate() error {
	if len(v.PubKey) != 32 {
		return fmt.Errorf("%w: validator key is %d bytes, want a 32-byte Ed25519 key", ErrInvalid, len(v.PubKey))
	}
	if err := (tx.PublicKey{Alg: tx.Ed25519, Key: v.PubKey}).Check(); err != nil {
		// A small-order consensus key would let anyone sign its votes.
		return fmt.Errorf("%w: validator key: %v", ErrInvalid, err)
	}
	if v.Name == "" || len(v.Name) > 64 || strings.ContainsFunc(v.Name, unicode.IsControl) {
		return fmt.Errorf("%w: validator name must be 1 to 64 printable characters", ErrInvalid)
	}
	if v.Power > MaxValidatorPower {
		return fmt.Errorf("%w: validator power %d above %d", ErrInvalid, v.Power, uint64(MaxValidatorPower))
	}
	if v.NoteKey != "" {
		if _, err := tlog.NewVerifier(v.NoteKey); err != nil {
			return fmt.Errorf("%w: validator note key: %v", ErrInvalid, err)
		}
	}
	return nil
}

// Validators returns the validator set in state, ordered by public key.
func Validators(r StateReader) ([]Validator, error) {
	start := []byte(Namespace + "/" + validatorPrefix)
	return collectValidators(func(fn func(k, v []byte) (bool, error)) error {
		return r.Iterate(start, prefixEnd(start), fn)
	})
}

// collectValidators decodes the validators iterate yields.
func collectValidators(iterate func(fn func(k, v []byte) (bool, error)) error) ([]Validator, error) {
	out := []Validator{}
	err := iterate(func(_, v []byte) (bool, error) {
		var val Validator
		if err := tx.Unmarshal(v, &val); err != nil {
			return false, fmt.Errorf("%w: validator: %v", ErrStorage, err)
		}
		out = append(out, val)
		return true, nil
	})
	return out, err
}

// validatorUpdates lists the validators a block's writes changed, in key
// order; a removed one has power 0.
func validatorUpdates(writes []Write) ([]Validator, error) {
	prefix := []byte(Namespace + "/" + validatorPrefix)
	var out []Validator
	for _, w := range writes {
		if !bytes.HasPrefix(w.Key, prefix) {
			continue
		}
		if w.Value == nil {
			pk, err := hex.DecodeString(string(w.Key[len(prefix):]))
			if err != nil {
				return nil, fmt.Errorf("%w: validator key %q", ErrStorage, w.Key)
			}
			out = append(out, Validator{PubKey: pk})
			continue
		}
		var v Validator
		if err := tx.Unmarshal(w.Value, &v); err != nil {
			return nil, fmt.Errorf("%w: validator: %v", ErrStorage, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// Queries are the ledger's own read-only questions, answered from its
// namespace: the parameters and the validator set, both governed.
func Queries() []Query {
	return append([]Query{
		{Name: "params", Pattern: "GET /v1/ledger/params", Summary: "The ledger parameters in force (changed only by ratified governance).",
			Run: func(kv *KV, _ func(string) string) (any, error) {
				var p Params
				ok, err := kv.GetValue([]byte("params"), &p)
				if err == nil && !ok {
					err = fmt.Errorf("%w: no ledger params in state", ErrStorage)
				}
				if err != nil {
					return nil, err
				}
				return &p, nil
			}, Answer: Params{}},
		{Name: "validators", Pattern: "GET /v1/ledger/validators", Summary: "The validator set of a network of validators (empty for the embedded node).",
			Run: func(kv *KV, _ func(string) string) (any, error) {
				return collectValidators(func(fn func(k, v []byte) (bool, error)) error {
					return kv.Iterate([]byte(validatorPrefix), fn)
				})
			}, Answer: []Validator{}},
	}, append(pendingQueries(), scheduleQueries()...)...)
}
