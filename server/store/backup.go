package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// BackupReport describes a verified copy of the database.
type BackupReport struct {
	Path   string
	Bytes  int64
	Took   time.Duration
	Tables []TableCount // in name order
	// Schema lists the migrations applied to the copy.
	Schema []string
}

// TableCount is the number of rows in one table.
type TableCount struct {
	Name string
	Rows int64
}

// Backup writes a consistent copy of the database at src to dst while other
// processes (a running server) go on writing to src, then checks the copy.
// dst must not exist. The copy is VACUUM INTO's: one read transaction, so it
// holds exactly the transactions committed before it began, and it never
// blocks writers in WAL mode. It is written beside dst and renamed into
// place only once PRAGMA integrity_check passes, so a failed backup never
// leaves a file that looks like a good one.
func Backup(ctx context.Context, src, dst string) (*BackupReport, error) {
	db, err := openExisting(src, true)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return backupFrom(ctx, db, dst)
}

// Backup writes a verified copy of the open database to dst (see Backup).
func (s *Store) Backup(ctx context.Context, dst string) (*BackupReport, error) {
	return backupFrom(ctx, s.db, dst)
}

func backupFrom(ctx context.Context, db *sql.DB, dst string) (*BackupReport, error) {
	start := time.Now()
	if _, err := os.Stat(dst); err == nil {
		return nil, fmt.Errorf("%s already exists; choose a new name for the backup", dst)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("backup to %s: %w", dst, err)
	}
	if fi, err := os.Stat(filepath.Dir(dst)); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("backup to %s: the directory %s does not exist; create it first or choose another place", dst, filepath.Dir(dst))
	}
	tmp := dst + ".partial"
	_ = os.Remove(tmp) // what an interrupted backup left
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("copy the database to %s: %w", tmp, err)
	}
	rep, err := Verify(ctx, tmp)
	if err == nil {
		err = syncFile(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("backup to %s: %w", dst, err)
	}
	_ = syncDir(filepath.Dir(dst))
	rep.Path = dst
	rep.Took = time.Since(start)
	return rep, nil
}

// Verify runs PRAGMA integrity_check on the database file at path and
// counts the rows of each table. It does not change the file.
func Verify(ctx context.Context, path string) (*BackupReport, error) {
	db, err := openExisting(path, true)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := integrityCheck(ctx, db); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rep := &BackupReport{Path: path}
	if fi, err := os.Stat(path); err == nil {
		rep.Bytes = fi.Size()
	}
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("%s: list tables: %w", path, err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		var c int64
		// The name comes from sqlite_schema, quoted as an identifier.
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+n+`"`).Scan(&c); err != nil {
			return nil, fmt.Errorf("%s: count rows of %s: %w", path, n, err)
		}
		rep.Tables = append(rep.Tables, TableCount{Name: n, Rows: c})
	}
	rep.Schema, err = appliedMigrations(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rep, nil
}

func integrityCheck(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if len(problems) > 0 {
		if len(problems) > 5 {
			problems = append(problems[:5], fmt.Sprintf("and %d more", len(problems)-5))
		}
		return fmt.Errorf("integrity check failed: %v", problems)
	}
	return nil
}

// openExisting opens a database file that must already exist (SQLite would
// otherwise create an empty one) and checks that it is a SQLite database.
func openExisting(path string, readOnly bool) (*sql.DB, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("database %s is not a regular file", path)
	}
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(BusyTimeout.Milliseconds()))
	if readOnly {
		q.Set("mode", "ro")
	}
	db, err := sql.Open("sqlite3", "file:"+url.PathEscape(path)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM sqlite_schema`).Scan(&n); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s is not a readable SQLite database: %w", path, err)
	}
	return db, nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
