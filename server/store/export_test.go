package store

import (
	"context"
	"io/fs"
)

// OpenWithMigrations opens path as a binary built with the migrations in
// fsys (laid out as migrations/NNNN_name.sql) would.
func OpenWithMigrations(ctx context.Context, path string, fsys fs.FS) (*Store, error) {
	return open(ctx, path, fsys)
}

// MigrationFS is the binary's own migrations.
var MigrationFS fs.FS = migrationFS
