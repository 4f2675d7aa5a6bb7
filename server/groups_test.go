package server_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"coldstart/server/store"
)

func TestGroupsDeadlinesAndAttemptReview(t *testing.T) {
	h := newHarness(t, false)
	ctx := context.Background()
	teacher := h.signedIn("teacher@example.com", store.RoleInstructor)

	resp, body := teacher.post("/cohort/groups", url.Values{"csrf": {teacher.csrf}, "name": {"Autumn"}, "starts": {"2026-09-01T09:00"}}, "")
	expect(t, resp, body, 303)
	groupPath := resp.Header.Get("Location")
	resp, body = teacher.post("/cohort/groups", url.Values{"csrf": {teacher.csrf}, "name": {"autumn"}}, "")
	expect(t, resp, body, 409, "already exists")
	resp, body = teacher.get(groupPath)
	expect(t, resp, body, 200, "Autumn", "Due dates", `name="due.tiny-grid"`)
	join := regexp.MustCompile(`<code id="join-link">https?://[^/]+(/join/[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(body)
	if join == nil {
		t.Fatalf("no join link on the group page:\n%.2000s", body)
	}

	for _, tt := range []struct {
		due  string
		code int
		says string
	}{
		{"next tuesday", 400, "was not understood"},
		{"2026-13-01", 400, "was not understood"},
		{"2026-05-01T12:00", 303, ""},
	} {
		resp, body := teacher.post(groupPath+"/deadlines", url.Values{"csrf": {teacher.csrf}, "due.tiny-grid": {tt.due}}, "")
		expect(t, resp, body, tt.code, tt.says)
	}
	resp, body = teacher.get(groupPath)
	expect(t, resp, body, 200, `value="2026-05-01T12:00"`)

	student := h.signedIn("student@example.com", store.RoleStudent)
	anon := h.client()
	if resp, _ := anon.get(join[1]); resp.StatusCode != 303 || !strings.Contains(resp.Header.Get("Location"), "/signin?next=%2Fjoin%2F") {
		t.Fatalf("anonymous join: %d to %s; want the sign-in page coming back here", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = student.get(join[1])
	expect(t, resp, body, 200, "Join Autumn")
	resp, body = student.post(join[1], url.Values{"csrf": {student.csrf}}, "")
	expect(t, resp, body, 303)
	resp, body = student.get("/join/not-a-real-link")
	expect(t, resp, body, 404, "join link is not right")
	u, _ := h.store.UserByEmail(ctx, "student@example.com")
	if u.GroupID == 0 {
		t.Fatal("the student is in no group after joining")
	}
	for _, path := range []string{"/", "/exercises/tiny-grid"} {
		resp, body := student.get(path)
		expect(t, resp, body, 200, `<span class="due">due 1 May 2026 12:00 UTC</span>`)
	}
	due, _ := h.store.DueDates(ctx, u.ID)
	if want := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC); !due["tiny-grid"].Equal(want) {
		t.Fatalf("due dates %v, want tiny-grid at %v", due, want)
	}

	clock := &testClock{}
	h.store.Now = clock.now
	submitAt(t, h.store, clock, u.ID, "tiny-grid", time.Date(2026, 5, 1, 11, 0, 0, 0, time.UTC), "fail", 0.5)
	submitAt(t, h.store, clock, u.ID, "tiny-grid", time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC), "pass", 1)
	clock.set(time.Time{})

	resp, body = teacher.get("/cohort/students/" + itoa(u.ID))
	expect(t, resp, body, 200, "2 attempts", "on time", `class="tag late"`)
	attempts, _ := h.store.Attempts(ctx, u.ID)
	if len(attempts) != 2 || !attempts[0].Late || attempts[1].Late {
		t.Fatalf("attempts %+v: want the newest late, the first on time", attempts)
	}
	resp, body = teacher.get("/cohort/attempts/" + itoa(attempts[0].ID))
	expect(t, resp, body, 200, "Read-only: attempt", "by student@example.com", "Verdict: <strong>pass, score 100%", "late", "What was sent")
	for _, editor := range []string{`id="editor"`, `<textarea`, `/submit"`} {
		if strings.Contains(body, editor) {
			t.Fatalf("the review page has an editor or a submit form (%s)", editor)
		}
	}
	resp, body = teacher.get("/cohort/attempts/" + itoa(attempts[1].ID))
	expect(t, resp, body, 200, "Verdict: <strong>fail, score 50%", "Every cell is right", "Cloud Run scales to zero")
	resp, body = teacher.get("/cohort/analytics")
	expect(t, resp, body, 200, "Fill in a tiny grid", "Checks that fail most", "Every cell is right", "<dt>Pass rate</dt><dd>100% (1)</dd>",
		"<dt>Median attempts to pass</dt><dd>2</dd>", "<dt>Median time to pass</dt><dd>22.0 hours</dd>")
	resp, body = student.get("/cohort/attempts/" + itoa(attempts[0].ID))
	expect(t, resp, body, 403)
	resp, body = teacher.get("/cohort/attempts/999999")
	expect(t, resp, body, 404)

	t.Run("Extension", func(t *testing.T) {
		resp, body := teacher.post(groupPath+"/extensions", url.Values{"csrf": {teacher.csrf}, "user": {itoa(u.ID)}, "exercise": {"tiny-grid"}, "due": {"2026-05-03"}}, "")
		expect(t, resp, body, 303)
		attempts, _ := h.store.Attempts(ctx, u.ID)
		if attempts[0].Late {
			t.Fatal("an attempt within the extension is still late")
		}
		outsider := h.user("outsider@example.com", store.RoleStudent)
		resp, body = teacher.post(groupPath+"/extensions", url.Values{"csrf": {teacher.csrf}, "user": {itoa(outsider.ID)}, "exercise": {"tiny-grid"}, "due": {"2026-05-03"}}, "")
		expect(t, resp, body, 404, "not in this group")
		resp, body = teacher.post(groupPath+"/extensions", url.Values{"csrf": {teacher.csrf}, "user": {itoa(u.ID)}, "exercise": {"nope"}, "due": {"2026-05-03"}}, "")
		expect(t, resp, body, 400, "No such exercise")
		log, _ := h.store.AuditLog(ctx, store.AuditExtension, 0)
		if len(log) != 1 || log[0].TargetEmail != "student@example.com" || !strings.Contains(log[0].Detail, "2026-05-03") {
			t.Fatalf("extension audit %+v", log)
		}
	})
}
