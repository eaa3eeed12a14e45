package notary

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

func TestAnchorValidate(t *testing.T) {
	sum := bytes.Repeat([]byte{7}, 32)
	tests := []struct {
		name string
		a    Anchor
		ok   bool
	}{
		{name: "plain", a: Anchor{SHA256: sum, MediaType: "application/pdf"}, ok: true},
		{name: "with description", a: Anchor{SHA256: sum, MediaType: "text/plain", Description: "lease\nsigned"}, ok: true},
		{name: "vendor type", a: Anchor{SHA256: sum, MediaType: "application/vnd.oasis.opendocument.text"}, ok: true},
		{name: "short digest", a: Anchor{SHA256: sum[:31], MediaType: "text/plain"}},
		{name: "long digest", a: Anchor{SHA256: append(sum, 0), MediaType: "text/plain"}},
		{name: "no media type", a: Anchor{SHA256: sum}},
		{name: "upper-case media type", a: Anchor{SHA256: sum, MediaType: "Text/Plain"}},
		{name: "media type with parameters", a: Anchor{SHA256: sum, MediaType: "text/plain; charset=utf-8"}},
		{name: "no subtype", a: Anchor{SHA256: sum, MediaType: "text"}},
		{name: "description too long", a: Anchor{SHA256: sum, MediaType: "text/plain", Description: strings.Repeat("a", MaxDescription+1)}},
		{name: "control character", a: Anchor{SHA256: sum, MediaType: "text/plain", Description: "a\x07b"}},
		{name: "invalid UTF-8", a: Anchor{SHA256: sum, MediaType: "text/plain", Description: "a\xffb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.a.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, ledger.ErrInvalid) {
				t.Fatalf("Validate() = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestDecodeRefusals(t *testing.T) {
	good, err := tx.Marshal(&Anchor{SHA256: bytes.Repeat([]byte{1}, 32), MediaType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (Module{}).Decode("anchor", good); err != nil {
		t.Fatalf("Decode(good) = %v", err)
	}
	if _, err := (Module{}).Decode("revoke", good); !errors.Is(err, ledger.ErrUnknownType) {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := (Module{}).Decode("anchor", append(good, 0)); !errors.Is(err, tx.ErrMalformed) {
		t.Errorf("trailing byte: %v", err)
	}
}

func TestPolicyGenesis(t *testing.T) {
	tests := []struct {
		name, raw string
		ok        bool
	}{
		{name: "none", raw: "", ok: true},
		{name: "open", raw: `{"policy":{"mode":"open"}}`, ok: true},
		{name: "allowlist", raw: `{"policy":{"mode":"allowlist","allowed":["668d08be0461756434dd97c0075b3b03a615536a"]}}`, ok: true},
		{name: "unknown mode", raw: `{"policy":{"mode":"closed"}}`},
		{name: "open with a list", raw: `{"policy":{"mode":"open","allowed":["668d08be0461756434dd97c0075b3b03a615536a"]}}`},
		{name: "bad address", raw: `{"policy":{"mode":"allowlist","allowed":["xyz"]}}`},
		{name: "unknown field", raw: `{"policy":{"mode":"open"},"extra":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := ledgertest.Genesis(nil)
			if tt.raw != "" {
				g.Modules = map[string]json.RawMessage{Name: json.RawMessage(tt.raw)}
			}
			e, err := ledger.NewExecutor(g.ChainID, Module{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = ledgertest.StartChain(t, e, g)
			if tt.ok != (err == nil) {
				t.Fatalf("InitGenesis(%s) = %v, want ok=%v", tt.raw, err, tt.ok)
			}
		})
	}
}

// FuzzDecode checks that the anchor decoder never panics and accepts only
// canonical encodings of valid anchors.
func FuzzDecode(f *testing.F) {
	for _, a := range []Anchor{
		{SHA256: bytes.Repeat([]byte{1}, 32), MediaType: "text/plain"},
		{SHA256: bytes.Repeat([]byte{2}, 32), MediaType: "application/pdf", Description: "signed lease"},
	} {
		b, err := tx.Marshal(&a)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ledgertest.Decoded(t, Module{}, "anchor", body)
	})
}
