// Package jobs carries gradings between the web server and grader nodes
// over NATS JetStream: what a job message holds, the streams and subjects it
// travels on, and the node that takes jobs and grades them on its own
// container engine.
//
// The web server keeps the record (SQLite) and publishes each stored answer
// as a Job on a work-queue stream. A node takes it, asks the web server for
// a lease (a fencing token, new at every delivery), grades it, and publishes
// an Outcome carrying that lease on the results stream. The web server
// records an outcome only while its lease is the newest, so a node that was
// cut off and comes back late cannot record a second verdict.
package jobs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"coldstart/grader"
)

// Format is the version of the messages below. A node refuses a job of
// another format rather than misread it.
const Format = 1

// Subjects and streams.
const (
	JobsStream      = "COLDSTART_JOBS"
	JobsSubject     = "coldstart.jobs"
	ResultsStream   = "COLDSTART_RESULTS"
	ResultsSubject  = "coldstart.results"
	GradersConsumer = "graders"
	RecorderName    = "recorder"
	// ClaimSubject is the request a node sends before it grades; the web
	// server answers with a Lease.
	ClaimSubject = "coldstart.claim"
	// ReleaseSubject hands a claimed job back without an outcome (engine
	// down, node stopping): the attempt is not counted.
	ReleaseSubject = "coldstart.release"
	// HeartbeatSubject carries each node's Heartbeat.
	HeartbeatSubject = "coldstart.nodes.heartbeat"
	// PingSubject asks every node for a heartbeat now (a web server that
	// just started).
	PingSubject = "coldstart.nodes.ping"
	// progressPrefix + submission id carries a grading's Progress.
	progressPrefix = "coldstart.progress."
	// ProgressWildcard matches the progress of every submission.
	ProgressWildcard = progressPrefix + "*"
)

// ProgressSubject is where the progress of one submission is published.
func ProgressSubject(submission int64) string {
	return progressPrefix + strconv.FormatInt(submission, 10)
}

// Job is everything a node needs to grade one answer: it never reads
// course files.
type Job struct {
	Format     int   `json:"format"`
	Submission int64 `json:"submission"`
	// Generation is bumped each time the web server publishes the answer
	// again; a node's claim names it, so a duplicate message of an older
	// publication is dropped.
	Generation int64       `json:"generation"`
	Spec       grader.Spec `json:"spec"`
	// SpecHash is the SHA-256 of Spec as published, so a node can tell a
	// job mangled on the way from one it can grade.
	SpecHash string    `json:"specHash"`
	Seed     int64     `json:"seed"`
	Body     []byte    `json:"body"`
	Queued   time.Time `json:"queued"`
}

// HashSpec is the SpecHash of a spec.
func HashSpec(s grader.Spec) string {
	b, _ := json.Marshal(s)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Claim asks the web server for the right to grade a job.
type Claim struct {
	Submission int64  `json:"submission"`
	Generation int64  `json:"generation"`
	Node       string `json:"node"`
}

// Lease answers a Claim. OK false means the node drops the job: it was
// graded already, published again since, or failed too often (Reason).
type Lease struct {
	OK bool `json:"ok"`
	// Retry, with OK false, means the web server could not decide now
	// (its database is busy): the node hands the job back for later.
	Retry  bool   `json:"retry,omitempty"`
	Lease  int64  `json:"lease,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Release hands a leased job back without an outcome.
type Release struct {
	Submission int64  `json:"submission"`
	Lease      int64  `json:"lease"`
	Node       string `json:"node"`
	Reason     string `json:"reason"`
}

// Outcome is a finished grading.
type Outcome struct {
	Format     int            `json:"format"`
	Submission int64          `json:"submission"`
	Lease      int64          `json:"lease"`
	Node       string         `json:"node"`
	Result     *grader.Result `json:"result"`
	Took       time.Duration  `json:"took"`
}

// Progress is one step of a grading, relayed to the pages following it.
type Progress struct {
	Submission int64        `json:"submission"`
	Lease      int64        `json:"lease"`
	Event      grader.Event `json:"event"`
}

// EngineStarting is a Heartbeat's Engine while the node sweeps its engine
// or waits for the job stream.
const EngineStarting = "starting"

// Heartbeat says a node is alive and how busy it is.
type Heartbeat struct {
	Node    string    `json:"node"`
	Format  int       `json:"format"`
	Workers int       `json:"workers"`
	Busy    int       `json:"busy"`
	Graded  int64     `json:"graded"`
	Engine  string    `json:"engine"` // ok, EngineStarting, or why the engine does not answer
	Started time.Time `json:"started"`
	// Holding lists the submissions the node grades now, so that a job it
	// still works on is not given to another node when NATS delivers it
	// again (after a restart of NATS, say).
	Holding []int64 `json:"holding,omitempty"`
}
