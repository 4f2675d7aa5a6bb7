package server

import (
	"context"

	"coldstart/server/grading"
)

// Queue is what the web server needs of the grading pipeline: a pool of
// workers in this process (grading.Pool) or grader nodes reached over NATS
// (grading.Dispatcher).
type Queue interface {
	// Notify says an answer was stored.
	Notify()
	// Hub carries the progress of gradings to the pages following them.
	Hub() *grading.Hub
	// OnFinish sets what is called after each recorded result.
	OnFinish(func(userID int64))
	// Ready says whether answers are being graded now.
	Ready(ctx context.Context) error
	// Capacity is how many gradings run at once.
	Capacity() int
}

// nodeLister is a Queue whose gradings run on nodes it can list.
type nodeLister interface {
	Nodes() []grading.NodeStatus
}

// DefaultQueueCap bounds the answers waiting server-wide.
const DefaultQueueCap = 1000
