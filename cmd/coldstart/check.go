package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"coldstart/content"
	"coldstart/content/builtin"
	"coldstart/grader"
	"coldstart/server/grading"
)

const checkUsage = `Usage: coldstart check [--no-grade] [--exercise ID] [DIR]

Validates the course in DIR (default: the built-in course): the manifest,
front matter, links, quizzes and exercise folders, and each exercise against
its kind (scenario and params keys, values the lab can honour, the checks
known-wrong answers name). Then it grades every exercise's reference
solution, which must pass, and every known-wrong answer, which must fail the
check it names, in real containers. --exercise ID grades that exercise only.
Exits non-zero on any problem; warnings do not count.
`

func runCheck(ctx context.Context, args []string, s Streams) error {
	fl := flag.NewFlagSet("check", flag.ContinueOnError)
	fl.SetOutput(s.Stderr)
	fl.Usage = func() { fmt.Fprint(s.Stderr, checkUsage) }
	noGrade := fl.Bool("no-grade", false, "only validate; do not grade the answers")
	only := fl.String("exercise", "", "grade the answers of this exercise only")
	rest, err := parseInterspersed(fl, args)
	if err != nil {
		return err
	}
	if len(rest) > 1 {
		fmt.Fprint(s.Stderr, checkUsage)
		return errUsage
	}
	target := checkTarget{name: "the built-in course", fsys: builtin.FS(), display: builtinPath}
	if len(rest) == 1 {
		dir := rest[0]
		info, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("cannot read the course: %w", err)
		}
		if !info.IsDir() {
			return fmt.Errorf("%s is not a directory; give the course directory (the one with course.yaml)", dir)
		}
		target = checkTarget{name: dir, fsys: os.DirFS(dir), display: func(p string) string { return filepath.Join(dir, filepath.FromSlash(p)) }}
	}
	var eng *grader.Engine
	if !*noGrade {
		logger := slog.New(slog.NewTextHandler(s.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		sb, err := newSandbox(dockerHost(""), "check-"+randomHex(4), logger)
		if err != nil {
			return err
		}
		defer sb.Close()
		eng = gradingEngine(sb, logger)
	}
	target.only = *only
	n := checkCourse(ctx, target, eng, s.Stdout)
	if n > 0 {
		return fmt.Errorf("%d %s in %s", n, plural(n, "problem", "problems"), target.name)
	}
	return nil
}

// checkTarget is the course a check reads.
type checkTarget struct {
	name string
	fsys fs.FS
	// display turns a path inside the course into one an editor opens.
	display func(string) string
	// only, when set, is the one exercise whose answers are graded.
	only string
}

// builtinPath names a file of the built-in course by its place in the
// source tree.
func builtinPath(p string) string {
	if strings.HasPrefix(p, "exercises/") {
		return p
	}
	return "content/builtin/" + p
}

// checkCourse validates the course and, when eng is not nil, grades every
// answer of every exercise. It prints one line per finding and per answer
// and returns the number of problems.
func checkCourse(ctx context.Context, t checkTarget, eng *grader.Engine, out io.Writer) int {
	fmt.Fprintf(out, "Checking %s\n\n", t.name)
	course, problems := content.Inspect(t.fsys, courseKinds())
	for _, p := range problems {
		p.File = t.display(p.File)
		fmt.Fprintln(out, p.String())
	}
	for _, w := range course.Warnings {
		w.File = t.display(w.File)
		fmt.Fprintln(out, "warning: "+w.String())
	}
	quizzes := 0
	for _, l := range course.Lessons {
		quizzes += len(l.Quizzes)
	}
	fmt.Fprintf(out, "%d %s, %d %s, %d %s: ", len(course.Lessons), plural(len(course.Lessons), "lesson", "lessons"),
		quizzes, plural(quizzes, "quiz", "quizzes"), len(course.Exercises), plural(len(course.Exercises), "exercise", "exercises"))
	if len(problems) == 0 {
		fmt.Fprintln(out, "the course files are valid")
	} else {
		fmt.Fprintf(out, "%d %s in the course files\n", len(problems), plural(len(problems), "problem", "problems"))
	}
	fmt.Fprintln(out)
	for _, l := range course.Lessons {
		fmt.Fprintf(out, "  lesson %-32s %5d words  %d %s\n", l.Slug, l.Words, len(l.Quizzes), plural(len(l.Quizzes), "quiz", "quizzes"))
	}
	n := len(problems)
	exercises := course.Exercises
	if t.only != "" {
		ex := course.Exercise(t.only)
		if ex == nil {
			fmt.Fprintf(out, "\nthere is no exercise %q that loads without problems (the exercises are %s)\n", t.only, exerciseIDs(course))
			return n + 1
		}
		exercises = []*content.Exercise{ex}
	}
	if eng == nil {
		return n
	}
	fmt.Fprintln(out)
	if err := eng.Ready(ctx); err != nil {
		fmt.Fprintf(out, "Grading in containers is unavailable (%v): answers whose checks run containers will report an error.\n\n", err)
	}
	width := 0
	for _, ex := range exercises {
		width = max(width, len(ex.ID)+1+len(ex.SolutionName))
		for _, w := range ex.Wrong {
			width = max(width, len(ex.ID)+1+len(w.File))
		}
	}
	for _, ex := range exercises {
		n += checkExercise(ctx, ex, eng, width, out)
		if ctx.Err() != nil {
			fmt.Fprintln(out, "stopped")
			return n + 1
		}
	}
	return n
}

// checkExercise grades the reference solution and the known-wrong answers
// of one exercise and returns the number of problems.
func checkExercise(ctx context.Context, ex *content.Exercise, eng *grader.Engine, width int, out io.Writer) int {
	line := func(ok bool, answer, verdict, timing string) {
		mark := "ok  "
		if !ok {
			mark = "FAIL"
		}
		if timing != "" {
			timing = "  " + timing
		}
		fmt.Fprintf(out, "%s  %-*s  %-34s%s\n", mark, width, answer, verdict, timing)
	}
	if _, ok := eng.Kind(ex.Kind); !ok {
		line(false, ex.ID, fmt.Sprintf("kind %q is not registered with the grader (it knows: %s)", ex.Kind, strings.Join(eng.Kinds(), ", ")), "")
		return 1
	}
	problems := 0
	if ex.Solution == nil {
		line(false, ex.ID, "no reference solution: add solution: to its front matter", "")
		problems++
	}
	limit := ex.TimeLimit
	if limit <= 0 || limit > eng.TimeLimit {
		limit = eng.TimeLimit
	}
	grade := func(body []byte) (*grader.Result, string) {
		start := time.Now()
		res := eng.Grade(ctx, grader.Request{Spec: grading.SpecOf(ex), Seed: ex.SolutionSeed(), Body: body})
		took := time.Since(start)
		return res, fmt.Sprintf("%6.2fs of %gs", took.Seconds(), limit.Seconds())
	}
	if ex.Solution != nil {
		res, timing := grade(ex.Solution)
		name := ex.ID + "/" + ex.SolutionName
		switch res.Status {
		case grader.StatusPass:
			line(true, name, "pass", timing)
		case grader.StatusError:
			line(false, name, "could not be graded: "+res.Reason, timing)
			problems++
		default:
			verdict := "fails, but the reference solution must pass"
			if c := res.FirstFailure(); c != nil {
				verdict = fmt.Sprintf("fails %s (%s), but the reference solution must pass", c.ID, c.Message)
			}
			line(false, name, verdict, timing)
			problems++
		}
	}
	for _, w := range ex.Wrong {
		res, timing := grade(w.Body)
		name := ex.ID + "/" + w.File
		c := res.Check(w.Fails)
		switch {
		case res.Status == grader.StatusError:
			line(false, name, "could not be graded: "+res.Reason, timing)
			problems++
		case c != nil && c.Status == grader.CheckFail:
			line(true, name, "fails "+w.Fails, timing)
		case res.Status == grader.StatusPass:
			line(false, name, fmt.Sprintf("passes, but must fail %s", w.Fails), timing)
			problems++
		case c == nil:
			line(false, name, fmt.Sprintf("the grader has no check %s%s", w.Fails, failedChecks(res)), timing)
			problems++
		default:
			line(false, name, fmt.Sprintf("%s is %s, but must fail%s", w.Fails, c.Status, failedChecks(res)), timing)
			problems++
		}
	}
	return problems
}

func exerciseIDs(c *content.Course) string {
	ids := make([]string, len(c.Exercises))
	for i, ex := range c.Exercises {
		ids[i] = ex.ID
	}
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

// failedChecks lists the checks that failed, for a message.
func failedChecks(res *grader.Result) string {
	var ids []string
	for _, c := range res.Checks {
		if c.Status == grader.CheckFail {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) == 0 {
		return ""
	}
	return " (it fails " + strings.Join(ids, ", ") + ")"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return fmt.Sprint(time.Now().UnixNano())
	}
	return hex.EncodeToString(b)
}
