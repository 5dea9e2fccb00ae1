package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Limits on what a server's answer may make the client read.
const (
	// maxErrorBody bounds an error answer's XML.
	maxErrorBody = 64 << 10
	// maxListBody bounds a listing page (1,000 keys of ~100 bytes, with
	// room to spare).
	maxListBody = 4 << 20
	// MaxObjectSize bounds an object the client reads whole: a sealed blob
	// of blob.MaxSize with its headers and records.
	MaxObjectSize = 17 << 20
)

// ErrUnavailable marks a failure that can pass: the store cannot be
// reached, timed out, or answered 5xx, 429 or SlowDown. Callers keep what
// they hold and try again later.
var ErrUnavailable = errors.New("s3: object store unavailable")

// ErrNoSuchKey: the object (or upload) does not exist.
var ErrNoSuchKey = errors.New("s3: no such key")

// Error is an error answer of the store.
type Error struct {
	Op      string // "put", "get", "list", ...
	Key     string
	Status  int
	Code    string // S3 error code ("NoSuchKey", "SignatureDoesNotMatch", ...)
	Message string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("s3: %s %s: HTTP %d", e.Op, e.Key, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Is makes a transient answer match ErrUnavailable and a missing key
// ErrNoSuchKey.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnavailable:
		return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Code == "SlowDown"
	case ErrNoSuchKey:
		return e.Status == http.StatusNotFound || e.Code == "NoSuchKey" || e.Code == "NoSuchUpload"
	}
	return false
}

// Client speaks the S3 API to one bucket of an S3-compatible store:
// path-style requests signed with Signature Version 4 (payload signed).
// It does the dozen calls a blob store needs and nothing else.
type Client struct {
	endpoint *url.URL // scheme and host
	bucket   string
	region   string
	creds    Credentials
	http     *http.Client
	now      func() time.Time
	// Timeout bounds one request without a body to send or read; a
	// request that moves n bytes gets Timeout plus n at MinRate.
	Timeout time.Duration
	MinRate int64 // bytes per second
}

// Config says where a client connects.
type Config struct {
	// Endpoint is the store's base URL: "http://127.0.0.1:8333" or
	// "https://s3.example.vn".
	Endpoint string
	Bucket   string
	Region   string // default "us-east-1"
	Creds    Credentials
	// HTTP is the client to use (default: one with its own transport).
	HTTP *http.Client
}

// NewClient returns a client of cfg's bucket.
func NewClient(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("s3: endpoint %q: want http://host:port or https://host", cfg.Endpoint)
	}
	if err := checkBucket(cfg.Bucket); err != nil {
		return nil, err
	}
	if cfg.Creds.AccessKey == "" || cfg.Creds.SecretKey == "" {
		return nil, fmt.Errorf("s3: credentials: an access key and a secret key are required")
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	hc := cfg.HTTP
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 32,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			DisableCompression:  true, // a Range must mean the stored bytes
		}}
	}
	return &Client{endpoint: &url.URL{Scheme: u.Scheme, Host: u.Host}, bucket: cfg.Bucket, region: region, creds: cfg.Creds,
		http: hc, now: time.Now, Timeout: 30 * time.Second, MinRate: 256 << 10}, nil
}

// checkBucket applies S3's bucket naming rules (3-63 lowercase letters,
// digits, dots and hyphens).
func checkBucket(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("s3: bucket %q: want 3 to 63 characters", b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return fmt.Errorf("s3: bucket %q: only lowercase letters, digits, '.' and '-'", b)
		}
	}
	return nil
}

// Bucket returns the bucket's name.
func (c *Client) Bucket() string { return c.bucket }

// Endpoint returns the store's base URL.
func (c *Client) Endpoint() string { return c.endpoint.String() }

// request is one call.
type request struct {
	op      string
	method  string
	key     string // "" for the bucket itself
	query   url.Values
	header  http.Header
	body    []byte
	maxBody int64 // bound on the answer's body read
}

