package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"coldstart/content"
	"coldstart/grader"
	"coldstart/server"
	"coldstart/server/auth"
	"coldstart/server/grading"
	"coldstart/server/store"
)

func init() { auth.Cost = 4 } // fast hashing in tests

// fakeGrader judges by what the body contains: "pass" passes, "error" cannot
// be judged, anything else fails the "grid.cells" check at /Cloud Run.
type fakeGrader struct {
	mu           sync.Mutex
	panicVariant bool
	block        chan struct{} // when set, Grade waits for it or ctx
}

var _ grading.Grader = (*fakeGrader)(nil)

func (f *fakeGrader) Grade(ctx context.Context, req grader.Request) *grader.Result {
	emit := func(e grader.Event) {
		if req.Events != nil {
			req.Events(e)
		}
	}
	emit(grader.Event{Type: grader.EventRunning, CheckID: "grid.cells", Title: "Every cell is right"})
	f.mu.Lock()
	block := f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return &grader.Result{Exercise: req.Spec.ID, Status: grader.StatusError, Reason: "interrupted"}
		}
	}
	body := string(req.Body)
	res := &grader.Result{Exercise: req.Spec.ID, Variant: &grader.Variant{Seed: req.Seed, Params: map[string]any{"rows": 2}}}
	switch {
	case strings.Contains(body, "mixed"):
		res.Checks = mixedChecks()
	case strings.Contains(body, "busy"):
		res.Checks = []grader.Check{{ID: "grid.cells", Title: "Every cell is right", Status: grader.CheckError, Message: "the engine is too busy; this attempt does not count"}}
	case strings.Contains(body, "error"):
		res.Checks = []grader.Check{{ID: "grid.cells", Title: "Every cell is right", Status: grader.CheckError, Message: "the grader broke"}}
	case strings.Contains(body, "pass"):
		res.Checks = []grader.Check{{ID: "grid.cells", Title: "Every cell is right", Status: grader.CheckPass, Points: 1, MaxPoints: 1}}
	default:
		res.Checks = []grader.Check{{ID: "grid.cells", Title: "Every cell is right", Status: grader.CheckFail, Field: "/Cloud Run",
			Message: "Cloud Run scales to zero", Observed: "no", Expected: "yes", Hint: "Read the first lesson", MaxPoints: 1}}
	}
	for i := range res.Checks {
		emit(grader.Event{Type: grader.EventCheck, CheckID: res.Checks[i].ID, Check: &res.Checks[i]})
	}
	res.Summarize()
	return res
}

func (f *fakeGrader) Variant(spec grader.Spec, seed int64) (*grader.Variant, error) {
	f.mu.Lock()
	p := f.panicVariant
	f.mu.Unlock()
	if p {
		panic("variant exploded")
	}
	return &grader.Variant{Seed: seed, Params: map[string]any{"rows": 2}}, nil
}

func (f *fakeGrader) Ready(context.Context) error { return nil }

// Form gives exercises of kind "table" a one-cell sheet, so the page shows a
// grid and a post without script is read cell by cell.
func (f *fakeGrader) Form(spec grader.Spec) (*grader.Form, error) {
	if spec.Kind != "table" {
		return nil, nil
	}
	return &grader.Form{
		Columns: []grader.FormColumn{{ID: "zero", Title: "Scales to zero", Options: []string{"yes", "no"}}},
		Rows:    []grader.FormRow{{ID: "run", Title: "Cloud Run"}},
	}, nil
}

