package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"coldstart/content"
	"coldstart/grader/jobs"
	"coldstart/server/grading"
	"coldstart/server/store"
)

// LocalNode is the name of the grader node inside `coldstart serve`.
// Grader nodes elsewhere may not take it: the web server hands the jobs of
// a node of this name back at every start.
const LocalNode = "local"

// gradingQueue is the grading pipeline of `coldstart serve`: a NATS
// server (embedded unless --nats names one), the dispatcher that publishes
// stored answers and records verdicts, and, unless --workers 0, a node
// that grades on this machine's engine.
type gradingQueue struct {
	logger     *slog.Logger
	ns         *natsserver.Server // nil with an external server
	conns      []*nats.Conn
	dispatcher *grading.Dispatcher
	node       *jobs.Node // nil with --workers 0
}

// queueParts are what the queue is built from.
type queueParts struct {
	store    *store.Store
	course   func() *content.Course
	hub      *grading.Hub
	grader   grading.Grader
	sweep    func(context.Context) (int, error)
	registry prometheus.Registerer
	logger   *slog.Logger
}

func (m *Main) startQueue(p queueParts) (q *gradingQueue, err error) {
	q = &gradingQueue{logger: p.logger}
	defer func() {
		if err != nil {
			q.close()
		}
	}()
	if m.NATS.URL == "" {
		if q.ns, err = m.NATS.startNATS(m.DB); err != nil {
			return nil, err
		}
		if m.NATS.listening() {
			p.logger.Info("grading queue (embedded NATS)", slog.String("nats_listen", q.ns.ClientURL()),
				slog.Bool("token", m.NATS.Token != ""), slog.Bool("tls", m.NATS.TLSCert != ""))
		}
	} else {
		p.logger.Info("grading queue (external NATS)", slog.String("nats", m.NATS.URL))
	}
	web, err := m.NATS.connect(q.ns, "coldstart serve")
	if err != nil {
		return nil, err
	}
	q.conns = append(q.conns, web)
	local := ""
	if !m.NoLocalGrading {
		local = LocalNode
	}
	q.dispatcher, err = grading.NewDispatcher(p.store, p.course, p.hub, grading.DispatchOptions{
		Conn: web, Logger: p.logger, Registerer: p.registry, LocalNode: local,
		Streams: jobs.StreamOptions{AckWait: m.NATS.AckWait, Replicas: m.NATS.Replicas}})
	if err != nil {
		return nil, err
	}
	if m.NoLocalGrading {
		return q, nil
	}
	nodeConn, err := m.NATS.connect(q.ns, "coldstart serve: local grader node")
	if err != nil {
		return nil, err
	}
	q.conns = append(q.conns, nodeConn)
	q.node, err = jobs.NewNode(jobs.NodeOptions{Name: LocalNode, Workers: m.Workers, Grader: p.grader, Conn: nodeConn,
		Logger: p.logger, Sweep: p.sweep, Grace: m.Grace})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// run grades until ctx ends; then the local node finishes or hands back its
// gradings within its grace period, and the verdicts already reached are
// recorded before run returns.
func (q *gradingQueue) run(ctx context.Context) {
	dispatchCtx, stopDispatch := context.WithCancel(context.WithoutCancel(ctx))
	defer stopDispatch()
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		if err := q.dispatcher.Run(dispatchCtx); err != nil {
			q.logger.Error("the grading dispatcher stopped", slog.Any("err", err))
		}
	}()
	if q.node != nil {
		if err := q.node.Run(ctx); err != nil {
			q.logger.Error("the local grader node stopped", slog.Any("err", err))
		}
	}
	<-ctx.Done()
	q.dispatcher.Drain(dispatchCtx, 3*time.Second)
	stopDispatch()
	<-dispatched
}

// waitReady waits, at most limit, until the local node is heard from.
func (q *gradingQueue) waitReady(ctx context.Context, limit time.Duration) error {
	if q.node == nil {
		return nil
	}
	if !q.dispatcher.WaitForNode(ctx, LocalNode, limit) {
		return errors.New("the local grader node was not heard from")
	}
	return nil
}

func (q *gradingQueue) close() {
	for _, c := range q.conns {
		c.Close()
	}
	if q.ns != nil {
		q.ns.Shutdown()
		q.ns.WaitForShutdown()
	}
}
