package enrollment

import (
	"bufio"
	"embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// The reference tables are compiled into the binary (go:embed) from
// refdata/*.tsv, each copied from DOMAIN.md with its source in the header.
// They are parsed once at start-up; a malformed embedded table is a build
// defect, so parsing panics rather than returning an error.
//
//go:embed refdata/*.tsv
var refFS embed.FS

// Code-list versions of administrative units. Addresses store the version
// with the code because codes are reused with new meanings (DOMAIN.md §0.5).
const (
	CodeList2023 = "2023-04" // GSO list of 2023-04-10: 63 provinces, districts, communes
	CodeList2025 = "2025-07" // list in force from 2025-07-01: 34 provinces, communes only
)

// Province is one of the 63 pre-2025 provinces whose code forms the prefix of
// a personal ID number (DOMAIN.md §1.3).
type Province struct {
	Prefix        string // "042": the ID-number prefix
	Code          string // "42": the GSO province code (pre-2025 list)
	Name          string // "Tỉnh Hà Tĩnh"
	SuccessorCode string // province code from 2025-07-01
	SuccessorName string
}

// Ethnicity is one of the 54 groups plus 55 (foreigners) and 00 (unknown).
type Ethnicity struct {
	Code       string   // "01".."54", "55", "00"
	Name       string   // GSO 1979 spelling, e.g. "HMông"
	Variants   []string // common spellings, e.g. "H'Mông", "Mông"
	Population int      // 2019 census
}

// Religion is one of the religions of the 2019 census ("Không" = none first).
type Religion struct {
	Name      string
	English   string
	Adherents int
}

// Unit is an administrative unit in one code-list version.
type Unit struct {
	Code     string
	Name     string // exactly as published (GSO data has double spaces)
	Level    string // "province", "district", "commune"
	Parent   string // parent code (explicit: codes do not nest)
	CodeList string
	// Constituents are the pre-2025 commune codes merged into a 2025 unit.
	Constituents []Constituent
}

// Constituent is one old unit merged (fully or partly) into a new one.
type Constituent struct {
	Code    string
	Name    string
	Partial bool
}

// The tables are package variables initialised by function calls rather
// than in init(), so that Go's dependency order guarantees they are loaded
// before any other package-level value computed from them.
var (
	provincesByPrefix, provincesByCode = loadProvinces()
	ethnicities, ethnicityAliases      = loadEthnicities() // aliases: folded name or variant → code
	religions                          = loadReligions()
	units                              = map[string]map[string]Unit{ // code list → code → unit
		CodeList2023: loadUnits2023(),
		CodeList2025: loadUnits2025(),
	}
)

// readTSV returns the rows of an embedded TSV file, skipping "#" comments.
func readTSV(name string, fields int) [][]string {
	f, err := refFS.Open("refdata/" + name)
	if err != nil {
		panic(fmt.Sprintf("enrollment: embedded table %s: %v", name, err))
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < fields {
			panic(fmt.Sprintf("enrollment: embedded table %s: row %q has %d fields, want %d", name, line, len(cols), fields))
		}
		rows = append(rows, cols)
	}
	return rows
}

func loadProvinces() (byPrefix, byCode map[string]Province) {
	byPrefix, byCode = map[string]Province{}, map[string]Province{}
	for _, r := range readTSV("provinces.tsv", 5) {
		p := Province{Prefix: r[0], Code: r[1], Name: r[2], SuccessorCode: r[3], SuccessorName: r[4]}
		byPrefix[p.Prefix] = p
		byCode[p.Code] = p
	}
	return byPrefix, byCode
}

func loadEthnicities() (byCode map[string]Ethnicity, aliases map[string]string) {
	byCode, aliases = map[string]Ethnicity{}, map[string]string{}
	for _, r := range readTSV("ethnicities.tsv", 4) {
		pop, _ := strconv.Atoi(r[3])
		e := Ethnicity{Code: r[0], Name: r[1], Population: pop}
		if r[2] != "" {
			e.Variants = strings.Split(r[2], ";")
		}
		byCode[e.Code] = e
		aliases[aliasKey(e.Name)] = e.Code
		for _, v := range e.Variants {
			aliases[aliasKey(v)] = e.Code
		}
	}
	return byCode, aliases
}

func loadReligions() []Religion {
	var out []Religion
	for _, r := range readTSV("religions.tsv", 3) {
		n, _ := strconv.Atoi(r[2])
		out = append(out, Religion{Name: r[0], English: r[1], Adherents: n})
	}
	return out
}

func loadUnits2023() map[string]Unit {
	m := map[string]Unit{}
	for _, r := range readTSV("hatinh-2023-04.tsv", 4) {
		m[r[1]] = Unit{Level: r[0], Code: r[1], Name: r[2], Parent: r[3], CodeList: CodeList2023}
	}
	return m
}

func loadUnits2025() map[string]Unit {
	m := map[string]Unit{"42": {Level: "province", Code: "42", Name: "Tỉnh Hà Tĩnh", CodeList: CodeList2025}}
	for _, r := range readTSV("hatinh-2025-07.tsv", 4) {
		u := Unit{Level: "commune", Code: r[0], Name: r[1], Parent: "42", CodeList: CodeList2025}
		for _, c := range strings.Split(r[3], ";") {
			u.Constituents = append(u.Constituents, parseConstituent(c))
		}
		m[u.Code] = u
	}
	return m
}

func parseConstituent(s string) Constituent {
	c := Constituent{}
	if strings.HasSuffix(s, " (part)") {
		c.Partial = true
		s = strings.TrimSuffix(s, " (part)")
	}
	code, name, _ := strings.Cut(s, " ")
	c.Code, c.Name = code, name
	return c
}

// aliasKey folds a label for alias lookup: lowercase, no spaces or hyphens
// or apostrophes. Lookup keys only; labels are stored as published.
func aliasKey(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer(" ", "", "-", "", "'", "", "’", "").Replace(s)
}

// ProvinceByPrefix returns the province for a 3-digit ID-number prefix.
func ProvinceByPrefix(prefix string) (Province, bool) {
	p, ok := provincesByPrefix[prefix]
	return p, ok
}

// ProvinceByCode returns the pre-2025 province with 2-digit GSO code.
func ProvinceByCode(code string) (Province, bool) {
	p, ok := provincesByCode[code]
	return p, ok
}

// Provinces returns the 63 pre-2025 provinces in prefix order.
func Provinces() []Province {
	out := make([]Province, 0, len(provincesByPrefix))
	for _, p := range provincesByPrefix {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Prefix < out[j].Prefix })
	return out
}

