package s3

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The four examples of AWS's "Signature Calculations for the Authorization
// Header: Transferring Payload in a Single Chunk" (the S3 API reference),
// with the signatures published there.
func TestSignMatchesAWSExamples(t *testing.T) {
	creds := Credentials{AccessKey: "AKIAIOSFODNN7EXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	now := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, method, url string
		headers           map[string]string
		body              string
		signedHeaders     string
		signature         string
	}{
		{
			name: "get object with range", method: "GET", url: "http://examplebucket.s3.amazonaws.com/test.txt",
			headers:       map[string]string{"Range": "bytes=0-9"},
			signedHeaders: "host;range;x-amz-content-sha256;x-amz-date",
			signature:     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		},
		{
			name: "put object", method: "PUT", url: "http://examplebucket.s3.amazonaws.com/test$file.text",
			headers:       map[string]string{"Date": "Fri, 24 May 2013 00:00:00 GMT", "X-Amz-Storage-Class": "REDUCED_REDUNDANCY"},
			body:          "Welcome to Amazon S3.",
			signedHeaders: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
			signature:     "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
		},
		{
			name: "get bucket lifecycle", method: "GET", url: "http://examplebucket.s3.amazonaws.com/?lifecycle",
			signedHeaders: "host;x-amz-content-sha256;x-amz-date",
			signature:     "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
		},
		{
			name: "list objects", method: "GET", url: "http://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
			signedHeaders: "host;x-amz-content-sha256;x-amz-date",
			signature:     "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			sum := sha256.Sum256([]byte(tc.body))
			sign(req, hex.EncodeToString(sum[:]), creds, "us-east-1", now)
			want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=" + tc.signedHeaders + ",Signature=" + tc.signature
			if got := req.Header.Get("Authorization"); got != want {
				t.Fatalf("authorization\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestURIEncode(t *testing.T) {
	tests := []struct{ in, path, query string }{
		{"abc-_.~09", "abc-_.~09", "abc-_.~09"},
		{"a/b c", "a/b%20c", "a%2Fb%20c"},
		{"ế+=&", "%E1%BA%BF%2B%3D%26", "%E1%BA%BF%2B%3D%26"},
	}
	for _, tc := range tests {
		if got := uriEncode(tc.in, false); got != tc.path {
			t.Errorf("path %q: %q, want %q", tc.in, got, tc.path)
		}
		if got := uriEncode(tc.in, true); got != tc.query {
			t.Errorf("query %q: %q, want %q", tc.in, got, tc.query)
		}
	}
}
