package wire

import "fmt"

// Frame limits. Every count and length read from the wire is checked
// against one of these (or a Limits field) before anything is allocated.
const (
	// FrameVersion is the first byte of every frame.
	FrameVersion = 1
	// FrameHeaderSize is the fixed frame header: version(1) type(1) algo(1)
	// uncompressed length(4) crc32c(4) stored length(4).
	FrameHeaderSize = 15

	// DefaultMaxBodyBytes bounds one uncompressed body: about 30 s of a
	// 1 Mbit/s link, several minutes of 2G, and a few MB of RAM.
	DefaultMaxBodyBytes = 4 << 20
	// DefaultMaxRanges bounds the ranges (so origins) in one batch.
	DefaultMaxRanges = 10_000
	// DefaultMaxEntries bounds the entries in one batch. A decoded entry
	// costs about 120 bytes plus its payload, so 50k entries are ~6 MB.
	DefaultMaxEntries = 50_000
	// DefaultMaxHeads bounds the heads in one summary or ack. At ~51 bytes
	// a head, DefaultMaxBodyBytes holds about 80k of them: the body limit
	// binds first (a province with more origins must paginate or raise it).
	DefaultMaxHeads = 100_000
	// DefaultMaxRefusals bounds the refusals in one ack.
	DefaultMaxRefusals = 10_000

	// MinBodyLimit is the smallest MaxBodyBytes a Codec accepts: one entry
	// with the largest payload must fit in a batch.
	MinBodyLimit = 128 << 10
	// MaxBodyLimit is the largest MaxBodyBytes a Codec accepts, far below
	// the 4 GiB the u32 length fields could say. Bodies are compressed as
	// one zstd segment, so this is also the largest zstd window a decoder
	// accepts (8 MiB, the size every zstd decoder is expected to support);
	// at 64 kbit/s it is a 17-minute transfer, longer than many contacts.
	MaxBodyLimit = 8 << 20

	// MaxRoleBytes, MaxTierBytes, MaxUnitBytes and MaxNodeBytes bound the
	// Hello strings.
	MaxRoleBytes = 32
	MaxTierBytes = 32
	MaxUnitBytes = 64
	MaxNodeBytes = 64
	// MaxDetailBytes bounds Refusal.Detail.
	MaxDetailBytes = 200
)

// Limits bounds what a Codec encodes and decodes. The encoder enforces
// the same limits, so it never writes a frame a peer with equal limits
// would refuse. A zero field means its default.
type Limits struct {
	MaxBodyBytes int // uncompressed body bytes; default DefaultMaxBodyBytes
	MaxRanges    int // ranges per batch; default DefaultMaxRanges
	MaxEntries   int // entries per batch; default DefaultMaxEntries
	MaxHeads     int // heads per summary or ack; default DefaultMaxHeads
	MaxRefusals  int // refusals per ack; default DefaultMaxRefusals
}

// DefaultLimits returns the defaults.
func DefaultLimits() Limits {
	return Limits{
		MaxBodyBytes: DefaultMaxBodyBytes,
		MaxRanges:    DefaultMaxRanges,
		MaxEntries:   DefaultMaxEntries,
		MaxHeads:     DefaultMaxHeads,
		MaxRefusals:  DefaultMaxRefusals,
	}
}

// withDefaults fills zero fields and checks the rest.
func (l Limits) withDefaults() (Limits, error) {
	d := DefaultLimits()
	for _, f := range []struct {
		v   *int
		def int
		min int
		max int
		nm  string
	}{
		{&l.MaxBodyBytes, d.MaxBodyBytes, MinBodyLimit, MaxBodyLimit, "MaxBodyBytes"},
		{&l.MaxRanges, d.MaxRanges, 1, MaxBodyLimit, "MaxRanges"},
		{&l.MaxEntries, d.MaxEntries, 1, MaxBodyLimit, "MaxEntries"},
		{&l.MaxHeads, d.MaxHeads, 1, MaxBodyLimit, "MaxHeads"},
		{&l.MaxRefusals, d.MaxRefusals, 1, MaxBodyLimit, "MaxRefusals"},
	} {
		if *f.v == 0 {
			*f.v = f.def
		}
		if *f.v < f.min || *f.v > f.max {
			return l, fmt.Errorf("wire: limit %s = %d, want %d..%d", f.nm, *f.v, f.min, f.max)
		}
	}
	return l, nil
}
