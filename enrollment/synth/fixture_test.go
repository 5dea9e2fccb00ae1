package synth

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"golang.org/x/text/unicode/norm"

	"fieldsync/enrollment"
)

// corpus is a generated data set with its records, parsed back from the
// JSON-lines output (so tests see what consumers see).
type corpus struct {
	cfg     Config
	out     []byte
	truth   []byte
	recs    []enrollment.Enrollment
	truths  []TruthRecord
	stats   Stats
	records []Record // as returned by Next (same run, same config)
}

var (
	fixtureOnce sync.Once
	fixture     *corpus
)

// standard returns the 20,000-record corpus at 5% noise the brief asks
// the distribution checks to run on (built once per test binary).
func standard(t testing.TB) *corpus {
	t.Helper()
	fixtureOnce.Do(func() { fixture = build(t, Config{Count: 20000, Seed: 42, Noise: 0.05}) })
	if fixture == nil {
		t.Fatal("fixture failed")
	}
	return fixture
}

// build generates cfg through Generate and through Next.
func build(t testing.TB, cfg Config) *corpus {
	t.Helper()
	var out, truth bytes.Buffer
	st, err := Generate(&out, &truth, cfg)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	c := &corpus{cfg: cfg, out: out.Bytes(), truth: truth.Bytes(), stats: st}
	if c.recs, err = ReadEnrollments(bytes.NewReader(c.out)); err != nil {
		t.Fatalf("reading output: %v", err)
	}
	if c.truths, err = ReadTruth(bytes.NewReader(c.truth)); err != nil {
		t.Fatalf("reading truth: %v", err)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for {
		r, ok := g.Next()
		if !ok {
			break
		}
		c.records = append(c.records, r)
	}
	if len(c.recs) != cfg.Count || len(c.truths) != cfg.Count || len(c.records) != cfg.Count {
		t.Fatalf("got %d records, %d truth lines, %d from Next; want %d", len(c.recs), len(c.truths), len(c.records), cfg.Count)
	}
	return c
}

// originals returns the indexes of original records.
func (c *corpus) originals() []int {
	var idx []int
	for i, tr := range c.truths {
		if tr.DuplicateOf == 0 {
			idx = append(idx, i)
		}
	}
	return idx
}

// hasQuirk reports whether record i carries quirk q.
func (c *corpus) hasQuirk(i int, q string) bool {
	for _, x := range c.truths[i].Quirks {
		if x == q {
			return true
		}
	}
	return false
}

// fold is a comparison key for names in tests: NFC, no marks, đ→d,
// lowercase, single spaces.
func fold(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(stripDiacritics(norm.NFC.String(s)))), " ")
}

// surnameOf returns the folded first token of a name.
func surnameOf(s string) string {
	f := strings.Fields(fold(s))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
