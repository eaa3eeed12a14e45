package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/cometbft"
	"github.com/agora-ledger/agora/internal/keystore"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/tx"
)

const testnetUsage = `
Usage:
  agora testnet init --dir DIR [--validators N] [--full-nodes M] [--chain-id ID] [--base-port P]
                     [--snapshot-interval B] [--community demo|none] [--home HOME]
  agora testnet start --dir DIR
  agora testnet validator NODE_HOME [--name NAME] [--power P]

init writes a ready local network of N validators (one per organisation,
"org0" to "orgN-1", each with voting power 10) and M full nodes that
follow it, on loopback ports: one home per node, DIR/node0, DIR/node1, ...
Each home has the shared genesis (naming the validators' consensus and
checkpoint keys), config.json (the node's API on 127.0.0.1:P+10i) and
network.json (CometBFT's peer address 127.0.0.1:P+10i+1, its RPC server
on 127.0.0.1:P+10i+2, its peers, its timeouts, and a snapshot for state
sync every B blocks), and the node's keys in keys/, encrypted with the
passphrase: its checkpoint key (node), and CometBFT's consensus and
peer-to-peer keys (consensus, p2p). It prints each node's
API URL. With --community demo (the default) the genesis also founds the
dev node's demo Community for governance (agora gov), whose members' keys
it creates, or reuses, in HOME's keystore (--home, AGORA_HOME).

validator prints, as JSON, the validator that the node at NODE_HOME would
be: its consensus key and checkpoint key, with a name and voting power.
That is the body of the governance action ledger.set_validator that makes
a full node a validator (power 0 removes one):

  agora gov draft --key dir-exchanges --title "Add org4" --text "..." \
    --action "ledger.set_validator=$(agora testnet validator net/node4 --name org4)"

Start one node with 'agora node start --home DIR/node0', or every node
of DIR with 'agora testnet start --dir DIR' (their logs go to
DIR/nodeI/node.log; Ctrl-C stops them all). A full node started later
catches up by block sync, or by state sync once 'agora node state-sync'
has configured it.

Examples:
  AGORA_PASSPHRASE=demo agora testnet init --validators 4 --dir /tmp/net
  AGORA_PASSPHRASE=demo agora testnet start --dir /tmp/net
  AGORA_PASSPHRASE=demo agora node start --home /tmp/net/node0
`

func runTestnet(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, strings.TrimLeft(testnetUsage, "\n"))
		return &cli.ExitError{Code: 2}
	}
	switch args[0] {
	case "init":
		return runTestnetInit(args[1:], stdout, stderr)
	case "start":
		return runTestnetStart(args[1:], stdout, stderr)
	case "validator":
		return runTestnetValidator(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, strings.TrimLeft(testnetUsage, "\n"))
		return nil
	}
	return cli.UsageError("unknown testnet command %q: use init, start or validator", args[0])
}

