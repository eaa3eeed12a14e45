package govcli

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestActingThroughMemberBodies: --as finds your keys among a body's
// members at any depth, member bodies counted by their own rule, and says
// whether they meet the body's rule (act at once) or not (post a pending
// action that the other members approve).
func TestActingThroughMemberBodies(t *testing.T) {
	dir := t.TempDir()
	ks := cli.Keys(dir)
	keys := map[string]tx.PublicKey{}
	for _, n := range []string{"alice", "bob", "carol", "dave"} {
		e, err := ks.New(n, tx.Ed25519, "pw", rand.Reader, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		keys[n] = e.PublicKey
	}
	other := tx.PublicKey{Alg: tx.Ed25519, Key: ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)} // a member's key on another machine
	member := func(n string) gov.Member { k := keys[n]; return gov.Member{Name: n, Key: &k} }
	bodies := map[string]gov.Body{
		// users: 2 of alice and the consumers; the consumers: 1 of bob and
		// someone else.
		"users":     {ID: "users", Threshold: 2, Members: []gov.Member{member("alice"), {Name: "consumers", Body: "consumers"}}},
		"consumers": {ID: "consumers", Threshold: 1, Members: []gov.Member{member("bob"), {Name: "x", Key: &other}}},
		// savers: 2 of carol and someone else.
		"savers": {ID: "savers", Threshold: 2, Members: []gov.Member{member("carol"), {Name: "y", Key: &other}}},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := bodies[strings.TrimPrefix(r.URL.Path, "/v1/gov/bodies/")]
		if !ok {
			http.Error(w, `{"code":"not_found","message":"no body"}`, http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode(b)
	}))
	defer srv.Close()
	for _, c := range []struct {
		desc      string
		as        string
		given     []string
		met       bool
		names     []string
		wantError bool
	}{
		{desc: "a key and a member body's rule meet 2 of 2", as: "users", met: true, names: []string{"alice", "bob"}},
		{desc: "--key alice alone is 1 of 2: pending", as: "users", given: []string{"alice"}, names: []string{"alice"}},
		{desc: "--key bob meets the consumers' rule, 1 of 2 of the users", as: "users", given: []string{"bob"}, names: []string{"bob"}},
		{desc: "one of two: pending", as: "savers", names: []string{"carol"}},
		{desc: "dave is no member", as: "users", given: []string{"dave"}},
		{desc: "an unknown body", as: "nobody", wantError: true},
	} {
		t.Run(c.desc, func(t *testing.T) {
			a := &acting{ctx: context.Background(), c: client.New(srv.URL), ks: ks, given: c.given}
			met, err := a.meets(c.as, 1)
			if (err != nil) != c.wantError {
				t.Fatalf("error %v", err)
			}
			if met != c.met || !slices.Equal(a.names, c.names) {
				t.Errorf("met %v with %v, want %v with %v", met, a.names, c.met, c.names)
			}
		})
	}
}
