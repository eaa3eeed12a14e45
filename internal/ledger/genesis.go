package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ParseGenesis decodes a genesis file strictly: unknown fields are errors.
// Module sections are checked by the modules when the genesis is loaded.
func ParseGenesis(b []byte) (*Genesis, error) {
	var g Genesis
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("genesis: trailing data")
	}
	if g.Time.IsZero() {
		return nil, fmt.Errorf("genesis: genesis_time is required")
	}
	if err := g.Params.Validate(); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	return &g, nil
}

// Encode returns the genesis as indented JSON.
func (g *Genesis) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
