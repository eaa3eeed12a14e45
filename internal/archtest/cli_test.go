package archtest

import (
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The rules of the CLI's rooms. internal/cli is the machinery every
// command shares; a module's commands live in its companion package,
// internal/X/Xcli for module X, which builds on internal/cli:
//
//   - a module package imports neither internal/cli nor any companion
//     package, directly or indirectly: the ledger's rules know nothing of
//     a terminal;
//   - internal/cli imports no module package and no companion, nor the
//     node's side (Pebble, internal/store, internal/node, CometBFT, and
//     so internal/api, which links the node; internal/api/wire is fine):
//     it is the client's, and every module's;
//   - a companion package (a package under internal/ whose name ends in
//     "cli", other than internal/cli) is internal/X/Xcli, and internal/X
//     is a module package or an off-ledger service that the registry's
//     services() names (internal/login).

const cliPath = module + "/internal/cli"

// cliForbiddenDeps are what internal/cli may not depend on, besides the
// module and companion packages (matches' patterns).
var cliForbiddenDeps = []string{
	"github.com/cockroachdb/pebble*",
	"github.com/cometbft/",
	module + "/internal/store",
	module + "/internal/node",
	module + "/internal/cometbft",
}

// isCompanion reports whether importPath names a companion package.
func isCompanion(importPath string) bool {
	return importPath != cliPath && strings.HasPrefix(importPath, module+"/internal/") &&
		strings.HasSuffix(path.Base(importPath), "cli")
}

// cliViolations checks the CLI rules on pkgs, whose registered services
// are services.
func cliViolations(t *testing.T, pkgs map[string]*pkg, services []string) []string {
	t.Helper()
	mods := modulePackages(t, pkgs)
	isMod := map[string]bool{}
	for _, m := range mods {
		isMod[m.ImportPath] = true
	}
	var out []string
	for _, m := range mods {
		for _, d := range m.Deps {
			if d == cliPath || isCompanion(d) {
				out = append(out, m.ImportPath+" is a module package and depends on "+d)
			}
		}
	}
	c := pkgs[cliPath]
	if c == nil {
		out = append(out, cliPath+" does not exist")
	} else {
		for _, d := range c.Deps {
			switch {
			case isMod[d]:
				out = append(out, cliPath+" depends on the module package "+d)
			case isCompanion(d):
				out = append(out, cliPath+" depends on the companion package "+d)
			case slices.ContainsFunc(cliForbiddenDeps, func(f string) bool { return matches(d, f) }):
				out = append(out, cliPath+" depends on "+d+", the node's side")
			}
		}
	}
	var paths []string
	for p := range pkgs {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		if !isCompanion(p) {
			continue
		}
		owner := path.Dir(p)
		if path.Base(p) != path.Base(owner)+"cli" || !isMod[owner] && !slices.Contains(services, owner) {
			out = append(out, p+" is a companion package (its name ends in cli) but not internal/X/Xcli of a module package or registered service X")
		}
	}
	return out
}

// TestCLIRooms holds the repository to the CLI rules.
func TestCLIRooms(t *testing.T) {
	pkgs := listPackages(t)
	if !slices.ContainsFunc(mapKeys(pkgs), isCompanion) {
		t.Fatal("found no companion package; internal/notary/notarycli at least is one")
	}
	for _, v := range cliViolations(t, pkgs, registeredServices(t, repoRoot(t, pkgs))) {
		t.Error(v)
	}
}

// TestProbesFailTheCLIRules adds probes to the repository's packages:
// testdata/probe, a module that imports internal/cli and notary's
// companion; testdata/probe/probecli, probe's companion, which is fine;
// testdata/straycli, a companion of no module; and testdata/cliprobe in
// place of internal/cli, which imports the notary module. Each fails its
// rule.
func TestProbesFailTheCLIRules(t *testing.T) {
	pkgs := listPackages(t)
	for _, p := range []*pkg{
		probePkg(t, module+"/internal/archtest/testdata/probe", filepath.Join("testdata", "probe")),
		probePkg(t, module+"/internal/archtest/testdata/probe/probecli", filepath.Join("testdata", "probe", "probecli")),
		probePkg(t, module+"/internal/archtest/testdata/straycli", filepath.Join("testdata", "straycli")),
	} {
		pkgs[p.ImportPath] = p
	}
	cliProbe := probePkg(t, cliPath, filepath.Join("testdata", "cliprobe"))
	pkgs[cliPath] = cliProbe
	got := strings.Join(cliViolations(t, pkgs, nil), "\n")
	for _, want := range []string{
		module + "/internal/archtest/testdata/probe is a module package and depends on " + cliPath,
		module + "/internal/archtest/testdata/probe is a module package and depends on " + module + "/internal/notary/notarycli",
		cliPath + " depends on the module package " + module + "/internal/notary",
		cliPath + " depends on " + module + "/internal/node, the node's side",
		module + "/internal/archtest/testdata/straycli is a companion package",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the rules do not say %q; they say:\n%s", want, got)
		}
	}
	if strings.Contains(got, "probecli is a companion package") {
		t.Errorf("the rules refuse probe's companion, testdata/probe/probecli:\n%s", got)
	}
	delete(pkgs, cliPath)
	if got := strings.Join(cliViolations(t, pkgs, nil), "\n"); !strings.Contains(got, cliPath+" does not exist") {
		t.Errorf("without internal/cli the rules say:\n%s", got)
	}
}

// probePkg is the package of the probe in dir, with import path
// importPath: its non-test files, and their imports as its dependencies
// (a probe is never built, so go list does not see it).
func probePkg(t *testing.T, importPath, dir string) *pkg {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no probe in %s: %v", dir, err)
	}
	p := &pkg{ImportPath: importPath, Dir: dir, Name: path.Base(importPath)}
	for _, f := range files {
		p.GoFiles = append(p.GoFiles, filepath.Base(f))
	}
	for _, f := range parseFiles(t, p) {
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			p.Imports = append(p.Imports, ip)
		}
	}
	p.Deps = p.Imports
	return p
}

func mapKeys(pkgs map[string]*pkg) []string {
	var out []string
	for k := range pkgs {
		out = append(out, k)
	}
	return out
}
