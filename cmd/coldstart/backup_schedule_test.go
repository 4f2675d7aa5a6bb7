package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"coldstart/server/store"
)

// Scheduled backups are verified copies, and rotation keeps the newest N
// of them without touching other files in the directory.
func TestScheduledBackupsRotate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "coldstart.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	backups := filepath.Join(dir, "backups")
	os.MkdirAll(backups, 0o700)
	other := []string{"notes.txt", "coldstart-manual.db", "coldstart-20200101T000000.000Z.db.partial"}
	for _, n := range other {
		os.WriteFile(filepath.Join(backups, n), []byte("keep me"), 0o600)
	}
	clock := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	b := &backupSchedule{store: st, dir: backups, keep: 3, interval: time.Hour,
		logger: slog.New(slog.NewTextHandler(io.Discard, nil)), now: func() time.Time { return clock }}
	var written []string
	for i := range 5 {
		if _, err := st.CreateUser(ctx, "u"+strconv.Itoa(i)+"@example.com", []byte("h")); err != nil {
			t.Fatal(err)
		}
		rep, err := b.once(ctx)
		if err != nil {
			t.Fatalf("backup %d: %v", i, err)
		}
		if got := count(rep, "users"); got != int64(i+1) {
			t.Fatalf("backup %d holds %d users, want %d", i, got, i+1)
		}
		written = append(written, filepath.Base(rep.Path))
		clock = clock.Add(time.Hour)
	}
	entries, _ := os.ReadDir(backups)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := append(slices.Clone(other), written[2:]...)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("backup directory holds %v, want %v", names, want)
	}
}

// serve --backup-every writes backups while it runs.
func TestServeWritesScheduledBackups(t *testing.T) {
	dir := t.TempDir()
	backups := filepath.Join(dir, "b")
	_, stop := startServer(t, &Main{DB: filepath.Join(dir, "coldstart.db"), Grader: &slowGrader{},
		BackupEvery: 20 * time.Millisecond, BackupDir: backups, BackupKeep: 2})
	deadline := time.Now().Add(20 * time.Second)
	var got []string
	for time.Now().Before(deadline) {
		got, _ = filepath.Glob(filepath.Join(backups, "coldstart-*.db"))
		if len(got) == 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got, _ = filepath.Glob(filepath.Join(backups, "coldstart-*.db"))
	if len(got) != 2 {
		t.Fatalf("backups after the server ran: %v, want the newest 2", got)
	}
	for _, p := range got {
		if _, err := store.Verify(context.Background(), p); err != nil {
			t.Errorf("scheduled backup: %v", err)
		}
	}
}

func count(rep *store.BackupReport, table string) int64 {
	for _, tc := range rep.Tables {
		if tc.Name == table {
			return tc.Rows
		}
	}
	return -1
}
