package main

import (
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestRegistryWiresModules checks that the executor's modules are the
// registry's, in its order, each under its entry's name, and that
// governance decodes the actions of all of them.
func TestRegistryWiresModules(t *testing.T) {
	mods := modules()
	names := moduleNames()
	if len(mods) != len(names) {
		t.Fatalf("%d modules, %d names", len(mods), len(names))
	}
	for i, m := range mods {
		if m.Name() != names[i] {
			t.Errorf("registry entry %d is named %q, its module %q", i, names[i], m.Name())
		}
	}
	if _, err := ledger.NewExecutor("test-1", mods...); err != nil {
		t.Fatal(err)
	}
	var g gov.Module
	for _, m := range mods {
		if gm, ok := m.(gov.Module); ok {
			g = gm
		}
	}
	if g.Actions == nil {
		t.Fatal("the gov module has no actions")
	}
	for _, want := range []string{"ledger.set_params", "identity.set_params", "gov.set_entry"} {
		if !slices.Contains(g.Actions.Names(), want) {
			t.Errorf("gov's actions lack %s (have %v)", want, g.Actions.Names())
		}
	}
}

// TestCommandsDeriveFromRegistry checks that every module command is in
// the command map and in the usage, once.
func TestCommandsDeriveFromRegistry(t *testing.T) {
	for _, e := range registry() {
		if len(e.commands) == 0 {
			t.Errorf("module %s has no commands", e.name)
		}
		for _, c := range e.commands {
			if commands[c.Name] == nil {
				t.Errorf("command %s of module %s is not in the command map", c.Name, e.name)
			}
			if n := strings.Count(usage, "\n  agora "+c.Usage); n != 1 {
				t.Errorf("the usage has %d lines for %q, want 1", n, c.Usage)
			}
		}
	}
	if len(commands) != len(allCommands()) {
		t.Errorf("%d commands in the map, %d listed", len(commands), len(allCommands()))
	}
}

// TestEveryModuleSendsItsDeclaredTypes checks that every registered
// module declares its message types and gets 'agora MODULE types' and
// 'agora MODULE send' from them, whether or not it has a command of its
// own named after it, and that each declared type decodes in its module.
func TestEveryModuleSendsItsDeclaredTypes(t *testing.T) {
	for _, e := range registry() {
		t.Run(e.name, func(t *testing.T) {
			d, ok := e.module(nil).(ledger.Declarer)
			if !ok {
				t.Fatal("the module declares no message types")
			}
			var out, errb strings.Builder
			if code := run([]string{e.name, "types"}, &out, &errb); code != 0 {
				t.Fatalf("agora %s types: exit %d: %s", e.name, code, errb.String())
			}
			var listed []string
			for _, line := range strings.Split(out.String(), "\n") {
				if line != "" && !strings.HasPrefix(line, " ") {
					listed = append(listed, line)
				}
			}
			var names []string
			for _, mt := range d.MsgTypes() {
				names = append(names, mt.Name)
				if _, err := e.module(nil).Decode(mt.Name, nil); errors.Is(err, ledger.ErrUnknownType) {
					t.Errorf("%s is declared but Decode does not know it: %v", mt.Name, err)
				}
			}
			if !slices.Equal(listed, names) {
				t.Errorf("agora %s types lists %v, want %v", e.name, listed, names)
			}
			errb.Reset()
			if code := run([]string{e.name, "send", names[0], "nothing.json"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--key NAME is required") {
				t.Errorf("agora %s send without --key: exit %d: %s", e.name, code, errb.String())
			}
		})
	}
}

// TestDevGenesisLoads builds the dev genesis from the registry with fresh
// demo keys and loads it: the notary is open and the demo Community
// governs.
func TestDevGenesisLoads(t *testing.T) {
	keys := map[string]tx.PublicKey{}
	for _, name := range devKeyNames() {
		k, err := tx.GenerateKey(tx.Ed25519, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys[name] = k.Public()
	}
	if len(keys) != len(gov.DemoKeys) {
		t.Errorf("%d dev keys, want the demo Community's %d", len(keys), len(gov.DemoKeys))
	}
	g := &ledger.Genesis{ChainID: devChainID, Time: time.Unix(1700000000, 0).UTC(), Params: ledger.DefaultParams()}
	if err := setDevGenesis(g, keys); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"notary", "gov"} {
		if g.Modules[m] == nil {
			t.Errorf("the dev genesis has no %s section", m)
		}
	}
	if s := string(g.Modules["notary"]); s != `{"policy":{"mode":"open"}}` {
		t.Errorf("notary dev section %s", s)
	}
	exec, err := ledger.NewExecutor(g.ChainID, modules()...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.InitGenesis(g); err != nil {
		t.Fatalf("the dev genesis does not load: %v", err)
	}
}

// TestScenariosDeriveFromRegistry checks that 'agora bench' offers every
// module's scenarios, each name once, and describes each.
func TestScenariosDeriveFromRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, sc := range scenarios() {
		if seen[sc.Name] {
			t.Errorf("two scenarios named %s", sc.Name)
		}
		seen[sc.Name] = true
		if sc.Summary == "" || !strings.Contains(benchUsage(), "\n  "+sc.Name+" ") {
			t.Errorf("scenario %s is not described in the usage", sc.Name)
		}
	}
	for _, want := range []string{"notary", "did-create", "gov-vote"} {
		if !seen[want] {
			t.Errorf("no scenario %s", want)
		}
	}
}
