package dedup

import (
	"flag"
	"fmt"
	"testing"
)

var bench1M = flag.Bool("dedup.1m", false, "also run the Put and Pairs benchmarks on 1,000,000 generated records (slow: minutes)")

// benchSizes are the index sizes of the benchmarks; 1M behind -dedup.1m.
func benchSizes() []int {
	if *bench1M {
		return []int{10_000, 100_000, 1_000_000}
	}
	return []int{10_000, 100_000}
}

// benchRecords caches the generated records of each size.
var benchRecords = map[int][]Record{}

func recordsFor(b *testing.B, n int) []Record {
	if benchRecords[n] == nil {
		benchRecords[n] = synthRecords(b, n, 1)
	}
	return benchRecords[n]
}

// BenchmarkPut measures building an index of n generated records (5%
// noisy re-enrollments) one Put at a time; ns/put should stay roughly flat
// as n grows, and pairs grows with n:
//
//	go test -run '^$' -bench Put -benchtime 3x ./hub/dedup/ [-args -dedup.1m]
func BenchmarkPut(b *testing.B) {
	for _, n := range benchSizes() {
		recs := recordsFor(b, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			var ix *Index
			for b.Loop() {
				ix = NewIndex(DefaultConfig())
				for i := range recs {
					ix.Put(recs[i])
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/put")
			b.ReportMetric(float64(len(ix.pairs)), "pairs")
		})
	}
}

// BenchmarkPairs measures listing (and sorting) every pair of a full
// index.
func BenchmarkPairs(b *testing.B) {
	for _, n := range benchSizes() {
		recs := recordsFor(b, n)
		ix := NewIndex(DefaultConfig())
		for i := range recs {
			ix.Put(recs[i])
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = ix.Pairs()
			}
			b.ReportMetric(float64(len(ix.pairs)), "pairs")
		})
	}
}
