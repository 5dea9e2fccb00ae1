package enrollment

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestNameKeyEqual(t *testing.T) {
	tests := []struct{ a, b string }{
		{"Nguyễn", norm.NFD.String("Nguyễn")},
		{"Hoà", "Hòa"},
		{"Thuỷ", "Thủy"},
		{"Khoẻ", "khỏe"},
		{"Nguyễn Thị Thuý", "NGUYỄN THỊ THÚY"},
		{"NGUYỄN  VĂN  AN", "Nguyễn Văn An"},
		{" Nguyễn Văn An\u00a0", "nguyễn văn an"},
		{"Ðặng Văn Hùng", "Đặng Văn Hùng"}, // Icelandic Eth look-alike
		{"Nguyễn\u200bVăn", "NguyễnVăn"},   // zero-width space dropped
		{"H’Hen Niê", "H'Hen Niê"},
		{"qúy", "quý"}, // tone typed on the u of "qu"
		{"gìa", "già"}, // tone typed on the i of "gi"
		{"Quỳnh", "quỳnh"},
		{"hép møt tÕt", "hộp mứt tết"},              // TCVN3 repaired
		{"Xin chaøo caùc baïn", "xin chào các bạn"}, // VNI repaired
		{"NGUYÔN V¡N AN", "Nguyễn Văn An"},          // TCVN3 in an upper-case font
	}
	for _, tc := range tests {
		t.Run(tc.a, func(t *testing.T) {
			if ka, kb := NameKey(tc.a), NameKey(tc.b); ka != kb {
				t.Errorf("NameKey(%q) = %q, NameKey(%q) = %q", tc.a, ka, tc.b, kb)
			}
		})
	}
}

func TestNameKeyDistinct(t *testing.T) {
	tests := []struct{ a, b string }{
		{"Lý", "Lí"}, // i/y is the person's choice (DOMAIN.md §5.5.4)
		{"Mỹ", "Mĩ"},
		{"Vy", "Vi"},
		{"Hoàng", "Huỳnh"},
		{"Vũ", "Võ"},
		{"Nguyen", "Nguyễn"}, // missing diacritics: FoldKey's job
		{"Cổ Đạm", "Cỗ Đạm"},
	}
	for _, tc := range tests {
		t.Run(tc.a+"/"+tc.b, func(t *testing.T) {
			if NameKey(tc.a) == NameKey(tc.b) {
				t.Errorf("NameKey(%q) == NameKey(%q) = %q", tc.a, tc.b, NameKey(tc.a))
			}
		})
	}
}

