package residents

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"fieldsync/enrollment"
)

// The CSV import format of a resident list (docs/residents.md): UTF-8, a
// header row, one person a row. Column names are matched without case and
// accents, in English or in Vietnamese words.
var csvColumns = []struct {
	name    string
	aliases []string
	set     func(r *csvRow, v string) error
}{
	{"commune_code", []string{"ma_xa", "ma xa", "xa"}, func(r *csvRow, v string) error { r.commune = v; return nil }},
	{"code_list", []string{"danh_muc", "danh muc"}, func(r *csvRow, v string) error { r.codeList = v; return nil }},
	{"personal_id", []string{"so_dinh_danh", "so dinh danh", "cccd", "so_cccd"}, func(r *csvRow, v string) error { r.res.PersonalID = v; return nil }},
	{"full_name", []string{"ho_ten", "ho ten", "ho va ten"}, func(r *csvRow, v string) error { r.res.FullName = v; return nil }},
	{"date_of_birth", []string{"ngay_sinh", "ngay sinh"}, func(r *csvRow, v string) error {
		d, err := enrollment.ParseDate(v)
		r.res.DateOfBirth = d
		return err
	}},
	{"sex", []string{"gioi_tinh", "gioi tinh"}, func(r *csvRow, v string) error {
		s, ok := enrollment.ParseSex(v)
		if !ok {
			s = enrollment.Sex(v) // kept as written: the validator names it
		}
		r.res.Sex = s
		return nil
	}},
	{"household", []string{"so_ho", "so ho", "ma_ho"}, func(r *csvRow, v string) error { r.res.Household = v; return nil }},
	{"relation_to_head", []string{"quan_he_chu_ho", "quan he chu ho", "quan_he"}, func(r *csvRow, v string) error { r.res.RelationToHead = v; return nil }},
	{"address", []string{"dia_chi", "dia chi", "thon_xom"}, func(r *csvRow, v string) error { r.res.Address = v; return nil }},
}

// CSVColumns returns the column names of the format, in documentation order.
func CSVColumns() []string {
	out := make([]string, len(csvColumns))
	for i, c := range csvColumns {
		out[i] = c.name
	}
	return out
}

type csvRow struct {
	commune, codeList string
	res               Resident
}

// MaxImportRows bounds one import (a province's register is about a
// million people; more is a wrong file).
const MaxImportRows = 3_000_000

// maxRejectedKept bounds the rejected rows an import reports in full.
const maxRejectedKept = 10_000

// ImportOptions are what the importer knows besides the file.
type ImportOptions struct {
	// Commune and CodeList apply to rows without those columns.
	Commune  string
	CodeList string
	// AsOf is the register's date (ages are counted there); MinAge the
	// age from which people are eligible (DefaultMinAge when 0).
	AsOf   time.Time
	MinAge int
	Source string
	// Now is today, for the date rules of the rows.
	Now time.Time
}

// Import is a resident list read from CSV: the accepted rows by commune
// and the rejected ones with their reasons.
type Import struct {
	Head     map[string]List       // commune → the list's header (no rows)
	Rows     map[string][]Resident // commune → accepted rows, by ID number
	Accepted int
	Warnings int // accepted rows with warnings
	Rejected []RejectedRow
	// RejectedCount counts every rejected row (Rejected keeps the first
	// maxRejectedKept).
	RejectedCount int
}

// RejectedRow is a row that was not imported, and why.
type RejectedRow struct {
	Line     int                 `json:"line"`
	ID       string              `json:"personal_id,omitempty"`
	Findings enrollment.Findings `json:"findings,omitempty"`
	Error    string              `json:"error,omitempty"`
}

