package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"coldstart/content"
	"coldstart/content/builtin"
	"coldstart/exercises"
	"coldstart/grader"
	"coldstart/grader/kinds"
)

// layoutShots is where the layout test keeps its screenshots:
// $COLDSTART_ARTIFACTS/layout, or a temporary directory; the test logs it.
func layoutShots(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if env := os.Getenv("COLDSTART_ARTIFACTS"); env != "" {
		dir = filepath.Join(env, "layout")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("layout screenshots in %s", dir)
	return dir
}

// browser is one headless chromium for a test, with helpers that fail the
// test with the page's address and text.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	return newBrowserIn(t, layoutShots(t))
}

// newBrowserIn is newBrowser keeping its screenshots in shots.
func newBrowserIn(t *testing.T, shots string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browserPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	// Start the browser on this context, so a step's shorter deadline ends
	// only the step.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{t: t, ctx: ctx, shots: shots}
}

// run does one step of the test, in at most a minute.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		url, _ := chromedp.Run(b.ctx, chromedp.Location())
		text, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("main")))
		b.t.Fatalf("%s: %v (at %s: %.600s)", what, err, url, text)
	}
}

func (b *browser) eval(expr string, into any) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		s, err := chromedp.Evaluate[string](`JSON.stringify(`+expr+`)`)(ctx, tg)
		if err != nil {
			return err
		}
		return json.Unmarshal([]byte(s), into)
	})
}

func (b *browser) text(sel string, into *string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		s, err := chromedp.Text(chromedp.CSS(sel))(ctx, tg)
		*into = s
		return err
	})
}

func (b *browser) shot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		buf, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(b.shots, name+".png"), buf, 0o644)
	})
}

// view saves what the window shows.
func (b *browser) view(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		buf, err := chromedp.CaptureScreenshot()(ctx, tg)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(b.shots, name+".png"), buf, 0o644)
	})
}

func scheme(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: name}},
		})
		return err
	})
}

// widths reads the page's width against the window's, and names the
// elements that stick out past the wanted width (a phone zooms out to show
// a page wider than itself, so the window is not the measure).
func widths(want int64) string {
	return fmt.Sprintf(`(() => {
  const w = %d, out = [];
  for (const e of document.querySelectorAll("main *, header.site *, footer.site *")) {
    const r = e.getBoundingClientRect();
    if (r.right > w + 0.5 && !e.parentElement.closest(".table-scroll, pre, .editor")) {
      out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "") + " " + Math.round(r.right));
      if (out.length >= 12) break;
    }
  }
  return {doc: document.documentElement.scrollWidth, win: window.innerWidth, over: out};
})()`, want)
}

type fit struct {
	Doc, Win int
	Over     []string
}

// wrongQuizChoice finds a single-answer quiz of a lesson and one wrong
// choice of it.
func wrongQuizChoice(t *testing.T, lesson string) (form string, wrong int) {
	t.Helper()
	c, err := content.Load(builtin.FS())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range c.Lessons {
		if l.Slug != lesson {
			continue
		}
		for _, q := range l.Quizzes {
			if q.Multiple {
				continue
			}
			for i, ch := range q.Choices {
				if !ch.Correct {
					return q.ID, i
				}
			}
		}
	}
	t.Fatalf("lesson %s has no single-answer quiz", lesson)
	return "", 0
}

