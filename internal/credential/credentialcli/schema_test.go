package credentialcli

import (
	"testing"

	"github.com/agora-ledger/agora/internal/sdjwt"
)

// TestCheckSchema checks disclosed claims against a type's schema: a
// claim of the wrong type, outside an enum or not in a closed schema is
// refused; a withheld claim is not missing.
func TestCheckSchema(t *testing.T) {
	const schema = `{"type":"object","properties":{"age_over_18":{"type":"boolean"},"country":{"type":"string","enum":["JP","KR"]},"score":{"type":"integer"}},"required":["age_over_18"],"additionalProperties":false}`
	claim := func(name string, v any) sdjwt.DisclosedClaim {
		return sdjwt.DisclosedClaim{Path: []any{name}, Disclosure: sdjwt.Disclosure{Name: name, Value: v}}
	}
	for _, tt := range []struct {
		name   string
		claims []sdjwt.DisclosedClaim
		ok     bool
	}{
		{"as the schema says", []sdjwt.DisclosedClaim{claim("age_over_18", true), claim("country", "JP")}, true},
		{"the required claim withheld", []sdjwt.DisclosedClaim{claim("country", "KR")}, true},
		{"wrong type", []sdjwt.DisclosedClaim{claim("age_over_18", "yes")}, false},
		{"outside the enum", []sdjwt.DisclosedClaim{claim("country", "FR")}, false},
		{"not in the schema", []sdjwt.DisclosedClaim{claim("passport", "X1")}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkSchema(schema, tt.claims); (err == nil) != tt.ok {
				t.Fatalf("checkSchema = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
