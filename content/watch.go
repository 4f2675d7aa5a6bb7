package content

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// reloadDelay is how long the watcher waits after the last change before it
// reloads: an editor's save is often several writes and a rename.
const reloadDelay = 50 * time.Millisecond

// Watcher keeps a course directory loaded, reloading it when a file changes.
// A reload that finds problems keeps the last good course and reports the
// problems through Err until a later save fixes them.
type Watcher struct {
	dir    string
	logger *slog.Logger
	fsw    *fsnotify.Watcher
	opts   []Option

	mu     sync.Mutex
	course *Course
	err    error
	subs   map[chan struct{}]struct{}
	closed bool
}

// Watch loads the course in dir and reloads it after every change until ctx
// ends. It fails when the course cannot be loaded at all the first time
// (the error is then a Problems listing each problem) or dir cannot be
// watched. The options apply to every reload.
func Watch(ctx context.Context, dir string, logger *slog.Logger, opts ...Option) (*Watcher, error) {
	if logger == nil {
		logger = slog.Default()
	}
	c, err := Load(os.DirFS(dir), opts...)
	if err != nil {
		return nil, err
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	w := &Watcher{dir: dir, logger: logger, fsw: fsw, opts: opts, course: c, subs: map[chan struct{}]struct{}{}}
	if err := w.addTree(dir); err != nil {
		fsw.Close()
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	go w.run(ctx)
	return w, nil
}

// Course returns the last course that loaded without problems.
func (w *Watcher) Course() *Course {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.course
}

// Err returns the problems of the latest reload, or nil when it succeeded.
func (w *Watcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Subscribe returns a channel that receives a signal after every reload
// attempt, good or bad, and a function that ends the subscription. The
// channel is closed when the watcher stops. Signals do not queue up: a slow
// reader sees one signal for several reloads.
func (w *Watcher) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		close(ch)
		return ch, func() {}
	}
	w.subs[ch] = struct{}{}
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if _, ok := w.subs[ch]; ok {
			delete(w.subs, ch)
			close(ch)
		}
	}
}

// addTree watches dir and every directory below it.
func (w *Watcher) addTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return w.fsw.Add(p)
		}
		return nil
	})
}

func (w *Watcher) run(ctx context.Context) {
	defer w.stop()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			if ev.Op&fsnotify.Create != 0 {
				if info, err := os.Stat(ev.Name); err == nil && info.IsDir() {
					if err := w.addTree(ev.Name); err != nil {
						w.logger.Warn("course watch", slog.String("dir", ev.Name), slog.Any("err", err))
					}
				}
			}
			timer.Reset(reloadDelay)
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			w.logger.Warn("course watch", slog.String("dir", w.dir), slog.Any("err", err))
		case <-timer.C:
			w.reload()
		}
	}
}

// reload loads the course again and tells every subscriber.
func (w *Watcher) reload() {
	start := time.Now()
	c, err := Load(os.DirFS(w.dir), w.opts...)
	w.mu.Lock()
	if err == nil {
		w.course = c
	}
	w.err = err
	for ch := range w.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	w.mu.Unlock()
	var ps Problems
	switch {
	case err == nil:
		w.logger.Info("course reloaded", slog.String("dir", w.dir), slog.Duration("took", time.Since(start)))
	case errors.As(err, &ps):
		w.logger.Warn("course has problems; still serving the last good version", slog.String("dir", w.dir), slog.Int("problems", len(ps)), slog.String("first", ps[0].String()))
	default:
		w.logger.Warn("course reload failed", slog.String("dir", w.dir), slog.Any("err", err))
	}
}

func (w *Watcher) stop() {
	w.fsw.Close()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	for ch := range w.subs {
		close(ch)
		delete(w.subs, ch)
	}
}
