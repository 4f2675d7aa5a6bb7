package store_test

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	_ "github.com/mattn/go-sqlite3"

	"coldstart/server/store"
)

func TestQuizFirstTryBesideEventual(t *testing.T) {
	tests := []struct {
		name                       string
		answers                    []bool
		latest, first, ever        bool
		tries                      int
		tallyFirstTry, tallyInTime int
	}{
		{"RightAtOnce", []bool{true}, true, true, true, 1, 1, 1},
		{"RightAtTheThirdTry", []bool{false, false, true}, true, false, true, 3, 0, 1},
		{"RightThenWrong", []bool{true, false}, false, true, true, 2, 1, 1},
		{"NeverRight", []bool{false, false}, false, false, false, 2, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := mustOpen(t)
			u := mustUser(t, s, "a@example.com")
			var got store.QuizAnswer
			for i, right := range tt.answers {
				var err error
				got, err = s.RecordQuiz(ctx, u.ID, "l/q1", []int{i}, right)
				if err != nil {
					t.Fatal(err)
				}
				if got.Tries != i+1 {
					t.Fatalf("after answer %d tries = %d", i+1, got.Tries)
				}
			}
			if got.Correct != tt.latest || got.FirstCorrect != tt.first || got.EverCorrect != tt.ever || got.Tries != tt.tries || !got.FirstKnown {
				t.Errorf("recorded %+v", got)
			}
			p, err := s.Progress(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if read := p.Quizzes["l/q1"]; read.FirstCorrect != tt.first || read.EverCorrect != tt.ever || read.Correct != tt.latest {
				t.Errorf("read back %+v", read)
			}
			tallies, err := s.QuizTallies(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := store.QuizTally{Answered: 1, FirstTry: tt.tallyFirstTry, Eventually: tt.tallyInTime}
			if tallies[u.ID] != want {
				t.Errorf("tally %+v, want %+v", tallies[u.ID], want)
			}
		})
	}
}

func TestAttemptNumbersPerStudentAndExercise(t *testing.T) {
	ctx := context.Background()
	s, _ := mustOpen(t)
	a := mustUser(t, s, "a@example.com")
	b := mustUser(t, s, "b@example.com")
	steps := []struct {
		user    int64
		ex      string
		attempt int
	}{
		{a.ID, "x", 1}, {b.ID, "x", 1}, {a.ID, "x", 2}, {a.ID, "y", 1}, {b.ID, "x", 2}, {a.ID, "x", 3},
	}
	for i, st := range steps {
		sub, err := s.CreateSubmission(ctx, st.user, st.ex, 1, []byte("{}"))
		if err != nil {
			t.Fatal(err)
		}
		if sub.Attempt != st.attempt {
			t.Errorf("step %d: attempt %d, want %d", i, sub.Attempt, st.attempt)
		}
		read, err := s.Submission(ctx, sub.ID)
		if err != nil || read.Attempt != st.attempt {
			t.Errorf("step %d: read back attempt %v (%v), want %d", i, read, err, st.attempt)
		}
	}
}

// TestMigrationKeepsOlderAnswers opens a database written before first
// tries and attempt numbers were kept: answers tried once keep their first
// try, others say it is unknown, and old submissions are numbered.
func TestMigrationKeepsOlderAnswers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coldstart.db")
	old := fstest.MapFS{}
	for _, name := range store.KnownMigrations() {
		if filepath.Base(name) >= "0010" {
			continue
		}
		b, err := fs.ReadFile(store.MigrationFS, name)
		if err != nil {
			t.Fatal(err)
		}
		old[name] = &fstest.MapFile{Data: b}
	}
	s := openWith(t, path, old)
	s.Close()

	// The account is written as the older schema had it: the store's own
	// code now writes columns later migrations add.
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.ExecContext(ctx, `INSERT INTO users (email, password_hash, role, created_at) VALUES ('a@example.com', x'00', 'student', 1)`)
	if err != nil {
		t.Fatal(err)
	}
	uid, err := res.LastInsertId()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO quiz_answers (user_id, quiz, choices, correct, tries, answered_at) VALUES (?, 'once-right', '[0]', 1, 1, 1)`,
		`INSERT INTO quiz_answers (user_id, quiz, choices, correct, tries, answered_at) VALUES (?, 'twice-right', '[0]', 1, 2, 1)`,
		`INSERT INTO quiz_answers (user_id, quiz, choices, correct, tries, answered_at) VALUES (?, 'once-wrong', '[1]', 0, 1, 1)`,
		`INSERT INTO submissions (user_id, exercise, seed, body, status, created_at) VALUES (?, 'x', 1, '{}', 'queued', 1)`,
		`INSERT INTO submissions (user_id, exercise, seed, body, status, created_at) VALUES (?, 'y', 1, '{}', 'queued', 1)`,
		`INSERT INTO submissions (user_id, exercise, seed, body, status, created_at) VALUES (?, 'x', 1, '{}', 'queued', 1)`,
	} {
		if _, err := db.ExecContext(ctx, q, uid); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err = store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Progress(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	for quiz, want := range map[string]store.QuizAnswer{
		"once-right":  {FirstKnown: true, FirstCorrect: true, EverCorrect: true},
		"twice-right": {FirstKnown: false, EverCorrect: true},
		"once-wrong":  {FirstKnown: true},
	} {
		got := p.Quizzes[quiz]
		if got.FirstKnown != want.FirstKnown || got.FirstCorrect != want.FirstCorrect || got.EverCorrect != want.EverCorrect {
			t.Errorf("%s: %+v, want %+v", quiz, got, want)
		}
	}
	if tallies, err := s.QuizTallies(ctx); err != nil || tallies[uid] != (store.QuizTally{Answered: 3, FirstTry: 1, Eventually: 2, FirstUnknown: 1}) {
		t.Errorf("tally %+v (%v)", tallies[uid], err)
	}
	subs, err := s.Submissions(ctx, uid, "x", 10)
	if err != nil || len(subs) != 2 || subs[0].Attempt != 2 || subs[1].Attempt != 1 {
		t.Fatalf("submissions to x after the upgrade: %v, %v", subs, err)
	}
	next, err := s.CreateSubmission(ctx, uid, "x", 1, []byte("{}"))
	if err != nil || next.Attempt != 3 {
		t.Fatalf("next attempt %v, %v", next, err)
	}
}