// response is a call's answer with its body read (up to maxBody).
type response struct {
	status int
	header http.Header
	body   []byte
}

func (c *Client) do(ctx context.Context, r request) (*response, error) {
	u := *c.endpoint
	u.Path = "/" + c.bucket
	if r.key != "" {
		u.Path += "/" + r.key
	}
	u.RawPath = uriEncode(u.Path, false)
	u.RawQuery = canonicalQuery(r.query)
	timeout := c.Timeout + time.Duration((int64(len(r.body))+r.maxBody)/max(c.MinRate, 1))*time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), bytes.NewReader(r.body))
	if err != nil {
		return nil, fmt.Errorf("s3: %s %s: %w", r.op, r.key, err)
	}
	req.ContentLength = int64(len(r.body))
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	sum := sha256.Sum256(r.body)
	sign(req, hex.EncodeToString(sum[:]), c.creds, c.region, c.now())
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
			return nil, fmt.Errorf("s3: %s %s: %w", r.op, r.key, ctx.Err())
		}
		return nil, fmt.Errorf("%w: %s %s: %w", ErrUnavailable, r.op, r.key, err)
	}
	defer resp.Body.Close()
	limit := r.maxBody
	if resp.StatusCode >= 300 {
		limit = maxErrorBody
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: reading the answer: %w", ErrUnavailable, r.op, r.key, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("s3: %s %s: the answer is longer than %d bytes", r.op, r.key, limit)
	}
	if resp.StatusCode >= 300 {
		return nil, answerError(r, resp.StatusCode, body)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// answerError decodes an S3 error answer (a HEAD's has no body).
func answerError(r request, status int, body []byte) error {
	e := &Error{Op: r.op, Key: r.key, Status: status}
	var x struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if len(body) > 0 && xml.Unmarshal(body, &x) == nil {
		e.Code, e.Message = clip(x.Code, 64), clip(x.Message, 300)
	}
	return e
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// contentMD5 returns the base64 MD5 of b (the store checks it) and its
// hex, which a single PUT's ETag equals.
func contentMD5(b []byte) (b64, hexSum string) {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:]), hex.EncodeToString(sum[:])
}

// etagOf strips the quotes of an ETag header.
func etagOf(h http.Header) string { return strings.Trim(h.Get("ETag"), `"`) }

// Put stores body under key, whole; the store checks its MD5 and the
// signed SHA-256. It returns the object's ETag.
func (c *Client) Put(ctx context.Context, key string, body []byte) (string, error) {
	b64, sum := contentMD5(body)
	resp, err := c.do(ctx, request{op: "put", method: "PUT", key: key, body: body, maxBody: maxErrorBody,
		header: http.Header{"Content-Md5": {b64}, "Content-Type": {"application/octet-stream"}}})
	if err != nil {
		return "", err
	}
	if tag := etagOf(resp.header); tag != "" && tag != sum {
		return "", fmt.Errorf("s3: put %s: the store's ETag %q is not the MD5 of the bytes sent (%s)", key, tag, sum)
	}
	return sum, nil
}

// Get reads key whole, or the bytes [off, off+n) of it when n > 0. At
// most MaxObjectSize bytes are read.
func (c *Client) Get(ctx context.Context, key string, off, n int64) ([]byte, error) {
	h := http.Header{}
	limit := int64(MaxObjectSize)
	if n > 0 {
		h.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+n-1))
		limit = min(n, limit)
	}
	resp, err := c.do(ctx, request{op: "get", method: "GET", key: key, header: h, maxBody: limit})
	if err != nil {
		return nil, err
	}
	return resp.body, nil
}

// ObjectInfo is what Head and List say of an object.
type ObjectInfo struct {
	Key  string
	Size int64
	ETag string
}

