package reconcile_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"fieldsync/enrollment"
	"fieldsync/hub/reconcile"
	"fieldsync/replication"
)

// TestScenarios runs the golden files in testdata/: one per rule of the
// package doc (testdata/fuzz holds the fuzzer's corpus, not scenarios).
// Regenerate with: go test ./hub/reconcile -run Scenarios -rewrite
func TestScenarios(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			w := newWorld()
			datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
				return w.handle(t, d)
			})
		})
	}
}

func (w *world) handle(t *testing.T, d *datadriven.TestData) string {
	args := map[string]string{}
	for _, a := range d.CmdArgs {
		args[a.Key] = strings.Join(a.Vals, ",")
	}
	switch d.Cmd {
	case "origin":
		role := replication.RoleNode
		if args["role"] == "hub" {
			role = replication.RoleHub
		}
		var seed uint64
		fmt.Sscan(args["seed"], &seed)
		var clock int64
		fmt.Sscan(args["clock"], &clock)
		w.addOrigin(d.CmdArgs[0].Key, role, args["tier"], seed, clock)
		return ""
	case "enroll":
		rec := record(without(args, d.CmdArgs[0].Key))
		p, _ := json.Marshal(rec)
		return w.ref(w.add(d.CmdArgs[0].Key, replication.KindEnroll, p))
	case "amend":
		rec := record(without(args, d.CmdArgs[0].Key, "target"))
		p, _ := json.Marshal(enrollment.Amendment{Target: w.parseRef(args["target"]).String(), Reason: "correction", Record: rec})
		return w.ref(w.add(d.CmdArgs[0].Key, replication.KindAmend, p))
	case "void":
		p, _ := json.Marshal(enrollment.Voiding{Target: w.parseRef(args["target"]).String(), Reason: "withdrawn"})
		return w.ref(w.add(d.CmdArgs[0].Key, replication.KindVoid, p))
	case "resolve":
		return w.ref(w.add(d.CmdArgs[0].Key, replication.KindResolve, w.resolution(args)))
	case "corrupt":
		return w.ref(w.add(d.CmdArgs[0].Key, replication.KindEnroll, []byte(`{"full_name":`)))
	case "anchor", "roster":
		return w.handleRoster(t, d, args)
	case "fork", "epoch", "notice", "digests", "rebuilds":
		return w.handleEpochs(t, d, args)
	case "view":
		var seed uint64
		fmt.Sscan(args["seed"], &seed)
		return w.describe(w.applyBranch(args["order"], seed, args["branch"]))
	case "same-in-every-order":
		want := w.applyBranch("", 0, args["branch"]).Digest()
		for seed := uint64(1); seed <= 50; seed++ {
			if got := w.applyBranch("shuffle", seed, args["branch"]).Digest(); got != want {
				return fmt.Sprintf("order %d gives another digest", seed)
			}
		}
		return "one digest in 51 orders"
	}
	t.Fatalf("unknown command %q", d.Cmd)
	return ""
}

func (w *world) resolution(args map[string]string) []byte {
	res := reconcile.Resolution{Subject: args["subject"], Verdict: args["verdict"], Officer: "officer-1"}
	if c := args["choose"]; c != "" {
		res.Choose = w.parseRef(c).String()
	}
	if sup := args["supersedes"]; sup != "" {
		for _, v := range strings.Split(sup, ",") {
			res.Supersedes = append(res.Supersedes, w.parseRef(v).String())
		}
	}
	if vs := args["versions"]; vs != "" {
		for _, v := range strings.Split(vs, ",") {
			res.Versions = append(res.Versions, w.parseRef(v).String())
		}
	}
	if strings.HasPrefix(res.Subject, "pair:") {
		a, b, _ := strings.Cut(strings.TrimPrefix(res.Subject, "pair:"), "|")
		res.Subject = reconcile.PairID(w.provKey(a), w.provKey(b))
	}
	p, _ := json.Marshal(res)
	return p
}

// provKey turns "prov:name:seq" into the real provisional key.
func (w *world) provKey(s string) string {
	if !strings.HasPrefix(s, "prov:") {
		return s
	}
	return "prov:" + w.parseRef(strings.TrimPrefix(s, "prov:")).String()
}

func without(m map[string]string, drop ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for _, d := range drop {
		delete(out, d)
	}
	return out
}
