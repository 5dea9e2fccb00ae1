package enrollment

import (
	"errors"
	"testing"
)

func TestNormalizePersonalID(t *testing.T) {
	tests := []struct {
		in, want string
		code     string // "" when accepted without findings
	}{
		{"042085000123", "042085000123", ""},
		{" 042 085 000 123 ", "042085000123", ""},
		{"042.085.000.123", "042085000123", ""},
		{"042-085-000-123", "042085000123", ""},
		{"042\u00a0085\u2013000123", "042085000123", ""}, // no-break space, en dash
		{"０４２０８５０００１２３", "042085000123", ""},
		{"42085000123", "042085000123", "pid.lost_leading_zero"},
		{"1085000123", "", "pid.length"},
		{"", "", "pid.length"},
		{"0420850001234", "", "pid.length"},
		{"04208500012", "", "pid.length"}, // 11 digits but "004" is no prefix
		{"04208500O123", "", "pid.not_digits"},
		{"042085000l23", "", "pid.not_digits"},
		{"042085000123x", "", "pid.not_digits"},
		{"042085\xff000123", "", "pid.not_digits"},
		{"003085000123", "", "pid.prefix_unknown"},
		{"097085000123", "", "pid.prefix_unknown"},
		{"000085000123", "", "pid.prefix_unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, fs := NormalizePersonalID(tc.in)
			if got != tc.want {
				t.Errorf("NormalizePersonalID(%q) = %q, want %q", tc.in, got, tc.want)
			}
			switch {
			case tc.code == "" && len(fs) != 0:
				t.Errorf("unexpected findings: %v", fs)
			case tc.code != "" && (len(fs) != 1 || fs[0].Code != tc.code || fs[0].Field != "personal_id"):
				t.Errorf("findings %v, want one %s on personal_id", fs, tc.code)
			case tc.code != "":
				checkFinding(t, fs[0])
			}
		})
	}
}

func TestDecodePersonalID(t *testing.T) {
	tests := []struct {
		id       string
		province string
		century  int
		sex      Sex
		year     int
	}{
		// DOMAIN.md §1.2 worked example.
		{"037153000257", "Tỉnh Ninh Bình", 20, Female, 1953},
		{"042085000123", "Tỉnh Hà Tĩnh", 20, Male, 1985},
		{"001200000001", "Thành phố Hà Nội", 21, Male, 2000},
		{"079399999999", "Thành phố Hồ Chí Minh", 21, Female, 2099},
		{"096400000000", "Tỉnh Cà Mau", 22, Male, 2100},
		{"046512000000", "Thành phố Huế", 22, Female, 2112},
		{"040600000000", "Tỉnh Nghệ An", 23, Male, 2200},
		{"040799000000", "Tỉnh Nghệ An", 23, Female, 2299},
		{"040800000000", "Tỉnh Nghệ An", 24, Male, 2300},
		{"040999000000", "Tỉnh Nghệ An", 24, Female, 2399},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			info, err := DecodePersonalID(tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if info.Province.Name != tc.province || info.ProvincePrefix != tc.id[:3] ||
				info.Century != tc.century || info.Sex != tc.sex || info.BirthYear != tc.year {
				t.Errorf("got %+v", info)
			}
		})
	}
}

func TestDecodePersonalIDErrors(t *testing.T) {
	for _, id := range []string{"", "42085000123", "04208500012a", "０４２０８５０００１２３", "042 85000123"} {
		if _, err := DecodePersonalID(id); !errors.Is(err, ErrPIDFormat) {
			t.Errorf("DecodePersonalID(%q) = %v, want ErrPIDFormat", id, err)
		}
	}
	info, err := DecodePersonalID("003185000123")
	if !errors.Is(err, ErrPIDPrefixUnknown) {
		t.Fatalf("want ErrPIDPrefixUnknown, got %v", err)
	}
	if info.BirthYear != 1985 || info.Sex != Female || info.Province.Code != "" {
		t.Errorf("info still decoded for a foreign prefix: %+v", info)
	}
}

// TestAllProvincePrefixes checks the 63-code table against DOMAIN.md §1.3:
// 63 prefixes, the listed gaps invalid.
func TestAllProvincePrefixes(t *testing.T) {
	if n := len(Provinces()); n != 63 {
		t.Fatalf("%d provinces, want 63", n)
	}
	gaps := []string{"003", "005", "007", "009", "013", "016", "018", "021", "023", "028", "029", "032", "039", "041", "043", "047", "050", "053", "055", "057", "059", "061", "063", "065", "069", "071", "073", "076", "078", "081", "085", "088", "090"}
	for _, g := range gaps {
		if isProvincePrefix(g) {
			t.Errorf("%s must be invalid", g)
		}
	}
	if 63+len(gaps) != 96 {
		t.Errorf("table and gaps do not cover 001-096")
	}
}
