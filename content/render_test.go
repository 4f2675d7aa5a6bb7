package content_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"coldstart/content"
)

// courseWith returns a course directory with the lesson "a" holding body,
// a second lesson "b" with a heading to link to, and an exercise "ex".
func courseWith(body string) fstest.MapFS {
	return fstest.MapFS{
		"course.yaml":              {Data: []byte("title: T\nmodules:\n  - id: m\n    title: M\n    lessons: [a, b]\n")},
		"lessons/a.md":             {Data: []byte("---\ntitle: A\n---\n" + body)},
		"lessons/b.md":             {Data: []byte("---\ntitle: B\n---\n## Far away\n\ntext\n")},
		"exercises/ex/exercise.md": {Data: []byte("---\nid: ex\ntitle: Ex\nkind: table\npoints: 1\n---\nDo it.\n")},
	}
}

func loadLesson(t *testing.T, body string) *content.Lesson {
	t.Helper()
	c, err := content.Load(courseWith(body))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return c.Lesson("a")
}

func TestRender(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    []string
		notWant []string
	}{
		{
			name: "heading anchors",
			body: "## Task sizes\n\ntext\n\n### CPU and `memory`\n",
			want: []string{
				`<h2 id="task-sizes"><a class="anchor" href="#task-sizes" aria-hidden="true" tabindex="-1">#</a>Task sizes</h2>`,
				`<h3 id="cpu-and-memory"><a class="anchor" href="#cpu-and-memory"`,
				`CPU and <code>memory</code></h3>`,
			},
		},
		{
			name: "explicit heading id",
			body: "## Long title {#short}\n",
			want: []string{`<h2 id="short"><a class="anchor" href="#short"`},
		},
		{
			name: "note call-out",
			body: "> [!NOTE]\n> Tasks bill **per second**.\n",
			want: []string{
				`<aside class="callout note" role="note"><p class="callout-title">Note</p>`,
				`<p>Tasks bill <strong>per second</strong>.</p>`,
				`</aside>`,
			},
			notWant: []string{"[!NOTE]", "<blockquote>"},
		},
		{
			name: "warning call-out with its own paragraphs",
			body: "> [!WARNING]\n>\n> One.\n>\n> Two.\n",
			want: []string{`<aside class="callout warning" role="note"><p class="callout-title">Warning</p>`, "<p>One.</p>", "<p>Two.</p>"},
		},
		{
			name: "tip and important",
			body: "> [!TIP]\n> a\n\n> [!IMPORTANT]\n> b\n",
			want: []string{`class="callout tip"`, `<p class="callout-title">Tip</p>`, `class="callout important"`, `<p class="callout-title">Important</p>`},
		},
		{
			name:    "plain block quote stays a quote",
			body:    "> Just a quote.\n",
			want:    []string{"<blockquote>\n<p>Just a quote.</p>\n</blockquote>"},
			notWant: []string{"callout"},
		},
		{
			name: "table",
			body: "| size | memory |\n|---|---:|\n| 256 | 512 |\n",
			want: []string{"<table>", "<th>size</th>", `<th style="text-align:right">memory</th>`, "<td>256</td>"},
		},
		{
			name:    "highlighted code uses classes",
			body:    "```go\nfunc main() {}\n```\n",
			want:    []string{`<pre class="chroma"><code>`, `<span class="kd">func</span>`},
			notWant: []string{"style="},
		},
		{
			name: "links between lessons and to exercises",
			body: "[b](b.md) [far](b.md#far-away) [ex](../exercises/ex/) [web](https://cloud.google.com/run) [abs](/progress)\n",
			want: []string{
				`<a href="/lessons/b">b</a>`,
				`<a href="/lessons/b#far-away">far</a>`,
				`<a href="/exercises/ex">ex</a>`,
				`<a href="https://cloud.google.com/run">web</a>`,
				`<a href="/progress">abs</a>`,
			},
		},
		{
			name: "raw HTML figure",
			body: "<figure><svg viewBox=\"0 0 10 10\"><circle cx=\"5\" cy=\"5\" r=\"4\"/></svg><figcaption>A dot.</figcaption></figure>\n",
			want: []string{`<figure><svg viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg><figcaption>A dot.</figcaption></figure>`},
		},
		{
			name: "single-answer quiz",
			body: "```quiz\nid: zero\nquestion: Which scales to *zero*?\nchoices:\n  - text: Cloud Run\n    correct: true\n    explanation: SECRET-RIGHT\n  - text: \"`ACI`\"\n    explanation: SECRET-WRONG\n```\n",
			want: []string{
				`<form class="quiz" id="quiz-zero" data-quiz="a/zero" method="post" action="/quiz/a/zero">`,
				`<fieldset>`,
				`<legend>Which scales to <em>zero</em>?</legend>`,
				`<label><input type="radio" name="choice" value="0"> Cloud Run</label>`,
				`<label><input type="radio" name="choice" value="1"> <code>ACI</code></label>`,
				`<button type="submit">`,
				`<div class="quiz-feedback" aria-live="polite"></div>`,
			},
			notWant: []string{"SECRET", "correct", "<pre"},
		},
		{
			name: "multiple-answer quiz gets checkboxes and a default id",
			body: "```quiz\nquestion: Which bill per second?\nchoices:\n  - text: Fargate\n    correct: true\n    explanation: yes\n  - text: Cloud Run\n    correct: true\n    explanation: yes\n  - text: Neither\n    explanation: no\n```\n",
			want: []string{`id="quiz-q1" data-quiz="a/q1"`, `<input type="checkbox" name="choice" value="2"> Neither`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			html := string(loadLesson(t, tt.body).HTML)
			for _, w := range tt.want {
				if !strings.Contains(html, w) {
					t.Errorf("missing %s\nin:\n%s", w, html)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(html, w) {
					t.Errorf("should not contain %s\nin:\n%s", w, html)
				}
			}
		})
	}
}

