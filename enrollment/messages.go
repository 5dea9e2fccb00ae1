package enrollment

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Rule describes one validation rule: its stable code, its severity and
// what it checks. Codes are stable identifiers for UIs, metrics and the
// hub; the messages may be reworded.
type Rule struct {
	Code     string
	Severity Severity
	Summary  string // one line, English
}

// ruleDef is a rule with its message templates. The templates are
// fmt formats that follow the field label; arguments of type bi are
// rendered in the template's language.
type ruleDef struct {
	sev     Severity
	summary string
	en, vi  string
}

// rules is the single table of codes, severities and messages. Every
// finding is built from it (see newFinding), so a code always has the same
// severity.
var rules = map[string]ruleDef{
	// Personal ID number (DOMAIN.md §1.4).
	"pid.not_digits": {Reject, "personal ID contains characters other than digits",
		"%q contains %s; an ID number has only digits — check the card",
		"%q có %s; số định danh chỉ gồm chữ số — kiểm tra lại thẻ"},
	"pid.length": {Reject, "personal ID is not 12 digits after cleaning",
		"%q has %d digits; an ID number has 12 — check the card",
		"%q có %d chữ số; số định danh phải có đủ 12 chữ số — kiểm tra lại thẻ"},
	"pid.prefix_unknown": {Reject, "personal ID prefix is not one of the 63 province codes",
		"%q starts with %q, which is not a province code (the first three digits are the province where the birth was registered, e.g. 042 Hà Tĩnh) — check the card",
		"%q bắt đầu bằng %q, không phải mã tỉnh (ba số đầu là mã tỉnh nơi đăng ký khai sinh, ví dụ 042 Hà Tĩnh) — kiểm tra lại thẻ"},
	"pid.prefix_foreign": {Warn, "personal ID prefix is not a province code; accepted as a birth registered abroad (flag on)",
		"%q starts with %q, which is not a province code; accepted as a birth registered abroad — check the card",
		"%q bắt đầu bằng %q, không phải mã tỉnh; tạm chấp nhận là đăng ký khai sinh ở nước ngoài — kiểm tra lại thẻ"},
	"pid.lost_leading_zero": {Warn, "personal ID has 11 digits; a leading zero was probably lost in a spreadsheet",
		"%q has 11 digits; a leading zero was probably lost in a spreadsheet; read as %s — check the card",
		"%q có 11 chữ số; có lẽ bảng tính đã làm mất số 0 ở đầu; đọc là %s — kiểm tra lại thẻ"},
	"pid.year_mismatch": {Warn, "birth year in the personal ID differs from the date of birth",
		"%s says born in %d but the date of birth says %d; the citizen may keep such a number (Decree 70/2024 Art. 11) — check both",
		"%s cho năm sinh %d nhưng ngày sinh ghi năm %d; công dân có thể vẫn dùng số này (Nghị định 70/2024 Điều 11) — kiểm tra cả hai"},
	"pid.year_implausible": {Warn, "birth year in the personal ID is in the future",
		"%s says born in %d, which is in the future — check the card",
		"%s cho năm sinh %d, là năm trong tương lai — kiểm tra lại thẻ"},
	"pid.sex_mismatch": {Warn, "sex digit in the personal ID differs from the recorded sex",
		"%s says %s but the record says %s; the citizen may keep such a number (Decree 70/2024 Art. 11) — check both",
		"%s cho giới tính %s nhưng hồ sơ ghi %s; công dân có thể vẫn dùng số này (Nghị định 70/2024 Điều 11) — kiểm tra cả hai"},
	"pid.province_mismatch": {Warn, "personal ID prefix differs from the province of the birth-registration place",
		"%s was issued for %s (prefix %s) but the birth-registration place is in %s — check both",
		"%s mang mã %s (%s) nhưng nơi đăng ký khai sinh thuộc %s — kiểm tra cả hai"},

	// Dates.
	"date.year_missing": {Reject, "a date gives a month or day but no year",
		"gives a month or day but no year; write it as 1985-03-12, 1985-03 or 1985",
		"có tháng hoặc ngày nhưng thiếu năm; ghi dạng 12/03/1985, 03/1985 hoặc 1985"},
	"date.month_invalid": {Reject, "a date has a month outside 1..12",
		"has month %d; a month is 1 to 12",
		"có tháng %d; tháng phải từ 1 đến 12"},
	"date.day_without_month": {Reject, "a date gives a day but no month",
		"gives day %d but no month",
		"có ngày %d nhưng thiếu tháng"},
	"date.day_invalid": {Reject, "a date names a day that does not exist (30 February)",
		"day %d does not exist in %02d/%04d (that month has %d days)",
		"không có ngày %d trong tháng %02d/%04d (tháng này có %d ngày)"},
	"date.unreadable": {Reject, "a date cannot be read",
		"%q is not a date; write it as 12/03/1985, 03/1985 (day unknown) or 1985 (only the year known)",
		"%q không phải ngày; ghi dạng 12/03/1985, 03/1985 (không rõ ngày) hoặc 1985 (chỉ biết năm)"},
	"field.unreadable": {Reject, "a field's value cannot be read",
		"cannot be read (%s)",
		"không đọc được (%s)"},
	"dob.future": {Reject, "date of birth is after today",
		"%s is after today (%s)",
		"%s là ngày trong tương lai (hôm nay %s)"},
	"dob.before_1900": {Reject, "date of birth is before 1900",
		"%s is before 1900; check the year (write all four digits)",
		"%s là trước năm 1900; kiểm tra lại năm (ghi đủ bốn chữ số)"},
	"dob.too_old": {Reject, "date of birth gives an age over 120",
		"%s means an age of %d; over 120 is not plausible — check the year",
		"%s tương ứng %d tuổi; trên 120 tuổi là không hợp lý — kiểm tra lại năm"},
	"dob.default_jan1": {Info, "1 January before 1960: often the default for an unknown day",
		"is 01/01/%d, the default written when the real day was unknown; not an error",
		"là 01/01/%d, ngày mặc định khi không rõ ngày sinh; không phải lỗi"},

	// Mandatory fields and enumerations.
	"field.missing": {Reject, "a mandatory field is empty",
		"is required and is empty",
		"là bắt buộc nhưng đang để trống"},
	"value.undetermined": {Info, "an optional field says its value is not determined",
		"%q: not determined; accepted, as if not given",
		"%q: chưa xác định; được chấp nhận như để trống"},
	"sex.invalid": {Reject, "sex is not Nam or Nữ",
		"%q is not a sex; write Nam or Nữ",
		"%q không hợp lệ; ghi Nam hoặc Nữ"},
	"ethnicity.unknown": {Reject, "ethnicity code is not in the list (01-54, 55, 00)",
		"%q is not an ethnicity code (01–54, 55 foreigner, 00 unknown)%s",
		"%q không phải mã dân tộc (01–54, 55 người nước ngoài, 00 không rõ)%s"},
	"blood_type.invalid": {Reject, "blood type is not A, B, AB or O with optional + or -",
		"%q is not a blood type; write A, B, AB or O, optionally with + or -",
		"%q không phải nhóm máu; ghi A, B, AB hoặc O, có thể kèm + hoặc -"},
	"marital_status.unknown": {Warn, "marital status is not one of the known values",
		"%q is not a known value (Chưa kết hôn, Đã kết hôn, Ly hôn, Góa)",
		"%q không phải giá trị đã biết (Chưa kết hôn, Đã kết hôn, Ly hôn, Góa)"},
	"relation.unknown": {Warn, "relationship to the household head is not one of the known values",
		"%q is not a known relationship (Chủ hộ, Vợ, Chồng, Con, Cha, Mẹ, …, Khác)",
		"%q không phải quan hệ đã biết (Chủ hộ, Vợ, Chồng, Con, Cha, Mẹ, …, Khác)"},
	"religion.unknown": {Info, "religion is not one of the census religions",
		"%q is not in the census list of religions; kept as written",
		"%q không có trong danh mục tôn giáo; giữ nguyên như đã ghi"},

	// Administrative units.
	"unit.malformed": {Reject, "a unit code is not 2 (province) or 5 (commune) digits",
		"%q is not a unit code; use %s",
		"%q không phải mã đơn vị hành chính; dùng %s"},
	"unit.code_list_unknown": {Reject, "a code-list version is not known",
		"%q is not a known code-list version (2023-04 or 2025-07)",
		"%q không phải phiên bản danh mục đã biết (2023-04 hoặc 2025-07)"},
	"unit.code_list_missing": {Warn, "a unit code has no code-list version",
		"code %s has no code-list version; codes were reused in the 2025 reform, so say which list (2023-04 or 2025-07)",
		"mã %s không kèm phiên bản danh mục; mã đã được dùng lại sau sắp xếp 2025, cần ghi rõ danh mục (2023-04 hoặc 2025-07)"},
	"unit.unknown": {Reject, "a unit code does not exist in the stated code list",
		"%s does not exist in code list %s%s",
		"mã %s không có trong danh mục %s%s"},
	"capture.code_list_not_in_force": {Warn, "the capture's code list was not in force at the capture time",
		"code list %s was not in force on %s (the 2025-07 list applies from 1 July 2025)",
		"danh mục %s không có hiệu lực vào ngày %s (danh mục 2025-07 áp dụng từ 01/7/2025)"},

	// Text safety and quality.
	"text.invalid_utf8": {Reject, "text is not valid UTF-8",
		"is not valid Unicode text (byte %d); re-enter it",
		"không phải văn bản Unicode hợp lệ (byte %d); nhập lại"},
	"text.too_long": {Reject, "text is longer than its limit",
		"has %d characters; the limit is %d",
		"dài %d ký tự; tối đa %d"},
	"text.forbidden_char": {Reject, "text contains a control, zero-width or bidi-override character",
		"contains %s at character %d; remove it (it is invisible or changes the text direction)",
		"chứa %s ở ký tự thứ %d; hãy xóa (ký tự ẩn hoặc đảo chiều văn bản)"},
	"name.no_letters": {Reject, "a name has no letters",
		"%q has no letters",
		"%q không có chữ cái nào"},
	"list.too_long": {Reject, "a list has more entries than its limit",
		"has %d entries; the limit is %d",
		"có %d mục; tối đa %d"},
	"text.legacy_encoding": {Warn, "text looks like TCVN3 or VNI from an old program",
		"%q looks like %s text from an old program; it probably reads %q — retype it in Unicode",
		"%q có vẻ là mã %s từ phần mềm cũ; có lẽ là %q — gõ lại bằng Unicode"},
	"text.replacement_char": {Warn, "text contains U+FFFD, a sign of an earlier encoding error",
		"%q contains the replacement character �, so some letters were lost in a conversion — retype it",
		"%q chứa ký tự thay thế �, tức là đã mất chữ khi chuyển mã — gõ lại"},
	"text.not_nfc": {Info, "text is in decomposed Unicode (NFD), not NFC",
		"%q uses decomposed accents (NFD); matched after normalising to NFC",
		"%q dùng dấu tổ hợp (NFD); được chuẩn hóa NFC khi so khớp"},
	"text.spacing": {Info, "text has double, leading or trailing spaces",
		"%q has double, leading or trailing spaces",
		"%q có khoảng trắng thừa (đôi, đầu hoặc cuối)"},
	"text.tone_style": {Info, "text uses the new tone placement (hoà, thuỷ); keys use the old one (hòa, thủy)",
		"%q uses the new tone placement (%s); matched as %q",
		"%q đặt dấu kiểu mới (%s); so khớp theo %q"},

	// Relatives and the household.
	"relative.pid_malformed": {Warn, "a relative's personal ID is malformed (kept: it is someone else's data)",
		"%s (a relative's number: the record is kept, but check it)",
		"%s (số của người thân: hồ sơ vẫn được nhận, nhưng cần kiểm tra)"},
	"relative.date_invalid": {Warn, "a relative's date of birth is impossible (kept: someone else's data)",
		"%s (a relative's date: the record is kept, but check it)",
		"%s (ngày sinh của người thân: hồ sơ vẫn được nhận, nhưng cần kiểm tra)"},
	"relative.name_missing": {Warn, "a relative is given without a name",
		"is empty although other details of this person are given",
		"đang để trống trong khi đã có thông tin khác của người này"},
	"household.child_older_than_head": {Warn, "a child or grandchild of the head is older than the head",
		"is %q, but the citizen (born %s) is older than the household head (born %s) — check both dates",
		"là %q nhưng công dân (sinh %s) lớn tuổi hơn chủ hộ (sinh %s) — kiểm tra cả hai ngày sinh"},
	"parent.younger_than_child": {Warn, "a parent was born after the citizen",
		"says the parent was born in %d, after the citizen (%d) — check both",
		"cho thấy cha/mẹ sinh năm %d, sau công dân (%d) — kiểm tra cả hai"},
}

