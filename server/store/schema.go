package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// ErrNewerSchema means the database was migrated by a newer coldstart than
// this one.
var ErrNewerSchema = errors.New("the database was made by a newer version of coldstart")

// KnownMigrations lists the migrations built into this binary, in order.
func KnownMigrations() []string { return migrationNames(migrationFS) }

func migrationNames(fsys fs.FS) []string {
	names, _ := fs.Glob(fsys, "migrations/*.sql")
	slices.Sort(names)
	return names
}

// SchemaVersion is the number of the highest migration in names
// ("migrations/0003_x.sql" is 3); 0 for none.
func SchemaVersion(names []string) int {
	v := 0
	for _, n := range names {
		base := n[strings.LastIndexByte(n, '/')+1:]
		num, _, _ := strings.Cut(base, "_")
		if i, err := strconv.Atoi(num); err == nil && i > v {
			v = i
		}
	}
	return v
}

// CheckSchema says whether a database with the applied migrations can be
// used by this binary: it can when every applied migration is one the
// binary knows (missing ones are applied when the server opens it).
func CheckSchema(applied []string) error {
	return checkSchema(applied, KnownMigrations())
}

func checkSchema(applied, known []string) error {
	var unknown []string
	for _, a := range applied {
		if !slices.Contains(known, a) {
			unknown = append(unknown, a)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	return fmt.Errorf("%w: it is at schema version %d, this coldstart knows only up to version %d (unknown migrations: %s); "+
		"run the newer coldstart again, or restore a backup made before the upgrade",
		ErrNewerSchema, SchemaVersion(applied), SchemaVersion(known), strings.Join(unknown, ", "))
}

// appliedMigrations reads the migrations recorded in a database.
func appliedMigrations(ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil, errors.New("not a coldstart database: it has no schema_migrations table")
		}
		return nil, fmt.Errorf("read the schema version: %w", err)
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
