package asset

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// AssetJSON is an asset as the API answers it, with its rules.
type AssetJSON struct {
	ID          string     `json:"id"`
	Description string     `json:"description,omitempty"`
	Owner       string     `json:"owner"`
	Place       PointJSON  `json:"place"`
	Metadata    []Meta     `json:"metadata,omitempty"`
	Rules       []RuleJSON `json:"rules"`
	Events      uint64     `json:"events"`
	// Disputed is the trigger under dispute, if one is: the asset is
	// frozen until governance decides.
	Disputed   uint64    `json:"disputed,omitempty"`
	Registered time.Time `json:"registered"`
	Height     uint64    `json:"height"`
	TxHash     tx.ID     `json:"tx_hash"`
}

// PointJSON is a place in micro-degrees and in decimal degrees.
type PointJSON struct {
	Lat     int64  `json:"lat"`
	Lon     int64  `json:"lon"`
	Degrees string `json:"degrees"`
}

func pointJSON(p Point) PointJSON { return PointJSON{Lat: p.Lat, Lon: p.Lon, Degrees: p.String()} }

// RuleJSON is a rule as the API answers it.
type RuleJSON struct {
	Asset         string    `json:"asset"`
	N             uint64    `json:"n"`
	SetBy         string    `json:"set_by"`
	Type          string    `json:"type"`
	Center        PointJSON `json:"center"`
	Radius        uint32    `json:"radius_m"`
	From          time.Time `json:"from"`
	Until         time.Time `json:"until"`
	MinValue      int64     `json:"min_value"`
	Providers     []string  `json:"providers"`
	Threshold     uint32    `json:"threshold"`
	TransferTo    string    `json:"transfer_to"`
	DisputeWindow string    `json:"dispute_window"`
	// Status is "live", "fired" or "void" (set by a previous owner).
	Status  string `json:"status"`
	Trigger uint64 `json:"trigger,omitempty"`
	Height  uint64 `json:"height"`
	TxHash  tx.ID  `json:"tx_hash"`
}

// JSON returns the rule's API form; owner is the asset's owner now.
func (r *Rule) JSON(owner string) RuleJSON {
	st := "live"
	switch {
	case r.Trigger != 0:
		st = "fired"
	case r.Owner != owner:
		st = "void"
	}
	return RuleJSON{Asset: r.Asset, N: r.N, SetBy: r.Owner, Type: r.Condition.Type, Center: pointJSON(r.Condition.Center),
		Radius: r.Condition.Radius, From: ms(r.Condition.From), Until: ms(r.Condition.Until), MinValue: r.Condition.MinValue,
		Providers: r.Providers, Threshold: r.Threshold, TransferTo: r.TransferTo,
		DisputeWindow: (time.Duration(r.DisputeWindow) * time.Millisecond).String(), Status: st, Trigger: r.Trigger,
		Height: r.Height, TxHash: r.TxID}
}

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }

// ObservationJSON is an observation as the API answers it.
type ObservationJSON struct {
	Digest string    `json:"digest"`
	Chain  string    `json:"chain"`
	Type   string    `json:"type"`
	Place  PointJSON `json:"place"`
	Time   time.Time `json:"time"`
	Value  int64     `json:"value"`
	Data   string    `json:"data,omitempty"`
}

func observationJSON(o *Observation) ObservationJSON {
	d := o.Digest()
	return ObservationJSON{Digest: hex.EncodeToString(d[:]), Chain: o.Chain, Type: o.Type, Place: pointJSON(o.Place),
		Time: ms(o.Time), Value: o.Value, Data: hex.EncodeToString(o.Data)}
}

// StepJSON is a dispute or decision as the API answers it.
type StepJSON struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	Time   time.Time `json:"time"`
	Height uint64    `json:"height"`
	// TxHash is the transaction that made it; none for a governance
	// decision executed at a block time.
	TxHash tx.ID `json:"tx_hash,omitzero"`
}

func stepJSON(s *Step) *StepJSON {
	if s == nil {
		return nil
	}
	return &StepJSON{By: s.By, Reason: s.Reason, Time: ms(s.Time), Height: s.Height, TxHash: s.TxID}
}

// TriggerJSON is a trigger as the API answers it: the observation, the
// signatures that met the threshold, the transfer, and its fate.
type TriggerJSON struct {
	ID           uint64          `json:"id"`
	Asset        string          `json:"asset"`
	Rule         uint64          `json:"rule"`
	Observation  ObservationJSON `json:"observation"`
	Signatures   []Counted       `json:"signatures"`
	From         string          `json:"from"`
	To           string          `json:"to"`
	Time         time.Time       `json:"time"`
	Height       uint64          `json:"height"`
	TxHash       tx.ID           `json:"tx_hash"`
	DisputeUntil time.Time       `json:"dispute_until"`
	Status       string          `json:"status"`
	Dispute      *StepJSON       `json:"dispute,omitempty"`
	Decision     *StepJSON       `json:"decision,omitempty"`
}

