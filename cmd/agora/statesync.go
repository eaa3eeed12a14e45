package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/cometbft"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
)

const stateSyncUsage = `
Usage:
  agora node state-sync --home HOME --rpc URL1,URL2[,...] [--trust-period 168h]

state-sync makes the new network node at HOME join by state sync: when it
starts, it restores a recent snapshot of the ledger that its peers serve
(checked, chunk by chunk, against the app hash CometBFT's light client
verifies) and follows the chain by block sync from the block after it,
instead of replaying every block from the genesis.

It asks the CometBFT RPC servers given with --rpc (two or more nodes of
the network: the rpc field of their network.json; 'agora testnet init'
gives node i http://127.0.0.1:P+10i+2) for the newest block they all
have, checks that they agree on its hash, and writes that block as the
light client's trusted block, with the servers, into HOME's network.json
("state_sync"). Trust the servers you give: the light client verifies
everything after that block from it. The validators serve snapshots
every snapshot_interval blocks (network.json; default 1000).

State sync only happens on a node with no blocks yet; one that has some
goes on from its own.

Example:
  agora testnet init --dir /tmp/net --validators 4 --full-nodes 1 --snapshot-interval 20
  for i in 0 1 2 3; do agora node start --home /tmp/net/node$i >/tmp/node$i.log 2>&1 & done
  # a snapshot every 20 blocks; then, before node4's first start:
  agora node state-sync --home /tmp/net/node4 --rpc http://127.0.0.1:26602,http://127.0.0.1:26612
  agora node start --home /tmp/net/node4
`

func runStateSync(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("node state-sync", stateSyncUsage, stderr)
	homeDir := cli.HomeFlag(fs)
	rpc := fs.String("rpc", "", "comma-separated CometBFT RPC servers of the network, at least two (required)")
	period := fs.Duration("trust-period", 168*time.Hour, "how long the trusted block stays trusted")
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *rpc == "" {
		return cli.UsageError("--rpc is required: give two or more of the network's CometBFT RPC servers")
	}
	h := home(*homeDir)
	path := filepath.Join(string(h), cometbft.ConfigFile)
	cfg, ok, err := network(h)
	if err != nil {
		return err
	}
	if !ok {
		return ledger.WithHint(fmt.Errorf("%s has no %s: it is not a network node's home", h, cometbft.ConfigFile),
			"'agora testnet init --full-nodes 1' writes the home of a node that follows a network")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ss, err := cometbft.TrustBlock(ctx, strings.Split(*rpc, ","))
	if err != nil {
		return err
	}
	ss.TrustPeriod = node.Duration(*period)
	cfg.StateSync = ss
	if err := cfg.WithDefaults().Validate(); err != nil {
		return err
	}
	if err := cfg.Write(path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s joins by state sync, trusting block %d (%s)\nstart it with: agora node start --home %s\n", path, ss.TrustHeight, ss.TrustHash, h)
	return nil
}
