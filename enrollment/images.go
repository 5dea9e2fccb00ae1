package enrollment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Image inspection reads only the container of a biometric file — its
// magic number, the header that declares the picture's dimensions, and
// its end marker — and never decodes pixels (RELIABILITY.md §5.5: decode
// only with limits, ideally not at all). It recognizes:
//
//   - JPEG: FF D8 FF, the frame header (SOFn) before the first scan,
//     ending FF D9;
//   - JPEG 2000: a JP2 file (signature box, then the header box's image
//     header 'ihdr') or a raw J2K codestream (FF 4F FF 51, its SIZ
//     segment), ending with the codestream's FF D9;
//   - WSQ (FBI Wavelet Scalar Quantization): FF A0, the frame header
//     FF A2 after the tables, ending FF A1;
//   - PNG: its 8-byte signature, IHDR first, ending with IEND.
//
// A file whose end marker is missing was cut short (or has something
// appended: a polyglot); up to maxTrailingZeros zero bytes of padding
// after it are allowed.

// ImageInfo is what the container of an image says.
type ImageInfo struct {
	Format        string // FormatJPEG, FormatJP2, FormatWSQ, FormatPNG
	Width, Height int
}

// Errors of InspectImage; the message says more.
var (
	ErrUnknownFormat = errors.New("not a JPEG, JPEG 2000, WSQ or PNG file")
	ErrBadImage      = errors.New("damaged or cut-short image file")
)

// maxTrailingZeros is the zero padding allowed after an end marker (some
// scanners pad files to a block size).
const maxTrailingZeros = 4096

// maxSegments bounds the segments or boxes walked before the header is
// found: real files have a handful.
const maxSegments = 256

// DetectFormat returns the format the magic number of b names, or "".
func DetectFormat(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return FormatJPEG
	case bytes.HasPrefix(b, jp2Signature), len(b) >= 4 && b[0] == 0xFF && b[1] == 0x4F && b[2] == 0xFF && b[3] == 0x51:
		return FormatJP2
	case len(b) >= 2 && b[0] == 0xFF && b[1] == 0xA0:
		return FormatWSQ
	case bytes.HasPrefix(b, pngSignature):
		return FormatPNG
	}
	return ""
}

var (
	jp2Signature = []byte{0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A}
	pngSignature = []byte{0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A}
	pngIEND      = []byte{0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82}
)

// InspectImage reads the container of b: its format, its declared
// dimensions, and whether it ends where its format says it must. It reads
// only headers, in bounded steps; any size of input is safe.
func InspectImage(b []byte) (ImageInfo, error) {
	var info ImageInfo
	var err error
	switch info.Format = DetectFormat(b); info.Format {
	case FormatJPEG:
		info.Width, info.Height, err = jpegSize(b)
		if err == nil {
			err = checkEnd(b, []byte{0xFF, 0xD9}, "JPEG", "FF D9")
		}
	case FormatJP2:
		info.Width, info.Height, err = jp2Size(b)
		if err == nil {
			err = checkEnd(b, []byte{0xFF, 0xD9}, "JPEG 2000", "FF D9")
		}
	case FormatWSQ:
		info.Width, info.Height, err = wsqSize(b)
		if err == nil {
			err = checkEnd(b, []byte{0xFF, 0xA1}, "WSQ", "FF A1")
		}
	case FormatPNG:
		info.Width, info.Height, err = pngSize(b)
		if err == nil {
			err = checkEnd(b, pngIEND, "PNG", "IEND")
		}
	default:
		return info, ErrUnknownFormat
	}
	if err == nil && (info.Width <= 0 || info.Height <= 0) {
		err = fmt.Errorf("%w: the header declares %d×%d pixels", ErrBadImage, info.Width, info.Height)
	}
	return info, err
}

func checkEnd(b, marker []byte, format, name string) error {
	end := len(b)
	for end > 0 && b[end-1] == 0 && len(b)-end < maxTrailingZeros {
		end--
	}
	if !bytes.HasSuffix(b[:end], marker) {
		return fmt.Errorf("%w: the %s file does not end with its end marker (%s): cut short, or something is appended to it", ErrBadImage, format, name)
	}
	return nil
}

func be16(b []byte) int { return int(binary.BigEndian.Uint16(b)) }
func be32(b []byte) int { return int(binary.BigEndian.Uint32(b)) }

// jpegSize walks the marker segments to the frame header.
func jpegSize(b []byte) (int, int, error) {
	p := 2
	for range maxSegments {
		for p < len(b) && b[p] == 0xFF && p+1 < len(b) && b[p+1] == 0xFF { // fill bytes
			p++
		}
		if p+4 > len(b) || b[p] != 0xFF {
			return 0, 0, fmt.Errorf("%w: JPEG segment at byte %d is not a marker", ErrBadImage, p)
		}
		m := b[p+1]
		if m == 0x01 || (m >= 0xD0 && m <= 0xD7) { // standalone markers
			p += 2
			continue
		}
		n := be16(b[p+2:])
		if n < 2 || p+2+n > len(b) {
			return 0, 0, fmt.Errorf("%w: JPEG segment FF %02X at byte %d has length %d past the end", ErrBadImage, m, p, n)
		}
		switch {
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC: // SOFn
			if n < 7 {
				return 0, 0, fmt.Errorf("%w: JPEG frame header too short", ErrBadImage)
			}
			return be16(b[p+7:]), be16(b[p+5:]), nil
		case m == 0xDA, m == 0xD9:
			return 0, 0, fmt.Errorf("%w: JPEG has no frame header before its image data", ErrBadImage)
		}
		p += 2 + n
	}
	return 0, 0, fmt.Errorf("%w: more than %d JPEG segments before the frame header", ErrBadImage, maxSegments)
}

