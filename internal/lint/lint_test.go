package lint

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "fieldsync"

type pkg struct {
	ImportPath string
	Dir        string
	Imports    []string
	GoFiles    []string
}

// listPackages parses the imports of every production Go file in the
// module. It reads the files itself (rather than running go list) so that
// the test cache sees them and a changed import re-runs the test.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	byDir := map[string]*pkg{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		return addFile(byDir, root, path)
	})
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []pkg
	for _, p := range byDir {
		pkgs = append(pkgs, *p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("found only %d packages under %s", len(pkgs), root)
	}
	return pkgs
}

func addFile(byDir map[string]*pkg, root, path string) error {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	p := byDir[dir]
	if p == nil {
		rel, _ := filepath.Rel(root, dir)
		ip := module
		if rel != "." {
			ip += "/" + filepath.ToSlash(rel)
		}
		p = &pkg{ImportPath: ip, Dir: dir}
		byDir[dir] = p
	}
	p.GoFiles = append(p.GoFiles, filepath.Base(path))
	for _, imp := range f.Imports {
		p.Imports = append(p.Imports, strings.Trim(imp.Path.Value, `"`))
	}
	return nil
}

func under(path, root string) bool { return path == root || strings.HasPrefix(path, root+"/") }

// importRules: a package matching "who" must not import a path matching
// "what", unless it is one of "except".
var importRules = []struct {
	name   string
	what   string
	except []string
	who    string // "" = every package
}{
	{name: "only the storage package imports Badger", what: "github.com/dgraph-io/badger", except: []string{module + "/storage"}},
	{name: "only the gossip adapter imports memberlist", what: "github.com/hashicorp/memberlist", except: []string{module + "/replication/gossip"}},
	{name: "the hub never imports the node", what: module + "/node", who: module + "/hub"},
	{name: "replication does not import the shells", what: module + "/node", who: module + "/replication"},
	{name: "replication does not import the hub", what: module + "/hub", who: module + "/replication"},
	{name: "the domain imports no fieldsync package but itself", what: module + "/", who: module + "/enrollment"},
	{name: "nothing imports the command", what: module + "/cmd"},
	{name: "replication does not import the domain (blob refs come through a blob.RefsFunc)", what: module + "/enrollment", who: module + "/replication"},
	{name: "replication does not import the dossier glue", what: module + "/dossier", who: module + "/replication"},
	{name: "the roster fold reads no log (the hub's view uses it)", what: module + "/replication/oplog", who: module + "/replication/roster", except: []string{module + "/replication/roster/live"}},
}

func TestImportBoundaries(t *testing.T) {
	for _, p := range listPackages(t) {
		for _, r := range importRules {
			if r.who != "" && !under(p.ImportPath, r.who) {
				continue
			}
			if isException(p.ImportPath, r.except) {
				continue
			}
			for _, imp := range p.Imports {
				if (under(imp, strings.TrimSuffix(r.what, "/")) || strings.HasPrefix(imp, r.what)) && !under(imp, p.ImportPath) && !selfDomain(p.ImportPath, imp) {
					t.Errorf("%s: %s imports %s", r.name, p.ImportPath, imp)
				}
			}
		}
	}
}

// selfDomain lets the domain's own sub-packages import the domain.
// selfDomain reports whether the domain (enrollment/...) imports itself or
// the one storage contract it may use: storage/kv, the pure ordered
// key-value interface the census is kept in (pure, with a memory
// implementation; the pure-package rule below still keeps Badger out).
func selfDomain(who, imp string) bool {
	return under(who, module+"/enrollment") && (under(imp, module+"/enrollment") || imp == module+"/storage/kv")
}

func isException(path string, except []string) bool {
	for _, e := range except {
		if under(path, e) {
			return true
		}
	}
	return false
}

// purePackages do no I/O and read no clock: time, randomness, network and
// disk come in through interfaces, so they can run inside the seeded
// simulation (STYLE.md §3, items 1-2).
var purePackages = []string{
	module + "/enrollment",
	module + "/hub/reconcile",
	module + "/hub/dedup",
	module + "/replication/oplog",
	module + "/storage/kv",
	module + "/replication/syncproto",
	module + "/replication/wire",
	module + "/replication/roster",
	module + "/internal/simnet",
	module + "/replication/epoch",
	module + "/dossier",
	module + "/internal/sim",
}

