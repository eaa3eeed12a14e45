package custody

import (
	"fmt"
	"strconv"

	"github.com/agora-ledger/agora/internal/ledger"
)

// MaxWallets bounds the wallets one answer of the wallets query lists.
const MaxWallets = 100

// The wallets are numbered in the order they were made: key "wallets"
// holds how many there are, "wn/N" (N in 16 hex digits, from 1) the id
// of the N-th. A page of the list reads those keys and each wallet's own,
// so a proof of it shows it complete: the count is proven, and so is
// every wallet it counts.
var walletCountKey = []byte("wallets")

func walletIndexKey(n uint64) []byte { return fmt.Appendf(nil, "wn/%016x", n) }

func walletCount(kv *ledger.KV) (uint64, error) {
	var n uint64
	_, err := kv.GetValue(walletCountKey, &n)
	return n, err
}

// numberWallet gives wallet id the next number.
func numberWallet(kv *ledger.KV, id string) error {
	n, err := walletCount(kv)
	if err != nil {
		return err
	}
	n++
	if err := kv.SetValue(walletIndexKey(n), id); err != nil {
		return err
	}
	return kv.SetValue(walletCountKey, n)
}

// numberedWallet is wallet number n.
func numberedWallet(kv *ledger.KV, n uint64) (*Wallet, error) {
	var id string
	found, err := kv.GetValue(walletIndexKey(n), &id)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: wallet number %d is missing", ledger.ErrStorage, n)
	}
	return loadWallet(kv, id)
}

// WalletSummary is a wallet as the wallets query lists it.
type WalletSummary struct {
	N         uint64 `json:"n"` // its number, in the order wallets were made
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

// Wallets is the answer of the wallets query: of the Total wallets, in
// the order they were made, those numbered from From on, MaxWallets at
// most. Its proof shows it complete.
type Wallets struct {
	Total   uint64          `json:"total"`
	From    uint64          `json:"from"`
	Wallets []WalletSummary `json:"wallets"`
	// Next, if set, is the number of the first wallet not listed: ask
	// again with from=Next.
	Next uint64 `json:"next,omitempty"`
}

// WalletsIn lists up to MaxWallets wallets, from number from (1 if 0).
func WalletsIn(kv *ledger.KV, from uint64) (*Wallets, error) {
	total, err := walletCount(kv)
	if err != nil {
		return nil, err
	}
	from = max(from, 1)
	out := &Wallets{Total: total, From: from, Wallets: []WalletSummary{}}
	for n := from; n <= total; n++ {
		if len(out.Wallets) == MaxWallets {
			out.Next = n
			break
		}
		w, err := numberedWallet(kv, n)
		if err != nil {
			return nil, err
		}
		out.Wallets = append(out.Wallets, WalletSummary{N: n, ID: w.ID, Tier: w.Tier, Asset: w.Asset, Network: w.Network, Suite: w.Suite,
			Threshold: w.Threshold, Holders: len(w.Holders), State: w.State, Address: w.Address, Requests: w.Requests})
	}
	return out, nil
}

// walletsQuery is the wallets query.
var walletsQuery = ledger.Query{
	Name:    "wallets",
	Pattern: "GET /v1/custody/wallets",
	Summary: fmt.Sprintf("The wallets, in the order they were made, %d at a time: tier, chain, suite, t of n, state, address, and how many there are; proven complete.", MaxWallets),
	Params:  []ledger.Param{{Name: "from", Summary: "a wallet's number: list from it (the previous page's next; default 1)"}},
	Run: func(kv *ledger.KV, arg func(string) string) (any, error) {
		var from uint64
		if s := arg("from"); s != "" {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%w: from=%q is not a wallet's number", ledger.ErrInvalid, s)
			}
			from = n
		}
		return WalletsIn(kv, from)
	},
	Answer: (*Wallets)(nil),
}
