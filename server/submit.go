package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"coldstart/grader"
	"coldstart/server/grading"
	"coldstart/server/store"
)

// maxPending bounds the submissions one user may have waiting.
const maxPending = 3

// submit stores an answer as a queued grading job and wakes a worker. The
// page then follows the job (stream.go).
func (s *Server) submit(c *gin.Context) {
	id := c.Param("id")
	ex := s.index.get(s.course.Course()).exercises[id]
	if ex == nil {
		s.fail(c, http.StatusNotFound, "No such exercise", "There is no exercise at this address.")
		return
	}
	body := []byte(c.Request.PostFormValue("body"))
	if len(body) == 0 {
		// A grid posted without script sends one field per cell.
		if f, err := s.grader.Form(grading.SpecOf(ex)); err == nil && f != nil {
			body, _ = grader.FormAnswerFromFields(c.Request.PostForm)
		}
	}
	if strings.TrimSpace(string(body)) == "" {
		s.fail(c, http.StatusBadRequest, "The answer is empty", "Write your answer in the editor, then submit it.")
		return
	}
	if len(body) > grader.MaxSubmissionBytes {
		s.fail(c, http.StatusRequestEntityTooLarge, "The answer is too long",
			fmt.Sprintf("Your answer is %d KiB; an answer may be at most %d KiB.", (len(body)+1023)>>10, grader.MaxSubmissionBytes>>10))
		return
	}
	u := currentUser(c)
	ctx := c.Request.Context()
	sub, err := s.store.SubmitLimited(ctx, u.ID, ex.ID, seedFor(u.ID, ex.ID), body, maxPending, s.cfg.QueueCap)
	switch {
	case errors.Is(err, store.ErrTooManyPending):
		s.fail(c, http.StatusTooManyRequests, "Answers are still being graded",
			fmt.Sprintf("You have %d answers waiting for their verdict. Wait for them before sending another.", maxPending))
		return
	case errors.Is(err, store.ErrQueueFull):
		c.Header("Retry-After", strconv.Itoa(int(s.queueWait(ctx).Seconds())))
		s.fail(c, http.StatusServiceUnavailable, "The graders are busy",
			fmt.Sprintf("The graders are busy — about %s. Your answer was not sent: keep it and send it again then.",
				waitWords(s.queueWait(ctx))))
		return
	case err != nil:
		s.internal(c, err)
		return
	}
	s.progress.forget(u.ID)
	if s.pool != nil {
		s.pool.Notify()
	}
	s.logger.InfoContext(ctx, "submission queued", slog.Int64("submission", sub.ID), slog.String("exercise", ex.ID), slog.Int64("user", u.ID))
	sid := strconv.FormatInt(sub.ID, 10)
	if wantsJSON(c) {
		c.JSON(http.StatusAccepted, gin.H{"id": sub.ID, "status": sub.Status,
			"events": "/submissions/" + sid + "/events", "result": "/submissions/" + sid + "/result"})
		return
	}
	c.Redirect(http.StatusSeeOther, "/exercises/"+ex.ID+"?s="+sid+"#result")
}

// submissionID reads the :id of a submission route.
func (s *Server) submissionID(c *gin.Context) (int64, bool) {
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || n <= 0 {
		s.fail(c, http.StatusNotFound, "No such attempt", "There is no attempt with this number.")
		return 0, false
	}
	return n, true
}

// submissionResult renders the result area of the exercise page for one
// submission; the page's script swaps it in after the verdict.
func (s *Server) submissionResult(c *gin.Context) {
	n, ok := s.submissionID(c)
	if !ok {
		return
	}
	sub, err := s.ownSubmission(c, n)
	if err != nil {
		return
	}
	ex := s.index.get(s.course.Course()).exercises[sub.Exercise]
	if ex == nil {
		s.fail(c, http.StatusNotFound, "No such exercise", "This attempt's exercise is no longer in the course.")
		return
	}
	rv, err := s.resultView(c, ex, sub)
	if err != nil {
		s.internal(c, err)
		return
	}
	subs, err := s.store.Submissions(c.Request.Context(), sub.UserID, sub.Exercise, historyLimit)
	if err != nil {
		s.internal(c, err)
		return
	}
	prog, err := s.userProgress(c.Request.Context(), sub.UserID)
	if err != nil {
		s.internal(c, err)
		return
	}
	s.renderFragment(c, "result-area", resultArea{Shown: rv, History: history(subs, sub), Stats: prog.Exercises[sub.Exercise]})
}

// submissionJSON returns the stored Result of a submission.
func (s *Server) submissionJSON(c *gin.Context) {
	n, ok := s.submissionID(c)
	if !ok {
		return
	}
	sub, err := s.ownSubmission(c, n)
	if err != nil {
		return
	}
	c.Header("Cache-Control", "no-store")
	out := gin.H{"id": sub.ID, "exercise": sub.Exercise, "status": sub.Status, "verdict": sub.Verdict,
		"score": sub.Score, "counted": sub.Counted, "created": sub.CreatedAt}
	if len(sub.Result) > 0 {
		out["result"] = jsonRaw(sub.Result)
	}
	c.JSON(http.StatusOK, out)
}

type jsonRaw []byte

func (j jsonRaw) MarshalJSON() ([]byte, error) { return j, nil }

// queueWait estimates how long the answers waiting now take to grade: the
// mean time of recent gradings, over the gradings that run at once.
func (s *Server) queueWait(ctx context.Context) time.Duration {
	q, err := s.store.Queue(ctx)
	if err != nil {
		return time.Minute
	}
	mean, err := s.store.RecentGradingTime(ctx, 50)
	if err != nil || mean <= 0 {
		mean = 20 * time.Second
	}
	capacity := 1
	if s.pool != nil {
		capacity = max(s.pool.Capacity(), 1)
	}
	return time.Duration(q.Queued+q.Running) * mean / time.Duration(capacity)
}

// waitWords says a wait in whole minutes.
func waitWords(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	if m <= 1 {
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", m)
}