func runTestnetInit(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("testnet init", testnetUsage, stderr)
	dir := fs.String("dir", "", "directory for the nodes' homes (required)")
	validators := fs.Int("validators", 4, "number of validators")
	fullNodes := fs.Int("full-nodes", 0, "number of full nodes (not validators)")
	chainID := fs.String("chain-id", "agora-testnet", "chain id")
	basePort := fs.Int("base-port", 26600, "node i listens on P+10i (API), P+10i+1 (peers) and P+10i+2 (CometBFT RPC)")
	snapshots := fs.Uint64("snapshot-interval", cometbft.DefaultSnapshotInterval, "blocks between the nodes' snapshots for state sync; 0: none")
	community := fs.String("community", "demo", "demo: found the demo Community for governance; none: no governance")
	clientHome := cli.HomeFlag(fs)
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	switch {
	case *dir == "":
		return cli.UsageError("--dir is required")
	case *validators < 1 || *validators > 50:
		return cli.UsageError("--validators %d: give 1 to 50", *validators)
	case *fullNodes < 0 || *fullNodes > 10:
		return cli.UsageError("--full-nodes %d: give 0 to 10", *fullNodes)
	case *basePort < 1024 || *basePort+10*(*validators+*fullNodes) > 65535:
		return cli.UsageError("--base-port %d leaves no room for the nodes' ports", *basePort)
	case *community != "demo" && *community != "none":
		return cli.UsageError("--community %q: use demo or none", *community)
	}
	if entries, err := os.ReadDir(*dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty; remove it or choose another --dir", *dir)
	}
	pass, err := cli.Passphrase(stderr, "Passphrase for the nodes' checkpoint keys: ", true)
	if err != nil {
		return err
	}
	g := &ledger.Genesis{ChainID: *chainID, Time: time.Now().UTC().Truncate(time.Second), Params: ledger.DefaultParams()}
	if *community == "demo" {
		if err := os.MkdirAll(*clientHome, 0o700); err != nil {
			return err
		}
		names := devKeyNames()
		fmt.Fprintf(stderr, "creating (or reusing) the demo Community's %d keys in %s...\n", len(names), home(*clientHome).keys().Dir())
		keys, err := ensureKeys(home(*clientHome), pass, names)
		if err != nil {
			return err
		}
		if err := setDevGenesis(g, keys); err != nil {
			return err
		}
	}
	n := *validators + *fullNodes
	homes := make([]home, n)
	ids := make([]string, n)
	for i := range n {
		homes[i] = home(filepath.Join(*dir, fmt.Sprintf("node%d", i)))
		if err := os.MkdirAll(string(homes[i]), 0o700); err != nil {
			return err
		}
		keys, err := ensureKeys(homes[i], pass, []string{nodeKey, consensusKey, p2pKey})
		if err != nil {
			return err
		}
		if err := cometbft.InitSignState(string(homes[i])); err != nil {
			return err
		}
		noteKey, err := logVerifier(homes[i], *chainID)
		if err != nil {
			return err
		}
		ids[i] = cometbft.NodeID(keys[p2pKey].Key)
		if i < *validators {
			g.Validators = append(g.Validators, ledger.Validator{Name: fmt.Sprintf("org%d", i), PubKey: keys[consensusKey].Key, Power: 10, NoteKey: noteKey})
		}
	}
	if _, err := cometbft.GenesisDoc(g); err != nil {
		return err
	}
	p2p := func(i int) string { return fmt.Sprintf("127.0.0.1:%d", *basePort+10*i+1) }
	for i, h := range homes {
		if err := writeGenesis(h, g); err != nil {
			return err
		}
		cfg := node.Config{HTTP: fmt.Sprintf("127.0.0.1:%d", *basePort+10*i)}
		if err := writeConfig(h, cfg); err != nil {
			return err
		}
		nc := cometbft.Config{Moniker: fmt.Sprintf("node%d", i), P2P: p2p(i), RPC: fmt.Sprintf("127.0.0.1:%d", *basePort+10*i+2),
			SnapshotInterval: snapshots}.WithDefaults()
		for j := range n {
			if j != i {
				nc.Peers = append(nc.Peers, ids[j]+"@"+p2p(j))
			}
		}
		if err := nc.Write(filepath.Join(string(h), cometbft.ConfigFile)); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote a network of %d validators and %d full nodes for chain %s in %s:\n", *validators, *fullNodes, *chainID, *dir)
	for i, h := range homes {
		role := "validator " + fmt.Sprintf("org%d", i)
		if i >= *validators {
			role = "full node"
		}
		fmt.Fprintf(stdout, "  %s  http://127.0.0.1:%d  (%s)\n", h, *basePort+10*i, role)
	}
	fmt.Fprintf(stdout, "start them all with: agora testnet start --dir %s\nor one with:        agora node start --home %s\n", *dir, homes[0])
	return nil
}

// ensureKeys returns the public keys of names in h's keystore, creating
// those it lacks (each an scrypt derivation: on every core).
func ensureKeys(h home, pass string, names []string) (map[string]tx.PublicKey, error) {
	ks := h.keys()
	made := make([]*keystore.Entry, len(names))
	var eg errgroup.Group
	eg.SetLimit(runtime.NumCPU())
	for i, name := range names {
		eg.Go(func() error {
			e, err := ks.Get(name)
			if err != nil {
				e, err = ks.New(name, tx.Ed25519, pass, rand.Reader, time.Now())
			}
			made[i] = e
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	keys := map[string]tx.PublicKey{}
	for i, name := range names {
		keys[name] = made[i].PublicKey
	}
	return keys, nil
}

func runTestnetValidator(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("testnet validator", testnetUsage, stderr)
	name := fs.String("name", "", "the organisation's name (default: the home directory's name)")
	power := fs.Uint64("power", 10, "voting power; 0 removes the validator")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("testnet validator takes one node home")
	}
	h := home(pos[0])
	if *name == "" {
		*name = filepath.Base(pos[0])
	}
	g, _, err := readGenesis(h)
	if err != nil {
		return err
	}
	e, err := h.keys().Get(consensusKey)
	if err != nil {
		return ledger.WithHint(err, "'agora testnet init' writes a network node's keys into its home's keystore")
	}
	pub := e.PublicKey.Key
	noteKey, err := logVerifier(h, g.ChainID)
	if err != nil {
		return err
	}
	v := ledger.Validator{Name: *name, PubKey: pub, Power: *power, NoteKey: noteKey}
	if err := v.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(b))
	return nil
}

// testnetHomes lists the node homes in dir, in order.
func testnetHomes(dir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "node*", cometbft.ConfigFile))
	if err != nil {
		return nil, err
	}
	if len(matches) == 0 {
		return nil, ledger.WithHint(fmt.Errorf("no network in %s", dir), fmt.Sprintf("write one with 'agora testnet init --dir %s'", dir))
	}
	var homes []string
	for _, m := range matches {
		homes = append(homes, filepath.Dir(m))
	}
	sort.Slice(homes, func(i, j int) bool {
		return len(homes[i]) < len(homes[j]) || len(homes[i]) == len(homes[j]) && homes[i] < homes[j]
	})
	return homes, nil
}

