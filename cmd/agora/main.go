// Command agora is Agora's one binary: the node, its command-line client,
// and the tools to check and measure it.
//
// Run "agora help" for the commands and "agora COMMAND -h" for each one's
// flags and examples.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// coreCommands are the commands that are not a module's, in usage order:
// those before the modules' commands, then those after (see commands).
var coreCommands, coreCommandsAfter = []cliCommand{
	{"dev", runDev, "dev", "run a single-node dev ledger with demo keys"},
	{"init", runInit, "init", "write a genesis and configuration for a new ledger"},
	{"start", runStart, "start", "run a node from a home directory (also: agora node start)"},
	{"node", runNodeCmd, "node state-sync", "make a new network node join by state sync"},
	{"fsck", runFsck, "fsck", "check a stopped node's store by replaying it"},
	{"testnet", runTestnet, "testnet init|start", "write and run a local network of validators (CometBFT)"},
	{"witness", runWitness, "witness init|run", "run a witness that cosigns logs' checkpoints"},
	{"keys", runKeys, "keys new|list|show|export-public", "manage your keys (encrypted on this machine)"},
}, []cliCommand{
	{"events", runEvents, "events watch", "follow the ledger's events as blocks commit, proven"},
	{"tx", runTx, "tx show HASH", "show a transaction"},
	{"block", runBlock, "block show [HEIGHT]", "show a block (default: the latest)"},
	{"account", runAccount, "account show ADDR|NAME", "show an account's sequence and label"},
	{"info", runInfo, "info", "show the node's chain, height and modules"},
	{"verify", runVerify, "verify checkpoint|tx|consistency|state", "check a node's answer offline against its log key"},
	{"bench", runBench, "bench", "measure throughput against this machine's ceiling"},
	{"version", runVersion, "version", "print the version"},
}

// allCommands lists every command in usage order: the core commands, with
// the registry's modules' commands between the node's and the client's.
func allCommands() []cliCommand {
	all := slices.Clone(coreCommands)
	for _, e := range registry() {
		all = append(all, moduleCommands(e)...)
	}
	return append(all, coreCommandsAfter...)
}

const usageHead = `Agora: a ledger its stakeholders run and govern together.

Usage:
`

const usageTail = `
Environment:
  AGORA_HOME         home directory (keys, genesis, data); default ~/.agora
  AGORA_NODE         node API URL for client commands; default http://127.0.0.1:7780
  AGORA_PASSPHRASE   passphrase for your keys, for scripts; otherwise you are asked
  AGORA_LOG_KEY      the log key that 'agora verify' trusts

Examples:
  agora dev
  agora keys new alice
  agora notary anchor contract.pdf --key alice
  agora notary verify contract.pdf
`

// usage is the top-level usage: one line per command, the summary in a
// column of its own, or on the next line when the command is long.
var usage string

// exitError carries an exit status; a plain error exits 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

// usageError is an error in how the command was called: exit status 2.
func usageError(format string, a ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, a...)}
}

type command func(args []string, stdout, stderr io.Writer) error

var commands map[string]command

func init() {
	var b strings.Builder
	b.WriteString(usageHead)
	commands = map[string]command{}
	for _, c := range allCommands() {
		if commands[c.name] != nil {
			panic("agora: two commands named " + c.name)
		}
		commands[c.name] = c.run
		if c.usage == "" {
			continue
		}
		if line := "  agora " + c.usage; len(line) < 32 {
			fmt.Fprintf(&b, "%-32s%s\n", line, c.summary)
		} else {
			fmt.Fprintf(&b, "%s\n%32s%s\n", line, "", c.summary)
		}
	}
	b.WriteString(usageTail)
	usage = b.String()
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "agora: unknown command %q\nRun 'agora help' for the commands.\n", args[0])
		return 2
	}
	err := cmd(args[1:], stdout, stderr)
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			printError(stderr, args[0], ee.err)
		}
		return ee.code
	}
	printError(stderr, args[0], err)
	return 1
}

// isHelp reports whether arg asks for help rather than naming a command.
func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// newFlags returns a FlagSet for a subcommand with its usage text.
func newFlags(name, text string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, strings.TrimLeft(text, "\n"))
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, allowing them before and after positional arguments,
// and returns the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &exitError{code: 2, err: errors.New("")}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fmt.Fprintln(stdout, "agora", version)
	return nil
}

func runNodeCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		return runStart([]string{"-h"}, stdout, stderr)
	}
	switch {
	case len(args) > 0 && args[0] == "start":
		return runStart(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "state-sync":
		return runStateSync(args[1:], stdout, stderr)
	}
	return usageError("usage: agora node start [--home DIR], or agora node state-sync --home DIR --rpc URL1,URL2")
}
