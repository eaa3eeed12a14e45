package identity

import (
	"fmt"

	"github.com/agora-ledger/agora/internal/ledger"
)

// Params are the identity module's governed parameters: the shortest
// delays a holder may give their guardians and the controller key's
// changes. A holder picks longer ones, never shorter: only a ratified
// governance change (action identity.set_params) changes them.
//
// Evolution: fields are numbered; new fields take new numbers, and a
// state without them reads them as their defaults.
type Params struct {
	// MinRecoveryDelay is the shortest wait, in seconds, between a
	// guardians' recovery and its completion: set-guardians refuses a
	// shorter delay, and a recovery waits at least this whatever the
	// DID's delay.
	MinRecoveryDelay uint64 `cbor:"1,keyasint" json:"min_recovery_delay"`
	// MinChangeDelay is how long, in seconds, a change of guardians or a
	// deactivation that the controller signs alone waits before it may
	// be completed, and how long a controller must have been in place
	// before it and the committed next key make one at once.
	MinChangeDelay uint64 `cbor:"2,keyasint" json:"min_change_delay"`
}

// DefaultParams are the parameters of a ledger whose genesis names none:
// one second each, so that a development ledger's flows run in seconds.
// A production genesis (or governance) sets days.
func DefaultParams() Params { return Params{MinRecoveryDelay: 1, MinChangeDelay: 1} }

// Validate implements ledger.Msg.
func (p *Params) Validate() error {
	for _, f := range []struct {
		name string
		v    uint64
	}{{"min_recovery_delay", p.MinRecoveryDelay}, {"min_change_delay", p.MinChangeDelay}} {
		if f.v < MinRecoveryDelay || f.v > MaxRecoveryDelay {
			return fmt.Errorf("%w: identity params: %s must be from %d to %d seconds, not %d", ledger.ErrInvalid, f.name, MinRecoveryDelay, MaxRecoveryDelay, f.v)
		}
	}
	return nil
}

var paramsKey = []byte("params")

// LoadParams returns the parameters in force: those in state, or
// DefaultParams if none were set. One point read, so a proof covers it.
func LoadParams(kv *ledger.KV) (Params, error) {
	var p Params
	found, err := kv.GetValue(paramsKey, &p)
	if err != nil || !found {
		return DefaultParams(), err
	}
	return p, nil
}

// ActionTypes implements ledger.Governed: the identity module's governed
// parameters.
func (Module) ActionTypes() []ledger.ActionType {
	return []ledger.ActionType{
		{Name: "set_params", Summary: "replace the identity parameters: the shortest recovery delay and change delay, in seconds", New: func() ledger.Msg { return new(Params) }},
	}
}

// ExecuteAction implements ledger.Governed.
func (Module) ExecuteAction(ctx *ledger.Context, typ string, body ledger.Msg) error {
	if typ != "set_params" {
		return fmt.Errorf("%w: identity action %q", ledger.ErrUnknownType, typ)
	}
	p := body.(*Params)
	ctx.Emit("params", ledger.Attr{Key: "min_recovery_delay", Value: fmt.Sprint(p.MinRecoveryDelay)},
		ledger.Attr{Key: "min_change_delay", Value: fmt.Sprint(p.MinChangeDelay)})
	return ctx.KV.SetValue(paramsKey, p)
}

// paramsQuery answers the parameters in force.
var paramsQuery = ledger.Query{
	Name:    "params",
	Pattern: "GET /v1/identity/params",
	Summary: "The identity parameters in force: the shortest recovery delay and change delay, in seconds (changed only by ratified governance); with proof=1, proven.",
	Run: func(kv *ledger.KV, _ func(string) string) (any, error) {
		p, err := LoadParams(kv)
		if err != nil {
			return nil, err
		}
		return &p, nil
	},
	Answer: Params{},
}
