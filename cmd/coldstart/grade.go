package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"coldstart/content"
	"coldstart/content/builtin"
	"coldstart/grader"
	"coldstart/server/grading"
)

const gradeUsage = `Usage: coldstart grade --exercise ID [--seed N] [--course DIR] [--docker-host URL] [--quiet] FILE|-

Grades one submission (FILE, or standard input for -) against an exercise of
the course (default: the built-in course) and prints the result as JSON.
Progress goes to standard error unless --quiet is given.

Exit status: 0 when the submission was graded, whether it passed or failed;
1 when it could not be graded (the reason is printed on standard error), such
as when the Docker engine (--docker-host, else DOCKER_HOST, else the local
socket) does not answer; no other engine is tried.
`

func runGrade(ctx context.Context, args []string, s Streams) error {
	fl := flag.NewFlagSet("grade", flag.ContinueOnError)
	fl.SetOutput(s.Stderr)
	fl.Usage = func() { fmt.Fprint(s.Stderr, gradeUsage) }
	exerciseID := fl.String("exercise", "", "id of the exercise to grade against")
	seed := fl.Int64("seed", 0, "variant seed (per-student variants)")
	courseDir := fl.String("course", "", "course directory (default: the built-in course)")
	quiet := fl.Bool("quiet", false, "print no progress")
	host := fl.String("docker-host", "", "the Docker engine to grade on (default: DOCKER_HOST, else the local socket)")
	rest, err := parseInterspersed(fl, args)
	if err != nil {
		return err
	}
	if *exerciseID == "" || len(rest) != 1 {
		fmt.Fprint(s.Stderr, gradeUsage)
		return errUsage
	}
	body, err := readSubmission(rest[0], s.Stdin)
	if err != nil {
		return err
	}
	ex, err := findExercise(*courseDir, *exerciseID, s.Stderr)
	if err != nil {
		return err
	}

	logger := slog.New(slog.NewTextHandler(s.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sb, err := newSandbox(dockerHost(*host), "grade-"+randomHex(4), logger)
	if err != nil {
		return fmt.Errorf("the submission could not be graded: %w", err)
	}
	defer func() {
		// Sweep even after an interrupt: nothing of this run may stay.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if sb.Ping(cctx) == nil {
			if _, err := sb.Sweep(cctx); err != nil {
				logger.Warn("sweep", slog.Any("err", err))
			}
		}
		sb.Close()
	}()
	eng := gradingEngine(sb, logger)
	req := grader.Request{Spec: grading.SpecOf(ex), Seed: *seed, Body: body}
	if !*quiet {
		req.Events = func(e grader.Event) { printEvent(s.Stderr, e) }
	}
	res := eng.Grade(ctx, req)
	out, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the result: %w", err)
	}
	fmt.Fprintf(s.Stdout, "%s\n", out)
	if res.Status == grader.StatusError || !res.Gradable {
		return fmt.Errorf("the submission could not be graded: %s", res.Reason)
	}
	return nil
}

// readSubmission reads FILE or, for "-", standard input. It reads one byte
// past the limit so that the engine can say the submission is too large.
func readSubmission(name string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("cannot read the submission: %w", err)
		}
		defer f.Close()
		r = f
	}
	body, err := io.ReadAll(io.LimitReader(r, grader.MaxSubmissionBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the submission: %w", err)
	}
	return body, nil
}

// findExercise loads the course in dir (or the built-in one) and returns
// the exercise. Problems elsewhere in the course are reported as warnings:
// they do not stop this exercise from being graded; problems in the
// exercise's own folder do.
func findExercise(dir, id string, warn io.Writer) (*content.Exercise, error) {
	var fsys fs.FS = builtin.FS()
	name := "the built-in course"
	if dir != "" {
		info, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("cannot read the course: %w", err)
		}
		if !info.IsDir() {
			return nil, fmt.Errorf("%s is not a directory; give the course directory (the one with course.yaml)", dir)
		}
		fsys, name = os.DirFS(dir), dir
	}
	course, problems := content.Inspect(fsys, courseKinds())
	var own content.Problems
	for _, p := range problems {
		if strings.HasPrefix(p.File, "exercises/"+id+"/") {
			own = append(own, p)
		} else {
			fmt.Fprintf(warn, "warning: %s\n", p)
		}
	}
	if len(own) > 0 {
		return nil, fmt.Errorf("exercise %s in %s cannot be graded: %w", id, name, own)
	}
	ex := course.Exercise(id)
	if ex == nil {
		ids := make([]string, 0, len(course.Exercises))
		for _, e := range course.Exercises {
			ids = append(ids, e.ID)
		}
		sort.Strings(ids)
		if len(problems) > 0 {
			return nil, fmt.Errorf("%s has no exercise %q that could be loaded (see the warnings above); its exercises are: %s", name, id, strings.Join(ids, ", "))
		}
		return nil, fmt.Errorf("%s has no exercise %q; its exercises are: %s", name, id, strings.Join(ids, ", "))
	}
	return ex, nil
}

func printEvent(w io.Writer, e grader.Event) {
	switch e.Type {
	case grader.EventRunning:
		fmt.Fprintf(w, "… %s: %s\n", e.CheckID, e.Title)
	case grader.EventProgress:
		fmt.Fprintf(w, "    %s\n", e.Message)
	case grader.EventCheck:
		if e.Check == nil {
			return
		}
		line := fmt.Sprintf("%-5s %s", e.Check.Status, e.Check.ID)
		if e.Check.Status != grader.CheckPass && e.Check.Message != "" {
			line += ": " + e.Check.Message
		}
		fmt.Fprintln(w, line)
	}
}
