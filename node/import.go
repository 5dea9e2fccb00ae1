package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"fieldsync/enrollment"
	"fieldsync/replication"
)

// Import formats.
const (
	FormatJSONLines = "jsonl"
	FormatCSV       = "csv"
)

// ImportStats counts what an import did. Warned records are also Accepted.
type ImportStats struct {
	Rows     int `json:"rows"`
	Accepted int `json:"accepted"`
	Warned   int `json:"warned"`
	Rejected int `json:"rejected"`
	// Groups is the number of durable group commits.
	Groups int `json:"groups"`
	// LastSeq is the seq of the last saved entry (the acknowledgement
	// watermark: everything up to it is on disk), LastHash its hash: the
	// chain makes it vouch for every entry before it too.
	LastSeq  uint64           `json:"last_seq"`
	LastHash replication.Hash `json:"last_hash"`
}

// ImportOptions configures Import.
type ImportOptions struct {
	// Format is FormatJSONLines or FormatCSV; empty detects it from the
	// first byte ('{' means JSON lines).
	Format string
	// OnRejected is called for each rejected row with its line number and
	// every reason (the CLI writes them to a report file). May be nil.
	OnRejected func(RejectedRow)
	// OnGroup is called after each durable group commit, with the running
	// totals: everything counted as accepted is on disk.
	OnGroup func(ImportStats)
	// Files reads the files rows name by path (the SLOT_file columns of a
	// CSV, "files" in JSON lines); nil reads none (the daemon's API takes
	// files inline).
	Files *FileSource
}

// RejectedRow is one line of the import report.
type RejectedRow struct {
	Line int `json:"line"`
	// Folder is the person's folder of an import of folders.
	Folder  string   `json:"folder,omitempty"`
	Reasons []Reason `json:"reasons"`
}

