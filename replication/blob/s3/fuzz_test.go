package s3

import (
	"testing"
)

// FuzzDecodeAnswers feeds arbitrary bytes to every decoder of the
// store's answers: a clean error or a checked value, never a panic.
func FuzzDecodeAnswers(f *testing.F) {
	for _, s := range []string{
		`<?xml version="1.0"?><ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t</NextContinuationToken><Contents><Key>a/b</Key><Size>12</Size><ETag>"x"</ETag></Contents></ListBucketResult>`,
		`<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>abc</UploadId></InitiateMultipartUploadResult>`,
		`<ListPartsResult><IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber><ETag>"e"</ETag><Size>5242880</Size></Part></ListPartsResult>`,
		`<ListMultipartUploadsResult><Upload><Key>k</Key><UploadId>u</UploadId></Upload></ListMultipartUploadsResult>`,
		`<Error><Code>NoSuchKey</Code><Message>m</Message></Error>`,
		`<ListBucketResult><Contents><Key></Key><Size>-1</Size></Contents></ListBucketResult>`,
		"",
		"<",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := decodeListObjects(b); err == nil {
			for _, o := range r.Contents {
				if o.Key == "" || o.Size < 0 {
					t.Fatalf("accepted an entry %+v", o)
				}
			}
		}
		if id, err := decodeInitiate(b); err == nil && id == "" {
			t.Fatal("accepted an empty upload ID")
		}
		if r, err := decodeListParts(b); err == nil {
			for _, p := range r.Parts {
				if p.PartNumber < 1 || p.PartNumber > 10000 {
					t.Fatalf("accepted part %d", p.PartNumber)
				}
			}
		}
		decodeListUploads(b)
		answerError(request{op: "fuzz"}, 500, b)
		parseCredentials(b, "default", "fuzz")
	})
}
