package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"coldstart/exercises"
)

// TestBrowserCohort runs a cohort in a real browser against the real server
// and grader: an admin made by `coldstart users add` accepts the
// invitation, invites a student and makes a group with a due date; the
// student accepts, joins the group by its link and answers before and
// after the due date; the admin downloads the gradebook CSV (parsed and
// checked here), opens the student's late attempt read-only and finds the
// failed check in the analytics.
func TestBrowserCohort(t *testing.T) {
	chromium := browserPath(t)
	db := filepath.Join(t.TempDir(), "coldstart.db")
	code, out, stderr := runCmd(t, "users", "add", "--db", db, "--email", "admin@example.com", "--role", "admin", "--public-url", "http://placeholder")
	if code != 0 {
		t.Fatalf("users add: %s", stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	adminInvite := strings.TrimPrefix(lines[len(lines)-1], "http://placeholder")
	base, _ := startServer(t, &Main{DB: db})
	shots := filepath.Join(artifactsDir(t), "..", "cohort")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.WindowSize(1280, 900))
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
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
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
	const password = "a long enough password"
	setPassword := func(link string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(base + link),
			chromedp.WaitVisible(chromedp.CSS("#password")),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.SendKeys(chromedp.CSS("#confirm"), password),
			chromedp.Submit(chromedp.CSS("#confirm")),
			chromedp.WaitVisible(chromedp.CSS(".modules")),
		}
	}
	signOut := seq(chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/signin"]`)))
	signIn := func(email string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(base + "/signin"),
			chromedp.WaitVisible(chromedp.CSS("#email")),
			chromedp.SendKeys(chromedp.CSS("#email"), email),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.Submit(chromedp.CSS("#password")),
			chromedp.WaitVisible(chromedp.CSS(".modules")),
		}
	}
	link := func(sel string, into *string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			s, err := chromedp.Text(chromedp.CSS(sel))(ctx, tg)
			if err != nil {
				return err
			}
			m := regexp.MustCompile(`https?://[^/\s]+(/\S+)`).FindStringSubmatch(s)
			if m == nil {
				return fmt.Errorf("no link in %q", s)
			}
			*into = m[1]
			return nil
		})
	}

	var studentInvite, joinLink, text string
	run("the admin accepts the invitation printed by users add", setPassword(adminInvite)...)
	run("the admin invites a student",
		chromedp.Navigate(base+"/admin/users"),
		chromedp.WaitVisible(chromedp.CSS("#invite-email")),
		chromedp.SendKeys(chromedp.CSS("#invite-email"), "student@example.com"),
		chromedp.SendKeys(chromedp.CSS("#invite-name"), "Sam Student"),
		chromedp.Submit(chromedp.CSS("#invite-email")),
		chromedp.WaitVisible(chromedp.CSS("#handover-link")),
		link("#handover-link", &studentInvite),
		shot("invitation"),
	)
	run("the admin makes a group whose due date is tomorrow",
		chromedp.Navigate(base+"/cohort/groups"),
		chromedp.WaitVisible(chromedp.CSS("#group-name")),
		chromedp.SendKeys(chromedp.CSS("#group-name"), "Spring"),
		chromedp.Submit(chromedp.CSS("#group-name")),
		chromedp.WaitVisible(chromedp.CSS("#join-link")),
		link("#join-link", &joinLink),
		chromedp.SetValue(chromedp.CSS("#due-serverless-criteria"), time.Now().UTC().Add(24*time.Hour).Format("2006-01-02T15:04")),
		chromedp.Submit(chromedp.CSS("#due-serverless-criteria")),
		chromedp.WaitVisible(chromedp.CSS("#join-link")),
		shot("group"),
		signOut,
	)

	sol, err := exercises.FS.ReadFile("serverless-criteria/solution.json")
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := exercises.FS.ReadFile("serverless-criteria/wrong/aci-scales.json")
	if err != nil {
		t.Fatal(err)
	}
	answer := func(raw []byte, name string, attempt int) []chromedp.Action[chromedp.Void] {
		var a struct{ Cells map[string]map[string]string }
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		acts := []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/exercises/serverless-criteria"), chromedp.WaitVisible(chromedp.CSS("table.grid"))}
		for row, cols := range a.Cells {
			for col, v := range cols {
				acts = append(acts, chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="cell.%s.%s"][value="%s"]`, row, col, v))))
			}
		}
		return append(acts, chromedp.Click(chromedp.CSS("#submit-button")),
			// Wait for this attempt's verdict (the page may first show
			// the previous one), reading through the page, not a node: the
			// result area is replaced when the live verdict arrives.
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				done := regexp.MustCompile(fmt.Sprintf(`^\s*Attempt %d: (passed|not yet|could not be graded)`, attempt))
				for deadline := time.Now().Add(60 * time.Second); ; {
					s, err := chromedp.Evaluate[string](`(document.querySelector("#result h2") || {textContent: ""}).textContent`)(ctx, tg)
					if err == nil && done.MatchString(s) {
						text = s
						return nil
					}
					if time.Now().After(deadline) {
						return fmt.Errorf("no verdict for attempt %d; the page says %q (%v)", attempt, s, err)
					}
					time.Sleep(200 * time.Millisecond)
				}
			}), shot(name))
	}
	run("the student accepts the invitation and joins the group", append(setPassword(studentInvite),
		chromedp.Navigate(base+joinLink),
		chromedp.WaitVisible(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".modules")),
		chromedp.Navigate(base+"/exercises/serverless-criteria"),
		chromedp.WaitVisible(chromedp.CSS(".due")),
		textOf(".exercise .meta", &text),
		shot("exercise-due"),
	)...)
	if !strings.Contains(text, "due ") {
		t.Fatalf("the exercise page shows no due date: %q", text)
	}
	run("the student answers before the due date", answer(wrong, "before-due", 1)...)
	if !strings.Contains(text, "not yet") {
		t.Fatalf("the wrong answer's verdict is %q", text)
	}
	run("sign out", signOut)

	// The due date moves to a moment after the first answer; the second
	// answer is then late.
	due := time.Now().UTC().Add(time.Second)
	run("the admin moves the due date", append(signIn("admin@example.com"),
		chromedp.Navigate(base+"/cohort/groups"),
		chromedp.Click(chromedp.CSS(`a[href^="/cohort/groups/"]`)),
		chromedp.WaitVisible(chromedp.CSS("#due-serverless-criteria")),
		chromedp.SetValue(chromedp.CSS("#due-serverless-criteria"), due.Format("2006-01-02T15:04:05")),
		chromedp.Submit(chromedp.CSS("#due-serverless-criteria")),
		chromedp.WaitVisible(chromedp.CSS("#join-link")),
		signOut,
	)...)
	time.Sleep(time.Until(due.Add(time.Second)))
	run("the student answers after the due date", append(signIn("student@example.com"), answer(sol, "after-due", 2)...)...)
	if !strings.Contains(text, "passed") {
		t.Fatalf("the right answer's verdict is %q", text)
	}
	run("sign out", signOut)

	var csvText string
	run("the admin downloads the gradebook", append(signIn("admin@example.com"),
		chromedp.Navigate(base+"/cohort"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/cohort/gradebook.csv"]`)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			s, err := chromedp.Evaluate[string](`fetch("/cohort/gradebook.csv?group=Spring").then(r => r.text())`, chromedp.EvalAwaitPromise)(ctx, tg)
			csvText = s
			return err
		}),
	)...)
	records, err := csv.NewReader(strings.NewReader(csvText)).ReadAll()
	if err != nil {
		t.Fatalf("parse the gradebook: %v\n%s", err, csvText)
	}
	col := map[string]int{}
	for i, name := range records[0] {
		col[name] = i
	}
	if len(records) != 2 {
		t.Fatalf("gradebook of Spring has %d rows, want the header and one student:\n%s", len(records), csvText)
	}
	row := records[1]
	for name, want := range map[string]string{"email": "student@example.com", "name": "Sam Student", "group": "Spring",
		"serverless-criteria": "1", "serverless-criteria attempts": "2", "serverless-criteria late": "1", "fargate-task-definition attempts": "0"} {
		i, ok := col[name]
		if !ok {
			t.Fatalf("the gradebook has no column %q: %q", name, records[0])
		}
		if row[i] != want {
			t.Errorf("gradebook %q = %q, want %q", name, row[i], want)
		}
	}

	var banner, failedCheck, analytics string
	var studentPage string
	run("the admin opens the late attempt read-only",
		chromedp.Navigate(base+"/cohort"),
		chromedp.WaitVisible(chromedp.CSS("table.cohort")),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			s, err := chromedp.Evaluate[string](`[...document.querySelectorAll('a[href^="/cohort/students/"]')].find(a => a.textContent.includes("student@example.com")).href`)(ctx, tg)
			studentPage = s
			return err
		}),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Navigate(studentPage)(ctx, tg)
			return err
		}),
		chromedp.WaitVisible(chromedp.CSS("table.attempts")),
		shot("attempts"),
		chromedp.Click(chromedp.CSS(`table.attempts tbody tr:first-child a`)),
		chromedp.WaitVisible(chromedp.CSS("#review-banner")),
		textOf("#review-banner", &banner),
		shot("attempt-review"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Navigate(studentPage)(ctx, tg)
			return err
		}),
		chromedp.WaitVisible(chromedp.CSS("table.attempts")),
		chromedp.Click(chromedp.CSS(`table.attempts tbody tr:last-child a`)),
		chromedp.WaitVisible(chromedp.CSS(".review-checks")),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			s, err := chromedp.Evaluate[string](`(document.querySelector(".review-checks li.fail strong") || {textContent: ""}).textContent`)(ctx, tg)
			failedCheck = s
			return err
		}),
	)
	for _, want := range []string{"Read-only", "Sam Student", "student@example.com", "pass", "late"} {
		if !strings.Contains(banner, want) {
			t.Errorf("the review banner %q lacks %q", banner, want)
		}
	}
	var editors int
	run("the review page has no editor",
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			n, err := chromedp.Evaluate[int](`document.querySelectorAll("textarea, #editor, form[action$='/submit']").length`)(ctx, tg)
			editors = n
			return err
		}))
	if editors != 0 {
		t.Fatalf("the review page has %d editors or submit forms", editors)
	}
	run("the admin reads the analytics",
		chromedp.Navigate(base+"/cohort/analytics"),
		chromedp.WaitVisible(chromedp.CSS("#ex-serverless-criteria")),
		textOf("main", &analytics),
		shot("analytics"),
	)
	if failedCheck == "" || !strings.Contains(analytics, failedCheck) || !strings.Contains(analytics, "Checks that fail most") {
		t.Fatalf("analytics do not show the failed check %q:\n%.2000s", failedCheck, analytics)
	}

	// The grading page at a phone's and a desktop's width, light and dark:
	// it lists the server's own node and nothing sticks out.
	for _, size := range []struct {
		w, h int64
		opts []chromedp.EmulateViewportOption
	}{{390, 844, []chromedp.EmulateViewportOption{chromedp.EmulateMobile}}, {1280, 900, nil}} {
		for _, theme := range []string{"light", "dark"} {
			var grading string
			var f fit
			run(fmt.Sprintf("the admin reads the grading page at %d px, %s", size.w, theme),
				chromedp.EmulateViewport(size.w, size.h, size.opts...),
				scheme(theme),
				chromedp.Navigate(base+"/admin/grading"),
				chromedp.WaitVisible(chromedp.CSS("main table")),
				textOf("main", &grading),
				chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					var err error
					f, err = chromedp.Evaluate[fit](widths(size.w))(ctx, tg)
					return err
				}),
				shot(fmt.Sprintf("grading-%d-%s", size.w, theme)),
			)
			if !strings.Contains(grading, "Grader nodes") || !strings.Contains(grading, "local") {
				t.Fatalf("the grading page does not list the server's own node:\n%.1000s", grading)
			}
			if f.Doc > int(size.w) || len(f.Over) > 0 {
				t.Errorf("the grading page at %d px, %s, is %d px wide; sticking out: %v", size.w, theme, f.Doc, f.Over)
			}
		}
	}
	t.Logf("screenshots in %s", shots)
}

// seq makes one action of several.
func seq(actions ...chromedp.Action[chromedp.Void]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, a := range actions {
			if _, err := a(ctx, tg); err != nil {
				return err
			}
		}
		return nil
	})
}
