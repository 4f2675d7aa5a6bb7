package main

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLogBufferHoldsInfoButNotWarnings(t *testing.T) {
	out := &lockedBuilder{}
	logs := newLogBuffer(out)
	logger := slog.New(flushOnWarn{slog.NewJSONHandler(logs, nil), logs}).With("part", "test")

	logger.Info("request", "path", "/lessons/a")
	if got := out.String(); got != "" {
		t.Fatalf("an info line was written at once: %q", got)
	}
	logger.Warn("disk nearly full")
	got := out.String()
	if !strings.Contains(got, `"msg":"request"`) || !strings.Contains(got, `"msg":"disk nearly full"`) || !strings.Contains(got, `"part":"test"`) {
		t.Fatalf("after a warning the buffer was not written out in order: %q", got)
	}

	logger.Info("later")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), `"msg":"later"`) {
		if time.Now().After(deadline) {
			t.Fatalf("an info line was still held after 5 s (flush every %s)", logFlushEvery)
		}
		time.Sleep(10 * time.Millisecond)
	}

	logger.Info("last")
	if err := logs.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), "\n") || !strings.Contains(out.String(), `"msg":"last"`) {
		t.Fatalf("Close did not write out the rest: %q", out.String())
	}
}
