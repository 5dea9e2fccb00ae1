package replicator

import (
	"fmt"
	"strings"
	"testing"
)

type closer struct {
	name   string
	closed *[]string
}

func (c closer) Close() error { *c.closed = append(*c.closed, c.name); return nil }

// TestPendingPoolEvictsTheOldestOfTheFullest is the admission rule table:
// who is closed when a new connection arrives.
func TestPendingPoolEvictsTheOldestOfTheFullest(t *testing.T) {
	type step struct {
		addr    string // admit from addr, or release "-name"
		release string
	}
	for _, tc := range []struct {
		name         string
		max, perAddr int
		steps        []step
		closed       string // names closed, in order
		pending      int
	}{
		{"under the bounds nothing is closed", 4, 2,
			[]step{{addr: "a"}, {addr: "b"}, {addr: "a"}}, "", 3},
		{"an address over its share loses its oldest", 10, 2,
			[]step{{addr: "a"}, {addr: "a"}, {addr: "b"}, {addr: "a"}}, "a1", 3},
		{"a full pool: the oldest of the fullest address goes, not the newcomer's", 4, 3,
			[]step{{addr: "x"}, {addr: "f"}, {addr: "f"}, {addr: "f"}, {addr: "x"}}, "f2", 4},
		{"equal shares: the oldest overall", 2, 1,
			[]step{{addr: "a"}, {addr: "b"}, {addr: "c"}}, "a1", 2},
		{"released entries free their place", 2, 2,
			[]step{{addr: "a"}, {addr: "a"}, {release: "a1"}, {addr: "b"}}, "", 2},
		{"releasing an evicted entry is a no-op", 1, 1,
			[]step{{addr: "a"}, {addr: "b"}, {release: "a1"}, {addr: "c"}}, "a1,b2", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPendingPool(tc.max, tc.perAddr)
			var closed []string
			byName := map[string]*pending{}
			for i, s := range tc.steps {
				if s.release != "" {
					p.release(byName[s.release])
					continue
				}
				name := fmt.Sprintf("%s%d", s.addr, i+1)
				byName[name] = p.admit(s.addr, closer{name, &closed})
			}
			got := fmt.Sprint(closed)
			want := fmt.Sprint(splitNonEmpty(tc.closed))
			if n, _ := p.stats(); got != want || n != tc.pending {
				t.Fatalf("closed %s, pending %d; want %s, %d", got, n, want, tc.pending)
			}
		})
	}
}

func splitNonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
