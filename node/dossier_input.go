package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"fieldsync/enrollment"
)

// MaxDossierLine bounds one JSON line of an import that carries its files
// inline (base64): every slot at its limit is 23.5 MiB, 31.4 MiB as base64.
const MaxDossierLine = 34 << 20

// MaxDossierFolders bounds the person folders one import reads.
const MaxDossierFolders = 100_000

// RecordFile is the record's file in a person's folder.
const RecordFile = "record.json"

// FileSource reads the files an import names by path. Relative paths are
// resolved against Base. A nil *FileSource reads no path: the daemon's API
// takes files inline only (a client sends the bytes), so that nothing can
// make the daemon read a file of its own choosing.
type FileSource struct {
	Base string
}

// Read reads the file of slot named name, at most the slot's size limit
// (a larger file is reported, not read). It never fails: what went wrong
// is in the File, for BuildBiometrics to report with the slot and name.
func (s *FileSource) Read(slot, name string) File {
	f := File{Slot: slot, Name: name}
	if s == nil {
		f.ReadErr = "this API takes files inline (as base64 data), not paths"
		return f
	}
	limit := int64(enrollment.MaxFaceBytes)
	if spec, ok := enrollment.SlotByName(slot); ok {
		limit = spec.MaxBytes
	}
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(s.Base, path)
	}
	fh, err := os.Open(path)
	if err != nil {
		f.Missing = errors.Is(err, fs.ErrNotExist)
		f.ReadErr = reason(err)
		return f
	}
	defer fh.Close()
	fi, err := fh.Stat()
	switch {
	case err != nil:
		f.ReadErr = reason(err)
		return f
	case fi.IsDir():
		f.ReadErr = "it is a folder"
		return f
	case fi.Size() > limit:
		f.TooLarge, f.Size = true, fi.Size()
		return f
	}
	data, err := io.ReadAll(io.LimitReader(fh, limit+1))
	switch {
	case err != nil:
		f.ReadErr = reason(err)
	case int64(len(data)) > limit: // it grew since the stat
		f.TooLarge, f.Size = true, int64(len(data))
	default:
		f.Data = data
	}
	return f
}

// reason is an I/O error without the path (the finding names the file).
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// DossierReader yields an import's dossiers, then io.EOF. A bad row is an
// error that IsRowError recognizes (reported, the import goes on); any
// other error stops the import.
type DossierReader interface {
	Next() (line int, d Dossier, err error)
}

// jsonDossiers reads JSON lines: an enrollment object per line, with an
// optional "files" object (see DecodeDossierJSON).
type jsonDossiers struct {
	lr    *enrollment.LineReader
	files *FileSource
}

func (r *jsonDossiers) Next() (int, Dossier, error) {
	line, raw, err := r.lr.NextRaw()
	if err != nil {
		return line, Dossier{}, err
	}
	d, n, err := DecodeDossierJSON(raw, r.files)
	if n > 0 {
		line = n
	}
	if err != nil {
		return line, Dossier{}, fmt.Errorf("line %d: %w", line, err)
	}
	return line, d, nil
}

// csvDossiers reads CSV with the dossier columns SLOT_file and
// SLOT_exception.
type csvDossiers struct {
	r     *enrollment.CSVReader
	files *FileSource
}

func (r *csvDossiers) Next() (int, Dossier, error) {
	line, rec, files, err := r.r.NextDossier()
	if err != nil {
		return line, Dossier{}, err
	}
	for i, f := range files {
		if f.Name != "" && f.Exception == "" {
			files[i] = r.files.Read(f.Slot, f.Name)
		}
	}
	return line, Dossier{Record: rec, Files: files}, nil
}

// wireFile is a file of a dossier's JSON line: a path, or the bytes
// inline, or an exception code.
type wireFile struct {
	Name      string `json:"name,omitempty"`
	Path      string `json:"path,omitempty"`
	Data      []byte `json:"data,omitempty"`
	Exception string `json:"exception,omitempty"`
}

