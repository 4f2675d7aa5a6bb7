package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"coldstart/server/store"
)

func TestGroupsDueDatesAndGradebook(t *testing.T) {
	ctx := context.Background()
	s, _ := mustOpen(t)
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	by := store.Actor{Email: "teacher@example.com"}
	g, err := s.CreateGroup(ctx, by, " Spring ", "join1", time.Time{})
	if err != nil || g.Name != "Spring" {
		t.Fatalf("group %+v %v", g, err)
	}
	if _, err := s.CreateGroup(ctx, by, "SPRING", "join2", time.Time{}); !errors.Is(err, store.ErrGroupTaken) {
		t.Fatalf("same name again: %v", err)
	}
	if _, err := s.CreateGroup(ctx, by, "  ", "join3", time.Time{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("empty name: %v", err)
	}
	if found, err := s.GroupByJoinToken(ctx, "join1"); err != nil || found.ID != g.ID {
		t.Fatalf("by join token: %v %v", found, err)
	}
	due := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	if err := s.SetDeadline(ctx, by, g.ID, "ex1", due); err != nil {
		t.Fatal(err)
	}
	a, b, out := mustUser(t, s, "a@example.com"), mustUser(t, s, "b@example.com"), mustUser(t, s, "out@example.com")
	for _, u := range []*store.User{a, b} {
		if err := s.SetUserGroup(ctx, store.ActorOf(u), u.ID, g.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.GrantExtension(ctx, by, b.ID, "ex1", due.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.DueDates(ctx, a.ID); !d["ex1"].Equal(due) {
		t.Fatalf("a's due dates %v", d)
	}
	if d, _ := s.DueDates(ctx, b.ID); !d["ex1"].Equal(due.Add(24 * time.Hour)) {
		t.Fatalf("b's due dates %v: the extension must win", d)
	}
	if d, _ := s.DueDates(ctx, out.ID); len(d) != 0 {
		t.Fatalf("a student in no group has due dates %v", d)
	}
	now = due.Add(time.Hour) // both answer an hour after the group's due date
	for _, u := range []*store.User{a, b, out} {
		graded(t, s, u.ID, "ex1", "pass", "")
	}
	rows, err := s.Gradebook(ctx, store.GradebookQuery{Exercises: []string{"ex1"}})
	if err != nil {
		t.Fatal(err)
	}
	late := map[string]int{}
	for _, r := range rows {
		late[r.Email] = r.Exercises["ex1"].Late
		if r.Exercises["ex1"].Attempts != 1 {
			t.Errorf("%s attempts %d", r.Email, r.Exercises["ex1"].Attempts)
		}
	}
	if late["a@example.com"] != 1 || late["b@example.com"] != 0 || late["out@example.com"] != 0 {
		t.Fatalf("late attempts %v: want a late, b within the extension, out without a due date", late)
	}
	if rows, _ := s.Gradebook(ctx, store.GradebookQuery{GroupID: g.ID, Exercises: []string{"ex1"}}); len(rows) != 2 {
		t.Fatalf("group gradebook has %d rows, want 2", len(rows))
	}
	if err := s.SetDeadline(ctx, by, g.ID, "ex1", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Deadlines(ctx, g.ID); len(d) != 0 {
		t.Fatalf("removed due date still there: %v", d)
	}
	log, _ := s.AuditLog(ctx, "", 0)
	seen := map[string]bool{}
	for _, e := range log {
		seen[e.Action] = true
	}
	for _, want := range []string{store.AuditGroupCreate, store.AuditGroupJoin, store.AuditDeadline, store.AuditExtension} {
		if !seen[want] {
			t.Errorf("no %s in the audit log", want)
		}
	}
}

func TestCertificatesStore(t *testing.T) {
	ctx := context.Background()
	s, _ := mustOpen(t)
	u := mustUser(t, s, "c@example.com")
	c1, err := s.IssueCertificate(ctx, store.Certificate{Code: "code1", UserID: u.ID, Name: "C", Course: "Course",
		Scores: []store.CertificateScore{{Exercise: "ex1", Title: "Ex", Score: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := s.IssueCertificate(ctx, store.Certificate{Code: "code2", UserID: u.ID, Name: "C", Course: "Course"})
	if err != nil || c2.Code != "code1" || len(c2.Scores) != 1 {
		t.Fatalf("second issue %+v %v: want the first certificate", c2, err)
	}
	if got, err := s.CertificateByCode(ctx, c1.Code); err != nil || got.UserID != u.ID {
		t.Fatalf("by code %+v %v", got, err)
	}
	if _, err := s.CertificateByCode(ctx, "code2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused code exists: %v", err)
	}
}
