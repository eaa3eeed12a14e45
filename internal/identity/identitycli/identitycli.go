// Package identitycli is the identity module's commands: 'agora did'
// (DIDs, their keys, history and recovery), 'agora name' (names in
// governed namespaces) and 'agora attest' (attestations, confidence
// scores, ID-verification anchors). cmd/agora's registry takes them from
// Commands; 'agora identity types|send' are generated from the module's
// message types (cli.ModuleCommands).
package identitycli

import "github.com/agora-ledger/agora/internal/cli"

// Commands returns the identity module's commands, in usage order.
func Commands() []cli.Command {
	return []cli.Command{
		{Name: "did", Run: runDID, Usage: "did create|show|rotate|add-key|revoke|suspend|reinstate|deactivate|history",
			Summary: "self-certifying identifiers (did:agora) and their keys"},
		{Name: "name", Run: runName, Usage: "name register|transfer|release|resolve",
			Summary: "human-readable names for DIDs in governed namespaces"},
		{Name: "attest", Run: runAttest, Usage: "attest claim|check|revoke|list|score|anchor-id|verify-id|revoke-id",
			Summary: "attestations, confidence scores, ID-verification anchors"},
	}
}
