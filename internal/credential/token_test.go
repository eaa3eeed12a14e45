package credential

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/statuslist"
	"github.com/agora-ledger/agora/internal/tx"
)

const listURL = "https://node.example/v1/credential/lists/t"

// tokenChain makes a 2-bit list "t" with a URL, 16 entries allocated,
// entry 3 revoked.
func tokenChain(t *testing.T) (*ledgertest.Chain, testIssuer) {
	c, issuer := newIssuer(t)
	mustDo(t, c, issuer.key, "create-list", &CreateList{Issuer: issuer.did, ID: "t", Bits: 2, Capacity: 64, URI: listURL})
	mustDo(t, c, issuer.key, "allocate", &Allocate{Issuer: issuer.did, List: "t", Index: 0, Count: 16})
	mustDo(t, c, issuer.key, "set-status", &SetStatus{Issuer: issuer.did, List: "t", Index: 3, Status: Revoked})
	return c, issuer
}

// tokenOpts change a token the test signs from the one the ledger takes.
type tokenOpts struct {
	key           *tx.PrivateKey
	kid, uri, iss string
	iat           time.Time
	life          time.Duration
	set           map[int]byte // statuses beside the ledger's
	bits          int
	capacity      int
	noJWK         bool
}

// signToken signs list t of c as the issuer would, changed by o.
func signToken(t *testing.T, c *ledgertest.Chain, issuer testIssuer, o tokenOpts) string {
	t.Helper()
	if o.key == nil {
		o.key = issuer.key
	}
	if o.kid == "" {
		o.kid = issuer.did + "#key-0"
	}
	if o.uri == "" {
		o.uri = listURL + "/token"
	}
	if o.iss == "" {
		o.iss = issuer.did
	}
	if o.iat.IsZero() {
		o.iat = c.Next().Truncate(time.Second)
	}
	if o.life == 0 {
		o.life = 24 * time.Hour
	}
	if o.bits == 0 {
		o.bits = 2
	}
	if o.capacity == 0 {
		o.capacity = 64
	}
	sl, err := statuslist.New(o.bits, o.capacity)
	if err != nil {
		t.Fatal(err)
	}
	sl.Set(3, Revoked)
	for i, s := range o.set {
		sl.Set(i, s)
	}
	priv, _ := o.key.Ed25519()
	if o.noJWK {
		jwt, err := statuslist.SignToken(statuslist.Token{Subject: o.uri, Issuer: o.iss, IssuedAt: o.iat, Expires: o.iat.Add(o.life), List: sl},
			signingKey(priv), o.kid)
		if err != nil {
			t.Fatal(err)
		}
		return jwt
	}
	jwt, err := SignListToken(priv, o.kid, o.iss, o.uri, sl, o.iat, o.iat.Add(o.life), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return jwt
}

// TestPublishToken holds publish-token to its rules: the token's bits
// are the ledger's, its key acts for the issuer, its sub is the list's
// token uri, its iss the issuer, its times near the block's.
func TestPublishToken(t *testing.T) {
	other := ledgertest.Key(keySeed, "stranger", tx.Ed25519)
	tests := []struct {
		name     string
		signer   *tx.PrivateKey // of the transaction; nil: the issuer's
		opts     tokenOpts
		wantCode string
		wantText string
	}{
		{name: "the list as the ledger holds it", wantCode: "ok"},
		{name: "another entry revoked", opts: tokenOpts{set: map[int]byte{5: Revoked}}, wantCode: "conflict", wantText: "not list t as the ledger holds it"},
		{name: "the revoked entry valid", opts: tokenOpts{set: map[int]byte{3: Valid}}, wantCode: "conflict", wantText: "not list t as the ledger holds it"},
		{name: "1 bit", opts: tokenOpts{bits: 1}, wantCode: "conflict"},
		{name: "another size", opts: tokenOpts{capacity: 128}, wantCode: "conflict"},
		{name: "another sub", opts: tokenOpts{uri: "urn:agora:credential:list:t"}, wantCode: "invalid", wantText: "token is for"},
		{name: "another iss", opts: tokenOpts{iss: "did:agora:someone"}, wantCode: "invalid", wantText: "iss"},
		{name: "a stranger's key", opts: tokenOpts{key: other}, wantCode: "unauthorized", wantText: "the token's key"},
		{name: "a wrong kid", opts: tokenOpts{kid: "did:agora:x#key-0"}, wantCode: "invalid", wantText: "kid"},
		{name: "no jwk", opts: tokenOpts{noJWK: true}, wantCode: "invalid", wantText: "no Ed25519 public key"},
		{name: "iat an hour ago", opts: tokenOpts{iat: time.UnixMilli(ledgertest.GenesisTime.UnixMilli()).Add(-time.Hour)}, wantCode: "invalid", wantText: "iat"},
		{name: "expired", opts: tokenOpts{life: time.Millisecond}, wantCode: "invalid", wantText: "expired"},
		{name: "two years", opts: tokenOpts{life: 2 * 366 * 24 * time.Hour}, wantCode: "invalid", wantText: "exp at most"},
		{name: "posted by a stranger", signer: other, wantCode: "unauthorized", wantText: "no key of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, issuer := tokenChain(t)
			jwt := signToken(t, c, issuer, tt.opts)
			signer := tt.signer
			if signer == nil {
				signer = issuer.key
			}
			res := c.Do(Name, []*tx.PrivateKey{signer}, "publish-token", &PublishToken{Issuer: issuer.did, List: "t", Token: jwt})
			if res.Code != tt.wantCode || !strings.Contains(res.Error, tt.wantText) {
				t.Fatalf("publish-token: %s %q, want %s containing %q", res.Code, res.Error, tt.wantCode, tt.wantText)
			}
		})
	}
}