// EthnicityByCode returns the group with the given two-digit code.
func EthnicityByCode(code string) (Ethnicity, bool) {
	e, ok := ethnicities[code]
	return e, ok
}

// EthnicityCodeOf maps a name or common variant ("H'Mông", "Khmer") to its
// code. Data is always keyed on the code (DOMAIN.md §3.1).
func EthnicityCodeOf(name string) (string, bool) {
	c, ok := ethnicityAliases[aliasKey(name)]
	return c, ok
}

// Ethnicities returns all groups in code order.
func Ethnicities() []Ethnicity {
	out := make([]Ethnicity, 0, len(ethnicities))
	for _, e := range ethnicities {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Religions returns the census religions, "Không" (none) first.
func Religions() []Religion { return append([]Religion(nil), religions...) }

// UnitByCode returns the unit with code in the given code-list version.
// Only Hà Tĩnh's units are compiled in (DOMAIN.md appendices A and B).
func UnitByCode(codeList, code string) (Unit, bool) {
	u, ok := units[codeList][code]
	return u, ok
}

// Units returns every unit of a code-list version, sorted by code.
func Units(codeList string) []Unit {
	out := make([]Unit, 0, len(units[codeList]))
	for _, u := range units[codeList] {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// CodeLists returns the known code-list versions.
func CodeLists() []string { return []string{CodeList2023, CodeList2025} }

// DistrictOf returns the pre-2025 district a commune belonged to, from the
// embedded lists: the parent in the 2023 list, or for a 2025 commune the
// district of its first constituent. Hubs group review work by it (the
// district hubs are the old district police sites, DOMAIN.md §4.3). It
// returns "" for communes outside the embedded province.
func DistrictOf(codeList, commune string) string {
	if u, ok := UnitByCode(CodeList2023, commune); ok && codeList != CodeList2025 && u.Level == "commune" {
		return u.Parent
	}
	if u, ok := UnitByCode(CodeList2025, commune); ok && len(u.Constituents) > 0 {
		if old, ok := UnitByCode(CodeList2023, u.Constituents[0].Code); ok {
			return old.Parent
		}
	}
	if u, ok := UnitByCode(CodeList2023, commune); ok && u.Level == "commune" {
		return u.Parent
	}
	return ""
}
