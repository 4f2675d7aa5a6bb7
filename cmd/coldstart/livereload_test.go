package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserLiveReload serves a course directory with --watch, keeps a
// lesson open in a real browser, saves changes to the lesson file and
// measures how long the open page takes to show them. The page must keep its
// scroll position, and a broken save must show the problem in the page while
// the last good lesson stays readable.
func TestBrowserLiveReload(t *testing.T) {
	chromium := browserPath(t)
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "content", "testdata", "minimal"))); err != nil {
		t.Fatal(err)
	}
	lesson := filepath.Join(dir, "lessons", "grids.md")
	orig, err := os.ReadFile(lesson)
	if err != nil {
		t.Fatal(err)
	}
	// A long page, so that keeping the scroll position means something.
	long := string(orig) + "\n## More to read\n\n" + strings.Repeat("A paragraph that makes the page long enough to scroll through.\n\n", 120)
	if err := os.WriteFile(lesson, []byte(long), 0o644); err != nil {
		t.Fatal(err)
	}
	base, _ := startServer(t, &Main{Course: dir, Watch: true})

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelTimeout()

	eval := func(expr string) float64 {
		t.Helper()
		var v float64
		err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			var err error
			v, err = chromedp.Evaluate[float64](expr)(ctx, tg)
			return err
		}))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/lessons/grids"),
		chromedp.WaitVisible(chromedp.CSS("main")),
	); err != nil {
		t.Fatal(err)
	}
	// Let the page open its reload stream before the first save.
	time.Sleep(500 * time.Millisecond)
	eval("window.scrollTo(0, 1500), window.scrollY")
	scrolled := eval("window.scrollY")
	if scrolled < 1000 {
		t.Fatalf("the page did not scroll (scrollY %v)", scrolled)
	}

	// waitFor polls the open page until its text contains want.
	waitFor := func(want string) time.Duration {
		t.Helper()
		start := time.Now()
		for time.Since(start) < 20*time.Second {
			var text string
			_ = chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				var err error
				text, err = chromedp.Evaluate[string]("document.body ? document.body.innerText : ''")(ctx, tg)
				return err
			}))
			if strings.Contains(text, want) {
				return time.Since(start)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("the open page never showed %q", want)
		return 0
	}

	var latencies []time.Duration
	for i, marker := range []string{"First saved change.", "Second saved change.", "Third saved change."} {
		long = strings.Replace(long, "## More to read\n", "## More to read\n\n"+marker+"\n", 1)
		if err := os.WriteFile(lesson, []byte(long), 0o644); err != nil {
			t.Fatal(err)
		}
		latencies = append(latencies, waitFor(marker))
		if y := eval("window.scrollY"); math.Abs(y-scrolled) > 5 {
			t.Errorf("save %d: the page reloaded at scrollY %v, not at %v", i+1, y, scrolled)
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Logf("save → open page showing the change: %v", latencies)

	// A broken save: the page says what is wrong and still shows the last
	// good lesson.
	if err := os.WriteFile(lesson, []byte("---\ntitle: [unclosed\n---\nbroken\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("The course files have a problem")
	waitFor("Third saved change.")
	var status int64
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		var err error
		status, err = chromedp.Evaluate[int64](`fetch("/healthz").then(r => r.status)`, chromedp.EvalAwaitPromise)(ctx, tg)
		return err
	})); err != nil || status != 200 {
		t.Fatalf("healthz after a broken save: %d, %v", status, err)
	}
}
