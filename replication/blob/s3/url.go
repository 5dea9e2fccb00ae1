package s3

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Location is a parsed --blob-store address:
//
//	s3://HOST[:PORT]/BUCKET[/PREFIX]?credentials=FILE[&region=R][&profile=P]
//	s3+http://HOST:PORT/BUCKET[/PREFIX]?credentials=FILE   (plain HTTP: loopback or a private link only)
//
// The credentials file is in the AWS shared-credentials format (a
// [profile] section, default "default", with aws_access_key_id and
// aws_secret_access_key, and aws_session_token if temporary).
type Location struct {
	Endpoint    string // scheme://host[:port]
	Bucket      string
	Prefix      string
	Region      string
	Credentials string // the file
	Profile     string
}

// ParseLocation parses a --blob-store address.
func ParseLocation(s string) (Location, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Location{}, fmt.Errorf("blob store %q: %w", clip(s, 200), err)
	}
	var loc Location
	switch u.Scheme {
	case "s3":
		loc.Endpoint = "https://" + u.Host
	case "s3+http":
		loc.Endpoint = "http://" + u.Host
	default:
		return Location{}, fmt.Errorf("blob store %q: want s3://HOST/BUCKET[/PREFIX]?credentials=FILE (or s3+http:// for plain HTTP)", clip(s, 200))
	}
	if u.Host == "" {
		return Location{}, fmt.Errorf("blob store %q: no host", clip(s, 200))
	}
	if u.User != nil {
		return Location{}, fmt.Errorf("blob store %q: put the keys in a credentials file (credentials=FILE), never in the address", u.Redacted())
	}
	path := strings.TrimPrefix(u.Path, "/")
	loc.Bucket, loc.Prefix, _ = strings.Cut(path, "/")
	if err := checkBucket(loc.Bucket); err != nil {
		return Location{}, fmt.Errorf("blob store %q: %w", clip(s, 200), err)
	}
	if loc.Prefix != "" && !strings.HasSuffix(loc.Prefix, "/") {
		loc.Prefix += "/"
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "credentials", "region", "profile":
		default:
			return Location{}, fmt.Errorf("blob store %q: unknown option %q (credentials, region, profile)", clip(s, 200), k)
		}
	}
	loc.Credentials, loc.Region, loc.Profile = q.Get("credentials"), q.Get("region"), q.Get("profile")
	if loc.Credentials == "" {
		return Location{}, fmt.Errorf("blob store %q: credentials=FILE is required (an AWS-style credentials file)", clip(s, 200))
	}
	if loc.Region == "" {
		loc.Region = "us-east-1"
	}
	if loc.Profile == "" {
		loc.Profile = "default"
	}
	return loc, nil
}

// String renders the location back as an address.
func (l Location) String() string {
	scheme := "s3"
	host := strings.TrimPrefix(l.Endpoint, "https://")
	if strings.HasPrefix(l.Endpoint, "http://") {
		scheme, host = "s3+http", strings.TrimPrefix(l.Endpoint, "http://")
	}
	q := url.Values{"credentials": {l.Credentials}}
	if l.Region != "" && l.Region != "us-east-1" {
		q.Set("region", l.Region)
	}
	if l.Profile != "" && l.Profile != "default" {
		q.Set("profile", l.Profile)
	}
	return scheme + "://" + host + "/" + l.Bucket + "/" + l.Prefix + "?" + q.Encode()
}

// maxCredentialsFile bounds the credentials file read.
const maxCredentialsFile = 64 << 10

// ReadCredentials reads a profile from an AWS-style credentials file. A
// file others can read is refused: it holds a secret.
func ReadCredentials(path, profile string) (Credentials, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("s3 credentials: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return Credentials{}, fmt.Errorf("s3 credentials %s: mode %v lets others read the secret; chmod 600 it", path, fi.Mode().Perm())
	}
	if fi.Size() > maxCredentialsFile {
		return Credentials{}, fmt.Errorf("s3 credentials %s: %d bytes, not a credentials file", path, fi.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("s3 credentials: %w", err)
	}
	return parseCredentials(b, profile, path)
}

func parseCredentials(b []byte, profile, name string) (Credentials, error) {
	var c Credentials
	section, found := "", false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";"):
			continue
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			section = strings.TrimSpace(l[1 : len(l)-1])
			found = found || section == profile
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return c, fmt.Errorf("s3 credentials %s line %d: want key = value", name, line)
		}
		if section != profile {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			c.AccessKey = strings.TrimSpace(v)
		case "aws_secret_access_key":
			c.SecretKey = strings.TrimSpace(v)
		case "aws_session_token":
			c.SessionToken = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("s3 credentials %s: %w", name, err)
	}
	switch {
	case !found:
		return c, fmt.Errorf("s3 credentials %s: no [%s] section", name, profile)
	case c.AccessKey == "" || c.SecretKey == "":
		return c, fmt.Errorf("s3 credentials %s [%s]: aws_access_key_id and aws_secret_access_key are required", name, profile)
	}
	return c, nil
}

// WriteCredentials writes an AWS-style credentials file (mode 0600) with
// one [default] profile.
func WriteCredentials(path string, c Credentials) error {
	body := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", c.AccessKey, c.SecretKey)
	if c.SessionToken != "" {
		body += "aws_session_token = " + c.SessionToken + "\n"
	}
	return os.WriteFile(path, []byte(body), 0o600)
}

// Dial reads the location's credentials and returns a client of its
// bucket.
func (l Location) Dial() (*Client, error) {
	creds, err := ReadCredentials(l.Credentials, l.Profile)
	if err != nil {
		return nil, err
	}
	return NewClient(Config{Endpoint: l.Endpoint, Bucket: l.Bucket, Region: l.Region, Creds: creds})
}