func TestNameKeyCanonicalTones(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Hoà", "hòa"}, {"hòa", "hòa"}, {"Thuỷ", "thủy"}, {"Khoẻ", "khỏe"}, {"Hoá", "hóa"},
		{"Hoàng", "hoàng"}, {"Toán", "toán"}, {"Huỳnh", "huỳnh"}, {"Ngoài", "ngoài"},
		{"Khuỷu", "khuỷu"}, {"Người", "người"}, {"Rượu", "rượu"}, {"Cứu", "cứu"},
		{"Quý", "quý"}, {"Quốc", "quốc"}, {"Già", "già"}, {"Giường", "giường"}, {"Gì", "gì"},
		{"Thuở", "thuở"}, {"Mùa", "mùa"}, {"Kìa", "kìa"}, {"Thuý", "thúy"}, {"Thuỵ", "thụy"},
		{"Ksor H'Bia", "ksor h'bia"}, {"Müller", "müller"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := NameKey(tc.in); got != tc.want {
				t.Errorf("NameKey(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestFoldKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Nguyễn Thị Hòa", "nguyen thi hoa"},
		{"Đặng Văn Đức", "dang van duc"},
		{"Ðặng", "dang"},
		{"Nguyen Van A", "nguyen van a"},
		{"Lý", "ly"}, // FoldKey keeps i/y apart too
		{"Lí", "li"},
		{norm.NFD.String("Trần Thuỷ"), "tran thuy"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := FoldKey(tc.in); got != tc.want {
				t.Errorf("FoldKey(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestFoldNameKeyIsFoldKey pins the one accent fold: FoldNameKey of a
// NameKey is its FoldKey, word for word (the duplicate detector folds the
// name parts of Keys with FoldNameKey and blocks on them), for every
// Vietnamese letter in either case, Đ and its look-alikes, NFD, mojibake
// and letters outside the alphabet.
func TestFoldNameKeyIsFoldKey(t *testing.T) {
	names := []string{"Nguyễn Thị Hòa", "ĐẶNG VĂN ĐỨC", "Ðặng Ɖức", "đỗ  thị  ngọc  ", norm.NFD.String("Trần Thuỷ"),
		"TrÇn ThÞ Lan", "Xin chaøo caùc baïn", "Nguyen Van A", "José Ñúñez", "Lý Lí", "H'Hen Niê", "Y Bih"}
	for _, r := range VietnameseLetters() {
		names = append(names, "Đ"+string(r)+"ng "+string(r))
	}
	for _, s := range names {
		fold, key := FoldKey(s), NameKey(s)
		if got := FoldNameKey(key); got != fold {
			t.Errorf("FoldNameKey(NameKey(%q)) = %q, FoldKey = %q", s, got, fold)
		}
		kw, fw := strings.Fields(key), strings.Fields(fold)
		if len(kw) != len(fw) {
			t.Fatalf("%q: NameKey %q and FoldKey %q have different words", s, key, fold)
		}
		for i := range kw {
			if got := FoldNameKey(kw[i]); got != fw[i] {
				t.Errorf("%q word %d: FoldNameKey(%q) = %q, FoldKey word %q", s, i, kw[i], got, fw[i])
			}
		}
	}
	if got := FoldNameKey("ĐẶNG"); got != "DANG" {
		t.Errorf("FoldNameKey(ĐẶNG) = %q, want DANG (Đ folds like đ)", got)
	}
}

func TestKeysIdempotent(t *testing.T) {
	inputs := []string{
		"Nguyễn Văn An", norm.NFD.String("Nguyễn Thị Hoà"), "NGUYỄN  VĂN  AN ", "Thuỷ", "Lý", "Ðặng",
		"hép møt tÕt", "Xin chaøo caùc baïn", "qúy", "gìa", "Nguy\xffn", "a\u202eb", strings.Repeat("Hoà ", 3000),
		"aaaaø", "aï", "ÀØ", "",
	}
	for _, in := range inputs {
		for name, key := range map[string]func(string) string{"NameKey": NameKey, "FoldKey": FoldKey} {
			k := key(in)
			if again := key(k); again != k {
				t.Errorf("%s not idempotent on %q: %q then %q", name, clip(in), clip(k), clip(again))
			}
			if !utf8.ValidString(k) {
				t.Errorf("%s(%q) is not valid UTF-8", name, clip(in))
			}
		}
	}
}

func TestKeys(t *testing.T) {
	e := validEnrollment()
	e.FullName = norm.NFD.String("Nguyễn  Văn Hoà")
	e.PersonalID = "42085000123"
	e.Mother.FullName = "TrÇn ThÞ Lan" // TCVN3
	k := Keys(&e)
	want := MatchKeys{
		PersonalID: "042085000123", Name: "nguyễn văn hòa", NameFold: "nguyen van hoa",
		Surname: "nguyễn", Middle: "văn", Given: "hòa", DateOfBirth: "1985-03-12", Sex: Male,
		BirthProvince: "42", BirthProvince2025: "42",
		FatherName: "nguyễn văn bình", MotherName: "trần thị lan",
	}
	if k != want {
		t.Errorf("Keys =\n%+v\nwant\n%+v", k, want)
	}
}

func TestKeysPartial(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(e *Enrollment)
		check  func(k MatchKeys) bool
	}{
		{"one-word name", func(e *Enrollment) { e.FullName = "Bé" }, func(k MatchKeys) bool { return k.Given == "bé" && k.Surname == "" }},
		{"four words", func(e *Enrollment) { e.FullName = "Tôn Nữ Thị Hà" }, func(k MatchKeys) bool { return k.Middle == "nữ thị" }},
		{"rejected pid", func(e *Enrollment) { e.PersonalID = "12" }, func(k MatchKeys) bool { return k.PersonalID == "" }},
		{"invalid sex", func(e *Enrollment) { e.Sex = "X" }, func(k MatchKeys) bool { return k.Sex == "" }},
		{"2025 merged province", func(e *Enrollment) { e.BirthRegistration = Place{UnitCode: "15", CodeList: CodeList2025} },
			func(k MatchKeys) bool { return k.BirthProvince == "" && k.BirthProvince2025 == "15" }},
		{"other province 2023", func(e *Enrollment) { e.BirthRegistration = Place{UnitCode: "17", CodeList: CodeList2023} },
			func(k MatchKeys) bool { return k.BirthProvince == "17" && k.BirthProvince2025 == "25" }},
		{"text only", func(e *Enrollment) { e.BirthRegistration = Place{Text: "Hà Tĩnh"} },
			func(k MatchKeys) bool { return k.BirthProvince == "" && k.BirthProvince2025 == "" }},
		{"no parents", func(e *Enrollment) { e.Father, e.Mother = nil, nil },
			func(k MatchKeys) bool { return k.FatherName == "" && k.MotherName == "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := validEnrollment()
			tc.mutate(&e)
			if k := Keys(&e); !tc.check(k) {
				t.Errorf("unexpected keys %+v", k)
			}
		})
	}
}

func TestIsSyllable(t *testing.T) {
	for w, want := range map[string]bool{"tuấn": true, "hạnh": true, "nguyễn": true, "thủy": true, "thuỷ": true, "quý": true,
		"giang": true, "lin": true, "tuấnn": false, "hạh": false, "lknh": false, "kinê": false, "hàà": false, "ksor": false, "": false} {
		if got := IsSyllable(w); got != want {
			t.Errorf("IsSyllable(%q) = %v, want %v", w, got, want)
		}
	}
}
