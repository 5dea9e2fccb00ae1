package residents

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestReadCSV(t *testing.T) {
	f, err := os.Open("testdata/list.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	im, err := ReadCSV(f, ImportOptions{CodeList: "2023-04", Now: now, Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if im.Accepted != 4 || len(im.Rows["18586"]) != 3 || len(im.Rows["18571"]) != 1 {
		t.Fatalf("accepted %d: %v", im.Accepted, im.Rows)
	}
	if got := im.Rows["18586"][2].PersonalID; got != "042211000103" {
		t.Errorf("ID numbers are normalized: %q", got)
	}
	if h := im.Head["18586"]; h.AsOf != "2025-03-01" || h.MinAge != DefaultMinAge || h.CodeList != "2023-04" {
		t.Errorf("head %+v", h)
	}
	// Line 5: 11 digits and 30 February; line 6: the same person again;
	// line 7: sex X; line 9: a unit that does not exist; line 10: short row.
	why := map[int]string{}
	for _, r := range im.Rejected {
		var msgs []string
		for _, f := range r.Findings.Filter(2) {
			msgs = append(msgs, f.Code)
		}
		why[r.Line] = r.Error + strings.Join(msgs, ",")
	}
	for line, want := range map[int]string{5: "date.day_invalid", 6: "already on line 2", 7: "sex.invalid", 9: "unit.", 10: "cells"} {
		if !strings.Contains(why[line], want) {
			t.Errorf("line %d: %q, want %q", line, why[line], want)
		}
	}
	if im.RejectedCount != 5 {
		t.Errorf("rejected %d rows: %v", im.RejectedCount, why)
	}
	payloads, err := EncodeLists(im.Head["18586"], im.Rows["18586"], nil)
	if err != nil || len(payloads) != 1 {
		t.Fatalf("encode: %v, %d payloads", err, len(payloads))
	}
	if l, err := DecodeList(payloads[0]); err != nil || len(l.Residents) != 3 {
		t.Fatalf("decode: %v %+v", err, l)
	}
}

func TestReadCSVRefusesABadHeader(t *testing.T) {
	for name, c := range map[string]struct{ csv, want string }{
		"empty":   {"", "empty"},
		"unknown": {"personal_id,full_name,date_of_birth,sex,shoe_size\n", "shoe_size"},
		"twice":   {"personal_id,so_dinh_danh\n", "repeats"},
		"missing": {"personal_id,full_name\n", "date_of_birth, sex, commune_code"},
	} {
		_, err := ReadCSV(strings.NewReader(c.csv), ImportOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

func TestEncodeListsSplits(t *testing.T) {
	var rows []Resident
	for i := range 450 {
		rows = append(rows, row(i, 1980))
	}
	removed := []string{pid(1000), pid(1001)}
	ps, err := EncodeLists(*list("18586"), rows, removed)
	if err != nil {
		t.Fatal(err)
	}
	n, r := 0, 0
	for _, p := range ps {
		if len(p) > MaxListBytes {
			t.Errorf("payload of %d bytes", len(p))
		}
		l, err := DecodeList(p)
		if err != nil {
			t.Fatal(err)
		}
		n += len(l.Residents)
		r += len(l.Removed)
	}
	if n != 450 || r != 2 || len(ps) != 3 {
		t.Fatalf("%d payloads with %d rows and %d removals", len(ps), n, r)
	}
}
