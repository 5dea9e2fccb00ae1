package synth

import (
	"fmt"
	"math"
	"time"

	"fieldsync/enrollment"
)

// Config says what to generate. The zero value of every optional field
// picks a documented default (see Defaults).
type Config struct {
	// Count is the number of records to emit in total: originals plus
	// noisy re-enrollments. At most MaxCount.
	Count int
	// Seed selects the universe: the same seed and config give
	// byte-identical output.
	Seed uint64
	// Commune, if set, is a 5-digit commune code of CodeList: every record
	// is captured there. Empty spreads households over all of Hà Tĩnh's
	// communes, weighted by a plausible population.
	Commune string
	// CodeList is the code-list version of addresses and capture communes:
	// enrollment.CodeList2025 (default; captures from 2025-07-01) or
	// enrollment.CodeList2023 (the 216 communes of the 2021-2023 campaign;
	// captures before 2025-01-01). If empty and Commune is a code of the
	// 2023 list only, CodeList2023 is chosen.
	CodeList string
	// Noise is the fraction of emitted records that are re-enrollments of
	// an already-emitted person, with realistic defects. In [0, MaxNoise].
	Noise float64
	// Start is the campaign's first day (Vietnam time); capture times
	// follow the campaign patterns from there. Zero picks 2025-07-01 for
	// CodeList2025 and 2023-03-01 for CodeList2023.
	Start time.Time
	// Devices and Officers are the capture devices and officers per
	// commune (defaults 2 and 6; officers are split among devices).
	Devices  int
	Officers int
}

// Limits and defaults.
const (
	MaxCount        = 20_000_000
	MaxNoise        = 0.5
	DefaultDevices  = 2
	DefaultOfficers = 6
	maxDevices      = 50
	maxOfficers     = 200
)

// Validity windows of the code lists for capture times. The 2023-04 list
// describes Hà Tĩnh's 216 communes of the chip-ID campaign (2021–May 2023);
// Hà Tĩnh's units changed again from 2025 (DOMAIN.md §4.2: 210 communes by
// March 2025), so captures under it must precede 2025-01-01 [E]. The 2025
// list is in force from 2025-07-01 (DOMAIN.md §4.1).
var (
	window2023From = time.Date(2021, 1, 1, 0, 0, 0, 0, ict)
	window2023To   = time.Date(2025, 1, 1, 0, 0, 0, 0, ict)
	window2025From = time.Date(2025, 7, 1, 0, 0, 0, 0, ict)
	law2023From    = time.Date(2024, 7, 1, 0, 0, 0, 0, ict) // Law on Identification 2023: cards under 14, iris
)

// Defaults returns cfg with every optional field filled in.
func (cfg Config) Defaults() Config {
	if cfg.CodeList == "" {
		cfg.CodeList = enrollment.CodeList2025
		_, in2025 := enrollment.UnitByCode(enrollment.CodeList2025, cfg.Commune)
		_, in2023 := enrollment.UnitByCode(enrollment.CodeList2023, cfg.Commune)
		if cfg.Commune != "" && !in2025 && in2023 {
			cfg.CodeList = enrollment.CodeList2023
		}
	}
	if cfg.Start.IsZero() {
		cfg.Start = window2025From
		if cfg.CodeList == enrollment.CodeList2023 {
			cfg.Start = time.Date(2023, 3, 1, 0, 0, 0, 0, ict)
		}
	}
	if cfg.Devices == 0 {
		cfg.Devices = DefaultDevices
	}
	if cfg.Officers == 0 {
		cfg.Officers = max(DefaultOfficers, cfg.Devices)
	}
	return cfg
}

// validate checks a defaulted config.
func (cfg Config) validate() error {
	switch {
	case cfg.Count < 0 || cfg.Count > MaxCount:
		return fmt.Errorf("synth: count %d out of range [0, %d]", cfg.Count, MaxCount)
	case math.IsNaN(cfg.Noise) || cfg.Noise < 0 || cfg.Noise > MaxNoise:
		return fmt.Errorf("synth: noise %v out of range [0, %v]", cfg.Noise, MaxNoise)
	case cfg.CodeList != enrollment.CodeList2023 && cfg.CodeList != enrollment.CodeList2025:
		return fmt.Errorf("synth: unknown code list %q (want %q or %q)", cfg.CodeList, enrollment.CodeList2025, enrollment.CodeList2023)
	case cfg.Devices < 1 || cfg.Devices > maxDevices:
		return fmt.Errorf("synth: devices per commune %d out of range [1, %d]", cfg.Devices, maxDevices)
	case cfg.Officers < cfg.Devices || cfg.Officers > maxOfficers:
		return fmt.Errorf("synth: officers per commune %d out of range [devices=%d, %d]", cfg.Officers, cfg.Devices, maxOfficers)
	}
	if cfg.Commune != "" {
		u, ok := enrollment.UnitByCode(cfg.CodeList, cfg.Commune)
		if !ok || u.Level != "commune" {
			return fmt.Errorf("synth: %q is not a commune code of code list %s", cfg.Commune, cfg.CodeList)
		}
	}
	return cfg.checkWindow()
}

// checkWindow checks that Start lies in the code list's validity window.
func (cfg Config) checkWindow() error {
	s := cfg.Start.In(ict)
	if cfg.CodeList == enrollment.CodeList2025 {
		if s.Before(window2025From) {
			return fmt.Errorf("synth: start %s precedes code list %s (in force from %s)", s.Format(time.DateOnly), cfg.CodeList, window2025From.Format(time.DateOnly))
		}
		return nil
	}
	if s.Before(window2023From) || !s.Before(window2023To) {
		return fmt.Errorf("synth: start %s outside the window of code list %s [%s, %s)", s.Format(time.DateOnly), cfg.CodeList,
			window2023From.Format(time.DateOnly), window2023To.Format(time.DateOnly))
	}
	return nil
}

// checkDuration estimates the campaign's last capture day from the busiest
// commune's share and rejects configs that would run past the code list's
// window: 60 captures per normal station-day, 5 working days a week, plus
// the longest re-enrollment delay.
func (cfg Config) checkDuration(busiestShare float64) error {
	if cfg.CodeList != enrollment.CodeList2023 {
		return nil
	}
	perDevice := float64(cfg.Count) * busiestShare / float64(cfg.Devices)
	days := int(perDevice/60*7/5) + maxReenrollDelay + 7
	end := cfg.Start.In(ict).AddDate(0, 0, days)
	if !end.Before(window2023To) {
		return fmt.Errorf("synth: %d records would run to about %s, past the end of code list %s (%s): start earlier, add devices or use %s",
			cfg.Count, end.Format(time.DateOnly), cfg.CodeList, window2023To.Format(time.DateOnly), enrollment.CodeList2025)
	}
	return nil
}
