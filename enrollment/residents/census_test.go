package residents

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"fieldsync/enrollment"
)

const (
	hubA   = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	hubB   = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	laptop = "cccccccccccccccccccccccccccccccc"
	other  = "dddddddddddddddddddddddddddddddd"
)

func pid(i int) string { return fmt.Sprintf("0420%02d%06d", 85, i) }

func row(i int, year int) Resident {
	return Resident{PersonalID: pid(i), FullName: fmt.Sprintf("Nguyễn Văn %d", i), DateOfBirth: enrollment.Date{Year: year, Month: 3, Day: 12}, Sex: enrollment.Male}
}

func list(commune string, rows ...Resident) *List {
	return &List{Commune: commune, CodeList: enrollment.CodeList2023, AsOf: "2025-03-01", MinAge: 14, Residents: rows}
}

// op is one entry for the census, applied in any order.
type op struct {
	at     Ref
	hlc    uint64
	list   *List
	status *Status
}

func apply(c *Census, o op) {
	if o.list != nil {
		c.ApplyList(o.at, o.hlc, o.list)
	} else {
		c.ApplyStatus(o.at, o.status)
	}
}

func status(p, code string, at time.Time, supersedes ...string) *Status {
	return &Status{PersonalID: p, Commune: "18586", Status: Code(code), Officer: "CA-18586-01", SetAt: at, Supersedes: supersedes}
}

var t0 = time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC)

// scenario: two communes, a re-import that moves a person and removes
// another, statuses from two laptops with a supersede and a concurrent
// pair, a child, a year-only elder, a captured person.
func scenario() []op {
	return []op{
		{at: Ref{hubA, 2}, hlc: 100, list: list("18586", row(1, 1980), row(2, 1990), row(3, 2015), Resident{PersonalID: pid(4), FullName: "Lê Thị Bốn", DateOfBirth: enrollment.Date{Year: 2011}, Sex: enrollment.Female}, row(5, 1950), row(6, 1970))},
		{at: Ref{hubA, 3}, hlc: 101, list: list("18571", row(7, 1985), row(8, 1986))},
		// a later import: 6 moved to 18571, 5 removed from the register
		{at: Ref{hubA, 4}, hlc: 200, list: &List{Commune: "18571", CodeList: enrollment.CodeList2023, AsOf: "2025-03-05", MinAge: 14, Residents: []Resident{row(6, 1970)}, Removed: []string{pid(5)}}},
		// another hub's older import of 1 loses to hubA's (earlier HLC)
		{at: Ref{hubB, 2}, hlc: 50, list: list("18571", row(1, 1980))},
		{at: Ref{laptop, 10}, status: status(pid(2), "away", t0)},
		{at: Ref{laptop, 11}, status: status(pid(2), "not-yet", t0.Add(-time.Hour))}, // later seq follows, whatever the clock
		{at: Ref{other, 5}, status: status(pid(7), "refused", t0)},
		{at: Ref{laptop, 12}, status: status(pid(7), "deceased", t0.Add(time.Hour), other+":5")},
		{at: Ref{other, 6}, status: status(pid(8), "away", t0)},
		{at: Ref{laptop, 13}, status: status(pid(8), "moved", t0.Add(time.Minute))}, // concurrent with other:6
		{at: Ref{laptop, 14}, status: status(pid(9), "away", t0)},                   // not on any list
	}
}

func captured(pids ...string) func(string) bool {
	set := map[string]bool{}
	for _, p := range pids {
		set[p] = true
	}
	return func(p string) bool { return set[p] }
}

func TestCensusRules(t *testing.T) {
	c := NewCensus(Config{Captured: captured(pid(1))})
	for _, o := range scenario() {
		apply(c, o)
	}
	kenh := c.Commune("18586")
	// 1 captured; 2 not yet (its latest status); 3 a child; 4 born 2011
	// (year only: not 14 before 31/12/2025); 5 removed; 6 moved away.
	want := Counts{Residents: 4, NotEligible: 2, Eligible: 2, Enrolled: 1, Missing: 1}
	if kenh != want {
		t.Errorf("Thạch Kênh: %+v\nwant %+v", kenh, want)
	}
	hai := c.Commune("18571")
	// 6 no status (missing), 7 deceased (supersedes refused), 8 moved (concurrent with away, later by set_at)
	want = Counts{Residents: 3, Eligible: 3, Accounted: 2, Deceased: 1, Moved: 1, Missing: 1}
	if hai != want {
		t.Errorf("Thạch Hải: %+v\nwant %+v", hai, want)
	}
	p8, _ := c.Person(pid(8))
	if p8.Status == nil || p8.Status.Status != MovedOut || !p8.Status.Concurrent || len(p8.Status.Current) != 2 {
		t.Errorf("person 8: %+v", p8.Status)
	}
	p1, _ := c.Person(pid(1))
	if p1.Commune != "18586" || p1.Row.Entry != (Ref{hubA, 2}) || p1.Category != CatEnrolled {
		t.Errorf("person 1: %+v (the later import must stand)", p1)
	}
	if p5, _ := c.Person(pid(5)); !p5.Removed || p5.Category != CatNone {
		t.Errorf("person 5: %+v", p5)
	}
	missing, n := c.People("18571", 0, CatMissing)
	if n != 1 || missing[0].PersonalID != pid(6) {
		t.Errorf("missing in Thạch Hải: %+v", missing)
	}
	if c.Commune("18586").Complete() {
		t.Error("Thạch Kênh has someone missing")
	}
	// Enrolling 2 completes Thạch Kênh.
	c.ApplyStatus(Ref{laptop, 20}, status(pid(2), "enrolled", t0))
	if got := c.Commune("18586"); !got.Complete() || got.Enrolled != 2 {
		t.Errorf("after enrolling 2: %+v", got)
	}
}