type harness struct {
	t      *testing.T
	srv    *server.Server
	ts     *httptest.Server
	store  *store.Store
	grader *fakeGrader
	pool   *grading.Pool
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func loadMinimal(t testing.TB) *content.Course {
	t.Helper()
	c, err := content.Load(os.DirFS("../content/testdata/minimal"))
	if err != nil {
		t.Fatalf("load test course: %v", err)
	}
	return c
}

// newHarness starts a server on loopback; opts change its configuration.
func newHarness(t *testing.T, withPool bool, opts ...func(*server.Config)) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, store: st, grader: &fakeGrader{}, logs: &syncBuffer{}}
	logger := slog.New(slog.NewJSONHandler(h.logs, nil))
	course := server.StaticCourse{C: loadMinimal(t)}
	var done chan struct{}
	if withPool {
		h.pool = grading.New(st, h.grader, course.Course, grading.NewHub(), grading.Options{Workers: 2, Logger: logger, Poll: 50 * time.Millisecond, Grace: time.Second})
		done = make(chan struct{})
		go func() { h.pool.Run(ctx); close(done) }()
	}
	cfg := server.Config{Store: st, Course: course, Grader: h.grader, Logger: logger, SignupOpen: true}
	if h.pool != nil { // a nil *Pool in the interface would not be nil
		cfg.Pool = h.pool
	}
	for _, o := range opts {
		o(&cfg)
	}
	h.srv, err = server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Served as serve serves it: its timeouts, limits and connections.
	h.ts = httptest.NewUnstartedServer(nil)
	h.ts.Config = h.srv.HTTPServer("")
	h.ts.Listener = server.WrapListener(h.ts.Listener)
	h.ts.Start()
	t.Cleanup(func() {
		if t.Failed() {
			for _, line := range strings.Split(h.logs.String(), "\n") {
				if strings.Contains(line, `"level":"ERROR"`) && !strings.Contains(line, `"status"`) {
					t.Log(line)
				}
			}
		}
		h.srv.Close()
		h.ts.Close()
		cancel()
		if done != nil {
			<-done
		}
		st.Close()
	})
	return h
}

// client is a browser: a cookie jar and no automatic redirects.
type client struct {
	h    *harness
	http *http.Client
	csrf string
}

func (h *harness) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{h: h, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)

