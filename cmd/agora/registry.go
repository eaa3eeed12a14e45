package main

import (
	"encoding/json"
	"fmt"

	"github.com/agora-ledger/agora/internal/asset"
	"github.com/agora-ledger/agora/internal/asset/assetcli"
	"github.com/agora-ledger/agora/internal/asset/assetweb"
	"github.com/agora-ledger/agora/internal/bench"
	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/consent"
	"github.com/agora-ledger/agora/internal/consent/consentcli"
	"github.com/agora-ledger/agora/internal/consent/consentweb"
	"github.com/agora-ledger/agora/internal/console"
	"github.com/agora-ledger/agora/internal/credential"
	"github.com/agora-ledger/agora/internal/credential/credentialcli"
	"github.com/agora-ledger/agora/internal/credential/credentialweb"
	"github.com/agora-ledger/agora/internal/custody"
	"github.com/agora-ledger/agora/internal/custody/custodycli"
	"github.com/agora-ledger/agora/internal/custody/custodyweb"
	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/gov/govcli"
	"github.com/agora-ledger/agora/internal/gov/govweb"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/identity/identitycli"
	"github.com/agora-ledger/agora/internal/identity/identityweb"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/login"
	"github.com/agora-ledger/agora/internal/login/logincli"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/notary/notarycli"
	"github.com/agora-ledger/agora/internal/notary/notaryweb"
	"github.com/agora-ledger/agora/internal/tx"
)

// registry returns the ledger's modules, in genesis order: one entry wires
// a module into the binary, and everything about modules derives from
// it: the executor's modules (modules), the commands and the top-level
// usage (allCommands), with 'agora MODULE types|send' generated from the
// module's message types (moduleCommands), 'agora init --genesis MODULE=FILE' (genesisFiles),
// the genesis of 'agora dev' and 'agora testnet init' (setDevGenesis),
// the scenarios of 'agora bench' (scenarios) and the console's sections
// (consoleSections).
//
// internal/archtest reads this function's source: every package that
// implements ledger.Module must be the package of one entry's module, and
// every entry's must be such a package; each is held to the rules of the
// deterministic core and reads other modules only through their read.go.
// An entry's module is therefore one package's value, built in place.
func registry() []moduleEntry {
	return []moduleEntry{{
		name:     identity.Name,
		module:   func(*ledger.Actions) ledger.Module { return identity.Module{} },
		commands: identitycli.Commands(),
		bench:    []bench.Scenario{bench.DIDCreate, bench.DIDRotate, bench.Resolve, bench.ResolveProof},
		console:  identityweb.Section(),
	}, {
		name:     notary.Name,
		module:   func(*ledger.Actions) ledger.Module { return notary.Module{} },
		commands: notarycli.Commands(),
		dev: func(func(string) tx.PublicKey) (any, error) {
			return notary.Genesis{Policy: notary.Policy{Mode: "open"}}, nil
		},
		bench:   []bench.Scenario{bench.Notary, bench.Mixed},
		console: notaryweb.Section(),
	}, {
		name: gov.Name,
		// Governance executes the actions of every module.
		module:   func(acts *ledger.Actions) ledger.Module { return gov.Module{Actions: acts} },
		commands: govcli.Commands(modules),
		dev: func(key func(string) tx.PublicKey) (any, error) {
			g := gov.Demo(key)
			// The registry of accredited data providers that the asset
			// module reads, empty: governance accredits them.
			g.Resources = append(g.Resources, gov.Resource{ID: asset.ProvidersResource, Parent: gov.RootResource,
				Name: "Accredited data providers (oracles)", Controller: "identity"})
			return g, nil
		},
		devKeys: gov.DemoKeys,
		bench:   []bench.Scenario{bench.GovVote},
		console: govweb.Section(),
	}, {
		name:     credential.Name,
		module:   func(*ledger.Actions) ledger.Module { return credential.Module{} },
		commands: credentialcli.Commands(),
		console:  credentialweb.Section(),
	}, {
		name:     consent.Name,
		module:   func(*ledger.Actions) ledger.Module { return consent.Module{} },
		commands: consentcli.Commands(),
		bench:    []bench.Scenario{bench.ConsentUse},
		console:  consentweb.Section(),
	}, {
		name:     asset.Name,
		module:   func(*ledger.Actions) ledger.Module { return asset.Module{} },
		commands: assetcli.Commands(),
		console:  assetweb.Section(),
	}, {
		name:     custody.Name,
		module:   func(*ledger.Actions) ledger.Module { return custody.Module{} },
		commands: custodycli.Commands(),
		bench:    []bench.Scenario{bench.CustodyDKG, bench.CustodySign},
		console:  custodyweb.Section(),
	}}
}

