package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"coldstart/content"
	"coldstart/content/builtin"
	"coldstart/server"
	"coldstart/server/store"
)

const benchLesson = "/lessons/fargate-task-definitions"

// benchServer starts a server over the built-in course with access logging
// on (JSON, to io.Discard) and returns its handler and a signed-in user's
// session cookie.
func benchServer(b *testing.B) (*server.Server, *http.Cookie) {
	b.Helper()
	course, err := content.Load(builtin.FS())
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	srv, err := server.New(server.Config{Store: st, Course: server.StaticCourse{C: course}, Grader: &fakeGrader{},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), SignupOpen: true})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	form := url.Values{"email": {"b@example.com"}, "password": {"long enough password"}}
	req := httptest.NewRequest(http.MethodPost, "/signup", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == "coldstart_session" {
			return srv, ck
		}
	}
	b.Fatalf("no session: %d %s", rec.Code, rec.Body.String())
	return nil, nil
}

// discardWriter is a ResponseWriter that keeps only the status and the
// size, so that the benchmark measures the server, not a recorder's growing
// buffer.
type discardWriter struct {
	header http.Header
	code   int
	size   int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.size += len(p)
	return len(p), nil
}
func (w *discardWriter) reset() {
	clear(w.header)
	w.code, w.size = 0, 0
}

// BenchmarkLessonPage serves a lesson through the whole handler chain
// (headers, request id, access log, session, CSRF, progress, page cache):
// to a signed-in student, to an anonymous visitor, and to an anonymous
// visitor whose browser already has the page (If-None-Match, 304).
func BenchmarkLessonPage(b *testing.B) {
	srv, session := benchServer(b)
	h := srv.Handler()
	anon := httptest.NewRequest(http.MethodGet, benchLesson, nil)
	first := &discardWriter{header: http.Header{}}
	h.ServeHTTP(first, anon)
	etag := first.header.Get("ETag")
	cases := []struct {
		name string
		want int
		prep func(*http.Request)
	}{
		{"signed-in", http.StatusOK, func(r *http.Request) { r.AddCookie(session) }},
		{"anonymous", http.StatusOK, func(*http.Request) {}},
		{"anonymous-304", http.StatusNotModified, func(r *http.Request) { r.Header.Set("If-None-Match", etag) }},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &discardWriter{header: http.Header{}}
				// One request, served again and again, as net/http hands
				// a handler a request it has parsed already: the figure
				// is the handler chain's, not httptest's.
				req := httptest.NewRequest(http.MethodGet, benchLesson, nil)
				tc.prep(req)
				for pb.Next() {
					req.Body = http.NoBody
					w.reset()
					h.ServeHTTP(w, req)
					if w.code != tc.want {
						b.Fatalf("status %d, want %d", w.code, tc.want)
					}
				}
			})
		})
	}
}

// BenchmarkLessonPageHTTP serves the lesson over a real loopback
// connection with keep-alive, as wrk does, so that what the server writes
// to the socket (how many writes, chunked or not) is part of the figure.
func BenchmarkLessonPageHTTP(b *testing.B) {
	srv, session := benchServer(b)
	// The server as serve runs it, with its connection settings.
	ts := httptest.NewUnstartedServer(nil)
	ts.Config = srv.HTTPServer("")
	ts.Listener = server.WrapListener(ts.Listener)
	ts.Start()
	defer ts.Close()
	for _, tc := range []struct{ name, cookie string }{
		{"signed-in", "Cookie: " + session.Name + "=" + session.Value + "\r\n"},
		{"anonymous", ""},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				conn, err := net.Dial("tcp", ts.Listener.Addr().String())
				if err != nil {
					b.Error(err)
					return
				}
				defer conn.Close()
				req := []byte("GET " + benchLesson + " HTTP/1.1\r\nHost: bench\r\n" + tc.cookie + "\r\n")
				r := bufio.NewReaderSize(conn, 64<<10)
				for pb.Next() {
					if _, err := conn.Write(req); err != nil {
						b.Error(err)
						return
					}
					if err := readResponse(r); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// readResponse reads one 200 response with a Content-Length or a chunked
// body and throws it away.
func readResponse(r *bufio.Reader) error {
	status, err := r.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(status), "HTTP/1.1 200 ") {
		return fmt.Errorf("status line %q", status)
	}
	length, chunked := -1, false
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		k, v, _ := strings.Cut(strings.TrimSpace(string(line)), ":")
		switch strings.ToLower(k) {
		case "content-length":
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		case "transfer-encoding":
			chunked = strings.TrimSpace(v) == "chunked"
		}
	}
	if !chunked {
		_, err := r.Discard(length)
		return err
	}
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(line)), 16, 64)
		if err != nil {
			return fmt.Errorf("chunk size %q: %w", line, err)
		}
		if _, err := r.Discard(int(n) + 2); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}
