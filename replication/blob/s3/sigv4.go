package s3

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Credentials are an access key pair of the object store.
type Credentials struct {
	AccessKey string
	SecretKey string
	// SessionToken is set for temporary credentials (sent as
	// X-Amz-Security-Token); empty otherwise.
	SessionToken string
}

const (
	amzDateFormat   = "20060102T150405Z"
	amzShortDate    = "20060102"
	signAlgorithm   = "AWS4-HMAC-SHA256"
	headerAmzDate   = "X-Amz-Date"
	headerAmzSHA256 = "X-Amz-Content-Sha256"
	headerAmzToken  = "X-Amz-Security-Token"
)

// sign adds AWS Signature Version 4 headers to req (header-based, the
// payload's SHA-256 signed): X-Amz-Date, X-Amz-Content-Sha256 and
// Authorization. Every header already set on req is signed, and Host.
// payloadHash is the lowercase hex SHA-256 of the body.
func sign(req *http.Request, payloadHash string, creds Credentials, region string, now time.Time) {
	now = now.UTC()
	req.Header.Set(headerAmzDate, now.Format(amzDateFormat))
	req.Header.Set(headerAmzSHA256, payloadHash)
	if creds.SessionToken != "" {
		req.Header.Set(headerAmzToken, creds.SessionToken)
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	names := []string{"host"}
	values := map[string]string{"host": host}
	for k, vs := range req.Header {
		lk := strings.ToLower(k)
		if lk == "authorization" || lk == "user-agent" || lk == "content-length" {
			continue
		}
		trimmed := make([]string, len(vs))
		for i, v := range vs {
			trimmed[i] = strings.Join(strings.Fields(v), " ")
		}
		names = append(names, lk)
		values[lk] = strings.Join(trimmed, ",")
	}
	sort.Strings(names)
	var canonHeaders strings.Builder
	for _, n := range names {
		canonHeaders.WriteString(n)
		canonHeaders.WriteByte(':')
		canonHeaders.WriteString(values[n])
		canonHeaders.WriteByte('\n')
	}
	signed := strings.Join(names, ";")
	canonical := strings.Join([]string{
		req.Method,
		canonicalPath(req.URL),
		canonicalQuery(req.URL.Query()),
		canonHeaders.String(),
		signed,
		payloadHash,
	}, "\n")
	date := now.Format(amzShortDate)
	scope := date + "/" + region + "/s3/aws4_request"
	sum := sha256.Sum256([]byte(canonical))
	toSign := signAlgorithm + "\n" + now.Format(amzDateFormat) + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := hmacSHA256([]byte("AWS4"+creds.SecretKey), date)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, "s3")
	key = hmacSHA256(key, "aws4_request")
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	req.Header.Set("Authorization", signAlgorithm+" Credential="+creds.AccessKey+"/"+scope+",SignedHeaders="+signed+",Signature="+sig)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalPath is the URI-encoded path, each byte outside the unreserved
// set escaped once ('/' kept), as S3 computes it.
func canonicalPath(u *url.URL) string {
	p := u.Path
	if p == "" {
		return "/"
	}
	return uriEncode(p, false)
}

// canonicalQuery sorts the parameters by name, then value, each encoded.
func canonicalQuery(q url.Values) string {
	type kv struct{ k, v string }
	var all []kv
	for k, vs := range q {
		for _, v := range vs {
			all = append(all, kv{uriEncode(k, true), uriEncode(v, true)})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].k != all[j].k {
			return all[i].k < all[j].k
		}
		return all[i].v < all[j].v
	})
	parts := make([]string, len(all))
	for i, p := range all {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// uriEncode escapes every byte but A-Z a-z 0-9 - _ . ~ (and '/' unless
// slash is set), in uppercase hex, as SigV4 requires.
func uriEncode(s string, slash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !slash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}
