// Package probecli is the companion of testdata/probe, where a companion
// belongs: TestProbesFailTheCLIRules checks that the rules accept it. It
// is never built (testdata).
package probecli

import "github.com/agora-ledger/agora/internal/cli"

// Commands are probe's commands: none.
func Commands() []cli.Command { return nil }