// pureLeaves are pure packages whose sub-packages need not be: the blob
// vocabulary and its in-memory store are pure, the sealed store on disk
// (replication/blob/sealed) is not.
var pureLeaves = []string{module + "/replication/blob"}

func isPure(path string) bool {
	for _, p := range pureLeaves {
		if path == p {
			return true
		}
	}
	return isException(path, purePackages)
}

var impureImports = []string{"net", "net/http", "os", "os/exec", "syscall", "crypto/rand", "math/rand", "github.com/dgraph-io/badger/v4", "github.com/hashicorp/memberlist"}

func TestPurePackagesDoNoIO(t *testing.T) {
	for _, p := range listPackages(t) {
		if !isPure(p.ImportPath) || strings.HasSuffix(p.ImportPath, "test") {
			continue
		}
		for _, imp := range p.Imports {
			for _, bad := range impureImports {
				if imp == bad {
					t.Errorf("%s is pure but imports %s", p.ImportPath, imp)
				}
			}
		}
		for _, f := range p.GoFiles {
			checkNoClock(t, filepath.Join(p.Dir, f))
		}
	}
}

// checkNoClock fails on calls to time.Now, time.Since, time.After and
// friends: pure code takes "now" as an argument.
func checkNoClock(t *testing.T, path string) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok && id.Name == "time" {
			switch sel.Sel.Name {
			case "Now", "Since", "Until", "After", "Tick", "NewTimer", "NewTicker", "AfterFunc", "Sleep":
				t.Errorf("%s: pure code calls time.%s", fset.Position(sel.Pos()), sel.Sel.Name)
			}
		}
		return true
	})
}

// engines are what a pure package must not link, even through another
// package: the storage engine, the gossip library, and fieldsync's own
// packages that wrap them.
var engines = []string{"github.com/dgraph-io/badger", "github.com/hashicorp/memberlist", module + "/storage", module + "/replication/gossip"}

// TestPurePackagesLinkNoEngine follows every import, through every package
// (go list -deps), from each pure package: none may reach Badger or
// memberlist (a pure core that linked the storage engine through the log's
// package did, before the log's interface and its Badger implementation
// were split). listPackages reads every Go file first, so the test cache
// notices a changed import.
func TestPurePackagesLinkNoEngine(t *testing.T) {
	listPackages(t)
	var pure []string
	for _, p := range purePackages {
		pure = append(pure, "./"+strings.TrimPrefix(strings.TrimPrefix(p, module), "/"))
	}
	deps := goListDeps(t, pure)
	if len(deps) != len(pure) {
		t.Fatalf("go list found %d of the %d pure packages", len(deps), len(pure))
	}
	for pkg, ds := range deps {
		for _, d := range ds {
			for _, e := range engines {
				if d == e || strings.HasPrefix(d, e+"/") && !strings.HasPrefix(d, module+"/storage/kv") {
					t.Errorf("%s is pure but links %s", pkg, d)
				}
			}
		}
	}
}

// goListDeps returns, for each package named, every package it links.
func goListDeps(t *testing.T, pkgs []string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, p := range pkgs {
		cmd := exec.Command("go", append([]string{"list", "-deps", "-json=ImportPath"}, p)...)
		cmd.Dir = "../.."
		stdout, err := cmd.Output()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list -deps %s: %v\n%s", p, err, ee.Stderr)
		}
		if err != nil {
			t.Fatalf("go list -deps %s: %v", p, err)
		}
		dec := json.NewDecoder(strings.NewReader(string(stdout)))
		var all []string
		for {
			var d struct{ ImportPath string }
			if err := dec.Decode(&d); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			all = append(all, d.ImportPath)
		}
		if len(all) == 0 {
			t.Fatalf("go list -deps %s listed nothing", p)
		}
		out[all[len(all)-1]] = all // the package itself comes last
	}
	return out
}