// Head returns key's size and ETag, or an error matching ErrNoSuchKey.
func (c *Client) Head(ctx context.Context, key string) (ObjectInfo, error) {
	resp, err := c.do(ctx, request{op: "head", method: "HEAD", key: key})
	if err != nil {
		return ObjectInfo{}, err
	}
	size, err := strconv.ParseInt(resp.header.Get("Content-Length"), 10, 64)
	if err != nil || size < 0 {
		return ObjectInfo{}, fmt.Errorf("s3: head %s: Content-Length %q", key, resp.header.Get("Content-Length"))
	}
	return ObjectInfo{Key: key, Size: size, ETag: etagOf(resp.header)}, nil
}

// Delete removes key (S3 answers success for a key that is not there).
func (c *Client) Delete(ctx context.Context, key string) error {
	_, err := c.do(ctx, request{op: "delete", method: "DELETE", key: key})
	return err
}

// List calls fn for every object whose key starts with prefix, a page
// (up to 1,000 keys) at a time, until fn returns false.
func (c *Client) List(ctx context.Context, prefix string, fn func(ObjectInfo) bool) error {
	token := ""
	for {
		q := url.Values{"list-type": {"2"}, "prefix": {prefix}, "max-keys": {"1000"}}
		if token != "" {
			q.Set("continuation-token", token)
		}
		resp, err := c.do(ctx, request{op: "list", method: "GET", query: q, maxBody: maxListBody})
		if err != nil {
			return err
		}
		page, err := decodeListObjects(resp.body)
		if err != nil {
			return fmt.Errorf("s3: list %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			if !fn(ObjectInfo{Key: o.Key, Size: o.Size, ETag: strings.Trim(o.ETag, `"`)}) {
				return nil
			}
		}
		if !page.IsTruncated {
			return nil
		}
		if page.NextContinuationToken == "" || page.NextContinuationToken == token {
			return fmt.Errorf("s3: list %s: a truncated page without a new continuation token", prefix)
		}
		token = page.NextContinuationToken
	}
}

// CreateUpload starts a multipart upload of key and returns its ID.
func (c *Client) CreateUpload(ctx context.Context, key string) (string, error) {
	resp, err := c.do(ctx, request{op: "create upload", method: "POST", key: key, query: url.Values{"uploads": {""}}, maxBody: maxErrorBody,
		header: http.Header{"Content-Type": {"application/octet-stream"}}})
	if err != nil {
		return "", err
	}
	id, err := decodeInitiate(resp.body)
	if err != nil {
		return "", fmt.Errorf("s3: create upload %s: %w", key, err)
	}
	return id, nil
}

// Part is an uploaded part of a multipart upload.
type Part struct {
	Number int
	ETag   string // hex MD5 of the part's bytes
	Size   int64
}

// UploadPart uploads part n (1-based) of an upload; the store checks its
// MD5, and its ETag must be that MD5.
func (c *Client) UploadPart(ctx context.Context, key, uploadID string, n int, body []byte) (Part, error) {
	b64, sum := contentMD5(body)
	q := url.Values{"partNumber": {strconv.Itoa(n)}, "uploadId": {uploadID}}
	resp, err := c.do(ctx, request{op: "upload part", method: "PUT", key: key, query: q, body: body, maxBody: maxErrorBody,
		header: http.Header{"Content-Md5": {b64}}})
	if err != nil {
		return Part{}, err
	}
	if tag := etagOf(resp.header); tag != "" && tag != sum {
		return Part{}, fmt.Errorf("s3: upload part %d of %s: the store's ETag %q is not the MD5 of the bytes sent", n, key, tag)
	}
	return Part{Number: n, ETag: sum, Size: int64(len(body))}, nil
}

// ListParts returns the parts the store holds of an upload, in order.
func (c *Client) ListParts(ctx context.Context, key, uploadID string) ([]Part, error) {
	var out []Part
	marker := ""
	for range 1000 {
		q := url.Values{"uploadId": {uploadID}}
		if marker != "" {
			q.Set("part-number-marker", marker)
		}
		resp, err := c.do(ctx, request{op: "list parts", method: "GET", key: key, query: q, maxBody: maxListBody})
		if err != nil {
			return nil, err
		}
		page, err := decodeListParts(resp.body)
		if err != nil {
			return nil, fmt.Errorf("s3: list parts of %s: %w", key, err)
		}
		for _, p := range page.Parts {
			out = append(out, Part{Number: p.PartNumber, ETag: strings.Trim(p.ETag, `"`), Size: p.Size})
		}
		if !page.IsTruncated {
			return out, nil
		}
		if page.NextPartNumberMarker == "" || page.NextPartNumberMarker == marker {
			return nil, fmt.Errorf("s3: list parts of %s: a truncated page without a new marker", key)
		}
		marker = page.NextPartNumberMarker
	}
	return nil, fmt.Errorf("s3: list parts of %s: more than 1000 pages", key)
}

// CompleteUpload joins the parts into the object. A store may answer 200
// with an error in the body: that is an error too.
func (c *Client) CompleteUpload(ctx context.Context, key, uploadID string, parts []Part) error {
	body, err := encodeComplete(parts)
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, request{op: "complete upload", method: "POST", key: key, query: url.Values{"uploadId": {uploadID}}, body: body, maxBody: maxErrorBody,
		header: http.Header{"Content-Type": {"application/xml"}}})
	if err != nil {
		return err
	}
	if bytes.Contains(resp.body, []byte("<Error>")) {
		e := answerError(request{op: "complete upload", key: key}, http.StatusInternalServerError, resp.body)
		return e
	}
	return nil
}

