package server_test

import (
	"coldstart/server/store"
	"net/url"
	"strings"
	"testing"
)

func TestMarkCompleteGoesOn(t *testing.T) {
	h := newHarness(t, false)
	c := h.client()
	c.signUp("a@example.com")
	tests := []struct {
		name, lesson, done, location string
	}{
		{"CompleteGoesToTheNextLesson", "grids", "1", "/lessons/reading-grids"},
		{"LastLessonStaysAtItsEnd", "reading-grids", "1", "/lessons/reading-grids#lesson-end"},
		{"NotReadStaysAtTheButton", "grids", "0", "/lessons/grids#lesson-end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := c.post("/lessons/"+tt.lesson+"/complete", url.Values{"csrf": {c.csrf}, "done": {tt.done}}, "")
			if resp.StatusCode != 303 || resp.Header.Get("Location") != tt.location {
				t.Fatalf("got %d to %q, want 303 to %q: %s", resp.StatusCode, resp.Header.Get("Location"), tt.location, body)
			}
		})
	}
	resp, body := c.get("/lessons/grids")
	expect(t, resp, body, 200, "Mark complete and go on", `id="lesson-end"`)
}

func TestNavOnAnotherStudentsProgress(t *testing.T) {
	h := newHarness(t, false)
	// Nobody becomes admin by signing up first: the admin is made directly.
	admin := h.signedIn("admin@example.com", store.RoleAdmin)
	student := h.client()
	student.signUp("student@example.com")
	resp, body := admin.get("/progress?user=2")
	expect(t, resp, body, 200, "Progress of student@example.com", `<a href="/cohort" aria-current="page">Cohort</a>`)
	if strings.Contains(body, `<a href="/progress" aria-current="page">`) {
		t.Fatal(`"My progress" is highlighted on another student's page`)
	}
	resp, body = admin.get("/progress")
	expect(t, resp, body, 200, `<a href="/progress" aria-current="page">My progress</a>`)
}

// A course table scrolls inside its own focusable region, so a phone does
// not widen the page for it.
func TestCourseTablesScrollInside(t *testing.T) {
	h := newHarness(t, false)
	c := h.client()
	resp, body := c.get("/lessons/grids")
	expect(t, resp, body, 200, `<div class="table-scroll" role="region" tabindex="0" aria-label="Table (scrolls sideways)"><table>`)
	if strings.Count(body, "<table>") != strings.Count(body, `<div class="table-scroll" role="region"`) {
		t.Fatal("a table of the lesson is not wrapped")
	}
}
