package custody

import (
	"bytes"
	"fmt"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// MaxWallets bounds the wallets one answer of the wallets query lists.
const MaxWallets = 100

// WalletSummary is a wallet as the wallets query lists it.
type WalletSummary struct {
	ID        string `json:"id"`
	Tier      string `json:"tier"`
	Asset     string `json:"asset"`
	Network   string `json:"network"`
	Suite     string `json:"suite"`
	Threshold uint16 `json:"threshold"`
	Holders   int    `json:"holders"`
	State     string `json:"state"`
	Address   string `json:"address,omitempty"`
	Requests  uint64 `json:"requests,omitempty"`
}

// Wallets is the answer of the wallets query: the wallets in the order
// of their ids, from after on. It reads a range of keys, which a state
// proof cannot show complete; each wallet is provable by its own query.
type Wallets struct {
	Wallets []WalletSummary `json:"wallets"`
	// Next, if set, is the last id listed: ask again with after=Next.
	Next string `json:"next,omitempty"`
}

// WalletsIn lists up to MaxWallets wallets whose ids sort after after.
func WalletsIn(kv *ledger.KV, after string) (*Wallets, error) {
	out := &Wallets{Wallets: []WalletSummary{}}
	err := kv.Iterate([]byte("w/"), func(key, value []byte) (bool, error) {
		// A wallet's own key is w/ID; its requests, log and shares are
		// under w/ID/.
		if bytes.IndexByte(key, '/') >= 0 || string(key) <= after {
			return true, nil
		}
		if len(out.Wallets) == MaxWallets {
			out.Next = out.Wallets[len(out.Wallets)-1].ID
			return false, nil
		}
		var w Wallet
		if err := tx.Unmarshal(value, &w); err != nil {
			return false, fmt.Errorf("wallet %s: %w", key, err)
		}
		out.Wallets = append(out.Wallets, WalletSummary{ID: w.ID, Tier: w.Tier, Asset: w.Asset, Network: w.Network, Suite: w.Suite,
			Threshold: w.Threshold, Holders: len(w.Holders), State: w.State, Address: w.Address, Requests: w.Requests})
		return true, nil
	})
	return out, err
}

// walletsQuery is the wallets query.
var walletsQuery = ledger.Query{
	Name:    "wallets",
	Pattern: "GET /v1/custody/wallets",
	Summary: fmt.Sprintf("The wallets, by id, %d at a time: tier, chain, suite, t of n, state, address. It reads a range of keys, which a state proof cannot show complete: each wallet is provable by its own query.", MaxWallets),
	Params:  []ledger.Param{{Name: "after", Summary: "a wallet id: list those after it (the previous page's next)"}},
	Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
		return WalletsIn(kv, arg("after"))
	},
	Answer: (*Wallets)(nil),
}
