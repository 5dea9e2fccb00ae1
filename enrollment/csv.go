package enrollment

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// maxCSVFields bounds the cells of one row; the format has fewer than 50
// columns.
const maxCSVFields = 128

// csvColumn is one documented column of the import format
// (docs/import-format.md) and how it fills an Enrollment.
type csvColumn struct {
	name string
	text bool                                // free text or a name: kept exactly as written (not trimmed)
	set  func(e *Enrollment, v string) error // nil for a dossier column
}

// dossierColumn reads a dossier column's name: SLOT_file (a path,
// relative to the import) or SLOT_exception (an exception code), for a
// known slot. NextDossier reads their cells.
func dossierColumn(name string) (slot string, exception, ok bool) {
	for _, suffix := range []string{"_file", "_exception"} {
		if slot, ok := strings.CutSuffix(name, suffix); ok {
			if _, known := SlotByName(slot); known {
				return slot, suffix == "_exception", true
			}
		}
	}
	return "", false, false
}

// csvColumns is the import format. Column names mirror the JSON paths in
// snake_case. Names and free text are kept exactly as written; codes,
// dates and other structured values are trimmed of surrounding spaces.
var csvColumns = buildCSVColumns()

func buildCSVColumns() []csvColumn {
	cols := []csvColumn{
		{"personal_id", false, func(e *Enrollment, v string) error { e.PersonalID = v; return nil }},
		{"full_name", true, func(e *Enrollment, v string) error { e.FullName = v; return nil }},
		{"other_names", true, func(e *Enrollment, v string) error { e.OtherNames = splitList(v); return nil }},
		{"date_of_birth", false, func(e *Enrollment, v string) error { return setDate(&e.DateOfBirth, v) }},
		{"sex", false, func(e *Enrollment, v string) error { e.Sex = parseSexLoose(v); return nil }},
		{"ethnicity_code", false, func(e *Enrollment, v string) error { e.EthnicityCode = ethnicityFromCell(v); return nil }},
		{"religion", true, func(e *Enrollment, v string) error { e.Religion = v; return nil }},
		{"nationality", true, func(e *Enrollment, v string) error { e.Nationality = splitList(v); return nil }},
	}
	cols = append(cols, placeColumns("birth_place", func(e *Enrollment) *Place {
		if e.BirthPlace == nil {
			e.BirthPlace = &Place{}
		}
		return e.BirthPlace
	})...)
	cols = append(cols, placeColumns("birth_registration", func(e *Enrollment) *Place { return &e.BirthRegistration })...)
	cols = append(cols, placeColumns("hometown", func(e *Enrollment) *Place { return &e.Hometown })...)
	cols = append(cols, placeColumns("permanent_residence", func(e *Enrollment) *Place { return &e.PermanentResidence })...)
	cols = append(cols, placeColumns("current_residence", func(e *Enrollment) *Place {
		if e.CurrentResidence == nil {
			e.CurrentResidence = &Place{}
		}
		return e.CurrentResidence
	})...)
	cols = append(cols,
		csvColumn{"occupation", true, func(e *Enrollment, v string) error { e.Occupation = v; return nil }},
		csvColumn{"marital_status", true, func(e *Enrollment, v string) error { e.MaritalStatus = v; return nil }},
		csvColumn{"blood_type", false, func(e *Enrollment, v string) error { e.BloodType = v; return nil }},
		csvColumn{"legacy_id_number", false, func(e *Enrollment, v string) error { e.LegacyIDNumber = v; return nil }},
	)
	for _, r := range []struct {
		prefix string
		get    func(e *Enrollment) **Relative
	}{
		{"father", func(e *Enrollment) **Relative { return &e.Father }},
		{"mother", func(e *Enrollment) **Relative { return &e.Mother }},
		{"spouse", func(e *Enrollment) **Relative { return &e.Spouse }},
		{"household_head", func(e *Enrollment) **Relative { return &e.HouseholdHead }},
	} {
		cols = append(cols, relativeColumns(r.prefix, r.get)...)
	}
	cols = append(cols,
		csvColumn{"household_head_dob", false, func(e *Enrollment, v string) error {
			rel := relative(&e.HouseholdHead)
			rel.DateOfBirth = &Date{}
			return setDate(rel.DateOfBirth, v)
		}},
		csvColumn{"relation_to_head", true, func(e *Enrollment, v string) error { e.RelationToHead = v; return nil }},
		csvColumn{"commune_code", false, func(e *Enrollment, v string) error { e.Capture.CommuneCode = v; return nil }},
		csvColumn{"code_list", false, func(e *Enrollment, v string) error { e.Capture.CodeList = v; return nil }},
		csvColumn{"officer", false, func(e *Enrollment, v string) error { e.Capture.Officer = v; return nil }},
		csvColumn{"device", false, func(e *Enrollment, v string) error { e.Capture.Device = v; return nil }},
		csvColumn{"captured_at", false, func(e *Enrollment, v string) error { return setTime(&e.Capture.CapturedAt, v) }},
		csvColumn{"request_type", true, func(e *Enrollment, v string) error { e.Capture.RequestType = v; return nil }},
	)
	return cols
}

