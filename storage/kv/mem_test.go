package kv_test

import (
	"testing"

	"fieldsync/storage/kv"
	"fieldsync/storage/kv/kvtest"
)

func TestMemConformance(t *testing.T) {
	kvtest.Run(t, func(*testing.T) kv.DB { return kv.NewMem() })
}

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct{ in, want string }{{"a", "b"}, {"a\xff", "b"}, {"\xff\xff", ""}, {"ab", "ac"}} {
		if got := string(kv.PrefixEnd([]byte(tc.in))); got != tc.want {
			t.Errorf("PrefixEnd(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
