package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"coldstart/content"
	"coldstart/content/builtin"
)

// builtinCourse writes the built-in course to a fresh directory, as
// coldstart init does, for a test to break.
func builtinCourse(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "course")
	if _, err := writeTree(t.Context(), dir, builtin.FS()); err != nil {
		t.Fatal(err)
	}
	return dir
}

// authoringErrors are the mistakes an author makes in an exercise's front
// matter, each with the line coldstart check must print for it. Every one
// is found without grading anything.
var authoringErrors = []struct {
	name string
	file string
	old  string
	new  string
	want string
}{
	{"misspelt scenario key", "exercises/fargate-task-definition/exercise.md", "  health: {path: /healthz}", "  helth: {path: /healthz}",
		`exercises/fargate-task-definition/exercise.md:24: unknown key "helth" in scenario: did you mean "health"?`},
	{"misspelt nested key", "exercises/cloud-run-concurrency/exercise.md", "    workMs: 40", "    workMS: 40",
		`exercises/cloud-run-concurrency/exercise.md:15: unknown key "workMS" in scenario.app: did you mean "workMs"?`},
	{"misspelt front matter key", "exercises/subnet-sizing/exercise.md", "timeLimit: 60s", "timelimit: 60s",
		`exercises/subnet-sizing/exercise.md:8: unknown key "timelimit": did you mean "timeLimit"? (known keys: id, title, kind, points, lesson, lab, timeLimit, starter, solution, solutionSeed, params, scenario, wrong)`},
	{"unknown kind", "exercises/serverless-criteria/exercise.md", "kind: table", "kind: tabel",
		`exercises/serverless-criteria/exercise.md:4: unknown kind "tabel": did you mean "table"? (the kinds are cloudrun, iam, subnet, table, taskdef)`},
	{"wrong type", "exercises/cloud-run-concurrency/exercise.md", "    instanceCap: 6", `    instanceCap: "six"`,
		`exercises/cloud-run-concurrency/exercise.md:28: scenario.trial.instanceCap must be a whole number, not the text "six"`},
	{"text where a list belongs", "exercises/fargate-roles/exercise.md", "  reads:\n    - reports-bucket/daily/2024-05-01.csv", "  reads: reports-bucket/daily/2024-05-01.csv",
		`exercises/fargate-roles/exercise.md:21: scenario.reads must be a list, not the text "reports-bucket/daily/2024-05-01.csv"`},
	{"out of range", "exercises/cloud-run-concurrency/exercise.md", "    parallelism: 4 ", "    parallelism: 100 ",
		`exercises/cloud-run-concurrency/exercise.md:14: scenario.app.parallelism must be between 1 and 64, not 100`},
	{"params out of range", "exercises/subnet-sizing/exercise.md", "desiredCount: {min: 4, max: 20}", "desiredCount: {min: 4, max: 50}",
		`exercises/subnet-sizing/exercise.md:15: params.desiredCount.max must be between 1 and 20, not 50`},
	{"a port the lab cannot listen on", "exercises/fargate-task-definition/exercise.md", "    port: 8080", "    port: 9090",
		`exercises/fargate-task-definition/exercise.md:16: scenario.app.port is 9090, but it must be 8080: the api-worker lab listens on 8080, and the health-check and port checks probe the port it listens on`},
	{"a lab the kind does not run", "exercises/cloud-run-concurrency/exercise.md", "lab: run-worker", "lab: api-worker",
		`exercises/cloud-run-concurrency/exercise.md:7: the cloudrun kind runs the lab run-worker, not "api-worker"`},
	{"a known-wrong answer naming a check the kind lacks", "exercises/subnet-sizing/exercise.md", "    fails: subnet.overlap", "    fails: subnet.overlaps",
		`exercises/subnet-sizing/exercise.md:33: the subnet kind has no check "subnet.overlaps": did you mean "subnet.overlap"?`},
	{"params for a kind without variants", "exercises/serverless-criteria/exercise.md", "scenario:\n", "params: {rows: 3}\nscenario:\n",
		`exercises/serverless-criteria/exercise.md:11: the table kind draws no per-student variants, so it reads no params`},
	{"a key the schema accepts but the kind cannot use", "exercises/serverless-criteria/exercise.md", `accept: ["yes"]`, `accept: ["maybe"]`,
		`exercises/serverless-criteria/exercise.md:11: scenario: answers.aci.noInfra accepts "maybe", which is not an option of column noInfra (yes, partly, no)`},
	{"a lesson listing an exercise that does not exist", "lessons/networking-and-subnets.md", "exercise: subnet-sizing", "exercises: [subnet-sizing, subnet-sizng]",
		`lessons/networking-and-subnets.md:5: exercise: "subnet-sizng" does not exist (there is no exercises/subnet-sizng/exercise.md)`},
	{"a misspelt lesson key", "lessons/networking-and-subnets.md", "exercise: subnet-sizing", "exercize: subnet-sizing",
		`lessons/networking-and-subnets.md:5: unknown key "exercize": did you mean "exercise"? (known keys: title, summary, minutes, exercise, exercises)`},
}

