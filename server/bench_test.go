package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"context"

	"coldstart/content"
	"coldstart/content/builtin"
	"coldstart/server"
	"coldstart/server/store"
)

// BenchmarkLessonPage renders a lesson for a signed-in user through the
// whole handler chain (session, CSRF, progress, template, access log).
func BenchmarkLessonPage(b *testing.B) {
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
	// Sign up through the handler to get a session cookie.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/signup", nil))
	csrf := csrfMeta.FindStringSubmatch(rec.Body.String())[1]
	form := url.Values{"csrf": {csrf}, "email": {"b@example.com"}, "password": {"long enough password"}}
	req := httptest.NewRequest(http.MethodPost, "/signup", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range rec.Result().Cookies() {
		req.AddCookie(ck)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var session *http.Cookie
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == "coldstart_session" {
			session = ck
		}
	}
	if session == nil {
		b.Fatalf("no session: %d %s", rec.Code, rec.Body.String())
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "/lessons/fargate-task-definitions", nil)
			req.AddCookie(session)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}
