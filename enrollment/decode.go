package enrollment

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxRecordBytes bounds one encoded record (a JSON object, a JSON line or a
// CSV row). A real record is 1-3 KiB; biometrics travel apart, by hash.
const MaxRecordBytes = 64 << 10

// Decoding errors. They come wrapped in a *DecodeError that names the
// field or column; test for them with errors.Is. Messages are lowercase and
// written for an officer reading an import report.
var (
	// ErrTooLarge: a record, JSON line or CSV row over MaxRecordBytes.
	ErrTooLarge = errors.New("record is larger than 64 KiB")
	// ErrInvalidUTF8: bytes that are not UTF-8 (save the file as UTF-8).
	ErrInvalidUTF8 = errors.New("not valid UTF-8 text")
	// ErrSyntax: not JSON, or JSON cut short.
	ErrSyntax = errors.New("not valid JSON")
	// ErrUnknownField: a JSON field or CSV column the format does not have
	// (names are matched exactly in JSON, ignoring case in a CSV header).
	ErrUnknownField = errors.New("unknown field")
	// ErrDuplicateField: a JSON field or CSV column given twice.
	ErrDuplicateField = errors.New("field given twice")
	// ErrWrongType: a value of the wrong kind (a number for text, text for
	// a list, a fraction for a size), or a top level that is not an object.
	ErrWrongType = errors.New("wrong kind of value")
	// ErrBadDate: a date that ParseDate cannot read. A date that parses
	// but does not exist (30 February) decodes, and Validate rejects it.
	ErrBadDate = errors.New("not a date")
	// ErrBadTime: a capture time that is not RFC 3339.
	ErrBadTime = errors.New("not a date and time")
	// ErrTrailingData: anything but white space after the JSON object.
	ErrTrailingData = errors.New("unexpected data after the record")
	// ErrBadRow: a CSV header or row that is malformed as CSV (wrong number
	// of cells, a stray quote, missing required columns).
	ErrBadRow = errors.New("malformed row")
)

// DecodeError reports input that is not a well-formed enrollment. Field
// is the JSON path or CSV column at fault ("" for the record as a whole).
type DecodeError struct {
	Field string
	Err   error
}

// Error renders "enrollment: <field>: <problem>".
func (e *DecodeError) Error() string {
	if e.Field == "" {
		return "enrollment: " + e.Err.Error()
	}
	return "enrollment: " + e.Field + ": " + e.Err.Error()
}

// Unwrap returns the cause, which wraps one of the Err* sentinels.
func (e *DecodeError) Unwrap() error { return e.Err }

func decodeErr(field string, sentinel error, format string, args ...any) error {
	if format == "" {
		return &DecodeError{Field: field, Err: sentinel}
	}
	return &DecodeError{Field: field, Err: fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))}
}

// DecodeJSON decodes one enrollment from a JSON object. It is strict: the
// input must be at most MaxRecordBytes of valid UTF-8 holding exactly one
// object; every field must be one of the format's, given once, with the
// right kind of value; dates must parse (ParseDate) and captured_at must be
// RFC 3339. Errors are *DecodeError naming the field ("date_of_birth: …").
// Whether the values make sense is Validate's job: decoding only checks
// the shape.
func DecodeJSON(b []byte) (Enrollment, error) {
	if len(b) > MaxRecordBytes {
		return Enrollment{}, decodeErr("", ErrTooLarge, "%d bytes", len(b))
	}
	if !utf8.Valid(b) {
		return Enrollment{}, decodeErr("", ErrInvalidUTF8, "at byte %d", firstInvalidByte(string(b)))
	}
	if err := checkShape(b); err != nil {
		return Enrollment{}, err
	}
	var e Enrollment
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		// checkShape accepts only what Decode accepts; this is a backstop.
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Enrollment{}, decodeErr(te.Field, ErrWrongType, "%v", err)
		}
		return Enrollment{}, decodeErr("", ErrSyntax, "%v", err)
	}
	// An empty list of an omitempty field is the same as none: encoding/json
	// drops it on the way out, so keep nil for a stable round trip.
	if len(e.OtherNames) == 0 {
		e.OtherNames = nil
	}
	if len(e.Biometrics) == 0 {
		e.Biometrics = nil
	}
	return e, nil
}

