package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fieldsync/hub"
	"fieldsync/node"
)

// TestResidentsCommands drives the residents commands on stopped
// directories: a province imports a list (a bad row is rejected with its
// line and exit status 3, the others imported), shows the counts and the
// missing people; a laptop sets a status, and a bad one is refused.
func TestResidentsCommands(t *testing.T) {
	tmp := t.TempDir()
	prov, lap := filepath.Join(tmp, "prov"), filepath.Join(tmp, "lap")
	mustRun(t, "init", "--dir", prov, "--role", "hub", "--tier", "province", "--unit", "42", "--name", "hub-42")
	mustRun(t, "init", "--dir", lap, "--unit", "18586")
	csv := filepath.Join(tmp, "list.csv")
	os.WriteFile(csv, []byte("Mã xã,Số định danh,Họ tên,Ngày sinh,Giới tính,Số hộ,Địa chỉ\n"+
		"18586,042085000101,Nguyễn Văn An,12/03/1985,Nam,HK-1,Thôn 3\n"+
		"18586,042185000102,Trần Thị Bình,1985,Nữ,HK-1,Thôn 3\n"+
		"18586,04208500010,Lê Văn Dũng,1985-02-30,Nam,HK-2,Thôn 4\n"), 0o600)

	cmd := fieldsyncCmd("residents", "import", "--dir", prov, "--code-list", "2023-04", "--as-of", "2025-03-01", "--json", csv)
	out, err := cmd.Output()
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Fatalf("import with a bad row: exit %d (%v), want 3\n%s", code, err, out)
	}
	var res hub.ResidentsResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || res.Rejected != 1 || res.RejectedRows[0].Line != 4 || len(res.Communes) != 1 {
		t.Fatalf("import: %+v", res)
	}
	if out := string(mustRun(t, "residents", "show", "--dir", prov)); !strings.Contains(out, "18586") || !strings.Contains(out, "0/1") {
		t.Fatalf("show:\n%s", out)
	}
	if out := string(mustRun(t, "residents", "show", "--dir", prov, "--commune", "18586", "--show-pii")); !strings.Contains(out, "Trần Thị Bình") || !strings.Contains(out, "2 of 2 missing") {
		t.Fatalf("show --commune:\n%s", out)
	}
	var st node.EnrollResult
	if err := json.Unmarshal(mustRun(t, "residents", "status", "--dir", lap, "--officer", "CA-18586-02", "--json", "042 085 000 101", "away"), &st); err != nil || st.Receipt == nil {
		t.Fatalf("status: %+v %v", st, err)
	}
	bad := fieldsyncCmd("residents", "status", "--dir", lap, "--officer", "CA-1", "04208500010", "away")
	if out, _ := bad.CombinedOutput(); bad.ProcessState.ExitCode() != 3 || !strings.Contains(string(out), "ID number") {
		t.Fatalf("a bad ID number: exit %d\n%s", bad.ProcessState.ExitCode(), out)
	}
	if out, _ := fieldsyncCmd("residents", "status", "--dir", lap, "--officer", "CA-1", "042085000101", "lost").CombinedOutput(); !strings.Contains(string(out), "away, deceased") {
		t.Fatalf("an unknown status:\n%s", out)
	}
}
