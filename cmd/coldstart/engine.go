package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"coldstart/grader"
	"coldstart/grader/kinds"
	"coldstart/grader/sandbox"
)

// dockerHost is the engine gradings run on: the --docker-host flag, else
// DOCKER_HOST, else the local socket. Nothing else is consulted and no other
// engine is tried when this one does not answer.
func dockerHost(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return sandbox.DefaultHost
}

// newSandbox returns a sandbox on the engine at host. It fails only for a
// host that cannot name an engine; an engine that does not answer yet is
// reported by Ping, and works once it does.
func newSandbox(host, instance string, logger *slog.Logger) (*sandbox.Sandbox, error) {
	return sandbox.New(sandbox.Options{Host: host, Instance: instance, Logger: logger})
}

// gradingEngine returns a grading engine with every kind that runs
// containers on sb; nil grades the static checks only.
func gradingEngine(sb *sandbox.Sandbox, logger *slog.Logger) *grader.Engine {
	if sb == nil {
		return grader.NewEngine(nil, logger, kinds.All()...)
	}
	return grader.NewEngine(sb, logger, kinds.All()...)
}

// logEngine names the engine and its version, or says why it does not
// answer, so that an operator sees at start which engine grades.
func logEngine(ctx context.Context, sb *sandbox.Sandbox, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	info, err := sb.Engine(ctx)
	if err != nil {
		logger.Warn("the container engine does not answer; gradings that run containers wait for it",
			slog.String("docker_host", sb.Host()), slog.Any("err", err))
		return
	}
	b := sb.Budget()
	logger.Info("container engine", slog.String("docker_host", info.Host), slog.String("version", info.Version),
		slog.String("api_version", info.APIVersion), slog.String("os", info.OS),
		slog.Int("grading_containers", sb.Limits().MaxContainers), slog.Int("container_budget", b.Containers),
		slog.Int64("memory_budget_mib", b.MemoryMB))
}
