package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/agora-ledger/agora"

// core lists the deterministic packages that are not modules. The module
// packages are found, not listed (modulePackages): every package that
// implements ledger.Module is held to the same rules.
var core = []string{"frost", "ledger", "oid4vp", "sdjwt", "smt", "statuslist", "tlog", "tx", "vcdm"}

// forbiddenDeps are import paths, or prefixes ending in "/" or "*", that
// no deterministic package may depend on, even indirectly.
var forbiddenDeps = []string{
	"net/http",
	"github.com/cockroachdb/pebble*",
	"github.com/cometbft/",
	module + "/internal/store",
	module + "/internal/node",
	module + "/internal/api",
	module + "/internal/cometbft",
}

// The only package that may import CometBFT.
const cometAdapter = module + "/internal/cometbft"

type pkg struct {
	ImportPath string
	Dir        string
	Name       string
	GoFiles    []string
	Imports    []string
	Deps       []string
	Error      *struct{ Err string }
}

func listPackages(t *testing.T) map[string]*pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Dir,Name,GoFiles,Imports,Deps,Error", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.Error != nil && !strings.Contains(p.Error.Err, "no non-test Go files") {
			t.Errorf("%s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs[p.ImportPath] = &p
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	return pkgs
}

// deterministic returns the core packages and every module package.
func deterministic(t *testing.T, pkgs map[string]*pkg) []*pkg {
	t.Helper()
	var out []*pkg
	for _, name := range core {
		p := pkgs[module+"/internal/"+name]
		if p == nil {
			t.Fatalf("package internal/%s does not exist; update core in arch_test.go", name)
		}
		out = append(out, p)
	}
	mods := modulePackages(t, pkgs)
	if len(mods) == 0 {
		t.Fatal("no package implements ledger.Module: the module rules would cover nothing")
	}
	return append(out, mods...)
}

func matches(path, pattern string) bool {
	switch {
	case strings.HasSuffix(pattern, "*"):
		return strings.HasPrefix(path, strings.TrimSuffix(pattern, "*"))
	case strings.HasSuffix(pattern, "/"):
		return strings.HasPrefix(path, pattern)
	}
	return path == pattern || strings.HasPrefix(path, pattern+"/")
}

func TestDeterministicPackagesDependOnNoIO(t *testing.T) {
	pkgs := listPackages(t)
	for _, p := range deterministic(t, pkgs) {
		for _, f := range forbiddenDeps {
			if i := slices.IndexFunc(p.Deps, func(d string) bool { return matches(d, f) }); i >= 0 {
				t.Errorf("%s depends on %s (forbidden: %s); see go list -deps %s", p.ImportPath, p.Deps[i], f, p.ImportPath)
			}
		}
	}
}

func TestOnlyTheAdapterImportsCometBFT(t *testing.T) {
	for _, p := range listPackages(t) {
		if p.ImportPath == cometAdapter {
			continue
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, "github.com/cometbft/") {
				t.Errorf("%s imports %s; only %s may import CometBFT", p.ImportPath, imp, cometAdapter)
			}
		}
	}
}

// clientRules are the packages a client links, each with what it must not
// depend on: package verify checks answers offline and runs in a browser,
// so it does no I/O; package client talks to a node without linking one.
var clientRules = []struct {
	pkg       string
	forbidden []string
}{
	{module + "/verify", []string{"net/http", "os/exec", "github.com/cockroachdb/pebble*", "github.com/cometbft/",
		module + "/internal/store", module + "/internal/node", module + "/internal/api", module + "/internal/cometbft",
		module + "/internal/keystore", module + "/internal/client"}},
	{module + "/internal/client", []string{"github.com/cockroachdb/pebble*", "github.com/cometbft/",
		module + "/internal/store", module + "/internal/node", module + "/internal/cometbft"}},
}

// TestClientPackagesLinkNoNode holds clientRules, and package witness
// (which serves HTTP and keeps files) out of verify: verify may use only
// its pure part, witness/cosig.
func TestClientPackagesLinkNoNode(t *testing.T) {
	pkgs := listPackages(t)
	for _, r := range clientRules {
		p := pkgs[r.pkg]
		if p == nil {
			t.Fatalf("package %s does not exist; update clientRules", r.pkg)
		}
		for _, f := range r.forbidden {
			if i := slices.IndexFunc(p.Deps, func(d string) bool { return matches(d, f) && d != module+"/internal/api/wire" }); i >= 0 {
				t.Errorf("%s depends on %s (forbidden: %s); see go list -deps %s", p.ImportPath, p.Deps[i], f, p.ImportPath)
			}
		}
	}
	if slices.Contains(pkgs[module+"/verify"].Deps, module+"/internal/witness") {
		t.Errorf("verify depends on internal/witness; use internal/witness/cosig")
	}
}

