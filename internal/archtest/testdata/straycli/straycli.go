// Package straycli is a companion package (its name ends in cli) of no
// module: TestProbesFailTheCLIRules checks that the rules refuse it. It
// is never built (testdata).
package straycli

import "github.com/agora-ledger/agora/internal/cli"

// Commands are no module's commands.
func Commands() []cli.Command { return nil }
