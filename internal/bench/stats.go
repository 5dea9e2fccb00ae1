package bench

import (
	"sort"
	"time"
)

// Percentiles of a set of durations.
type Percentiles struct {
	N        int           `json:"n"`
	P50, P99 time.Duration `json:"-"`
	Max      time.Duration `json:"-"`
	P50us    float64       `json:"p50_us"`
	P99us    float64       `json:"p99_us"`
	MaxUs    float64       `json:"max_us"`
	// TimedOut counts requests that hit the client's bound (a minute):
	// their samples are the bound.
	TimedOut int `json:"timed_out,omitempty"`
}

func percentiles(ds []time.Duration) Percentiles {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return Percentiles{}
	}
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	p := Percentiles{N: len(s), P50: at(0.50), P99: at(0.99), Max: s[len(s)-1]}
	p.P50us, p.P99us, p.MaxUs = us(p.P50), us(p.P99), us(p.Max)
	return p
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