func (c *client) get(path string) (*http.Response, string) {
	c.h.t.Helper()
	resp, err := c.http.Get(c.h.ts.URL + path)
	if err != nil {
		c.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfMeta.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return resp, string(b)
}

func (c *client) post(path string, form url.Values, accept string) (*http.Response, string) {
	c.h.t.Helper()
	hdr := http.Header{}
	if accept != "" {
		hdr.Set("Accept", accept)
	}
	return c.postWith(path, form, hdr)
}

// postWith sends a form with extra request headers.
func (c *client) postWith(path string, form url.Values, hdr http.Header) (*http.Response, string) {
	c.h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.h.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// signUp creates an account and leaves the client signed in.
func (c *client) signUp(email string) {
	c.h.t.Helper()
	c.get("/signup")
	resp, body := c.post("/signup", url.Values{"csrf": {c.csrf}, "email": {email}, "password": {"correct horse battery"}}, "")
	if resp.StatusCode != http.StatusSeeOther {
		c.h.t.Fatalf("sign up %s: %d %s", email, resp.StatusCode, body)
	}
	c.get("/") // pick up the session's CSRF token
}

func expect(t *testing.T, resp *http.Response, body string, code int, contains ...string) {
	t.Helper()
	if resp.StatusCode != code {
		t.Fatalf("status %d, want %d; body:\n%.600s", resp.StatusCode, code, body)
	}
	for _, s := range contains {
		if !strings.Contains(body, s) {
			t.Fatalf("body does not contain %q:\n%.1500s", s, body)
		}
	}
}

func TestPages(t *testing.T) {
	h := newHarness(t, false)
	c := h.client()
	tests := []struct {
		name, path string
		code       int
		contains   []string
	}{
		{"Home", "/", 200, []string{"A tiny course", "/lessons/grids", "Sign up"}},
		{"Lesson", "/lessons/grids", 200, []string{"<h1>Grids</h1>", `class="toc"`, `aside class="callout tip"`, `rel="next"`, "/exercises/tiny-grid"}},
		{"LessonWithQuizGetsCSRFField", "/lessons/reading-grids", 200, []string{`data-quiz="reading-grids/zero"`, `<input type="hidden" name="csrf"`}},
		{"LessonSourceLinkRedirects", "/lessons/grids.md", 301, nil},
		{"Exercise", "/exercises/tiny-grid", 200, []string{"Fill in a tiny grid", "sign in"}},
		{"UnknownPage", "/no/such/page", 404, []string{"This page does not exist"}},
		{"UnknownLesson", "/lessons/nope", 404, []string{"No such lesson"}},
		{"UnknownStatic", "/static/app.0000.css", 404, nil},
		{"Health", "/healthz", 200, []string{"ok"}},
		{"Ready", "/readyz", 200, []string{`{"status":"ready"}`}},
		{"ProgressNeedsSignIn", "/progress", 303, nil},
		{"CohortNeedsSignIn", "/cohort", 303, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := c.get(tt.path)
			expect(t, resp, body, tt.code, tt.contains...)
		})
	}
	t.Run("StaticAssetsAreHashedAndCached", func(t *testing.T) {
		_, body := c.get("/")
		m := regexp.MustCompile(`href="(/static/app\.[0-9a-f]{12}\.css)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no hashed stylesheet link")
		}
		resp, css := c.get(m[1])
		expect(t, resp, css, 200, "--accent-2", "prefers-color-scheme: dark", ".chroma")
		if !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Fatalf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
		}
	})
	t.Run("MetricsAreNotPublic", func(t *testing.T) {
		resp, body := c.get("/metrics")
		expect(t, resp, body, 404, "operations listener")
	})
}

func TestAccounts(t *testing.T) {
	h := newHarness(t, false)
	admin := h.client()
	admin.signUp("admin@example.com")
	u, err := h.store.UserByEmail(context.Background(), "admin@example.com")
	if err != nil || u.Role != store.RoleStudent {
		t.Fatalf("first account: %+v, %v; want a student (no visitor becomes admin by being first)", u, err)
	}
	c := h.client()
	c.get("/signup")
	tests := []struct {
		name     string
		form     url.Values
		code     int
		contains string
	}{
		{"BadEmail", url.Values{"csrf": {c.csrf}, "email": {"<script>alert(1)</script>"}, "password": {"long enough"}}, 400, "does not look like an email"},
		{"ShortPassword", url.Values{"csrf": {c.csrf}, "email": {"a@example.com"}, "password": {"short"}}, 400, "at least 8 characters"},
		{"TakenEmail", url.Values{"csrf": {c.csrf}, "email": {"ADMIN@example.com"}, "password": {"long enough"}}, 409, "already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := c.post("/signup", tt.form, "")
			expect(t, resp, body, tt.code, tt.contains)
			if strings.Contains(body, "alert(1)</script>") {
				t.Fatal("input echoed without escaping")
			}
		})
	}
	if users, _ := h.store.Users(context.Background()); len(users) != 1 {
		t.Fatalf("refused sign-ups saved %d accounts", len(users)-1)
	}

	t.Run("SignInOutAndCookieFlags", func(t *testing.T) {
		c := h.client()
		c.get("/signin")
		resp, body := c.post("/signin", url.Values{"csrf": {c.csrf}, "email": {"admin@example.com"}, "password": {"wrong password"}}, "")
		expect(t, resp, body, 401, "not right")
		resp, _ = c.post("/signin", url.Values{"csrf": {c.csrf}, "email": {"Admin@Example.com"}, "password": {"correct horse battery"}, "next": {"//evil.example/"}}, "")
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/" {
			t.Fatalf("sign in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		ck := resp.Header.Get("Set-Cookie")
		if !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Lax") {
			t.Fatalf("session cookie %q", ck)
		}
		resp, body = c.get("/progress")
		expect(t, resp, body, 200, "My progress")
		c.post("/signout", url.Values{"csrf": {c.csrf}}, "")
		resp, _ = c.get("/progress")
		if resp.StatusCode != 303 {
			t.Fatalf("after sign-out /progress = %d", resp.StatusCode)
		}
	})

	t.Run("RateLimit", func(t *testing.T) {
		c := h.client()
		c.get("/signin")
		var last *http.Response
		var body string
		for i := 0; i < 9; i++ {
			last, body = c.post("/signin", url.Values{"csrf": {c.csrf}, "email": {"victim@example.com"}, "password": {"guess " + string(rune('a'+i))}}, "")
		}
		expect(t, last, body, 429, "Too many failed sign-ins to this account", "Try again in")
	})
}

func TestExpiredSession(t *testing.T) {
	h := newHarness(t, false)
	c := h.client()
	c.signUp("a@example.com")
	h.store.Now = func() time.Time { return time.Now().Add(31 * 24 * time.Hour) }
	time.Sleep(10 * time.Millisecond)
	// The session cache holds a session for a few seconds; a new server
	// state is not needed: wait the cache out by asking the store directly.
	deadline := time.Now().Add(7 * time.Second)
	for {
		resp, _ := c.get("/progress")
		if resp.StatusCode == 303 {
			if loc := resp.Header.Get("Location"); !strings.Contains(loc, "expired=1") {
				t.Fatalf("redirect to %q, want the sign-in page saying the session expired", loc)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("expired session still accepted: %d", resp.StatusCode)
		}
		time.Sleep(200 * time.Millisecond)
	}
	resp, body := c.get("/signin?expired=1")
	expect(t, resp, body, 200, "Your session has expired")
}

func TestBadInput(t *testing.T) {
	h := newHarness(t, false)
	c := h.client()
	c.signUp("a@example.com")
	t.Run("HugeBody", func(t *testing.T) {
		big := strings.NewReader("body=" + strings.Repeat("x", 50<<20))
		req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/exercises/tiny-grid/submit", big)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		expect(t, resp, string(b), 413, "too much to send")
	})
	t.Run("HugeBodyWithoutLength", func(t *testing.T) {
		// A chunked body declares no length: the limit applies while
		// reading. The response is read while the body is still being sent.
		conn, err := net.Dial("tcp", strings.TrimPrefix(h.ts.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		u, _ := url.Parse(h.ts.URL)
		var cookies []string
		for _, ck := range c.http.Jar.Cookies(u) {
			cookies = append(cookies, ck.Name+"="+ck.Value)
		}
		fmt.Fprintf(conn, "POST /exercises/tiny-grid/submit HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
			"Cookie: %s\r\nTransfer-Encoding: chunked\r\n\r\n", strings.Join(cookies, "; "))
		go func() {
			chunk := strings.Repeat("y", 1<<20)
			fmt.Fprintf(conn, "%x\r\ncsrf=%s&body=\r\n", len("csrf=&body=")+len(c.csrf), c.csrf)
			for i := 0; i < 50; i++ {
				if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
					return
				}
			}
			fmt.Fprint(conn, "0\r\n\r\n")
		}()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		expect(t, resp, string(b), 413, "too much to send")
	})
	t.Run("MalformedMultipart", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/lessons/grids/complete", strings.NewReader("--x\r\ngarbage"))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		expect(t, resp, string(b), 400, "The form could not be read")
	})
	t.Run("MalformedEncoding", func(t *testing.T) {
		resp, body := c.post("/lessons/grids/complete", nil, "")
		expect(t, resp, body, 403) // no CSRF token: nothing saved
	})
	t.Run("AnswerTooLong", func(t *testing.T) {
		resp, body := c.post("/exercises/tiny-grid/submit", url.Values{"csrf": {c.csrf}, "body": {strings.Repeat("z", 70<<10)}}, "")
		expect(t, resp, body, 413, "at most 64 KiB")
	})
	t.Run("EmptyAnswer", func(t *testing.T) {
		resp, body := c.post("/exercises/tiny-grid/submit", url.Values{"csrf": {c.csrf}, "body": {"  "}}, "")
		expect(t, resp, body, 400, "The answer is empty")
	})
	t.Run("QuizNonsense", func(t *testing.T) {
		for _, choice := range []string{"x", "-1", "99", "0; DROP TABLE users"} {
			resp, body := c.post("/quiz/reading-grids/zero", url.Values{"csrf": {c.csrf}, "choice": {choice}}, "application/json")
			expect(t, resp, body, 400, "error")
		}
		resp, body := c.post("/quiz/reading-grids/zero", url.Values{"csrf": {c.csrf}, "choice": {"0", "1"}}, "application/json")
		expect(t, resp, body, 400, "one answer")
		resp, body = c.post("/quiz/nope", url.Values{"csrf": {c.csrf}, "choice": {"0"}}, "")
		expect(t, resp, body, 404)
	})
	t.Run("PanicShowsNoStack", func(t *testing.T) {
		h.grader.mu.Lock()
		h.grader.panicVariant = true
		h.grader.mu.Unlock()
		defer func() { h.grader.mu.Lock(); h.grader.panicVariant = false; h.grader.mu.Unlock() }()
		resp, body := c.get("/exercises/tiny-grid")
		expect(t, resp, body, 500, "Something went wrong")
		if strings.Contains(body, "goroutine") || strings.Contains(body, "exploded") {
			t.Fatal("the error page shows internals")
		}
		if !strings.Contains(h.logs.String(), "variant exploded") {
			t.Fatal("the panic was not logged")
		}
	})
	if subs, _ := h.store.Submissions(context.Background(), 1, "tiny-grid", 10); len(subs) != 0 {
		t.Fatalf("refused submissions were stored: %d", len(subs))
	}
}

func TestQuizAndLessonProgress(t *testing.T) {
	h := newHarness(t, false)
	c := h.client()
	c.signUp("a@example.com")
	resp, body := c.post("/quiz/reading-grids/zero", url.Values{"csrf": {c.csrf}, "choice": {"1"}}, "application/json")
	expect(t, resp, body, 200, `"correct":false`, `"recorded":true`, "Its row says no.")
	resp, body = c.post("/quiz/reading-grids/zero", url.Values{"csrf": {c.csrf}, "choice": {"0"}}, "")
	expect(t, resp, body, 200, "Right!")
	resp, _ = c.post("/lessons/grids/complete", url.Values{"csrf": {c.csrf}, "done": {"1"}}, "")
	if resp.StatusCode != 303 {
		t.Fatalf("complete: %d", resp.StatusCode)
	}
	resp, body = c.get("/progress")
	expect(t, resp, body, 200, "1 of 2 lessons read", "1 of 1 quiz questions answered right")
	resp, body = c.get("/lessons/reading-grids")
	expect(t, resp, body, 200, `id="quiz-state"`, `"correct":true`)
	// A visitor gets feedback but nothing is recorded.
	v := h.client()
	v.get("/lessons/reading-grids")
	resp, body = v.post("/quiz/reading-grids/zero", url.Values{"csrf": {v.csrf}, "choice": {"0"}}, "application/json")
	expect(t, resp, body, 200, `"recorded":false`)
}

// readEvents reads a server-sent event stream until the done update.
func readEvents(t *testing.T, c *client, path string) []string {
	t.Helper()
	resp, err := c.http.Get(c.h.ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("events: %d %s %s", resp.StatusCode, ct, b)
	}
	var data []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			data = append(data, d)
			if strings.Contains(d, `"type":"done"`) {
				return data
			}
		}
	}
	t.Fatalf("stream ended without a verdict: %v", data)
	return nil
}

func TestSubmissionToVerdict(t *testing.T) {
	h := newHarness(t, true)
	c := h.client()
	c.signUp("student@example.com")

	submit := func(body string) (id string) {
		t.Helper()
		resp, out := c.post("/exercises/tiny-grid/submit", url.Values{"csrf": {c.csrf}, "body": {body}}, "application/json")
		expect(t, resp, out, 202, `"events":"/submissions/`)
		return regexp.MustCompile(`"id":(\d+)`).FindStringSubmatch(out)[1]
	}

	// The grading waits until the page follows it, so every step is seen.
	block := make(chan struct{})
	h.grader.mu.Lock()
	h.grader.block = block
	h.grader.mu.Unlock()
	id := submit("{\n  \"Cloud Run\": {\"scales to zero\": \"no\"}\n}")
	time.AfterFunc(300*time.Millisecond, func() { close(block) })
	events := readEvents(t, c, "/submissions/"+id+"/events")
	joined := strings.Join(events, "\n")
	for _, want := range []string{`"type":"running"`, `"type":"check"`, `"verdict":"fail"`} {
		if !strings.Contains(joined, want) {
			t.Fatalf("events lack %s:\n%s", want, joined)
		}
	}
	resp, body := c.get("/submissions/" + id + "/result")
	expect(t, resp, body, 200, "Every cell is right", "Cloud Run scales to zero", "Read the first lesson", "1 of 1 check failed", "Attempt 1: not yet")
	// A grid answer is JSON the page wrote, not text the student typed:
	// no line is marked or linked.
	if strings.Contains(body, `class="line marked"`) || strings.Contains(body, "What you submitted") {
		t.Fatalf("a grid verdict points at lines of JSON the student never wrote:\n%s", body)
	}

	// A result the grader could not judge is shown with its reason and
	// costs no attempt.
	errID := submit(`{"error": true}`)
	readEvents(t, c, "/submissions/"+errID+"/events")
	resp, body = c.get("/exercises/tiny-grid?s=" + errID)
	expect(t, resp, body, 200, "could not be graded", "does not count as an attempt")

	passID := submit(`{"pass": true}`)
	readEvents(t, c, "/submissions/"+passID+"/events")
	resp, body = c.get("/exercises/tiny-grid")
	expect(t, resp, body, 200, "passed", "Your attempts", "Your scenario")

	p, _ := h.store.Progress(context.Background(), 1)
	if st := p.Exercises["tiny-grid"]; st.Attempts != 2 || !st.Passed || st.Best != 1 {
		t.Fatalf("stats = %+v, want 2 counted attempts, passed", st)
	}
	resp, body = c.get("/progress")
	expect(t, resp, body, 200, "1 of 1 exercises passed")

	t.Run("OtherStudentsSubmissionIs404", func(t *testing.T) {
		other := h.client()
		other.signUp("other@example.com")
		for _, path := range []string{"/submissions/" + id, "/submissions/" + id + "/result", "/submissions/" + id + "/events", "/exercises/tiny-grid?s=" + id, "/progress?user=1"} {
			resp, body := other.get(path)
			expect(t, resp, body, 404)
			if strings.Contains(body, "scales to zero\\\": \\\"no") || strings.Contains(body, "Cloud Run scales to zero") {
				t.Fatalf("%s leaks the submission", path)
			}
		}
		resp, body := other.get("/cohort")
		expect(t, resp, body, 403, "Instructors only")
	})
	t.Run("InstructorSeesCohort", func(t *testing.T) {
		if err := h.store.SetRole(context.Background(), 1, store.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		c.signIn("student@example.com") // a new session sees the new role at once
		resp, body := c.get("/cohort")
		expect(t, resp, body, 200, "student@example.com", "other@example.com", "100%")
		resp, body = c.get("/submissions/" + id)
		expect(t, resp, body, 200, `"verdict":"fail"`)
	})
}

func TestTooManyPending(t *testing.T) {
	h := newHarness(t, false) // no workers: everything stays queued
	c := h.client()
	c.signUp("a@example.com")
	for i := 0; i < 3; i++ {
		resp, body := c.post("/exercises/tiny-grid/submit", url.Values{"csrf": {c.csrf}, "body": {"{}"}}, "application/json")
		expect(t, resp, body, 202)
	}
	resp, body := c.post("/exercises/tiny-grid/submit", url.Values{"csrf": {c.csrf}, "body": {"{}"}}, "application/json")
	expect(t, resp, body, 429, "waiting for their verdict")
	resp, body = c.get("/exercises/tiny-grid")
	expect(t, resp, body, 200, "queued", "data-follow=")
}

// An exercise whose kind answers on a form shows the kind's grid, and a grid
// posted without script is stored as the kind's answer, previously chosen
// options checked again.
func TestFormExercise(t *testing.T) {
	h := newHarness(t, true)
	c := h.client()
	c.signUp("student@example.com")

	resp, body := c.get("/exercises/tiny-grid")
	expect(t, resp, body, 200, `name="cell.run.zero" value="yes"`, `name="cell.run.zero" value="no"`, "Scales to zero")
	if strings.Contains(body, `id="editor"`) {
		t.Fatal("a form exercise also shows the text editor")
	}
	resp, out := c.post("/exercises/tiny-grid/submit", url.Values{"csrf": {c.csrf}, "cell.run.zero": {"no"}}, "application/json")
	expect(t, resp, out, 202, `"events":"/submissions/`)
	id := regexp.MustCompile(`"id":(\d+)`).FindStringSubmatch(out)[1]
	readEvents(t, c, "/submissions/"+id+"/events")
	n, _ := strconv.ParseInt(id, 10, 64)
	sub, err := h.store.Submission(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(sub.Body), `{"cells":{"run":{"zero":"no"}}}`; got != want {
		t.Fatalf("stored answer = %s, want %s", got, want)
	}
	resp, body = c.get("/exercises/tiny-grid")
	expect(t, resp, body, 200, `value="no" checked`)
}
