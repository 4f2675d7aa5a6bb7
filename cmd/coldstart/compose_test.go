package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"coldstart/grader/sandbox/sandboxtest"
)

// The deployment the documentation describes really runs: the image built
// by scripts/build-image.sh, started by docs/deploy/compose.yaml as an
// unprivileged user with a read-only root file system, reports healthy
// through its own HEALTHCHECK, serves on loopback, takes a verified backup
// through `docker exec`, stops cleanly on SIGTERM and leaves nothing behind.
//
// COLDSTART_TEST_IMAGE names an image already built from this checkout
// (CI builds it once); without it the test builds one.
func TestComposeDeployment(t *testing.T) {
	requireEngine(t)
	composeCmd := composeCommand(t)
	image := testImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	port := freeLoopbackPort(t)
	project := fmt.Sprintf("coldstart-test-%d", os.Getpid())
	gid, err := socketGroup()
	if err != nil {
		t.Fatalf("the Docker socket's group (the image's user reaches the engine through it): %v", err)
	}
	env := append(os.Environ(),
		"COLDSTART_IMAGE="+image,
		"COLDSTART_PORT="+strconv.Itoa(port),
		"COLDSTART_HEALTH_INTERVAL=1s",
		"DOCKER_GID="+gid,
	)
	compose := func(args ...string) (string, error) {
		full := append(append(composeCmd[1:], "-p", project, "-f", filepath.Join(deployDir, "compose.yaml")), args...)
		cmd := exec.CommandContext(ctx, composeCmd[0], full...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	t.Cleanup(func() {
		// The test's context may be spent by now; the clean-up gets its own.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, composeCmd[0], append(append(composeCmd[1:], "-p", project, "-f", filepath.Join(deployDir, "compose.yaml")), "down", "-v", "--remove-orphans")...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("compose down: %v\n%s", err, out)
		}
	})
	if out, err := compose("up", "-d"); err != nil {
		t.Fatalf("compose up: %v\n%s", err, out)
	}
	id, err := compose("ps", "-q", "coldstart")
	if err != nil || id == "" {
		t.Fatalf("compose ps: %q %v", id, err)
	}

	// The image's HEALTHCHECK (coldstart healthcheck, no shell in the
	// image) turns the container healthy.
	var status string
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		status = inspect(ctx, t, id, "{{.State.Health.Status}}")
		if status == "healthy" || status == "unhealthy" {
			break
		}
	}
	if status != "healthy" {
		logs, _ := exec.CommandContext(ctx, "docker", "logs", "--tail", "40", id).CombinedOutput()
		t.Fatalf("health status %q, want healthy; logs:\n%s", status, logs)
	}
	if user := inspect(ctx, t, id, "{{.Config.User}}"); user != "65534:65534" {
		t.Errorf("the server runs as %q, want the unprivileged 65534:65534", user)
	}
	if ro := inspect(ctx, t, id, "{{.HostConfig.ReadonlyRootfs}}"); ro != "true" {
		t.Errorf("read-only root file system = %s", ro)
	}

	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
	if err != nil {
		t.Fatalf("GET /healthz on the published loopback port: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz = %d", resp.StatusCode)
	}
	resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		t.Fatalf("GET /: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / (the course home) = %d", resp.StatusCode)
	}

	// A backup taken inside the running container is a sound database.
	out, err := exec.CommandContext(ctx, "docker", "exec", id, "/usr/local/bin/coldstart", "backup", "/data/by-hand.db").CombinedOutput()
	if err != nil {
		t.Fatalf("docker exec coldstart backup: %v\n%s", err, out)
	}
	local := filepath.Join(t.TempDir(), "by-hand.db")
	if out, err := exec.CommandContext(ctx, "docker", "cp", id+":/data/by-hand.db", local).CombinedOutput(); err != nil {
		t.Fatalf("docker cp the backup out: %v\n%s", err, out)
	}
	assertSoundBackup(t, local)

	// SIGTERM (compose stop) ends the server by itself, before compose's
	// grace period runs out and it would be killed (exit 137).
	if out, err := compose("stop"); err != nil {
		t.Fatalf("compose stop: %v\n%s", err, out)
	}
	if code := inspect(ctx, t, id, "{{.State.ExitCode}}"); code != "0" {
		logs, _ := exec.CommandContext(ctx, "docker", "logs", "--tail", "20", id).CombinedOutput()
		t.Errorf("exit code after SIGTERM = %s, want 0; logs:\n%s", code, logs)
	}

	if out, err := compose("down", "-v", "--remove-orphans"); err != nil {
		t.Fatalf("compose down: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"ps", "-aq", "--filter", "label=com.docker.compose.project=" + project},
		{"volume", "ls", "-q", "--filter", "label=com.docker.compose.project=" + project},
		{"network", "ls", "-q", "--filter", "label=com.docker.compose.project=" + project},
	} {
		left, err := exec.CommandContext(ctx, "docker", args...).Output()
		if err != nil {
			t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
		}
		if s := strings.TrimSpace(string(left)); s != "" {
			t.Errorf("left behind after compose down (docker %s): %s", args[0], s)
		}
	}
}

func assertSoundBackup(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check of the backup = %q, %v", check, err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("the backup has %d migrations recorded (%v)", n, err)
	}
}

// requireEngine fails the test, with the reason, when Docker is unreachable.
func requireEngine(t *testing.T) {
	t.Helper()
	if os.Getenv(sandboxtest.SkipEnv) != "" {
		t.Skipf("%s is set: skipping a test that runs containers", sandboxtest.SkipEnv)
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Fatalf("this test runs the server image on a Docker engine, and none answers (set %s=1 to skip such tests; docker info: %v): %s", sandboxtest.SkipEnv, err, bytes.TrimSpace(out))
	}
}

// composeCommand finds Compose: the docker plugin or the standalone tool.
func composeCommand(t *testing.T) []string {
	t.Helper()
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return []string{p}
	}
	t.Fatal("Docker Compose is not installed (neither `docker compose` nor docker-compose); .ci/run installs docker-compose")
	return nil
}

// testImage is COLDSTART_TEST_IMAGE or an image built now from this
// checkout with scripts/build-image.sh.
func testImage(t *testing.T) string {
	t.Helper()
	if img := os.Getenv("COLDSTART_TEST_IMAGE"); img != "" {
		if out, err := exec.Command("docker", "image", "inspect", "--format", "{{.Id}}", img).CombinedOutput(); err != nil {
			t.Fatalf("COLDSTART_TEST_IMAGE=%s is not an image on this engine: %s", img, bytes.TrimSpace(out))
		}
		return img
	}
	cmd := exec.Command("../../scripts/build-image.sh")
	cmd.Env = append(os.Environ(), "IMAGE=coldstart-test")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/build-image.sh: %v\n%s", err, out)
	}
	return "coldstart-test:latest"
}

func inspect(ctx context.Context, t *testing.T, id, format string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, "docker", "inspect", "--format", format, id).Output()
	if err != nil {
		t.Fatalf("docker inspect %s: %v", format, err)
	}
	return strings.TrimSpace(string(out))
}

func socketGroup() (string, error) {
	path := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "unix://") {
		path = strings.TrimPrefix(h, "unix://")
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", fmt.Errorf("no owner information for %s", path)
	}
	return strconv.FormatUint(uint64(st.Gid), 10), nil
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
