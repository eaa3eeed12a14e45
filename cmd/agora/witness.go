package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/internal/witness"
)

const witnessUsage = `
Usage:
  agora witness init [--home DIR] [--name NAME]
  agora witness run [--home DIR] [--listen ADDR] --log LOGKEY|ORIGIN=LOGKEY [--log ...]

A witness cosigns transparency log checkpoints (C2SP tlog-witness), each
only after checking that it extends the last checkpoint it cosigned for
that log, so that a log cannot show two histories without the witness
noticing. Nodes that list it under "witnesses" in config.json send it
their checkpoints and serve its cosignatures; clients can demand that N of
the M witnesses they trust have cosigned.

init creates the witness's Ed25519 key in DIR/keys, encrypted with your
passphrase, and prints its cosigner verifier key, which nodes and clients
configure. NAME names the witness in its cosignatures (default
witness.<hostname>).

run serves POST /add-checkpoint on ADDR for the logs given with --log: a
log's verifier key, whose name is its checkpoints' origin (an Agora node
reports it as log_key in GET /v1/node/info), or ORIGIN=LOGKEY. Repeat
--log for more logs, or more keys of one log. What it cosigned is kept in
DIR/witness-state.json; run one witness process per home. Stop it with
Ctrl-C or SIGTERM.

Examples:
  agora witness init --home /srv/witness --name witness.example.org
  agora witness run --home /srv/witness --listen 127.0.0.1:7790 \
      --log "$(curl -s http://127.0.0.1:7780/v1/node/info | jq -r .log_key)"
`

// readWitness reads the witness of the home dir (witness.Home).
func readWitness(dir string) (*witness.Config, error) {
	c, err := witness.Home(dir).ReadConfig()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ledger.WithHint(fmt.Errorf("%s has no witness", dir), fmt.Sprintf("run 'agora witness init --home %s' first", dir))
	}
	return c, err
}

// witnessVerifierKey returns the cosigner verifier key of the witness
// called name whose key is in the home dir; no passphrase is needed.
func witnessVerifierKey(dir, name string) (string, error) {
	e, err := cli.Keys(dir).Get(witness.KeyName)
	if err != nil {
		return "", err
	}
	if e.PublicKey.Alg != tx.Ed25519 {
		return "", fmt.Errorf("the witness key must be ed25519, is %s", e.PublicKey.Alg)
	}
	return witness.VerifierKey(name, ed25519.PublicKey(e.PublicKey.Key))
}

func runWitness(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || cli.IsHelp(args[0]) {
		fmt.Fprint(stderr, strings.TrimLeft(witnessUsage, "\n"))
		if len(args) > 0 {
			return flag.ErrHelp
		}
		return &cli.ExitError{Code: 2}
	}
	switch args[0] {
	case "init":
		return runWitnessInit(args[1:], stdout, stderr)
	case "run":
		return runWitnessRun(args[1:], stdout, stderr)
	}
	return cli.UsageError("unknown witness command %q (want init or run)", args[0])
}

func runWitnessInit(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("witness init", witnessUsage, stderr)
	homeDir := cli.HomeFlag(fs)
	name := fs.String("name", witness.DefaultName(), "the witness's `NAME` in its cosignatures (no spaces or '+')")
	if pos, err := cli.Parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return cli.UsageError("witness init takes no arguments")
	}
	dir := *homeDir
	if c, err := readWitness(dir); err == nil {
		vkey, err := witnessVerifierKey(dir, c.Name)
		if err != nil {
			return err
		}
		return ledger.WithHint(fmt.Errorf("%s already has a witness, %s, whose key is\n  %s", dir, c.Name, vkey),
			fmt.Sprintf("start it with 'agora witness run --home %s --log LOGKEY'", dir))
	}
	// Refuse a bad name before asking for a passphrase.
	if _, err := witness.VerifierKey(*name, make(ed25519.PublicKey, ed25519.PublicKeySize)); err != nil {
		return cli.UsageError("--name %q: give a name without spaces or '+', such as witness.example.org", *name)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if _, err := cli.Keys(dir).Get(witness.KeyName); err != nil {
		pass, err := cli.Passphrase(stderr, "Passphrase for the witness key: ", true)
		if err != nil {
			return err
		}
		if _, err := cli.Keys(dir).New(witness.KeyName, tx.Ed25519, pass, rand.Reader, time.Now()); err != nil {
			return err
		}
	}
	vkey, err := witnessVerifierKey(dir, *name)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(witness.Config{Name: *name}, "", "  ")
	if err != nil {
		return err
	}
	if err := writeNew(witness.Home(dir).ConfigFile(), append(b, '\n')); err != nil {
		return err
	}
	fmt.Fprintf(stdout, `created witness %s in %s
its cosigner key (give it to the nodes and clients that rely on this witness):
  %s
start it with: agora witness run --home %s --log LOGKEY
`, *name, dir, vkey, dir)
	return nil
}

func runWitnessRun(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("witness run", witnessUsage, stderr)
	homeDir := cli.HomeFlag(fs)
	listen := fs.String("listen", "127.0.0.1:7790", "`ADDR` to serve POST /add-checkpoint on")
	var logFlags cli.StringList
	fs.Var(&logFlags, "log", "a log to witness: its verifier key `LOGKEY`, or ORIGIN=LOGKEY (repeatable)")
	if pos, err := cli.Parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return cli.UsageError("witness run takes no arguments")
	}
	if len(logFlags) == 0 {
		return cli.UsageError("give at least one --log: the verifier key of a log to witness")
	}
	logs, err := witness.ParseLogs(logFlags)
	if err != nil {
		return cli.UsageError("--log %v", err)
	}
	c, err := readWitness(*homeDir)
	if err != nil {
		return err
	}
	pass, err := cli.Passphrase(stderr, "Passphrase for the witness key: ", false)
	if err != nil {
		return err
	}
	k, err := cli.Keys(*homeDir).Unlock(witness.KeyName, pass)
	if err != nil {
		return fmt.Errorf("witness key: %w", err)
	}
	priv, ok := k.Ed25519()
	if !ok {
		return fmt.Errorf("the witness key must be ed25519, is %s", k.Alg())
	}
	skey, vkey, err := witness.KeyPair(c.Name, priv)
	if err != nil {
		return err
	}
	cosigner, err := witness.NewCosigner(skey, time.Now)
	if err != nil {
		return err
	}
	state, err := witness.OpenFileState(witness.Home(*homeDir).StateFile())
	if err != nil {
		return err
	}
	w, err := witness.New(cosigner, logs, state)
	if err != nil {
		return err
	}
	log := newLogger(stderr, "info")
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return ledger.WithHint(fmt.Errorf("listen on %s: %w", *listen, err), "choose another address with --listen")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var origins []string
	for _, l := range logs {
		origins = append(origins, l.Origin)
	}
	fmt.Fprintf(stdout, "agora witness %s listening on http://%s\n  key   %s\n  logs  %s\n", c.Name, ln.Addr(), vkey, strings.Join(origins, ", "))
	log.Info("witness started", "name", c.Name, "addr", ln.Addr().String(), "logs", len(logs))
	return witness.Serve(ctx, ln, w, log)
}
