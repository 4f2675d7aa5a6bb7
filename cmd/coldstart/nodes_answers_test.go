package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"coldstart/server/store"
)

// nodeAnswers are the answers a node test stores before its nodes start,
// with the verdict each must end with.
type nodeAnswers struct {
	t     *testing.T
	st    *store.Store
	users int
	list  []nodeAnswer
}

type nodeAnswer struct {
	id         int64
	name, want string
}

func newNodeAnswers(t *testing.T, st *store.Store) *nodeAnswers { return &nodeAnswers{t: t, st: st} }

// student creates an account for the answers that follow.
func (a *nodeAnswers) student() int64 {
	a.t.Helper()
	a.users++
	u, err := a.st.CreateUser(context.Background(), fmt.Sprintf("student%d@example.com", a.users), []byte("x"))
	if err != nil {
		a.t.Fatal(err)
	}
	return u.ID
}

// add stores, for each exercise, its reference answer, its first wrong
// answers (wrong of them) and the reference again, each from the
// exercise's own student.
func (a *nodeAnswers) add(wrong int, exercises ...string) {
	a.t.Helper()
	for _, id := range exercises {
		user := a.student()
		ex := builtinExercise(a.t, id)
		a.submit(user, ex.ID, "solution", "pass", ex.SolutionSeed(), ex.Solution)
		for _, w := range ex.Wrong[:wrong] {
			a.submit(user, ex.ID, w.File, "fail", ex.SolutionSeed(), w.Body)
		}
		// A second reference answer keeps the nodes busy through the faults.
		a.submit(user, ex.ID, "solution again", "pass", ex.SolutionSeed(), ex.Solution)
	}
}

func (a *nodeAnswers) submit(user int64, exercise, name, want string, seed int64, body []byte) {
	a.t.Helper()
	sub, err := a.st.CreateSubmission(context.Background(), user, exercise, seed, body)
	if err != nil {
		a.t.Fatal(err)
	}
	a.list = append(a.list, nodeAnswer{sub.ID, fmt.Sprintf("%s/%s (submission %d)", exercise, name, sub.ID), want})
}

// runningOn is an answer that node grades now, or 0; "" matches any node.
func (a *nodeAnswers) runningOn(node string) int64 {
	ctx := context.Background()
	for _, x := range a.list {
		if s, err := a.st.Submission(ctx, x.id); err == nil && s.Status == store.JobRunning {
			if n, _ := a.st.NodeOf(ctx, x.id); node == "" || n == node {
				return x.id
			}
		}
	}
	return 0
}

func (a *nodeAnswers) waitAllDone(limit time.Duration) {
	a.t.Helper()
	waitUntil(a.t, limit, "not every answer was graded", func() bool {
		for _, x := range a.list {
			if s, err := a.st.Submission(context.Background(), x.id); err != nil || s.Status != store.JobDone {
				return false
			}
		}
		return true
	})
}

// check fails the test for every answer without its verdict, or not
// counted, or that names no node; it logs the answers hit by a fault (hit)
// and returns the verdicts by node.
func (a *nodeAnswers) check(hit ...int64) map[string]int {
	a.t.Helper()
	ctx := context.Background()
	nodes := map[string]int{}
	for _, x := range a.list {
		s, err := a.st.Submission(ctx, x.id)
		if err != nil {
			a.t.Fatal(err)
		}
		node, _ := a.st.NodeOf(ctx, x.id)
		nodes[node]++
		if s.Verdict != x.want || !s.Counted {
			a.t.Errorf("%s: verdict %s, counted %v, want %s, counted: %s", x.name, s.Verdict, s.Counted, x.want, s.Reason)
		}
		if node == "" {
			a.t.Errorf("%s: the verdict names no node", x.name)
		}
		for _, h := range hit {
			if h == x.id {
				a.t.Logf("%s: %s on %s after %d runs", x.name, s.Verdict, node, s.Runs)
			}
		}
	}
	a.t.Logf("verdicts by node: %v", nodes)
	return nodes
}

// runs is how many times an answer was claimed.
func (a *nodeAnswers) runs(id int64) int {
	s, err := a.st.Submission(context.Background(), id)
	if err != nil {
		a.t.Fatal(err)
	}
	return s.Runs
}
