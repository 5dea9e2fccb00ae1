package enrollment

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// ErrEncoding is the cause (wrapped in a *DecodeError) of input that is not
// UTF-8 text: UTF-16 or UTF-32 (what Excel's "Unicode Text" and some
// Windows tools write), a spreadsheet workbook, or binary data.
var ErrEncoding = errors.New("not UTF-8 text")

// sniffBytes is how much of an input OpenText looks at.
const sniffBytes = 4 << 10

// utf8BOM starts some UTF-8 files (Excel's "CSV UTF-8", Notepad).
var utf8BOM = []byte("\xef\xbb\xbf")

// saveAsUTF8 is what to do about a text file in another encoding.
const saveAsUTF8 = "save it as UTF-8: in Excel, Save As → \"CSV UTF-8 (Comma delimited)\"; in Notepad, Save As → Encoding: UTF-8 / Lưu lại dạng UTF-8: Excel → Lưu thành → \"CSV UTF-8\"; Notepad → Mã hóa: UTF-8"

// OpenText checks that r starts as UTF-8 text and returns a reader of it
// without its UTF-8 byte-order mark, buffered with size bytes (at least
// sniffBytes). Input in another encoding is refused with a *DecodeError
// wrapping ErrEncoding that says what the file is and how to save it as
// UTF-8; an empty input is fine (the format's reader says it is empty).
func OpenText(r io.Reader, size int) (*bufio.Reader, error) {
	br := bufio.NewReaderSize(r, max(size, sniffBytes))
	head, err := br.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	if err := CheckEncoding(head); err != nil {
		return nil, err
	}
	if bytes.HasPrefix(head, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	return br, nil
}

// CheckEncoding looks at the first bytes of an input and refuses one that
// is not UTF-8 text, naming what it is.
func CheckEncoding(head []byte) error {
	refuse := func(what string) error {
		return decodeErr("", ErrEncoding, "the file is %s; %s", what, saveAsUTF8)
	}
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE, 0, 0}):
		return refuse("UTF-32 text (little-endian)")
	case bytes.HasPrefix(head, []byte{0, 0, 0xFE, 0xFF}):
		return refuse("UTF-32 text (big-endian)")
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return refuse("UTF-16 text (little-endian, as Excel's \"Unicode Text\" writes)")
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return refuse("UTF-16 text (big-endian)")
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return decodeErr("", ErrEncoding, "the file is a spreadsheet workbook (.xlsx) or a zip archive, not CSV or JSON lines: open it in Excel and Save As → \"CSV UTF-8 (Comma delimited)\" / đây là tệp Excel (.xlsx), không phải CSV: mở bằng Excel và Lưu thành → \"CSV UTF-8\"")
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return decodeErr("", ErrEncoding, "the file is an old Excel workbook (.xls), not CSV or JSON lines: open it in Excel and Save As → \"CSV UTF-8 (Comma delimited)\" / đây là tệp Excel cũ (.xls): mở bằng Excel và Lưu thành → \"CSV UTF-8\"")
	}
	if i := bytes.IndexByte(head, 0); i >= 0 {
		// UTF-16 without a byte-order mark: every other byte of ASCII
		// text is NUL.
		if utf16Like(head) {
			return refuse("UTF-16 text without a byte-order mark")
		}
		return decodeErr("", ErrEncoding, "the file holds a NUL byte at offset %d: it is not a text file (CSV or JSON lines, UTF-8)", i)
	}
	return nil
}

// utf16Like reports whether NULs fall on one parity of offsets only, as in
// UTF-16 text that is mostly ASCII.
func utf16Like(head []byte) bool {
	var nul [2]int
	for i, b := range head {
		if b == 0 {
			nul[i%2]++
		}
	}
	n := len(head) / 2
	return n > 0 && (nul[0] > n/2 && nul[1] == 0 || nul[1] > n/2 && nul[0] == 0)
}
