package dedup

import (
	"flag"
	"fmt"
	"testing"
)

var big = flag.Bool("dedup.1m", false, "also benchmark 1,000,000 records")

// BenchmarkPut measures Put per record into an Index holding n records
// (the records are generated once, outside the timing).
func BenchmarkPut(b *testing.B) {
	sizes := []int{10000, 100000}
	if *big {
		sizes = append(sizes, 1000000)
	}
	for _, n := range sizes {
		recs := synthRecords(b, n, 1)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				ix := NewIndex(DefaultConfig())
				for _, r := range recs {
					ix.Put(r)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
		})
	}
}

// BenchmarkTrain measures the learning step on n records.
func BenchmarkTrain(b *testing.B) {
	recs := synthRecords(b, 100000, 1)
	ix := NewIndex(DefaultConfig())
	for _, r := range recs {
		ix.Put(r)
	}
	for b.Loop() {
		if _, err := ix.Train(TrainConfig{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPairs measures Pairs() on an Index of n records.
func BenchmarkPairs(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		ix := NewIndex(DefaultConfig())
		for _, r := range synthRecords(b, n, 1) {
			ix.Put(r)
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				_ = ix.Pairs()
			}
			b.ReportMetric(float64(len(ix.Pairs())), "pairs")
		})
	}
}

// BenchmarkEncodeProfile measures EncodeProfile (what a hub's decode
// workers compute per record for its persisted view).
func BenchmarkEncodeProfile(b *testing.B) {
	recs := synthRecords(b, 10000, 1)
	for b.Loop() {
		for i := range recs {
			EncodeProfile(&recs[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}
