package synth

import (
	"bytes"
	"compress/flate"
	"testing"

	"fieldsync/enrollment"
)

// Every generated file passes the capture's checks, has its size, is the
// same every time, and does not compress (real images' coded data does
// not): a dossier per capture at DOMAIN.md §6.4's sizes.
func TestDossierFiles(t *testing.T) {
	g, err := New(Config{Count: 300, Seed: 7, Noise: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	formats := map[string]int{}
	exceptions := 0
	var total, compressed int64
	dossiers := 0
	for {
		rec, ok := g.Next()
		if !ok {
			break
		}
		dossiers++
		var files []enrollment.DossierFile
		var size int64
		for _, b := range rec.Blobs {
			if b.Exception != "" {
				exceptions++
				files = append(files, enrollment.DossierFile{Slot: b.Slot, Exception: b.Exception})
				continue
			}
			data := b.Bytes()
			if !bytes.Equal(data, b.Bytes()) {
				t.Fatalf("%s: bytes differ between calls", b.Slot)
			}
			if d := len(data) - b.Size; d < -500 || d > b.Size/100+500 {
				t.Fatalf("%s %s: %d bytes, spec %d", b.Slot, b.Format, len(data), b.Size)
			}
			if _, fs := enrollment.CheckFile(b.Slot, b.Slot+b.Ext(), data); len(fs) > 0 {
				t.Fatalf("%s %s: %v", b.Slot, b.Format, fs)
			}
			formats[b.Format]++
			size += int64(len(data))
			if dossiers <= 5 {
				var c bytes.Buffer
				w, _ := flate.NewWriter(&c, flate.BestCompression)
				w.Write(data)
				w.Close()
				total += int64(len(data))
				compressed += int64(c.Len())
			}
			files = append(files, enrollment.DossierFile{Slot: b.Slot, Name: b.Slot + b.Ext(), Data: data})
		}
		if size < 450_000 || size > 1_500_000 {
			t.Fatalf("line %d: dossier of %d bytes, want §6.4's 0.5–1.5 MB", rec.Line, size)
		}
		e := rec.Enrollment
		refs, fs := enrollment.BuildBiometrics(&e, files)
		if fs.Rejected() {
			t.Fatalf("line %d: %v", rec.Line, fs)
		}
		e.Biometrics = refs
		for _, f := range enrollment.Validate(&e, enrollment.Context{Now: e.Capture.CapturedAt.AddDate(0, 0, 1)}) {
			if f.Code == "biometrics.fingers_missing" || f.Field == "biometrics" {
				t.Fatalf("line %d: %v", rec.Line, f)
			}
		}
	}
	if float64(compressed) < 0.98*float64(total) {
		t.Fatalf("files compress to %d of %d bytes: not like coded images", compressed, total)
	}
	for _, f := range []string{enrollment.FormatJPEG, enrollment.FormatJP2, enrollment.FormatWSQ, enrollment.FormatPNG} {
		if formats[f] == 0 {
			t.Fatalf("no %s file among %v", f, formats)
		}
	}
	t.Logf("%d dossiers, formats %v, exceptions %d, flate -9 keeps %.1f%%", dossiers, formats, exceptions, 100*float64(compressed)/float64(total))
}