// ReadCSV reads a resident list. A bad row is rejected with its line and
// reasons (naming the column) and never stops the others; a bad header,
// an unreadable file or more than MaxImportRows rows fail the import.
// An ID number twice in the file keeps the first row and rejects the
// others, naming the line of the first.
func ReadCSV(r io.Reader, opts ImportOptions) (*Import, error) {
	if opts.MinAge == 0 {
		opts.MinAge = DefaultMinAge
	}
	if opts.AsOf.IsZero() {
		opts.AsOf = opts.Now
	}
	rows := enrollment.NewCSVRows(r)
	header, _, err := rows.Next()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("residents: the file is empty; the first row must name the columns (%s)", strings.Join(CSVColumns(), ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("residents: header: %w", err)
	}
	cols, err := mapColumns(header, opts)
	if err != nil {
		return nil, err
	}
	im := &Import{Head: map[string]List{}, Rows: map[string][]Resident{}}
	seen := map[string]int{} // ID number → line
	reject := func(rr RejectedRow) {
		im.RejectedCount++
		if len(im.Rejected) < maxRejectedKept {
			im.Rejected = append(im.Rejected, rr)
		}
	}
	for n := 0; ; n++ {
		cells, line, err := rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if n >= MaxImportRows {
			return nil, fmt.Errorf("residents: more than %d rows; split the file by district", MaxImportRows)
		}
		if errors.Is(err, enrollment.ErrBadRow) || errors.Is(err, enrollment.ErrTooLarge) {
			reject(RejectedRow{Line: line, Error: err.Error()})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("residents: line %d: %w", line, err)
		}
		row, rr := readRow(cells, cols, opts)
		rr.Line = line
		if rr.Error != "" || rr.Findings.Rejected() {
			reject(rr)
			continue
		}
		if first, dup := seen[row.res.PersonalID]; dup {
			rr.Error = fmt.Sprintf("personal_id %s is already on line %d; one row per person", row.res.PersonalID, first)
			reject(rr)
			continue
		}
		seen[row.res.PersonalID] = line
		if _, ok := im.Head[row.commune]; !ok {
			im.Head[row.commune] = List{Commune: row.commune, CodeList: row.codeList, AsOf: opts.AsOf.Format(time.DateOnly), MinAge: opts.MinAge, Source: clipRunes(opts.Source, maxSourceRunes)}
		}
		im.Rows[row.commune] = append(im.Rows[row.commune], row.res)
		im.Accepted++
		if len(rr.Findings) > 0 {
			im.Warnings++
		}
	}
	for c := range im.Rows {
		sort.Slice(im.Rows[c], func(i, j int) bool { return im.Rows[c][i].PersonalID < im.Rows[c][j].PersonalID })
	}
	return im, nil
}

// mapColumns maps header cells to columns, refusing unknown and repeated
// names and requiring what a row cannot do without.
func mapColumns(header []string, opts ImportOptions) ([]int, error) {
	byName := map[string]int{}
	for i, c := range csvColumns {
		byName[c.name] = i
		for _, a := range c.aliases {
			byName[a] = i
		}
	}
	cols := make([]int, len(header))
	seen := map[int]bool{}
	for i, h := range header {
		key := strings.ToLower(strings.TrimSpace(enrollment.FoldKey(h)))
		c, ok := byName[key]
		if !ok {
			c, ok = byName[strings.ToLower(strings.TrimSpace(h))]
		}
		switch {
		case !ok:
			return nil, fmt.Errorf("residents: header column %d %q is not a column of the resident list (columns: %s)", i+1, clipRunes(h, 40), strings.Join(CSVColumns(), ", "))
		case seen[c]:
			return nil, fmt.Errorf("residents: header column %d %q repeats column %s", i+1, clipRunes(h, 40), csvColumns[c].name)
		}
		seen[c], cols[i] = true, c
	}
	var missing []string
	for _, need := range []string{"personal_id", "full_name", "date_of_birth", "sex"} {
		if !seen[byName[need]] {
			missing = append(missing, need)
		}
	}
	if !seen[byName["commune_code"]] && opts.Commune == "" {
		missing = append(missing, "commune_code (or give the commune)")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("residents: missing columns: %s", strings.Join(missing, ", "))
	}
	return cols, nil
}

func readRow(cells []string, cols []int, opts ImportOptions) (csvRow, RejectedRow) {
	row := csvRow{commune: opts.Commune, codeList: opts.CodeList}
	var rr RejectedRow
	if len(cells) != len(cols) {
		rr.Error = fmt.Sprintf("the row has %d cells but the header has %d columns", len(cells), len(cols))
		return row, rr
	}
	for i, v := range cells {
		c := csvColumns[cols[i]]
		if !utf8.ValidString(v) {
			rr.Error = fmt.Sprintf("%s: not UTF-8; save the file as UTF-8", c.name)
			return row, rr
		}
		if c.name != "full_name" && c.name != "address" {
			v = strings.TrimSpace(v)
		}
		if v == "" {
			continue
		}
		if err := c.set(&row, v); err != nil {
			rr.Error = fmt.Sprintf("%s: %v", c.name, err)
			return row, rr
		}
	}
	if row.codeList == "" {
		row.codeList = enrollment.CodeList2025
	}
	rr.ID = row.res.PersonalID
	res, fs := CheckResident(row.res, opts.Now)
	fs = append(fs, enrollment.CheckCommune("commune_code", row.commune, row.codeList)...)
	row.res, rr.Findings = res, sortFindings(fs)
	return row, rr
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
