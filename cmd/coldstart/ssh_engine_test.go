package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"coldstart/grader"
	"coldstart/grader/sandbox/sandboxtest"
)

// TestGradeThroughSSHEngine grades the reference answer of the task
// definition exercise with DOCKER_HOST=ssh://USER@127.0.0.1:PORT, through
// an sshd the test starts on loopback: the answer passes, and sshd served
// the sessions.
func TestGradeThroughSSHEngine(t *testing.T) {
	ex := builtinExercise(t, "fargate-task-definition")
	realEngineHost(t)
	srv := sandboxtest.SSHEngine(t)
	file := filepath.Join(t.TempDir(), "answer.json")
	if err := os.WriteFile(file, ex.Solution, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_HOST", srv.URL)
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"grade", "--quiet", "--exercise", ex.ID, file}, Streams{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb})
	if code != 0 {
		t.Fatalf("exit %d, want 0; stderr: %s", code, errb.String())
	}
	var res grader.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("the result is not JSON: %v: %s", err, out.String())
	}
	if res.Status != grader.StatusPass {
		t.Fatalf("the reference answer %s through %s: %s", res.Status, srv.URL, out.String())
	}
	if n := strings.Count(srv.Log(), "Accepted publickey"); n == 0 {
		t.Fatalf("sshd logged no session, so the grading did not go through it:\n%s", srv.Log())
	} else {
		t.Logf("graded through %s in %d ms of run phase, over %d ssh sessions", srv.URL, res.Timings.RunMs, n)
	}
}
