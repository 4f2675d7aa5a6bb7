package taskdef_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"coldstart/grader"
	"coldstart/grader/kinds/taskdef"
)

// FuzzStatic feeds arbitrary bytes to the parser and the static checks:
// nothing may panic, and the engine must answer every input with a Result.
func FuzzStatic(f *testing.F) {
	dir := "../../../exercises/fargate-task-definition"
	files, _ := filepath.Glob(filepath.Join(dir, "wrong", "*.json"))
	files = append(files, filepath.Join(dir, "solution.json"), filepath.Join(dir, "starter.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"", "{}", "[]", "null", `{"cpu": 1e999}`, `{"containerDefinitions": [null, 1, "x"]}`,
		`{"containerDefinitions": [{"dependsOn": [{"containerName": "a"}], "name": "a"}]}`, `{"a/b": {"~": []}}`,
		`{"volumes": [{"dockerVolumeConfiguration": "x", "host": null}, null], "containerDefinitions": [{"mountPoints": [{}], "volumesFrom": [1]}]}`} {
		f.Add([]byte(s))
	}
	spec := loadSpec(f)
	// No sandbox: a submission that passes the static phase ends in an
	// error result for want of containers, which is still a Result.
	eng := grader.NewEngine(nil, nil, taskdef.Kind{})
	f.Fuzz(func(t *testing.T, body []byte) {
		st, err := taskdef.CheckStatic(spec, body)
		var ie *grader.InputError
		switch {
		case err != nil && !errors.As(err, &ie):
			t.Fatalf("error that is not an input error: %v", err)
		case err == nil && len(st.Checks) == 0:
			t.Fatal("no checks")
		}
		if len(body) > grader.MaxSubmissionBytes {
			return
		}
		res := eng.Grade(context.Background(), grader.Request{Spec: spec, Body: body})
		if res == nil || res.Status == "" {
			t.Fatal("no result")
		}
		if strings.Contains(res.Reason, "internal error") {
			t.Fatalf("the grader panicked: %s", res.Reason)
		}
	})
}