// bi is a message argument with an English and a Vietnamese form.
type bi struct{ en, vi string }

// Rules returns every validation rule, sorted by code.
func Rules() []Rule {
	out := make([]Rule, 0, len(rules))
	for code, d := range rules {
		out = append(out, Rule{Code: code, Severity: d.sev, Summary: d.summary})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// newFinding builds the finding for rule code on field. The message is
// "<label> (<field>): <detail>" in English and Vietnamese, so the officer
// sees both the words on the form and the exact field.
func newFinding(field, code string, args ...any) Finding {
	d, ok := rules[code]
	if !ok {
		// A missing code is a programming error caught by the tests; the
		// finding still says something rather than panic in the field.
		d = ruleDef{sev: Reject, en: code, vi: code}
	}
	en, vi := FieldLabel(field)
	if field != "" {
		en, vi = en+" ("+field+")", vi+" ("+field+")"
	}
	return Finding{
		Field:     field,
		Severity:  d.sev,
		Code:      code,
		Message:   en + ": " + render(d.en, args, false),
		MessageVI: vi + ": " + render(d.vi, args, true),
	}
}

// render formats a template, choosing the language of each bi argument.
func render(format string, args []any, vi bool) string {
	out := make([]any, len(args))
	for i, a := range args {
		if b, ok := a.(bi); ok {
			if vi {
				a = b.vi
			} else {
				a = b.en
			}
		}
		out[i] = a
	}
	return fmt.Sprintf(format, out...)
}

// label is a field's name in the officer's words.
type label struct{ en, vi string }

var topLabels = map[string]label{
	"":                    {"Record", "Hồ sơ"},
	"personal_id":         {"ID number", "Số định danh cá nhân"},
	"full_name":           {"Full name", "Họ, chữ đệm và tên"},
	"other_names":         {"Other names", "Tên gọi khác"},
	"date_of_birth":       {"Date of birth", "Ngày, tháng, năm sinh"},
	"sex":                 {"Sex", "Giới tính"},
	"ethnicity_code":      {"Ethnicity", "Dân tộc"},
	"religion":            {"Religion", "Tôn giáo"},
	"nationality":         {"Nationality", "Quốc tịch"},
	"birth_place":         {"Place of birth", "Nơi sinh"},
	"birth_registration":  {"Birth-registration place", "Nơi đăng ký khai sinh"},
	"hometown":            {"Hometown", "Quê quán"},
	"permanent_residence": {"Permanent residence", "Nơi thường trú"},
	"current_residence":   {"Current residence", "Nơi ở hiện tại"},
	"occupation":          {"Occupation", "Nghề nghiệp"},
	"marital_status":      {"Marital status", "Tình trạng hôn nhân"},
	"blood_type":          {"Blood type", "Nhóm máu"},
	"legacy_id_number":    {"Old 9-digit ID (CMND)", "Số CMND 9 số"},
	"father":              {"Father", "Cha"},
	"mother":              {"Mother", "Mẹ"},
	"spouse":              {"Spouse", "Vợ/chồng"},
	"household_head":      {"Household head", "Chủ hộ"},
	"relation_to_head":    {"Relationship to household head", "Quan hệ với chủ hộ"},
	"capture":             {"Capture", "Thu nhận"},
	"biometrics":          {"Biometrics", "Sinh trắc học"},
	// A resident list's row and a resident's status (package residents).
	"commune_code": {"Commune code", "Mã xã"},
	"household":    {"Household number", "Số hộ"},
	"address":      {"Address (hamlet, village)", "Địa chỉ (thôn, xóm)"},
	"status":       {"Status", "Tình trạng"},
	"note":         {"Note", "Ghi chú"},
	"officer":      {"Officer", "Cán bộ"},
}

// subLabels name a field inside a place, relative, capture or blob; %s is
// the parent's label (lower-cased in English).
var subLabels = map[string]label{
	"unit_code":     {"Code of the %s", "Mã đơn vị của %s"},
	"code_list":     {"Code-list version of the %s", "Phiên bản danh mục của %s"},
	"text":          {"Text of the %s", "Địa danh của %s"},
	"full_name":     {"%s's full name", "Họ tên của %s"},
	"personal_id":   {"%s's ID number", "Số định danh của %s"},
	"date_of_birth": {"%s's date of birth", "Ngày sinh của %s"},
	"nationality":   {"%s's nationality", "Quốc tịch của %s"},
	"kind":          {"Kind of %s entry", "Loại của mục %s"},
	"sha256":        {"Hash of %s entry", "Mã băm của mục %s"},
	"exception":     {"Exception note of %s entry", "Ghi chú ngoại lệ của mục %s"},
}

var captureLabels = map[string]label{
	"commune_code": {"Capturing commune code", "Mã xã nơi thu nhận"},
	"code_list":    {"Code-list version of the capturing commune", "Phiên bản danh mục của xã thu nhận"},
	"officer":      {"Capturing officer", "Cán bộ thu nhận"},
	"device":       {"Capture device", "Thiết bị thu nhận"},
	"captured_at":  {"Capture time", "Thời điểm thu nhận"},
	"request_type": {"Request type", "Loại đề nghị (cấp mới/đổi/lại)"},
}

var indexRE = regexp.MustCompile(`\[\d+\]`)

// FieldLabel returns the English and Vietnamese names, in the words of the
// form, of a field given by its JSON path ("father.personal_id",
// "other_names[1]"). An unknown path is returned as is.
func FieldLabel(field string) (en, vi string) {
	path := indexRE.ReplaceAllString(field, "")
	if l, ok := topLabels[path]; ok {
		return l.en, l.vi
	}
	parent, child, ok := strings.Cut(path, ".")
	if !ok {
		return field, field
	}
	if parent == "capture" {
		if l, ok := captureLabels[child]; ok {
			return l.en, l.vi
		}
	}
	if parent == "files" { // a dossier's file, by slot
		if s, ok := SlotByName(child); ok {
			return "File of the " + s.Label, "Tệp " + s.VI
		}
	}
	p, okp := topLabels[parent]
	s, oks := subLabels[child]
	if !okp || !oks {
		return field, field
	}
	en = fmt.Sprintf(s.en, strings.ToLower(p.en))
	vi = fmt.Sprintf(s.vi, strings.ToLower(p.vi))
	return upperFirst(en), upperFirst(vi)
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
