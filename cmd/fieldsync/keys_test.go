package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fs runs a command in this process; it returns the exit code, stdout
// and stderr.
func fsRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runMain(args, &env{stdout: &out, stderr: &errOut, stdin: strings.NewReader("")})
	return code, out.String(), errOut.String()
}

func fsMust(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := fsRun(t, args...)
	if code != exitOK {
		t.Fatalf("fieldsync %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func TestCLIPassphrase(t *testing.T) {
	t.Setenv(envKeyFile, "")
	t.Setenv(envPassphraseFile, "")
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "node")
	t.Setenv(envPassphrase, "mật khẩu của xã 18586")
	out := fsMust(t, "init", "--dir", dir, "--unit", "18586", "--passphrase")
	if !strings.Contains(out, "passphrase, argon2id") {
		t.Fatalf("init output does not say where the key is:\n%s", out)
	}
	if _, err := os.Stat(dir + ".key"); err == nil {
		t.Fatal("a key file was made for a passphrase directory")
	}
	fsMust(t, "verify", "--dir", dir)

	t.Setenv(envPassphrase, "")
	if code, _, errOut := fsRun(t, "verify", "--dir", dir); code != exitFailure || !strings.Contains(errOut, "FIELDSYNC_PASSPHRASE") {
		t.Fatalf("verify without the passphrase: exit %d\n%s", code, errOut)
	}
	t.Setenv(envPassphrase, "not the passphrase at all")
	if code, _, errOut := fsRun(t, "verify", "--dir", dir); code != exitFailure || !strings.Contains(errOut, "wrong key") || !strings.Contains(errOut, dir) {
		t.Fatalf("verify with a wrong passphrase: exit %d\n%s", code, errOut)
	}
	t.Setenv(envPassphrase, "")
	pf := filepath.Join(tmp, "pass")
	if err := os.WriteFile(pf, []byte("mật khẩu của xã 18586\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := fsRun(t, "verify", "--dir", dir, "--passphrase-file", pf); code != exitFailure || !strings.Contains(errOut, "readable by others") {
		t.Fatalf("a passphrase file readable by others: exit %d\n%s", code, errOut)
	}
	os.Chmod(pf, 0o600)
	fsMust(t, "verify", "--dir", dir, "--passphrase-file", pf)
}

func TestCLIRekeyAndRejectedReport(t *testing.T) {
	t.Setenv(envKeyFile, "")
	t.Setenv(envPassphrase, "")
	t.Setenv(envPassphraseFile, "")
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "node")
	fsMust(t, "init", "--dir", dir, "--unit", "18586")
	if code, _, errOut := fsRun(t, "init", "--dir", filepath.Join(tmp, "other"), "--unit", "18586", "--key-file", filepath.Join(tmp, "other", "k")); code == exitOK || !strings.Contains(errOut, "inside the data directory") {
		t.Fatalf("init with the key inside: exit %d\n%s", code, errOut)
	}
	in := filepath.Join(tmp, "in.jsonl")
	writeInput(t, in, 20)
	b, _ := os.ReadFile(in)
	b = append(b, []byte(`{"personal_id":"00109901234X","full_name":"NGUYỄN VĂN CANARY"}`+"\n")...)
	os.WriteFile(in, b, 0o600)
	if code, _, errOut := fsRun(t, "import", "--dir", dir, "--report", filepath.Join(tmp, "r.jsonl"), in); code != exitUsage || !strings.Contains(errOut, "fieldsync rejected") {
		t.Fatalf("import --report: exit %d\n%s", code, errOut)
	}
	code, out, errOut := fsRun(t, "import", "--dir", dir, in)
	if code != exitRejected || !strings.Contains(out, "rejected 1") || !strings.Contains(errOut, "fieldsync rejected --dir") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	masked := fsMust(t, "rejected", "--dir", dir)
	if strings.Contains(masked, "00109901234X") || !strings.Contains(masked, "pid.not_digits") || !strings.Contains(masked, "21 ") {
		t.Fatalf("rejected, masked:\n%s", masked)
	}
	if shown := fsMust(t, "rejected", "--dir", dir, "--show-pii", "--json"); !strings.Contains(shown, "00109901234X") {
		t.Fatalf("rejected --show-pii:\n%s", shown)
	}

	newKey := filepath.Join(tmp, "new.key")
	fsMust(t, "keygen", "--out", newKey)
	out = fsMust(t, "rekey", "--dir", dir, "--new-key-file", newKey)
	if !strings.Contains(out, newKey) {
		t.Fatalf("rekey output:\n%s", out)
	}
	if code, _, errOut := fsRun(t, "verify", "--dir", dir, "--key-file", dir+".key"); code != exitFailure || !strings.Contains(errOut, "wrong key") {
		t.Fatalf("verify with the old key after rekey: exit %d\n%s", code, errOut)
	}
	if out := fsMust(t, "verify", "--dir", dir); !strings.Contains(out, "21 entries") {
		t.Fatalf("verify after rekey:\n%s", out)
	}
	if shown := fsMust(t, "rejected", "--dir", dir, "--show-pii", "--json"); !strings.Contains(shown, "00109901234X") {
		t.Fatal("the report does not open under the new key")
	}
	if code, _, errOut := fsRun(t, "rejected", "--dir", dir, "--key-file", dir+".key"); code != exitFailure || !strings.Contains(errOut, "wrong key") {
		t.Fatalf("rejected with the old key: exit %d\n%s", code, errOut)
	}
}
