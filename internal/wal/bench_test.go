package wal

import (
	"testing"
)

// BenchmarkAppend measures group commit: 16×GOMAXPROCS goroutines append
// 64 KiB records to a log on the real file system with real fsyncs.
func BenchmarkAppend(b *testing.B) {
	const size = 64 << 10
	l := mustOpen(b, Options{Dir: b.TempDir()})
	defer mustClose(b, l)
	b.ReportAllocs()
	b.SetBytes(size)
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rec := make([]byte, size)
		for i := range rec {
			rec[i] = byte(i)
		}
		for pb.Next() {
			if _, err := l.Append(b.Context(), rec); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// BenchmarkAppendSerial is the baseline without group commit: one appender,
// so one fsync per record.
func BenchmarkAppendSerial(b *testing.B) {
	const size = 64 << 10
	l := mustOpen(b, Options{Dir: b.TempDir()})
	defer mustClose(b, l)
	rec := make([]byte, size)
	b.ReportAllocs()
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		if _, err := l.Append(b.Context(), rec); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}
