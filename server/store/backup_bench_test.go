package store_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"coldstart/server/store"
)

// BenchmarkBackup10kSubmissions times a verified backup of a database
// holding 10,000 graded submissions (1 KiB answers, 2 KiB results).
func BenchmarkBackup10kSubmissions(b *testing.B) {
	ctx := context.Background()
	s, _ := mustOpen(b)
	u := mustUser(b, s, "bench@example.com")
	body := bytes.Repeat([]byte("a"), 1024)
	result := []byte(`{"log":"` + string(bytes.Repeat([]byte("r"), 2048)) + `"}`)
	for i := range 10000 {
		if _, err := s.CreateSubmission(ctx, u.ID, fmt.Sprintf("ex-%d", i%20), int64(i), body); err != nil {
			b.Fatal(err)
		}
		job, err := s.ClaimJob(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.FinishJob(ctx, job.ID, store.Outcome{Verdict: "pass", Score: 1, Counted: true, Result: result}); err != nil {
			b.Fatal(err)
		}
	}
	dir := b.TempDir()
	b.ResetTimer()
	var size int64
	for i := 0; b.Loop(); i++ {
		rep, err := s.Backup(ctx, filepath.Join(dir, fmt.Sprintf("b%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		size = rep.Bytes
	}
	b.ReportMetric(float64(size)/(1<<20), "MiB")
}