func placeColumns(prefix string, get func(e *Enrollment) *Place) []csvColumn {
	return []csvColumn{
		{prefix + "_code", false, func(e *Enrollment, v string) error { get(e).UnitCode = v; return nil }},
		{prefix + "_code_list", false, func(e *Enrollment, v string) error { get(e).CodeList = v; return nil }},
		{prefix + "_text", true, func(e *Enrollment, v string) error { get(e).Text = v; return nil }},
	}
}

func relativeColumns(prefix string, get func(e *Enrollment) **Relative) []csvColumn {
	return []csvColumn{
		{prefix + "_name", true, func(e *Enrollment, v string) error { relative(get(e)).FullName = v; return nil }},
		{prefix + "_id", false, func(e *Enrollment, v string) error { relative(get(e)).PersonalID = v; return nil }},
	}
}

// relative allocates a relative on first use: a relative with all cells
// empty stays nil.
func relative(p **Relative) *Relative {
	if *p == nil {
		*p = &Relative{}
	}
	return *p
}

// splitList splits a ";"-separated cell, trimming around separators and
// dropping empty parts.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func setDate(d *Date, v string) error {
	p, err := ParseDate(v)
	if err != nil {
		return fmt.Errorf("%w: %q; write it as 1985-03-12, 1985-03, 1985 or 12/03/1985", ErrBadDate, clip(v))
	}
	*d = p
	return nil
}

func setTime(t *time.Time, v string) error {
	p, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return fmt.Errorf("%w: %q; write it as 2023-04-10T08:30:00+07:00", ErrBadTime, clip(v))
	}
	*t = p
	return nil
}

// parseSexLoose reads Nam/Nữ and the spreadsheet forms ParseSex knows;
// anything else is kept as written so Validate can name it.
func parseSexLoose(v string) Sex {
	if s, ok := ParseSex(v); ok {
		return s
	}
	return Sex(v)
}

// ethnicityFromCell accepts a two-digit code or a name or common variant
// ("Kinh", "H'Mông", "Khmer"); anything else is kept for Validate to report.
func ethnicityFromCell(v string) string {
	if _, ok := EthnicityByCode(v); ok {
		return v
	}
	if code, ok := EthnicityCodeOf(v); ok {
		return code
	}
	return v
}

// requiredCSV lists the columns a file must have, as alternatives: the
// mandatory fields of Validate (a place may be given by code or text).
var requiredCSV = [][]string{
	{"full_name"}, {"date_of_birth"}, {"sex"}, {"ethnicity_code"}, {"nationality"},
	{"birth_registration_code", "birth_registration_text"},
	{"permanent_residence_code", "permanent_residence_text"},
	{"commune_code"}, {"officer"}, {"device"}, {"captured_at"},
}

