package residents

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"
)

func FuzzDecodeList(f *testing.F) {
	b, _ := json.Marshal(list("18586", row(1, 1980), row(2, 1990)))
	f.Add(b)
	f.Add([]byte(`{"commune":"18586","code_list":"2023-04","as_of":"2025-02-30","min_age":14}`))
	f.Add([]byte(`{"commune":"1858","residents":[{"personal_id":"x"}]}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		l, err := DecodeList(p)
		if err != nil {
			return
		}
		c := NewCensus(Config{KeepRows: true})
		c.ApplyList(Ref{hubA, 2}, 1, &l) // a valid list never panics the census
		if c.Len() > len(l.Residents)+len(l.Removed) {
			t.Fatalf("%d people from %d rows", c.Len(), len(l.Residents)+len(l.Removed))
		}
	})
}

func FuzzDecodeStatus(f *testing.F) {
	b, _ := json.Marshal(status(pid(1), "away", t0, laptop+":3"))
	f.Add(b)
	f.Add([]byte(`{"personal_id":"042085000001","commune":"18586","status":"lost"}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		s, err := DecodeStatus(p)
		if err != nil {
			return
		}
		c := NewCensus(Config{})
		c.ApplyStatus(Ref{laptop, 2}, &s)
		c.ApplyStatus(Ref{laptop, 2}, &s)
		if pr, ok := c.Person(s.PersonalID); !ok || pr.Status == nil || pr.Status.Others != 0 {
			t.Fatalf("status applied twice: %+v", pr)
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	seed, _ := os.ReadFile("testdata/list.csv")
	f.Add(seed)
	f.Add([]byte("personal_id,full_name,date_of_birth,sex,commune_code\n\"042085000001,x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := ReadCSV(bytes.NewReader(b), ImportOptions{Now: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return
		}
		for c, rows := range im.Rows {
			ps, err := EncodeLists(im.Head[c], rows, nil)
			if err != nil {
				t.Fatalf("accepted rows of %s do not encode: %v", c, err)
			}
			for _, p := range ps {
				if _, err := DecodeList(p); err != nil {
					t.Fatalf("an encoded list does not decode: %v", err)
				}
			}
		}
	})
}
