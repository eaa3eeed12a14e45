package custody

import (
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/frost"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

// The benchmarks drive the ledger's part of a ceremony in one process:
// every transaction is signed, applied by the real executor in a block
// of its own over the in-memory state of ledgertest.Chain, and the
// holders' cryptography (DKG packages, HPKE, FROST commitments and
// shares) runs between them as a signer's would. No network, consensus,
// block interval, store or event feed is in the numbers. Besides ns/op,
// each reports the ledger's time per round ("ledger-µs/<round>": the
// executor applying that round's transactions, all holders together)
// and the holders' time ("holders-µs": their cryptography, summed).
//
//	go test -run '^$' -bench . -benchtime 200x ./internal/custody

// benchLedger is a chain of identity and custody with a DID for the
// owner, two operators and five holders.
type benchLedger struct {
	b     *testing.B
	chain *ledgertest.Chain
	keys  map[string]*tx.PrivateKey // by DID
	dids  map[string]string         // by name
	spent map[string]time.Duration  // ledger time by round
}

func newBenchLedger(b *testing.B) *benchLedger {
	l := &benchLedger{b: b, chain: ledgertest.NewChain(b, ledgertest.Genesis(map[string]json.RawMessage{}), identity.Module{}, Module{}),
		keys: map[string]*tx.PrivateKey{}, dids: map[string]string{}, spent: map[string]time.Duration{}}
	for _, name := range []string{"owner", "ops1", "ops2", "h1", "h2", "h3", "h4", "h5"} {
		k := ledgertest.Key(keySeed, name, tx.Ed25519)
		next := ledgertest.Key(keySeed, name+"-next", tx.Ed25519)
		c := &identity.Create{Keys: []identity.KeySpec{{PublicKey: k.Public(),
			Relationships: []string{identity.CapabilityInvocation}}}, Next: identity.Commitment(next.Public())}
		if res := l.chain.Do(identity.Name, []*tx.PrivateKey{k}, "create", c); !res.OK() {
			b.Fatalf("did %s: %s %s", name, res.Code, res.Error)
		}
		l.dids[name] = c.DID()
		l.keys[c.DID()] = k
	}
	return l
}

// do signs msg as did (outside the timing) and applies it in a block of
// its own, adding the executor's time to round.
func (l *benchLedger) do(round, did, typ string, msg ledger.Msg) {
	x := &tx.Tx{Module: Name, Type: typ, Body: ledgertest.Body(l.b, msg), ExpiryHeight: l.chain.Head.Height + 10}
	raw := l.chain.Sign(x, []*tx.PrivateKey{l.keys[did]}, nil)
	start := time.Now()
	out, err := l.chain.DoRaw(raw, l.chain.Next())
	l.spent[round] += time.Since(start)
	if err != nil {
		l.b.Fatal(err)
	}
	if res := out.Results[0]; !res.OK() {
		l.b.Fatalf("%s %s: %s %s", typ, round, res.Code, res.Error)
	}
}

func (l *benchLedger) wallet(id string) *Wallet {
	w, err := WalletIn(l.chain.View(Name, nil), id)
	if err != nil {
		l.b.Fatal(err)
	}
	return w
}

func hpkeBenchKey(did string) *ecdh.PrivateKey {
	s := sha256.Sum256([]byte(keySeed + "bench-hpke/" + did))
	k, err := ecdh.X25519().NewPrivateKey(s[:])
	if err != nil {
		panic(err)
	}
	return k
}

// dkg runs a whole key generation of a t-of-n wallet id of suite, from
// create to activate, and returns the holders' key packages by holder
// ID (1..n) and the holders' time.
func (l *benchLedger) dkg(id, suite string, t, n int) ([]*frost.KeyPackage, time.Duration) {
	b := l.b
	var holders []string
	for i := 1; i <= n; i++ {
		holders = append(holders, l.dids[fmt.Sprintf("h%d", i)])
	}
	var p Policy
	pol := fmt.Sprintf(`{"groups":[{"name":"ops","members":[%q,%q],"quorum":1}],"rules":[{"name":"any","action":"allow","destination":"*","group":"ops"}],"change_group":"ops"}`, l.dids["ops1"], l.dids["ops2"])
	if err := json.Unmarshal([]byte(pol), &p); err != nil {
		b.Fatal(err)
	}
	owner := l.dids["owner"]
	l.do("create", owner, "create", &Create{Wallet: id, Owner: owner, Tier: "hot", Asset: "X", Network: "bench",
		Suite: suite, Threshold: uint16(t), Holders: holders, Policy: p})
	for _, h := range holders {
		l.do("join", h, "join", &Join{Wallet: id, Holder: h, HPKE: hpkeBenchKey(h).PublicKey().Bytes()})
	}
	var crypto time.Duration
	w := l.wallet(id)
	dkgs := make([]*frost.DKG, n)
	for i, h := range holders {
		start := time.Now()
		d, pkg, err := w.suite().NewDKG(rnd("bench-dkg", id, h), w.Session, frost.Identifier(i+1), t, n)
		crypto += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		dkgs[i] = d
		l.do("round1", h, "round1", &Round1{Wallet: id, Holder: h, Package: pkg.Bytes()})
	}
	w = l.wallet(id)
	r1, err := w.round1Packages()
	if err != nil {
		b.Fatal(err)
	}
	for i, h := range holders {
		start := time.Now()
		out, err := dkgs[i].Round2(rnd("bench-round2", id, h), r1)
		if err != nil {
			b.Fatal(err)
		}
		var sealed []Sealed
		for _, p := range out {
			pk, err := hpke.NewDHKEMPublicKey(hpkeBenchKey(holders[p.Recipient-1]).PublicKey())
			if err != nil {
				b.Fatal(err)
			}
			ct, err := hpke.Seal(pk, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), SealInfo(w.Session, uint16(i+1), uint16(p.Recipient)), p.Bytes())
			if err != nil {
				b.Fatal(err)
			}
			sealed = append(sealed, Sealed{To: uint16(p.Recipient), Ciphertext: ct})
		}
		crypto += time.Since(start)
		l.do("round2", h, "round2", &Round2{Wallet: id, Holder: h, Shares: sealed})
	}
	// Each holder opens the shares sealed to it and finishes.
	w = l.wallet(id)
	if w.State != InActivation {
		b.Fatalf("wallet %s is %s after round two", id, w.State)
	}
	sealedBy := make([][]Sealed, n+1)
	for dealer := 1; dealer <= n; dealer++ {
		if sealedBy[dealer], err = SealedIn(l.chain.View(Name, nil), id, uint16(dealer)); err != nil {
			b.Fatal(err)
		}
	}
	keys := make([]*frost.KeyPackage, n)
	start := time.Now()
	for i, h := range holders {
		priv, err := hpke.NewDHKEMPrivateKey(hpkeBenchKey(h))
		if err != nil {
			b.Fatal(err)
		}
		var received []*frost.Round2Package
		for dealer := 1; dealer <= n; dealer++ {
			for _, s := range sealedBy[dealer] {
				if int(s.To) != i+1 {
					continue
				}
				pt, err := hpke.Open(priv, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), SealInfo(w.Session, uint16(dealer), s.To), s.Ciphertext)
				if err != nil {
					b.Fatal(err)
				}
				p, err := w.suite().DecodeRound2Package(pt)
				if err != nil {
					b.Fatal(err)
				}
				received = append(received, p)
			}
		}
		if keys[i], err = dkgs[i].Finish(r1, received); err != nil {
			b.Fatal(err)
		}
		if string(keys[i].Public().GroupKey()) != string(w.GroupKey) {
			b.Fatalf("holder %d's group key is not the ledger's", i+1)
		}
	}
	crypto += time.Since(start)
	l.do("activate", owner, "activate", &Lifecycle{Wallet: id})
	return keys, crypto
}

