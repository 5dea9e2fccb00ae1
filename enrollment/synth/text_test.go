package synth

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"fieldsync/enrollment"
)

func TestPlaceTone(t *testing.T) {
	tests := []struct {
		in       string
		old, new string
		choice   bool
	}{
		{"Hòa", "Hòa", "Hoà", true},
		{"hoà", "hòa", "hoà", true},
		{"Thủy", "Thủy", "Thuỷ", true},
		{"Thuý", "Thúy", "Thuý", true},
		{"Thùy", "Thùy", "Thuỳ", true},
		{"khỏe", "khỏe", "khoẻ", true},
		{"HÒA", "HÒA", "HOÀ", true},
		{"Quý", "Quý", "Quý", false},       // qu is the onset
		{"Hoàng", "Hoàng", "Hoàng", false}, // final consonant: tone fixed
		{"Huỳnh", "Huỳnh", "Huỳnh", false},
		{"Khoa", "Khoa", "Khoa", false}, // no tone
		{"Nguyễn", "Nguyễn", "Nguyễn", false},
	}
	for _, tc := range tests {
		if got := placeTone(tc.in, oldTone); got != tc.old {
			t.Errorf("placeTone(%q, old) = %q, want %q", tc.in, got, tc.old)
		}
		if got := placeTone(tc.in, newTone); got != tc.new {
			t.Errorf("placeTone(%q, new) = %q, want %q", tc.in, got, tc.new)
		}
		if got := hasToneChoice(tc.in); got != tc.choice {
			t.Errorf("hasToneChoice(%q) = %v", tc.in, got)
		}
		if !norm.NFC.IsNormalString(placeTone(tc.in, newTone)) {
			t.Errorf("placeTone(%q) is not NFC", tc.in)
		}
	}
	if got := withToneStyle("Nguyễn Thị Thủy Hòa", newTone); got != "Nguyễn Thị Thuỷ Hoà" {
		t.Errorf("withToneStyle = %q", got)
	}
}

