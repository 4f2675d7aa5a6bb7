package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"coldstart/grader"
	"coldstart/server/store"
)

func TestUsersAdd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "coldstart.db")
	for _, tt := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"NoSubcommand", []string{"users"}, 2, "Usage: coldstart users add"},
		{"NoEmail", []string{"users", "add", "--db", db}, 1, "--email: enter an email address"},
		{"BadEmail", []string{"users", "add", "--db", db, "--email", "nope"}, 1, "does not look like an email"},
		{"BadRole", []string{"users", "add", "--db", db, "--email", "a@example.com", "--role", "root"}, 1, "--role must be student, instructor or admin"},
		{"BadPublicURL", []string{"users", "add", "--db", db, "--email", "a@example.com", "--public-url", "ftp://x"}, 1, "--public-url must be"},
		{"Extra", []string{"users", "add", "--db", db, "--email", "a@example.com", "extra"}, 2, "takes no arguments"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.says) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tt.code, stderr, tt.says)
			}
		})
	}

	code, out, stderr := runCmd(t, "users", "add", "--db", db, "--email", "Boss@Example.com", "--role", "admin", "--group", "Spring", "--public-url", "https://course.example.com")
	if code != 0 {
		t.Fatalf("users add: %d %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	if !regexp.MustCompile(`^https://course\.example\.com/invite/[A-Za-z0-9_-]{43}$`).MatchString(last) {
		t.Fatalf("last line %q is not an invitation link; output:\n%s", last, out)
	}
	if !strings.Contains(out, "group Spring created; its join link: https://course.example.com/join/") {
		t.Fatalf("output does not tell of the new group:\n%s", out)
	}
	if code, _, stderr := runCmd(t, "users", "add", "--db", db, "--email", "boss@example.com"); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Fatalf("second add: %d %s", code, stderr)
	}

	// The link works on the real server: the admin sets a password and is
	// signed in; the server then prints no setup link, as it has an admin.
	var logs syncWriter
	m := &Main{DB: db, Grader: stubGrader{}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	base, stop := startServer(t, m)
	defer stop()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	path := strings.TrimPrefix(last, "https://course.example.com")
	resp, err := c.PostForm(base+path, url.Values{"password": {"a good long password"}, "confirm": {"a good long password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(base + "/admin/users")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "boss@example.com") {
		t.Fatalf("admin page after the invitation: %d %.300s", resp.StatusCode, body)
	}
	if strings.Contains(logs.String(), "setup_link") {
		t.Fatal("a setup link was printed although an admin exists")
	}
}

func TestSetupLinkAtFirstStart(t *testing.T) {
	var logs syncWriter
	m := &Main{Grader: stubGrader{}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	base, stop := startServer(t, m)
	defer stop()
	link := regexp.MustCompile(`"setup_link":"http://127\.0\.0\.1:\d+(/setup/[A-Za-z0-9_-]+)"`).FindStringSubmatch(logs.String())
	if link == nil {
		t.Fatalf("no setup link in the log:\n%s", logs.String())
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	// A visitor who signs up first is a student, not the admin.
	resp, err := c.PostForm(base+"/signup", url.Values{"email": {"visitor@example.com"}, "password": {"a good long password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	st, err := store.Open(context.Background(), m.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if has, _ := st.HasAdmin(context.Background()); has {
		t.Fatal("the first visitor became admin")
	}
	op := &http.Client{}
	resp, err = op.PostForm(base+link[1], url.Values{"email": {"ops@example.com"}, "password": {"a good long password"}, "confirm": {"a good long password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, err := st.UserByEmail(context.Background(), "ops@example.com")
	if err != nil || u.Role != store.RoleAdmin {
		t.Fatalf("setup link made %+v, %v; want an admin", u, err)
	}
}

// stubGrader never grades: these tests only sign in.
type stubGrader struct{}

func (stubGrader) Grade(_ context.Context, req grader.Request) *grader.Result {
	return &grader.Result{Exercise: req.Spec.ID, Status: grader.StatusError, Reason: "not graded in this test"}
}
func (stubGrader) Variant(grader.Spec, int64) (*grader.Variant, error) { return nil, nil }
func (stubGrader) Ready(context.Context) error                         { return nil }
func (stubGrader) Form(grader.Spec) (*grader.Form, error)              { return nil, nil }

// syncWriter is a buffer the server's goroutines may write to.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
func (w *syncWriter) String() string { w.mu.Lock(); defer w.mu.Unlock(); return w.b.String() }