func TestTOC(t *testing.T) {
	l := loadLesson(t, "# Top\n\n## One\n\n### One `a`\n\n#### Deep\n\n## Two\n")
	want := []content.Heading{{Level: 2, ID: "one", Text: "One"}, {Level: 3, ID: "one-a", Text: "One a"}, {Level: 2, ID: "two", Text: "Two"}}
	if len(l.TOC) != len(want) {
		t.Fatalf("TOC = %+v, want %+v", l.TOC, want)
	}
	for i := range want {
		if l.TOC[i] != want[i] {
			t.Errorf("TOC[%d] = %+v, want %+v", i, l.TOC[i], want[i])
		}
	}
}

func TestWords(t *testing.T) {
	tests := []struct {
		name string
		body string
		want int
	}{
		{"prose", "One two three.\n\nFour — five.\n", 5},
		{"headings and lists count", "## Two words\n\n- three\n- four\n", 4},
		{"code blocks do not", "One.\n\n```go\nfunc main() { fmt.Println(\"many words here\") }\n```\n\n    indented code too\n", 1},
		{"quizzes do not", "One.\n\n```quiz\nquestion: Lots of words in a question?\nchoices:\n  - text: a b c\n    correct: true\n    explanation: d e f\n  - text: g h\n    explanation: i j\n```\n", 1},
		{"figures do not", "One.\n\n<figure><svg><text>label words</text></svg><figcaption>caption words</figcaption></figure>\n", 1},
		{"call-out markers do not", "> [!NOTE]\n> Two words.\n", 2},
		{"table cells count", "| a | b |\n|---|---|\n| c | — |\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadLesson(t, tt.body).Words; got != tt.want {
				t.Errorf("Words = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestQuizModel(t *testing.T) {
	l := loadLesson(t, "```quiz\nquestion: Q?\nchoices:\n  - text: A\n    correct: true\n    explanation: \"**Yes**: right.\"\n  - text: B\n    explanation: No.\n```\n\n```quiz\nid: second\nquestion: Q2?\nchoices:\n  - text: A\n    explanation: no\n  - text: B\n    correct: true\n    explanation: yes\n```\n")
	if len(l.Quizzes) != 2 {
		t.Fatalf("%d quizzes, want 2", len(l.Quizzes))
	}
	q := l.Quizzes[0]
	if q.ID != "a/q1" || q.Multiple || q.Question != "Q?" || len(q.Choices) != 2 {
		t.Errorf("first quiz = %+v", q)
	}
	if got := string(q.Choices[0].ExplanationHTML); got != "<strong>Yes</strong>: right." {
		t.Errorf("explanation HTML = %q", got)
	}
	if l.Quizzes[1].ID != "a/second" {
		t.Errorf("second quiz id = %q", l.Quizzes[1].ID)
	}
	if r := q.Grade([]int{0}); !r.Correct {
		t.Errorf("choice 0 should be right: %+v", r)
	}
	if r := q.Grade([]int{1}); r.Correct || string(r.Choices[1].ExplanationHTML) != "No." {
		t.Errorf("choice 1 should be wrong with its explanation: %+v", r)
	}
}

// FuzzLesson feeds arbitrary lesson text to the loader: whatever an author
// saves, loading reports problems and never panics.
func FuzzLesson(f *testing.F) {
	for _, seed := range []string{
		"## H\n\n> [!NOTE]\n> x\n",
		"```quiz\nquestion: q\nchoices: [{text: a, correct: true, explanation: b}, {text: c, explanation: d}]\n```\n",
		"```quiz\n- [\n```\n",
		"[x](../exercises/ex/) [y](b.md#far-away) [z](#nowhere) [w](%zz)\n",
		"> [!WARNING]\n",
		"---\ntitle: [\n---\n",
		"## A {#b}\n## A {#b}\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		c, ps := content.Inspect(courseWith(body))
		if c == nil {
			t.Fatal("Inspect returned no course")
		}
		for _, p := range ps {
			if p.File == "" || p.Message == "" {
				t.Errorf("problem without a file or message: %+v", p)
			}
		}
	})
}
