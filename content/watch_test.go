package content_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"coldstart/content"
)

// copyMinimal copies the minimal course to a fresh directory.
func copyMinimal(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "course")
	if err := os.CopyFS(dir, os.DirFS("testdata/minimal")); err != nil {
		tb.Fatal(err)
	}
	return dir
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// waitSignal waits for a reload signal. The bound is only there so that a
// broken watcher fails the test instead of hanging it.
func waitSignal(tb testing.TB, ch <-chan struct{}) {
	tb.Helper()
	select {
	case _, ok := <-ch:
		if !ok {
			tb.Fatal("the watcher stopped")
		}
	case <-time.After(10 * time.Second):
		tb.Fatal("no reload after a save")
	}
}

func writeFile(tb testing.TB, name, text string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func TestWatch(t *testing.T) {
	dir := copyMinimal(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := content.Watch(ctx, dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	ch, unsubscribe := w.Subscribe()
	defer unsubscribe()
	lesson := filepath.Join(dir, "lessons", "grids.md")
	orig, err := os.ReadFile(lesson)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a saved change is picked up", func(t *testing.T) {
		start := time.Now()
		writeFile(t, lesson, strings.Replace(string(orig), "title: Grids", "title: Grids, revised", 1))
		waitSignal(t, ch)
		t.Logf("reload latency from save to signal: %v", time.Since(start))
		if got := w.Course().Lesson("grids").Title; got != "Grids, revised" {
			t.Errorf("title after reload = %q", got)
		}
		if w.Err() != nil {
			t.Errorf("Err() = %v", w.Err())
		}
	})

	t.Run("a broken file keeps the last good course", func(t *testing.T) {
		good := w.Course()
		writeFile(t, lesson, strings.Replace(string(orig), "minutes: 3", "minutes: soon", 1))
		waitSignal(t, ch)
		if w.Course() != good {
			t.Error("the course was replaced by a broken one")
		}
		err := w.Err()
		if err == nil || !strings.Contains(err.Error(), `lessons/grids.md:4: minutes must be a whole number, not the text "soon"`) {
			t.Errorf("Err() = %v", err)
		}
	})

	t.Run("fixing it clears the error", func(t *testing.T) {
		writeFile(t, lesson, string(orig))
		waitSignal(t, ch)
		if w.Err() != nil {
			t.Errorf("Err() = %v", w.Err())
		}
		if got := w.Course().Lesson("grids").Title; got != "Grids" {
			t.Errorf("title = %q", got)
		}
	})

	t.Run("a new exercise folder is watched", func(t *testing.T) {
		exDir := filepath.Join(dir, "exercises", "second")
		if err := os.Mkdir(exDir, 0o755); err != nil {
			t.Fatal(err)
		}
		waitSignal(t, ch) // the folder alone: a problem (no exercise.md)
		if w.Err() == nil {
			t.Error("an exercise folder without exercise.md should be a problem")
		}
		writeFile(t, filepath.Join(exDir, "exercise.md"), "---\nid: second\ntitle: Second\nkind: table\npoints: 1\n---\nPrompt.\n")
		deadline := time.Now().Add(10 * time.Second)
		for w.Course().Exercise("second") == nil && time.Now().Before(deadline) {
			waitSignal(t, ch)
		}
		if w.Course().Exercise("second") == nil {
			t.Errorf("the new exercise was not loaded; Err() = %v", w.Err())
		}
	})

	t.Run("stopping closes subscriptions", func(t *testing.T) {
		cancel()
		select {
		case _, ok := <-ch:
			for ok {
				_, ok = <-ch
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the subscription was not closed")
		}
	})
}

func TestWatchRefusesABrokenCourse(t *testing.T) {
	dir := copyMinimal(t)
	writeFile(t, filepath.Join(dir, "lessons", "grids.md"), "---\ntitle: [x\n---\n")
	_, err := content.Watch(context.Background(), dir, quietLogger())
	if err == nil || !strings.Contains(err.Error(), "lessons/grids.md:2: the front matter is not valid YAML") {
		t.Errorf("Watch error = %v", err)
	}
}

// BenchmarkWatchReload measures the time from saving a lesson to the reload
// signal a page listens for.
func BenchmarkWatchReload(b *testing.B) {
	dir := copyMinimal(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := content.Watch(ctx, dir, quietLogger())
	if err != nil {
		b.Fatal(err)
	}
	ch, unsubscribe := w.Subscribe()
	defer unsubscribe()
	lesson := filepath.Join(dir, "lessons", "reading-grids.md")
	orig, err := os.ReadFile(lesson)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		writeFile(b, lesson, string(orig)+fmt.Sprintf("\nEdit %d.\n", i))
		waitSignal(b, ch)
	}
}

// BenchmarkLoadMinimal is the cost of loading the minimal course.
func BenchmarkLoadMinimal(b *testing.B) {
	fsys := os.DirFS("testdata/minimal")
	for b.Loop() {
		if _, err := content.Load(fsys); err != nil {
			b.Fatal(err)
		}
	}
}