// TestCensusIsAFunctionOfTheSet applies the scenario in 500 orders, with
// duplicates, and captures noted before or after: one digest, one count.
func TestCensusIsAFunctionOfTheSet(t *testing.T) {
	ops := scenario()
	var want string
	for seed := range uint64(500) {
		rng := rand.New(rand.NewPCG(seed, 7))
		order := append([]op(nil), ops...)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		if seed%3 == 0 {
			order = append(order, order[:3]...)
		}
		var isCaptured bool
		c := NewCensus(Config{Captured: func(p string) bool { return isCaptured && p == pid(1) }})
		late := rng.IntN(len(order))
		for i, o := range order {
			if i == late {
				isCaptured = true
				c.CaptureChanged(pid(1))
			}
			apply(c, o)
		}
		got := c.Digest() + fmt.Sprint(c.Communes())
		if seed == 0 {
			want = got
		} else if got != want {
			t.Fatalf("order %d: %s\nwant %s", seed, got, want)
		}
	}
}

func TestEligibleAt(t *testing.T) {
	asOf := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		dob  enrollment.Date
		want bool
	}{
		{enrollment.Date{Year: 2011, Month: 3, Day: 1}, true},
		{enrollment.Date{Year: 2011, Month: 3, Day: 2}, false},
		{enrollment.Date{Year: 2011, Month: 2}, true},
		{enrollment.Date{Year: 2011, Month: 3}, false}, // could be born 31/03/2011
		{enrollment.Date{Year: 2010}, true},
		{enrollment.Date{Year: 2011}, false},
		{enrollment.Date{}, true},
		{enrollment.Date{Year: 2008, Month: 2, Day: 29}, true},
		{enrollment.Date{Year: 2011, Month: 2, Day: 31}, true}, // impossible day: the month's last
	} {
		if got := eligibleAt(c.dob, asOf, 14); got != c.want {
			t.Errorf("born %s: eligible %v, want %v", c.dob, got, c.want)
		}
	}
}

func retract(c *Census, o op) {
	if o.list != nil {
		c.RetractList(o.at, o.hlc, o.list)
	} else {
		c.RetractStatus(o.at, o.status)
	}
}

// TestRetractIsTheInverse: applying every entry and then retracting some
// (in any order) shows what applying only the others shows.
func TestRetractIsTheInverse(t *testing.T) {
	ops := scenario()
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 9))
		var kept []op
		var gone []op
		for _, o := range ops {
			if rng.IntN(3) == 0 {
				gone = append(gone, o)
			} else {
				kept = append(kept, o)
			}
		}
		want := NewCensus(Config{Captured: captured(pid(1)), KeepRows: true})
		for _, o := range kept {
			apply(want, o)
		}
		got := NewCensus(Config{Captured: captured(pid(1)), KeepRows: true})
		order := append([]op(nil), ops...)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, o := range order {
			apply(got, o)
		}
		rng.Shuffle(len(gone), func(i, j int) { gone[i], gone[j] = gone[j], gone[i] })
		for _, o := range gone {
			retract(got, o)
			retract(got, o) // twice: nothing more
		}
		if got.Digest() != want.Digest() || fmt.Sprint(got.Communes()) != fmt.Sprint(want.Communes()) || got.Len() != want.Len() {
			t.Fatalf("seed %d: after retracting %d entries: %v (%d people)\nwant %v (%d people)", seed, len(gone), got.Communes(), got.Len(), want.Communes(), want.Len())
		}
		for k, p := range want.m().people {
			if q := got.m().people[k]; q == nil || (p.resident == nil) != (q.resident == nil) {
				t.Fatalf("seed %d: person %d rows kept differ", seed, k)
			}
		}
	}
}
