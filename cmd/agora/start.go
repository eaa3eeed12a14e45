package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tx"
)

const initUsage = `
Usage: agora init --chain-id ID [--home DIR] [--key NAME]... [--genesis MODULE=FILE]... [--notary open|allowlist]

Writes DIR/genesis.json and DIR/config.json for a new ledger. Each --key
names a key in DIR/keys (see 'agora keys new') to list in the genesis as a
labelled account; with --notary allowlist only those keys may anchor.
--genesis MODULE=FILE takes FILE as the genesis section of the module
MODULE ({modules}); a module without one starts from its
defaults. --genesis gov=FILE founds the ledger's governance (the Bylaws,
bodies, Board and resources; see docs/spec/governance.md); without it the
ledger has no governance, and its parameters can never change. --gov FILE
is short for --genesis gov=FILE. Edit the files before the first start if
you like: the genesis is fixed once a node has started from it.

Examples:
  agora keys new operator --home /srv/agora
  agora init --home /srv/agora --chain-id acme-1 --key operator
  agora init --home /srv/agora --chain-id acme-1 --key operator --genesis gov=community.json
  agora start --home /srv/agora
`

// A genesisFile is a module's genesis section given to 'agora init'.
type genesisFile struct {
	path string
	flag string // as given, for errors: "--genesis gov=FILE"
}

