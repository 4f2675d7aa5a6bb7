// Package store keeps Coldstart's state in one SQLite file: accounts,
// sessions, lesson and quiz progress, and submissions with their grading
// jobs and results.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Errors the store returns; callers test them with errors.Is.
var (
	ErrNotFound   = errors.New("not found")
	ErrEmailTaken = errors.New("an account with this email already exists")
	ErrExpired    = errors.New("the session has expired")
	// ErrSignupClosed: visitors may not create accounts on this server.
	ErrSignupClosed = errors.New("sign-up is closed on this server")
	// ErrLinkInvalid: a one-time link is unknown, used or expired.
	ErrLinkInvalid = errors.New("this link is not valid: it was already used, it expired, or it was mistyped")
	// ErrDeactivated: the account was deactivated by an admin.
	ErrDeactivated = errors.New("this account is deactivated")
	// ErrLastAdmin: the change would leave the server without an active admin.
	ErrLastAdmin = errors.New("this is the last active admin")
	// ErrInvalid wraps input the store refuses (the message says why).
	ErrInvalid = errors.New("invalid")
)

// BusyTimeout is how long a statement waits for a lock held by another
// connection before failing.
const BusyTimeout = 5 * time.Second

// Store is the SQLite database.
type Store struct {
	db *sql.DB
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// Upgrade is set when Open migrated an existing database forward.
	Upgrade *Upgrade
}

// Open opens (creating if needed) the database at path and applies every
// migration not yet applied (see migrate).
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, migrationFS)
}

func open(ctx context.Context, path string, migrations fs.FS) (*Store, error) {
	if path == "" {
		return nil, errors.New("no database path given")
	}
	// The pragmas go in the DSN so that every pooled connection gets them,
	// busy timeout first so that switching to WAL waits for other writers.
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(BusyTimeout.Milliseconds()))
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	dsn := "file:" + url.PathEscape(path) + "?" + q.Encode()
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{db: db, Now: time.Now}
	if err := s.migrate(ctx, path, migrations); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return nil
}

// Upgrade describes the migrations Open applied to an existing database.
type Upgrade struct {
	From, To int // schema versions
	// Backup is the copy of the database taken before migrating.
	Backup string
}

// migrate brings the database to the schema of the migrations in fsys.
// A database made by a newer binary (it has migrations fsys lacks) is
// refused. A database that has data and lacks migrations is first copied
// beside itself as DB.vN-TIME.bak (N: its schema version), then every
// missing migration is applied in one transaction: a failure leaves the
// database exactly as it was, at its old version.
func (s *Store) migrate(ctx context.Context, path string, fsys fs.FS) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	known := migrationNames(fsys)
	applied, err := appliedMigrations(ctx, s.db)
	if err != nil {
		return err
	}
	if err := checkSchema(applied, known); err != nil {
		return err
	}
	var pending []string
	for _, name := range known {
		if !slices.Contains(applied, name) {
			pending = append(pending, name)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	if len(applied) > 0 {
		from := SchemaVersion(applied)
		backup := fmt.Sprintf("%s.v%d-%s.bak", path, from, s.Now().UTC().Format("20060102T150405.000Z"))
		if _, err := s.Backup(ctx, backup); err != nil {
			return fmt.Errorf("back up before upgrading from schema version %d (nothing was changed): %w", from, err)
		}
		s.Upgrade = &Upgrade{From: from, To: SchemaVersion(known), Backup: backup}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Read again inside the write transaction: another process may have
	// migrated in the meantime.
	applied, err = appliedMigrations(ctx, tx)
	if err != nil {
		return err
	}
	for _, name := range pending {
		if slices.Contains(applied, name) {
			continue
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("migration %s (the database stays at schema version %d): %w", name, SchemaVersion(applied), err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, s.now()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Migrations lists the applied migrations.
func (s *Store) Migrations(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// now is the current time in Unix milliseconds, as every column stores it.
func (s *Store) now() int64 { return s.Now().UnixMilli() }

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
