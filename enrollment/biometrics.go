package enrollment

import "strings"

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

// Slots lists every slot in capture order.
var Slots = buildSlots()

var fingerNames = [5]struct{ en, vi string }{
	{"thumb", "ngón cái"}, {"index", "ngón trỏ"}, {"middle", "ngón giữa"}, {"ring", "ngón áp út"}, {"little", "ngón út"},
}

func buildSlots() []SlotSpec {
	fingers := []string{FormatWSQ, FormatPNG}
	out := []SlotSpec{{Name: "face", Kind: SlotFace, Formats: []string{FormatJPEG, FormatJP2}, MaxBytes: MaxFaceBytes, Rank: 0, Label: "portrait", VI: "ảnh chân dung"}}
	for _, hand := range []struct{ code, en, vi string }{{"r", "right", "phải"}, {"l", "left", "trái"}} {
		for i, f := range fingerNames {
			rank := uint8(2)
			if i == 1 {
				rank = 1
			}
			out = append(out, SlotSpec{Name: "finger_" + hand.code + string(rune('1'+i)), Kind: SlotFinger, Formats: fingers, MaxBytes: MaxFingerBytes, Rank: rank,
				Label: "rolled " + hand.en + " " + f.en, VI: "vân tay lăn " + f.vi + " " + hand.vi})
		}
	}
	out = append(out,
		SlotSpec{Name: "slap_r4", Kind: SlotSlap, Formats: fingers, MaxBytes: MaxSlapBytes, Rank: 2, Label: "flat slap of the 4 right fingers", VI: "vân tay 4 ngón phải"},
		SlotSpec{Name: "slap_l4", Kind: SlotSlap, Formats: fingers, MaxBytes: MaxSlapBytes, Rank: 2, Label: "flat slap of the 4 left fingers", VI: "vân tay 4 ngón trái"},
		SlotSpec{Name: "slap_thumbs", Kind: SlotSlap, Formats: fingers, MaxBytes: MaxSlapBytes, Rank: 2, Label: "flat slap of both thumbs", VI: "vân tay 2 ngón cái"},
		SlotSpec{Name: "iris_r", Kind: SlotIris, Formats: []string{FormatJP2, FormatPNG}, MaxBytes: MaxIrisBytes, Rank: 3, Label: "right iris", VI: "mống mắt phải"},
		SlotSpec{Name: "iris_l", Kind: SlotIris, Formats: []string{FormatJP2, FormatPNG}, MaxBytes: MaxIrisBytes, Rank: 3, Label: "left iris", VI: "mống mắt trái"},
		SlotSpec{Name: "signature", Kind: SlotSignature, Formats: []string{FormatPNG, FormatJPEG}, MaxBytes: MaxSignatureBytes, Rank: 3, Label: "signature", VI: "chữ ký"},
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