// CSVReader reads enrollments from a CSV file: a header row of the column
// names of docs/import-format.md, then one row per record. The file is
// UTF-8 (a leading byte-order mark is skipped), the delimiter is ",", and
// cells may be quoted with '"' as in RFC 4180 ("" inside quotes is one
// quote; quoted cells may span lines).
type CSVReader struct {
	rr   *rowReader
	cols []*csvColumn // by position
	err  error        // sticky read error
	last []string     // the cells of the row Next returned last
}

// NewCSVReader reads the header. It fails on an unknown or repeated column
// name (naming it) and on missing required columns (listing them).
// Column names are matched case-insensitively, after trimming spaces.
func NewCSVReader(r io.Reader) (*CSVReader, error) {
	rr := &rowReader{br: bufio.NewReader(r), line: 1}
	header, _, err := rr.next()
	switch {
	case err == io.EOF:
		return nil, decodeErr("", ErrBadRow, "the file is empty; the first row must name the columns")
	case errors.Is(err, ErrTooLarge):
		return nil, decodeErr("header", ErrTooLarge, "the first row, which must name the columns, is longer than %d KiB: the file is not CSV with a header row, or its rows do not end with a line break (save it as \"CSV UTF-8\" with one row per line; columns in docs/import-format.md)", MaxRecordBytes>>10)
	case err != nil:
		var de *DecodeError
		if errors.As(err, &de) {
			return nil, decodeErr("header", de.Err, "")
		}
		return nil, fmt.Errorf("header: %w", err)
	}
	header[0] = strings.TrimPrefix(header[0], "\uFEFF")
	cols, err := mapHeader(header)
	if err != nil {
		return nil, err
	}
	return &CSVReader{rr: rr, cols: cols}, nil
}

func mapHeader(header []string) ([]*csvColumn, error) {
	byName := map[string]*csvColumn{}
	for i := range csvColumns {
		byName[csvColumns[i].name] = &csvColumns[i]
	}
	cols := make([]*csvColumn, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		c, ok := byName[name]
		if _, _, dossier := dossierColumn(name); !ok && dossier {
			c, ok = &csvColumn{name: name}, true
		}
		switch {
		case name == "":
			return nil, decodeErr("", ErrBadRow, "header column %d has no name", i+1)
		case !ok:
			return nil, decodeErr(clip(name), ErrUnknownField, "not a column of the import format (see docs/import-format.md)")
		case seen[name]:
			return nil, decodeErr(name, ErrDuplicateField, "the column appears twice in the header")
		}
		seen[name] = true
		cols[i] = c
	}
	var missing []string
	for _, alts := range requiredCSV {
		found := false
		for _, a := range alts {
			found = found || seen[a]
		}
		if !found {
			missing = append(missing, strings.Join(alts, " or "))
		}
	}
	if len(missing) > 0 {
		return nil, decodeErr("", ErrBadRow, "missing required columns: %s", strings.Join(missing, ", "))
	}
	return cols, nil
}

// Columns returns the names of the columns of the file, in order.
func (c *CSVReader) Columns() []string {
	out := make([]string, len(c.cols))
	for i, col := range c.cols {
		out[i] = col.name
	}
	return out
}

// Next returns the next record and the line number where its row starts.
// At the end it returns io.EOF. A bad row returns an error naming the
// column (a *DecodeError wrapped with the line number) and the next call
// goes on with the following row. Blank lines are skipped.
func (c *CSVReader) Next() (lineNo int, e Enrollment, err error) {
	if c.err != nil {
		return 0, Enrollment{}, c.err
	}
	row, line, err := c.rr.next()
	switch {
	case err == io.EOF:
		c.err = io.EOF
		return 0, Enrollment{}, io.EOF
	case err != nil && !errors.Is(err, ErrBadRow) && !errors.Is(err, ErrTooLarge):
		c.err = err
		return line, Enrollment{}, err
	case err != nil:
		return line, Enrollment{}, fmt.Errorf("line %d: %w", line, err)
	}
	if len(row) != len(c.cols) {
		return line, Enrollment{}, fmt.Errorf("line %d: %w", line,
			decodeErr("", ErrBadRow, "the row has %d cells but the header has %d columns", len(row), len(c.cols)))
	}
	e, err = c.fill(row)
	if err != nil {
		return line, Enrollment{}, fmt.Errorf("line %d: %w", line, err)
	}
	c.last = row
	return line, e, nil
}

