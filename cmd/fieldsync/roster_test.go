package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"fieldsync/runtime/daemon"
	"fieldsync/runtime/localapi"
)

// TestRosterCommands drives the roster commands on stopped directories:
// init refuses a directory without a trust anchor, a province signs the
// roster, a laptop takes the province's export, is added from its
// directory and revoked; show and status report it; only the anchor signs.
func TestRosterCommands(t *testing.T) {
	tmp := t.TempDir()
	prov, lap, other := filepath.Join(tmp, "prov"), filepath.Join(tmp, "lap"), filepath.Join(tmp, "other")

	strict := fieldsyncCmd("init", "--dir", other, "--unit", "18586")
	strict.Env = append(strict.Env, envOpen+"=0") // as in the field
	if out, err := strict.CombinedOutput(); err == nil || !strings.Contains(string(out), "say who signs the roster") {
		t.Fatalf("init without an anchor: %v\n%s", err, out)
	}

	var p struct {
		ProvinceKey string `json:"province_key"`
	}
	if err := json.Unmarshal(mustRun(t, "init", "--dir", prov, "--role", "hub", "--tier", "province", "--unit", "42", "--name", "hub-42", "--json"), &p); err != nil || p.ProvinceKey == "" {
		t.Fatalf("a province hub is its own anchor: %+v %v", p, err)
	}
	bundle := filepath.Join(tmp, "roster.bin")
	mustRun(t, "roster", "export", "--dir", prov, "--out", bundle)
	if out := string(mustRun(t, "init", "--dir", lap, "--unit", "18586", "--roster", bundle)); !strings.Contains(out, "anchor: device") {
		t.Fatalf("init --roster:\n%s", out)
	}
	mustRun(t, "roster", "add", "--dir", prov, "--from-dir", lap, "--name", "Thạch Kênh 1")
	mustRun(t, "roster", "revoke", "--dir", prov, "--from-dir", lap, "--note", "stolen")

	var v daemon.RosterView
	if err := json.Unmarshal(mustRun(t, "roster", "show", "--dir", prov, "--json"), &v); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, d := range v.Devices {
		if d.Name == "Thạch Kênh 1" {
			found = d.Revoked && len(d.Keep) == 0 && d.Units[0] == "18586"
		}
	}
	if len(v.Devices) != 2 || !found {
		t.Fatalf("roster: %+v", v.Devices)
	}
	if out := string(mustRun(t, "roster", "show", "--dir", prov)); !strings.Contains(out, "REVOKED, nothing stands") {
		t.Fatalf("roster show:\n%s", out)
	}
	var st localapi.Status
	if err := json.Unmarshal(mustRun(t, "status", "--dir", prov, "--json"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Trust.Devices != 2 || st.Trust.Revoked != 1 || st.Trust.Open {
		t.Fatalf("status roster: %+v", st.Trust)
	}
	if out := string(mustRun(t, "status", "--dir", lap)); !strings.Contains(out, "roster: anchor "+string(st.Trust.Anchor)) {
		t.Fatalf("the laptop's status must name the province's anchor %s:\n%s", st.Trust.Anchor, out)
	}
	if out, err := fieldsyncCmd("roster", "add", "--dir", lap, "--device", st.Key, "--unit", "42").CombinedOutput(); err == nil || !strings.Contains(string(out), "only the trust anchor") {
		t.Fatalf("a laptop signed the roster: %v\n%s", err, out)
	}
}