// genesisFiles reads init's --genesis MODULE=FILE flags, and --gov FILE,
// by module name.
func genesisFiles(sections []string, govFile string) (map[string]genesisFile, error) {
	files := map[string]genesisFile{}
	add := func(module, path, flag string) error {
		if _, ok := findModule(module); !ok {
			return cli.UsageError("%s: no module %q (the modules: %s)", flag, module, strings.Join(moduleNames(), ", "))
		}
		if _, dup := files[module]; dup {
			return cli.UsageError("%s: a second genesis section for %s", flag, module)
		}
		files[module] = genesisFile{path: path, flag: flag}
		return nil
	}
	for _, s := range sections {
		module, path, ok := strings.Cut(s, "=")
		if !ok || path == "" {
			return nil, cli.UsageError("--genesis %q: want MODULE=FILE, e.g. gov=community.json", s)
		}
		if err := add(module, path, "--genesis "+s); err != nil {
			return nil, err
		}
	}
	if govFile != "" {
		if err := add(gov.Name, govFile, "--gov "+govFile); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func runInit(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("init", strings.Replace(initUsage, "{modules}", strings.Join(moduleNames(), ", "), 1), stderr)
	homeDir := cli.HomeFlag(fs)
	chainID := fs.String("chain-id", "", "chain id (letters, digits, '.', '_', '-')")
	notaryMode := fs.String("notary", "open", "who may anchor: open, or allowlist (the --key accounts)")
	var sections cli.StringList
	fs.Var(&sections, "genesis", "take a module's genesis section from a file: `MODULE=FILE` (repeatable)")
	govFile := fs.String("gov", "", "short for --genesis gov=`FILE`")
	var keys cli.StringList
	fs.Var(&keys, "key", "a key `NAME` from the keystore to list as a genesis account (repeatable)")
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	if !tx.ValidChainID(*chainID) {
		return cli.UsageError("--chain-id %q: give 1-64 letters, digits, '.', '_' or '-'", *chainID)
	}
	if *notaryMode != "open" && *notaryMode != "allowlist" {
		return cli.UsageError("--notary %q: use open or allowlist", *notaryMode)
	}
	files, err := genesisFiles(sections, *govFile)
	if err != nil {
		return err
	}
	if _, ok := files[notary.Name]; ok && flagSet(fs, "notary") {
		return cli.UsageError("--notary and --genesis notary=FILE: give one")
	}
	h := home(*homeDir)
	if _, err := os.Stat(h.genesis()); err == nil {
		return fmt.Errorf("%s already exists; remove it to start a new ledger", h.genesis())
	}
	g := &ledger.Genesis{ChainID: *chainID, Time: time.Now().UTC().Truncate(time.Second), Params: ledger.DefaultParams()}
	var allowed []string
	for _, name := range keys {
		e, err := h.keys().Get(name)
		if err != nil {
			return err
		}
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Label: name, Key: e.PublicKey})
		allowed = append(allowed, e.Address)
	}
	if err := setNotaryGenesis(g, *notaryMode, allowed); err != nil {
		return err
	}
	// Load each section now, so that a mistake shows here rather than at
	// the first start.
	exec, err := ledger.NewExecutor(g.ChainID, modules()...)
	if err != nil {
		return err
	}
	for _, name := range moduleNames() {
		f, ok := files[name]
		if !ok {
			continue
		}
		b, err := os.ReadFile(f.path)
		if err != nil {
			return err
		}
		g.Modules[name] = b
		if _, err := exec.InitGenesis(g); err != nil {
			return fmt.Errorf("%s: %w", f.flag, err)
		}
	}
	if err := os.MkdirAll(string(h), 0o700); err != nil {
		return err
	}
	if _, err := h.keys().Get(nodeKey); err != nil {
		pass, err := cli.Passphrase(stderr, "Passphrase for the node's checkpoint key: ", true)
		if err != nil {
			return err
		}
		if _, err := ensureNodeKey(h, pass); err != nil {
			return err
		}
	}
	vkey, err := logVerifier(h, *chainID)
	if err != nil {
		return err
	}
	if err := writeGenesis(h, g); err != nil {
		return err
	}
	if _, err := os.Stat(h.config()); errors.Is(err, os.ErrNotExist) {
		if err := writeConfig(h, node.Config{}.WithDefaults()); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote %s and %s\nthe node's checkpoints are signed by the key (give it to whoever verifies):\n  %s\nstart the node with: agora start --home %s\n", h.genesis(), h.config(), vkey, h)
	return nil
}

const startUsage = `
Usage: agora start [--home DIR] [--http ADDR]

Runs a node from DIR (see 'agora init'): the first start initialises the
store in DIR/data from DIR/genesis.json; later starts resume from the last
committed block. Configuration is read from DIR/config.json (fields are
documented in docs/configuration.md); --http overrides its "http" field.
Stop it with Ctrl-C or SIGTERM.

Examples:
  agora start --home /srv/agora
  agora node start --home /srv/agora --http 0.0.0.0:7780
`

func runStart(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("start", startUsage, stderr)
	homeDir := cli.HomeFlag(fs)
	httpAddr := fs.String("http", "", "API listen address (overrides config.json)")
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	h := home(*homeDir)
	cfg, err := node.LoadConfig(h.config())
	if err != nil {
		return err
	}
	if *httpAddr != "" {
		cfg.HTTP = *httpAddr
	}
	pass, err := cli.Passphrase(stderr, "Passphrase for the node key: ", false)
	if err != nil {
		return err
	}
	return serve(h, cfg, pass, stderr, func(addr string, g *ledger.Genesis, head ledger.Header) {
		fmt.Fprintf(stdout, "agora node for %s at height %d, API on http://%s\n", g.ChainID, head.Height, addr)
	})
}

const fsckUsage = `
Usage: agora fsck [--home DIR]

Checks a stopped node's store: that it holds the newest block the node
signed (DIR/signed-head: a store a damaged disk took back to an earlier
block would fork the log), then replays every block from the genesis and
checks each stored header, the transaction index, and that the stored
state is exactly the replayed state. Exits 0 only if all holds.

Example:
  agora fsck --home /srv/agora
`

func runFsck(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("fsck", fsckUsage, stderr)
	homeDir := cli.HomeFlag(fs)
	quiet := fs.Bool("q", false, "no progress output")
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	h := home(*homeDir)
	log := newLogger(stderr, "warn")
	st, exec, g, _, err := openLedger(h, log, nil, false)
	if err != nil {
		return err
	}
	defer st.Close()
	signed, hasSigned, err := store.ReadSignedHead(h.signedHead())
	if err != nil {
		return err
	}
	if hasSigned {
		if err := st.CheckSignedHead(h.signedHead(), signed); err != nil {
			return fmt.Errorf("%s: %w", h.data(), err)
		}
	}
	last := time.Now()
	var verifier note.Verifier
	if vkey, err := logVerifier(h, g.ChainID); err == nil {
		if verifier, err = note.NewVerifier(vkey); err != nil {
			return err
		}
	}
	rep, err := node.Fsck(st, exec, g, verifier, func(height, head uint64) {
		if !*quiet && (time.Since(last) > time.Second || height == head) {
			fmt.Fprintf(stderr, "\rreplayed block %d of %d", height, head)
			last = time.Now()
		}
	})
	if !*quiet && err == nil && rep.Head > 0 {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok: %d blocks, %d transactions, %d state keys; app hash %x at height %d\n",
		rep.Blocks, rep.Txs, rep.StateKeys, rep.AppHash, rep.Head)
	if hasSigned {
		fmt.Fprintf(stdout, "the store holds the node's signed head, block %d (%s)\n", signed.Height, h.signedHead())
	}
	return nil
}

// setNotaryGenesis writes the notary's genesis section into g: its
// policy mode, and with allowlist the accounts allowed to anchor.
func setNotaryGenesis(g *ledger.Genesis, mode string, allowed []string) error {
	p := notary.Policy{Mode: mode}
	if mode == "allowlist" {
		p.Allowed = allowed
	}
	return setSection(g, notary.Name, notary.Genesis{Policy: p})
}
