package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"coldstart/server/store"
)

func hashOf(s string) []byte { b := make([]byte, 32); copy(b, s); return b }

// Sign-ups and setup-link uses racing on a fresh database, on real SQLite:
// the decision is taken inside each account's transaction.
func TestConcurrentSignUpsAndSetup(t *testing.T) {
	ctx := context.Background()
	const n = 8
	race := func(t *testing.T, s *store.Store, try func(i int) error) []error {
		t.Helper()
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); <-start; errs[i] = try(i) }()
		}
		close(start)
		wg.Wait()
		return errs
	}
	t.Run("ClosedRefusesEveryone", func(t *testing.T) {
		s, _ := mustOpen(t)
		for i, err := range race(t, s, func(i int) error {
			_, err := s.SignUp(ctx, fmt.Sprintf("u%d@example.com", i), []byte("h"), false)
			return err
		}) {
			if !errors.Is(err, store.ErrSignupClosed) {
				t.Errorf("sign-up %d: %v, want ErrSignupClosed", i, err)
			}
		}
		if users, _ := s.Users(ctx); len(users) != 0 {
			t.Fatalf("%d accounts on a closed server", len(users))
		}
	})
	t.Run("OpenMakesStudentsOnly", func(t *testing.T) {
		s, _ := mustOpen(t)
		for i, err := range race(t, s, func(i int) error {
			_, err := s.SignUp(ctx, fmt.Sprintf("u%d@example.com", i), []byte("h"), true)
			return err
		}) {
			if err != nil {
				t.Errorf("sign-up %d: %v", i, err)
			}
		}
		if has, _ := s.HasAdmin(ctx); has {
			t.Fatal("a visitor became admin")
		}
	})
	t.Run("SameEmailOnce", func(t *testing.T) {
		s, _ := mustOpen(t)
		ok := 0
		for _, err := range race(t, s, func(int) error {
			_, err := s.SignUp(ctx, "same@example.com", []byte("h"), true)
			return err
		}) {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrEmailTaken):
				t.Errorf("unexpected error %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d accounts for one email", ok)
		}
	})
	t.Run("SetupLinkMakesOneAdmin", func(t *testing.T) {
		s, _ := mustOpen(t)
		if made, err := s.SetupLink(ctx, hashOf("setup")); err != nil || !made {
			t.Fatalf("setup link: %v %v", made, err)
		}
		ok := 0
		for _, err := range race(t, s, func(i int) error {
			_, err := s.UseLink(ctx, hashOf("setup"), store.LinkSetup, []byte("h"), store.NewAccount{Email: fmt.Sprintf("a%d@example.com", i)})
			return err
		}) {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrLinkInvalid):
				t.Errorf("unexpected error %v", err)
			}
		}
		admins, _ := s.FindUsers(ctx, store.UserFilter{Role: store.RoleAdmin})
		if ok != 1 || len(admins) != 1 {
			t.Fatalf("%d uses succeeded, %d admins; want 1 and 1", ok, len(admins))
		}
	})
}

func TestLinks(t *testing.T) {
	ctx := context.Background()
	s, _ := mustOpen(t)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	admin := store.Actor{ID: 0, Email: "ops@example.com"}
	u, err := s.Invite(ctx, admin, store.NewAccount{Email: "inv@example.com", Role: store.RoleInstructor}, hashOf("inv"))
	if err != nil {
		t.Fatal(err)
	}
	if !u.Invited() || u.Role != store.RoleInstructor {
		t.Fatalf("invited account %+v", u)
	}
	if _, err := s.PeekLink(ctx, hashOf("inv"), store.LinkReset); !errors.Is(err, store.ErrLinkInvalid) {
		t.Fatalf("an invitation read as a reset link: %v", err)
	}
	now = now.Add(store.InviteTTL + time.Second)
	if _, err := s.UseLink(ctx, hashOf("inv"), store.LinkInvite, []byte("h"), store.NewAccount{}); !errors.Is(err, store.ErrLinkInvalid) {
		t.Fatalf("expired invitation: %v", err)
	}
	if err := s.Reinvite(ctx, admin, u.ID, hashOf("inv2")); err != nil {
		t.Fatal(err)
	}
	got, err := s.UseLink(ctx, hashOf("inv2"), store.LinkInvite, []byte("hash"), store.NewAccount{Name: "Ines"})
	if err != nil || got.Invited() || got.Name != "Ines" {
		t.Fatalf("use invitation: %+v %v", got, err)
	}
	if _, err := s.UseLink(ctx, hashOf("inv2"), store.LinkInvite, []byte("x"), store.NewAccount{}); !errors.Is(err, store.ErrLinkInvalid) {
		t.Fatalf("second use: %v", err)
	}
	if err := s.CreateSession(ctx, u.ID, hashOf("sess"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.ResetLink(ctx, admin, u.ID, hashOf("r1")); err != nil {
		t.Fatal(err)
	}
	if err := s.ResetLink(ctx, admin, u.ID, hashOf("r2")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PeekLink(ctx, hashOf("r1"), store.LinkReset); !errors.Is(err, store.ErrLinkInvalid) {
		t.Fatalf("an older reset link still works: %v", err)
	}
	if _, err := s.UseLink(ctx, hashOf("r2"), store.LinkReset, []byte("new"), store.NewAccount{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SessionUser(ctx, hashOf("sess"), 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a session survived the reset: %v", err)
	}
	t.Run("LastAdmin", func(t *testing.T) {
		a, _ := s.CreateUser(ctx, "boss@example.com", []byte("h"))
		if err := s.ChangeRole(ctx, admin, a.ID, store.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		if err := s.SetActive(ctx, admin, a.ID, false); !errors.Is(err, store.ErrLastAdmin) {
			t.Fatalf("deactivating the last admin: %v", err)
		}
		if err := s.ChangeRole(ctx, admin, a.ID, store.RoleStudent); !errors.Is(err, store.ErrLastAdmin) {
			t.Fatalf("demoting the last admin: %v", err)
		}
	})
	t.Run("DeactivatedSessionAndLinks", func(t *testing.T) {
		if err := s.CreateSession(ctx, u.ID, hashOf("s2"), now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.ResetLink(ctx, admin, u.ID, hashOf("r3")); err != nil {
			t.Fatal(err)
		}
		if err := s.SetActive(ctx, admin, u.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionUser(ctx, hashOf("s2"), 0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("session of a deactivated account: %v", err)
		}
		if _, err := s.PeekLink(ctx, hashOf("r3"), store.LinkReset); !errors.Is(err, store.ErrLinkInvalid) {
			t.Fatalf("reset link of a deactivated account: %v", err)
		}
		list, _ := s.FindUsers(ctx, store.UserFilter{Status: "deactivated"})
		if len(list) != 1 || list[0].ID != u.ID {
			t.Fatalf("deactivated filter: %v", list)
		}
	})
	log, _ := s.AuditLog(ctx, "", 0)
	if len(log) < 6 || log[0].ID < log[len(log)-1].ID {
		t.Fatalf("audit log %+v", log)
	}
}
