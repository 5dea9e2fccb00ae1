package enrollment

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

func TestSlots(t *testing.T) {
	kinds := map[string]int{}
	for _, s := range Slots {
		kinds[s.Kind]++
		if got, ok := SlotByName(s.Name); !ok || got.Name != s.Name {
			t.Fatalf("SlotByName(%q)", s.Name)
		}
		if len(s.Formats) == 0 || s.MaxBytes <= 0 || s.Label == "" || s.VI == "" {
			t.Fatalf("slot %+v incomplete", s)
		}
	}
	// DOMAIN.md §2.5: 13 finger slots (10 rolled, 3 slaps), a face, 2 irises.
	if kinds[SlotFinger] != 10 || kinds[SlotSlap] != 3 || kinds[SlotFace] != 1 || kinds[SlotIris] != 2 || kinds[SlotSignature] != 1 {
		t.Fatalf("slot kinds %v", kinds)
	}
	if len(Slots) > MaxBiometrics {
		t.Fatalf("%d slots, MaxBiometrics %d", len(Slots), MaxBiometrics)
	}
	for name, rank := range map[string]uint8{"face": 0, "finger_r2": 1, "finger_l2": 1, "finger_r1": 2, "slap_thumbs": 2, "iris_l": 3, "nose": 255} {
		if SlotRank(name) != rank {
			t.Fatalf("rank of %s = %d, want %d", name, SlotRank(name), rank)
		}
	}
}

func TestParseException(t *testing.T) {
	for in, want := range map[string]string{
		"amputated": ExceptionAmputated, " Cụt ngón ": ExceptionAmputated, "cut ngon": ExceptionAmputated,
		"băng bó": ExceptionBandaged, "UNABLE": ExceptionUnable, "not_due": ExceptionNotDue,
	} {
		if got, ok := ParseException(in); !ok || got != want {
			t.Fatalf("%q: %q %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "lost", "ok"} {
		if _, ok := ParseException(in); ok {
			t.Fatalf("%q accepted", in)
		}
	}
	for _, c := range ExceptionCodes {
		if got, ok := ParseException(c); !ok || got != c {
			t.Fatalf("code %q does not parse to itself", c)
		}
	}
}

// Test images: real encoders where the standard library has one (JPEG,
// PNG), hand-made containers for WSQ and JPEG 2000.
func testJPEG(t testing.TB, w, h int) []byte {
	var b bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func testPNG(t testing.TB, w, h int) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func testSeg(marker byte, body []byte) []byte {
	return append(append([]byte{0xFF, marker}, byte((len(body)+2)>>8), byte(len(body)+2)), body...)
}

func testWSQ(w, h int) []byte {
	b := []byte{0xFF, 0xA0}
	b = append(b, testSeg(0xA8, []byte("NIST_COM\n"))...)
	b = append(b, testSeg(0xA4, make([]byte, 20))...)
	b = append(b, testSeg(0xA2, []byte{0, 255, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 0, 0, 0, 0, 0, 0, 0, 0, 1})...)
	b = append(b, testSeg(0xA3, []byte{1})...)
	b = append(b, 1, 2, 3, 0xFF, 0x00, 4)
	return append(b, 0xFF, 0xA1)
}

func be32b(v int) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

func testBox(typ string, body []byte) []byte {
	return append(append(be32b(8+len(body)), typ...), body...)
}

func testJ2K(w, h int) []byte {
	siz := []byte{0, 0}
	for _, v := range []int{w, h, 0, 0, w, h, 0, 0} {
		siz = append(siz, be32b(v)...)
	}
	siz = append(siz, 0, 1, 7, 1, 1)
	cs := append([]byte{0xFF, 0x4F}, testSeg(0x51, siz)...)
	cs = append(cs, 0xFF, 0x93, 9, 9, 9)
	return append(cs, 0xFF, 0xD9)
}

func testJP2(w, h int) []byte {
	b := append([]byte(nil), jp2Signature...)
	b = append(b, testBox("ftyp", []byte("jp2 \x00\x00\x00\x00jp2 "))...)
	ihdr := append(append(be32b(h), be32b(w)...), 0, 1, 7, 7, 0, 0)
	b = append(b, testBox("jp2h", testBox("ihdr", ihdr))...)
	return append(b, testBox("jp2c", testJ2K(w, h))...)
}

func TestInspectImage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		b      []byte
		format string
		w, h   int
	}{
		{"jpeg", testJPEG(t, 120, 160), FormatJPEG, 120, 160},
		{"png", testPNG(t, 300, 200), FormatPNG, 300, 200},
		{"wsq", testWSQ(800, 750), FormatWSQ, 800, 750},
		{"j2k codestream", testJ2K(640, 480), FormatJP2, 640, 480},
		{"jp2 file", testJP2(640, 480), FormatJP2, 640, 480},
		{"jpeg padded with zeros", append(testJPEG(t, 40, 40), 0, 0, 0), FormatJPEG, 40, 40},
	} {
		info, err := InspectImage(tc.b)
		if err != nil || info != (ImageInfo{tc.format, tc.w, tc.h}) {
			t.Errorf("%s: %+v %v", tc.name, info, err)
		}
	}
	jp := testJPEG(t, 100, 100)
	bomb := bytes.Clone(testPNG(t, 20, 20))
	copy(bomb[16:], be32b(1<<20))
	copy(bomb[20:], be32b(1<<20))
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrUnknownFormat},
		{"text", []byte("hello, this is not an image"), ErrUnknownFormat},
		{"jpeg cut short", jp[:len(jp)/2], ErrBadImage},
		{"jpeg with a zip appended (polyglot)", append(bytes.Clone(jp), 'P', 'K', 3, 4, 1, 2), ErrBadImage},
		{"jpeg header only", jp[:4], ErrBadImage},
		{"wsq without frame", append([]byte{0xFF, 0xA0}, testSeg(0xA3, []byte{1})...), ErrBadImage},
		{"png without IEND", testPNG(t, 10, 10)[:40], ErrBadImage},
		{"jp2 without header box", append(append([]byte(nil), jp2Signature...), testBox("jp2c", testJ2K(4, 4))...), ErrBadImage},
		{"jp2 box past the end", append(append([]byte(nil), jp2Signature...), 0, 0, 0x10, 0, 'j', 'p', '2', 'h'), ErrBadImage},
	} {
		if _, err := InspectImage(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// A decompression bomb's header parses, and CheckFile refuses it.
	if _, fs := CheckFile("finger_r1", "bomb.png", bomb); len(fs) != 1 || fs[0].Code != "file.dimensions" {
		t.Errorf("bomb: %v", fs)
	}
}

func FuzzInspectImage(f *testing.F) {
	f.Add(testJPEG(f, 16, 16))
	f.Add(testPNG(f, 16, 16))
	f.Add(testWSQ(16, 16))
	f.Add(testJP2(16, 16))
	f.Add(testJ2K(16, 16))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := InspectImage(b)
		if err == nil && (info.Format == "" || info.Width <= 0 || info.Height <= 0) {
			t.Fatalf("accepted %+v", info)
		}
		if info.Format != DetectFormat(b) {
			t.Fatalf("format %q, detect %q", info.Format, DetectFormat(b))
		}
	})
}

