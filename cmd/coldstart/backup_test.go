package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"coldstart/server/store"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, Streams{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

// A backup taken while answers are submitted and graded restores to a
// database that passes integrity_check and holds every answer (and every
// verdict) committed before the backup began.
func TestBackupWhileGradingRestores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "coldstart.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.CreateUser(ctx, "student@example.com", []byte("hash"))
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	submitted := map[int64]bool{} // committed submissions
	graded := map[int64]bool{}    // committed verdicts
	stop := make(chan struct{})
	warm := make(chan struct{})
	var wg sync.WaitGroup
	body := bytes.Repeat([]byte("x"), 2048)
	const submitters = 20
	for w := range submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				sub, err := st.CreateSubmission(ctx, u.ID, fmt.Sprintf("ex-%d", w), int64(i), body)
				if err != nil {
					t.Errorf("submit: %v", err)
					return
				}
				mu.Lock()
				submitted[sub.ID] = true
				n := len(submitted)
				mu.Unlock()
				if n == 400 {
					close(warm)
				}
				job, err := st.ClaimJob(ctx)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					t.Errorf("claim: %v", err)
					return
				}
				if err := st.FinishJob(ctx, job.ID, store.Outcome{Verdict: "pass", Score: 1, Counted: true, Result: []byte(`{}`)}); err != nil {
					t.Errorf("finish: %v", err)
					return
				}
				mu.Lock()
				graded[job.ID] = true
				mu.Unlock()
			}
		}()
	}
	<-warm
	mu.Lock()
	wantSubmitted := len(submitted)
	before := make(map[int64]bool, len(submitted))
	for id := range submitted {
		before[id] = true
	}
	beforeGraded := make(map[int64]bool, len(graded))
	for id := range graded {
		beforeGraded[id] = true
	}
	mu.Unlock()

	out := filepath.Join(dir, "backup.db")
	code, stdout, stderr := runCmd(t, "backup", "--db", db, out)
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("backup exit %d: %s", code, stderr)
	}
	for _, want := range []string{"integrity ok", fmt.Sprintf("schema version %d", store.SchemaVersion(store.KnownMigrations())), "submissions", "users"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("backup output lacks %q:\n%s", want, stdout)
		}
	}
	mu.Lock()
	after := len(submitted)
	mu.Unlock()
	if after <= wantSubmitted {
		t.Fatalf("no answer was submitted while the backup ran (%d before, %d after); the test proves nothing", wantSubmitted, after)
	}

	restored := filepath.Join(dir, "restored.db")
	if code, stdout, stderr := runCmd(t, "restore", "--db", restored, out); code != 0 {
		t.Fatalf("restore exit %d: %s%s", code, stdout, stderr)
	}
	rep, err := store.Verify(ctx, restored)
	if err != nil {
		t.Fatalf("restored database: %v", err)
	}
	for _, tc := range rep.Tables {
		if tc.Name == "submissions" && tc.Rows < int64(len(before)) {
			t.Errorf("restored %d submissions, want at least %d", tc.Rows, len(before))
		}
	}
	rst, err := store.Open(ctx, restored)
	if err != nil {
		t.Fatal(err)
	}
	defer rst.Close()
	for id := range before {
		sub, err := rst.Submission(ctx, id)
		if err != nil {
			t.Fatalf("submission %d, committed before the backup: %v", id, err)
		}
		if beforeGraded[id] && sub.Verdict != "pass" {
			t.Errorf("submission %d was graded before the backup; restored with status %s verdict %q", id, sub.Status, sub.Verdict)
		}
	}
}

// Restore refuses while a server runs on the database, and works once it
// has stopped.
func TestRestoreRefusedWhileServerHoldsDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "coldstart.db")
	_, stop := startServer(t, &Main{DB: db, Grader: &slowGrader{started: make(chan struct{})}})
	backup := filepath.Join(dir, "backup.db")
	if code, _, stderr := runCmd(t, "backup", "--db", db, backup); code != 0 {
		t.Fatalf("backup of a running server's database: exit %d: %s", code, stderr)
	}
	code, _, stderr := runCmd(t, "restore", "--db", db, backup)
	if code != 1 || !strings.Contains(stderr, "a running coldstart server holds this database") {
		t.Fatalf("restore while serving: exit %d, stderr %q", code, stderr)
	}
	// A second server on the same file is refused too.
	err := (&Main{DB: db, Addr: "127.0.0.1:0", Grader: &slowGrader{}}).Run(context.Background())
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second server: %v, want ErrLocked", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, "restore", "--db", db, backup)
	if code != 0 {
		t.Fatalf("restore after stop: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "saved as "+db+".before-restore-") {
		t.Errorf("restore does not say where the replaced database went:\n%s", stdout)
	}
}

func TestBackupRestoreBadInput(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "coldstart.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	notDB := filepath.Join(dir, "notes.txt")
	os.WriteFile(notDB, []byte("not a database at all, just some text that is long enough"), 0o600)
	existing := filepath.Join(dir, "existing.db")
	os.WriteFile(existing, nil, 0o600)
	foreign := filepath.Join(dir, "foreign.db")
	mustExec(t, foreign, `CREATE TABLE t (x)`)
	newer := filepath.Join(dir, "newer.db")
	if _, err := store.Backup(ctx, db, newer); err != nil {
		t.Fatal(err)
	}
	mustExec(t, newer, `INSERT INTO schema_migrations (name, applied_at) VALUES ('migrations/9999_future.sql', 0)`)

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"BackupNoOut", []string{"backup", "--db", db}, 2, "exactly one argument"},
		{"BackupMissingDB", []string{"backup", "--db", filepath.Join(dir, "nope.db"), filepath.Join(dir, "b1.db")}, 1, "no such file"},
		{"BackupNotSQLite", []string{"backup", "--db", notDB, filepath.Join(dir, "b2.db")}, 1, "not a readable SQLite database"},
		{"BackupOutExists", []string{"backup", "--db", db, existing}, 1, "already exists"},
		{"BackupOutDirMissing", []string{"backup", "--db", db, filepath.Join(dir, "no-such-dir", "b3.db")}, 1, "does not exist; create it first"},
		{"RestoreNoIn", []string{"restore", "--db", db}, 2, "exactly one argument"},
		{"RestoreMissingIn", []string{"restore", "--db", db, filepath.Join(dir, "nope.db")}, 1, "no such file"},
		{"RestoreNotColdstart", []string{"restore", "--db", db, foreign}, 1, "not a coldstart database"},
		{"RestoreNewerSchema", []string{"restore", "--db", db, newer}, 1, "made by a newer version of coldstart"},
		{"RestoreOntoItself", []string{"restore", "--db", db, db}, 1, "is the database itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d (want %d), stderr %q, want it to contain %q", code, tt.code, stderr, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "b2.db.partial")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed backup left its partial file: %v", err)
	}
}

func mustExec(t *testing.T, path, stmt string) {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		t.Fatal(err)
	}
}
