package asset

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestNoTriggerWithoutThreshold acts out the issue's promise, "no trigger
// fires without k valid signatures from accredited providers on a
// matching observation", over random submissions: 20 parcels, each with a
// 2-of-3 rule; each step either re-keys a provider in the registry or
// submits a matching or non-matching observation with a random set of
// signatures, each by the provider's current key, an old or a rogue key, or
// corrupted, by providers of the rule and a rogue one. After every step,
// every trigger must hold at least k distinct providers of its rule, each
// with the key the registry held when it fired, each signature verifying
// over the observation's signing bytes, and the observation must match the
// rule's condition. Refused submissions must change nothing (Chain.Do).
func TestNoTriggerWithoutThreshold(t *testing.T) {
	c, _, key := benchChain(t)
	const parcels = 60
	parcelID := func(i int) string { return fmt.Sprintf("parcel-%02d", i) }
	aliceDID, bobDID := "", ""
	{
		a, err := LookupAsset(c.View(Name, nil), "parcel-7")
		if err != nil {
			t.Fatal(err)
		}
		r, err := LookupRule(c.View(Name, nil), "parcel-7", 1)
		if err != nil {
			t.Fatal(err)
		}
		aliceDID, bobDID = a.Owner, r.TransferTo
	}
	place := Point{Lat: 50_087_451, Lon: 14_420_671}
	window := func() (int64, int64) { return c.Start.UnixMilli(), c.Start.UnixMilli() + 24*3600*1000 }
	for i := range parcels {
		if r := c.Do(Name, []*tx.PrivateKey{key("alice")}, "register", &Register{ID: parcelID(i), Owner: aliceDID, Place: place}); !r.OK() {
			t.Fatalf("register: %v", r)
		}
		from, until := window()
		rule := &AddRule{Asset: parcelID(i), Condition: Condition{Type: "marker", Center: place, Radius: 50, From: from, Until: until, MinValue: 80},
			Providers: testProviders, Threshold: 2, TransferTo: bobDID, DisputeWindow: 60_000}
		if r := c.Do(Name, []*tx.PrivateKey{key("alice")}, "add-rule", rule); !r.OK() {
			t.Fatalf("add-rule: %v", r)
		}
	}

	current := map[string]string{} // provider → the name of the key the registry holds
	for _, p := range testProviders {
		current[p] = p
	}
	rng := rand.New(rand.NewPCG(20, 1))
	checked, fired, counted := 0, 0, 0
	for step := range 800 {
		if rng.IntN(20) == 0 {
			p := testProviders[rng.IntN(len(testProviders))]
			current[p] = fmt.Sprintf("%s-key%d", p, step)
			e := &gov.SetEntry{Resource: ProvidersResource, Key: p, Value: key(current[p]).Public().String()}
			if r := c.Do(gov.Name, []*tx.PrivateKey{key("telco-id")}, "set-entry", e); !r.OK() {
				t.Fatalf("set-entry: %v", r)
			}
			continue
		}
		o := Observation{Chain: c.Head.ChainID, Type: "marker", Place: Point{Lat: 50_087_600, Lon: 14_420_800},
			Time: c.Start.UnixMilli() + int64(rng.IntN(3)), Value: 90}
		if rng.IntN(5) == 0 {
			o.Place.Lat += 1_000 // 111 m north: outside the radius
		}
		m := &Submit{Asset: parcelID(rng.IntN(parcels)), Rule: 1, Observation: o}
		for _, p := range []string{"rogue", "sat-a", "sat-b", "sat-c"} {
			if rng.IntN(2) == 0 {
				continue
			}
			k := current[p]
			switch rng.IntN(6) {
			case 0:
				k = "rogue"
			case 1:
				k = p // its first key, maybe rotated out
			}
			if k == "" {
				k = p
			}
			s, err := o.Sign(p, key(k), nil)
			if err != nil {
				t.Fatal(err)
			}
			if rng.IntN(8) == 0 {
				s.Sig[0] ^= 1
			}
			m.Signatures = append(m.Signatures, s)
		}
		if len(m.Signatures) == 0 {
			continue
		}
		if res := c.Do(Name, []*tx.PrivateKey{key("carol")}, "submit", m); res.OK() {
			counted++
		}
		kv := c.View(Name, nil)
		a, err := LookupAsset(kv, m.Asset)
		if err != nil {
			t.Fatal(err)
		}
		r, err := LookupRule(kv, m.Asset, 1)
		if err != nil {
			t.Fatal(err)
		}
		if r.Trigger == 0 {
			if a.Owner != aliceDID {
				t.Fatalf("step %d: %s changed hands without a trigger", step, a.ID)
			}
			continue
		}
		tr, err := LookupTrigger(kv, r.Trigger)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Height == c.Head.Height {
			fired++
		}
		checked++
		if len(tr.Signatures) < int(r.Threshold) {
			t.Fatalf("step %d: trigger %d fired with %d signatures, threshold %d", step, tr.ID, len(tr.Signatures), r.Threshold)
		}
		if err := r.Condition.Match(&tr.Observation); err != nil {
			t.Fatalf("step %d: trigger %d fired on an observation that does not match: %v", step, tr.ID, err)
		}
		var seen []string
		for _, s := range tr.Signatures {
			if !slices.Contains(r.Providers, s.Provider) || slices.Contains(seen, s.Provider) {
				t.Fatalf("step %d: trigger %d counts %s, not a provider of the rule or counted twice", step, tr.ID, s.Provider)
			}
			seen = append(seen, s.Provider)
			if !s.Key.Verify(tr.Observation.SigningBytes(), s.Sig) {
				t.Fatalf("step %d: trigger %d counts a signature by %s that does not verify", step, tr.ID, s.Provider)
			}
			if tr.Height == c.Head.Height && !s.Key.Equal(key(current[s.Provider]).Public()) {
				t.Fatalf("step %d: trigger %d counts %s's signature by a key the registry no longer held", step, tr.ID, s.Provider)
			}
		}
		if a.Owner != bobDID {
			t.Fatalf("step %d: %s fired but is owned by %s", step, a.ID, a.Owner)
		}
	}
	if fired < parcels/2 || counted < 2*parcels {
		t.Fatalf("the random walk fired %d triggers and accepted %d submissions: too few to test anything", fired, counted)
	}
	t.Logf("%d submissions accepted, %d triggers fired, %d trigger checks", counted, fired, checked)
}