// TestBrowserLayout follows a student through a lesson, a quiz, a table
// exercise failed then passed, a typed exercise failed, and the progress
// page; then looks at each page at 390 px and 1280 px, light and dark: the
// document is never wider than the window. Screenshots of each are kept.
func TestBrowserLayout(t *testing.T) {
	base, _ := startServer(t, &Main{})
	b := newBrowser(t)

	var text string
	b.run("sign up",
		chromedp.Navigate(base+"/signup"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "phone@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), "a long enough password"),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS(".modules")),
	)

	// A wrong quiz answer: the student's choice is marked wrong with why;
	// no choice is marked right.
	quiz, wrong := wrongQuizChoice(t, "what-is-serverless")
	sel := fmt.Sprintf(`form.quiz[data-quiz=%q]`, quiz)
	var marks struct{ Right, Wrong, Explain int }
	b.run("answer a quiz wrongly",
		chromedp.Navigate(base+"/lessons/what-is-serverless"),
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`%s input[name="choice"][value="%d"]`, sel, wrong))),
		chromedp.Click(chromedp.CSS(sel+` button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(sel+` .quiz-feedback span`)),
		b.text(sel+" .quiz-feedback", &text),
		b.eval(fmt.Sprintf(`{Right: document.querySelectorAll('%[1]s .right').length, Wrong: document.querySelectorAll('%[1]s .wrong').length, Explain: document.querySelectorAll('%[1]s .explain').length}`, sel), &marks),
		chromedp.ScrollIntoView(chromedp.CSS(sel)),
		b.view("quiz-wrong"),
	)
	if !strings.HasPrefix(text, "Not quite") || marks.Right != 0 || marks.Wrong != 1 || marks.Explain != 1 {
		t.Fatalf("a wrong quiz answer shows %q with %+v; want one wrong choice explained and none marked right", text, marks)
	}

	// Mark complete goes on to the next lesson.
	var at string
	b.run("mark the lesson complete",
		chromedp.Click(chromedp.CSS(`form.complete button`)),
		chromedp.WaitVisible(chromedp.CSS(`article.lesson[data-lesson="containers-vs-functions"]`)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			var err error
			at, err = chromedp.Location()(ctx, tg)
			return err
		}),
	)
	if !strings.HasSuffix(at, "/lessons/containers-vs-functions") {
		t.Fatalf("after Mark complete the page is %s", at)
	}

	// The table exercise, one cell wrong, then right.
	sol, err := exercises.FS.ReadFile("serverless-criteria/solution.json")
	if err != nil {
		t.Fatal(err)
	}
	var answer struct{ Cells map[string]map[string]string }
	if err := json.Unmarshal(sol, &answer); err != nil {
		t.Fatal(err)
	}
	cell := func(row, col, v string) chromedp.Action[chromedp.Void] {
		return chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="cell.%s.%s"][value="%s"]`, row, col, v)))
	}
	fill := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/exercises/serverless-criteria"),
		chromedp.WaitVisible(chromedp.CSS("table.grid")),
	}
	for row, cols := range answer.Cells {
		for col, v := range cols {
			if row == "aci" && col == "scaling" {
				v = "yes"
			}
			fill = append(fill, cell(row, col, v))
		}
	}
	var failed struct {
		Summary, FirstCheck, Badge, Message string
		Folded                              bool
		Results                             int
	}
	const verdictState = `{Summary: document.querySelector("#result .summary-line").textContent,
		FirstCheck: document.querySelector("#result .check").className,
		Message: document.querySelector("#result .check .message").textContent,
		Badge: document.querySelector("#score-badge").textContent,
		Folded: [...document.querySelectorAll("#result details.checks-fold")].every(d => !d.open),
		Results: document.querySelectorAll("#result").length}`
	fill = append(fill,
		chromedp.Click(chromedp.CSS("#submit-button")),
		chromedp.WaitVisible(chromedp.CSS(`#result.verdict-fail`)),
		b.eval(verdictState, &failed),
	)
	b.run("submit a table answer with one wrong cell", fill...)
	if !strings.HasPrefix(failed.Summary, "1 of 12 checks failed") || failed.FirstCheck != "check fail" || !failed.Folded ||
		!strings.Contains(failed.Badge, "1 attempt") || strings.Contains(failed.Message, "no autoscaling") {
		t.Fatalf("failed table verdict: %+v", failed)
	}
	// From the keyboard: the summary's link leads to the failed check, and
	// the check's link puts the focus on the cell in the grid.
	var focused string
	b.run("follow the failure's links with the keyboard",
		chromedp.Focus(chromedp.CSS(`#result .failed-links a`)),
		chromedp.KeyEvent("\r"),
		chromedp.Focus(chromedp.CSS(`#result .check.fail .field a[href="#cell-aci-scaling"]`)),
		chromedp.KeyEvent("\r"),
		b.eval(`document.activeElement.id + " " + document.activeElement.className`, &focused),
	)
	if focused != "cell-aci-scaling cell-wrong" {
		t.Fatalf("after following the cell link the focus is on %q, want the marked cell", focused)
	}
	var failedTable string
	b.run("note the failed verdict's address", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		var err error
		failedTable, err = chromedp.Location()(ctx, tg)
		return err
	}))

	var passed struct {
		Heading, Badge string
		Results, Rows  int
	}
	b.run("put the cell right and submit again",
		cell("aci", "scaling", "no"),
		chromedp.Click(chromedp.CSS("#submit-button")),
		chromedp.WaitVisible(chromedp.CSS(`#result.verdict-pass`)),
		b.eval(`{Heading: document.querySelector("#result h2").textContent, Badge: document.querySelector("#score-badge").textContent,
			Results: document.querySelectorAll("#result").length, Rows: document.querySelectorAll(".history tbody tr").length}`, &passed),
	)
	if !strings.Contains(passed.Heading, "Attempt 2: passed") || !strings.Contains(passed.Badge, "passed") || passed.Results != 1 || passed.Rows != 2 {
		t.Fatalf("passed table verdict: %+v", passed)
	}

	// A typed answer that fails: the failures link to the lines the
	// student wrote.
	bad, err := exercises.FS.ReadFile("fargate-task-definition/wrong/bad-size-pair.json")
	if err != nil {
		t.Fatal(err)
	}
	var lineLinks int
	b.run("submit a task definition ECS would refuse",
		chromedp.Navigate(base+"/exercises/fargate-task-definition"),
		chromedp.WaitVisible(chromedp.CSS("#editor")),
		chromedp.SetValue(chromedp.CSS("#editor"), string(bad)),
		chromedp.Click(chromedp.CSS("#submit-button")),
		chromedp.WaitVisible(chromedp.CSS(`#result.verdict-fail, #result.verdict-error`)),
		b.eval(`document.querySelectorAll('#result .check.fail .field a[href^="#L"]').length`, &lineLinks),
	)
	if lineLinks == 0 {
		b.run("read the verdict", b.text("#result", &text))
		t.Fatalf("a failed typed answer links no line:\n%s", text)
	}
	var failedTyped string
	b.run("note the typed verdict's address", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		var err error
		failedTyped, err = chromedp.Location()(ctx, tg)
		return err
	}))

	pages := []struct{ name, url string }{
		{"home", base + "/"},
		{"lesson", base + "/lessons/what-is-serverless"},
		{"lesson-tables", base + "/lessons/networking-and-subnets"},
		{"lesson-code", base + "/lessons/fargate-task-definitions"},
		{"lesson-roles", base + "/lessons/execution-and-task-roles"},
		{"lesson-cloud-run", base + "/lessons/cloud-run"},
		{"lesson-production", base + "/lessons/running-in-production"},
		{"lesson-ecs", base + "/lessons/ecs-in-one-picture"},
		{"lesson-functions", base + "/lessons/containers-vs-functions"},
		{"lesson-load-balancers", base + "/lessons/load-balancers-and-health-checks"},
		{"lesson-auto-scaling", base + "/lessons/ecs-service-auto-scaling"},
		{"lesson-deployments", base + "/lessons/deployments-that-undo-themselves"},
		{"lesson-costs", base + "/lessons/what-it-costs"},
		{"lesson-two-platforms", base + "/lessons/same-api-two-platforms"},
		{"exercise-passed", base + "/exercises/serverless-criteria"},
		{"verdict-failed-table", failedTable},
		{"verdict-failed-typed", failedTyped},
		{"exercise-yaml", base + "/exercises/cloud-run-concurrency"},
		{"progress", base + "/progress"},
	}
	for _, size := range []struct {
		w, h int64
		opts []chromedp.EmulateViewportOption
	}{{390, 844, []chromedp.EmulateViewportOption{chromedp.EmulateMobile}}, {1280, 900, nil}} {
		for _, theme := range []string{"light", "dark"} {
			for _, p := range pages {
				name := fmt.Sprintf("%d-%s-%s", size.w, theme, p.name)
				var f fit
				b.run(name,
					chromedp.EmulateViewport(size.w, size.h, size.opts...),
					scheme(theme),
					chromedp.Navigate(p.url),
					chromedp.WaitVisible(chromedp.CSS("main")),
					b.eval(widths(size.w), &f),
					b.shot(name),
				)
				if f.Doc != f.Win || f.Win != int(size.w) {
					t.Errorf("%s: the document is %d px wide in a %d px window (want %d); sticking out: %v", name, f.Doc, f.Win, size.w, f.Over)
				}
			}
		}
	}
}

