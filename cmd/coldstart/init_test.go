package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"coldstart/content"
	"coldstart/content/builtin"
)

func TestInit(t *testing.T) {
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), append([]string{"init"}, args...), Streams{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
		return code, out.String() + errOut.String()
	}
	dir := filepath.Join(t.TempDir(), "my-course")

	t.Run("writes the built-in course", func(t *testing.T) {
		code, out := run(dir)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, out)
		}
		// Whether the built-in course itself is valid is the built-in
		// package's test; here the copy must load exactly as the original.
		want, wantProblems := content.Inspect(builtin.FS())
		got, gotProblems := content.Inspect(os.DirFS(dir))
		if len(got.Lessons) != len(want.Lessons) || len(got.Exercises) != len(want.Exercises) || len(gotProblems) != len(wantProblems) {
			t.Errorf("the copy has %d lessons, %d exercises, %d problems; the built-in course %d, %d, %d",
				len(got.Lessons), len(got.Exercises), len(gotProblems), len(want.Lessons), len(want.Exercises), len(wantProblems))
		}
		for _, l := range want.Lessons {
			if g := got.Lesson(l.Slug); g == nil || g.HTML != l.HTML {
				t.Errorf("lesson %s differs in the copy", l.Slug)
			}
		}
		if !strings.Contains(out, "coldstart serve --course "+dir+" --watch") {
			t.Errorf("output does not say what to do next: %s", out)
		}
	})

	t.Run("refuses a directory that is not empty", func(t *testing.T) {
		code, out := run(dir)
		if code != 1 || !strings.Contains(out, "is not empty") || !strings.Contains(out, "--force") {
			t.Errorf("exit %d: %s", code, out)
		}
	})

	t.Run("--force writes into it", func(t *testing.T) {
		lesson := filepath.Join(dir, "lessons", "cloud-run.md")
		if err := os.WriteFile(lesson, []byte("edited"), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, out := run(dir, "--force"); code != 0 {
			t.Fatalf("exit %d: %s", code, out)
		}
		if b, _ := os.ReadFile(lesson); string(b) == "edited" {
			t.Error("the lesson was not written again")
		}
	})

	t.Run("needs exactly one directory", func(t *testing.T) {
		if code, _ := run(); code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
	})
}