func runTestnetStart(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("testnet start", testnetUsage, stderr)
	dir := fs.String("dir", "", "directory written by 'agora testnet init' (required)")
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return cli.UsageError("--dir is required")
	}
	homes, err := testnetHomes(*dir)
	if err != nil {
		return err
	}
	pass, err := cli.Passphrase(stderr, "Passphrase for the nodes' checkpoint keys: ", false)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	type child struct {
		home string
		cmd  *exec.Cmd
		done chan error
	}
	var children []*child
	defer func() {
		for _, c := range children {
			c.cmd.Process.Signal(syscall.SIGTERM)
		}
		for _, c := range children {
			<-c.done
		}
	}()
	exited := make(chan *child, len(homes))
	for _, h := range homes {
		logf, err := os.OpenFile(filepath.Join(h, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		defer logf.Close()
		cmd := exec.Command(self, "node", "start", "--home", h)
		cmd.Env = append(os.Environ(), "AGORA_PASSPHRASE="+pass)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return err
		}
		c := &child{home: h, cmd: cmd, done: make(chan error, 1)}
		children = append(children, c)
		go func() {
			c.done <- cmd.Wait()
			exited <- c
		}()
		cfg, err := node.LoadConfig(home(h).config())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "started %s: http://%s (log %s)\n", h, cfg.WithDefaults().HTTP, filepath.Join(h, "node.log"))
	}
	fmt.Fprintln(stdout, "the network runs; Ctrl-C stops every node")
	select {
	case <-ctx.Done():
		return nil
	case c := <-exited:
		err := <-c.done
		c.done <- err // for the deferred wait
		return errors.Join(fmt.Errorf("%s stopped: %v; see %s", c.home, err, filepath.Join(c.home, "node.log")))
	}
}
