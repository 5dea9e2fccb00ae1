package synth

import (
	"math"
	"math/rand/v2"
	"time"
)

// ict is Vietnam's time zone (UTC+7, no daylight saving). A fixed zone
// keeps output independent of the host's tz database.
var ict = time.FixedZone("ICT", 7*3600)

// session is a working window of a station, in seconds after the day's
// local midnight (may pass 24h: night shifts run past midnight).
type session struct{ from, to int }

// Station-day patterns, DOMAIN.md §6.2 [C/E]: a normal day shift handles
// 60–120 enrolments; a peak day on 2–3 shifts 250–400, with evening and
// night sessions ("6:00 to 5:00 next morning" in Da Nang; H'Mông farmers
// at 22:00; Điện Biên "until 1 or 2 in the morning"), 7 days a week.
var (
	morning   = session{7*3600 + 30*60, 11*3600 + 30*60}
	afternoon = session{13*3600 + 30*60, 17 * 3600}
	evening   = session{19 * 3600, 21*3600 + 30*60}

	peakMorning   = session{7 * 3600, 11*3600 + 30*60}
	peakAfternoon = session{13 * 3600, 17*3600 + 30*60}
	peakEvening   = session{18*3600 + 30*60, 22*3600 + 30*60}
	peakNight     = session{22*3600 + 30*60, 25 * 3600}
)

// Day-plan rates [E]: peak weeks (the first, then ~30% of weeks: campaign
// "bursts"), evening sessions on normal days, weekend work.
const (
	peakWeekShare   = 0.30
	peakNightShare  = 0.35
	eveningShare    = 0.25
	saturdayShare   = 0.5
	sundayShare     = 0.2
	weekdayOffShare = 0.05
)

// station is one capture device's clock: it hands out capture times in
// order, filling each working day up to its capacity.
type station struct {
	rng   *rand.Rand
	day0  time.Time // local midnight of the campaign's first day
	day   int
	plan  []session
	si    int     // current session
	t     float64 // seconds after day's midnight
	left  int     // captures left today
	gap   float64 // mean seconds between captures today
	first int     // seconds after midnight of Start on day 0
	salt  uint64  // per-station hash key for the burst weeks
}

// newStation starts a station at start (its local date is day 0).
func newStation(start time.Time, seed, salt uint64) *station {
	s := start.In(ict)
	midnight := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, ict)
	st := &station{rng: rand.New(rand.NewPCG(seed, salt)), day0: midnight, day: -1, salt: mix64(seed ^ salt)}
	st.first = int(s.Sub(midnight) / time.Second)
	return st
}

// next returns the next capture time.
func (s *station) next() time.Time {
	for s.left <= 0 || s.si >= len(s.plan) {
		s.planDay()
	}
	t := s.day0.AddDate(0, 0, s.day).Add(time.Duration(s.t) * time.Second)
	s.left--
	s.advance()
	return t
}

// advance moves the clock past one capture, to the next session if the
// current one is over.
func (s *station) advance() {
	s.t += s.gap * (0.4 + 1.2*s.rng.Float64())
	for s.si < len(s.plan) && s.t >= float64(s.plan[s.si].to) {
		s.si++
		if s.si < len(s.plan) {
			s.t = float64(s.plan[s.si].from) + 300*s.rng.Float64()
		}
	}
}

// planDay moves to the next working day and plans its sessions.
func (s *station) planDay() {
	for {
		s.day++
		plan, capacity := s.dayPlan()
		if len(plan) == 0 {
			continue
		}
		s.plan, s.si, s.left = plan, 0, capacity
		total := 0
		for _, p := range plan {
			total += p.to - p.from
		}
		// A little faster than total/capacity, so that the day's capacity
		// is reached before its last session ends (the team then stops).
		s.gap = float64(total) / (float64(capacity) * 1.1)
		s.t = float64(plan[0].from) + 600*s.rng.Float64()
		if s.day == 0 {
			s.skipBefore(float64(s.first))
		}
		if s.si < len(s.plan) {
			return
		}
	}
}

// skipBefore drops the parts of day 0 before the campaign's start time.
func (s *station) skipBefore(t float64) {
	for s.si < len(s.plan) && float64(s.plan[s.si].to) <= t {
		s.si++
	}
	if s.si < len(s.plan) && s.t < t {
		s.t = math.Max(t, float64(s.plan[s.si].from))
	}
}

// dayPlan draws the sessions and capacity of the current day; no sessions
// means a day off.
func (s *station) dayPlan() ([]session, int) {
	wd := s.day0.AddDate(0, 0, s.day).Weekday()
	if s.peakWeek(s.day / 7) {
		plan := []session{peakMorning, peakAfternoon, peakEvening}
		if chance(s.rng, peakNightShare) {
			plan = append(plan, peakNight)
		}
		return plan, between(s.rng, 250, 400)
	}
	switch {
	case wd == time.Sunday && !chance(s.rng, sundayShare),
		wd == time.Saturday && !chance(s.rng, saturdayShare),
		chance(s.rng, weekdayOffShare):
		return nil, 0
	}
	plan := []session{morning, afternoon}
	capacity := between(s.rng, 60, 120)
	if chance(s.rng, eveningShare) {
		plan = append(plan, evening)
		capacity += between(s.rng, 15, 40)
	}
	return plan, capacity
}

// peakWeek reports whether week w is a campaign burst for this station.
// The first week always is; later ones by a per-station hash.
func (s *station) peakWeek(w int) bool {
	if w == 0 {
		return true
	}
	return mix64(s.salt^uint64(w)*0x9e3779b97f4a7c15)%1000 < uint64(peakWeekShare*1000)
}
