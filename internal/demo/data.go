package demo

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
)

// step is one capture a laptop makes at a campaign time: an enrollment,
// or (amends >= 0) a correction of its own earlier step with that id.
type step struct {
	id     int // stable while steps are sorted by time
	at     time.Time
	record enrollment.Enrollment
	amends int
	// blobs is the capture's dossier (its files are made when it is
	// captured), nil for a capture that carries none.
	blobs []synth.BlobSpec
}

// add appends a step with the next id.
func (l *laptopPlan) add(at time.Time, rec enrollment.Enrollment, amends int, blobs []synth.BlobSpec) {
	l.steps = append(l.steps, step{id: len(l.steps), at: at, record: rec, amends: amends, blobs: blobs})
}

// laptopPlan is one laptop and what it will capture.
type laptopPlan struct {
	name     string
	district int // index into the district plans
	commune  communePlan
	steps    []step
	// carrier names the laptop that carries this one's entries (its only
	// link), "" for a laptop with its own link to the hub.
	carrier string
}

// dataset is the whole demo's captures and the population per commune.
type dataset struct {
	laptops  []*laptopPlan
	expected map[string]int // commune code → eligible population
	// register is each commune's people as the population register holds
	// them (children and the absent included): its resident list.
	register map[string][]synth.Resident
	start    time.Time // first capture of the campaign
	end      time.Time // last
	moved    int       // people re-enrolled in another district
	corrects int       // conflicting corrections scripted
	dossiers int       // captures that carry their files
}

// buildData generates records per commune (Hà Tĩnh, 2023 code list, so
// addresses and routing use the districts of the time) and spreads them
// over the laptops, then adds the scripted scenarios.
func buildData(districts []districtPlan, records int, noise float64, seed uint64, dossiers int) (*dataset, error) {
	ds := &dataset{expected: map[string]int{}, register: map[string][]synth.Resident{}}
	communes := 0
	for _, d := range districts {
		communes += len(d.Communes)
	}
	per := max(1, records/communes)
	for di, d := range districts {
		var prev *laptopPlan
		for ci, c := range d.Communes {
			laptops, err := communeData(ds, di, d, c, per, noise, seed+uint64(di*100+ci))
			if err != nil {
				return nil, err
			}
			if c.Carried && prev != nil {
				laptops[0].carrier = prev.name
			}
			prev = laptops[0]
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0xdeb0))
	ds.moved = addMoves(ds, rng, max(4, records/400))
	ds.corrects = addCorrections(ds, rng, max(3, records/700))
	for _, l := range ds.laptops {
		sort.SliceStable(l.steps, func(i, j int) bool { return l.steps[i].at.Before(l.steps[j].at) })
	}
	ds.keepDossiers(dossiers)
	return ds, nil
}

// keepDossiers keeps the files of every k-th capture of each laptop, so
// that about n captures in all carry their dossiers.
func (ds *dataset) keepDossiers(n int) {
	total := 0
	for _, l := range ds.laptops {
		total += len(l.steps)
	}
	every := 0
	if n > 0 {
		every = max(1, total/n)
	}
	for _, l := range ds.laptops {
		for i := range l.steps {
			if every == 0 || i%every != 0 || l.steps[i].amends >= 0 {
				l.steps[i].blobs = nil
			} else if l.steps[i].blobs != nil {
				ds.dossiers++
			}
		}
	}
}

// communeData generates one commune's records and deals them to its
// laptops by capture station.
func communeData(ds *dataset, di int, d districtPlan, c communePlan, n int, noise float64, seed uint64) ([]*laptopPlan, error) {
	g, err := synth.New(synth.Config{Count: n, Seed: seed, Commune: c.Code, CodeList: enrollment.CodeList2023, Noise: noise, Devices: c.Laptops})
	if err != nil {
		return nil, fmt.Errorf("demo: commune %s: %w", c.Code, err)
	}
	laptops := make([]*laptopPlan, c.Laptops)
	for i := range laptops {
		laptops[i] = &laptopPlan{name: fmt.Sprintf("laptop-%s-%d", c.Code, i+1), district: di, commune: c}
	}
	stations := map[string]int{}
	for r, ok := g.Next(); ok; r, ok = g.Next() {
		st, seen := stations[r.Enrollment.Capture.Device]
		if !seen {
			st = len(stations) % len(laptops)
			stations[r.Enrollment.Capture.Device] = st
		}
		rec := r.Enrollment
		rec.Capture.Device = "" // the laptop stamps its own device ID
		laptops[st].add(rec.Capture.CapturedAt, rec, -1, r.Blobs)
		ds.span(rec.Capture.CapturedAt)
	}
	if err := g.Err(); err != nil {
		return nil, err
	}
	ds.expected[c.Code] = g.Stats().Eligible
	ds.register[c.Code] = g.Register()
	ds.laptops = append(ds.laptops, laptops...)
	return laptops, nil
}

