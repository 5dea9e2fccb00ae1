package enrollment

import (
	"strings"
	"testing"
)

// decodeFindingCases are records that do not decode, and the finding the
// capture app shows on the field.
var decodeFindingCases = []struct {
	json, field, code, quote string
}{
	{`{"full_name":"A","date_of_birth":"31/x/1985"}`, "date_of_birth", "date.unreadable", "31/x/1985"},
	{`{"full_name":"A","father":{"full_name":"B","date_of_birth":"tháng 3"}}`, "father.date_of_birth", "date.unreadable", "tháng 3"},
	{`{"full_name":"A","sex":3}`, "sex", "field.unreadable", ""},
}

func TestDecodeFinding(t *testing.T) {
	for _, tc := range decodeFindingCases {
		_, err := DecodeJSON([]byte(tc.json))
		f, ok := DecodeFinding(err)
		if !ok || f.Field != tc.field || f.Code != tc.code || !strings.Contains(f.MessageVI, tc.quote) {
			t.Errorf("%s: %v → %+v", tc.json, err, f)
			continue
		}
		checkFinding(t, f)
	}
	if _, ok := DecodeFinding(ErrSyntax); ok {
		t.Error("an error naming no field made a finding")
	}
}

func TestFragmentChecks(t *testing.T) {
	if fs := CheckCode("household", "HK\u202e01"); !fs.Rejected() || fs[0].Field != "household" {
		t.Errorf("a bidi override in a code: %v", fs)
	}
	if fs := CheckName("officer", "Nguyễn  Văn A"); fs.Rejected() || len(fs) == 0 {
		t.Errorf("double spaces in a name: %v", fs)
	}
	if fs := CheckCommune("commune_code", "1858", ""); !fs.Rejected() {
		t.Errorf("a 4-digit commune: %v", fs)
	}
	if fs := CheckCommune("commune_code", "18586", CodeList2023); len(fs) != 0 {
		t.Errorf("Thạch Kênh: %v", fs)
	}
}