// TestVerifyBuildsForWasm builds package verify for GOOS=js GOARCH=wasm,
// as the browser console needs it.
func TestVerifyBuildsForWasm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds for another platform")
	}
	cmd := exec.Command("go", "build", "-o", os.DevNull, module+"/verify")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=js GOARCH=wasm go build ./verify: %v\n%s", err, out)
	}
}

// nondeterministic are the functions of package time that read the clock
// or schedule on it.
var nondeterministic = []string{"Now", "Since", "Until", "After", "AfterFunc", "Tick", "NewTimer", "NewTicker", "Sleep"}

// TestDeterministicPackagesUseNoClockRandomnessOrGoroutines parses the
// non-test files of the core and the modules.
func TestDeterministicPackagesUseNoClockRandomnessOrGoroutines(t *testing.T) {
	pkgs := listPackages(t)
	for _, p := range deterministic(t, pkgs) {
		for _, v := range nondeterminism(t, p) {
			t.Error(v)
		}
	}
}

// nondeterminism returns where the non-test files of p read the clock,
// draw randomness or start a goroutine.
func nondeterminism(t *testing.T, p *pkg) []string {
	t.Helper()
	var out []string
	for _, file := range p.GoFiles {
		path := filepath.Join(p.Dir, file)
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		// The local names of package time in this file.
		timeNames := map[string]bool{}
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			switch ip {
			case "math/rand", "math/rand/v2":
				out = append(out, fmt.Sprintf("%s imports %s", fset.Position(imp.Pos()), ip))
			case "crypto/rand":
				if p.ImportPath != module+"/internal/tx" {
					out = append(out, fmt.Sprintf("%s imports crypto/rand", fset.Position(imp.Pos())))
				}
			case "time":
				name := "time"
				if imp.Name != nil {
					name = imp.Name.Name
				}
				if name == "." {
					out = append(out, fmt.Sprintf("%s dot-imports time", fset.Position(imp.Pos())))
				}
				timeNames[name] = true
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				out = append(out, fmt.Sprintf("%s starts a goroutine", fset.Position(n.Pos())))
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && timeNames[id.Name] && slices.Contains(nondeterministic, n.Sel.Name) {
					out = append(out, fmt.Sprintf("%s calls time.%s", fset.Position(n.Pos()), n.Sel.Name))
				}
			}
			return true
		})
	}
	return out
}

// TestOnePackageDoc checks that every package under internal/ and cmd/
// has exactly one file with a package doc comment, and that it reads
// "Package <name> ...".
func TestOnePackageDoc(t *testing.T) {
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(p.ImportPath, module+"/")
		if !strings.HasPrefix(rel, "internal/") && !strings.HasPrefix(rel, "cmd/") {
			continue
		}
		if len(p.GoFiles) == 0 {
			t.Errorf("%s has no non-test Go files, so nowhere for its package doc", rel)
			continue
		}
		var docs []string
		for _, file := range p.GoFiles {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, file), nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if f.Doc == nil {
				continue
			}
			docs = append(docs, file)
			want := "Package " + f.Name.Name + " "
			if p.Name == "main" {
				want = "" // a command's doc starts with the command's name
			}
			if !strings.HasPrefix(f.Doc.Text(), want) {
				t.Errorf("%s/%s: package doc starts %q, want %q", rel, file, firstLine(f.Doc.Text()), want)
			}
		}
		if len(docs) != 1 {
			t.Errorf("%s has %d package doc comments (%s), want exactly one", rel, len(docs), strings.Join(docs, ", "))
		}
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// TestMatches pins the pattern matching the rules rely on.
func TestMatches(t *testing.T) {
	tests := []struct {
		name, path, pattern string
		want                bool
	}{
		{name: "exact", path: "net/http", pattern: "net/http", want: true},
		{name: "subpackage", path: "net/http/httptest", pattern: "net/http", want: true},
		{name: "sibling with the same prefix", path: "net/httpx", pattern: "net/http", want: false},
		{name: "star matches versions", path: "github.com/cockroachdb/pebble/v2/vfs", pattern: "github.com/cockroachdb/pebble*", want: true},
		{name: "slash prefix", path: "github.com/cometbft/cometbft/abci/types", pattern: "github.com/cometbft/", want: true},
		{name: "unrelated", path: "github.com/fxamacker/cbor/v2", pattern: "github.com/cometbft/", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := matches(tt.path, tt.pattern); got != tt.want {
				t.Errorf("matches(%q, %q) = %v, want %v", tt.path, tt.pattern, got, tt.want)
			}
		})
	}
}
