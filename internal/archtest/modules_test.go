package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The rules for module packages. A module package is one that implements
// ledger.Module (modulePackages finds them; nobody lists them), so a new
// module is held to the rules from its first commit:
//
//   - it is registered: cmd/agora/registry.go has an entry for it, and
//     every entry there is a module package;
//   - it is deterministic (the rules of the core, in arch_test.go);
//   - it uses another module package only through that package's read
//     API: the exported declarations of its read.go, the types they
//     mention (transitively, through the fields of those types), and its
//     Name (the namespace a view reads). Tests may use anything.

const ledgerPath = module + "/internal/ledger"

// registryFile is where the binary lists its modules.
const registryFile = "cmd/agora/registry.go"

// modulePackages returns the packages, sorted by import path, whose
// non-test files declare a method Execute(*ledger.Context, ...): the
// method only a ledger.Module has.
func modulePackages(t *testing.T, pkgs map[string]*pkg) []*pkg {
	t.Helper()
	var out []*pkg
	for _, p := range pkgs {
		if isModule(t, p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *pkg) int { return strings.Compare(a.ImportPath, b.ImportPath) })
	return out
}

func isModule(t *testing.T, p *pkg) bool {
	t.Helper()
	for _, f := range parseFiles(t, p) {
		ledgerName := ""
		for _, imp := range f.Imports {
			if ip, _ := strconv.Unquote(imp.Path.Value); ip == ledgerPath {
				ledgerName = "ledger"
				if imp.Name != nil {
					ledgerName = imp.Name.Name
				}
			}
		}
		if ledgerName == "" {
			continue
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Name.Name != "Execute" || len(fn.Type.Params.List) == 0 {
				continue
			}
			star, ok := fn.Type.Params.List[0].Type.(*ast.StarExpr)
			if !ok {
				continue
			}
			if sel, ok := star.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Context" {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == ledgerName {
					return true
				}
			}
		}
	}
	return false
}

// parseFiles parses the non-test Go files of p.
func parseFiles(t *testing.T, p *pkg) map[string]*ast.File {
	t.Helper()
	files := map[string]*ast.File{}
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = f
	}
	return files
}

// registeredModules returns the import paths of the module packages that
// the registry's entries construct, read from registryFile: in each entry,
// the package whose value its module field returns.
func registeredModules(t *testing.T, root string) []string {
	t.Helper()
	out := registered(t, root, "module")
	if len(out) == 0 {
		t.Fatalf("%s lists no modules: archtest cannot tell which modules the binary runs", registryFile)
	}
	return out
}

// registeredServices returns the import paths of the off-ledger services
// that registryFile names: in each entry of services(), the package whose
// Name its service field is.
func registeredServices(t *testing.T, root string) []string {
	t.Helper()
	return registered(t, root, "service")
}

// registered returns the packages that the fields called key of
// registryFile's entries name, one an entry.
func registered(t *testing.T, root, key string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(root, registryFile), nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string]string{} // local name to import path
	for _, imp := range f.Imports {
		ip, _ := strconv.Unquote(imp.Path.Value)
		name := path.Base(ip)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		imports[name] = ip
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		if k, ok := kv.Key.(*ast.Ident); !ok || k.Name != key {
			return true
		}
		var paths []string
		ast.Inspect(kv.Value, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && imports[id.Name] != "" && imports[id.Name] != ledgerPath && !slices.Contains(paths, imports[id.Name]) {
					paths = append(paths, imports[id.Name])
				}
			}
			return true
		})
		if len(paths) != 1 {
			t.Errorf("%s: a registry entry's %s should name one package, names %v", fset.Position(kv.Pos()), key, paths)
		}
		out = append(out, paths...)
		return false
	})
	return out
}

// registration returns what is wrong between the module packages found
// and those registered.
func registration(found, registered []string) []string {
	var out []string
	for _, p := range found {
		if !slices.Contains(registered, p) {
			out = append(out, fmt.Sprintf("%s implements ledger.Module but has no entry in %s", p, registryFile))
		}
	}
	for _, p := range registered {
		if !slices.Contains(found, p) {
			out = append(out, fmt.Sprintf("%s has an entry in %s but implements no ledger.Module", p, registryFile))
		}
	}
	return out
}

// readAPI returns the names another module may use of p: Name, the
// exported declarations of p's read.go, and the types of p they mention,
// transitively.
func readAPI(t *testing.T, p *pkg) map[string]bool {
	t.Helper()
	api := map[string]bool{"Name": true}
	files := parseFiles(t, p)
	types := map[string]ast.Expr{} // p's package-level types
	for _, f := range files {
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok {
				for _, s := range g.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok {
						types[ts.Name.Name] = ts.Type
					}
				}
			}
		}
	}
	var mention func(ast.Node)
	mention = func(n ast.Node) {
		if n == nil {
			return
		}
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				return false // another package's name
			case *ast.Ident:
				if typ, ok := types[n.Name]; ok && ast.IsExported(n.Name) && !api[n.Name] {
					api[n.Name] = true
					mention(typ)
				}
			}
			return true
		})
	}
	read := files["read.go"]
	if read == nil {
		return api
	}
	for _, d := range read.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.IsExported() {
				api[d.Name.Name] = true
				mention(d.Type)
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() {
						api[s.Name.Name] = true
						mention(s.Type)
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() {
							api[n.Name] = true
							mention(s.Type)
						}
					}
				}
			}
		}
	}
	return api
}