// TestListToken publishes two tokens around a status change and reads
// them back now and at past times, as a verifier judges them.
func TestListToken(t *testing.T) {
	c, issuer := tokenChain(t)
	kv := func() *ledger.KV { return c.View(Name, nil) }
	if _, err := ListTokenOf(kv(), "t", latest); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("no token yet: %v", err)
	}
	first := signToken(t, c, issuer, tokenOpts{})
	mustDo(t, c, issuer.key, "publish-token", &PublishToken{Issuer: issuer.did, List: "t", Token: first})
	t1 := time.UnixMilli(c.Head.Time)
	a, err := ListTokenOf(kv(), "t", latest)
	if err != nil || a.Published.Token != first {
		t.Fatalf("the first token: %+v, %v", a, err)
	}
	if _, err := CheckListToken(a, t1); err != nil {
		t.Fatalf("CheckListToken: %v", err)
	}
	// A status changes: the token no longer is the list.
	mustDo(t, c, issuer.key, "set-status", &SetStatus{Issuer: issuer.did, List: "t", Index: 5, Status: Suspended})
	a, _ = ListTokenOf(kv(), "t", latest)
	if _, err := CheckListToken(a, t1); !errors.Is(err, ErrStaleToken) {
		t.Fatalf("after a change: %v, want stale", err)
	}
	// The old token, posted again, is refused; a new one is taken.
	if res := c.Do(Name, []*tx.PrivateKey{issuer.key}, "publish-token", &PublishToken{Issuer: issuer.did, List: "t", Token: first}); res.Code != "conflict" {
		t.Fatalf("the old token again: %s %s", res.Code, res.Error)
	}
	second := signToken(t, c, issuer, tokenOpts{set: map[int]byte{5: Suspended}})
	mustDo(t, c, issuer.key, "publish-token", &PublishToken{Issuer: issuer.did, List: "t", Token: second})
	t2 := time.UnixMilli(c.Head.Time)
	a, _ = ListTokenOf(kv(), "t", latest)
	if a.Published.Token != second || a.Published.Number != 1 {
		t.Fatalf("latest: %+v", a.Published)
	}
	tok, err := CheckListToken(a, t2)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := tok.List.Get(5); s != Suspended {
		t.Fatalf("entry 5 in the token: %d", s)
	}
	if _, err := CheckListToken(a, t2.Add(25*time.Hour)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("a day later: %v, want expired", err)
	}
	// At past times: before any token, between, after.
	for _, tt := range []struct {
		at   time.Time
		want string
	}{{t1.Add(-time.Millisecond), ""}, {t1, first}, {t2.Add(-time.Millisecond), first}, {t2, second}} {
		a, err := ListTokenOf(kv(), "t", tt.at)
		switch {
		case tt.want == "" && !errors.Is(err, ledger.ErrNotFound):
			t.Errorf("at %s: %v, want not found", tt.at, err)
		case tt.want != "" && (err != nil || a.Published.Token != tt.want || a.State != nil):
			t.Errorf("at %s: %+v, %v", tt.at, a, err)
		}
	}
	// A second assertion key signs a third token; the issuer then
	// revokes it as compromised from before: the answer says so and a
	// verifier refuses the token.
	signer := ledgertest.Key(keySeed, "signer", tx.Ed25519)
	if res := c.Do(identity.Name, []*tx.PrivateKey{issuer.key}, "add-key", &identity.AddKey{DID: issuer.did,
		Key: identity.KeySpec{PublicKey: signer.Public(), Relationships: []string{AssertionMethod}}}); res.Code != "ok" {
		t.Fatalf("add-key: %s %s", res.Code, res.Error)
	}
	third := signToken(t, c, issuer, tokenOpts{key: signer, kid: issuer.did + "#key-1", set: map[int]byte{5: Suspended}})
	mustDo(t, c, signer, "publish-token", &PublishToken{Issuer: issuer.did, List: "t", Token: third})
	t3 := time.UnixMilli(c.Head.Time)
	a, _ = ListTokenOf(kv(), "t", latest)
	if _, err := CheckListToken(a, t3); err != nil {
		t.Fatalf("the third token: %v", err)
	}
	if res := c.Do(identity.Name, []*tx.PrivateKey{issuer.key}, "revoke", &identity.Revoke{DID: issuer.did, KeyID: "key-1",
		CompromisedAt: t3.Add(-time.Millisecond).UnixMilli()}); res.Code != "ok" {
		t.Fatalf("revoke: %s %s", res.Code, res.Error)
	}
	a, _ = ListTokenOf(kv(), "t", latest)
	if _, err := CheckListToken(a, t3); err == nil || !strings.Contains(err.Error(), "compromised") {
		t.Fatalf("a compromised key's token: %v", err)
	}
}

func signingKey(priv ed25519.PrivateKey) jose.SigningKey {
	return jose.SigningKey{Algorithm: jose.EdDSA, Key: priv}
}