// DecodeDossierJSON reads one dossier written as a JSON object: an
// enrollment's fields, plus
//
//	"files": {"face": "people/0042/face.jpg",                   a path
//	          "finger_l2": {"exception": "amputated"},          an empty slot
//	          "iris_r": {"name": "r.jp2", "data": "<base64>"}}  the bytes inline
//
// and, from a client of the API, "line": the row's number in the
// operator's file (returned, for the report). Paths are read with src; a
// nil src reads none. Errors are *enrollment.DecodeError.
func DecodeDossierJSON(raw []byte, src *FileSource) (Dossier, int, error) {
	if !bytes.Contains(raw, []byte(`"files"`)) && !bytes.Contains(raw, []byte(`"line"`)) {
		rec, err := enrollment.DecodeJSON(raw)
		return Dossier{Record: rec}, 0, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		_, derr := enrollment.DecodeJSON(raw) // says what is wrong, naming the field
		if derr == nil {
			derr = &enrollment.DecodeError{Err: fmt.Errorf("%w: %v", enrollment.ErrSyntax, err)}
		}
		return Dossier{}, 0, derr
	}
	line := 0
	if l, ok := top["line"]; ok {
		if err := json.Unmarshal(l, &line); err != nil || line < 0 {
			return Dossier{}, 0, &enrollment.DecodeError{Field: "line", Err: fmt.Errorf("%w: want a line number", enrollment.ErrWrongType)}
		}
		delete(top, "line")
	}
	files, err := decodeFiles(top["files"], src)
	if err != nil {
		return Dossier{}, line, err
	}
	delete(top, "files")
	rest, err := json.Marshal(top)
	if err != nil {
		return Dossier{}, line, &enrollment.DecodeError{Err: err}
	}
	rec, err := enrollment.DecodeJSON(rest)
	return Dossier{Record: rec, Files: files}, line, err
}

func decodeFiles(raw json.RawMessage, src *FileSource) ([]File, error) {
	if raw == nil {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &enrollment.DecodeError{Field: "files", Err: fmt.Errorf("%w: want an object of slot: file", enrollment.ErrWrongType)}
	}
	if len(m) > enrollment.MaxBiometrics {
		return nil, &enrollment.DecodeError{Field: "files", Err: fmt.Errorf("%w: %d files, limit %d", enrollment.ErrTooLarge, len(m), enrollment.MaxBiometrics)}
	}
	slots := make([]string, 0, len(m))
	for s := range m {
		slots = append(slots, s)
	}
	sort.Strings(slots)
	out := make([]File, 0, len(m))
	for _, slot := range slots {
		v := m[slot]
		field := "files." + slot
		var path string
		if err := json.Unmarshal(v, &path); err == nil {
			if path == "" {
				out = append(out, File{Slot: slot})
			} else {
				out = append(out, src.Read(slot, path))
			}
			continue
		}
		var w wireFile
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&w); err != nil {
			return nil, &enrollment.DecodeError{Field: field, Err: fmt.Errorf("%w: want a path, or {\"exception\": code}, or {\"name\", \"data\": base64}", enrollment.ErrWrongType)}
		}
		switch {
		case w.Data != nil:
			f := File{Slot: slot, Name: orDefault(w.Name, slot+" (inline)"), Data: w.Data}
			if spec, ok := enrollment.SlotByName(slot); ok && int64(len(w.Data)) > spec.MaxBytes {
				f.Data, f.TooLarge, f.Size = nil, true, int64(len(w.Data))
			}
			if w.Exception != "" {
				out = append(out, File{Slot: slot, Exception: w.Exception})
			}
			out = append(out, f)
		case w.Path != "":
			if w.Exception != "" {
				out = append(out, File{Slot: slot, Exception: w.Exception})
			}
			out = append(out, src.Read(slot, w.Path))
		default:
			out = append(out, File{Slot: slot, Exception: w.Exception})
		}
	}
	return out, nil
}

