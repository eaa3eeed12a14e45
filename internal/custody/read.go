package custody

import (
	"github.com/agora-ledger/agora/internal/ledger"
)

// The typed questions other modules and the signers ask the custody
// module. Each takes a read-only view of the custody namespace
// (ctx.View(custody.Name) while executing, the query's view when
// answering) and reads by point lookups, so a state proof covers the
// answer.

// WalletIn returns the wallet id. Errors wrap ledger.ErrNotFound when
// there is none.
func WalletIn(kv *ledger.KV, id string) (*Wallet, error) { return loadWallet(kv, id) }

// RequestIn returns request n of wallet. Errors wrap ledger.ErrNotFound
// when there is none.
func RequestIn(kv *ledger.KV, wallet string, n uint64) (*Req, error) {
	return loadRequest(kv, wallet, n)
}

// SealedIn returns the encrypted round-two shares dealer posted for
// wallet's DKG, or none.
func SealedIn(kv *ledger.KV, wallet string, dealer uint16) ([]Sealed, error) {
	var s []Sealed
	if _, err := kv.GetValue(sealedKey(wallet, dealer), &s); err != nil {
		return nil, err
	}
	return s, nil
}

// ProposalIn returns wallet's proposed policy change, if one is open.
func ProposalIn(kv *ledger.KV, wallet string) (*Proposal, bool, error) {
	var p Proposal
	found, err := kv.GetValue(proposalKey(wallet), &p)
	if err != nil || !found {
		return nil, false, err
	}
	return &p, true, nil
}
