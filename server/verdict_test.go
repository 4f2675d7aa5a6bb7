package server_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"coldstart/grader"
)

// mixedChecks is a verdict with passes around one failure and one check
// not run, in the order a kind records them.
func mixedChecks() []grader.Check {
	return []grader.Check{
		{ID: "a", Title: "First thing holds", Status: grader.CheckPass, Points: 1, MaxPoints: 1},
		{ID: "b", Title: "Second thing holds", Status: grader.CheckPass, Points: 1, MaxPoints: 1},
		{ID: "c", Title: "The cell about scaling", Status: grader.CheckFail, Field: "/cells/run/zero", Message: "not right yet", MaxPoints: 1},
		{ID: "d", Title: "Run check", Status: grader.CheckSkip, Message: "not run: the static checks failed"},
	}
}

func TestVerdictLayout(t *testing.T) {
	h := newHarness(t, true)
	c := h.client()
	c.signUp("student@example.com")
	other := h.client()
	other.signUp("other@example.com")

	submit := func(c *client, body string) string {
		t.Helper()
		resp, out := c.post("/exercises/tiny-grid/submit", url.Values{"csrf": {c.csrf}, "body": {body}}, "application/json")
		expect(t, resp, out, 202)
		id := regexp.MustCompile(`"id":(\d+)`).FindStringSubmatch(out)[1]
		readEvents(t, c, "/submissions/"+id+"/events")
		return id
	}
	// The other student's attempts come first: numbers are per student.
	submit(other, "fail")
	submit(other, "fail")
	first := submit(c, "fail")
	id := submit(c, "mixed")

	t.Run("SummaryFailuresFirstPassesFolded", func(t *testing.T) {
		resp, body := c.get("/submissions/" + id + "/result")
		expect(t, resp, body, 200, "Attempt 2: not yet", "1 of 4 checks failed</strong>; 1 not run.",
			`<a href="#check-`+id+`-3">The cell about scaling</a>`, `href="#cell-run-zero"`,
			`<summary>2 checks passed</summary>`, `<summary>1 check not run</summary>`)
		failAt, passAt := strings.Index(body, `id="check-`+id+`-3"`), strings.Index(body, `id="check-`+id+`-1"`)
		if failAt < 0 || passAt < 0 || failAt > passAt {
			t.Fatalf("the failure (at %d) is not shown before the passes (at %d)", failAt, passAt)
		}
		if strings.Contains(body, "Attempt "+id+":") && id != "2" {
			t.Errorf("the attempt is numbered by submission id %s", id)
		}
	})
	t.Run("HistoryAndBadgeComeWithTheVerdict", func(t *testing.T) {
		resp, body := c.get("/submissions/" + id + "/result")
		expect(t, resp, body, 200, `<template id="score-next"><span class="badge warn">best 67% · 2 attempts</span></template>`,
			`<a href="?s=`+first+`#result">view<span class="visually-hidden"> attempt 1</span></a>`)
	})
	t.Run("ExercisePageBadgeHasAnID", func(t *testing.T) {
		resp, body := c.get("/exercises/tiny-grid")
		expect(t, resp, body, 200, `<span id="score-badge" aria-live="polite"><span class="badge warn">best 67%`,
			`<td id="cell-run-zero" tabindex="-1" class="cell-wrong"><div role="radiogroup" aria-label="Cloud Run: Scales to zero (not right yet)">`)
	})
	t.Run("PassUnfoldsThePasses", func(t *testing.T) {
		pass := submit(c, "pass")
		resp, body := c.get("/submissions/" + pass + "/result")
		expect(t, resp, body, 200, "Attempt 3: passed", "All 1 check passed", `<details class="checks-fold" open>`, `passed · best 100%`)
	})
	t.Run("NotCountedSaidOnce", func(t *testing.T) {
		busy := submit(c, "busy")
		resp, body := c.get("/submissions/" + busy + "/result")
		expect(t, resp, body, 200, "this attempt does not count")
		reason := regexp.MustCompile(`(?s)<p class="reason".*?</p>`).FindString(body)
		if n := strings.Count(strings.ToLower(reason), "does not count"); n != 1 {
			t.Fatalf("\"does not count\" appears %d times in the reason: %s", n, reason)
		}
		errID := submit(c, "error")
		resp, body = c.get("/submissions/" + errID + "/result")
		expect(t, resp, body, 200, "the grader broke", "This does not count as an attempt.", "1 of 1 check could not be judged")
	})
	t.Run("VisitorSeesNoDanglingSeparator", func(t *testing.T) {
		v := h.client()
		resp, body := v.get("/exercises/tiny-grid")
		expect(t, resp, body, 200)
		if regexp.MustCompile(`points</span>\s*·`).MatchString(body) || strings.Contains(body, "points · </p>") {
			t.Fatalf("a visitor sees a dangling separator after the points")
		}
	})
}
