package synth

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"fieldsync/enrollment"
)

func TestDeterminism(t *testing.T) {
	sum := func(cfg Config) ([32]byte, [32]byte) {
		var out, truth bytes.Buffer
		if _, err := Generate(&out, &truth, cfg); err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(out.Bytes()), sha256.Sum256(truth.Bytes())
	}
	cfg := Config{Count: 3000, Seed: 7, Noise: 0.1}
	o1, t1 := sum(cfg)
	o2, t2 := sum(cfg)
	if o1 != o2 || t1 != t2 {
		t.Fatal("same seed and config gave different bytes")
	}
	cfg.Seed = 8
	if o3, t3 := sum(cfg); o3 == o1 || t3 == t1 {
		t.Fatal("different seed gave identical bytes")
	}
}

func TestNextMatchesGenerate(t *testing.T) {
	c := standard(t)
	var buf bytes.Buffer
	for i := range c.records {
		if err := WriteJSONLine(&buf, &c.records[i].Enrollment); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(buf.Bytes(), c.out) {
		t.Fatal("Next and Generate disagree")
	}
	for i, r := range c.records {
		if r.Line != i+1 || c.truths[i].Line != i+1 {
			t.Fatalf("record %d: line %d, truth line %d", i+1, r.Line, c.truths[i].Line)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" = valid
	}{
		{"defaults", Config{Count: 10}, ""},
		{"negative count", Config{Count: -1}, "count"},
		{"too many", Config{Count: MaxCount + 1}, "count"},
		{"noise too high", Config{Count: 10, Noise: 0.9}, "noise"},
		{"negative noise", Config{Count: 10, Noise: -0.1}, "noise"},
		{"unknown list", Config{Count: 10, CodeList: "2019"}, "code list"},
		{"bad commune", Config{Count: 10, Commune: "99999"}, "not a commune"},
		{"district is not a commune", Config{Count: 10, Commune: "445", CodeList: enrollment.CodeList2023}, "not a commune"},
		{"2023-only code picks 2023 list", Config{Count: 10, Commune: "18592"}, ""},
		{"2025 list before reform", Config{Count: 10, Start: time.Date(2024, 1, 1, 0, 0, 0, 0, ict)}, "precedes"},
		{"2023 list after 2025", Config{Count: 10, CodeList: enrollment.CodeList2023, Start: time.Date(2025, 8, 1, 0, 0, 0, 0, ict)}, "outside"},
		{"2023 campaign too long", Config{Count: 5_000_000, CodeList: enrollment.CodeList2023, Start: time.Date(2024, 10, 1, 0, 0, 0, 0, ict)}, "past the end"},
		{"zero devices default", Config{Count: 10, Devices: 0}, ""},
		{"too few officers", Config{Count: 10, Devices: 3, Officers: 2}, "officers"},
		{"too many devices", Config{Count: 10, Devices: 1000}, "devices"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	g, err := New(Config{Count: 1, Commune: "18592"}) // Thạch Liên: 2023 list only
	if err != nil {
		t.Fatal(err)
	}
	if cfg := g.Config(); cfg.CodeList != enrollment.CodeList2023 || cfg.Start.Year() != 2023 ||
		cfg.Devices != DefaultDevices || cfg.Officers != DefaultOfficers {
		t.Fatalf("defaults: %+v", cfg)
	}
	g, _ = New(Config{Count: 1, Commune: "18586"}) // in both lists: 2025 wins
	if g.Config().CodeList != enrollment.CodeList2025 {
		t.Fatalf("code list %s, want %s", g.Config().CodeList, enrollment.CodeList2025)
	}
}

func TestSingleCommune(t *testing.T) {
	for _, cfg := range []Config{
		{Count: 2000, Seed: 3, Noise: 0.1, Commune: "18586"},
		{Count: 2000, Seed: 3, Noise: 0.1, Commune: "18586", CodeList: enrollment.CodeList2023, Devices: 1, Officers: 3},
	} {
		c := build(t, cfg)
		devices := map[string]bool{}
		for i, e := range c.recs {
			if e.Capture.CommuneCode != cfg.Commune || e.PermanentResidence.UnitCode != cfg.Commune {
				t.Fatalf("record %d captured in %s, lives in %s; want %s", i+1, e.Capture.CommuneCode, e.PermanentResidence.UnitCode, cfg.Commune)
			}
			if e.Capture.CodeList != c.recs[0].Capture.CodeList || e.PermanentResidence.CodeList != e.Capture.CodeList {
				t.Fatalf("record %d: mixed code lists", i+1)
			}
			devices[e.Capture.Device] = true
		}
		if want := max(cfg.Devices, DefaultDevices*boolInt(cfg.Devices == 0)); len(devices) != want {
			t.Fatalf("%d devices used, want %d", len(devices), want)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestEmptyAndTiny(t *testing.T) {
	var out bytes.Buffer
	st, err := Generate(&out, nil, Config{Count: 0})
	if err != nil || out.Len() != 0 || st.Records != 0 {
		t.Fatalf("count 0: %v, %d bytes, %+v", err, out.Len(), st)
	}
	out.Reset()
	if _, err := Generate(&out, nil, Config{Count: 10, Noise: 0.2}); err != nil || bytes.Count(out.Bytes(), []byte("\n")) != 10 {
		t.Fatalf("no truth writer: %v, %d lines", err, bytes.Count(out.Bytes(), []byte("\n")))
	}
	c := build(t, Config{Count: 1, Seed: 1, Noise: 0.5})
	if c.truths[0].DuplicateOf != 0 {
		t.Fatal("the first record cannot be a re-enrollment")
	}
}
