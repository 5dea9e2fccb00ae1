package enrollment

import (
	"sort"
	"strings"
	"time"
)

// reform2025 is when the 2025-07 code list took effect (00:00 in Vietnam).
var reform2025 = time.Date(2025, 7, 1, 0, 0, 0, 0, time.FixedZone("ICT", 7*3600))

// embeddedRange is the span of 5-digit commune codes of the one province
// whose units are compiled in (Hà Tĩnh, 18070-18850 across both lists).
// Commune codes run north to south by province, so a code inside the span
// belongs to Hà Tĩnh and must exist in the stated list; a code outside it
// is checked only for shape, since other provinces' lists are not
// embedded.
var embeddedRange = communeRange()

// successorCodes is the set of 34 province codes of the 2025-07 list, and
// predecessorsOf maps each to the old province codes it absorbed.
var successorCodes, predecessorsOf = successorTables()

type codeRange struct{ lo, hi string }

func communeRange() codeRange {
	var r codeRange
	for _, list := range CodeLists() {
		for _, u := range Units(list) {
			if u.Level != "commune" {
				continue
			}
			if r.lo == "" || u.Code < r.lo {
				r.lo = u.Code
			}
			if u.Code > r.hi {
				r.hi = u.Code
			}
		}
	}
	return r
}

func successorTables() (map[string]bool, map[string][]string) {
	set, pred := map[string]bool{}, map[string][]string{}
	for _, p := range Provinces() { // in prefix order, so pred lists are sorted
		set[p.SuccessorCode] = true
		pred[p.SuccessorCode] = append(pred[p.SuccessorCode], p.Code)
	}
	return set, pred
}

func knownCodeList(l string) bool { return l == CodeList2023 || l == CodeList2025 }

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkPlace applies the unit-code rules to one place (field is its JSON
// path, e.g. "birth_registration").
func checkPlace(field string, p Place) Findings {
	var fs Findings
	if p.CodeList != "" && !knownCodeList(p.CodeList) {
		fs = append(fs, newFinding(field+".code_list", "unit.code_list_unknown", clip(p.CodeList)))
	}
	if p.UnitCode == "" {
		return fs
	}
	if !allDigits(p.UnitCode) || (len(p.UnitCode) != 2 && len(p.UnitCode) != 5) {
		return append(fs, newFinding(field+".unit_code", "unit.malformed", clip(p.UnitCode),
			bi{"2 digits for a province or 5 for a commune", "2 chữ số cho tỉnh hoặc 5 chữ số cho xã"}))
	}
	return append(fs, checkUnitExists(field+".unit_code", p.UnitCode, p.CodeList)...)
}

// checkUnitExists checks that a well-shaped code exists in its list (or,
// with no list, in either list, after warning that the list is missing).
func checkUnitExists(field, code, list string) Findings {
	var fs Findings
	lists := []string{list}
	if list == "" {
		fs = append(fs, newFinding(field, "unit.code_list_missing", code))
		lists = CodeLists()
	} else if !knownCodeList(list) {
		return fs // already reported
	}
	for _, l := range lists {
		if unitExists(l, code) {
			return fs
		}
	}
	shown := strings.Join(lists, " / ")
	return append(fs, newFinding(field, "unit.unknown", code, shown, unitHint(code, lists)))
}

// unitExists reports whether a 2- or 5-digit code exists in a list, as far
// as the embedded tables can tell (see embeddedRange).
func unitExists(list, code string) bool {
	if len(code) == 2 {
		if list == CodeList2025 {
			return successorCodes[code]
		}
		_, ok := ProvinceByCode(code)
		return ok
	}
	if code < embeddedRange.lo || code > embeddedRange.hi {
		return true // another province: shape only
	}
	u, ok := UnitByCode(list, code)
	return ok && u.Level == "commune"
}

// unitHint explains a code that exists in the other list: typically a
// 2023 commune used with the 2025 list after it was merged away.
func unitHint(code string, tried []string) bi {
	if len(tried) != 1 || len(code) != 5 {
		return bi{}
	}
	if tried[0] == CodeList2025 {
		old, ok := UnitByCode(CodeList2023, code)
		if !ok {
			return bi{}
		}
		into := mergedInto(code)
		if into == "" {
			return bi{"; in the 2023-04 list it was " + old.Name, "; trong danh mục 2023-04 đây là " + old.Name}
		}
		return bi{"; in the 2023-04 list it was " + old.Name + ", since merged into " + into,
			"; trong danh mục 2023-04 đây là " + old.Name + ", nay thuộc " + into}
	}
	if u, ok := UnitByCode(CodeList2025, code); ok {
		return bi{"; it is a code of the 2025-07 list (" + u.Name + ")", "; đây là mã của danh mục 2025-07 (" + u.Name + ")"}
	}
	return bi{}
}

// mergedInto names the 2025 unit(s) an old commune was merged into.
func mergedInto(old string) string {
	var names []string
	for _, u := range Units(CodeList2025) {
		for _, c := range u.Constituents {
			if c.Code == old {
				names = append(names, u.Name+" ("+u.Code+")")
			}
		}
	}
	return strings.Join(names, " / ")
}

// ProvincesOf resolves a coded place to the pre-2025 province codes it can
// lie in (see birthProvinces): nil for a place given as text only or a
// commune outside the embedded province.
func ProvincesOf(p Place) []string { return birthProvinces(p) }

// birthProvinces resolves a place to the pre-2025 province codes it can
// lie in, the code space of ID-number prefixes (DOMAIN.md §4.3 item 4):
// a 2023 province code directly; a 2023 Hà Tĩnh commune through its parent
// chain; a 2025 province through the old provinces it absorbed; a 2025 Hà
// Tĩnh commune to 42. It returns nil when the place cannot be resolved
// (no code, or a commune outside the embedded province). Without a code
// list both readings are merged.
func birthProvinces(p Place) []string {
	if !allDigits(p.UnitCode) {
		return nil
	}
	lists := []string{p.CodeList}
	if p.CodeList == "" {
		lists = CodeLists()
	}
	set := map[string]bool{}
	for _, l := range lists {
		for _, c := range provincesOf(l, p.UnitCode) {
			set[c] = true
		}
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func provincesOf(list, code string) []string {
	switch {
	case list == CodeList2023 && len(code) == 2:
		if _, ok := ProvinceByCode(code); ok {
			return []string{code}
		}
	case list == CodeList2023 && len(code) == 5:
		return provinceOf2023(code)
	case list == CodeList2025 && len(code) == 2:
		return predecessors(code)
	case list == CodeList2025 && len(code) == 5:
		if u, ok := UnitByCode(CodeList2025, code); ok {
			return predecessors(u.Parent)
		}
	}
	return nil
}

// provinceOf2023 walks the explicit parent links (codes do not nest).
func provinceOf2023(code string) []string {
	for i := 0; i < 4; i++ { // commune → district → province: a bounded walk
		u, ok := UnitByCode(CodeList2023, code)
		if !ok {
			return nil
		}
		if u.Level == "province" {
			return []string{u.Code}
		}
		code = u.Parent
	}
	return nil
}

// predecessors lists the old province codes merged into a 2025 province.
func predecessors(code2025 string) []string { return predecessorsOf[code2025] }

// provinceNames renders old province codes for a message.
func provinceNames(codes []string) string {
	names := make([]string, 0, len(codes))
	for _, c := range codes {
		if p, ok := ProvinceByCode(c); ok {
			names = append(names, p.Name+" ("+c+")")
		}
	}
	return strings.Join(names, " / ")
}
