package credential

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/bench"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/statuslist"
	"github.com/agora-ledger/agora/internal/tx"
)

// blockTxs is how many transactions the benchmarks put in a block.
const blockTxs = 200

// stage signs msg and queues it for the next block, committing the block
// once it holds blockTxs transactions.
func stage(tb testing.TB, c *ledgertest.Chain, k *tx.PrivateKey, typ string, msg ledger.Msg, staged *int) {
	x := &tx.Tx{Module: Name, Type: typ, Body: ledgertest.Body(tb, msg), ExpiryHeight: c.Head.Height + 10}
	c.Stage(c.Sign(x, []*tx.PrivateKey{k}, nil))
	if *staged++; *staged == blockTxs {
		commit(tb, c, staged)
	}
}

// commit commits the staged transactions, which must all succeed.
func commit(tb testing.TB, c *ledgertest.Chain, staged *int) {
	if *staged == 0 {
		return
	}
	out, err := c.Commit(c.Next(), false)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range out.Results {
		if !r.OK() {
			tb.Fatalf("%s: %s", r.Code, r.Error)
		}
	}
	*staged = 0
}

// millionList creates a 1-bit list of a million entries, all allocated,
// and revokes one in a thousand of them, at random places.
func millionList(tb testing.TB) (*ledgertest.Chain, testIssuer) {
	c, issuer := newIssuer(tb)
	const capacity, revoked = 1_000_000, 1000
	var staged int
	stage(tb, c, issuer.key, "create-list", &CreateList{Issuer: issuer.did, ID: "m", Bits: 1, Capacity: capacity}, &staged)
	for i := uint32(0); i < capacity; i += MaxAllocate {
		stage(tb, c, issuer.key, "allocate", &Allocate{Issuer: issuer.did, List: "m", Index: i, Count: MaxAllocate}, &staged)
	}
	commit(tb, c, &staged)
	for _, i := range revokedEntries(capacity, revoked) {
		stage(tb, c, issuer.key, "set-status", &SetStatus{Issuer: issuer.did, List: "m", Index: i, Status: Revoked}, &staged)
	}
	commit(tb, c, &staged)
	return c, issuer
}

// revokedEntries picks n distinct entries of a list of capacity, uniformly
// and the same every run (from SHA-256 of a counter).
func revokedEntries(capacity, n uint32) []uint32 {
	seen := map[uint32]bool{}
	var out []uint32
	for ctr := uint64(0); uint32(len(out)) < n; ctr++ {
		h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, ctr))
		if i := binary.BigEndian.Uint32(h[:]) % capacity; !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	return out
}

// TestMillionListSize measures the status list of a million credentials,
// one in a thousand revoked, in both served forms, against the Token
// Status List draft's table (about 2.2 KB compressed at 0.1%): the goal
// of issue 17.
func TestMillionListSize(t *testing.T) {
	if testing.Short() {
		t.Skip("a million entries; skipped with -short")
	}
	c, _ := millionList(t)
	kv := c.View(Name, nil)
	tok, err := TokenOf(kv, "m")
	if err != nil {
		t.Fatal(err)
	}
	sl, err := statuslist.Decode(tok.StatusList)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range revokedEntries(1_000_000, 1000) {
		if got, _ := sl.Get(int(i)); got != Revoked {
			t.Fatalf("entry %d is %d, want revoked", i, got)
		}
	}
	bc, err := BitstringOf(kv, "m")
	if err != nil {
		t.Fatal(err)
	}
	// Both are base64url without padding (the bitstring after its
	// multibase prefix u): their compressed size is 3/4 of that.
	lst := base64.RawURLEncoding.DecodedLen(len(tok.StatusList.Lst))
	enc := base64.RawURLEncoding.DecodedLen(len(bc.CredentialSubject.EncodedList) - 1)
	t.Logf("1,000,000 entries, 1,000 revoked: token list %d bytes ZLIB (%d base64url), bitstring %d bytes GZIP", lst, len(tok.StatusList.Lst), enc)
	if lst > 2200 {
		t.Errorf("the token's list is %d bytes compressed, more than the draft's 2.2 KB", lst)
	}
}

// BenchmarkSetStatus measures status changes through the executor:
// transactions decoded, their signatures checked and executed, blocks of
// blockTxs, with the state in memory (no store).
func BenchmarkSetStatus(b *testing.B) {
	c, issuer := newIssuer(b)
	n := uint32(b.N)
	var staged int
	stage(b, c, issuer.key, "create-list", &CreateList{Issuer: issuer.did, ID: "s", Bits: 2, Capacity: max(n, 1)}, &staged)
	for i := uint32(0); i < n; i += MaxAllocate {
		stage(b, c, issuer.key, "allocate", &Allocate{Issuer: issuer.did, List: "s", Index: i, Count: min(MaxAllocate, n-i)}, &staged)
	}
	commit(b, c, &staged)
	raws := make([][]byte, n)
	seq := c.Sequence(issuer.key.Public())
	for i := range n {
		x := &tx.Tx{Module: Name, Type: "set-status", ExpiryHeight: c.Head.Height + 1000,
			Body: ledgertest.Body(b, &SetStatus{Issuer: issuer.did, List: "s", Index: i, Status: Suspended})}
		raws[i] = c.Sign(x, []*tx.PrivateKey{issuer.key}, []uint64{seq + uint64(i)})
	}
	b.ResetTimer()
	for i, raw := range raws {
		c.Stage(raw)
		if (i+1)%blockTxs == 0 || i == len(raws)-1 {
			staged = 1
			commit(b, c, &staged)
		}
	}
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.StopTimer()
	ceiling := bench.Ceiling(time.Second) // right after, for the ratio
	b.ReportMetric(rate, "updates/s")
	b.ReportMetric(ceiling, "ceiling_verifies/s")
	b.ReportMetric(rate/ceiling, "ratio")
}

// BenchmarkCheck measures the ledger's answer about one credential (the
// check query, without its proof: accreditation, issuer key at issue and
// now, type, status, holder binding), read from state in memory.
func BenchmarkCheck(b *testing.B) {
	c, issuer := newIssuer(b)
	var staged int
	stage(b, c, issuer.key, "create-list", &CreateList{Issuer: issuer.did, ID: "k", Bits: 2, Capacity: 1000}, &staged)
	stage(b, c, issuer.key, "allocate", &Allocate{Issuer: issuer.did, List: "k", Index: 0, Count: 1}, &staged)
	commit(b, c, &staged)
	a := CheckArgs{Issuer: issuer.did, VCT: "urn:x:kyc", List: "k", Key: issuer.key.Public(), IssuedAt: time.UnixMilli(c.Head.Time), Subject: issuer.did, HolderKey: issuer.key.Public()}
	b.ResetTimer()
	for b.Loop() {
		if _, err := CheckOf(c.View(Name, nil), a); err != nil {
			b.Fatal(err)
		}
	}
}
