package synth

import (
	"io"
	"testing"
)

// BenchmarkNext measures records per second of Next alone.
func BenchmarkNext(b *testing.B) {
	g, err := New(Config{Count: MaxCount, Seed: 1, Noise: 0.05})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := g.Next(); !ok {
			b.Fatal(g.Err())
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkGenerate measures records per second including JSON output.
func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	if _, err := Generate(io.Discard, io.Discard, Config{Count: b.N, Seed: 1, Noise: 0.05}); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
