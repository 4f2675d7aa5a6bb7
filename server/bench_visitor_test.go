package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"coldstart/content"
	"coldstart/content/builtin"
	"coldstart/server"
	"coldstart/server/store"
)

// BenchmarkVisitorLessonPage serves a lesson to a visitor without a cookie
// through the whole handler chain (headers, access log, page from memory).
func BenchmarkVisitorLessonPage(b *testing.B) {
	course, err := content.Load(builtin.FS())
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	srv, err := server.New(server.Config{Store: st, Course: server.StaticCourse{C: course}, Grader: &fakeGrader{},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), SignupOpen: true})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/lessons/fargate-task-definitions", nil))
			if rec.Code != 200 {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}
