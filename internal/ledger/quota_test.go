package ledger_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestQuotaGoverned shows the free quota in the parameters moved by a
// ratified ledger.set_params, and a validator's key never counted
// against it.
func TestQuotaGoverned(t *testing.T) {
	e, err := ledger.NewExecutor(testChain, testmod{}, govmod{})
	if err != nil {
		t.Fatal(err)
	}
	seed := sha256.Sum256([]byte("agora ledger test validator org0"))
	val, err := tx.NewPrivateKey(tx.Ed25519, seed[:])
	if err != nil {
		t.Fatal(err)
	}
	g := testGenesis(t)
	one := uint64(1)
	g.Params.FreeBlockTxs = &one
	g.Validators = []ledger.Validator{{Name: "org0", PubKey: val.Public().Key, Power: 10}}
	c, err := ledgertest.StartChain(t, e, g)
	if err != nil {
		t.Fatal(err)
	}
	// put stages a transaction of k's for the next block.
	put := func(k *tx.PrivateKey, module, typ string, body []byte) {
		c.Stage(c.Sign(&tx.Tx{Module: module, Type: typ, Body: body, ExpiryHeight: 1000}, []*tx.PrivateKey{k}, nil))
	}
	apply := func(propose bool) *ledger.Outcome {
		t.Helper()
		out, err := c.Commit(c.Next(), propose)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	fresh := func(n int) {
		for i := range n {
			k := keyFor(t, fmt.Sprintf("fresh-%d-%d", c.Head.Height, i), tx.Ed25519)
			put(k, "testmod", "put", putBody(t, fmt.Sprintf("f%d", i), "x", ""))
		}
	}

	fresh(3)
	put(val, "testmod", "put", putBody(t, "v", "1", ""))
	out := apply(true)
	if len(out.Txs) != 2 || len(out.Dropped) != 2 || ledger.Code(out.Dropped[0].Err) != "over_quota" {
		t.Fatalf("free_block_txs=1: %d in, dropped %v; want a fresh key's and the validator's in, two over quota", len(out.Txs), out.Dropped)
	}

	alice := keyFor(t, "alice", tx.Ed25519)
	params, err := e.Actions().FromJSON("ledger.set_params", []byte(`{"max_block_txs":10000,"max_block_bytes":16777216,"free_block_txs":3}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := tx.Marshal(&enactMsg{Actions: []ledger.Action{params}})
	if err != nil {
		t.Fatal(err)
	}
	put(alice, ledger.GovernanceModule, "enact", b)
	if out := apply(false); !out.Results[0].OK() {
		t.Fatalf("set_params: %+v", out.Results[0])
	}
	fresh(4)
	if out := apply(true); len(out.Txs) != 3 || len(out.Dropped) != 1 {
		t.Fatalf("free_block_txs=3 after set_params: %d in, %d dropped; want 3 and 1", len(out.Txs), len(out.Dropped))
	}
}

func TestCheckFree(t *testing.T) {
	n := func(v uint64) *uint64 { return &v }
	tests := []struct {
		name   string
		params ledger.Params
		size   int
		want   error
	}{
		{name: "defaults admit a small transaction", size: 2000},
		{name: "defaults refuse one over free_block_bytes", size: ledger.DefaultFreeBlockBytes + 1, want: ledger.ErrOverQuota},
		{name: "no free transactions", params: ledger.Params{FreeBlockTxs: n(0)}, size: 100, want: ledger.ErrOverQuota},
		{name: "no free bytes", params: ledger.Params{FreeBlockBytes: n(0)}, size: 100, want: ledger.ErrOverQuota},
		{name: "raised", params: ledger.Params{FreeBlockBytes: n(65536)}, size: 40000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.params.CheckFree(tt.size); !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Errorf("CheckFree(%d) = %v, want %v", tt.size, err, tt.want)
			}
		})
	}
}
