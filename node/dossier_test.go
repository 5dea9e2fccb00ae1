package node_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fieldsync/dossier"
	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/node"
	"fieldsync/replication/blob"
)

// synthDossiers returns n generated dossiers with their files.
func synthDossiers(t *testing.T, n int, seed uint64) []node.Dossier {
	t.Helper()
	g, err := synth.New(synth.Config{Count: n, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	var out []node.Dossier
	for {
		r, ok := g.Next()
		if !ok {
			return out
		}
		out = append(out, node.Dossier{Record: r.Enrollment, Files: r.Files()})
	}
}

func blobUsage(t *testing.T, n *node.Node) blob.Usage {
	t.Helper()
	u, err := n.Dir().Blobs.Usage()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A saved dossier's record references every file by the hash of its
// bytes, and every blob is in the store, verified, before the receipt.
func TestSaveDossier(t *testing.T) {
	n := newNode(t)
	ds := synthDossiers(t, 3, 11)
	for i := range ds {
		rc, err := n.SaveDossier(&ds[i])
		if err != nil {
			t.Fatal(err)
		}
		e, err := n.Dir().Log.Get(rc.ID)
		if err != nil {
			t.Fatal(err)
		}
		refs, err := dossier.RefsOf(&e)
		if err != nil {
			t.Fatal(err)
		}
		files := 0
		for _, f := range ds[i].Files {
			if f.Data == nil {
				continue
			}
			files++
			found := false
			for _, r := range refs {
				found = found || (r.Slot == f.Slot && r.ID == blob.IDOf(f.Data))
			}
			if !found {
				t.Fatalf("%s: no reference computed from its bytes in %v", f.Slot, refs)
			}
			if err := blob.Check(n.Dir().Blobs, blob.HashOf(f.Data)); err != nil {
				t.Fatalf("%s: %v", f.Slot, err)
			}
		}
		if len(refs) != files {
			t.Fatalf("%d refs for %d files", len(refs), files)
		}
	}
	// The same dossier saved again stores no blob twice.
	before := blobUsage(t, n)
	if _, err := n.SaveDossier(&ds[0]); err != nil {
		t.Fatal(err)
	}
	if after := blobUsage(t, n); after.Blobs != before.Blobs || after.Bytes != before.Bytes {
		t.Fatalf("blobs stored twice: %+v -> %+v", before, after)
	}
}

// A missing, unreadable, oversized or wrong-type file, a hash given
// instead of a file, or a slot without file or exception: the record is
// rejected with a message naming the file and the slot, and nothing of
// it is written — neither the record nor any of its blobs.
func TestBadFileRejectsTheDossier(t *testing.T) {
	n := newNode(t)
	good := synthDossiers(t, 1, 12)[0]
	pdf := []byte("%PDF-1.7\n...")
	cases := map[string]struct {
		mutate func(d *node.Dossier)
		slot   string
		name   string
		code   string
	}{
		"wrong type":   {func(d *node.Dossier) { d.Files[0].Data, d.Files[0].Name = pdf, "portrait.jpg" }, "face", "portrait.jpg", "file.unknown_type"},
		"png portrait": {func(d *node.Dossier) { d.Files[0].Data = d.Files[len(d.Files)-1].Data }, "face", "face.jpg", "file.wrong_type"},
		"missing":      {func(d *node.Dossier) { d.Files[1] = node.File{Slot: d.Files[1].Slot, Name: "gone.wsq", Missing: true} }, "", "gone.wsq", "file.missing"},
		"oversized": {func(d *node.Dossier) {
			d.Files[1] = node.File{Slot: d.Files[1].Slot, Name: "big.wsq", TooLarge: true, Size: 9 << 20}
		}, "", "big.wsq", "file.too_large"},
		"cut short":  {func(d *node.Dossier) { d.Files[0].Data = d.Files[0].Data[:len(d.Files[0].Data)/2] }, "face", "face", "file.damaged"},
		"empty slot": {func(d *node.Dossier) { d.Files[2] = node.File{Slot: d.Files[2].Slot} }, "", "", "biometrics.no_file"},
		"hash given": {func(d *node.Dossier) {
			d.Record.Biometrics = []enrollment.BlobRef{{Kind: "signature", SHA256: blob.HashOf([]byte("x")).String(), Size: 1}}
		}, "", "", "biometrics.ref_from_input"},
	}
	for name, tc := range cases {
		d := good
		d.Files = append([]node.File(nil), good.Files...)
		tc.mutate(&d)
		h, u := head(t, n), blobUsage(t, n)
		_, err := n.SaveDossier(&d)
		var rej *node.RejectedError
		if !errors.As(err, &rej) {
			t.Fatalf("%s: %v, want rejected", name, err)
		}
		f := findCode(rej.Findings, tc.code)
		if f == nil {
			t.Fatalf("%s: no %s in %v", name, tc.code, rej.Findings)
		}
		if tc.slot != "" && !strings.Contains(f.Field, tc.slot) {
			t.Fatalf("%s: finding on %q, want the slot %s", name, f.Field, tc.slot)
		}
		if tc.name != "" && !strings.Contains(f.Message, tc.name) {
			t.Fatalf("%s: message %q does not name the file", name, f.Message)
		}
		if head(t, n) != h || blobUsage(t, n) != u {
			t.Fatalf("%s: something was written", name)
		}
	}
}

func findCode(fs enrollment.Findings, code string) *enrollment.Finding {
	for i := range fs {
		if fs[i].Code == code {
			return &fs[i]
		}
	}
	return nil
}

// writeDossierFolders writes dossiers as person folders (record.json and
// SLOT.EXT files) under dir.
func writeDossierFolders(t *testing.T, dir string, ds []node.Dossier) {
	t.Helper()
	for i, d := range ds {
		p := filepath.Join(dir, fmt.Sprintf("%04d", i+1))
		must(t, os.MkdirAll(p, 0o700))
		rec := d.Record
		files := map[string]any{}
		for _, f := range d.Files {
			if f.Data == nil {
				files[f.Slot] = map[string]string{"exception": f.Exception}
				continue
			}
			must(t, os.WriteFile(filepath.Join(p, f.Name), f.Data, 0o600))
		}
		b, err := json.Marshal(rec)
		must(t, err)
		if len(files) > 0 {
			var top map[string]any
			must(t, json.Unmarshal(b, &top))
			top["files"] = files
			b, _ = json.Marshal(top)
		}
		must(t, os.WriteFile(filepath.Join(p, node.RecordFile), b, 0o600))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The three import layouts of docs/import-format.md carry the same
// dossiers: a folder per person, JSON lines with "files", CSV with
// SLOT_file and SLOT_exception columns. A bad file rejects its row only.
func TestImportDossierLayouts(t *testing.T) {
	ds := synthDossiers(t, 4, 13)
	files := t.TempDir()
	writeDossierFolders(t, files, ds)
	// Row 3's portrait is replaced by a text file.
	must(t, os.WriteFile(filepath.Join(files, "0003", "face.jpg"), []byte("not a photo"), 0o600))

	check := func(name string, st node.ImportStats, rej []node.RejectedRow, n *node.Node) {
		t.Helper()
		line := 3
		if name == "csv" {
			line = 4 // the header is line 1
		}
		if st.Accepted != 3 || st.Rejected != 1 || len(rej) != 1 || rej[0].Line != line {
			t.Fatalf("%s: %+v %+v", name, st, rej)
		}
		msg := rej[0].Reasons[0].Message
		if rej[0].Reasons[0].Field != "files.face" || !strings.Contains(msg, "face.jpg") {
			t.Fatalf("%s: reason %+v", name, rej[0].Reasons)
		}
		u := blobUsage(t, n)
		if u.Blobs < 3*14 {
			t.Fatalf("%s: %d blobs stored", name, u.Blobs)
		}
	}

	// Folders.
	n := newNode(t)
	var rej []node.RejectedRow
	st, err := n.ImportDir(files, node.ImportOptions{OnRejected: func(r node.RejectedRow) { rej = append(rej, r) }})
	must(t, err)
	check("folders", st, rej, n)
	if rej[0].Folder != "0003" {
		t.Fatalf("folder %q", rej[0].Folder)
	}

	// JSON lines naming the same files by path, relative to the import.
	var jl bytes.Buffer
	for i, d := range ds {
		b, _ := json.Marshal(d.Record)
		var top map[string]any
		json.Unmarshal(b, &top)
		fm := map[string]any{}
		for _, f := range d.Files {
			if f.Data == nil {
				fm[f.Slot] = map[string]string{"exception": f.Exception}
			} else {
				fm[f.Slot] = fmt.Sprintf("%04d/%s", i+1, f.Name)
			}
		}
		top["files"] = fm
		b, _ = json.Marshal(top)
		jl.Write(append(b, '\n'))
	}
	n = newNode(t)
	rej = nil
	st, err = n.Import(&jl, node.ImportOptions{Files: &node.FileSource{Base: files}, OnRejected: func(r node.RejectedRow) { rej = append(rej, r) }})
	must(t, err)
	check("jsonl", st, rej, n)

	// CSV: the record's columns and SLOT_file / SLOT_exception.
	var cb bytes.Buffer
	cols := []string{"full_name", "date_of_birth", "sex", "ethnicity_code", "nationality", "birth_registration_code", "birth_registration_code_list",
		"birth_registration_text", "permanent_residence_code", "permanent_residence_code_list", "permanent_residence_text", "commune_code", "code_list",
		"officer", "device", "captured_at", "personal_id"}
	var slots []string
	for _, s := range enrollment.Slots {
		slots = append(slots, s.Name)
		cols = append(cols, s.Name+"_file", s.Name+"_exception")
	}
	cb.WriteString(strings.Join(cols, ",") + "\n")
	for i, d := range ds {
		e := d.Record
		row := []string{e.FullName, e.DateOfBirth.String(), string(e.Sex), e.EthnicityCode, strings.Join(e.Nationality, ";"), e.BirthRegistration.UnitCode,
			e.BirthRegistration.CodeList, e.BirthRegistration.Text, e.PermanentResidence.UnitCode, e.PermanentResidence.CodeList, e.PermanentResidence.Text,
			e.Capture.CommuneCode, e.Capture.CodeList, e.Capture.Officer, e.Capture.Device, e.Capture.CapturedAt.Format("2006-01-02T15:04:05Z07:00"), e.PersonalID}
		for _, s := range slots {
			file, exc := "", ""
			for _, f := range d.Files {
				if f.Slot == s && f.Data != nil {
					file = fmt.Sprintf("%04d/%s", i+1, f.Name)
				} else if f.Slot == s {
					exc = f.Exception
				}
			}
			if file == "" && exc == "" {
				exc = "not_due" // a slot this capture had no file for (irises before 2024-07)
			}
			row = append(row, file, exc)
		}
		for j := range row {
			row[j] = `"` + strings.ReplaceAll(row[j], `"`, `""`) + `"`
		}
		cb.WriteString(strings.Join(row, ",") + "\n")
	}
	n = newNode(t)
	rej = nil
	st, err = n.Import(&cb, node.ImportOptions{Files: &node.FileSource{Base: files}, OnRejected: func(r node.RejectedRow) { rej = append(rej, r) }})
	must(t, err)
	check("csv", st, rej, n)
}

// An amendment may keep the images its target holds, never name others.
func TestAmendKeepsOnlyHeldRefs(t *testing.T) {
	n := newNode(t)
	d := synthDossiers(t, 1, 14)[0]
	rc, err := n.SaveDossier(&d)
	must(t, err)
	e, _ := n.Dir().Log.Get(rc.ID)
	var saved enrollment.Enrollment
	must(t, json.Unmarshal(e.Payload, &saved))
	saved.FullName += " Anh"
	if _, err := n.Amend(rc.ID, saved, "spelling"); err != nil {
		t.Fatalf("amend keeping the images: %v", err)
	}
	saved.Biometrics[0].SHA256 = blob.HashOf([]byte("another photo")).String()
	_, err = n.Amend(rc.ID, saved, "new photo without its file")
	var rej *node.RejectedError
	if !errors.As(err, &rej) || findCode(rej.Findings, "biometrics.ref_from_input") == nil {
		t.Fatalf("amend naming an image it does not hold: %v", err)
	}
}

// A disk too full for the blobs: the capture is refused with ErrDiskFull,
// and nothing of it is acknowledged.
func TestDiskFullWhileWritingBlobs(t *testing.T) {
	n := newNode(t)
	d := synthDossiers(t, 1, 15)[0]
	h := head(t, n)
	// Reopen the store with a floor no disk meets.
	full, err := n.Dir().Keyring().OpenBlobs(1 << 62)
	must(t, err)
	orig := n.Dir().Blobs
	n.Dir().Blobs = full
	defer func() { n.Dir().Blobs = orig }()
	_, err = n.SaveDossier(&d)
	if !errors.Is(err, blob.ErrDiskFull) {
		t.Fatalf("got %v, want ErrDiskFull", err)
	}
	if head(t, n) != h {
		t.Fatal("the record was written without its blobs")
	}
}
