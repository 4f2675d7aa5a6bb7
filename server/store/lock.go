package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrLocked means a running server holds the database.
var ErrLocked = errors.New("a running coldstart server holds this database")

// Lock is the claim a server (or a restore) holds on a database file.
//
// It is an flock(2) on DB.lock, not a probe of SQLite's own locks: SQLite
// holds those only while a transaction is open, and the server's pooled
// connections all close when idle, so between requests a probe would find a
// live server's database "free". It is not a PID file either: the kernel
// drops an flock when its process dies, so a crash leaves no stale claim to
// clean up by hand. The lock is on an open file, so it is seen by every
// process on the same kernel — `docker exec … coldstart restore` in the
// server's container, or another container sharing the volume. (flock is
// not reliable on network file systems; neither is SQLite's WAL mode.)
type Lock struct {
	f    *os.File
	path string
}

// LockPath is the lock file of the database at db.
func LockPath(db string) string { return db + ".lock" }

// LockDatabase claims the database at db, failing at once with ErrLocked
// when another process holds it.
func LockDatabase(db string) (*Lock, error) {
	path := LockPath(db)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", db, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w (its lock file %s is held); stop the server first", db, ErrLocked, path)
		}
		return nil, fmt.Errorf("lock %s: %w", db, err)
	}
	return &Lock{f: f, path: path}, nil
}

// Unlock releases the claim. The lock file stays: removing it would let a
// process that opened it just before take a lock nobody else can see.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
