package residents

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

func BenchmarkReadCSV(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("commune_code,personal_id,full_name,date_of_birth,sex,household,relation_to_head,address\n")
	for i := range 10000 {
		fmt.Fprintf(&buf, "18586,%s,Nguyễn Văn %d,12/03/1985,Nam,HK-%d,Chủ hộ,Thôn %d\n", pid(i), i, i/4, i%12)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := ReadCSV(bytes.NewReader(buf.Bytes()), ImportOptions{Now: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
			b.Fatal(err)
		}
	}
}
