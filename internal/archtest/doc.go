// Package archtest holds no code, only tests that enforce Agora's
// architecture across the repository:
//
//   - the deterministic core (internal/frost, internal/ledger, internal/sdjwt,
//     internal/smt, internal/statuslist, internal/tlog, internal/tx)
//     and every module package import no network, storage or consensus
//     code: no net/http, no Pebble, no CometBFT, no internal/store,
//     internal/node or internal/api, directly or indirectly;
//   - only internal/cometbft, the consensus adapter, imports CometBFT;
//   - the core and the modules read no clock, draw no randomness and start
//     no goroutines (internal/tx may use crypto/rand, to sign on the
//     client side);
//   - package verify does no I/O (no net/http, store, node, API or
//     internal/witness) and builds for GOOS=js GOARCH=wasm; internal/client
//     links no Pebble, store, node or CometBFT;
//   - every package under internal/ and cmd/ has exactly one package doc
//     comment;
//   - every module package (found, not listed: a package that implements
//     ledger.Module) has an entry in the binary's registry,
//     cmd/agora/registry.go, and every entry there is a module package;
//     each is held to the rules of the core above, and uses another
//     module package only through its read API: the exported declarations
//     of its read.go, the types they mention, and its Name
//     (modules_test.go);
//   - a module package depends on neither internal/cli nor a companion
//     package (internal/X/Xcli, module X's commands); internal/cli depends
//     on no module, companion or node-side package; a companion belongs
//     to a module (cli_test.go).
//
// A new module needs no change here: it is found and held to the rules
// from its first commit. testdata/probe is a module that breaks them, and
// TestProbeModuleFailsTheRules shows it fails.
package archtest
