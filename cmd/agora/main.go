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

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/clientcmd"
)

// coreCommands and coreCommandsAfter are the commands that are not a
// module's, in usage order: those before the modules' commands, then those
// after (see allCommands). The client's come from internal/clientcmd.
var coreCommands = append([]cli.Command{
	{Name: "dev", Run: runDev, Usage: "dev", Summary: "run a single-node dev ledger with demo keys"},
	{Name: "init", Run: runInit, Usage: "init", Summary: "write a genesis and configuration for a new ledger"},
	{Name: "start", Run: runStart, Usage: "start", Summary: "run a node from a home directory (also: agora node start)"},
	{Name: "node", Run: runNodeCmd, Usage: "node state-sync", Summary: "make a new network node join by state sync"},
	{Name: "fsck", Run: runFsck, Usage: "fsck", Summary: "check a stopped node's store by replaying it"},
	{Name: "testnet", Run: runTestnet, Usage: "testnet init|start", Summary: "write and run a local network of validators (CometBFT)"},
	{Name: "witness", Run: runWitness, Usage: "witness init|run", Summary: "run a witness that cosigns logs' checkpoints"},
}, clientcmd.Keys()...)

var coreCommandsAfter = append(clientcmd.Commands(modules),
	cli.Command{Name: "bench", Run: runBench, Usage: "bench", Summary: "measure throughput against this machine's ceiling"},
	cli.Command{Name: "version", Run: runVersion, Usage: "version", Summary: "print the version"},
)

// allCommands lists every command in usage order: the core commands, with
// the registry's modules' commands, then its services', between the
// node's and the client's.
func allCommands() []cli.Command {
	all := slices.Clone(coreCommands)
	for _, e := range registry() {
		all = append(all, moduleCommands(e)...)
	}
	for _, e := range services() {
		all = append(all, e.commands...)
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

var commands map[string]cli.RunFunc

func init() {
	var b strings.Builder
	b.WriteString(usageHead)
	commands = map[string]cli.RunFunc{}
	for _, c := range allCommands() {
		if commands[c.Name] != nil {
			panic("agora: two commands named " + c.Name)
		}
		commands[c.Name] = c.Run
		if c.Usage == "" {
			continue
		}
		if line := "  agora " + c.Usage; len(line) < 32 {
			fmt.Fprintf(&b, "%-32s%s\n", line, c.Summary)
		} else {
			fmt.Fprintf(&b, "%s\n%32s%s\n", line, "", c.Summary)
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
	if cli.IsHelp(args[0]) {
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
	var ee *cli.ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil && ee.Err.Error() != "" {
			cli.PrintError(stderr, args[0], ee.Err)
		}
		return ee.Code
	}
	cli.PrintError(stderr, args[0], err)
	return 1
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fmt.Fprintln(stdout, "agora", version)
	return nil
}

func runNodeCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && cli.IsHelp(args[0]) {
		return runStart([]string{"-h"}, stdout, stderr)
	}
	switch {
	case len(args) > 0 && args[0] == "start":
		return runStart(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "state-sync":
		return runStateSync(args[1:], stdout, stderr)
	}
	return cli.UsageError("usage: agora node start [--home DIR], or agora node state-sync --home DIR --rpc URL1,URL2")
}
