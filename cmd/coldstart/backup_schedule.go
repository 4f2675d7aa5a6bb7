package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"coldstart/server/store"
)

// backupStamp names scheduled backups: coldstart-20250102T030405.678Z.db.
// The name sorts by time, and only names that parse with it are ever
// rotated away, so other files in the directory are left alone.
const backupStamp = "20060102T150405.000Z"

// backupSchedule writes a verified backup every interval into dir and
// keeps the newest keep of them.
type backupSchedule struct {
	store    *store.Store
	dir      string
	keep     int
	interval time.Duration
	logger   *slog.Logger
	now      func() time.Time
}

func (b *backupSchedule) run(ctx context.Context) {
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rep, err := b.once(ctx)
			if err != nil {
				if ctx.Err() == nil {
					b.logger.Error("scheduled backup", slog.Any("err", err))
				}
				continue
			}
			b.logger.Info("backup written", slog.String("path", rep.Path), slog.Int64("bytes", rep.Bytes),
				slog.Duration("took", rep.Took))
		}
	}
}

// once writes one backup, then removes the oldest beyond keep.
func (b *backupSchedule) once(ctx context.Context) (*store.BackupReport, error) {
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return nil, fmt.Errorf("backup directory: %w", err)
	}
	name := filepath.Join(b.dir, "coldstart-"+b.now().UTC().Format(backupStamp)+".db")
	rep, err := b.store.Backup(ctx, name)
	if err != nil {
		return nil, err
	}
	return rep, b.prune()
}

func (b *backupSchedule) prune() error {
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		return fmt.Errorf("rotate backups: %w", err)
	}
	var ours []string
	for _, e := range entries {
		if isScheduledBackup(e.Name()) && e.Type().IsRegular() {
			ours = append(ours, e.Name())
		}
	}
	slices.Sort(ours)
	for len(ours) > b.keep {
		if err := os.Remove(filepath.Join(b.dir, ours[0])); err != nil {
			return fmt.Errorf("rotate backups: %w", err)
		}
		ours = ours[1:]
	}
	return nil
}

func isScheduledBackup(name string) bool {
	stamp, ok := strings.CutPrefix(name, "coldstart-")
	if !ok {
		return false
	}
	stamp, ok = strings.CutSuffix(stamp, ".db")
	if !ok {
		return false
	}
	_, err := time.Parse(backupStamp, stamp)
	return err == nil
}