// wsqSize walks the WSQ markers (all but SOI and EOI carry a length) to
// the frame header: FF A2, length, A, B, height, width.
func wsqSize(b []byte) (int, int, error) {
	p := 2
	for range maxSegments {
		if p+4 > len(b) || b[p] != 0xFF {
			return 0, 0, fmt.Errorf("%w: WSQ marker expected at byte %d", ErrBadImage, p)
		}
		m := b[p+1]
		n := be16(b[p+2:])
		if n < 2 || p+2+n > len(b) {
			return 0, 0, fmt.Errorf("%w: WSQ segment FF %02X at byte %d has length %d past the end", ErrBadImage, m, p, n)
		}
		switch m {
		case 0xA2: // SOF
			if n < 8 {
				return 0, 0, fmt.Errorf("%w: WSQ frame header too short", ErrBadImage)
			}
			return be16(b[p+8:]), be16(b[p+6:]), nil
		case 0xA4, 0xA5, 0xA6, 0xA8: // DTT, DQT, DHT, COM
		default:
			return 0, 0, fmt.Errorf("%w: WSQ marker FF %02X before the frame header", ErrBadImage, m)
		}
		p += 2 + n
	}
	return 0, 0, fmt.Errorf("%w: more than %d WSQ segments before the frame header", ErrBadImage, maxSegments)
}

// pngSize reads IHDR, which must be the first chunk.
func pngSize(b []byte) (int, int, error) {
	if len(b) < 8+8+13+4 || be32(b[8:]) != 13 || string(b[12:16]) != "IHDR" {
		return 0, 0, fmt.Errorf("%w: PNG does not start with its IHDR header", ErrBadImage)
	}
	w, h := be32(b[16:]), be32(b[20:])
	if w > 1<<24 || h > 1<<24 {
		return 0, 0, fmt.Errorf("%w: PNG declares %d×%d pixels", ErrBadImage, w, h)
	}
	return w, h, nil
}

// jp2Size reads a raw codestream's SIZ, or walks a JP2 file's boxes to
// the image header box inside the JP2 header box.
func jp2Size(b []byte) (int, int, error) {
	if !bytes.HasPrefix(b, jp2Signature) {
		return sizSize(b)
	}
	p := 0
	for range maxSegments {
		typ, body, next, err := jp2Box(b, p)
		if err != nil {
			return 0, 0, err
		}
		switch typ {
		case "jp2h":
			q := 0
			for range maxSegments {
				t, ib, n, err := jp2Box(body, q)
				if err != nil {
					return 0, 0, err
				}
				if t == "ihdr" {
					if len(ib) < 14 {
						return 0, 0, fmt.Errorf("%w: JPEG 2000 image header too short", ErrBadImage)
					}
					return be32(ib[4:]), be32(ib[0:]), nil
				}
				if n >= len(body) {
					break
				}
				q = n
			}
			return 0, 0, fmt.Errorf("%w: JPEG 2000 header box has no image header", ErrBadImage)
		case "jp2c":
			return 0, 0, fmt.Errorf("%w: JPEG 2000 codestream before the header box", ErrBadImage)
		}
		if next >= len(b) {
			break
		}
		p = next
	}
	return 0, 0, fmt.Errorf("%w: JPEG 2000 file without a header box", ErrBadImage)
}

// jp2Box parses the box at p: its type, its contents, and where the next
// box starts.
func jp2Box(b []byte, p int) (string, []byte, int, error) {
	if p+8 > len(b) {
		return "", nil, 0, fmt.Errorf("%w: JPEG 2000 box at byte %d cut short", ErrBadImage, p)
	}
	n, head := int64(be32(b[p:])), 8
	switch n {
	case 0: // to the end of the file
		n = int64(len(b) - p)
	case 1: // 64-bit length
		if p+16 > len(b) {
			return "", nil, 0, fmt.Errorf("%w: JPEG 2000 box at byte %d cut short", ErrBadImage, p)
		}
		n, head = int64(binary.BigEndian.Uint64(b[p+8:])), 16
	}
	if n < int64(head) || n > int64(len(b)-p) {
		return "", nil, 0, fmt.Errorf("%w: JPEG 2000 box at byte %d has length %d past the end", ErrBadImage, p, n)
	}
	return string(b[p+4 : p+8]), b[p+head : p+int(n)], p + int(n), nil
}

// sizSize reads a J2K codestream's SIZ segment: FF 51, Lsiz, Rsiz, Xsiz,
// Ysiz, XOsiz, YOsiz.
func sizSize(b []byte) (int, int, error) {
	if len(b) < 4+2+2+16 {
		return 0, 0, fmt.Errorf("%w: JPEG 2000 codestream cut short", ErrBadImage)
	}
	s := b[4:]
	x, y, xo, yo := be32(s[4:]), be32(s[8:]), be32(s[12:]), be32(s[16:])
	if xo >= x || yo >= y {
		return 0, 0, fmt.Errorf("%w: JPEG 2000 image offsets past its size", ErrBadImage)
	}
	return x - xo, y - yo, nil
}
