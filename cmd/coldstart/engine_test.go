package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"coldstart/content"
	"coldstart/content/builtin"
	"coldstart/grader/sandbox"
	"coldstart/server/store"
)

// builtinExercise returns an exercise of the built-in course.
func builtinExercise(t *testing.T, id string) *content.Exercise {
	t.Helper()
	c, err := content.Load(builtin.FS())
	if err != nil {
		t.Fatal(err)
	}
	ex := c.Exercise(id)
	if ex == nil || ex.Solution == nil {
		t.Fatalf("the built-in course has no exercise %s with a solution", id)
	}
	return ex
}

// realEngineHost is the engine the tests grade on.
func realEngineHost(t *testing.T) string {
	t.Helper()
	host := dockerHost("")
	sb, err := sandbox.New(sandbox.Options{Host: host, Instance: "probe-" + randomHex(4)})
	if err == nil {
		err = sb.Ping(context.Background())
		sb.Close()
	}
	if err != nil {
		t.Fatalf("this test runs containers and needs a reachable Docker engine: %v", err)
	}
	return host
}

func TestGradeWithNoEngineExitsOneWithTheReason(t *testing.T) {
	ex := builtinExercise(t, "fargate-task-definition")
	file := filepath.Join(t.TempDir(), "answer.json")
	if err := os.WriteFile(file, ex.Solution, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := "unix://" + filepath.Join(t.TempDir(), "no-engine.sock")
	// An ssh:// engine on a loopback port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	noSSH := "ssh://nobody@" + l.Addr().String()
	l.Close()
	for _, tt := range []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"flag", []string{"grade", "--quiet", "--docker-host", missing, "--exercise", ex.ID, file}, "", "no such file or directory"},
		{"DOCKER_HOST", []string{"grade", "--quiet", "--exercise", ex.ID, file}, missing, "no such file or directory"},
		{"ssh", []string{"grade", "--quiet", "--docker-host", noSSH, "--exercise", ex.ID, file}, "", "Connection refused"},
		{"ssh with a password", []string{"grade", "--quiet", "--docker-host", "ssh://root:secret@127.0.0.1", "--exercise", ex.ID, file}, "", "carries a password"},
		{"not a URL", []string{"grade", "--quiet", "--docker-host", "grader:2375", "--exercise", ex.ID, file}, "", "is not a URL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("DOCKER_HOST", tt.env)
			}
			var out, errb bytes.Buffer
			code := Run(context.Background(), tt.args, Streams{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb})
			if code != 1 {
				t.Fatalf("exit %d, want 1; stderr: %s", code, errb.String())
			}
			if !strings.Contains(errb.String(), tt.want) {
				t.Fatalf("stderr does not say %q: %s", tt.want, errb.String())
			}
		})
	}
}

// socketProxy forwards a unix socket to the real engine: the engine
// "comes back" when it starts.
func socketProxy(t *testing.T, path, engine string) func() {
	t.Helper()
	target := strings.TrimPrefix(engine, "unix://")
	if target == engine {
		t.Fatalf("this test forwards to a local engine socket, not %s", engine)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("unix", target)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c) }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	return func() { ln.Close() }
}

func TestServeWaitsForTheEngineAndResumes(t *testing.T) {
	engine := realEngineHost(t)
	ex := builtinExercise(t, "fargate-task-definition")
	dir := t.TempDir()
	sock := filepath.Join(dir, "engine.sock")
	db := filepath.Join(dir, "coldstart.db")
	base, _ := startServer(t, &Main{DB: db, DockerHost: "unix://" + sock, Workers: 1})

	get := func() (int, map[string]any) {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if code, body := get(); code != http.StatusServiceUnavailable || !strings.Contains(body["reason"].(string), "container engine") {
		t.Fatalf("/readyz with no engine: %d %v, want 503 naming the container engine", code, body)
	}

	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.CreateUser(context.Background(), "student@example.com", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := st.CreateSubmission(context.Background(), u.ID, ex.ID, ex.SolutionSeed(), ex.Solution)
	if err != nil {
		t.Fatal(err)
	}
	// With no engine the answer is taken and waits; it is not judged.
	time.Sleep(5 * time.Second)
	got, err := st.Submission(context.Background(), sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status == store.JobDone {
		t.Fatalf("graded with no engine: %s (%s)", got.Verdict, got.Reason)
	}

	stop := socketProxy(t, sock, engine)
	defer stop()
	deadline := time.Now().Add(90 * time.Second)
	for got.Status != store.JobDone && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		if got, err = st.Submission(context.Background(), sub.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got.Status != store.JobDone || got.Verdict != "pass" || !got.Counted {
		t.Fatalf("after the engine came back: %s %s counted=%v (%s)", got.Status, got.Verdict, got.Counted, got.Reason)
	}
	if code, body := get(); code != http.StatusOK {
		t.Fatalf("/readyz with the engine back: %d %v", code, body)
	}
	id, err := st.InstanceID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, engine, id)
}

// assertNothingLeft fails when the engine holds anything of instance.
func assertNothingLeft(t *testing.T, engine, instance string) {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Host: engine, Instance: instance})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	n, err := sb.Leftovers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d containers or networks of instance %s are left on the engine", n, instance)
		_, _ = sb.Sweep(context.Background())
	}
}
