package enrollment

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Biometric slots of a dossier (DOMAIN.md §2.5, Circular 60/2021 Art.
// 5(3)): the portrait, 13 finger images — 10 rolled prints and 3 flat
// slaps, each with a per-finger exception code when it cannot be taken —
// both irises (since 2024-07-01) and the citizen's signature.

// Image formats a slot may hold, detected from the bytes (DetectFormat).
const (
	FormatJPEG = "jpeg" // JFIF/EXIF JPEG: the portrait, a signature
	FormatJP2  = "jp2"  // JPEG 2000, as a JP2 file or a raw J2K codestream
	FormatWSQ  = "wsq"  // FBI Wavelet Scalar Quantization: fingerprints
	FormatPNG  = "png"  // lossless: fingerprints, irises, a signature
)

// Slot kinds.
const (
	SlotFace      = "face"
	SlotFinger    = "finger" // a rolled print
	SlotSlap      = "slap"   // a flat slap of 4 fingers or both thumbs
	SlotIris      = "iris"
	SlotSignature = "signature"
)

// SlotSpec describes one slot: what it holds, the formats it takes, the
// most bytes one of its files may have, and its Rank in transfer order.
type SlotSpec struct {
	Name     string // "face", "finger_r2", "slap_l4", "iris_r", ...
	Kind     string // SlotFace, SlotFinger, ...
	Formats  []string
	MaxBytes int64
	// Rank orders transfer: what a card needs first goes first. 0 the
	// portrait (printed on the card), 1 the two rolled index fingers
	// (printed on the back of the card and held on its chip), 2 the other
	// fingers, 3 irises and signature.
	Rank  uint8
	Label string // English, for messages
	VI    string // Vietnamese
	// MaxPixels bounds the dimensions an image's header may declare (a
	// decompression bomb declares billions).
	MaxPixels int
}

// Per-kind size limits. DOMAIN.md §6.4: a capture original portrait is
// 0.05–0.5 MB, a rolled WSQ print 15–30 KB, a slap 80–200 KB, an iris
// 20–40 KB compressed (about 300 KB raw). The limits leave room for a
// lossless PNG of the same image (a 500 ppi rolled print is ~250 KB raw,
// a slap ~1.2 MB) and refuse what no scanner makes.
const (
	MaxFaceBytes      = 2 << 20
	MaxFingerBytes    = 1 << 20
	MaxSlapBytes      = 3 << 20
	MaxIrisBytes      = 1 << 20
	MaxSignatureBytes = 512 << 10
)

// Pixel limits per kind: a 24-megapixel camera for the portrait; a
// rolled print at 500–1000 ppi is under 2,000 × 2,000; a 4-finger slap at
// 1000 ppi about 3,200 × 3,000; an ISO/IEC 19794-6 iris 640 × 480.
const (
	maxFacePixels      = 50_000_000
	maxFingerPixels    = 4_000_000
	maxSlapPixels      = 16_000_000
	maxIrisPixels      = 4_000_000
	maxSignaturePixels = 8_000_000
	// MinImageSide is the smallest width or height any slot takes.
	MinImageSide = 16
)

// Slots lists every slot in capture order.
var Slots = buildSlots()

var fingerNames = [5]struct{ en, vi string }{
	{"thumb", "ngón cái"}, {"index", "ngón trỏ"}, {"middle", "ngón giữa"}, {"ring", "ngón áp út"}, {"little", "ngón út"},
}

func buildSlots() []SlotSpec {
	fingers := []string{FormatWSQ, FormatPNG}
	out := []SlotSpec{{Name: "face", Kind: SlotFace, Formats: []string{FormatJPEG, FormatJP2}, MaxBytes: MaxFaceBytes, Rank: 0, Label: "portrait", VI: "ảnh chân dung", MaxPixels: maxFacePixels}}
	for _, hand := range []struct{ code, en, vi string }{{"r", "right", "phải"}, {"l", "left", "trái"}} {
		for i, f := range fingerNames {
			rank := uint8(2)
			if i == 1 {
				rank = 1
			}
			out = append(out, SlotSpec{Name: "finger_" + hand.code + string(rune('1'+i)), Kind: SlotFinger, Formats: fingers, MaxBytes: MaxFingerBytes, Rank: rank,
				Label: "rolled " + hand.en + " " + f.en, VI: "vân tay lăn " + f.vi + " " + hand.vi, MaxPixels: maxFingerPixels})
		}
	}
	out = append(out,
		SlotSpec{Name: "slap_r4", Kind: SlotSlap, Formats: fingers, MaxBytes: MaxSlapBytes, Rank: 2, Label: "flat slap of the 4 right fingers", VI: "vân tay 4 ngón phải", MaxPixels: maxSlapPixels},
		SlotSpec{Name: "slap_l4", Kind: SlotSlap, Formats: fingers, MaxBytes: MaxSlapBytes, Rank: 2, Label: "flat slap of the 4 left fingers", VI: "vân tay 4 ngón trái", MaxPixels: maxSlapPixels},
		SlotSpec{Name: "slap_thumbs", Kind: SlotSlap, Formats: fingers, MaxBytes: MaxSlapBytes, Rank: 2, Label: "flat slap of both thumbs", VI: "vân tay 2 ngón cái", MaxPixels: maxSlapPixels},
		SlotSpec{Name: "iris_r", Kind: SlotIris, Formats: []string{FormatJP2, FormatPNG}, MaxBytes: MaxIrisBytes, Rank: 3, Label: "right iris", VI: "mống mắt phải", MaxPixels: maxIrisPixels},
		SlotSpec{Name: "iris_l", Kind: SlotIris, Formats: []string{FormatJP2, FormatPNG}, MaxBytes: MaxIrisBytes, Rank: 3, Label: "left iris", VI: "mống mắt trái", MaxPixels: maxIrisPixels},
		SlotSpec{Name: "signature", Kind: SlotSignature, Formats: []string{FormatPNG, FormatJPEG}, MaxBytes: MaxSignatureBytes, Rank: 3, Label: "signature", VI: "chữ ký", MaxPixels: maxSignaturePixels},
	)
	return out
}

var slotIndex = func() map[string]int {
	m := make(map[string]int, len(Slots))
	for i, s := range Slots {
		m[s.Name] = i
	}
	return m
}()

// SlotByName returns the slot named name (exact, lowercase).
func SlotByName(name string) (SlotSpec, bool) {
	i, ok := slotIndex[name]
	if !ok {
		return SlotSpec{}, false
	}
	return Slots[i], true
}

// SlotRank returns a slot's transfer rank; an unknown slot goes last.
func SlotRank(name string) uint8 {
	if s, ok := SlotByName(name); ok {
		return s.Rank
	}
	return 255
}

// Exception codes: why a slot holds no image (Circular 60/2021: the
// operator records the condition of each finger that cannot be taken).
const (
	ExceptionAmputated = "amputated" // cụt: the finger (or eye) is missing
	ExceptionBandaged  = "bandaged"  // băng bó: injured, covered for now
	ExceptionDamaged   = "damaged"   // the skin is scarred or worn past capture
	ExceptionUnable    = "unable"    // disability or the citizen cannot take part
	ExceptionDevice    = "device"    // the scanner could not take it (retake later)
	ExceptionNotDue    = "not_due"   // not required (under 14, iris before 2024-07-01)
)

// exceptionAliases maps what officers and older exports write (Vietnamese,
// with or without diacritics) to the codes.
var exceptionAliases = map[string]string{
	ExceptionAmputated: ExceptionAmputated, "cụt": ExceptionAmputated, "cụt ngón": ExceptionAmputated, "cut": ExceptionAmputated, "cut ngon": ExceptionAmputated, "missing": ExceptionAmputated,
	ExceptionBandaged: ExceptionBandaged, "băng bó": ExceptionBandaged, "bang bo": ExceptionBandaged, "injured": ExceptionBandaged,
	ExceptionDamaged: ExceptionDamaged, "sẹo": ExceptionDamaged, "seo": ExceptionDamaged, "mòn": ExceptionDamaged, "scarred": ExceptionDamaged,
	ExceptionUnable: ExceptionUnable, "khuyết tật": ExceptionUnable, "khuyet tat": ExceptionUnable, "không lấy được": ExceptionUnable, "khong lay duoc": ExceptionUnable, "disabled": ExceptionUnable,
	ExceptionDevice: ExceptionDevice, "lỗi thiết bị": ExceptionDevice, "loi thiet bi": ExceptionDevice,
	ExceptionNotDue: ExceptionNotDue, "không yêu cầu": ExceptionNotDue, "khong yeu cau": ExceptionNotDue, "not required": ExceptionNotDue,
}

// ExceptionCodes lists the exception codes.
var ExceptionCodes = []string{ExceptionAmputated, ExceptionBandaged, ExceptionDamaged, ExceptionUnable, ExceptionDevice, ExceptionNotDue}

// ParseException reads an exception code or one of its Vietnamese or
// English aliases (case and surrounding space ignored; Vietnamese with or
// without diacritics).
func ParseException(s string) (string, bool) {
	c, ok := exceptionAliases[strings.ToLower(strings.TrimSpace(s))]
	return c, ok
}

// SlotNames lists the slot names, for messages.
func SlotNames() string {
	names := make([]string, len(Slots))
	for i, s := range Slots {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

var formatNames = map[string]string{FormatJPEG: "JPEG", FormatJP2: "JPEG 2000", FormatWSQ: "WSQ", FormatPNG: "PNG"}

func formatList(fs []string) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = formatNames[f]
	}
	return strings.Join(names, " or ")
}

// Rules of biometric files (at capture) and references (everywhere). The
// field of a file's finding is "files.SLOT"; its message names the file.
var biometricRules = map[string]ruleDef{
	"file.slot_unknown": {Reject, "a file is given for a slot that does not exist",
		"%q is not a biometric slot; the slots are %s",
		"%q không phải ô sinh trắc học; các ô là %s"},
	"file.slot_twice": {Reject, "a slot is given two files, or a file and an exception",
		"is given twice (%s); give one file or one exception code",
		"được khai hai lần (%s); chỉ khai một tệp hoặc một mã ngoại lệ"},
	"file.missing": {Reject, "a dossier's file does not exist",
		"file %q was not found — check its name and folder",
		"không tìm thấy tệp %q — kiểm tra tên và thư mục"},
	"file.unreadable": {Reject, "a dossier's file cannot be read",
		"file %q cannot be read: %s",
		"không đọc được tệp %q: %s"},
	"file.empty": {Reject, "a dossier's file is empty",
		"file %q is empty",
		"tệp %q rỗng"},
	"file.too_large": {Reject, "a dossier's file is larger than its slot allows",
		"file %q has %d bytes; a %s file may have at most %d",
		"tệp %q có %d byte; tệp %s tối đa %d byte"},
	"file.unknown_type": {Reject, "a dossier's file is not an image of a known format",
		"file %q is not a JPEG, JPEG 2000, WSQ or PNG image (judged by its first bytes, not its name)",
		"tệp %q không phải ảnh JPEG, JPEG 2000, WSQ hay PNG (xét theo các byte đầu, không theo tên)"},
	"file.wrong_type": {Reject, "a dossier's file is of a format its slot does not take",
		"file %q is a %s image; the %s takes %s",
		"tệp %q là ảnh %s; ô %s nhận %s"},
	"file.damaged": {Reject, "a dossier's file is damaged or cut short",
		"file %q: %s",
		"tệp %q: %s"},
	"file.dimensions": {Reject, "an image declares dimensions outside its slot's limits",
		"file %q declares %d×%d pixels; a %s has %d to %d pixels a side and at most %d in all",
		"tệp %q khai báo %d×%d điểm ảnh; %s có mỗi cạnh từ %d đến %d điểm và tổng tối đa %d"},
	"biometrics.no_file": {Reject, "a biometric slot has neither a file nor an exception code",
		"the %s slot has no file and no exception code; an empty slot needs one of %s",
		"ô %s không có tệp và không có mã ngoại lệ; ô trống cần một trong các mã %s"},
	"biometrics.ref_from_input": {Reject, "an input gives a biometric hash instead of the file",
		"gives hash %q: a reference is computed from its file at capture; give the file (docs/import-format.md)",
		"ghi sẵn mã băm %q: mã băm được tính từ tệp khi thu nhận; hãy cung cấp tệp (docs/import-format.md)"},
	"biometrics.slot_unknown": {Reject, "a biometric reference names a slot that does not exist",
		"%q is not a biometric slot; the slots are %s",
		"%q không phải ô sinh trắc học; các ô là %s"},
	"biometrics.slot_twice": {Reject, "two biometric references name the same slot",
		"slot %q appears twice",
		"ô %q xuất hiện hai lần"},
	"biometrics.exception_unknown": {Reject, "a biometric exception is not one of the codes",
		"%q is not an exception code; use one of %s",
		"%q không phải mã ngoại lệ; dùng một trong các mã %s"},
	"biometrics.ref_invalid": {Reject, "a biometric reference has a malformed hash or size",
		"hash %q with size %d: want 64 hex digits and 1 to %d bytes",
		"mã băm %q với kích thước %d: cần 64 chữ số hex và từ 1 đến %d byte"},
	"biometrics.both": {Reject, "a biometric reference has both a hash and an exception",
		"has both a hash and the exception %q; a slot holds an image or an exception",
		"vừa có mã băm vừa có ngoại lệ %q; mỗi ô chỉ có ảnh hoặc ngoại lệ"},
	"biometrics.empty": {Reject, "a biometric reference has neither a hash nor an exception",
		"names slot %q with neither an image nor an exception code",
		"ghi ô %q mà không có ảnh cũng không có mã ngoại lệ"},
	"biometrics.fingers_missing": {Warn, "a dossier with fingerprints lacks some finger slots",
		"no file or exception for %s: record each finger, or why it cannot be taken",
		"thiếu tệp hoặc mã ngoại lệ cho %s: ghi đủ từng ngón, hoặc lý do không lấy được"},
}

func init() {
	for code, d := range biometricRules {
		if _, dup := rules[code]; dup {
			panic("enrollment: rule " + code + " defined twice")
		}
		rules[code] = d
	}
}

// FileField is the field a finding about slot's file names.
func FileField(slot string) string { return "files." + slot }

// FileFinding builds the finding of rule code about the file name of
// slot; args follow the rule's message (after the file name).
func FileFinding(code, slot, name string, args ...any) Finding {
	return newFinding(FileField(slot), code, append([]any{name}, args...)...)
}

// CheckFile checks one biometric file against its slot: known slot, not
// empty, within the slot's size limit, an image of a format the slot takes
// (judged from its bytes), its container whole, and its declared
// dimensions within limits. name is how the input named the file (a path);
// every finding names it and the slot. It reads headers only.
func CheckFile(slot, name string, data []byte) (ImageInfo, Findings) {
	spec, ok := SlotByName(slot)
	if !ok {
		return ImageInfo{}, Findings{newFinding(FileField(slot), "file.slot_unknown", clip(slot), SlotNames())}
	}
	switch {
	case len(data) == 0:
		return ImageInfo{}, Findings{FileFinding("file.empty", slot, name)}
	case int64(len(data)) > spec.MaxBytes:
		return ImageInfo{}, Findings{FileFinding("file.too_large", slot, name, len(data), bi{spec.Label, spec.VI}, spec.MaxBytes)}
	}
	info, err := InspectImage(data)
	switch {
	case info.Format == "":
		return info, Findings{FileFinding("file.unknown_type", slot, name)}
	case !contains(spec.Formats, info.Format):
		return info, Findings{FileFinding("file.wrong_type", slot, name, formatNames[info.Format], bi{spec.Label, spec.VI}, formatList(spec.Formats))}
	case err != nil:
		return info, Findings{FileFinding("file.damaged", slot, name, err.Error())}
	case info.Width < MinImageSide || info.Height < MinImageSide || info.Width > spec.MaxPixels/MinImageSide ||
		info.Height > spec.MaxPixels/MinImageSide || int64(info.Width)*int64(info.Height) > int64(spec.MaxPixels):
		return info, Findings{FileFinding("file.dimensions", slot, name, info.Width, info.Height, bi{spec.Label, spec.VI},
			MinImageSide, spec.MaxPixels/MinImageSide, spec.MaxPixels)}
	}
	return info, nil
}

var hashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// biometrics checks the references of a record (rules biometrics.*): every
// slot known and named once; each reference either an image (a hash of 64
// lowercase hex digits and a size within the slot's limit) or an exception
// code, not both; and, for a dossier with fingerprints, a warning naming
// the finger slots with neither.
func (v *validator) biometrics() {
	seen := map[string]bool{}
	fingers := false
	for i, b := range v.e.Biometrics[:min(len(v.e.Biometrics), MaxBiometrics)] {
		field := fmt.Sprintf("biometrics[%d]", i)
		spec, ok := SlotByName(b.Kind)
		switch {
		case !ok:
			v.add(newFinding(field+".kind", "biometrics.slot_unknown", clip(b.Kind), SlotNames()))
			continue
		case seen[b.Kind]:
			v.add(newFinding(field+".kind", "biometrics.slot_twice", b.Kind))
			continue
		}
		seen[b.Kind] = true
		fingers = fingers || spec.Kind == SlotFinger || spec.Kind == SlotSlap
		switch {
		case b.SHA256 != "" && b.Exception != "":
			v.add(newFinding(field, "biometrics.both", clip(b.Exception)))
		case b.Exception != "":
			if _, ok := ParseException(b.Exception); !ok {
				v.add(newFinding(field+".exception", "biometrics.exception_unknown", clip(b.Exception), strings.Join(ExceptionCodes, ", ")))
			}
		case b.SHA256 == "":
			v.add(newFinding(field, "biometrics.empty", b.Kind))
		case !hashPattern.MatchString(b.SHA256) || b.Size <= 0 || b.Size > spec.MaxBytes:
			v.add(newFinding(field+".sha256", "biometrics.ref_invalid", clip(b.SHA256), b.Size, spec.MaxBytes))
		}
	}
	if !fingers {
		return
	}
	var missing []string
	for _, s := range Slots {
		if (s.Kind == SlotFinger || s.Kind == SlotSlap) && !seen[s.Name] {
			missing = append(missing, s.Name)
		}
	}
	if len(missing) > 0 {
		v.add(newFinding("biometrics", "biometrics.fingers_missing", strings.Join(missing, ", ")))
	}
}

// IrisDue reports whether a capture at t must take irises (Law on
// Identification 2023, in force from 2024-07-01).
func IrisDue(t time.Time) bool { return !t.Before(irisFrom) }

var irisFrom = time.Date(2024, 7, 1, 0, 0, 0, 0, time.FixedZone("ICT", 7*3600))

// DossierFile is what a capture gives for one slot: a file's bytes, or an
// exception code (Data nil), or the reason its file could not be read.
type DossierFile struct {
	Slot string
	// Name is how the input named the file (a path, an upload's name):
	// every finding about it quotes it.
	Name string
	Data []byte
	// TooLarge is set, with Size, when the file was not read because it is
	// larger than its slot takes (a reader stops at the limit).
	TooLarge bool
	Size     int64
	// Missing: the file does not exist. ReadErr: it could not be read.
	Missing bool
	ReadErr string
	// Exception is the code of an empty slot (ParseException's aliases
	// are accepted and stored as the code).
	Exception string
}

// BuildBiometrics checks a capture's files and the record's own biometric
// entries, and returns the references the record must carry: each file's
// slot, SHA-256 and size computed from its bytes, and each empty slot's
// exception code. The record may list exceptions itself (an entry with a
// slot and an exception); an entry that gives a hash is refused — a
// reference is computed from its file, never taken from input. Every slot
// once. The findings (rules file.* and biometrics.*) name the slot and the
// file; with any Reject among them the references are not to be used.
func BuildBiometrics(e *Enrollment, files []DossierFile) ([]BlobRef, Findings) {
	var fs Findings
	var refs []BlobRef
	given := map[string]string{} // slot → what gave it, for slot_twice
	claim := func(slot, what string) bool {
		if prev, ok := given[slot]; ok {
			fs = append(fs, newFinding(FileField(slot), "file.slot_twice", prev+" and "+what))
			return false
		}
		given[slot] = what
		return true
	}
	for i, b := range e.Biometrics {
		field := fmt.Sprintf("biometrics[%d]", i)
		switch {
		case b.SHA256 != "":
			fs = append(fs, newFinding(field+".sha256", "biometrics.ref_from_input", clip(b.SHA256)))
		case b.Exception == "":
			fs = append(fs, newFinding(field, "biometrics.no_file", b.Kind, strings.Join(ExceptionCodes, ", ")))
		default:
			code, ok := ParseException(b.Exception)
			if _, known := SlotByName(b.Kind); !known {
				fs = append(fs, newFinding(field+".kind", "biometrics.slot_unknown", clip(b.Kind), SlotNames()))
			} else if !ok {
				fs = append(fs, newFinding(field+".exception", "biometrics.exception_unknown", clip(b.Exception), strings.Join(ExceptionCodes, ", ")))
			} else if claim(b.Kind, "exception "+code) {
				refs = append(refs, BlobRef{Kind: b.Kind, Exception: code})
			}
		}
	}
	for _, f := range files {
		if _, known := SlotByName(f.Slot); !known {
			fs = append(fs, newFinding(FileField(f.Slot), "file.slot_unknown", clip(f.Slot), SlotNames()))
			continue
		}
		if f.Exception != "" && f.Data == nil && !f.Missing && f.ReadErr == "" && !f.TooLarge {
			code, ok := ParseException(f.Exception)
			if !ok {
				fs = append(fs, newFinding(FileField(f.Slot), "biometrics.exception_unknown", clip(f.Exception), strings.Join(ExceptionCodes, ", ")))
			} else if claim(f.Slot, "exception "+code) {
				refs = append(refs, BlobRef{Kind: f.Slot, Exception: code})
			}
			continue
		}
		if !claim(f.Slot, fmt.Sprintf("file %q", clip(f.Name))) {
			continue
		}
		spec, _ := SlotByName(f.Slot)
		switch {
		case f.Missing:
			fs = append(fs, FileFinding("file.missing", f.Slot, f.Name))
			continue
		case f.ReadErr != "":
			fs = append(fs, FileFinding("file.unreadable", f.Slot, f.Name, f.ReadErr))
			continue
		case f.TooLarge:
			fs = append(fs, FileFinding("file.too_large", f.Slot, f.Name, f.Size, bi{spec.Label, spec.VI}, spec.MaxBytes))
			continue
		case f.Data == nil && f.Exception == "":
			fs = append(fs, newFinding(FileField(f.Slot), "biometrics.no_file", f.Slot, strings.Join(ExceptionCodes, ", ")))
			continue
		}
		if _, ffs := CheckFile(f.Slot, f.Name, f.Data); len(ffs) > 0 {
			fs = append(fs, ffs...)
			continue
		}
		sum := sha256.Sum256(f.Data)
		refs = append(refs, BlobRef{Kind: f.Slot, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(f.Data))})
	}
	if len(refs) > MaxBiometrics {
		fs = append(fs, newFinding("biometrics", "list.too_long", len(refs), MaxBiometrics))
	}
	// Capture order, whatever order the input gave.
	sort.SliceStable(refs, func(i, j int) bool { return slotIndex[refs[i].Kind] < slotIndex[refs[j].Kind] })
	return refs, fs
}
