package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// RestoreReport describes a restore.
type RestoreReport struct {
	// Restored is the verified copy now in place.
	Restored *BackupReport
	// Previous is where the database that was replaced was saved; empty
	// when there was none.
	Previous string
}

// Restore replaces the database at db with the backup in, after checking
// that no server holds db, that in passes integrity_check and that its
// schema is one this binary can use. The database it replaces is first
// saved beside it as DB.before-restore-TIME.
func Restore(ctx context.Context, db, in string) (*RestoreReport, error) {
	lock, err := LockDatabase(db)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()

	rep, err := Verify(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := CheckSchema(rep.Schema); err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	if abs(in) == abs(db) {
		return nil, fmt.Errorf("%s is the database itself; restore from a backup file", in)
	}

	out := &RestoreReport{}
	if _, err := os.Stat(db); err == nil {
		out.Previous = db + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if _, err := Backup(ctx, db, out.Previous); err != nil {
			return nil, fmt.Errorf("save the current database before replacing it: %w", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("database %s: %w", db, err)
	}

	// The copy is made beside db (same file system, so the rename is
	// atomic) through VACUUM INTO, which writes one self-contained file.
	tmp := db + ".restoring"
	_ = os.Remove(tmp)
	src, err := openExisting(in, true)
	if err != nil {
		return nil, err
	}
	_, err = src.ExecContext(ctx, `VACUUM INTO ?`, tmp)
	src.Close()
	if err == nil {
		err = syncFile(tmp)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("copy %s: %w", in, err)
	}
	// The old database's WAL and shared-memory files belong to the old
	// file: left in place, SQLite would replay them onto the new one. What
	// they held is in the copy saved above.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(db + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			_ = os.Remove(tmp)
			return nil, fmt.Errorf("remove %s%s: %w", db, suffix, err)
		}
	}
	if err := os.Rename(tmp, db); err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("put the restored database in place: %w", err)
	}
	_ = syncDir(filepath.Dir(db))
	rep.Path = db
	out.Restored = rep
	return out, nil
}

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
