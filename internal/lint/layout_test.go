package lint

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

// The layout (docs/design.md, "Layout") as rules on what each package
// links, directly or through other packages:
//
//   - shipped code links no harness;
//   - the runtime (runtime/...) is linked only by the shells that run it
//     (node/, hub/, cmd/), by itself and by harnesses.
//
// The pure-core rules (TestPurePackagesDoNoIO, TestPurePackagesLinkNoEngine)
// are the third part.

// isHarness: everything under internal/ (the simulation and its network,
// the link emulator, end-to-end tests, benchmarks, the demo, the SeaweedFS
// builder, this package) and every test-helper package (a name ending in
// "test": oplogtest, blobtest, kvtest, rostertest…), wherever it lives.
func isHarness(p string) bool {
	return under(p, module+"/internal") || strings.HasSuffix(path.Base(p), "test")
}

// isRuntime: the shipped code node/, hub/ and cmd/ share.
func isRuntime(p string) bool { return under(p, module+"/runtime") }

// isCommand: the binary. It ships `fieldsync demo` and `fieldsync bench`,
// so it may link the demo and bench harnesses; nothing imports it
// (TestImportBoundaries).
func isCommand(p string) bool { return under(p, module+"/cmd") }

// isShipped: what goes into a deployment and is not the command itself.
func isShipped(p string) bool { return !isHarness(p) && !isCommand(p) }

// runsTheRuntime: the shells that run the runtime, and the runtime itself.
func runsTheRuntime(p string) bool {
	return under(p, module+"/node") || under(p, module+"/hub") || isCommand(p) || isRuntime(p)
}

type layoutRule struct {
	name    string
	applies func(pkg string) bool // to the package that links
	forbids func(dep string) bool // what it may not link
}

var layoutRules = []layoutRule{
	{name: "shipped code links no harness", applies: isShipped, forbids: isHarness},
	{name: "only node/, hub/ and cmd/ link the runtime", applies: func(p string) bool { return !runsTheRuntime(p) && !isHarness(p) }, forbids: isRuntime},
}

// layoutViolation is one package linking what a rule forbids, with the
// chain of imports that links it (pkg first, the forbidden package last).
type layoutViolation struct {
	rule  string
	chain []string
}

func (v layoutViolation) String() string {
	return v.rule + ": " + strings.Join(v.chain, " → ")
}

// checkLayout applies the rules to a module's import graph (package →
// the module's packages it imports directly; other imports are ignored),
// following imports transitively. It reports, per package and rule, the
// first forbidden package it reaches (breadth first: the shortest chain).
func checkLayout(imports map[string][]string, rules []layoutRule) []layoutViolation {
	var out []layoutViolation
	pkgs := make([]string, 0, len(imports))
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	for _, p := range pkgs {
		for _, r := range rules {
			if !r.applies(p) {
				continue
			}
			if chain := firstReached(imports, p, r.forbids); chain != nil {
				out = append(out, layoutViolation{rule: r.name, chain: chain})
			}
		}
	}
	return out
}

// firstReached walks the imports of from breadth first and returns the
// chain to the first package bad accepts, or nil.
func firstReached(imports map[string][]string, from string, bad func(string) bool) []string {
	parent := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, d := range imports[p] {
			if _, seen := parent[d]; seen {
				continue
			}
			parent[d] = p
			if bad(d) {
				var chain []string
				for q := d; q != ""; q = parent[q] {
					chain = append(chain, q)
				}
				slices.Reverse(chain)
				return chain
			}
			queue = append(queue, d)
		}
	}
	return nil
}