// crossModule returns where p uses another module package of mods past
// its read API.
func crossModule(t *testing.T, p *pkg, mods []*pkg) []string {
	t.Helper()
	var out []string
	apis := map[string]map[string]bool{}
	for name, f := range parseFiles(t, p) {
		others := map[string]*pkg{} // local name to module package
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			i := slices.IndexFunc(mods, func(m *pkg) bool { return m.ImportPath == ip })
			if i < 0 || ip == p.ImportPath {
				continue
			}
			local := mods[i].Name
			if imp.Name != nil {
				local = imp.Name.Name
			}
			others[local] = mods[i]
			if apis[ip] == nil {
				apis[ip] = readAPI(t, mods[i])
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && others[id.Name] != nil && !apis[others[id.Name].ImportPath][sel.Sel.Name] {
				out = append(out, fmt.Sprintf("%s/%s uses %s.%s, which is not in the read API of %s (its read.go)",
					p.ImportPath, name, id.Name, sel.Sel.Name, others[id.Name].ImportPath))
			}
			return true
		})
	}
	slices.Sort(out)
	return out
}

// moduleViolations checks the rules of module packages in pkgs, with the
// registry in root.
func moduleViolations(t *testing.T, pkgs map[string]*pkg, root string) []string {
	t.Helper()
	mods := modulePackages(t, pkgs)
	var found []string
	for _, m := range mods {
		found = append(found, m.ImportPath)
	}
	out := registration(found, registeredModules(t, root))
	for _, m := range mods {
		out = append(out, nondeterminism(t, m)...)
		out = append(out, crossModule(t, m, mods)...)
	}
	return out
}

// TestModules holds every module package to the module rules.
func TestModules(t *testing.T) {
	pkgs := listPackages(t)
	if len(modulePackages(t, pkgs)) < 3 {
		t.Fatalf("found %d module packages; notary, identity and gov at least implement ledger.Module", len(modulePackages(t, pkgs)))
	}
	for _, v := range moduleViolations(t, pkgs, repoRoot(t, pkgs)) {
		t.Error(v)
	}
}

// TestProbeModuleFailsTheRules adds testdata/probe, a module that reads
// the wall clock, starts a goroutine, uses gov past its read API and is
// not registered, to the repository's packages: the rules find it a
// module, though no list names it, and fail it on each count.
func TestProbeModuleFailsTheRules(t *testing.T) {
	pkgs := listPackages(t)
	probe := &pkg{ImportPath: module + "/internal/archtest/testdata/probe", Dir: filepath.Join("testdata", "probe"), Name: "probe", GoFiles: []string{"probe.go"}}
	pkgs[probe.ImportPath] = probe
	got := strings.Join(moduleViolations(t, pkgs, repoRoot(t, pkgs)), "\n")
	for _, want := range []string{
		probe.ImportPath + " implements ledger.Module but has no entry in " + registryFile,
		"probe.go:30:20 calls time.Now",
		"probe.go:32:2 starts a goroutine",
		probe.ImportPath + "/probe.go uses gov.Demo, which is not in the read API of " + module + "/internal/gov",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the rules do not say %q; they say:\n%s", want, got)
		}
	}
	for _, fine := range []string{"gov.EntryIn", "gov.Name"} {
		if strings.Contains(got, "uses "+fine) {
			t.Errorf("the rules refuse %s, which gov's read API offers:\n%s", fine, got)
		}
	}
}

// TestReadAPI pins what gov's read API offers another module: its read
// functions and the types they return, down to the fields' types, but not
// its messages or its module.
func TestReadAPI(t *testing.T) {
	pkgs := listPackages(t)
	api := readAPI(t, pkgs[module+"/internal/gov"])
	for _, want := range []string{"Name", "ResourceIn", "EntryIn", "BodyIn", "IsMember", "Resource", "Entry", "Body", "Member", "Time"} {
		if !api[want] {
			t.Errorf("gov's read API lacks %s", want)
		}
	}
	for _, not := range []string{"Module", "Demo", "SetEntry", "Genesis", "findKey"} {
		if api[not] {
			t.Errorf("gov's read API offers %s", not)
		}
	}
}

// TestRegistration checks both ways between found and registered modules.
func TestRegistration(t *testing.T) {
	tests := []struct {
		name              string
		found, registered []string
		want              []string
	}{
		{name: "the same", found: []string{"a", "b"}, registered: []string{"b", "a"}},
		{name: "an unregistered module", found: []string{"a", "b"}, registered: []string{"a"},
			want: []string{"b implements ledger.Module but has no entry in " + registryFile}},
		{name: "an entry for no module", found: []string{"a"}, registered: []string{"a", "c"},
			want: []string{"c has an entry in " + registryFile + " but implements no ledger.Module"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := registration(tt.found, tt.registered); !slices.Equal(got, tt.want) {
				t.Errorf("registration = %q, want %q", got, tt.want)
			}
		})
	}
}

// repoRoot is the directory of the module's root package's tree.
func repoRoot(t *testing.T, pkgs map[string]*pkg) string {
	t.Helper()
	p := pkgs[module+"/internal/ledger"]
	if p == nil {
		t.Fatal("no internal/ledger")
	}
	return filepath.Dir(filepath.Dir(p.Dir))
}
