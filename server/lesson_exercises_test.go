package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"coldstart/content"
	"coldstart/server"
)

// A lesson that lists several exercises leads to each of them, in order.
func TestLessonLeadsToSeveralExercises(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "course")
	if err := os.CopyFS(dir, os.DirFS("../content/testdata/minimal")); err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(dir, "exercises/second-grid")
	if err := os.CopyFS(second, os.DirFS(filepath.Join(dir, "exercises/tiny-grid"))); err != nil {
		t.Fatal(err)
	}
	edit := func(name, old, new string) {
		b, err := os.ReadFile(name)
		if err != nil || !strings.Contains(string(b), old) {
			t.Fatalf("%s lacks %q (%v)", name, old, err)
		}
		if err := os.WriteFile(name, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit(filepath.Join(second, "exercise.md"), "id: tiny-grid\ntitle: Fill in a tiny grid", "id: second-grid\ntitle: A second grid")
	edit(filepath.Join(dir, "lessons/grids.md"), "exercise: tiny-grid", "exercises: [tiny-grid, second-grid]")
	c, err := content.Load(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, false, func(cfg *server.Config) { cfg.Course = server.StaticCourse{C: c} })
	resp, body := h.client().get("/lessons/grids")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	first, second2 := strings.Index(body, `href="/exercises/tiny-grid"`), strings.Index(body, `href="/exercises/second-grid"`)
	if first < 0 || second2 < 0 || first > second2 {
		t.Errorf("the lesson does not lead to tiny-grid then second-grid (at %d and %d):\n%s", first, second2, body)
	}
	if n := strings.Count(body, "Open the exercise"); n != 2 {
		t.Errorf("%d exercise links, want 2", n)
	}
}