func TestStripDiacritics(t *testing.T) {
	tests := map[string]string{
		"Nguyễn Thị Hoa":    "Nguyen Thi Hoa",
		"Đặng Văn Đức":      "Dang Van Duc",
		"TRẦN ĐÌNH HƯỞNG":   "TRAN DINH HUONG",
		toNFD("Lê Thị Ánh"): "Le Thi Anh",
	}
	for in, want := range tests {
		if got := stripDiacritics(in); got != want {
			t.Errorf("stripDiacritics(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNameRendering(t *testing.T) {
	n := personName{Surname: "Nguyễn", Middle: []string{"Thị", "Thu"}, Given: "Thủy", Style: newTone}
	if got := n.String(); got != "Nguyễn Thị Thu Thuỷ" {
		t.Fatalf("got %q", got)
	}
	g, _ := New(Config{Count: 1})
	p := &person{name: n, pin: "042190123456", dob: enrollment.Date{Year: 1990, Month: 4, Day: 3}}
	tests := []struct {
		kinds []string
		name  string
		pin   string
		dob   enrollment.Date
	}{
		{[]string{NoiseToneStyle}, "Nguyễn Thị Thu Thủy", p.pin, p.dob},
		{[]string{NoiseMiddleDropped, NoiseUppercase}, "NGUYỄN THU THUỶ", p.pin, p.dob},
		{[]string{NoiseNoDiacritics, NoiseIDLostZero}, "Nguyen Thi Thu Thuy", "42190123456", p.dob},
		{[]string{NoiseIDMissing, NoiseDOBSwapped}, "Nguyễn Thị Thu Thuỷ", "", enrollment.Date{Year: 1990, Month: 3, Day: 4}},
		{[]string{NoiseDOBYearOnly}, "Nguyễn Thị Thu Thuỷ", p.pin, enrollment.Date{Year: 1990}},
		{[]string{NoiseDOB0101}, "Nguyễn Thị Thu Thuỷ", p.pin, enrollment.Date{Year: 1990, Month: 1, Day: 1}},
	}
	for _, tc := range tests {
		name, pin, dob := g.applyKinds(p, tc.kinds)
		if name != tc.name || pin != tc.pin || dob != tc.dob {
			t.Errorf("%v: got %q %q %v, want %q %q %v", tc.kinds, name, pin, dob, tc.name, tc.pin, tc.dob)
		}
	}
	if name, _, _ := g.applyKinds(p, []string{NoiseNFD}); name == n.String() || norm.NFC.String(name) != n.String() {
		t.Errorf("nfd: %q", name)
	}
	p.name.Surname = "Vũ"
	if name, _, _ := g.applyKinds(p, []string{NoiseSurnameVariant}); !strings.HasPrefix(name, "Võ ") {
		t.Errorf("surname variant: %q", name)
	}
}

func TestPINDefects(t *testing.T) {
	g, _ := New(Config{Count: 1})
	pin := "042190123456"
	for i := 0; i < 200; i++ {
		for _, k := range []string{NoiseIDTransposed, NoiseIDDigitMistyped, NoiseIDDigitDropped} {
			got := g.mutatePIN(pin, []string{k})
			if got == pin || !strings.HasPrefix(got, "04") {
				t.Fatalf("%s: %q", k, got)
			}
			if k == NoiseIDDigitDropped && len(got) != 11 || k != NoiseIDDigitDropped && len(got) != 12 {
				t.Fatalf("%s: %q", k, got)
			}
		}
	}
	if !transposable("042190123456") || transposable("042111111111") {
		t.Fatal("transposable")
	}
}

func TestCenturySex(t *testing.T) {
	tests := []struct {
		sex  enrollment.Sex
		year int
		want int
	}{
		{enrollment.Male, 1953, 0}, {enrollment.Female, 1953, 1},
		{enrollment.Male, 2005, 2}, {enrollment.Female, 2099, 3},
		{enrollment.Male, 2100, 4},
	}
	for _, tc := range tests {
		if got := centurySex(tc.sex, tc.year); got != tc.want {
			t.Errorf("centurySex(%s, %d) = %d, want %d", tc.sex, tc.year, got, tc.want)
		}
	}
}

func TestFeistelIsAPermutation(t *testing.T) {
	seen := make([]bool, bucketCapacity)
	for n := uint32(0); n < bucketCapacity; n++ {
		v := feistel(n, 12345)
		if v >= bucketCapacity || seen[v] {
			t.Fatalf("feistel(%d) = %d repeats or overflows", n, v)
		}
		seen[v] = true
	}
}

func TestPINBucketExhaustion(t *testing.T) {
	a := newPINAllocator(1)
	a.next[pinBucket{"042", 0, 70}] = bucketCapacity - 1
	if _, err := a.mint("042", enrollment.Male, 1970); err != nil {
		t.Fatal(err)
	}
	if _, err := a.mint("042", enrollment.Male, 1970); err == nil {
		t.Fatal("no error on an exhausted bucket")
	}
}

func TestWeightedPick(t *testing.T) {
	w := newWeighted([]entry[string]{{"a", 1}, {"b", 0}, {"c", 3}})
	r := rand.New(rand.NewPCG(1, 2))
	counts := map[string]int{}
	for i := 0; i < 40000; i++ {
		counts[w.pick(r)]++
	}
	if counts["b"] != 0 || counts["a"] < 9000 || counts["a"] > 11000 {
		t.Fatalf("counts %v", counts)
	}
	if s := w.share(1); s != 0.75 {
		t.Fatalf("share %v", s)
	}
}

func TestLaterSlot(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	at := time.Date(2025, 7, 5, 22, 0, 0, 0, ict)
	for i := 0; i < 1000; i++ {
		s := laterSlot(r, at)
		d := s.Sub(at)
		if d < 2*time.Hour || d > (maxReenrollDelay+2)*24*time.Hour || s.Weekday() == time.Sunday {
			t.Fatalf("later slot %v after %v", s, at)
		}
		if h := s.Hour(); h < 7 || h >= 17 {
			t.Fatalf("later slot at %v", s)
		}
	}
}
