package synth

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"time"

	"fieldsync/enrollment"
)

// BlobSpec is one biometric slot of a generated dossier: the file a
// capture would produce (its format, size and the seed of its bytes), or
// the exception code of a slot that could not be taken. Bytes makes the
// file; the same spec always makes the same bytes, so a generated
// universe's dossiers are as deterministic as its records.
type BlobSpec struct {
	Slot      string   `json:"slot"`
	Format    string   `json:"format,omitempty"`
	Size      int      `json:"size,omitempty"`
	Seed      [32]byte `json:"-"`
	Exception string   `json:"exception,omitempty"`
}

// Ext is the usual file extension of the spec's format.
func (b BlobSpec) Ext() string {
	switch b.Format {
	case enrollment.FormatJPEG:
		return ".jpg"
	case enrollment.FormatJP2:
		return ".jp2"
	case enrollment.FormatWSQ:
		return ".wsq"
	case enrollment.FormatPNG:
		return ".png"
	}
	return ""
}

// Blob sizes, DOMAIN.md §6.4 [E, anchored on C]: face capture 0.05–0.5
// MB; rolled prints 15–30 KB and slaps 80–200 KB (WSQ, ~15:1); iris
// 20–40 KB compressed per eye, captured since the 2023 law (from
// 2024-07-01, §2.5); a signature scan 8–40 KB. A dossier is 0.55–1.4 MB.
var blobSizes = []struct {
	Kind     string
	Min, Max int
	Iris     bool
}{
	{"face", 50_000, 500_000, false},
	{"slap_r4", 80_000, 200_000, false},
	{"slap_l4", 80_000, 200_000, false},
	{"slap_thumbs", 60_000, 150_000, false},
	{"iris_l", 20_000, 40_000, true},
	{"iris_r", 20_000, 40_000, true},
}

// fingerExceptionShare: a finger recorded as missing (amputation),
// Circular 60/2021 (DOMAIN.md §2.5) [E].
const fingerExceptionShare = 0.002

// biometrics draws the dossier of a capture at time at of a person aged
// age. The draws from the generator's stream are those of the slots above
// (a size, a 32-byte seed, an exception chance), so records stay the same
// whatever the dossier holds; the rolled prints and the signature come
// from a stream seeded by the portrait's seed.
func (g *Generator) biometrics(at time.Time, age int) []BlobSpec {
	iris := !at.Before(law2023From)
	out := make([]BlobSpec, 0, len(enrollment.Slots))
	amputated := false
	for _, b := range blobSizes {
		if b.Iris && !iris {
			continue
		}
		spec := BlobSpec{Slot: b.Kind, Size: between(g.r, b.Min, b.Max)}
		if b.Kind == "slap_l4" && age >= 14 && chance(g.r, fingerExceptionShare) {
			amputated = true // one left finger; the slap takes the other three
		} else {
			spec.Seed = g.seed32()
		}
		out = append(out, spec)
	}
	sub := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(out[0].Seed[:]), binary.LittleEndian.Uint64(out[0].Seed[8:])))
	missing := ""
	if amputated {
		missing = "finger_l" + string(rune('2'+sub.IntN(4)))
		for i := range out {
			if out[i].Slot == "slap_l4" {
				out[i].Seed = subSeed(sub)
			}
		}
	}
	for _, hand := range []string{"r", "l"} {
		for i := 1; i <= 5; i++ {
			slot := "finger_" + hand + string(rune('0'+i))
			if slot == missing {
				out = append(out, BlobSpec{Slot: slot, Exception: enrollment.ExceptionAmputated})
				continue
			}
			out = append(out, BlobSpec{Slot: slot, Size: between(sub, 15_000, 30_000), Seed: subSeed(sub)})
		}
	}
	out = append(out, BlobSpec{Slot: "signature", Size: between(sub, 8_000, 40_000), Seed: subSeed(sub)})
	for i := range out {
		if out[i].Exception == "" {
			out[i].Format = formatFor(out[i].Slot, out[i].Seed[31])
		}
	}
	return out
}

// formatFor picks a slot's format: mostly what stations use (JPEG
// portraits, WSQ prints, JPEG 2000 irises, PNG signatures), with the other
// formats each slot takes mixed in, so that consumers see them all.
func formatFor(slot string, r byte) string {
	spec, _ := enrollment.SlotByName(slot)
	if r < 26 && len(spec.Formats) > 1 { // ≈10%
		return spec.Formats[1]
	}
	return spec.Formats[0]
}

