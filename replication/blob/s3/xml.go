package s3

import (
	"bytes"
	"encoding/xml"
	"fmt"
)

// The answers the client decodes. Each decoder takes a body already
// bounded by the client (maxListBody) and checks what it relies on.

type listObjectsResult struct {
	IsTruncated           bool   `xml:"IsTruncated"`
	NextContinuationToken string `xml:"NextContinuationToken"`
	Contents              []struct {
		Key  string `xml:"Key"`
		Size int64  `xml:"Size"`
		ETag string `xml:"ETag"`
	} `xml:"Contents"`
}

// maxPageEntries bounds the entries of one page: S3 sends at most 1,000.
const maxPageEntries = 10000

func decodeListObjects(b []byte) (*listObjectsResult, error) {
	var r listObjectsResult
	if err := decodeXML(b, "ListBucketResult", &r); err != nil {
		return nil, err
	}
	if len(r.Contents) > maxPageEntries {
		return nil, fmt.Errorf("a page of %d keys, limit %d", len(r.Contents), maxPageEntries)
	}
	for _, o := range r.Contents {
		if o.Key == "" || o.Size < 0 {
			return nil, fmt.Errorf("an entry with key %q and size %d", clip(o.Key, 80), o.Size)
		}
	}
	return &r, nil
}

type initiateResult struct {
	UploadID string `xml:"UploadId"`
}

func decodeInitiate(b []byte) (string, error) {
	var r initiateResult
	if err := decodeXML(b, "InitiateMultipartUploadResult", &r); err != nil {
		return "", err
	}
	if r.UploadID == "" || len(r.UploadID) > 1024 {
		return "", fmt.Errorf("an upload ID of %d bytes", len(r.UploadID))
	}
	return r.UploadID, nil
}

type listPartsResult struct {
	IsTruncated          bool   `xml:"IsTruncated"`
	NextPartNumberMarker string `xml:"NextPartNumberMarker"`
	Parts                []struct {
		PartNumber int    `xml:"PartNumber"`
		ETag       string `xml:"ETag"`
		Size       int64  `xml:"Size"`
	} `xml:"Part"`
}

func decodeListParts(b []byte) (*listPartsResult, error) {
	var r listPartsResult
	if err := decodeXML(b, "ListPartsResult", &r); err != nil {
		return nil, err
	}
	if len(r.Parts) > maxPageEntries {
		return nil, fmt.Errorf("a page of %d parts, limit %d", len(r.Parts), maxPageEntries)
	}
	for _, p := range r.Parts {
		if p.PartNumber < 1 || p.PartNumber > 10000 || p.Size < 0 {
			return nil, fmt.Errorf("a part numbered %d of size %d", p.PartNumber, p.Size)
		}
	}
	return &r, nil
}

type listUploadsResult struct {
	IsTruncated        bool   `xml:"IsTruncated"`
	NextKeyMarker      string `xml:"NextKeyMarker"`
	NextUploadIDMarker string `xml:"NextUploadIdMarker"`
	Uploads            []struct {
		Key      string `xml:"Key"`
		UploadID string `xml:"UploadId"`
	} `xml:"Upload"`
}

func decodeListUploads(b []byte) (*listUploadsResult, error) {
	var r listUploadsResult
	if err := decodeXML(b, "ListMultipartUploadsResult", &r); err != nil {
		return nil, err
	}
	if len(r.Uploads) > maxPageEntries {
		return nil, fmt.Errorf("a page of %d uploads, limit %d", len(r.Uploads), maxPageEntries)
	}
	return &r, nil
}

// decodeXML decodes b into v, checking the document's root element.
func decodeXML(b []byte, root string, v any) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			return fmt.Errorf("malformed answer: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != root {
				return fmt.Errorf("an answer <%s>, want <%s>", clip(se.Name.Local, 40), root)
			}
			if err := d.DecodeElement(v, &se); err != nil {
				return fmt.Errorf("malformed <%s>: %w", root, err)
			}
			return nil
		}
	}
}

type completeUpload struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []completePart
}

type completePart struct {
	XMLName    xml.Name `xml:"Part"`
	PartNumber int      `xml:"PartNumber"`
	ETag       string   `xml:"ETag"`
}

func encodeComplete(parts []Part) ([]byte, error) {
	c := completeUpload{}
	for _, p := range parts {
		c.Parts = append(c.Parts, completePart{PartNumber: p.Number, ETag: `"` + p.ETag + `"`})
	}
	return xml.Marshal(c)
}
