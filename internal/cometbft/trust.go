package cometbft

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"github.com/agora-ledger/agora/internal/ledger"
)

// TrustBlock asks CometBFT RPC servers of a network for a block to begin
// state sync from: the newest block that every server has committed,
// which they must all report with the same hash. It returns a StateSync
// that trusts that block.
func TrustBlock(ctx context.Context, servers []string) (*StateSync, error) {
	const hint = "give the rpc addresses (\"http://host:port\") of two or more nodes of the network; their network.json's rpc field sets them"
	if len(servers) < 2 {
		return nil, ledger.WithHint(errors.New("state sync needs at least two RPC servers, to check one against the other"), hint)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var clients []*rpchttp.HTTP
	height := int64(0)
	for _, s := range servers {
		c, err := rpchttp.New(s, "/websocket")
		if err != nil {
			return nil, ledger.WithHint(fmt.Errorf("RPC server %s: %w", s, err), hint)
		}
		res, err := c.Commit(ctx, nil)
		if err != nil {
			return nil, ledger.WithHint(fmt.Errorf("RPC server %s: latest block: %w", s, err), hint)
		}
		if h := res.Header.Height; height == 0 || h < height {
			height = h
		}
		clients = append(clients, c)
	}
	var hash []byte
	for i, c := range clients {
		res, err := c.Commit(ctx, &height)
		if err != nil {
			return nil, fmt.Errorf("RPC server %s: block %d: %w", servers[i], height, err)
		}
		got := res.Commit.BlockID.Hash
		if hash == nil {
			hash = got
		} else if !bytes.Equal(got, hash) {
			return nil, ledger.WithHint(fmt.Errorf("RPC servers %s and %s disagree on block %d (%X, %X): do not trust them", servers[0], servers[i], height, hash, got),
				"find out which one is not of the network before joining it")
		}
	}
	return &StateSync{Enable: true, RPCServers: servers, TrustHeight: height, TrustHash: fmt.Sprintf("%X", hash)}, nil
}