// JSON returns the trigger's API form.
func (t *Trigger) JSON() TriggerJSON {
	return TriggerJSON{ID: t.ID, Asset: t.Asset, Rule: t.Rule, Observation: observationJSON(&t.Observation), Signatures: t.Signatures,
		From: t.From, To: t.To, Time: ms(t.Time), Height: t.Height, TxHash: t.TxID, DisputeUntil: ms(t.DisputeUntil),
		Status: t.Status, Dispute: stepJSON(t.Dispute), Decision: stepJSON(t.Decision)}
}

// EventJSON is a history event as the API answers it.
type EventJSON struct {
	N       uint64    `json:"n"`
	Kind    string    `json:"kind"`
	Owner   string    `json:"owner"`
	Rule    uint64    `json:"rule,omitempty"`
	Trigger uint64    `json:"trigger,omitempty"`
	Time    time.Time `json:"time"`
	Height  uint64    `json:"height"`
	// TxHash is the transaction; none for a governance decision
	// executed at a block time.
	TxHash tx.ID `json:"tx_hash,omitzero"`
}

// ProviderJSON is a data provider's accreditation.
type ProviderJSON struct {
	Name       string        `json:"name"`
	Accredited bool          `json:"accredited"`
	Key        *tx.PublicKey `json:"key,omitempty"`
	Reason     string        `json:"reason,omitempty"`
}

// AssetAnswer reads asset id with its rules, by point reads.
func AssetAnswer(kv *ledger.KV, id string) (*AssetJSON, error) {
	a, err := LookupAsset(kv, id)
	if err != nil {
		return nil, err
	}
	out := &AssetJSON{ID: a.ID, Description: a.Description, Owner: a.Owner, Place: pointJSON(a.Place), Metadata: a.Metadata,
		Rules: []RuleJSON{}, Events: a.Events, Disputed: a.Disputed, Registered: ms(a.Time), Height: a.Height, TxHash: a.TxID}
	for n := uint64(1); n <= a.Rules; n++ {
		r, err := LookupRule(kv, id, n)
		if err != nil {
			return nil, fmt.Errorf("%w: asset %s: %v", ledger.ErrStorage, id, err)
		}
		out.Rules = append(out.Rules, r.JSON(a.Owner))
	}
	return out, nil
}

func parseN(what, s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%w: %s %q is not a number from 1", ledger.ErrInvalid, what, s)
	}
	return n, nil
}

func checkID(id string) error {
	if !validName(id) {
		return fmt.Errorf("%w: asset id %q: use a-z, 0-9, - and . (up to 64)", ledger.ErrInvalid, id)
	}
	return nil
}

// Queries implements ledger.Module.
func (Module) Queries() []ledger.Query {
	return []ledger.Query{{
		Name:    "asset",
		Pattern: "GET /v1/asset/assets/{id}",
		Summary: "An asset: its owner, place, metadata and rules.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			if err := checkID(arg("id")); err != nil {
				return nil, err
			}
			return AssetAnswer(kv, arg("id"))
		},
		Answer: AssetJSON{},
	}, {
		Name:    "history",
		Pattern: "GET /v1/asset/assets/{id}/history",
		Summary: "An asset's history: registration, rules, triggers, disputes and decisions, oldest first.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			if err := checkID(arg("id")); err != nil {
				return nil, err
			}
			evs, err := History(kv, arg("id"))
			if err != nil {
				return nil, err
			}
			out := make([]EventJSON, len(evs))
			for i, e := range evs {
				out[i] = EventJSON{N: e.N, Kind: e.Kind, Owner: e.Owner, Rule: e.Rule, Trigger: e.Trigger, Time: ms(e.Time), Height: e.Height, TxHash: e.TxID}
			}
			return out, nil
		},
		Answer: []EventJSON{},
	}, {
		Name:    "trigger",
		Pattern: "GET /v1/asset/triggers/{n}",
		Summary: "A trigger: the observation, the providers' signatures that met the rule's threshold, the transfer, and any dispute and decision.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			n, err := parseN("trigger", arg("n"))
			if err != nil {
				return nil, err
			}
			t, err := LookupTrigger(kv, n)
			if err != nil {
				return nil, err
			}
			return t.JSON(), nil
		},
		Answer: TriggerJSON{},
	}, {
		Name:    "provider",
		Pattern: "GET /v1/asset/providers/{name}",
		Summary: "Whether a data provider is accredited (an entry of the governance registry oracles), and its key.",
		Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
			name := arg("name")
			if !validName(name) {
				return nil, fmt.Errorf("%w: provider %q", ledger.ErrInvalid, name)
			}
			k, err := providerKey(kv.View(gov.Name), name)
			if err != nil {
				return ProviderJSON{Name: name, Reason: err.Error()}, nil
			}
			return ProviderJSON{Name: name, Accredited: true, Key: &k}, nil
		},
		Answer: ProviderJSON{},
	}}
}
