package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamOptions shape the streams the web server creates.
type StreamOptions struct {
	// AckWait is how long a node may go without a heartbeat before its job
	// is given to another; nodes heartbeat every third of it.
	AckWait time.Duration
	// Replicas is the stream replication in a NATS cluster (1 alone).
	Replicas int
	// Memory keeps the streams in memory (tests); the default is files.
	Memory bool
}

// DefaultAckWait covers the pause of a node between two heartbeats with a
// wide margin; a job of a node that died waits this long for another.
const DefaultAckWait = 30 * time.Second

// EnsureStreams creates or updates the job and result streams and their
// consumers.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, o StreamOptions) error {
	if o.AckWait <= 0 {
		o.AckWait = DefaultAckWait
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	storage := jetstream.FileStorage
	if o.Memory {
		storage = jetstream.MemoryStorage
	}
	for _, sc := range []jetstream.StreamConfig{
		{Name: JobsStream, Subjects: []string{JobsSubject}, Retention: jetstream.WorkQueuePolicy,
			Storage: storage, Replicas: o.Replicas, Duplicates: 10 * time.Minute, MaxAge: 7 * 24 * time.Hour,
			Description: "answers to grade; the web server's database is the record"},
		{Name: ResultsStream, Subjects: []string{ResultsSubject}, Retention: jetstream.WorkQueuePolicy,
			Storage: storage, Replicas: o.Replicas, Duplicates: 10 * time.Minute, MaxAge: 7 * 24 * time.Hour,
			Description: "verdicts from grader nodes, until the web server records them"},
	} {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("stream %s: %w", sc.Name, err)
		}
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, JobsStream, jetstream.ConsumerConfig{
		Durable: GradersConsumer, AckPolicy: jetstream.AckExplicitPolicy, AckWait: o.AckWait,
		MaxDeliver: -1, MaxAckPending: 10000, Description: "grader nodes take jobs here",
	}); err != nil {
		return fmt.Errorf("consumer %s: %w", GradersConsumer, err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, ResultsStream, jetstream.ConsumerConfig{
		Durable: RecorderName, AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second,
		MaxDeliver: -1, Description: "the web server records verdicts here",
	}); err != nil {
		return fmt.Errorf("consumer %s: %w", RecorderName, err)
	}
	return nil
}

// gradersConsumer waits until the web server has created the job stream
// and NATS answers; a node may start before either. It asks again soon at
// first, since the stream of a server starting beside the node is usually
// there within milliseconds, and then once a second.
func gradersConsumer(ctx context.Context, js jetstream.JetStream, logger *slog.Logger) (jetstream.Consumer, error) {
	wait := 20 * time.Millisecond
	for logged := false; ; wait = min(2*wait, time.Second) {
		c, err := js.Consumer(ctx, JobsStream, GradersConsumer)
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !logged {
			logger.Info("waiting for the job stream", slog.Any("err", err))
			logged = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}
