package datadir

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"fieldsync/replication"
)

// ReportDir holds a data directory's sealed reports (e.g. the rows an
// import rejected: they quote citizens' data, so they are never written in
// the clear).
const ReportDir = "reports"

// ReportSuffix ends every sealed report's file name.
const ReportSuffix = ".sealed"

// Limits of the sealed report format.
const (
	// MaxReportRecord bounds one record's plaintext.
	MaxReportRecord = 1 << 20
	// MaxReportRecords bounds the records of one report (an import
	// reports at most one per input row).
	MaxReportRecords = 1 << 20
	// MaxReports bounds how many reports ListReports returns (newest).
	MaxReports = 1000
)

// reportMagic starts a sealed report; a 16-byte random file ID follows.
var reportMagic = []byte("FSREPORT1\n")

const reportIDSize = 16

// A sealed report is reportMagic, a random file ID, then records: a 4-byte
// big-endian length n, then n bytes of GCM nonce and ciphertext. Each
// record's additional data is the file ID and the record's index, so
// records cannot be moved between files or reordered unnoticed.
//
// ReportWriter appends records to a new sealed report. Records go through
// a buffer; Close flushes and syncs. Not safe for concurrent use.
type ReportWriter struct {
	f    *os.File
	w    *bufio.Writer
	aead cipher.AEAD
	id   [reportIDSize]byte
	n    uint64
	name string
}

var reportKind = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// CreateReport starts a sealed report in DIR/reports named
// KIND-TIME-RANDOM.sealed, mode 0600, and returns its writer.
func (k *Keyring) CreateReport(kind string) (*ReportWriter, error) {
	if !reportKind.MatchString(kind) {
		return nil, fmt.Errorf("datadir: report kind %q: want lowercase letters, digits and dashes", kind)
	}
	dir := filepath.Join(k.dir, ReportDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("datadir: %w", err)
	}
	var tag [3]byte
	if _, err := rand.Read(tag[:]); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s-%s-%x%s", kind, time.Now().UTC().Format("20060102T150405Z"), tag, ReportSuffix)
	return k.newReportWriter(filepath.Join(dir, name), name)
}

// newReportWriter starts a sealed report in a new file at path.
func (k *Keyring) newReportWriter(path, name string) (*ReportWriter, error) {
	aead, err := aeadFor(k.master, purposeReport)
	if err != nil {
		return nil, err
	}
	rw := &ReportWriter{aead: aead, name: name}
	if _, err := rand.Read(rw.id[:]); err != nil {
		return nil, err
	}
	rw.f, err = os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("datadir: report: %w", err)
	}
	rw.w = bufio.NewWriter(rw.f)
	rw.w.Write(reportMagic)
	rw.w.Write(rw.id[:])
	return rw, nil
}

// resealReports re-encrypts every report of the directory under newKey, one
// file at a time through a temporary file and a rename (Rekey's step).
// A report the new key already opens is done; one neither key opens stops
// the rekey, naming it.
func resealReports(dir string, oldKey, newKey []byte) error {
	reports, err := ListReports(dir)
	if err != nil {
		return err
	}
	oldK, newK := &Keyring{dir: dir, master: oldKey}, &Keyring{dir: dir, master: newKey}
	for _, r := range reports {
		if newK.ReadReport(r.Name, func([]byte) error { return nil }) == nil {
			continue
		}
		if err := resealReport(oldK, newK, r.Name); err != nil {
			return fmt.Errorf("datadir: rekey: report %s (move it out of %s if it is damaged): %w", r.Name, ReportDir, err)
		}
	}
	return nil
}

func resealReport(oldK, newK *Keyring, name string) error {
	path := filepath.Join(oldK.dir, ReportDir, name)
	tmp := filepath.Join(oldK.dir, ReportDir, ".tmp-"+name)
	os.Remove(tmp) // left by an interrupted earlier run
	w, err := newK.newReportWriter(tmp, name)
	if err != nil {
		return err
	}
	if err := oldK.ReadReport(name, w.Add); err != nil {
		w.Discard()
		return err
	}
	if err := w.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// Name is the report's file name in DIR/reports.
func (rw *ReportWriter) Name() string { return rw.name }

// Add seals one record (at most MaxReportRecord bytes).
func (rw *ReportWriter) Add(record []byte) error {
	if len(record) > MaxReportRecord {
		return fmt.Errorf("%w: report record of %d bytes, limit %d", replication.ErrTooLarge, len(record), MaxReportRecord)
	}
	if rw.n >= MaxReportRecords {
		return fmt.Errorf("%w: report %s has %d records, the limit", replication.ErrTooLarge, rw.name, MaxReportRecords)
	}
	nonce := make([]byte, rw.aead.NonceSize(), rw.aead.NonceSize()+len(record)+rw.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	sealed := rw.aead.Seal(nonce, nonce, record, reportAD(rw.id[:], rw.n))
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(sealed)))
	rw.w.Write(n[:])
	if _, err := rw.w.Write(sealed); err != nil {
		return fmt.Errorf("datadir: report %s: %w", rw.name, err)
	}
	rw.n++
	return nil
}