func orDefault(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// EncodeDossierJSON writes a dossier as one JSON line with its files
// inline, for the daemon's API (fieldsync enroll and import send what
// they read this way). line, if not 0, is the row's number in the
// operator's input.
func EncodeDossierJSON(d *Dossier, line int) ([]byte, error) {
	rec, err := json.Marshal(d.Record)
	if err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(rec, &top); err != nil {
		return nil, err
	}
	if line > 0 {
		top["line"], _ = json.Marshal(line)
	}
	if len(d.Files) > 0 {
		files := map[string]any{}
		for _, f := range d.Files {
			if _, twice := files[f.Slot]; twice {
				return nil, fmt.Errorf("node: slot %s given twice: one JSON object carries one file per slot (check the dossier with enrollment.BuildBiometrics first)", f.Slot)
			}
			switch {
			case f.Data != nil:
				files[f.Slot] = wireFile{Name: f.Name, Data: f.Data}
			case f.Exception != "":
				files[f.Slot] = wireFile{Exception: f.Exception}
			case f.Missing || f.ReadErr != "" || f.TooLarge:
				// Sent as a path the daemon does not read: its answer names
				// the file; the reason is lost, so say it here.
				files[f.Slot] = wireFile{Name: f.Name, Path: f.Name}
			default:
				files[f.Slot] = ""
			}
		}
		top["files"], _ = json.Marshal(files)
	}
	return json.Marshal(top)
}

// DirDossiers reads a folder of person folders: each holds record.json
// (one enrollment object, optionally with "files" for exceptions or other
// paths, relative to the person's folder) and one file per slot, named by
// the slot with any extension ("face.jpg", "finger_r2.wsq",
// "iris_l.jp2"); the type is judged from the bytes. Folders are read in
// name order; a folder's "line" is its position.
type DirDossiers struct {
	root    string
	folders []string
	i       int
}

// OpenDossierDir lists root's person folders; root itself is one person's
// folder if it holds record.json.
func OpenDossierDir(root string) (*DirDossiers, error) {
	if _, err := os.Stat(filepath.Join(root, RecordFile)); err == nil {
		return &DirDossiers{root: filepath.Dir(root), folders: []string{filepath.Base(root)}}, nil
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	r := &DirDossiers{root: root}
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			r.folders = append(r.folders, e.Name())
		}
	}
	if len(r.folders) > MaxDossierFolders {
		return nil, fmt.Errorf("import: %s holds %d folders, limit %d: import it in parts", root, len(r.folders), MaxDossierFolders)
	}
	if len(r.folders) == 0 {
		return nil, fmt.Errorf("import: %s holds no person folders (each with a %s and its files; see docs/import-format.md)", root, RecordFile)
	}
	return r, nil
}

// Folder returns the folder of line (1-based), for reports.
func (r *DirDossiers) Folder(line int) string {
	if line < 1 || line > len(r.folders) {
		return ""
	}
	return r.folders[line-1]
}

func (r *DirDossiers) Next() (int, Dossier, error) {
	if r.i >= len(r.folders) {
		return r.i, Dossier{}, io.EOF
	}
	r.i++
	name := r.folders[r.i-1]
	dir := filepath.Join(r.root, name)
	rowErr := func(field string, err error) error {
		return fmt.Errorf("folder %s: %w", name, &enrollment.DecodeError{Field: field, Err: err})
	}
	raw, err := readBounded(filepath.Join(dir, RecordFile), enrollment.MaxRecordBytes)
	if err != nil {
		return r.i, Dossier{}, rowErr(RecordFile, err)
	}
	src := &FileSource{Base: dir}
	d, _, err := DecodeDossierJSON(bytes.TrimSpace(raw), src)
	if err != nil {
		return r.i, Dossier{}, fmt.Errorf("folder %s: %w", name, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return r.i, Dossier{}, rowErr("", err)
	}
	for _, e := range ents {
		fn := e.Name()
		if fn == RecordFile || strings.HasPrefix(fn, ".") || strings.EqualFold(fn, "Thumbs.db") || e.IsDir() {
			continue
		}
		d.Files = append(d.Files, src.Read(SlotOfFileName(fn), fn))
	}
	return r.i, d, nil
}

// SlotOfFileName is the slot a scanner's file is for, by its name: the
// slot with any extension ("finger_r2.wsq" is finger_r2), in any case.
func SlotOfFileName(name string) string {
	name = filepath.Base(name)
	return strings.ToLower(strings.TrimSuffix(name, filepath.Ext(name)))
}

func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", enrollment.ErrTooLarge, limit)
	}
	return b, nil
}