// AbortUpload discards an upload and its parts.
func (c *Client) AbortUpload(ctx context.Context, key, uploadID string) error {
	_, err := c.do(ctx, request{op: "abort upload", method: "DELETE", key: key, query: url.Values{"uploadId": {uploadID}}})
	return err
}

// Upload is a multipart upload in progress.
type Upload struct {
	Key string
	ID  string
}

// ListUploads calls fn for each multipart upload in progress under prefix.
func (c *Client) ListUploads(ctx context.Context, prefix string, fn func(Upload) bool) error {
	keyMarker, idMarker := "", ""
	for range 10000 {
		q := url.Values{"uploads": {""}, "prefix": {prefix}}
		if keyMarker != "" {
			q.Set("key-marker", keyMarker)
			q.Set("upload-id-marker", idMarker)
		}
		resp, err := c.do(ctx, request{op: "list uploads", method: "GET", query: q, maxBody: maxListBody})
		if err != nil {
			return err
		}
		page, err := decodeListUploads(resp.body)
		if err != nil {
			return fmt.Errorf("s3: list uploads %s: %w", prefix, err)
		}
		for _, u := range page.Uploads {
			if !fn(Upload{Key: u.Key, ID: u.UploadID}) {
				return nil
			}
		}
		if !page.IsTruncated {
			return nil
		}
		if page.NextKeyMarker == keyMarker && page.NextUploadIDMarker == idMarker {
			return fmt.Errorf("s3: list uploads %s: a truncated page without new markers", prefix)
		}
		keyMarker, idMarker = page.NextKeyMarker, page.NextUploadIDMarker
	}
	return fmt.Errorf("s3: list uploads %s: more than 10000 pages", prefix)
}

// CreateBucket makes the client's bucket; one that exists and is ours is
// no error.
func (c *Client) CreateBucket(ctx context.Context) error {
	_, err := c.do(ctx, request{op: "create bucket", method: "PUT", maxBody: maxErrorBody})
	var e *Error
	if errors.As(err, &e) && (e.Code == "BucketAlreadyOwnedByYou" || e.Code == "BucketAlreadyExists") {
		return nil
	}
	return err
}

// CheckBucket reports whether the bucket can be reached with these
// credentials: nil, or an error that says what is wrong.
func (c *Client) CheckBucket(ctx context.Context) error {
	_, err := c.do(ctx, request{op: "head bucket", method: "HEAD"})
	return err
}