// Close flushes, syncs and closes the report.
func (rw *ReportWriter) Close() error {
	err := rw.w.Flush()
	if err == nil {
		err = rw.f.Sync()
	}
	if cerr := rw.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("datadir: report %s: %w", rw.name, err)
	}
	return nil
}

// Discard closes and removes the report (nothing was worth keeping).
func (rw *ReportWriter) Discard() error {
	rw.f.Close()
	return os.Remove(rw.f.Name())
}

func reportAD(id []byte, i uint64) []byte {
	return binary.BigEndian.AppendUint64(bytes.Clone(id), i)
}

// ReportInfo describes one sealed report.
type ReportInfo struct {
	Name    string    `json:"name"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
}

// ListReports lists the sealed reports of the data directory at path,
// oldest first (at most MaxReports, the newest). It needs no key.
func ListReports(path string) ([]ReportInfo, error) {
	ents, err := os.ReadDir(filepath.Join(path, ReportDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("datadir: %w", err)
	}
	var out []ReportInfo
	for _, e := range ents {
		if e.IsDir() || filepath.Ext(e.Name()) != ReportSuffix || strings.HasPrefix(e.Name(), ".") { // .tmp-: a rekey's rewrite
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, ReportInfo{Name: e.Name(), Size: fi.Size(), ModTime: fi.ModTime()})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].ModTime.Equal(out[j].ModTime) {
			return out[i].ModTime.Before(out[j].ModTime)
		}
		return out[i].Name < out[j].Name
	})
	if len(out) > MaxReports {
		out = out[len(out)-MaxReports:]
	}
	return out, nil
}

// ReadReport opens the sealed report name (a file name in DIR/reports) and
// calls fn with each record in order. A report cut short by a crash yields
// the records before the cut and then an error.
func (k *Keyring) ReadReport(name string, fn func(record []byte) error) error {
	if name != filepath.Base(name) || filepath.Ext(name) != ReportSuffix {
		return fmt.Errorf("datadir: report %q: want a file name from DIR/%s ending in %s", name, ReportDir, ReportSuffix)
	}
	f, err := os.Open(filepath.Join(k.dir, ReportDir, name))
	if err != nil {
		return fmt.Errorf("datadir: report: %w", err)
	}
	defer f.Close()
	if err := k.readReport(bufio.NewReader(f), fn); err != nil {
		return fmt.Errorf("datadir: report %s: %w", name, err)
	}
	return nil
}

// readReport decodes a sealed report, bounded by the format's limits.
func (k *Keyring) readReport(r io.Reader, fn func([]byte) error) error {
	aead, err := aeadFor(k.master, purposeReport)
	if err != nil {
		return err
	}
	head := make([]byte, len(reportMagic)+reportIDSize)
	if _, err := io.ReadFull(r, head); err != nil || !bytes.Equal(head[:len(reportMagic)], reportMagic) {
		return fmt.Errorf("%w: not a sealed report", replication.ErrMalformed)
	}
	id := head[len(reportMagic):]
	maxSealed := aead.NonceSize() + MaxReportRecord + aead.Overhead()
	buf := make([]byte, 0, 4096)
	for i := uint64(0); ; i++ {
		var n [4]byte
		if _, err := io.ReadFull(r, n[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("%w: record %d: truncated length", replication.ErrMalformed, i)
		}
		if i >= MaxReportRecords {
			return fmt.Errorf("%w: more than %d records", replication.ErrTooLarge, MaxReportRecords)
		}
		size := int(binary.BigEndian.Uint32(n[:]))
		if size < aead.NonceSize()+aead.Overhead() || size > maxSealed {
			return fmt.Errorf("%w: record %d of %d bytes", replication.ErrMalformed, i, size)
		}
		if cap(buf) < size {
			buf = make([]byte, 0, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("%w: record %d: truncated", replication.ErrMalformed, i)
		}
		plain, err := aead.Open(nil, buf[:aead.NonceSize()], buf[aead.NonceSize():], reportAD(id, i))
		if err != nil {
			return fmt.Errorf("%w: record %d: %v (wrong key, or the file was altered)", replication.ErrMalformed, i, errOpen)
		}
		if err := fn(plain); err != nil {
			return err
		}
	}
}
