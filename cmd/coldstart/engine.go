package main

import (
	"context"
	"log/slog"

	"coldstart/grader"
	"coldstart/grader/kinds"
	"coldstart/grader/sandbox"
)

// newEngine connects to the container engine and returns a grading engine
// with every kind. Without a container engine the grader still answers: the
// run phases then end in an error result that costs no attempt.
func newEngine(ctx context.Context, instance string, logger *slog.Logger) *grader.Engine {
	sb, err := sandbox.New(ctx, instance, sandbox.Limits{}, logger)
	if err == nil {
		err = sb.Ping(ctx)
	}
	if err != nil {
		logger.Warn("grading in containers is unavailable", slog.Any("err", err))
		if sb != nil {
			sb.Close()
		}
		sb = nil
	}
	return grader.NewEngine(sb, logger, kinds.All()...)
}
