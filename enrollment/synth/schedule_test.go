package synth

import (
	"testing"
	"time"
)

// TestStationDays checks the campaign clock of one device over ~8 weeks:
// times increase, fall in sessions, and station-days hold 60–160 captures
// (normal days, with an evening) or 250–400 (peak days), DOMAIN.md §6.2.
func TestStationDays(t *testing.T) {
	start := time.Date(2025, 7, 1, 0, 0, 0, 0, ict)
	s := newStation(start, 9, 77)
	perDay := map[int]int{}
	var last time.Time
	for i := 0; i < 8000; i++ {
		at := s.next()
		if !at.After(last) {
			t.Fatalf("capture %d at %v, not after %v", i, at, last)
		}
		last = at
		perDay[s.day]++
		sec := int(at.Sub(s.day0.AddDate(0, 0, s.day)) / time.Second)
		if !inSessions(sec, s.plan) {
			t.Fatalf("capture %d at %v outside the day's sessions", i, at)
		}
	}
	peak, normal := 0, 0
	for d, n := range perDay {
		if d == s.day {
			continue // the last day is partial
		}
		switch {
		case n >= 250 && n <= 400:
			peak++
		case n >= 60 && n <= 160:
			normal++
		default:
			t.Errorf("day %d: %d captures", d, n)
		}
	}
	t.Logf("%d days: %d peak, %d normal, last capture %v", s.day+1, peak, normal, last)
	if peak < 7 || normal < 10 {
		t.Errorf("want bursts and normal days: %d peak, %d normal", peak, normal)
	}
}

func inSessions(sec int, plan []session) bool {
	for _, p := range plan {
		if sec >= p.from && sec < p.to {
			return true
		}
	}
	return false
}

func TestStationStartsAtStartTime(t *testing.T) {
	start := time.Date(2025, 7, 1, 15, 0, 0, 0, ict)
	s := newStation(start, 1, 2)
	if at := s.next(); at.Before(start) {
		t.Fatalf("first capture %v before start %v", at, start)
	}
}
