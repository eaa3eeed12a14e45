package asset

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

// benchChain is a ledger of the test genesis (providers sat-a, sat-b and
// sat-c accredited) where alice owns parcel-7 and its rule 1 wants all
// three providers, so that no submission fires it: every op is the same
// aggregation, the signatures counted and a pending record written.
func benchChain(b testing.TB) (*ledgertest.Chain, *tx.PrivateKey, func(string) *tx.PrivateKey) {
	key := func(n string) *tx.PrivateKey { return ledgertest.Key(keySeed, n, tx.Ed25519) }
	g := ledgertest.Genesis(map[string]json.RawMessage{})
	if err := testGenesis(func(n string) tx.PublicKey { return key(n).Public() }, g); err != nil {
		b.Fatal(err)
	}
	c := ledgertest.NewChain(b, g, modules()...)
	alice, bob := key("alice"), key("bob")
	var dids [2]string
	for i, k := range []*tx.PrivateKey{alice, bob} {
		cr := &identity.Create{Keys: []identity.KeySpec{{PublicKey: k.Public(), Relationships: []string{capabilityInvocation}}},
			Next: identity.Commitment(key(fmt.Sprint(i, "-next")).Public())}
		if r := c.Do(identity.Name, []*tx.PrivateKey{k}, "create", cr); !r.OK() {
			b.Fatalf("create: %v", r)
		}
		dids[i] = cr.DID()
	}
	place := Point{Lat: 50_087_451, Lon: 14_420_671}
	if r := c.Do(Name, []*tx.PrivateKey{alice}, "register", &Register{ID: "parcel-7", Owner: dids[0], Place: place}); !r.OK() {
		b.Fatalf("register: %v", r)
	}
	rule := &AddRule{Asset: "parcel-7", Condition: Condition{Type: "marker", Center: place, Radius: 50,
		From: ledgertest.GenesisTime.UnixMilli(), Until: ledgertest.GenesisTime.Add(24 * time.Hour).UnixMilli(), MinValue: 80},
		Providers: testProviders, Threshold: 3, TransferTo: dids[1]}
	if r := c.Do(Name, []*tx.PrivateKey{alice}, "add-rule", rule); !r.OK() {
		b.Fatalf("add-rule: %v", r)
	}
	return c, alice, key
}

// BenchmarkSubmit measures observation acceptance on the ledger: one op
// is one submit transaction, a distinct observation signed by `sigs`
// providers, applied in blocks of 1,000 by the real executor over state in
// memory: the transaction's own signature and each provider's verified,
// the condition matched, the pending record read and written. Signing is
// done before the clock starts. It reports observations (transactions)
// and provider signatures counted per second on one goroutine.
func BenchmarkSubmit(b *testing.B) {
	for _, sigs := range []int{1, 2} {
		b.Run(fmt.Sprintf("sigs=%d", sigs), func(b *testing.B) {
			c, alice, key := benchChain(b)
			seq := c.Sequence(alice.Public())
			raws := make([][]byte, b.N)
			for i := range b.N {
				o := Observation{Chain: ledgertest.ChainID, Type: "marker", Place: Point{Lat: 50_087_600, Lon: 14_420_800},
					Time: ledgertest.GenesisTime.UnixMilli() + 1, Value: int64(100 + i)}
				m := &Submit{Asset: "parcel-7", Rule: 1, Observation: o}
				for _, p := range testProviders[:sigs] {
					s, err := o.Sign(p, key(p), nil)
					if err != nil {
						b.Fatal(err)
					}
					m.Signatures = append(m.Signatures, s)
				}
				x := &tx.Tx{Module: Name, Type: "submit", Body: ledgertest.Body(b, m), ExpiryHeight: 1 << 40}
				raws[i] = c.Sign(x, []*tx.PrivateKey{alice}, []uint64{seq + uint64(i)})
			}
			b.ResetTimer()
			for start := 0; start < b.N; start += 1000 {
				end := min(start+1000, b.N)
				for _, raw := range raws[start:end] {
					c.Stage(raw)
				}
				out, err := c.Commit(c.Next(), false)
				if err != nil {
					b.Fatal(err)
				}
				for i, r := range out.Results {
					if !r.OK() {
						b.Fatalf("submission %d: %v", start+i, r)
					}
				}
			}
			b.StopTimer()
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/secs, "observations/s")
			b.ReportMetric(float64(b.N*sigs)/secs, "signatures/s")
		})
	}
}
