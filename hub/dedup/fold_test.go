package dedup

import (
	"strings"
	"testing"

	"fieldsync/enrollment"
)

// TestBlockingKeysUseFoldKey pins the blocking keys to enrollment.FoldKey,
// the project's one accent fold: the folded name parts the blocks hash
// are FoldKey's words, and a relative's folded name is FoldKey of it,
// on generated records (with their NFD, uppercase and unaccented names).
func TestBlockingKeysUseFoldKey(t *testing.T) {
	for _, r := range synthRecordsNoise(t, 2000, 5, 0.3) {
		p := newProfile(&r)
		w := strings.Fields(enrollment.FoldKey(r.Enrollment.FullName))
		if len(w) < 2 {
			continue
		}
		if p.surnameFold != w[0] || p.givenFold != w[len(w)-1] || strings.Join(p.middleFold, " ") != strings.Join(w[1:len(w)-1], " ") {
			t.Fatalf("%q: profile folds %q %q %q, FoldKey words %q", r.Enrollment.FullName, p.surnameFold, p.middleFold, p.givenFold, w)
		}
		for _, rel := range []struct {
			r *relative
			e *enrollment.Relative
		}{{&p.father, r.Enrollment.Father}, {&p.mother, r.Enrollment.Mother}, {&p.head, r.Enrollment.HouseholdHead}} {
			if rel.e != nil && rel.r.foldName() != enrollment.FoldKey(rel.e.FullName) {
				t.Fatalf("relative %q folds to %q, FoldKey %q", rel.e.FullName, rel.r.foldName(), enrollment.FoldKey(rel.e.FullName))
			}
		}
	}
}
