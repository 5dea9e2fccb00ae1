package s3

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseLocation(t *testing.T) {
	tests := []struct {
		in   string
		want Location
		err  string
	}{
		{in: "s3://s3.example.vn/hatinh-blobs/hub-42?credentials=/etc/fs/s3",
			want: Location{Endpoint: "https://s3.example.vn", Bucket: "hatinh-blobs", Prefix: "hub-42/", Region: "us-east-1", Credentials: "/etc/fs/s3", Profile: "default"}},
		{in: "s3+http://127.0.0.1:8333/blobs?credentials=c&region=ap-southeast-1&profile=hub",
			want: Location{Endpoint: "http://127.0.0.1:8333", Bucket: "blobs", Region: "ap-southeast-1", Credentials: "c", Profile: "hub"}},
		{in: "http://x/b?credentials=c", err: "want s3://"},
		{in: "s3://x/bucket", err: "credentials=FILE is required"},
		{in: "s3://key:secret@x/bucket?credentials=c", err: "never in the address"},
		{in: "s3://x/Bucket?credentials=c", err: "lowercase"},
		{in: "s3://x/bucket?credentials=c&acl=public", err: "unknown option"},
		{in: "s3:///bucket?credentials=c", err: "no host"},
	}
	for _, tc := range tests {
		got, err := ParseLocation(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v %v", tc.in, got, err)
			continue
		}
		back, err := ParseLocation(got.String())
		if err != nil || back != got {
			t.Errorf("%s: round trip %q: %+v %v", tc.in, got.String(), back, err)
		}
	}
}

func TestReadCredentials(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "creds")
	body := "# hub 42\n[other]\naws_access_key_id = X\naws_secret_access_key = Y\n\n[default]\naws_access_key_id = AK\naws_secret_access_key = S/K+\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := ReadCredentials(path, "default")
	if err != nil || c.AccessKey != "AK" || c.SecretKey != "S/K+" {
		t.Fatalf("%+v %v", c, err)
	}
	if c, err := ReadCredentials(path, "other"); err != nil || c.AccessKey != "X" {
		t.Fatalf("other: %+v %v", c, err)
	}
	for _, tc := range []struct{ body, profile, err string }{
		{body, "missing", "no [missing] section"},
		{"[default]\naws_access_key_id = A\n", "default", "are required"},
		{"[default]\nnonsense\n", "default", "line 2"},
	} {
		os.WriteFile(path, []byte(tc.body), 0o600)
		if _, err := ReadCredentials(path, tc.profile); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: %v, want %q", tc.body, err, tc.err)
		}
	}
	os.WriteFile(path, []byte(body), 0o644)
	os.Chmod(path, 0o644)
	if _, err := ReadCredentials(path, "default"); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a readable credentials file: %v", err)
	}
}
