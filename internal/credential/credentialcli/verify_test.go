package credentialcli

import (
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/agora-ledger/agora/internal/credential"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/sdjwt"
)

// TestJudge gives judge the ledger's answer about a credential with one
// part wrong at a time and checks the step that refuses it and why; the
// answer with nothing wrong passes every step.
func TestJudge(t *testing.T) {
	const iss, other, sub = "did:agora:issuer", "did:agora:other", "did:agora:holder"
	good := func() (*credential.Check, *sdjwt.VC) {
		chk := &credential.Check{
			Issuer:     iss,
			Accredited: &credential.Accredited{DID: iss, Scope: []string{"urn:x:kyc"}, By: "identity"},
			InScope:    true,
			KeyAtIssue: &identity.Standing{DID: iss, KeyID: "key-1", Acts: true},
			KeyNow:     &identity.Standing{DID: iss, KeyID: "key-1", Acts: true},
			Type:       &credential.TypeMetadata{Type: credential.Type{VCT: "urn:x:kyc:v1", Issuer: iss, Version: 1}},
			Status:     &credential.Status{List: "l", Issuer: iss, Status: "valid"},
			Holder:     &identity.Standing{DID: sub, KeyID: "key-0", Acts: true},
		}
		vc := &sdjwt.VC{Verified: &sdjwt.Verified{Header: jose.Header{KeyID: iss + "#key-1"}}, Type: "urn:x:kyc:v1", Issuer: iss,
			Status: &sdjwt.StatusRef{Index: 0, URI: credential.StatusURI("l")}}
		return chk, vc
	}
	for _, tt := range []struct {
		name, step, reason string
		spoil              func(*credential.Check, *sdjwt.VC)
	}{
		{"as it should be", "", "", func(*credential.Check, *sdjwt.VC) {}},
		{"a key that never acted", "issuer key", "not a key", func(c *credential.Check, _ *sdjwt.VC) {
			c.KeyAtIssue = &identity.Standing{DID: iss, Reason: "not a key of " + iss}
		}},
		{"a key compromised since", "issuer key", "but not now: compromised", func(c *credential.Check, _ *sdjwt.VC) {
			c.KeyNow = &identity.Standing{DID: iss, KeyID: "key-1", Compromised: true, Reason: "compromised at T"}
		}},
		{"a kid naming another key", "issuer key", "kid did:agora:issuer#key-2", func(_ *credential.Check, vc *sdjwt.VC) {
			vc.Header.KeyID = iss + "#key-2"
		}},
		{"not accredited", "accreditation", "not an accredited issuer", func(c *credential.Check, _ *sdjwt.VC) {
			c.Accredited, c.InScope = nil, false
		}},
		{"out of scope", "accreditation", "accredited for urn:x:kyc, not", func(c *credential.Check, _ *sdjwt.VC) { c.InScope = false }},
		{"an unregistered type", "type", "not a registered credential type", func(c *credential.Check, _ *sdjwt.VC) { c.Type = nil }},
		{"another issuer's type", "type", "registered by " + other, func(c *credential.Check, _ *sdjwt.VC) { c.Type.Issuer = other }},
		{"another issuer's list", "status", "list l is " + other + "'s", func(c *credential.Check, _ *sdjwt.VC) { c.Status.Issuer = other }},
		{"another list's uri", "status", "points at urn:agora:credential:list:m, not at list l's uri", func(_ *credential.Check, vc *sdjwt.VC) {
			vc.Status.URI = credential.StatusURI("m")
		}},
		{"a uri on another host", "status", "not at list l's uri https://a.example/v1/credential/lists/l/token", func(c *credential.Check, vc *sdjwt.VC) {
			c.Status.URI = "https://a.example/v1/credential/lists/l"
			vc.Status.URI = "https://b.example/v1/credential/lists/l/token"
		}},
		{"revoked", "status", "revoked since", func(c *credential.Check, _ *sdjwt.VC) {
			c.Status.Value, c.Status.Status = credential.Revoked, "revoked"
		}},
		{"no such entry", "status", "not allocated", func(c *credential.Check, _ *sdjwt.VC) {
			c.Status, c.Reasons = nil, []string{"entry 9 of l was not allocated"}
		}},
		{"bound to a key not the subject's", "binding", "does not act for the subject", func(c *credential.Check, _ *sdjwt.VC) {
			c.Holder = &identity.Standing{DID: sub, Reason: "not a key of " + sub}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			chk, vc := good()
			tt.spoil(chk, vc)
			r := &report{}
			judge(r, chk, vc, 0)
			if tt.step == "" {
				if r.Reason != "" {
					t.Fatalf("refused: %s", r.Reason)
				}
				return
			}
			if !strings.HasPrefix(r.Reason, tt.step+": ") || !strings.Contains(r.Reason, tt.reason) {
				t.Fatalf("reason %q, want step %q saying %q", r.Reason, tt.step, tt.reason)
			}
		})
	}
}
