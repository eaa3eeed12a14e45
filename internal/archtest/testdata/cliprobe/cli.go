// Package cli is a probe that stands in for internal/cli and imports the
// notary module and the node: TestProbesFailTheCLIRules checks that the
// rules refuse both. It is never built (testdata).
package cli

import (
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/notary"
)

// Name is the notary's, and Config the node's.
var (
	Name   = notary.Name
	Config node.Config
)
