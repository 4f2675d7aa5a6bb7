package store_test

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"coldstart/server/store"
)

// schemas returns the binary's migrations (the previous schema) and the
// same plus one more (a newer binary's schema).
func schemas(t *testing.T, extra string) (prev, next fstest.MapFS) {
	t.Helper()
	prev, next = fstest.MapFS{}, fstest.MapFS{}
	for _, name := range store.KnownMigrations() {
		b, err := fs.ReadFile(store.MigrationFS, name)
		if err != nil {
			t.Fatal(err)
		}
		prev[name] = &fstest.MapFile{Data: b}
		next[name] = &fstest.MapFile{Data: b}
	}
	next["migrations/9000_cohorts.sql"] = &fstest.MapFile{Data: []byte(extra)}
	return prev, next
}

const cohortsMigration = `CREATE TABLE cohorts (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
ALTER TABLE users ADD COLUMN cohort INTEGER REFERENCES cohorts (id);`

func openWith(t *testing.T, path string, fsys fs.FS) *store.Store {
	t.Helper()
	s, err := store.OpenWithMigrations(context.Background(), path, fsys)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return s
}

func backups(t *testing.T, db string) []string {
	t.Helper()
	m, err := filepath.Glob(db + ".v*.bak")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestUpgradeFromPreviousSchema(t *testing.T) {
	ctx := context.Background()
	prev, next := schemas(t, cohortsMigration)
	v := store.SchemaVersion(store.KnownMigrations())

	t.Run("BacksUpThenMigrates", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "coldstart.db")
		old := openWith(t, db, prev)
		u := mustUser(t, old, "a@example.com")
		if _, err := old.CreateSubmission(ctx, u.ID, "ex", 1, []byte("answer")); err != nil {
			t.Fatal(err)
		}
		if old.Upgrade != nil {
			t.Fatalf("a new database reports an upgrade: %+v", old.Upgrade)
		}
		old.Close()
		if b := backups(t, db); len(b) != 0 {
			t.Fatalf("a new database was backed up: %v", b)
		}

		s := openWith(t, db, next)
		defer s.Close()
		if s.Upgrade == nil || s.Upgrade.From != v || s.Upgrade.To != 9000 {
			t.Fatalf("upgrade = %+v, want from %d to 9000", s.Upgrade, v)
		}
		b := backups(t, db)
		if len(b) != 1 || b[0] != s.Upgrade.Backup || !strings.Contains(b[0], ".v"+itoa(v)+"-") {
			t.Fatalf("backups %v, upgrade reports %q; want one named with version %d", b, s.Upgrade.Backup, v)
		}
		rep, err := store.Verify(ctx, b[0])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rep.Schema, store.KnownMigrations()) || count(rep, "submissions") != 1 || count(rep, "users") != 1 {
			t.Fatalf("backup holds schema %v, tables %+v", rep.Schema, rep.Tables)
		}
		if got, _ := s.Migrations(ctx); len(got) != len(store.KnownMigrations())+1 {
			t.Fatalf("migrations after upgrade: %v", got)
		}
		if _, err := s.UserByEmail(ctx, "a@example.com"); err != nil {
			t.Fatalf("the user did not survive the upgrade: %v", err)
		}
		s.Close()

		again := openWith(t, db, next)
		again.Close()
		if again.Upgrade != nil || len(backups(t, db)) != 1 {
			t.Fatalf("opening an up-to-date database upgraded it again: %+v", again.Upgrade)
		}
	})

	t.Run("FailedMigrationLeavesOldVersion", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "coldstart.db")
		openWith(t, db, prev).Close()
		_, broken := schemas(t, `CREATE TABLE half_done (x); INSERT INTO no_such_table VALUES (1);`)
		_, err := store.OpenWithMigrations(ctx, db, broken)
		if err == nil || !strings.Contains(err.Error(), "stays at schema version "+itoa(v)) {
			t.Fatalf("broken migration: %v", err)
		}
		s := openWith(t, db, prev)
		defer s.Close()
		if got, _ := s.Migrations(ctx); !slices.Equal(got, store.KnownMigrations()) {
			t.Fatalf("migrations after a failed upgrade: %v", got)
		}
		rep, err := store.Verify(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if count(rep, "half_done") >= 0 {
			t.Fatal("the failed migration's first statement was kept")
		}
	})

	t.Run("OlderBinaryRefusesNewerDatabase", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "coldstart.db")
		openWith(t, db, next).Close()
		_, err := store.Open(ctx, db)
		if !errors.Is(err, store.ErrNewerSchema) {
			t.Fatalf("open a newer database: %v", err)
		}
		for _, want := range []string{"schema version 9000", "only up to version " + itoa(v), "9000_cohorts.sql"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
		if b := backups(t, db); len(b) != 0 {
			t.Errorf("refusing made backups: %v", b)
		}
	})
}

// count is the rows of a table in the report, -1 when it has no such table.
func count(rep *store.BackupReport, table string) int64 {
	for _, tc := range rep.Tables {
		if tc.Name == table {
			return tc.Rows
		}
	}
	return -1
}

func itoa(n int) string { return strconv.Itoa(n) }