// node is the expected shape of a JSON value, derived once from the Go
// types so it cannot drift from them.
type node struct {
	kind   nodeKind
	fields map[string]*node // kindObject
	elem   *node            // kindArray
}

type nodeKind uint8

const (
	kindObject nodeKind = iota
	kindArray
	kindString
	kindDate // a string ParseDate accepts
	kindTime // an RFC 3339 string
	kindInt
)

var enrollmentShape = shapeOf(reflect.TypeFor[Enrollment]())

func shapeOf(t reflect.Type) *node {
	switch {
	case t == reflect.TypeFor[Date]():
		return &node{kind: kindDate}
	case t == reflect.TypeFor[time.Time]():
		return &node{kind: kindTime}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return shapeOf(t.Elem())
	case reflect.Slice:
		return &node{kind: kindArray, elem: shapeOf(t.Elem())}
	case reflect.String:
		return &node{kind: kindString}
	case reflect.Int, reflect.Int64:
		return &node{kind: kindInt}
	case reflect.Struct:
		n := &node{kind: kindObject, fields: map[string]*node{}}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" || name == "" {
				continue
			}
			n.fields[name] = shapeOf(f.Type)
		}
		return n
	}
	panic("enrollment: no JSON shape for " + t.String()) // a new field type: extend shapeOf
}

// checkShape walks the tokens of b against enrollmentShape, so that every
// error names its field, and rejects what encoding/json would let through:
// duplicate keys, keys differing only in case, trailing data.
func checkShape(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	w := shapeWalker{dec: dec}
	tok, err := dec.Token()
	if err != nil {
		return w.syntax("", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return decodeErr("", ErrWrongType, "want one JSON object {…}, got %s", describeToken(tok))
	}
	if err := w.object("", enrollmentShape); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return decodeErr("", ErrTrailingData, "")
	}
	return nil
}

type shapeWalker struct{ dec *json.Decoder }

func (w shapeWalker) syntax(field string, err error) error {
	if err == io.EOF {
		return decodeErr(field, ErrSyntax, "the record ends too early")
	}
	return decodeErr(field, ErrSyntax, "%v", err)
}

// object walks the members of an object whose '{' was read.
func (w shapeWalker) object(path string, n *node) error {
	seen := map[string]bool{}
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return w.syntax(path, err)
		}
		key, _ := tok.(string)
		field := joinPath(path, key)
		child, ok := n.fields[key]
		switch {
		case !ok:
			return decodeErr(field, ErrUnknownField, "not part of the enrollment format")
		case seen[key]:
			return decodeErr(field, ErrDuplicateField, "")
		}
		seen[key] = true
		if err := w.value(field, child); err != nil {
			return err
		}
	}
	_, err := w.dec.Token() // '}'
	if err != nil {
		return w.syntax(path, err)
	}
	return nil
}

// value walks one value expected to have shape n.
func (w shapeWalker) value(path string, n *node) error {
	tok, err := w.dec.Token()
	if err != nil {
		return w.syntax(path, err)
	}
	if tok == nil {
		return nil // null leaves the zero value, as encoding/json does
	}
	d, isDelim := tok.(json.Delim)
	switch {
	case n.kind == kindObject && isDelim && d == '{':
		return w.object(path, n)
	case n.kind == kindArray && isDelim && d == '[':
		for i := 0; w.dec.More(); i++ {
			if err := w.value(fmt.Sprintf("%s[%d]", path, i), n.elem); err != nil {
				return err
			}
		}
		if _, err := w.dec.Token(); err != nil {
			return w.syntax(path, err)
		}
		return nil
	case n.kind == kindObject:
		return decodeErr(path, ErrWrongType, "want an object {…}, got %s", describeToken(tok))
	case n.kind == kindArray:
		return decodeErr(path, ErrWrongType, "want a list […], got %s", describeToken(tok))
	}
	return checkScalar(path, n.kind, tok)
}