func (c *CSVReader) fill(row []string) (Enrollment, error) {
	var e Enrollment
	for i, v := range row {
		col := c.cols[i]
		if col.set == nil {
			continue // a dossier column: NextDossier reads it
		}
		if !utf8.ValidString(v) {
			return Enrollment{}, decodeErr(col.name, ErrInvalidUTF8, "at byte %d of the cell; save the file as UTF-8", firstInvalidByte(v))
		}
		if !col.text {
			v = strings.TrimSpace(v)
		}
		if v == "" {
			continue
		}
		if err := col.set(&e, v); err != nil {
			return Enrollment{}, &DecodeError{Field: col.name, Err: err}
		}
	}
	return e, nil
}

// NextDossier is Next with the row's dossier columns: for each slot with
// a SLOT_file or SLOT_exception column, a DossierFile naming the file (its
// path in Name, unread) or the exception; a slot whose cells are both
// empty gives a DossierFile with neither, which BuildBiometrics refuses
// (an empty slot needs its exception code).
func (c *CSVReader) NextDossier() (lineNo int, e Enrollment, files []DossierFile, err error) {
	c.last = nil
	lineNo, e, err = c.Next()
	if err != nil || c.last == nil {
		return lineNo, e, nil, err
	}
	bySlot := map[string]*DossierFile{}
	var order []string
	for i, v := range c.last {
		slot, exception, ok := dossierColumn(c.cols[i].name)
		if !ok {
			continue
		}
		f := bySlot[slot]
		if f == nil {
			f = &DossierFile{Slot: slot}
			bySlot[slot] = f
			order = append(order, slot)
		}
		if v = strings.TrimSpace(v); exception {
			f.Exception = v
		} else {
			f.Name = v
		}
	}
	for _, slot := range order {
		f := *bySlot[slot]
		if f.Name != "" && f.Exception != "" { // both: a file and an exception for one slot
			files = append(files, DossierFile{Slot: slot, Exception: f.Exception})
			f.Exception = ""
		}
		files = append(files, f)
	}
	return lineNo, e, files, nil
}

// CSVRows reads the rows of a CSV file with the bounds and the dialect of
// CSVReader (UTF-8, ",", RFC 4180 quotes; a row at most MaxRecordBytes and
// 128 cells), for files of other columns (a resident list). A leading
// byte-order mark is dropped.
type CSVRows struct {
	rr    *rowReader
	first bool
}

// NewCSVRows reads rows from r.
func NewCSVRows(r io.Reader) *CSVRows {
	return &CSVRows{rr: &rowReader{br: bufio.NewReader(r), line: 1}, first: true}
}

// Next returns the cells of the next non-blank row and the line it starts
// on; io.EOF at the end. A bad row returns an error wrapping ErrBadRow or
// ErrTooLarge (with the line) and the next call goes on after it; any
// other error is the reader's and ends the file.
func (c *CSVRows) Next() ([]string, int, error) {
	row, line, err := c.rr.next()
	if err != nil {
		if errors.Is(err, ErrBadRow) || errors.Is(err, ErrTooLarge) {
			return nil, line, fmt.Errorf("line %d: %w", line, err)
		}
		return nil, line, err
	}
	if c.first {
		row[0] = strings.TrimPrefix(row[0], "\uFEFF")
		c.first = false
	}
	return row, line, nil
}

