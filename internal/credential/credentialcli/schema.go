package credentialcli

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/agora-ledger/agora/internal/sdjwt"
)

// checkSchema checks the disclosed top-level claims against a type's JSON
// Schema, in the subset a selectively disclosed credential allows: each
// disclosed claim's "type" and "enum" under "properties", and
// "additionalProperties": false. "required" is not checked: a holder may
// withhold any claim.
func checkSchema(schema string, disclosed []sdjwt.DisclosedClaim) error {
	if schema == "" {
		return nil
	}
	var s struct {
		Properties map[string]struct {
			Type any   `json:"type"`
			Enum []any `json:"enum"`
		} `json:"properties"`
		AdditionalProperties *bool `json:"additionalProperties"`
	}
	if err := json.Unmarshal([]byte(schema), &s); err != nil {
		return fmt.Errorf("the type's schema: %v", err)
	}
	for _, d := range disclosed {
		name, ok := claimName(d.Path)
		if !ok {
			continue
		}
		p, ok := s.Properties[name]
		if !ok {
			if s.AdditionalProperties != nil && !*s.AdditionalProperties {
				return fmt.Errorf("claim %q is not in the schema", name)
			}
			continue
		}
		v := d.Disclosure.Value
		if p.Type != nil && !typeMatches(p.Type, v) {
			return fmt.Errorf("claim %q is %s, the schema wants %v", name, jsonType(v), p.Type)
		}
		if p.Enum != nil && !slices.ContainsFunc(p.Enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
			return fmt.Errorf("claim %q is %v, not one of %v", name, v, p.Enum)
		}
	}
	return nil
}

// typeMatches reports whether v has JSON Schema type t (a name or a list).
func typeMatches(t, v any) bool {
	switch t := t.(type) {
	case string:
		got := jsonType(v)
		return got == t || t == "number" && got == "integer"
	case []any:
		return slices.ContainsFunc(t, func(x any) bool { return typeMatches(x, v) })
	}
	return false
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case float64:
		return "number"
	case []any:
		return "array"
	}
	return "object"
}