// fileRuleCases: a capture's files (and the record's own biometric
// entries) that BuildBiometrics must refuse, with the finding's field.
var fileRuleCases = []struct {
	name  string
	rec   []BlobRef
	files []DossierFile
	field string
	code  string
}{
	{"unknown slot", nil, []DossierFile{{Slot: "nose", Name: "n.jpg", Data: []byte{1}}}, "files.nose", "file.slot_unknown"},
	{"slot twice", nil, []DossierFile{{Slot: "face", Name: "a.jpg", Data: []byte{1}}, {Slot: "face", Name: "b.jpg", Data: []byte{1}}}, "files.face", "file.slot_twice"},
	{"file and exception", []BlobRef{{Kind: "finger_l2", Exception: "amputated"}}, []DossierFile{{Slot: "finger_l2", Name: "l2.wsq", Data: []byte{1}}}, "files.finger_l2", "file.slot_twice"},
	{"missing", nil, []DossierFile{{Slot: "face", Name: "gone.jpg", Missing: true}}, "files.face", "file.missing"},
	{"unreadable", nil, []DossierFile{{Slot: "face", Name: "locked.jpg", ReadErr: "permission denied"}}, "files.face", "file.unreadable"},
	{"empty", nil, []DossierFile{{Slot: "face", Name: "zero.jpg", Data: []byte{}}}, "files.face", "file.empty"},
	{"too large", nil, []DossierFile{{Slot: "finger_r1", Name: "big.wsq", TooLarge: true, Size: 5 << 20}}, "files.finger_r1", "file.too_large"},
	{"not an image", nil, []DossierFile{{Slot: "face", Name: "face.jpg", Data: []byte("%PDF-1.7 a form")}}, "files.face", "file.unknown_type"},
	{"png portrait", nil, []DossierFile{{Slot: "face", Name: "face.png", Data: testPNG(nil, 300, 400)}}, "files.face", "file.wrong_type"},
	{"cut short", nil, []DossierFile{{Slot: "finger_r2", Name: "r2.wsq", Data: testWSQ(800, 750)[:40]}}, "files.finger_r2", "file.damaged"},
	{"tiny", nil, []DossierFile{{Slot: "iris_l", Name: "l.jp2", Data: testJP2(8, 8)}}, "files.iris_l", "file.dimensions"},
	{"slot with nothing", nil, []DossierFile{{Slot: "finger_l3", Name: ""}}, "files.finger_l3", "biometrics.no_file"},
	{"record entry with nothing", []BlobRef{{Kind: "finger_l3"}}, nil, "biometrics[0]", "biometrics.no_file"},
	{"hash from input", []BlobRef{{Kind: "face", SHA256: strings.Repeat("ab", 32), Size: 10}}, nil, "biometrics[0].sha256", "biometrics.ref_from_input"},
	{"bad exception in files", nil, []DossierFile{{Slot: "finger_l3", Exception: "lost it"}}, "files.finger_l3", "biometrics.exception_unknown"},
}

