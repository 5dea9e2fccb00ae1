package wire

import (
	"bytes"
	"testing"
)

func TestColumnarRoundTrip(t *testing.T) {
	sets := [][]string{
		{`{"a":1,"b":"x"}`, `{"a":2,"b":"y"}`, `{"a":3}`},
		{`{"s":"esc \" \\ \u0041 ,:{}[]","n":-1.5e3,"t":true,"f":false,"z":null}`},
		{`{"arr":[1,"two",{"k":[]},[]],"o":{}}`, `[1,2,3]`, `"just a string"`, `42`},
		{"", "not json at all", "{\"a\":\"\x01\"}", `{"unterminated":"`, `{"a":1}}`, `]`},
		{`{"full_name":"Nguyễn Văn An","dob":"1985-03-12"}`, `{"full_name":"Trần Thị Hoa","dob":"1962-05-01"}`},
	}
	for _, set := range sets {
		payloads := make([][]byte, len(set))
		lens := make([]int, len(set))
		for i, p := range set {
			payloads[i], lens[i] = []byte(p), len(p)
		}
		sec := appendColumnar(nil, payloads)
		r := Reader{b: sec}
		got := decodeColumnar(&r, lens)
		if r.err != nil || r.off != len(sec) {
			t.Fatalf("%q: %v (read %d of %d)", set, r.err, r.off, len(sec))
		}
		for i := range set {
			if !bytes.Equal(got[i], payloads[i]) {
				t.Fatalf("payload %d: %q, want %q", i, got[i], payloads[i])
			}
		}
	}
}

func TestColumnarGroupsValues(t *testing.T) {
	sec := appendColumnar(nil, [][]byte{[]byte(`{"name":"An","dob":"1985"}`), []byte(`{"name":"Hoa","dob":"1962"}`)})
	if !bytes.Contains(sec, []byte("\"An\"\x00\"Hoa\"\x00\"1985\"\x00\"1962\"\x00")) {
		t.Fatalf("values must sit column by column: %q", sec)
	}
	if bytes.Count(sec, []byte(`"name"`)) != 1 {
		t.Fatalf("a template must be stored once: %q", sec)
	}
}

func FuzzColumnar(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":"x"}`), []byte(`{"a":2}`), []byte("raw"))
	f.Add([]byte(`[{"k":"\"v"}]`), []byte(""), []byte{0})
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		payloads := [][]byte{a, b, c}
		sec := appendColumnar(nil, payloads)
		r := Reader{b: sec}
		got := decodeColumnar(&r, []int{len(a), len(b), len(c)})
		if r.err != nil {
			t.Fatalf("own encoding refused: %v", r.err)
		}
		for i := range payloads {
			if !bytes.Equal(got[i], payloads[i]) {
				t.Fatalf("payload %d changed", i)
			}
		}
	})
}
