package server_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"coldstart/server"
	"coldstart/server/auth"
	"coldstart/server/store"
)

// submitAt stores a graded submission made at a given time.
func submitAt(t testing.TB, st *store.Store, clock *testClock, userID int64, exercise string, at time.Time, verdict string, score float64) {
	t.Helper()
	ctx := context.Background()
	clock.set(at)
	if _, err := st.CreateSubmission(ctx, userID, exercise, 1, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	job, err := st.ClaimJob(ctx)
	if err != nil {
		t.Fatal(err)
	}
	result := `{"checks":[]}`
	if verdict == "fail" {
		result = `{"status":"fail","checks":[{"id":"grid.cells","title":"Every cell is right","status":"fail","message":"Cloud Run scales to zero"}]}`
	}
	if err := st.FinishJob(ctx, job.ID, store.Outcome{Verdict: verdict, Score: score, Counted: verdict != "error", Result: []byte(result)}); err != nil {
		t.Fatal(err)
	}
}

// testClock is a store clock that tests move.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now()
	}
	return c.t
}

func TestGradebook(t *testing.T) {
	h := newHarness(t, false)
	ctx := context.Background()
	teacher := h.signedIn("teacher@example.com", store.RoleInstructor)
	actor := store.Actor{Email: "teacher@example.com"}
	due := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	spring, err := h.store.CreateGroup(ctx, actor, "Spring", "springjoin", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.SetDeadline(ctx, actor, spring.ID, "tiny-grid", due); err != nil {
		t.Fatal(err)
	}
	ada := h.user("ada@example.com", store.RoleStudent)
	bob := h.user("bob@example.com", store.RoleStudent)
	cyd := h.user("cyd@example.com", store.RoleStudent)
	dan := h.user("dan@example.com", store.RoleStudent) // in no group, no due date
	for _, u := range []*store.User{ada, bob, cyd} {
		if err := h.store.SetUserGroup(ctx, actor, u.ID, spring.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.store.GrantExtension(ctx, actor, cyd.ID, "tiny-grid", due.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Bob's name would be a formula in a spreadsheet.
	setName(t, h, bob.ID, `=HYPERLINK("http://evil.example","x")`)

	clock := &testClock{}
	h.store.Now = clock.now
	submitAt(t, h.store, clock, ada.ID, "tiny-grid", due.Add(-time.Hour), "fail", 0.5)
	submitAt(t, h.store, clock, ada.ID, "tiny-grid", due.Add(-time.Minute), "pass", 1)
	submitAt(t, h.store, clock, bob.ID, "tiny-grid", due.Add(time.Hour), "fail", 0.25)
	submitAt(t, h.store, clock, bob.ID, "tiny-grid", due.Add(2*time.Hour), "error", 0) // not counted
	submitAt(t, h.store, clock, cyd.ID, "tiny-grid", due.Add(24*time.Hour), "pass", 1) // within the extension
	submitAt(t, h.store, clock, dan.ID, "tiny-grid", due.Add(24*time.Hour), "pass", 1) // no due date
	clock.set(time.Time{})
	if err := h.store.SetLessonComplete(ctx, ada.ID, "grids", true); err != nil {
		t.Fatal(err)
	}
	if err := h.store.SetLessonComplete(ctx, ada.ID, "removed-lesson", true); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		user   int64
		quiz   string
		answer []bool
	}{{ada.ID, "reading-grids/zero", []bool{true}}, {bob.ID, "reading-grids/zero", []bool{false, true}}} {
		for _, right := range q.answer {
			if _, err := h.store.RecordQuiz(ctx, q.user, q.quiz, []int{0}, right); err != nil {
				t.Fatal(err)
			}
		}
	}

	resp, body := teacher.get("/cohort/gradebook.csv")
	expect(t, resp, body, 200)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("Content-Type %q", ct)
	}
	if !strings.Contains(resp.Header.Get("Content-Disposition"), `attachment; filename="gradebook-`) {
		t.Fatalf("Content-Disposition %q", resp.Header.Get("Content-Disposition"))
	}
	if !strings.Contains(body, "\r\n") || strings.Count(body, "\r\n") != strings.Count(body, "\n") {
		t.Fatal("records do not end with CRLF")
	}
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v\n%s", err, body)
	}
	wantHeader := []string{"email", "name", "group", "lessons completed", "quizzes right at first try", "tiny-grid", "tiny-grid attempts", "tiny-grid late"}
	if !reflect.DeepEqual(records[0], wantHeader) {
		t.Fatalf("header %q, want %q", records[0], wantHeader)
	}
	want := [][]string{
		{"ada@example.com", "", "Spring", "1", "1", "1", "2", "0"},
		{"bob@example.com", `'=HYPERLINK("http://evil.example","x")`, "Spring", "0", "0", "0.25", "1", "1"},
		{"cyd@example.com", "", "Spring", "0", "0", "1", "1", "0"},
		{"dan@example.com", "", "", "0", "0", "1", "1", "0"},
	}
	if !reflect.DeepEqual(records[1:], want) {
		t.Fatalf("rows:\n%q\nwant:\n%q", records[1:], want)
	}

	t.Run("JSONIsTheSameTable", func(t *testing.T) {
		resp, body := teacher.get("/cohort/gradebook.json")
		expect(t, resp, body, 200)
		var got struct {
			Columns  []string         `json:"columns"`
			Students []map[string]any `json:"students"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Columns, wantHeader) || len(got.Students) != len(want) {
			t.Fatalf("json %s", body)
		}
		for i, row := range want {
			for j, col := range wantHeader {
				if v := fmt.Sprint(got.Students[i][col]); v != strings.TrimPrefix(row[j], "'") {
					t.Errorf("student %d %q: json %v, csv %q", i, col, v, row[j])
				}
			}
		}
	})
	t.Run("Group", func(t *testing.T) {
		resp, body := teacher.get("/cohort/gradebook.csv?group=spring")
		expect(t, resp, body, 200, "ada@example.com", "cyd@example.com")
		if strings.Contains(body, "dan@example.com") {
			t.Fatal("a student outside the group is listed")
		}
		resp, body = teacher.get("/cohort/gradebook.csv?group=nope")
		expect(t, resp, body, 404, "No such group")
	})
	t.Run("Audited", func(t *testing.T) {
		log, _ := h.store.AuditLog(ctx, store.AuditExport, 0)
		if len(log) < 2 || log[0].ActorEmail != "teacher@example.com" {
			t.Fatalf("exports recorded: %+v", log)
		}
	})
}

func setName(t *testing.T, h *harness, id int64, name string) {
	t.Helper()
	// Names are set by their owner when accepting an invitation; here the
	// test goes through the same store call.
	tok := []byte(fmt.Sprintf("name-%d-%032d", id, 0))[:32]
	if err := h.store.Reinvite(context.Background(), store.Actor{}, id, tok); err != nil {
		t.Fatal(err)
	}
	hash, err := auth.HashPassword(testPassword) // the password stays the one tests sign in with
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.UseLink(context.Background(), tok, store.LinkInvite, hash, store.NewAccount{Name: name}); err != nil {
		t.Fatal(err)
	}
}

func TestNeutraliseTable(t *testing.T) {
	for in, want := range map[string]string{"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\t=1": "'\t=1", "plain": "plain", "": ""} {
		if got := server.Neutralise(in); got != want {
			t.Errorf("neutralise(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkGradebook1000x5 renders the CSV gradebook of 1,000 students
// with 5 exercises (3 graded answers each) through the real handler.
func BenchmarkGradebook1000x5(b *testing.B) {
	_, handler := benchGradebookServer(b)
	req := httptest.NewRequest(http.MethodGet, "/cohort/gradebook.csv", nil)
	req.AddCookie(benchCookie)
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != 200 || strings.Count(rec.Body.String(), "\n") != 1001 {
			b.Fatalf("%d, %d lines", rec.Code, strings.Count(rec.Body.String(), "\n"))
		}
	}
}

var benchCookie = &http.Cookie{Name: "coldstart_session", Value: "bench-instructor-session-token"}

func benchGradebookServer(b *testing.B) (*store.Store, http.Handler) {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	base := loadMinimal(b)
	course := *base
	course.Exercises = nil
	for i := range 5 {
		ex := *base.Exercises[0]
		ex.ID = fmt.Sprintf("exercise-%d", i+1)
		course.Exercises = append(course.Exercises, &ex)
	}
	teacher, err := st.CreateUser(ctx, "teacher@example.com", []byte("h"))
	if err != nil {
		b.Fatal(err)
	}
	if err := st.SetRole(ctx, teacher.ID, store.RoleInstructor); err != nil {
		b.Fatal(err)
	}
	if err := st.CreateSession(ctx, teacher.ID, auth.HashToken(benchCookie.Value), time.Now().Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	g, err := st.CreateGroup(ctx, store.Actor{}, "Bench", "benchjoin", time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	for _, ex := range course.Exercises {
		if err := st.SetDeadline(ctx, store.Actor{}, g.ID, ex.ID, time.Now().Add(-time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 1000 {
		u, err := st.CreateUser(ctx, fmt.Sprintf("student%04d@example.com", i), []byte("h"))
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			if err := st.SetUserGroup(ctx, store.Actor{}, u.ID, g.ID); err != nil {
				b.Fatal(err)
			}
		}
		_ = st.SetLessonComplete(ctx, u.ID, "grids", true)
		for _, ex := range course.Exercises {
			for k := range 3 {
				if _, err := st.CreateSubmission(ctx, u.ID, ex.ID, 1, []byte("{}")); err != nil {
					b.Fatal(err)
				}
				job, err := st.ClaimJob(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if err := st.FinishJob(ctx, job.ID, store.Outcome{Verdict: "fail", Score: float64(k) / 3, Counted: true}); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	srv, err := server.New(server.Config{Store: st, Course: server.StaticCourse{C: &course}, Grader: &fakeGrader{},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return st, srv.Handler()
}