func TestBuildBiometrics(t *testing.T) {
	for _, tc := range fileRuleCases {
		e := validEnrollment()
		e.Biometrics = tc.rec
		refs, fs := BuildBiometrics(&e, tc.files)
		f, ok := findFinding(fs, tc.field, tc.code)
		if !ok || !fs.Rejected() {
			t.Errorf("%s: want %s on %s, got %v (refs %v)", tc.name, tc.code, tc.field, fs, refs)
			continue
		}
		checkFinding(t, f)
		if strings.HasPrefix(tc.field, "files.") && tc.files[0].Name != "" && !strings.Contains(f.Message, tc.files[0].Name) && tc.code != "file.slot_unknown" {
			t.Errorf("%s: message %q does not name the file", tc.name, f.Message)
		}
	}
	// A whole dossier: references computed from the bytes, in capture
	// order, exceptions kept (aliases stored as codes), Validate clean.
	e := validEnrollment()
	e.Biometrics = []BlobRef{{Kind: "finger_l4", Exception: "cụt ngón"}}
	files := []DossierFile{{Slot: "iris_r", Name: "r.jp2", Data: testJP2(640, 480)}, {Slot: "face", Name: "face.jpg", Data: testJPEG(t, 300, 400)}}
	for _, s := range Slots {
		if (s.Kind == SlotFinger || s.Kind == SlotSlap) && s.Name != "finger_l4" {
			files = append(files, DossierFile{Slot: s.Name, Name: s.Name + ".wsq", Data: testWSQ(800, 750)})
		}
	}
	files = append(files, DossierFile{Slot: "iris_l", Exception: "unable"})
	refs, fs := BuildBiometrics(&e, files)
	if len(fs) != 0 {
		t.Fatalf("findings: %v", fs)
	}
	if len(refs) != 16 || refs[0].Kind != "face" || refs[0].Size != int64(len(files[1].Data)) || refs[len(refs)-1].Kind != "iris_l" {
		t.Fatalf("refs %+v", refs)
	}
	for _, r := range refs {
		if r.Kind == "finger_l4" && r.Exception != ExceptionAmputated {
			t.Fatalf("alias not stored as its code: %+v", r)
		}
	}
	e.Biometrics = refs
	if fs := Validate(&e, testCtx); len(fs) != 0 {
		t.Fatalf("a built dossier does not validate: %v", fs)
	}
}

func init() {
	hash := strings.Repeat("0f", 32)
	ruleCases = append(ruleCases,
		ruleCase{"biometrics ok", func(e *Enrollment) {
			e.Biometrics = []BlobRef{{Kind: "face", SHA256: hash, Size: 1000}, {Kind: "iris_l", Exception: "not_due"}}
		}, nil, "", ""},
		ruleCase{"biometric slot unknown", func(e *Enrollment) { e.Biometrics = []BlobRef{{Kind: "nose", SHA256: hash, Size: 1}} }, nil, "biometrics[0].kind", "biometrics.slot_unknown"},
		ruleCase{"biometric slot twice", func(e *Enrollment) {
			e.Biometrics = []BlobRef{{Kind: "face", SHA256: hash, Size: 1}, {Kind: "face", SHA256: hash, Size: 1}}
		}, nil, "biometrics[1].kind", "biometrics.slot_twice"},
		ruleCase{"biometric exception unknown", func(e *Enrollment) { e.Biometrics = []BlobRef{{Kind: "iris_l", Exception: "lost"}} }, nil, "biometrics[0].exception", "biometrics.exception_unknown"},
		ruleCase{"biometric hash short", func(e *Enrollment) { e.Biometrics = []BlobRef{{Kind: "face", SHA256: "abc", Size: 1}} }, nil, "biometrics[0].sha256", "biometrics.ref_invalid"},
		ruleCase{"biometric size past the slot", func(e *Enrollment) { e.Biometrics = []BlobRef{{Kind: "signature", SHA256: hash, Size: 1 << 30}} }, nil, "biometrics[0].sha256", "biometrics.ref_invalid"},
		ruleCase{"biometric hash and exception", func(e *Enrollment) {
			e.Biometrics = []BlobRef{{Kind: "face", SHA256: hash, Size: 1, Exception: "unable"}}
		}, nil, "biometrics[0]", "biometrics.both"},
		ruleCase{"biometric slot empty", func(e *Enrollment) { e.Biometrics = []BlobRef{{Kind: "face"}} }, nil, "biometrics[0]", "biometrics.empty"},
		ruleCase{"fingers missing", func(e *Enrollment) { e.Biometrics = []BlobRef{{Kind: "slap_r4", SHA256: hash, Size: 1}} }, nil, "biometrics", "biometrics.fingers_missing"},
	)
}