func (ds *dataset) span(t time.Time) {
	if ds.start.IsZero() || t.Before(ds.start) {
		ds.start = t
	}
	if t.After(ds.end) {
		ds.end = t
	}
}

// addMoves re-enrolls people in another district, as after a move: a
// mistyped or missing ID number and the name in capitals, so the hubs see
// two keys for one person — probable duplicates across districts, for the
// province to review.
func addMoves(ds *dataset, rng *rand.Rand, n int) int {
	done := 0
	for tries := 0; done < n && tries < n*20; tries++ {
		from := ds.laptops[rng.IntN(len(ds.laptops))]
		to := ds.laptops[rng.IntN(len(ds.laptops))]
		if from.district == to.district || len(from.steps) == 0 || to.carrier != "" {
			continue
		}
		orig := from.steps[rng.IntN(len(from.steps))]
		if orig.amends >= 0 || len(orig.record.PersonalID) != 12 {
			continue
		}
		rec := orig.record
		rec.FullName = strings.ToUpper(rec.FullName)
		if rng.IntN(2) == 0 {
			rec.PersonalID = transpose(rec.PersonalID, 6+rng.IntN(5))
		} else {
			rec.PersonalID = "" // came without the card: a provisional key
		}
		place := enrollment.Place{UnitCode: to.commune.Code, CodeList: enrollment.CodeList2023, Text: to.commune.Name + ", Tỉnh Hà Tĩnh"}
		rec.CurrentResidence = &place
		rec.Capture.CommuneCode, rec.Capture.Officer = to.commune.Code, "CA"+to.commune.Code+"-moved"
		rec.Capture.CapturedAt = ds.start.Add(time.Duration(rng.Int64N(int64(ds.end.Sub(ds.start)) + 1)))
		to.add(rec.Capture.CapturedAt, rec, -1, orig.blobs)
		done++
	}
	return done
}

// addCorrections scripts conflicting corrections: an officer corrects the
// date of birth of a capture, while a colleague on the other laptop of the
// same commune captures the person again with the old date. Neither saw
// the other: a conflict for the district to review.
func addCorrections(ds *dataset, rng *rand.Rand, n int) int {
	done := 0
	for tries := 0; done < n && tries < n*20; tries++ {
		l := ds.laptops[rng.IntN(len(ds.laptops))]
		other := colleague(ds, l)
		if other == nil || len(l.steps) == 0 {
			continue
		}
		i := rng.IntN(len(l.steps))
		orig := l.steps[i]
		if orig.amends >= 0 || orig.record.DateOfBirth.Day == 0 {
			continue
		}
		fixed := orig.record
		fixed.DateOfBirth.Day = fixed.DateOfBirth.Day%28 + 1
		later := orig.at.Add(26 * time.Hour)
		l.add(later, fixed, orig.id, nil)
		again := orig.record
		again.Capture.CapturedAt = later.Add(2 * time.Hour)
		other.add(again.Capture.CapturedAt, again, -1, orig.blobs)
		ds.span(again.Capture.CapturedAt)
		done++
	}
	return done
}

// colleague returns the other laptop of l's commune, if any.
func colleague(ds *dataset, l *laptopPlan) *laptopPlan {
	for _, o := range ds.laptops {
		if o != l && o.commune.Code == l.commune.Code {
			return o
		}
	}
	return nil
}

// transpose swaps digits i and i+1 (a typing slip).
func transpose(s string, i int) string {
	b := []byte(s)
	if i+1 < len(b) && b[i] != b[i+1] {
		b[i], b[i+1] = b[i+1], b[i]
	} else if i > 0 {
		b[i], b[i-1] = b[i-1], b[i]
	}
	return string(b)
}
