// Package clientcmd is the client's commands of 'agora' that are no
// module's: 'agora keys' for the keys on this machine; 'agora tx|block|
// account show' and 'agora info', which ask a node; 'agora events watch',
// which follows its event feed, proven; and 'agora verify', which checks
// its answers offline. cmd/agora takes them from Keys and Commands, as it
// takes a module's from its companion package (internal/X/Xcli); like
// those, they build on internal/cli.
package clientcmd

import (
	"io"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/ledger"
)

// Keys returns 'agora keys', which manages the keys of the home directory.
func Keys() []cli.Command {
	return []cli.Command{
		{Name: "keys", Run: runKeys, Usage: "keys new|list|show|export-public", Summary: "manage your keys (encrypted on this machine)"},
	}
}

// Commands returns the client's commands, in usage order. 'agora verify
// state' runs a query of one of modules (the ledger's, in genesis order)
// over the proven state.
func Commands(modules func() []ledger.Module) []cli.Command {
	verifyRun := func(args []string, stdout, stderr io.Writer) error {
		return runVerify(modules, args, stdout, stderr)
	}
	return []cli.Command{
		{Name: "events", Run: runEvents, Usage: "events watch", Summary: "follow the ledger's events as blocks commit, proven"},
		{Name: "tx", Run: runTx, Usage: "tx show HASH", Summary: "show a transaction"},
		{Name: "block", Run: runBlock, Usage: "block show [HEIGHT]", Summary: "show a block (default: the latest)"},
		{Name: "account", Run: runAccount, Usage: "account show ADDR|NAME", Summary: "show an account's sequence and label"},
		{Name: "info", Run: runInfo, Usage: "info", Summary: "show the node's chain, height and modules"},
		{Name: "verify", Run: verifyRun, Usage: "verify checkpoint|tx|consistency|state", Summary: "check a node's answer offline against its log key"},
	}
}