func checkScalar(path string, k nodeKind, tok json.Token) error {
	s, isString := tok.(string)
	switch {
	case k == kindInt:
		num, ok := tok.(json.Number)
		if _, err := strconv.ParseInt(string(num), 10, 64); !ok || err != nil {
			return decodeErr(path, ErrWrongType, "want a whole number, got %s", describeToken(tok))
		}
		return nil
	case !isString:
		return decodeErr(path, ErrWrongType, "want text in quotes, got %s", describeToken(tok))
	case k == kindDate:
		if _, err := ParseDate(s); err != nil {
			return decodeErr(path, ErrBadDate, "%q; write it as 1985-03-12, 1985-03 or 1985", clip(s))
		}
	case k == kindTime:
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return decodeErr(path, ErrBadTime, "%q; write it as 2023-04-10T08:30:00+07:00", clip(s))
		}
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object {…}"
		}
		return "a list […]"
	case json.Number:
		return "the number " + clip(string(v))
	case bool:
		return fmt.Sprintf("%v", v)
	case string:
		return fmt.Sprintf("the text %q", clip(v))
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// LineReader reads JSON lines: one enrollment object per line. A bad line
// yields an error for that line and reading goes on with the next; a line
// longer than MaxRecordBytes is skipped without being held in memory.
// Blank lines are ignored.
type LineReader struct {
	br   *bufio.Reader
	line int
	max  int   // longest line kept
	err  error // sticky: a read error of the underlying reader
}

// NewJSONLinesReader returns a LineReader over r.
func NewJSONLinesReader(r io.Reader) *LineReader { return NewJSONLinesReaderMax(r, MaxRecordBytes) }

// NewJSONLinesReaderMax returns a LineReader whose lines may have up to
// max bytes (a dossier's line carries its files); Next still refuses a
// record over MaxRecordBytes.
func NewJSONLinesReaderMax(r io.Reader, max int) *LineReader {
	// The buffer holds a maximal line plus its line ending.
	return &LineReader{br: bufio.NewReaderSize(r, max+2), max: max}
}

// NextRaw returns the next non-blank line, without its line ending, and
// its 1-based number; the bytes are valid until the next call. A line over
// the reader's maximum is skipped with a *DecodeError (ErrTooLarge); a read
// error of the underlying reader is returned by every later call.
func (lr *LineReader) NextRaw() (int, []byte, error) {
	for {
		if lr.err != nil {
			return lr.line, nil, lr.err
		}
		line, tooLong, err := lr.readLine()
		switch {
		case err == io.EOF:
			lr.err = io.EOF
			if len(line) == 0 && !tooLong {
				continue
			}
		case err != nil:
			lr.err = err
			continue
		}
		lr.line++
		if tooLong {
			return lr.line, nil, fmt.Errorf("line %d: %w", lr.line, decodeErr("", ErrTooLarge, "line of more than %d bytes skipped", lr.max))
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		return lr.line, line, nil
	}
}

// Next returns the next record and its 1-based line number. At the end it
// returns io.EOF. A decoding error is a *DecodeError wrapped with the line
// number; the following call continues with the next line. An error of
// the underlying reader is returned by every later call.
func (lr *LineReader) Next() (lineNo int, e Enrollment, err error) {
	lineNo, line, err := lr.NextRaw()
	if err != nil {
		return lineNo, Enrollment{}, err
	}
	e, derr := DecodeJSON(line)
	if derr != nil {
		return lineNo, Enrollment{}, fmt.Errorf("line %d: %w", lineNo, derr)
	}
	return lineNo, e, nil
}

// readLine returns one line without its line ending. A line longer than
// MaxRecordBytes is consumed up to its newline and reported as tooLong.
func (lr *LineReader) readLine() (line []byte, tooLong bool, err error) {
	line, err = lr.br.ReadSlice('\n')
	for err == bufio.ErrBufferFull {
		tooLong = true
		_, err = lr.br.ReadSlice('\n')
	}
	if tooLong {
		if err == io.EOF {
			err = nil // the long line was the last; EOF comes next call
		}
		return nil, true, err
	}
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	if len(line) > lr.max {
		return nil, true, err
	}
	return line, false, err
}
