package server_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestQuizHintsBeforeTheKey answers the grid quiz of the test course (choice
// 0 is right, its explanation "Its row says yes."; choice 1 is wrong, "Its
// row says no.") and checks what each answer shows.
func TestQuizHintsBeforeTheKey(t *testing.T) {
	const right, wrong = "Its row says yes.", "Its row says no."
	tests := []struct {
		name      string
		visitor   bool
		answers   []string // choices, in order; the last one is checked
		try       string   // a visitor's count of tries
		want      []string
		wantNot   []string
		firstTry  int // the student's quiz questions right at the first try, on the progress page
		eventual  int
		progressQ bool
	}{
		{name: "WrongOnce", answers: []string{"1"},
			want:    []string{`"correct":false`, `"revealed":false`, wrong, "The note under your choice says why", "(1 try so far)"},
			wantNot: []string{right, `"correct":true`}, progressQ: true},
		{name: "WrongThrice", answers: []string{"1", "1", "1"},
			want:      []string{`"revealed":true`, right, wrong, "After 3 tries"},
			progressQ: true},
		{name: "RightAtOnce", answers: []string{"0"},
			want: []string{`"correct":true`, `"revealed":true`, right, "Right at the first try!"}, firstTry: 1, eventual: 1, progressQ: true},
		{name: "RightAtTheSecondTry", answers: []string{"1", "0"},
			want: []string{`"correct":true`, right, `"message":"Right!"`}, eventual: 1, progressQ: true},
		{name: "VisitorWrong", visitor: true, answers: []string{"1"}, try: "1",
			want: []string{`"revealed":false`, wrong, `"recorded":false`}, wantNot: []string{right}},
		{name: "VisitorThirdTry", visitor: true, answers: []string{"1"}, try: "3",
			want: []string{`"revealed":true`, right}},
		{name: "VisitorTryNonsense", visitor: true, answers: []string{"1"}, try: "-7; x",
			want: []string{`"revealed":false`}, wantNot: []string{right}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, false)
			c := h.client()
			if tt.visitor {
				c.get("/lessons/reading-grids")
			} else {
				c.signUp("a@example.com")
			}
			var body string
			for _, choice := range tt.answers {
				form := url.Values{"csrf": {c.csrf}, "choice": {choice}}
				if tt.try != "" {
					form.Set("try", tt.try)
				}
				r, b := c.post("/quiz/reading-grids/zero", form, "application/json")
				expect(t, r, b, 200)
				body = b
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("answer lacks %q:\n%s", w, body)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(body, w) {
					t.Errorf("answer gives away %q:\n%s", w, body)
				}
			}
			if tt.progressQ {
				tallies, err := h.store.QuizTallies(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				for _, tally := range tallies {
					if tally.FirstTry != tt.firstTry || tally.Eventually != tt.eventual {
						t.Errorf("tally %+v, want first try %d, eventually %d", tally, tt.firstTry, tt.eventual)
					}
				}
			}
		})
	}
}

// Without script the answer is a page; a wrong one does not mark the
// right choice.
func TestQuizPageWithoutScript(t *testing.T) {
	h := newHarness(t, false)
	c := h.client()
	c.signUp("a@example.com")
	resp, body := c.post("/quiz/reading-grids/zero", url.Values{"csrf": {c.csrf}, "choice": {"1"}}, "")
	expect(t, resp, body, 200, "Not quite", "Its row says no.", `href="/lessons/reading-grids#quiz-zero"`)
	if strings.Contains(body, "Its row says yes.") || strings.Contains(body, `class="right"`) {
		t.Fatalf("a wrong answer's page shows the right choice:\n%s", body)
	}
}
