package grader

import (
	"context"
	"errors"
	"fmt"
)

// Containers is the container engine that run phases start their
// containers on. grader/sandbox implements it; cmd wires one in, so that
// this package, and the web tier that imports it, link no engine client.
type Containers interface {
	// Ping checks that the engine answers; its error says why not.
	Ping(ctx context.Context) error
	// Scope opens the scope of one grading: every container and network it
	// creates carries the grading's id and is removed by Close. wait is told
	// when the scope waits for the server's container budget.
	OpenScope(grading string, wait func(msg string)) Scope
	// LabImage makes sure the lab image exists and returns its name.
	LabImage(ctx context.Context) (string, error)
}

// Scope is the part of a grading's containers the engine needs: removing
// them when the grading ends. Kinds reach the rest through grader/sandbox.
type Scope interface {
	Close(ctx context.Context) error
}

// ErrEngineUnavailable marks a grading that could not start its containers
// because the container engine did not answer. Such a grading says nothing
// about the submission: the worker queues it again and waits for the engine.
var ErrEngineUnavailable = errors.New("the container engine is unavailable")

// engineUnavailable marks err as ErrEngineUnavailable unless it already is.
func engineUnavailable(err error) error {
	if errors.Is(err, ErrEngineUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrEngineUnavailable, err)
}
