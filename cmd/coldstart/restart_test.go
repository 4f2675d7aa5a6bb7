package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"coldstart/server/store"
)

// mainEnv makes the test binary run the coldstart command named by its
// arguments after "--" instead of the tests, so that a test can start the
// real server as a process of its own and kill it.
const mainEnv = "COLDSTART_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		args := os.Args[1:]
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Run(ctx, args, Streams{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// startServeProcess starts `coldstart serve` on db as a child process.
func startServeProcess(t *testing.T, db, logFile string) *exec.Cmd {
	t.Helper()
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "--", "serve", "--addr", "127.0.0.1:0", "--db", db, "--workers", "2", "--nats-listen", "off")
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		logf.Close()
	})
	return cmd
}

// TestKilledServerGradesEveryAnswerOnce kills `coldstart serve` with
// SIGKILL three times while it grades, restarting it on the same database:
// every answer is graded once with its right verdict, and after a clean
// stop nothing of the server is left on the engine.
func TestKilledServerGradesEveryAnswerOnce(t *testing.T) {
	engine := realEngineHost(t)
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "coldstart.db")
	logFile := filepath.Join(dir, "serve.log")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.CreateUser(ctx, "student@example.com", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		id   int64
		name string
		want string
	}
	var answers []answer
	for _, id := range []string{"fargate-task-definition", "fargate-roles", "subnet-sizing"} {
		ex := builtinExercise(t, id)
		bodies := []struct {
			name, want string
			body       []byte
		}{{"solution", "pass", ex.Solution}}
		for _, w := range ex.Wrong {
			if len(bodies) == 2 {
				break
			}
			bodies = append(bodies, struct {
				name, want string
				body       []byte
			}{w.File, "fail", w.Body})
		}
		for _, b := range bodies {
			sub, err := st.CreateSubmission(ctx, u.ID, ex.ID, ex.SolutionSeed(), b.body)
			if err != nil {
				t.Fatal(err)
			}
			answers = append(answers, answer{sub.ID, ex.ID + "/" + b.name, b.want})
		}
	}

	running := func() int {
		n := 0
		for _, a := range answers {
			if s, err := st.Submission(ctx, a.id); err == nil && s.Status == store.JobRunning {
				n++
			}
		}
		return n
	}
	for kill := 1; kill <= 3; kill++ {
		cmd := startServeProcess(t, db, logFile)
		deadline := time.Now().Add(60 * time.Second)
		for running() == 0 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if running() == 0 {
			t.Fatalf("kill %d: no grading was running after 60 s; log %s", kill, logFile)
		}
		// Let the gradings get as far as their containers.
		time.Sleep(time.Duration(1500+kill*700) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_, _ = cmd.Process.Wait()
		t.Logf("kill %d: SIGKILL with %d grading(s) running", kill, running())
	}

	cmd := startServeProcess(t, db, logFile)
	deadline := time.Now().Add(4 * time.Minute)
	for time.Now().Before(deadline) {
		done := 0
		for _, a := range answers {
			if s, err := st.Submission(ctx, a.id); err == nil && s.Status == store.JobDone {
				done++
			}
		}
		if done == len(answers) {
			break
		}
		time.Sleep(time.Second)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
	for _, a := range answers {
		s, err := st.Submission(ctx, a.id)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != store.JobDone || s.Verdict != a.want || !s.Counted {
			t.Errorf("%s: %s, verdict %s, counted %v (want done, %s, counted): %s", a.name, s.Status, s.Verdict, s.Counted, a.want, s.Reason)
		} else {
			t.Logf("%s: %s after %d run(s)", a.name, s.Verdict, s.Runs)
		}
	}
	if t.Failed() {
		b, _ := os.ReadFile(logFile)
		t.Logf("server log:\n%s", tailString(string(b), 6000))
	}
	id, err := st.InstanceID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, engine, id)
}

func tailString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("…%s", s[len(s)-n:])
}