// Reason is one reason a row was refused.
type Reason struct {
	Field   string `json:"field,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

// Import reads JSON lines or CSV and saves every valid record with its
// files (see docs/import-format.md), in group commits of at most
// MaxGroupRecords records, MaxGroupBytes of records or MaxGroupBlobBytes of
// files. A bad row is reported and skipped; it never stops the import and
// never half-writes. An I/O or storage error stops it; what was
// acknowledged before stays.
func (n *Node) Import(r io.Reader, opts ImportOptions) (ImportStats, error) {
	dr, err := OpenDossiers(r, opts.Format, opts.Files)
	if err != nil {
		return ImportStats{}, err
	}
	return n.ImportFrom(dr, opts, nil)
}

// ImportDir imports a folder of person folders (or one person's folder):
// each holds record.json and a file per slot named by the slot
// ("face.jpg", "finger_r2.wsq"). Rows are the folders in name order; a
// rejected row names its folder.
func (n *Node) ImportDir(root string, opts ImportOptions) (ImportStats, error) {
	dr, err := OpenDossierDir(root)
	if err != nil {
		return ImportStats{}, err
	}
	return n.ImportFrom(dr, opts, dr.Folder)
}

// ImportFrom saves the dossiers dr yields, as Import does; folder, if not
// nil, names a row's folder in its report.
func (n *Node) ImportFrom(dr DossierReader, opts ImportOptions, folder func(int) string) (ImportStats, error) {
	var st ImportStats
	var group []Dossier
	var lines []int
	groupBytes, blobBytes := 0, 0
	rep := func(row RejectedRow) {
		if folder != nil {
			row.Folder = folder(row.Line)
		}
		report(opts.OnRejected, row)
	}
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		err := n.saveGroup(group, lines, &st, rep)
		group, lines, groupBytes, blobBytes = group[:0], lines[:0], 0, 0
		if err == nil && opts.OnGroup != nil {
			opts.OnGroup(st)
		}
		return err
	}
	for {
		line, d, err := dr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		st.Rows++
		if err != nil {
			if !IsRowError(err) {
				return st, err
			}
			st.Rejected++
			rep(RejectedRow{Line: line, Reasons: []Reason{{Message: err.Error()}}})
			continue
		}
		group, lines = append(group, d), append(lines, line)
		groupBytes += approxSize(&d.Record)
		for _, f := range d.Files {
			blobBytes += len(f.Data)
		}
		if len(group) == MaxGroupRecords || groupBytes >= MaxGroupBytes || blobBytes >= MaxGroupBlobBytes {
			if err := flush(); err != nil {
				return st, err
			}
		}
	}
	return st, flush()
}

// saveGroup saves one group and counts and reports its results.
func (n *Node) saveGroup(group []Dossier, lines []int, st *ImportStats, rep func(RejectedRow)) error {
	results, err := n.SaveDossiers(group)
	if err != nil {
		return err
	}
	st.Groups++
	var frozen error
	for i, res := range results {
		var rej *RejectedError
		if errors.Is(res.Err, ErrFrozen) {
			frozen = res.Err
			continue
		}
		if errors.As(res.Err, &rej) {
			st.Rejected++
			rep(RejectedRow{Line: lines[i], Reasons: ReasonsOf(rej.Findings)})
			continue
		}
		st.Accepted++
		if res.Receipt.Findings.Worst() >= enrollment.Warn {
			st.Warned++
		}
		if res.Receipt.ID.Seq > st.LastSeq {
			st.LastSeq, st.LastHash = res.Receipt.ID.Seq, res.Receipt.Hash
		}
	}
	return frozen // the freeze rule stops the import; what was saved stays
}

// ReasonsOf is the report's reasons for a rejection's findings.
func ReasonsOf(fs enrollment.Findings) []Reason {
	var out []Reason
	for _, f := range fs {
		if f.Severity == enrollment.Reject {
			out = append(out, Reason{Field: f.Field, Code: f.Code, Message: f.Message})
		}
	}
	return out
}

func report(fn func(RejectedRow), row RejectedRow) {
	if fn != nil {
		fn(row)
	}
}

// approxSize estimates a record's payload size for group bounds without
// encoding it twice: the text fields dominate.
func approxSize(e *enrollment.Enrollment) int {
	return 600 + len(e.FullName) + len(e.PermanentResidence.Text) + len(e.BirthRegistration.Text) + len(e.Hometown.Text)
}

// IsRowError reports whether a reader error concerns one row (report it,
// go on) as opposed to the input as a whole (stop): the enrollment readers
// return a *DecodeError for a bad row and anything else is fatal.
func IsRowError(err error) bool {
	var de *enrollment.DecodeError
	return errors.As(err, &de)
}

// IsInputError reports whether err refuses the input as a whole (not UTF-8
// text, a header that cannot be read, an unknown column): the user's
// input, which nothing of was written (an import stops there), as opposed
// to a failure of this replica.
func IsInputError(err error) bool {
	var de *enrollment.DecodeError
	return errors.As(err, &de)
}

// OpenDossiers checks the input is UTF-8 text (enrollment.OpenText: a
// UTF-8 BOM is skipped, UTF-16 and workbooks are refused saying what to
// do), detects the format and opens a reader of its dossiers; files reads
// the paths rows name (nil: none).
func OpenDossiers(r io.Reader, format string, files *FileSource) (DossierReader, error) {
	br, err := enrollment.OpenText(r, 64<<10)
	if err != nil {
		return nil, err
	}
	if format == "" {
		head, _ := br.Peek(512)
		head = bytes.TrimLeft(head, " \t\r\n")
		format = FormatCSV
		if len(head) > 0 && head[0] == '{' {
			format = FormatJSONLines
		}
	}
	switch format {
	case FormatJSONLines:
		return &jsonDossiers{lr: enrollment.NewJSONLinesReaderMax(br, MaxDossierLine), files: files}, nil
	case FormatCSV:
		cr, err := enrollment.NewCSVReader(br)
		if err != nil {
			return nil, err
		}
		return &csvDossiers{r: cr, files: files}, nil
	}
	return nil, fmt.Errorf("import: unknown format %q (want jsonl or csv)", format)
}
