package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"coldstart/grader"
	"coldstart/server/grading"
)

// startLog is a grader that records which submission each grading is, in
// the order gradings start, and how often each was graded.
type startLog struct {
	grading.Grader
	mu      *sync.Mutex
	started *[]int64
	times   map[int64]int
}

func (g startLog) Grade(ctx context.Context, req grader.Request) *grader.Result {
	id, _ := strconv.ParseInt(req.ID[len("sub-"):], 10, 64)
	g.mu.Lock()
	*g.started = append(*g.started, id)
	g.times[id]++
	g.mu.Unlock()
	return g.Grader.Grade(ctx, req)
}

// TestTwoHundredAnswersFromFiftyStudentsOnThreeNodes sends 200 answers,
// each student's four one after the other (table answers, and for ten
// students an IAM answer graded in containers), to three nodes with real
// engines: every answer is graded once with its expected verdict, and in
// the queue no student's answer waits behind more than one of any other
// student's.
func TestTwoHundredAnswersFromFiftyStudentsOnThreeNodes(t *testing.T) {
	host := realEngineHost(t)
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	var mu sync.Mutex
	var started []int64
	times := map[int64]int{}
	var instances []string
	graderOf := func(node string) grading.Grader {
		instance := "node-" + node + "-" + randomHex(4)
		sb, err := newSandbox(host, instance, logger)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sb.Close() })
		instances = append(instances, instance)
		return startLog{Grader: gradingEngine(sb, logger), mu: &mu, started: &started, times: times}
	}
	rig := newQueueRig(t)

	table := rig.course.Exercise("serverless-criteria")
	iam := rig.course.Exercise("fargate-roles")
	type answer struct {
		id   int64
		name string
		want string
	}
	var answers []answer
	owner := map[int64]int64{}
	for i, user := range rig.students(50) {
		for k := 0; k < 4; k++ {
			ex, body, name, want := table, table.Solution, "table solution", "pass"
			switch {
			case k == 0 && i < 10:
				ex, body, name = iam, iam.Solution, "iam solution"
			case k == 1 && i < 10:
				ex, body, name, want = iam, iam.Wrong[i%len(iam.Wrong)].Body, "iam "+iam.Wrong[i%len(iam.Wrong)].File, "fail"
			case k == 2:
				body, name, want = table.Wrong[i%len(table.Wrong)].Body, "table "+table.Wrong[i%len(table.Wrong)].File, "fail"
			}
			id := rig.submitBody(user, ex, body)
			answers = append(answers, answer{id, fmt.Sprintf("student %d: %s", i, name), want})
			owner[id] = user
		}
	}
	// Every answer is stored before the nodes start: the queue's order is
	// the dispatcher's, not the order of arrival.
	rig.start(3, 2, graderOf)
	began := time.Now()
	nodes := map[string]int{}
	for _, a := range answers {
		s := rig.waitDone(a.id, 5*time.Minute)
		if s.Verdict != a.want || !s.Counted {
			t.Errorf("%s (submission %d): verdict %s, counted %v, want %s, counted: %s", a.name, a.id, s.Verdict, s.Counted, a.want, s.Reason)
		}
		var res grader.Result
		if err := json.Unmarshal(s.Result, &res); err != nil {
			t.Fatal(err)
		}
		nodes[res.Node]++
	}
	took := time.Since(began)
	mu.Lock()
	for _, a := range answers {
		if times[a.id] != 1 {
			t.Errorf("%s (submission %d) graded %d times, want once", a.name, a.id, times[a.id])
		}
	}
	startOrder := append([]int64(nil), started...)
	mu.Unlock()
	queueOrder := publicationOrder(t, rig.m.DB)
	if len(queueOrder) != len(answers) {
		t.Errorf("%d answers published, want %d", len(queueOrder), len(answers))
	}
	if len(nodes) != 3 {
		t.Errorf("results name the nodes %v, want all three", nodes)
	}
	worstQueue, worstStart := mostBetween(queueOrder, owner), mostBetween(startOrder, owner)
	t.Logf("200 answers graded in %s on nodes %v; most answers of one student between two of another's: %d in the queue, %d in grading starts",
		took.Round(time.Millisecond), nodes, worstQueue, worstStart)
	if worstQueue > 1 {
		t.Errorf("another student had %d answers queued between two of one student's, want at most 1", worstQueue)
	}
	rig.close()
	for _, instance := range instances {
		assertNothingLeft(t, host, instance)
	}
}

// mostBetween is the most entries of one owner between two consecutive
// entries of another (or before another's first).
func mostBetween(order []int64, owner map[int64]int64) int {
	worst := 0
	last := map[int64]int{}
	for i, id := range order {
		s := owner[id]
		from, ok := last[s]
		if !ok {
			from = -1
		}
		between := map[int64]int{}
		for _, other := range order[from+1 : i] {
			if o := owner[other]; o != s {
				between[o]++
				worst = max(worst, between[o])
			}
		}
		last[s] = i
	}
	return worst
}

// publicationOrder lists the submissions in the order of their job's
// sequence number on the job stream: the work queue's order.
func publicationOrder(t *testing.T, path string) []int64 {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id FROM submissions WHERE published_seq > 0 ORDER BY published_seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