// TestLayoutRulesCatchViolations runs the rules on made-up import graphs:
// each case must report exactly the chains it lists, so a rule that stops
// biting fails here even while the real tree is clean.
func TestLayoutRulesCatchViolations(t *testing.T) {
	const (
		gossip   = module + "/replication/gossip"
		repl     = module + "/replication"
		linkemu  = module + "/internal/linkemu"
		hub      = module + "/hub"
		node     = module + "/node"
		daemon   = module + "/runtime/daemon"
		localapi = module + "/runtime/localapi"
		cmd      = module + "/cmd/fieldsync"
		bench    = module + "/internal/bench"
		demo     = module + "/internal/demo"
		oplog    = module + "/replication/oplog"
		oplogt   = module + "/replication/oplog/oplogtest"
		storage  = module + "/storage"
		recon    = module + "/hub/reconcile"
		sim      = module + "/internal/sim"
		syncnet  = module + "/replication/syncnet"
	)
	clean := map[string][]string{
		repl:     nil,
		gossip:   {repl},
		oplog:    {repl},
		oplogt:   {oplog},
		storage:  {oplog},
		daemon:   {gossip, storage},
		localapi: {daemon},
		hub:      {daemon, localapi, recon},
		node:     {daemon},
		cmd:      {hub, node, bench, demo},
		bench:    {hub, linkemu, oplogt},
		demo:     {hub, node, linkemu},
		sim:      {oplog, recon},
		linkemu:  nil,
	}
	with := func(from string, to ...string) map[string][]string {
		g := map[string][]string{}
		for k, v := range clean {
			g[k] = slices.Clone(v)
		}
		g[from] = append(g[from], to...)
		return g
	}
	for _, c := range []struct {
		name  string
		graph map[string][]string
		want  []string
	}{
		{"the layout as it should be", clean, nil},
		{"production imports the link emulator", with(gossip, linkemu), []string{
			"shipped code links no harness: " + daemon + " → " + gossip + " → " + linkemu,
			"shipped code links no harness: " + gossip + " → " + linkemu,
			"shipped code links no harness: " + hub + " → " + daemon + " → " + gossip + " → " + linkemu,
			"shipped code links no harness: " + localapi + " → " + daemon + " → " + gossip + " → " + linkemu,
			"shipped code links no harness: " + node + " → " + daemon + " → " + gossip + " → " + linkemu,
		}},
		{"production imports a test helper", with(storage, oplogt), []string{
			"shipped code links no harness: " + daemon + " → " + storage + " → " + oplogt,
			"shipped code links no harness: " + hub + " → " + daemon + " → " + storage + " → " + oplogt,
			"shipped code links no harness: " + localapi + " → " + daemon + " → " + storage + " → " + oplogt,
			"shipped code links no harness: " + node + " → " + daemon + " → " + storage + " → " + oplogt,
			"shipped code links no harness: " + storage + " → " + oplogt,
		}},
		{"the hub's pure core imports the simulation", with(recon, sim), []string{
			"shipped code links no harness: " + hub + " → " + recon + " → " + sim,
			"shipped code links no harness: " + recon + " → " + sim,
		}},
		{"the sync shell links the runtime", with(syncnet, localapi), []string{
			"only node/, hub/ and cmd/ link the runtime: " + syncnet + " → " + localapi,
		}},
		{"the runtime reaches the runtime through a core", with(gossip, daemon), []string{
			"only node/, hub/ and cmd/ link the runtime: " + gossip + " → " + daemon,
		}},
		{"the command links the demo and benchmarks", with(cmd, demo, bench), nil},
		{"harnesses link the runtime", with(sim, daemon), nil},
	} {
		var got []string
		for _, v := range checkLayout(c.graph, layoutRules) {
			got = append(got, v.String())
		}
		slices.Sort(c.want)
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s:\n got  %q\n want %q", c.name, got, c.want)
		}
	}
}

// TestLayout applies the rules to the real tree: the import graph of every
// package of the module as go list resolves it (build constraints
// applied, test files excluded), followed transitively.
func TestLayout(t *testing.T) {
	listPackages(t) // reads every Go file, so the test cache sees a changed import
	graph := moduleImports(t)
	if len(graph) < 20 {
		t.Fatalf("go list found only %d packages", len(graph))
	}
	for _, want := range []string{module + "/runtime/daemon", module + "/internal/sim", module + "/replication/gossip"} {
		if _, ok := graph[want]; !ok {
			t.Fatalf("go list did not list %s: is the layout in docs/design.md still the tree's?", want)
		}
	}
	for _, v := range checkLayout(graph, layoutRules) {
		t.Error(v)
	}
}

// moduleImports returns, for every package of the module, the packages of
// the module it imports directly.
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "./...")
	cmd.Dir = "../.."
	stdout, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("go list: %v\n%s", err, ee.Stderr)
	}
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	graph := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(stdout)))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		var ours []string
		for _, imp := range p.Imports {
			if under(imp, module) {
				ours = append(ours, imp)
			}
		}
		graph[p.ImportPath] = ours
	}
	return graph
}
