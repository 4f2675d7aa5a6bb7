package server_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"coldstart/server"
	"coldstart/server/grading"
	"coldstart/server/store"
)

// nodeQueue is a queue whose gradings run on nodes it lists, as the
// dispatcher's do.
type nodeQueue struct {
	hub   *grading.Hub
	nodes []grading.NodeStatus
	down  error
}

func (q nodeQueue) Notify()                         {}
func (q nodeQueue) Hub() *grading.Hub               { return q.hub }
func (q nodeQueue) OnFinish(func(int64))            {}
func (q nodeQueue) Nodes() []grading.NodeStatus     { return q.nodes }
func (q nodeQueue) Ready(ctx context.Context) error { return q.down }
func (q nodeQueue) Capacity() int                   { return 3 }

func TestGradingPageShowsTheQueueAndTheNodes(t *testing.T) {
	started := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		queue nodeQueue
		says  []string
	}{
		{"TwoNodes", nodeQueue{hub: grading.NewHub(), nodes: []grading.NodeStatus{
			{Name: "grader-1", Workers: 2, Busy: 1, Graded: 41, Engine: "ok", Started: started},
			{Name: "grader-2", Workers: 1, Engine: "the engine does not answer", Started: started}}},
			[]string{"run 3 gradings at once", "grader-1", "grader-2", "the engine does not answer", "1 Dec 2026 09:30 UTC",
				"<th scope=\"row\">Waiting</th><td>1</td>"}},
		{"NoNode", nodeQueue{hub: grading.NewHub(), down: errors.New("no grader node is connected")},
			[]string{"No answer is graded now", "no grader node is connected", "start <code>coldstart grader</code>"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, false, func(c *server.Config) { c.Pool = tt.queue })
			u := h.user("student@example.com", store.RoleStudent)
			if _, err := h.store.CreateSubmission(context.Background(), u.ID, "tiny-grid", 1, []byte("{}")); err != nil {
				t.Fatal(err)
			}
			admin := h.signedIn("admin@example.com", store.RoleAdmin)
			resp, body := admin.get("/admin/grading")
			expect(t, resp, body, 200, tt.says...)
			student := h.signedIn("s2@example.com", store.RoleStudent)
			resp, body = student.get("/admin/grading")
			expect(t, resp, body, 403, "Admins only")
		})
	}
}
