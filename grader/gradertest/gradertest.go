// Package gradertest loads an exercise folder for the tests of a grader kind,
// without the course loader: front matter, reference solution and
// known-wrong answers.
package gradertest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"coldstart/grader"
)

// Exercise is an exercise folder as a grader test needs it.
type Exercise struct {
	Spec     grader.Spec
	Solution []byte
	Starter  []byte
	Wrong    []Wrong
}

// Wrong is a known-wrong answer and the check it must fail.
type Wrong struct {
	File  string
	Body  []byte
	Fails string
}

type frontMatter struct {
	ID        string         `yaml:"id"`
	Kind      string         `yaml:"kind"`
	Lab       string         `yaml:"lab"`
	TimeLimit string         `yaml:"timeLimit"`
	Starter   string         `yaml:"starter"`
	Solution  string         `yaml:"solution"`
	Params    map[string]any `yaml:"params"`
	Scenario  map[string]any `yaml:"scenario"`
	Wrong     []struct {
		File  string `yaml:"file"`
		Fails string `yaml:"fails"`
	} `yaml:"wrong"`
}

// Load reads the exercise folder dir (e.g. "../../../exercises/subnet-sizing").
func Load(tb testing.TB, dir string) Exercise {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "exercise.md"))
	if err != nil {
		tb.Fatal(err)
	}
	parts := bytes.SplitN(raw, []byte("---\n"), 3)
	if len(parts) != 3 || len(parts[0]) != 0 {
		tb.Fatalf("%s/exercise.md: no front matter", dir)
	}
	var fm frontMatter
	if err := yaml.Unmarshal(parts[1], &fm); err != nil {
		tb.Fatalf("%s/exercise.md: %v", dir, err)
	}
	ex := Exercise{Spec: grader.Spec{ID: fm.ID, Kind: fm.Kind, Lab: fm.Lab, Params: fm.Params, Scenario: fm.Scenario}}
	if fm.TimeLimit != "" {
		if ex.Spec.TimeLimit, err = time.ParseDuration(fm.TimeLimit); err != nil {
			tb.Fatalf("%s: timeLimit: %v", dir, err)
		}
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	if fm.Solution != "" {
		ex.Solution = read(fm.Solution)
	}
	if fm.Starter != "" {
		ex.Starter = read(fm.Starter)
	}
	for _, w := range fm.Wrong {
		ex.Wrong = append(ex.Wrong, Wrong{File: w.File, Body: read(w.File), Fails: w.Fails})
	}
	return ex
}

// GradeStatic grades body with kind on an engine without containers: enough
// for answers the static checks already decide.
func GradeStatic(tb testing.TB, kind grader.Kind, spec grader.Spec, body []byte) *grader.Result {
	tb.Helper()
	return grader.NewEngine(nil, nil, kind).Grade(tb.Context(), grader.Request{Spec: spec, Body: body})
}