func (g *Generator) seed32() [32]byte {
	var b [32]byte
	for i := 0; i < 32; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], g.r.Uint64())
	}
	return b
}

func subSeed(r *rand.Rand) [32]byte {
	var b [32]byte
	for i := 0; i < 32; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b
}

// Bytes makes the spec's file: incompressible bytes (the entropy-coded
// data of a compressed image is close to random) inside the real container
// of its format — JPEG markers with a frame header, a JP2 box structure
// with its codestream, WSQ tables and frame, a PNG whose stored (level 0)
// zlib stream decodes to a noise image — of Size bytes (a PNG a few bytes
// more). Nil for an exception.
func (b BlobSpec) Bytes() []byte {
	if b.Exception != "" || b.Size <= 0 {
		return nil
	}
	r := rand.New(rand.NewChaCha8(b.Seed))
	spec, _ := enrollment.SlotByName(b.Slot)
	w, h := dimensions(spec.Kind, r)
	switch b.Format {
	case enrollment.FormatJPEG:
		return jpegFile(r, w, h, b.Size)
	case enrollment.FormatJP2:
		return jp2File(r, w, h, b.Size)
	case enrollment.FormatWSQ:
		return wsqFile(r, w, h, b.Size)
	case enrollment.FormatPNG:
		return pngFile(r, b.Size)
	}
	return nil
}

// dimensions draws plausible pixel dimensions for a slot kind.
func dimensions(kind string, r *rand.Rand) (int, int) {
	switch kind {
	case enrollment.SlotFace:
		w := 600 + 100*r.IntN(15)
		return w, w * 4 / 3
	case enrollment.SlotFinger:
		return 800, 750
	case enrollment.SlotSlap:
		return 1600, 1500
	case enrollment.SlotIris:
		return 640, 480
	}
	return 600, 200
}

// entropy appends n random bytes with the byte stuffing of JPEG and WSQ
// (FF is followed by 00) or of a JPEG 2000 codestream (FF is followed by a
// byte below 90): no marker appears inside.
func entropy(dst []byte, r *rand.Rand, n int, j2k bool) []byte {
	start := len(dst)
	for len(dst)-start < n {
		v := r.Uint64()
		for i := 0; i < 8 && len(dst)-start < n; i++ {
			c := byte(v >> (8 * i))
			dst = append(dst, c)
			if c == 0xFF {
				if j2k {
					dst = append(dst, byte(r.IntN(0x90)))
				} else {
					dst = append(dst, 0)
				}
			}
		}
	}
	return dst
}

func seg(dst []byte, marker byte, body []byte) []byte {
	dst = append(dst, 0xFF, marker)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(body)+2))
	return append(dst, body...)
}

func jpegFile(r *rand.Rand, w, h, size int) []byte {
	b := make([]byte, 0, size+size/200+64)
	b = append(b, 0xFF, 0xD8)
	b = seg(b, 0xE0, []byte{'J', 'F', 'I', 'F', 0, 1, 1, 1, 0, 72, 0, 72, 0, 0}) // APP0 JFIF 1.01, 72 dpi
	dqt := []byte{0}
	for i := range 64 {
		dqt = append(dqt, byte(2+i/4))
	}
	b = seg(b, 0xDB, dqt)
	sof := []byte{8}
	sof = binary.BigEndian.AppendUint16(sof, uint16(h))
	sof = binary.BigEndian.AppendUint16(sof, uint16(w))
	sof = append(sof, 3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0) // YCbCr 4:2:0
	b = seg(b, 0xC0, sof)
	dht := []byte{0x00, 0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	b = seg(b, 0xC4, dht)
	b = seg(b, 0xDA, []byte{3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0})
	b = entropy(b, r, size-len(b)-2, false)
	return append(b, 0xFF, 0xD9)
}

func jp2File(r *rand.Rand, w, h, size int) []byte {
	b := make([]byte, 0, size+size/200+128)
	b = append(b, 0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A)
	b = append(b, 0, 0, 0, 20, 'f', 't', 'y', 'p', 'j', 'p', '2', ' ', 0, 0, 0, 0, 'j', 'p', '2', ' ')
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(h))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(w))
	ihdr = append(ihdr, 0, 1, 7, 7, 0, 0) // 1 component, 8 bits, JPEG 2000 compression
	colr := []byte{1, 0, 0, 0, 0, 0, 17}  // enumerated greyscale
	jp2h := box("ihdr", ihdr)
	jp2h = append(jp2h, box("colr", colr)...)
	b = append(b, box("jp2h", jp2h)...)
	cs := []byte{0xFF, 0x4F}
	siz := []byte{0, 0}
	for _, v := range []int{w, h, 0, 0, w, h, 0, 0} {
		siz = binary.BigEndian.AppendUint32(siz, uint32(v))
	}
	siz = append(siz, 0, 1, 7, 1, 1)
	cs = seg(cs, 0x51, siz)
	cs = seg(cs, 0x52, []byte{0, 0, 0, 1, 0, 5, 4, 4, 0, 0})
	cs = seg(cs, 0x5C, []byte{0x22, 0x48, 0x48, 0x50})
	cs = seg(cs, 0x90, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	cs = append(cs, 0xFF, 0x93)
	header := len(b) + 8
	cs = entropy(cs, r, size-header-len(cs)-2, true)
	cs = append(cs, 0xFF, 0xD9)
	return append(b, box("jp2c", cs)...)
}

