package builtin_test

import (
	"testing"
	"testing/fstest"

	"coldstart/content"
	"coldstart/content/builtin"
)

func TestFSIsAFileSystem(t *testing.T) {
	if err := fstest.TestFS(builtin.FS(), "course.yaml", "lessons/what-is-serverless.md", "exercises/subnet-sizing/exercise.md"); err != nil {
		t.Fatal(err)
	}
}

// The built-in course must always load without a single problem.
func TestBuiltinCourseLoads(t *testing.T) {
	c, err := content.Load(builtin.FS())
	if err != nil {
		t.Fatalf("the built-in course has problems:\n%v", err)
	}
	if len(c.Lessons) < 8 {
		t.Errorf("the built-in course has %d lessons, want at least 8", len(c.Lessons))
	}
	for _, l := range c.Lessons {
		t.Logf("%-28s %5d words, %d quizzes, %d headings", l.Slug, l.Words, len(l.Quizzes), len(l.TOC))
		if l.Exercise != "" && c.Exercise(l.Exercise) == nil {
			t.Errorf("%s leads to %q, which is not loaded", l.Slug, l.Exercise)
		}
	}
	for _, ex := range c.Exercises {
		if ex.Lesson == "" || c.Lesson(ex.Lesson) == nil {
			t.Errorf("exercise %s names no lesson of the course (%q)", ex.ID, ex.Lesson)
		}
	}
}

// BenchmarkLoadBuiltin is the cost of one load of the built-in course: the
// work a reload does once the editor has finished saving.
func BenchmarkLoadBuiltin(b *testing.B) {
	fsys := builtin.FS()
	for b.Loop() {
		if _, err := content.Load(fsys); err != nil {
			b.Fatal(err)
		}
	}
}