// report gives the ledger's time per round per op, and the holders'.
func (l *benchLedger) report(holders time.Duration, rounds ...string) {
	for _, r := range rounds {
		l.b.ReportMetric(float64(l.spent[r].Microseconds())/float64(l.b.N), "ledger-µs/"+r)
	}
	l.b.ReportMetric(float64(holders.Microseconds())/float64(l.b.N), "holders-µs")
	l.b.ReportMetric(float64(l.b.N)/l.b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkDKG is one op per key generation of a 3-of-5 wallet: create,
// five joins, five round-one packages, five round-two sets of sealed
// shares (the ledger verifies the packages and derives the group key),
// the holders finishing, and the owner's activation.
func BenchmarkDKG(b *testing.B) {
	for _, suite := range []string{"ed25519", "taproot"} {
		b.Run(suite+"/3-of-5", func(b *testing.B) {
			l := newBenchLedger(b)
			var holders time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, c := l.dkg(fmt.Sprintf("w%d", i), suite, 3, 5)
				holders += c
			}
			b.StopTimer()
			l.report(holders, "create", "join", "round1", "round2", "activate")
		})
	}
}

// BenchmarkSigning is one op per signature of an approved request: the
// first t holders' commitments, then their shares, the last of which the
// ledger verifies and aggregates into the signature it records. The
// request and its approval are applied outside the timing.
func BenchmarkSigning(b *testing.B) {
	for _, suite := range []string{"ed25519", "taproot"} {
		for _, tn := range [][2]int{{2, 3}, {3, 5}} {
			t, n := tn[0], tn[1]
			b.Run(fmt.Sprintf("%s/%d-of-%d", suite, t, n), func(b *testing.B) {
				l := newBenchLedger(b)
				keys, _ := l.dkg("w", suite, t, n)
				w := l.wallet("w")
				ops1, ops2 := l.dids["ops1"], l.dids["ops2"]
				var holders time.Duration
				var sig []byte
				msg := make([]byte, 32)
				l.spent = map[string]time.Duration{}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					msg[0], msg[1], msg[2] = byte(i), byte(i>>8), byte(i>>16)
					l.do("request", ops1, "request", &Request{Wallet: "w", Initiator: ops1, Amount: 1, Destination: "bench", Message: msg})
					req := uint64(i + 1)
					l.do("approve", ops2, "approve", &Approve{Wallet: "w", Request: req, Approver: ops2})
					b.StartTimer()
					nonces := make([]*frost.Nonces, t)
					for j := 0; j < t; j++ {
						start := time.Now()
						nc, c, err := keys[j].Commit(rnd("bench-nonce", fmt.Sprint(i, j)))
						holders += time.Since(start)
						if err != nil {
							b.Fatal(err)
						}
						nonces[j] = nc
						l.do("commit", w.Holders[j].DID, "commit", &Commit{Wallet: "w", Request: req, Holder: w.Holders[j].DID, Commitments: c.Bytes()})
					}
					r, err := RequestIn(l.chain.View(Name, nil), "w", req)
					if err != nil {
						b.Fatal(err)
					}
					list, err := r.commitments(w)
					if err != nil {
						b.Fatal(err)
					}
					for j := 0; j < t; j++ {
						start := time.Now()
						sh, err := keys[j].Sign(nonces[j], r.Message, list)
						holders += time.Since(start)
						if err != nil {
							b.Fatal(err)
						}
						l.do("share", w.Holders[j].DID, "share", &Share{Wallet: "w", Request: req, Holder: w.Holders[j].DID, Share: sh.Bytes()})
					}
					b.StopTimer()
					if r, err = RequestIn(l.chain.View(Name, nil), "w", req); err != nil {
						b.Fatal(err)
					}
					sig = r.Signature
					if err := w.suite().Verify(w.GroupKey, r.Message, sig); err != nil {
						b.Fatalf("request %d: %v", req, err)
					}
					b.StartTimer()
				}
				b.StopTimer()
				l.report(holders, "commit", "share")
			})
		}
	}
}
