package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
)

const devUsage = `
Usage: agora dev [--home DIR] [--http ADDR]

Runs a single-node ledger for development. The first run in DIR creates a
dev genesis with demo stakeholder identities, whose keys it stores in
DIR/keys encrypted with AGORA_PASSPHRASE (or "dev" if unset). Later runs
on the same DIR resume the same ledger. Stop it with Ctrl-C.

Examples:
  agora dev
  agora dev --home /tmp/agora --http 127.0.0.1:8080
`

// devIdentities are the demo stakeholders of the dev genesis: one of each
// kind of user the ledger serves.
var devIdentities = []struct{ name, role string }{
	{"exchange-tokyo", "exchange (VASP)"},
	{"custodian-zurich", "custodian"},
	{"telco-id", "identity deployer"},
	{"regulator", "regulator"},
	{"alice", "citizen"},
}

const devChainID = "agora-dev"

func runDev(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("dev", devUsage, stderr)
	homeDir := cli.HomeFlag(fs)
	httpAddr := fs.String("http", "127.0.0.1:7780", "API and console listen address")
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	h := home(*homeDir)
	pass := os.Getenv("AGORA_PASSPHRASE")
	if pass == "" {
		pass = "dev"
	}
	created := false
	if _, err := os.Stat(h.genesis()); errors.Is(err, os.ErrNotExist) {
		if err := writeDevHome(h, pass, stderr); err != nil {
			return err
		}
		created = true
	}
	cfg, err := node.LoadConfig(h.config())
	if err != nil {
		return err
	}
	cfg.HTTP = *httpAddr
	// Never echo a passphrase the user chose; the default one is no secret.
	passHint := "AGORA_PASSPHRASE=dev"
	if os.Getenv("AGORA_PASSPHRASE") != "" {
		passHint = "AGORA_PASSPHRASE=<the passphrase you set>"
	}
	if _, err := ensureNodeKey(h, pass); err != nil {
		return err
	}
	return serve(h, cfg, pass, stderr, func(addr string, g *ledger.Genesis, head ledger.Header) {
		what := "resumed"
		if created {
			what = "created"
		}
		logKey, err := logVerifier(h, g.ChainID)
		if err != nil {
			logKey = "(unknown: " + err.Error() + ")"
		}
		fmt.Fprintf(stdout, `Agora dev node running (%s ledger %s at height %d)
  API and console  http://%s
  home             %s
  demo keys        exchange-tokyo, custodian-zurich, telco-id, regulator, alice
                   (passphrase from AGORA_PASSPHRASE, or "dev")
                   for development only: their passphrase is no secret; never use them
                   for anything of value
  log key          %s
                   (signs every checkpoint; 'agora verify' checks answers against it)

Try, in another terminal:
  export AGORA_HOME=%s AGORA_NODE=http://%s %s
  export AGORA_LOG_KEY='%s'
  agora keys list
  agora notary anchor README.md --key alice
  agora notary verify README.md          # proven against the log key
  agora did create --key alice           # a self-certifying DID; then agora did show DID
  agora block show
  curl -s http://%s/v1/node/info

Stop with Ctrl-C; run 'agora dev --home %s' again to resume.
`, what, g.ChainID, head.Height, addr, h, logKey, h, addr, passHint, logKey, addr, h)
	})
}

// writeDevHome creates the demo keys, the dev genesis and configuration.
func writeDevHome(h home, pass string, stderr io.Writer) error {
	if err := os.MkdirAll(string(h), 0o700); err != nil {
		return err
	}
	g := &ledger.Genesis{ChainID: devChainID, Time: time.Now().UTC().Truncate(time.Second), Params: ledger.DefaultParams()}
	names := devKeyNames()
	for _, id := range devIdentities {
		if !slices.Contains(names, id.name) {
			names = append(names, id.name)
		}
	}
	fmt.Fprintf(stderr, "creating the demo keys (%d)...\n", len(names))
	keys, err := ensureKeys(h, pass, names)
	if err != nil {
		return err
	}
	for _, id := range devIdentities {
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Label: id.name + " (" + id.role + ")", Key: keys[id.name]})
	}
	if err := setDevGenesis(g, keys); err != nil {
		return err
	}
	if err := writeGenesis(h, g); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "created dev ledger %s in %s\n", devChainID, h)
	if _, err := os.Stat(h.config()); err == nil {
		return nil // written before the first run: keep it
	}
	return writeConfig(h, node.Config{EmptyBlockInterval: node.Every(time.Second)})
}

func writeGenesis(h home, g *ledger.Genesis) error {
	b, err := g.Encode()
	if err != nil {
		return err
	}
	return writeNew(h.genesis(), b)
}

func writeConfig(h home, cfg node.Config) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return writeNew(h.config(), append(b, '\n'))
}

// writeNew writes a file that must not exist yet, durably.
func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
