package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"coldstart/grader"
	"coldstart/grader/kinds"
	"coldstart/grader/sandbox/sandboxtest"
)

// checkEngine is the engine coldstart check uses (newEngine): every
// registered kind and a real sandbox, which must be left empty.
func checkEngine(t *testing.T) *grader.Engine {
	return grader.NewEngine(sandboxtest.New(t), slog.New(slog.NewTextHandler(io.Discard, nil)), kinds.All()...)
}

// copyCourse copies a course of testdata to a fresh directory.
func copyCourse(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("../../content/testdata", name))); err != nil {
		t.Fatal(err)
	}
	return dir
}

func dirTarget(dir string) checkTarget {
	return checkTarget{name: dir, fsys: os.DirFS(dir), display: func(p string) string { return filepath.Join(dir, p) }}
}

// timing matches the grading time a check line ends with.
var timing = regexp.MustCompile(`\d+\.\d\ds of \d+s`)

func TestCheckGradesEveryAnswer(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(t *testing.T, dir string)
		problems int
		want     []string
	}{
		{
			name: "minimal course passes",
			want: []string{
				"2 lessons, 1 quiz, 1 exercise: the course files are valid",
				"lesson grids ",
				"ok    tiny-grid/solution.json           pass",
				"ok    tiny-grid/wrong/missing-row.json  fails table.aci.scalesToZero",
				"ok    tiny-grid/wrong/swapped.json      fails table.cloudrun.scalesToZero",
			},
		},
		{
			name: "a wrong answer that passes is a problem",
			edit: func(t *testing.T, dir string) {
				copyFile(t, filepath.Join(dir, "exercises/tiny-grid/solution.json"), filepath.Join(dir, "exercises/tiny-grid/wrong/swapped.json"))
			},
			problems: 1,
			want:     []string{"FAIL  tiny-grid/wrong/swapped.json      passes, but must fail table.cloudrun.scalesToZero"},
		},
		{
			name: "a wrong answer that fails another check is a problem",
			edit: func(t *testing.T, dir string) {
				copyFile(t, filepath.Join(dir, "exercises/tiny-grid/wrong/missing-row.json"), filepath.Join(dir, "exercises/tiny-grid/wrong/swapped.json"))
			},
			problems: 1,
			want:     []string{"FAIL  tiny-grid/wrong/swapped.json      table.cloudrun.scalesToZero is pass, but must fail (it fails table.aci.scalesToZero)"},
		},
		{
			name: "a solution that fails is a problem",
			edit: func(t *testing.T, dir string) {
				copyFile(t, filepath.Join(dir, "exercises/tiny-grid/wrong/swapped.json"), filepath.Join(dir, "exercises/tiny-grid/solution.json"))
			},
			problems: 1,
			want:     []string{"FAIL  tiny-grid/solution.json           fails table.cloudrun.scalesToZero (", "), but the reference solution must pass"},
		},
		{
			name: "a solution that is not JSON cannot be graded",
			edit: func(t *testing.T, dir string) {
				writeText(t, filepath.Join(dir, "exercises/tiny-grid/solution.json"), "{\"Cloud Run\": \n")
			},
			problems: 1,
			want:     []string{"FAIL  tiny-grid/solution.json           could not be graded: "},
		},
		{
			name: "an unregistered kind is a problem, not a skip",
			edit: func(t *testing.T, dir string) {
				replaceIn(t, filepath.Join(dir, "exercises/tiny-grid/exercise.md"), "kind: table", "kind: grid")
			},
			problems: 1,
			want:     []string{`exercises/tiny-grid/exercise.md:4: unknown kind "grid" (the kinds are cloudrun, iam, subnet, table, taskdef)`},
		},
		{
			name: "validation problems are counted with their file and line",
			edit: func(t *testing.T, dir string) {
				replaceIn(t, filepath.Join(dir, "lessons/grids.md"), "minutes: 3", "minutes: three")
			},
			problems: 1,
			want:     []string{`lessons/grids.md:4: minutes must be a whole number, not the text "three"`, "1 problem in the course files"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyCourse(t, "minimal")
			if tt.edit != nil {
				tt.edit(t, dir)
			}
			var out bytes.Buffer
			n := checkCourse(context.Background(), dirTarget(dir), checkEngine(t), &out)
			t.Logf("output:\n%s", out.String())
			if n != tt.problems {
				t.Errorf("%d problems, want %d", n, tt.problems)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, l := range strings.Split(out.String(), "\n") {
				if strings.HasPrefix(l, "ok  ") && !timing.MatchString(l) {
					t.Errorf("no grading time against the limit in %q", l)
				}
			}
		})
	}
}

// The command itself: exit codes and output through Run.
func TestCheckCommand(t *testing.T) {
	tests := []struct {
		name string
		args func(t *testing.T) []string
		code int
		want string
	}{
		{"broken course", func(t *testing.T) []string { return []string{"check", "--no-grade", copyCourse(t, "broken")} }, 1, "lessons/bad-quiz.md:6: a quiz needs at least 2 choices, this one has 1"},
		{"minimal course, validation only", func(t *testing.T) []string { return []string{"check", copyCourse(t, "minimal"), "--no-grade"} }, 0, "the course files are valid"},
		{"not a directory", func(t *testing.T) []string { return []string{"check", "check_test.go"} }, 1, ""},
		{"too many arguments", func(t *testing.T) []string { return []string{"check", "a", "b"} }, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(context.Background(), tt.args(t), Streams{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("stdout lacks %q:\n%s", tt.want, out.String())
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeText(t, to, string(b))
}

func writeText(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func replaceIn(t *testing.T, name, old, new string) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s has no %q", name, old)
	}
	writeText(t, name, strings.Replace(string(b), old, new, 1))
}
