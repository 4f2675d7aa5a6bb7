package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"coldstart/content"
	"coldstart/content/builtin"
	"coldstart/exercises"
)

// browserPath finds Debian's chromium. Without it the test fails, unless
// COLDSTART_SKIP_BROWSER_TESTS=1 says to skip it on purpose.
func browserPath(t *testing.T) string {
	t.Helper()
	if os.Getenv("COLDSTART_SKIP_BROWSER_TESTS") == "1" {
		t.Skip("COLDSTART_SKIP_BROWSER_TESTS=1: the browser test is skipped on purpose")
	}
	for _, name := range []string{os.Getenv("COLDSTART_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the browser test needs chromium: install it (apt-get install -y chromium), point COLDSTART_CHROMIUM at it, " +
		"or set COLDSTART_SKIP_BROWSER_TESTS=1 to skip this test on purpose")
	return ""
}

func artifactsDir(t *testing.T) string {
	dir := os.Getenv("COLDSTART_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	dir = filepath.Join(dir, "e2e")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowserEndToEnd signs up, reads a lesson, answers a quiz, submits an
// exercise, follows it to its verdict and looks at the progress page, in a
// real browser against the real server with the built-in course and the real
// grader. Every page visited is saved as a screenshot.
func TestBrowserEndToEnd(t *testing.T) {
	chromium := browserPath(t)
	base, _ := startServer(t, &Main{})
	shots := artifactsDir(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelTimeout()

	step := 0
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			step++
			buf, err := chromedp.FullScreenshot(100)(ctx, tg) // quality 100: a lossless PNG
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, fmt.Sprintf("%02d-%s.png", step, name)), buf, 0o644)
		})
	}
	// view saves what the window shows (for long pages, the part in view).
	view := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			step++
			buf, err := chromedp.CaptureScreenshot()(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, fmt.Sprintf("%02d-%s.png", step, name)), buf, 0o644)
		})
	}
	textOf := func(sel string, into *string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			s, err := chromedp.Text(chromedp.CSS(sel))(ctx, tg)
			*into = s
			return err
		})
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			url, _ := chromedp.Run(ctx, chromedp.Location())
			var text string
			_ = chromedp.Do(ctx, textOf("main", &text))
			t.Fatalf("%s: %v (at %s: %.500s)", what, err, url, text)
		}
	}

	var text string
	run("sign up",
		chromedp.Navigate(base+"/signup"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		shot("signup"),
		chromedp.SendKeys(chromedp.CSS("#email"), "student@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), "a long enough password"),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS(".modules")),
		textOf("header.site", &text),
		shot("home"),
	)
	if !strings.Contains(text, "student@example.com") {
		t.Fatalf("not signed in after sign-up; header says %q", text)
	}

	run("read a lesson and answer a quiz",
		chromedp.Navigate(base+"/lessons/what-is-serverless"),
		chromedp.WaitVisible(chromedp.CSS("form.quiz")),
		view("lesson-top"),
		shot("lesson"),
		chromedp.Click(chromedp.CSS(`form.quiz input[name="choice"]`)),
		chromedp.Click(chromedp.CSS(`form.quiz button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form.quiz .quiz-feedback span`)),
		textOf(`form.quiz .quiz-feedback`, &text),
		chromedp.ScrollIntoView(chromedp.CSS("form.quiz")),
		view("quiz-answered"),
	)
	if !strings.Contains(text, "Right") && !strings.Contains(text, "Not quite") {
		t.Fatalf("quiz feedback = %q", text)
	}
	// A lesson with a figure and a quiz, in the light and the dark theme: the
	// figure's colours come from the page theme, so both must differ.
	theme := func(scheme string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			})
			return err
		})
	}
	colours := func(into *string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			s, err := chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor + " / " +
				getComputedStyle(document.querySelector("figure svg text") || document.body).fill`)(ctx, tg)
			*into = s
			return err
		})
	}
	var light, dark string
	run("see a lesson figure in both themes",
		chromedp.Navigate(base+"/lessons/networking-and-subnets"),
		chromedp.WaitVisible(chromedp.CSS("figure svg")),
		theme("light"),
		chromedp.ScrollIntoView(chromedp.CSS("figure")),
		colours(&light),
		view("figure-light"),
		theme("dark"),
		chromedp.ScrollIntoView(chromedp.CSS("figure")),
		colours(&dark),
		view("figure-dark"),
		chromedp.ScrollIntoView(chromedp.CSS("form.quiz")),
		view("quiz-dark"),
		theme("light"),
	)
	if light == dark {
		t.Fatalf("the dark theme changes nothing: body background and figure text are %q in both", light)
	}
	t.Logf("theme colours: light %s, dark %s", light, dark)

	// Marking a lesson complete goes on to the next lesson.
	course, err := content.Load(builtin.FS())
	if err != nil {
		t.Fatal(err)
	}
	next := ""
	for _, l := range course.Lessons {
		if l.Slug == "networking-and-subnets" && l.Next != nil {
			next = l.Next.Slug
		}
	}
	run("mark the lesson complete",
		chromedp.Click(chromedp.CSS(`form.complete button`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`article.lesson[data-lesson=%q]`, next))),
	)

	// Fill the grid of the serverless-criteria exercise with its reference
	// answer, cell by cell, as a student would.
	sol, err := exercises.FS.ReadFile("serverless-criteria/solution.json")
	if err != nil {
		t.Fatal(err)
	}
	var answer struct{ Cells map[string]map[string]string }
	if err := json.Unmarshal(sol, &answer); err != nil {
		t.Fatal(err)
	}
	clicks := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/exercises/serverless-criteria"),
		chromedp.WaitVisible(chromedp.CSS("table.grid")),
		shot("exercise"),
	}
	for row, cols := range answer.Cells {
		for col, v := range cols {
			clicks = append(clicks, chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="cell.%s.%s"][value="%s"]`, row, col, v))))
		}
	}
	clicks = append(clicks,
		chromedp.Click(chromedp.CSS("#submit-button")),
		// The page replaces the result card as the grading goes on, so the
		// verdict is read in the page itself rather than through a node
		// that may be gone by the time it is read.
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			s, err := chromedp.Poll[string](`(() => {
				const h = document.querySelector("#result.verdict-pass h2, #result.verdict-fail h2, #result.verdict-error h2");
				if (!h) return false;
				document.querySelector("#result").scrollIntoView();
				return h.textContent;
			})()`, chromedp.WithPollingTimeout(90*time.Second))(ctx, tg)
			text = s
			return err
		}),
		shot("verdict"),
	)
	run("submit the exercise and follow it to the verdict", clicks...)
	if !strings.Contains(text, "passed") {
		t.Fatalf("verdict heading = %q, want passed", text)
	}

	run("see the progress",
		chromedp.Navigate(base+"/progress"),
		chromedp.WaitVisible(chromedp.CSS(".progress-table")),
		textOf("main", &text),
		shot("progress"),
	)
	for _, want := range []string{fmt.Sprintf("1 of %d lessons read", len(course.Lessons)), fmt.Sprintf("1 of %d exercises passed", len(course.Exercises))} {
		if !strings.Contains(text, want) {
			t.Fatalf("progress page lacks %q:\n%s", want, text)
		}
	}
	t.Logf("screenshots in %s", shots)
}