func box(typ string, body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	b = append(b, typ...)
	return append(b, body...)
}

func wsqFile(r *rand.Rand, w, h, size int) []byte {
	b := make([]byte, 0, size+size/200+64)
	b = append(b, 0xFF, 0xA0)
	b = seg(b, 0xA8, []byte("NIST_COM\nPIX_WIDTH 800\nPIX_HEIGHT 750\nPIX_DEPTH 8\nPPI 500\nLOSSY 1\nCOLORSPACE GRAY\n"))
	dtt := []byte{9, 7}
	for range 16 {
		dtt = append(dtt, 0, 0, 0, 0, byte(r.IntN(256)))
	}
	b = seg(b, 0xA4, dtt)
	dqt := []byte{2, 0x2C, 0x01}
	for range 64 {
		dqt = append(dqt, 2, byte(r.IntN(256)), byte(r.IntN(256)), 2, byte(r.IntN(256)), byte(r.IntN(256)))
	}
	b = seg(b, 0xA5, dqt)
	dht := []byte{0, 0, 1, 3, 5, 7, 9, 11, 13, 0, 0, 0, 0, 0, 0, 0, 0}
	for i := range 49 {
		dht = append(dht, byte(i))
	}
	b = seg(b, 0xA6, dht)
	sof := []byte{0, 255}
	sof = binary.BigEndian.AppendUint16(sof, uint16(h))
	sof = binary.BigEndian.AppendUint16(sof, uint16(w))
	sof = append(sof, 0, 0x7F, 0x80, 0, 0x8B, 0x2C, 0, 0x1E, 0x84, 0, 1) // mean, scale, encoder, software
	b = seg(b, 0xA2, sof)
	b = seg(b, 0xA3, []byte{1})
	b = entropy(b, r, size-len(b)-2, false)
	return append(b, 0xFF, 0xA1)
}

// pngFile is a grey noise image, its rows stored uncompressed in the
// zlib stream (deflate cannot shrink noise): a PNG any decoder reads.
func pngFile(r *rand.Rand, size int) []byte {
	const w = 400
	h := max(1, (size-100)/(w+1))
	raw := make([]byte, 0, h*(w+1))
	for range h {
		raw = append(raw, 0) // filter: none
		raw = entropyRaw(raw, r, w)
	}
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.NoCompression)
	zw.Write(raw)
	zw.Close()
	b := append([]byte(nil), 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 8, 0, 0, 0, 0) // 8-bit greyscale
	b = chunk(b, "IHDR", ihdr)
	b = chunk(b, "IDAT", z.Bytes())
	return chunk(b, "IEND", nil)
}

func entropyRaw(dst []byte, r *rand.Rand, n int) []byte {
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			dst = append(dst, byte(v>>(8*j)))
		}
	}
	return dst
}

func chunk(dst []byte, typ string, data []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(data)))
	start := len(dst)
	dst = append(dst, typ...)
	dst = append(dst, data...)
	return binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
}

// Files makes the record's dossier as a capture gives it: each slot's
// file (named SLOT.EXT, its bytes made by BlobSpec.Bytes) or its
// exception code.
func (r *Record) Files() []enrollment.DossierFile {
	out := make([]enrollment.DossierFile, 0, len(r.Blobs))
	for _, b := range r.Blobs {
		if b.Exception != "" {
			out = append(out, enrollment.DossierFile{Slot: b.Slot, Exception: b.Exception})
			continue
		}
		out = append(out, enrollment.DossierFile{Slot: b.Slot, Name: b.Slot + b.Ext(), Data: b.Bytes()})
	}
	return out
}
