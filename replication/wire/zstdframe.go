package wire

import (
	"errors"

	"github.com/klauspost/compress/zstd"
)

// checkZstdFrame checks, without decoding, that b is exactly one zstd
// frame (no skippable frames, nothing after it), with no dictionary, that
// declares its content size and that this size is in [lo, hi] (for a plain
// body exactly the frame header's length; for a hex-packed one below it).
// A bomb that hides its size, or says one size to us and another to zstd,
// stops here. It returns the declared size and the frame's window size,
// which bounds its blocks.
func checkZstdFrame(b []byte, lo, hi uint64) (uint64, uint64, error) {
	var h zstd.Header
	if err := h.Decode(b); err != nil {
		if errors.Is(err, zstd.ErrMagicMismatch) {
			return 0, 0, malformed("zstd body: bad magic")
		}
		return 0, 0, malformed("zstd body header: %v", err)
	}
	switch {
	case h.Skippable:
		return 0, 0, malformed("zstd body is a skippable frame")
	case h.DictionaryID != 0:
		return 0, 0, malformed("zstd body uses dictionary %d; none are defined", h.DictionaryID)
	case !h.HasFCS:
		return 0, 0, malformed("zstd body does not declare its content size")
	case h.FrameContentSize < lo || h.FrameContentSize > hi:
		return 0, 0, malformed("zstd body declares %d bytes, the frame header allows %d to %d", h.FrameContentSize, lo, hi)
	}
	end, err := zstdFrameEnd(b, h.HeaderSize, h.HasCheckSum)
	if err != nil {
		return 0, 0, err
	}
	if end != len(b) {
		return 0, 0, malformed("zstd body: %d trailing bytes after the zstd frame", len(b)-end)
	}
	if h.SingleSegment {
		return h.FrameContentSize, h.FrameContentSize, nil // the window is the content
	}
	return h.FrameContentSize, h.WindowSize, nil
}

// zstdFrameEnd walks the block headers from off (RFC 8878 §3.1.1.2) and
// returns the offset just past the frame. Each block is at least 3 bytes,
// so the walk ends within len(b)/3 steps.
func zstdFrameEnd(b []byte, off int, checksum bool) (int, error) {
	for last := false; !last; {
		if len(b)-off < 3 {
			return 0, malformed("zstd body: block header truncated at offset %d", off)
		}
		bh := int(b[off]) | int(b[off+1])<<8 | int(b[off+2])<<16
		off += 3
		last = bh&1 == 1
		size := bh >> 3
		switch (bh >> 1) & 3 {
		case 1: // RLE: one byte, repeated
			size = 1
		case 3:
			return 0, malformed("zstd body: reserved block type at offset %d", off-3)
		}
		if len(b)-off < size {
			return 0, malformed("zstd body: block at offset %d truncated", off-3)
		}
		off += size
	}
	if checksum {
		if len(b)-off < 4 {
			return 0, malformed("zstd body: checksum truncated")
		}
		off += 4
	}
	return off, nil
}