// heldGrader grades with the real engine once hold is closed, so a test can
// act while a grading is under way. A grading stopped before that returns
// an error result, as an interrupted one does.
type heldGrader struct {
	*grader.Engine
	hold <-chan struct{}
}

func (g heldGrader) Grade(ctx context.Context, req grader.Request) *grader.Result {
	select {
	case <-g.hold:
		return g.Engine.Grade(ctx, req)
	case <-ctx.Done():
		return &grader.Result{Exercise: req.Spec.ID, Status: grader.StatusError, Reason: "interrupted"}
	}
}

// TestBrowserStreamDrop stops the server while the page follows a
// grading: the page says the connection is lost and keeps trying; a new
// server on the same database finishes the grading, and the page shows the
// verdict without a reload.
func TestBrowserStreamDrop(t *testing.T) {
	db := filepath.Join(t.TempDir(), "coldstart.db")
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	held := make(chan struct{})
	first := &Main{DB: db, Grace: time.Second, Grader: heldGrader{grader.NewEngine(nil, logger, kinds.All()...), held}}
	base, stop := startServer(t, first)
	b := newBrowser(t)

	sol, err := exercises.FS.ReadFile("serverless-criteria/solution.json")
	if err != nil {
		t.Fatal(err)
	}
	var answer struct{ Cells map[string]map[string]string }
	if err := json.Unmarshal(sol, &answer); err != nil {
		t.Fatal(err)
	}
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/signup"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "dropped@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), "a long enough password"),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS(".modules")),
		chromedp.Navigate(base + "/exercises/serverless-criteria"),
		chromedp.WaitVisible(chromedp.CSS("table.grid")),
	}
	for row, cols := range answer.Cells {
		for col, v := range cols {
			steps = append(steps, chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="cell.%s.%s"][value="%s"]`, row, col, v))))
		}
	}
	steps = append(steps,
		chromedp.Click(chromedp.CSS("#submit-button")),
		chromedp.WaitVisible(chromedp.CSS("#result.verdict-pending")),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`/Running|Queued/.test(document.querySelector("#live-status").textContent)`)(ctx, tg)
			return err
		}),
	)
	b.run("submit and follow the grading", steps...)

	if err := stop(); err != nil {
		t.Fatalf("stop the first server: %v", err)
	}
	var lost string
	b.run("see the connection lost",
		chromedp.WaitVisible(chromedp.CSS(".stream-lost")),
		b.text(".stream-lost", &lost),
		chromedp.ScrollIntoView(chromedp.CSS(".stream-lost")),
		b.view("stream-lost"),
	)
	if lost != "Connection lost — retrying…" {
		t.Fatalf("the note says %q", lost)
	}

	released := make(chan struct{})
	close(released)
	startServer(t, &Main{Addr: strings.TrimPrefix(base, "http://"), DB: db,
		Grader: heldGrader{grader.NewEngine(nil, logger, kinds.All()...), released}})
	var heading string
	var notes int
	b.run("get the verdict once the server is back",
		chromedp.WaitVisible(chromedp.CSS("#result.verdict-pass")),
		b.text("#result h2", &heading),
		b.eval(`document.querySelectorAll(".stream-lost").length`, &notes),
		b.view("stream-back"),
	)
	if !strings.Contains(heading, "Attempt 1: passed") || notes != 0 {
		t.Fatalf("after the server came back: heading %q, %d connection notes", heading, notes)
	}
}