func TestCheckReportsAuthoringErrors(t *testing.T) {
	for _, tt := range authoringErrors {
		t.Run(tt.name, func(t *testing.T) {
			dir := builtinCourse(t)
			replaceIn(t, filepath.Join(dir, tt.file), tt.old, tt.new)
			var out, errOut bytes.Buffer
			code := Run(context.Background(), []string{"check", "--no-grade", dir}, Streams{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if !hasLine(out.String(), filepath.Join(dir, tt.want)) {
				t.Errorf("no line\n  %s\nin:\n%s", tt.want, out.String())
			}
		})
	}
}

// The same mistakes keep a course from loading for serve, and a live reload
// reports them with the same lines while the last good course stays.
func TestLiveReloadReportsAuthoringErrors(t *testing.T) {
	dir := builtinCourse(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := content.Watch(ctx, dir, nil, courseKinds())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range authoringErrors[:6] {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, tt.file)
			orig, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			defer writeText(t, file, string(orig))
			ch, stop := w.Subscribe()
			defer stop()
			replaceIn(t, file, tt.old, tt.new)
			deadline := time.After(10 * time.Second)
			for {
				select {
				case <-ch:
				case <-deadline:
					t.Fatalf("no reload reported %q (last error: %v)", tt.want, w.Err())
				}
				if err := w.Err(); err != nil && hasLine(err.Error(), tt.want) {
					break
				}
			}
			if w.Course().Exercise("fargate-task-definition") == nil {
				t.Error("the last good course was not kept")
			}
		})
	}
	if _, err := content.Load(os.DirFS(dir), courseKinds()); err != nil {
		t.Fatalf("the restored course does not load: %v", err)
	}
}

func TestCheckWarnsAboutUnreachableExercises(t *testing.T) {
	dir := builtinCourse(t)
	lesson := filepath.Join(dir, "lessons/networking-and-subnets.md")
	replaceIn(t, lesson, "exercise: subnet-sizing\n", "")
	replaceIn(t, lesson, "[subnet sizing exercise](../exercises/subnet-sizing/)", "subnet sizing exercise")
	var out, errOut bytes.Buffer
	code := Run(context.Background(), []string{"check", "--no-grade", dir}, Streams{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	if code != 0 {
		t.Errorf("exit code %d, want 0: a warning is not a problem\n%s", code, out.String())
	}
	want := "warning: " + filepath.Join(dir, "exercises/subnet-sizing/exercise.md") + ": no lesson leads to this exercise, so students cannot reach it: add exercises: [subnet-sizing] to the front matter of lessons/networking-and-subnets.md"
	if !hasLine(out.String(), want) {
		t.Errorf("no line\n  %s\nin:\n%s", want, out.String())
	}
}

func TestLessonListsSeveralExercises(t *testing.T) {
	dir := builtinCourse(t)
	replaceIn(t, filepath.Join(dir, "lessons/networking-and-subnets.md"), "exercise: subnet-sizing", "exercises: [subnet-sizing, fargate-roles]")
	replaceIn(t, filepath.Join(dir, "exercises/fargate-roles/exercise.md"), "lesson: execution-and-task-roles\n", "")
	c, err := content.Load(os.DirFS(dir), courseKinds())
	if err != nil {
		t.Fatal(err)
	}
	l := c.Lesson("networking-and-subnets")
	if strings.Join(l.Exercises, " ") != "subnet-sizing fargate-roles" || l.Exercise != "subnet-sizing" {
		t.Errorf("exercises %v (first %q), want subnet-sizing and fargate-roles", l.Exercises, l.Exercise)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
}

// hasLine reports whether text has a line equal to want.
func hasLine(text, want string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == want {
			return true
		}
	}
	return false
}

// --exercise grades one exercise's answers and validates the whole course.
func TestCheckOneExercise(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		want    []string
		notWant string
	}{
		{"one exercise", []string{"check", "--exercise", "serverless-criteria"}, 0,
			[]string{"ok    serverless-criteria/solution.json", "ok    serverless-criteria/wrong/aci-scales.json"}, "fargate-roles/"},
		{"an exercise that does not exist", []string{"check", "--exercise", "subnet-sizng", "--no-grade"}, 1,
			[]string{`there is no exercise "subnet-sizng" that loads without problems (the exercises are serverless-criteria, fargate-task-definition, fargate-roles, subnet-sizing, cloud-run-concurrency)`}, "ok  "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(context.Background(), tt.args, Streams{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
			if code != tt.code {
				t.Errorf("exit code %d, want %d\n%s\n%s", code, tt.code, out.String(), errOut.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if strings.Contains(out.String(), tt.notWant) {
				t.Errorf("output has %q:\n%s", tt.notWant, out.String())
			}
		})
	}
}