// services returns the off-ledger services built on the ledger, in usage
// order. A service is a room like a module's (internal/S, its commands in
// internal/S/Scli) that keeps no state on the ledger and so has no
// ledger.Module: it reads the ledger as any client does, proven.
//
// internal/archtest reads this function's source too: a companion package
// internal/S/Scli must belong to a module or to a service named here.
func services() []serviceEntry {
	return []serviceEntry{{
		service:  login.Name,
		commands: logincli.Commands(),
	}}
}

// A serviceEntry wires one off-ledger service into the binary.
type serviceEntry struct {
	// service is the service's name, its package's Name.
	service string
	// commands are its commands, in usage order, from its companion
	// package internal/S/Scli.
	commands []cli.Command
}

// A moduleEntry wires one module into the binary.
type moduleEntry struct {
	// name is the module's name (ledger.Module.Name), its genesis
	// section's key and the MODULE of 'agora init --genesis'.
	name string
	// module returns the module; acts are the action types of all the
	// registry's modules, for a module that executes governed actions.
	module func(acts *ledger.Actions) ledger.Module
	// commands are the module's CLI commands, in usage order, from its
	// companion package internal/MODULE/MODULEcli.
	commands []cli.Command
	// dev, if set, returns the module's genesis section for the dev
	// ledger and the demo network, given the public key of a demo key by
	// name; devKeys are the names it asks for. A module without dev gets
	// no section there (its InitGenesis default).
	dev     func(key func(name string) tx.PublicKey) (any, error)
	devKeys []string
	// bench are the module's 'agora bench' scenarios, in --list order.
	bench []bench.Scenario
	// console is the module's part of the web console: its pages, its
	// navigation entry and its search.
	console console.Section
}

// modules returns the ledger's modules, in genesis order.
func modules() []ledger.Module {
	reg := registry()
	mods := make([]ledger.Module, len(reg))
	for i, e := range reg {
		mods[i] = e.module(nil)
	}
	acts := ledger.NewActions(mods...)
	for i, e := range reg {
		mods[i] = e.module(acts)
	}
	return mods
}

// moduleNames lists the registry's module names, in genesis order.
func moduleNames() []string {
	reg := registry()
	names := make([]string, len(reg))
	for i, e := range reg {
		names[i] = e.name
	}
	return names
}

// findModule returns the registry entry of the module called name.
func findModule(name string) (moduleEntry, bool) {
	for _, e := range registry() {
		if e.name == name {
			return e, true
		}
	}
	return moduleEntry{}, false
}

// devKeyNames lists the demo keys the modules' dev sections ask for, in
// registry order, each once.
func devKeyNames() []string {
	var names []string
	seen := map[string]bool{}
	for _, e := range registry() {
		for _, n := range e.devKeys {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names
}

// setDevGenesis writes every module's dev section into g, with the demo
// keys keys (by name; devKeyNames lists those needed).
func setDevGenesis(g *ledger.Genesis, keys map[string]tx.PublicKey) error {
	key := func(name string) tx.PublicKey { return keys[name] }
	for _, e := range registry() {
		if e.dev == nil {
			continue
		}
		sec, err := e.dev(key)
		if err != nil {
			return fmt.Errorf("%s dev genesis: %w", e.name, err)
		}
		if err := setSection(g, e.name, sec); err != nil {
			return err
		}
	}
	return nil
}

// setSection writes module's genesis section, sec encoded as JSON, into g.
func setSection(g *ledger.Genesis, module string, sec any) error {
	b, err := json.Marshal(sec)
	if err != nil {
		return fmt.Errorf("%s genesis: %w", module, err)
	}
	if g.Modules == nil {
		g.Modules = map[string]json.RawMessage{}
	}
	g.Modules[module] = b
	return nil
}

// consoleSections lists the modules' parts of the console, in registry
// order.
func consoleSections() []console.Section {
	var out []console.Section
	for _, e := range registry() {
		out = append(out, e.console)
	}
	return out
}

// scenarios lists the bench scenarios of every module, in registry order.
func scenarios() []bench.Scenario {
	var out []bench.Scenario
	for _, e := range registry() {
		out = append(out, e.bench...)
	}
	return out
}

// moduleCommands returns e's commands with those generated from its
// declared message types (cli.ModuleCommands).
func moduleCommands(e moduleEntry) []cli.Command {
	var types []ledger.MsgType
	if d, ok := e.module(nil).(ledger.Declarer); ok {
		types = d.MsgTypes()
	}
	return cli.ModuleCommands(e.name, types, e.commands)
}