// rowReader splits RFC 4180 records itself, rather than with
// encoding/csv, so that a row is bounded (MaxRecordBytes, maxCSVFields)
// and a bad row can be skipped without buffering it whole.
type rowReader struct {
	br   *bufio.Reader
	line int // physical line where the next row starts
}

// rowState is the parser state inside one row.
type rowState struct {
	cells     []string
	cur       []byte // the current cell, while the row is within bounds
	cellBytes int    // bytes seen in the current cell (kept or not)
	size      int
	quoted    bool // the current cell started with a quote
	inQuotes  bool
	afterQ    bool   // just read the closing quote of a quoted cell
	problem   string // first problem seen; the row is consumed anyway
	tooLong   bool
}

// next returns the cells of the next non-blank row and its first line.
func (rr *rowReader) next() ([]string, int, error) {
	for {
		start := rr.line
		st := &rowState{}
		err := rr.scan(st)
		if err != nil && err != io.EOF {
			return nil, start, err
		}
		if err == io.EOF && st.size == 0 {
			return nil, start, io.EOF
		}
		if st.inQuotes {
			st.note("a quoted cell is not closed before the end of the file")
		}
		st.endRow()
		switch {
		case st.tooLong:
			return nil, start, decodeErr("", ErrTooLarge, "row skipped")
		case st.problem != "":
			return nil, start, decodeErr("", ErrBadRow, "%s", st.problem)
		case len(st.cells) == 1 && st.cells[0] == "":
			continue // blank line
		}
		return st.cells, start, nil
	}
}

// scan reads one row (to its unquoted newline or the end of input).
func (rr *rowReader) scan(st *rowState) error {
	for {
		b, err := rr.br.ReadByte()
		if err != nil {
			return err
		}
		st.size++
		if st.size > MaxRecordBytes {
			st.tooLong = true
		}
		if b == '\n' {
			rr.line++
		}
		if st.step(b) {
			return nil
		}
	}
}

// step feeds one byte; it reports the end of the row.
func (st *rowState) step(b byte) bool {
	switch {
	case st.inQuotes && b == '"':
		st.inQuotes, st.afterQ = false, true
	case st.inQuotes:
		st.keep(b)
	case st.afterQ && b == '"': // "" inside quotes is one quote
		st.inQuotes, st.afterQ = true, false
		st.keep('"')
	case b == ',':
		st.endCell()
	case b == '\n':
		return true
	case st.afterQ && b == '\r': // CRLF after a quoted cell
	case st.afterQ:
		st.note("text after the closing quote of a cell")
		st.keep(b)
	case b == '"' && st.cellBytes == 0:
		st.inQuotes, st.quoted = true, true
		st.cellBytes++
	case b == '"':
		st.note("a quote \" inside a cell that does not start with a quote")
		st.keep(b)
	default:
		st.keep(b)
	}
	return false
}

func (st *rowState) keep(b byte) {
	st.cellBytes++
	if !st.tooLong {
		st.cur = append(st.cur, b)
	}
}

func (st *rowState) endCell() {
	if len(st.cells) >= maxCSVFields {
		st.note(fmt.Sprintf("more than %d cells", maxCSVFields))
	} else if !st.tooLong {
		st.cells = append(st.cells, string(st.cur))
	}
	st.cur, st.cellBytes, st.quoted, st.afterQ = st.cur[:0], 0, false, false
}

// endRow closes the last cell, dropping the '\r' of a CRLF line ending.
func (st *rowState) endRow() {
	if n := len(st.cur); n > 0 && st.cur[n-1] == '\r' && !st.quoted {
		st.cur = st.cur[:n-1]
	}
	st.endCell()
}

// CSVColumns returns the names of all columns of the import format, in
// documentation order.
func CSVColumns() []string {
	out := make([]string, len(csvColumns))
	for i, c := range csvColumns {
		out[i] = c.name
	}
	return out
}

func (st *rowState) note(p string) {
	if st.problem == "" {
		st.problem = p
	}
}
