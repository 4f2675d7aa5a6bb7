package content_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"coldstart/content"
)

func problemStrings(ps content.Problems) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// The broken fixture has one of nearly every mistake; each must be reported
// at its exact file and line, and nothing else.
func TestBrokenFixture(t *testing.T) {
	_, err := content.Load(os.DirFS("testdata/broken"))
	var ps content.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Load error = %v, want Problems", err)
	}
	want := []string{
		`course.yaml:2: unknown key "colour" (known keys: title, description, modules)`,
		`course.yaml:6: the lesson "missing": lessons/missing.md does not exist`,
		`course.yaml:6: the lesson "good" is listed twice (first on line 6)`,
		`exercises/grid/exercise.md:7: timeLimit must be a duration such as 30s or 1m, not "5 minutes"`,
		`exercises/grid/exercise.md:8: solution: exercises/grid/solution.json does not exist`,
		`exercises/grid/exercise.md:10: file: exercises/grid/wrong/nope.json does not exist`,
		`exercises/grid/exercise.md:12: the known-wrong answer wrong/present.json does not say which check it fails: add fails: <check id>`,
		`exercises/nofile: an exercise folder needs an exercise.md`,
		`lessons/bad-front.md:3: minutes must be a whole number, not the text "ten"`,
		`lessons/bad-front.md:4: unknown key "colour" (known keys: title, summary, minutes, exercise, exercises)`,
		`lessons/bad-quiz.md:6: a quiz needs at least 2 choices, this one has 1`,
		`lessons/bad-quiz.md:14: no choice is marked correct: true`,
		`lessons/bad-quiz.md:27: the choice "B" has no explanation; every choice says why it is right or wrong`,
		`lessons/bad-quiz.md:31: the quiz block is not valid YAML: did not find expected ',' or ']'`,
		`lessons/bad-quiz.md:36: unknown key "hint" (known keys: id, question, choices)`,
		`lessons/bad-quiz.md:39: correct must be true or false, not the text "yes please"`,
		`lessons/good.md:7: the link "nowhere.md" points to the lesson "nowhere", which is not in the course`,
		`lessons/good.md:7: the link "bad-front.md#no-such-heading" points to #no-such-heading, which is not a heading of lessons/bad-front.md`,
		`lessons/good.md:8: the link "#missing-here" points to #missing-here, which is not a heading of this page`,
		`lessons/good.md:8: the link "../exercises/ghost/" points to the exercise "ghost", which does not exist (there is no exercises/ghost/exercise.md)`,
		`lessons/stray.md: this lesson is not listed in course.yaml; add it to a module's lessons`,
	}
	got := problemStrings(ps)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

const manifestAB = "title: T\nmodules:\n  - id: m\n    title: M\n    lessons: [a, b]\n"

func TestValidation(t *testing.T) {
	lessonB := &fstest.MapFile{Data: []byte("---\ntitle: B\n---\nText.\n")}
	exercise := func(front string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("---\n" + front + "---\nPrompt.\n")}
	}
	tests := []struct {
		name  string
		files fstest.MapFS
		want  []string
	}{
		{
			name:  "no manifest",
			files: fstest.MapFS{"lessons/a.md": {Data: []byte("---\ntitle: A\n---\n")}},
			want: []string{
				"course.yaml: the course manifest is missing",
				"lessons/a.md: this lesson is not listed in course.yaml; add it to a module's lessons",
			},
		},
		{
			name:  "manifest is not YAML",
			files: fstest.MapFS{"course.yaml": {Data: []byte("title: T\nmodules: a: b\n")}},
			want:  []string{"course.yaml:2: the course manifest is not valid YAML: mapping values are not allowed in this context"},
		},
		{
			name:  "manifest of the wrong shape",
			files: fstest.MapFS{"course.yaml": {Data: []byte("title: [T]\nmodules:\n  - id: Bad Id\n    title: M\n    lessons: a\n  - just a string\n")}},
			want: []string{
				"course.yaml:1: title must be text, not a list",
				"course.yaml:1: the course has no title: add a title: line",
				`course.yaml:3: the module id "Bad Id" must be lower-case letters, digits and dashes`,
				"course.yaml:5: lessons must be a list, not the text \"a\"",
				"course.yaml:6: each module must have id, title and lessons",
			},
		},
		{
			name: "duplicate module ids",
			files: fstest.MapFS{
				"course.yaml":  {Data: []byte("title: T\nmodules:\n  - id: m\n    title: M\n    lessons: [a]\n  - id: m\n    title: N\n    lessons: [b]\n")},
				"lessons/a.md": {Data: []byte("---\ntitle: A\n---\n")},
				"lessons/b.md": lessonB,
			},
			want: []string{
				`course.yaml:6: the module id "m" is used twice (first on line 3)`,
				"lessons/b.md: this lesson is not listed in course.yaml; add it to a module's lessons",
			},
		},
		{
			name: "front matter never closed",
			files: fstest.MapFS{
				"course.yaml":  {Data: []byte(manifestAB)},
				"lessons/a.md": {Data: []byte("---\ntitle: A\n\nBody.\n")},
				"lessons/b.md": lessonB,
			},
			want: []string{"lessons/a.md:1: the front matter starts with --- but has no closing --- line"},
		},
		{
			name: "no front matter, key given twice, bad YAML in front matter",
			files: fstest.MapFS{
				"course.yaml":  {Data: []byte(manifestAB)},
				"lessons/a.md": {Data: []byte("# A\n\nBody.\n")},
				"lessons/b.md": {Data: []byte("---\ntitle: B\nsummary: x\ntitle: C\nminutes: 99999999999999999999999\n---\n")},
			},
			want: []string{
				"lessons/a.md:1: the lesson has no front matter: start it with ---, a title: line, and ---",
				"lessons/b.md:4: title is given twice (first on line 2)",
				"lessons/b.md:5: minutes must be a whole number, not 99999999999999999999999",
			},
		},
		{
			name: "huge and negative numbers",
			files: fstest.MapFS{
				"course.yaml":              {Data: []byte(manifestAB)},
				"lessons/a.md":             {Data: []byte("---\ntitle: A\nminutes: -3\n---\n")},
				"lessons/b.md":             lessonB,
				"exercises/ex/exercise.md": exercise("id: ex\ntitle: Ex\nkind: table\npoints: 1e300\n"),
			},
			want: []string{
				"exercises/ex/exercise.md:5: points must be between 0 and 1000, not 1e+300",
				"lessons/a.md:3: minutes must be between 1 and 600, not -3",
			},
		},
		{
			name: "lesson and exercise disagree",
			files: fstest.MapFS{
				"course.yaml":              {Data: []byte(manifestAB)},
				"lessons/a.md":             {Data: []byte("---\ntitle: A\nexercise: ex\n---\n")},
				"lessons/b.md":             lessonB,
				"exercises/ex/exercise.md": exercise("id: ex\ntitle: Ex\nkind: table\npoints: 1\nlesson: b\n"),
			},
			want: []string{`lessons/a.md: the lesson leads to the exercise "ex", but that exercise names the lesson "b"`},
		},
		{
			name: "exercise names a missing lesson, a wrong id and a shell command as kind",
			files: fstest.MapFS{
				"course.yaml":               {Data: []byte(manifestAB)},
				"lessons/a.md":              {Data: []byte("---\ntitle: A\n---\n")},
				"lessons/b.md":              lessonB,
				"exercises/ex/exercise.md":  exercise("id: ex\ntitle: Ex\nkind: table\npoints: 1\nlesson: nope\n"),
				"exercises/two/exercise.md": exercise("id: ex\ntitle: Two\nkind: \"table; rm -rf /\"\npoints: 1\n"),
			},
			want: []string{
				`exercises/ex/exercise.md:6: lesson: "nope" is not a lesson of the course`,
				`exercises/two/exercise.md:2: the id "ex" must be the folder's name, "two"`,
				`exercises/two/exercise.md:4: the kind "table; rm -rf /" must be lower-case letters, digits and dashes`,
			},
		},
		{
			name: "exercise files outside the folder or of the wrong type",
			files: fstest.MapFS{
				"course.yaml":              {Data: []byte(manifestAB)},
				"lessons/a.md":             {Data: []byte("---\ntitle: A\n---\n")},
				"lessons/b.md":             lessonB,
				"exercises/ex/exercise.md": exercise("id: ex\ntitle: Ex\nkind: table\npoints: 1\nstarter: ../../course.yaml\nsolution: solution.txt\nwrong:\n  - file: w.json\n    fails: Not A Check\n  - oops\n"),
				"exercises/ex/w.json":      {Data: []byte("{}")},
			},
			want: []string{
				`exercises/ex/exercise.md:6: starter must name a file inside the exercise folder, such as solution.json, not "../../course.yaml"`,
				`exercises/ex/exercise.md:7: solution "solution.txt" must be a .json or .yaml file`,
				`exercises/ex/exercise.md:10: fails must name a check id such as subnet.capacity, not "Not A Check"`,
				`exercises/ex/exercise.md:11: each known-wrong answer needs file: and fails: (the check it must fail)`,
			},
		},
		{
			name: "exercise without its required keys",
			files: fstest.MapFS{
				"course.yaml":              {Data: []byte(manifestAB)},
				"lessons/a.md":             {Data: []byte("---\ntitle: A\n---\n")},
				"lessons/b.md":             lessonB,
				"exercises/ex/exercise.md": exercise("id: ex\nsolutionSeed: many\n"),
			},
			want: []string{
				"exercises/ex/exercise.md:2: the exercise has no title: line in its front matter",
				"exercises/ex/exercise.md:2: the exercise has no kind: line in its front matter",
				"exercises/ex/exercise.md:2: the exercise has no points: line in its front matter",
				`exercises/ex/exercise.md:3: solutionSeed must be a whole number, not the text "many"`,
			},
		},
		{
			name: "quiz ids and places",
			files: fstest.MapFS{
				"course.yaml":              {Data: []byte(manifestAB)},
				"lessons/a.md":             {Data: []byte("---\ntitle: A\n---\n```quiz\nid: same\nquestion: Q\nchoices: [{text: a, correct: true, explanation: x}, {text: b, explanation: y}]\n```\n\n```quiz\nid: same\nquestion: Q\nchoices: [{text: a, correct: true, explanation: x}, {text: b, explanation: y}]\n```\n\n```quiz\nid: Not/Ok\nquestion: Q\nchoices: []\n```\n")},
				"lessons/b.md":             lessonB,
				"exercises/ex/exercise.md": {Data: []byte("---\nid: ex\ntitle: Ex\nkind: table\npoints: 1\n---\n```quiz\nquestion: Q\n```\n")},
			},
			want: []string{
				"exercises/ex/exercise.md:7: quiz blocks belong in lessons",
				`lessons/a.md:10: two quizzes have the id "same"; give each an id: line of its own`,
				`lessons/a.md:17: the quiz id "Not/Ok" must be lower-case letters, digits and dashes`,
			},
		},
		{
			name: "links that the server does not serve",
			files: fstest.MapFS{
				"course.yaml":  {Data: []byte(manifestAB)},
				"lessons/a.md": {Data: []byte("---\ntitle: A\n---\nSee ![a picture](diagram.png)\nand [the hints](../exercises/ex/hints.md).\n")},
				"lessons/b.md": lessonB,
			},
			want: []string{
				`lessons/a.md:4: the link "diagram.png" points to lessons/diagram.png, which the course does not serve; link to a lesson (other-lesson.md), an exercise (../exercises/<id>/) or a full URL`,
				`lessons/a.md:5: the link "../exercises/ex/hints.md" points to exercises/ex/hints.md, which the course does not serve; link to a lesson (other-lesson.md), an exercise (../exercises/<id>/) or a full URL`,
			},
		},
		{
			name: "style attributes the page's policy ignores",
			files: fstest.MapFS{
				"course.yaml": {Data: []byte(manifestAB)},
				"lessons/a.md": {Data: []byte("---\ntitle: A\n---\n<figure>\n<svg viewBox=\"0 0 10 10\">\n" +
					"<rect width=\"4\" height=\"4\" fill=\"var(--accent)\"/>\n<rect width=\"4\" height=\"4\" style=\"fill: var(--warn)\"/>\n" +
					"</svg>\n</figure>\n\nA <span style='color: red'>word</span>.\n\n```html\n<rect style=\"fill: red\"/>\n```\n")},
				"lessons/b.md": lessonB,
			},
			want: []string{
				`lessons/a.md:7: a style attribute in inline HTML is ignored by browsers, since the page allows no inline styles; write the property as an attribute instead, such as fill="var(--accent)" or stroke="var(--warn)"`,
				`lessons/a.md:11: a style attribute in inline HTML is ignored by browsers, since the page allows no inline styles; write the property as an attribute instead, such as fill="var(--accent)" or stroke="var(--warn)"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := content.Load(tt.files)
			var ps content.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Load error = %v, want Problems", err)
			}
			got := problemStrings(ps)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLoadMinimal(t *testing.T) {
	c, err := content.Load(os.DirFS("testdata/minimal"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Title != "A tiny course" || len(c.Modules) != 1 || len(c.Lessons) != 2 {
		t.Fatalf("course = %q, %d modules, %d lessons", c.Title, len(c.Modules), len(c.Lessons))
	}
	grids, reading := c.Lesson("grids"), c.Lesson("reading-grids")
	if grids.Next != reading || reading.Prev != grids || grids.Prev != nil || reading.Next != nil {
		t.Error("previous/next links are wrong")
	}
	if grids.Module != c.Modules[0] || grids.Minutes != 3 || grids.Summary == "" || grids.Exercise != "tiny-grid" {
		t.Errorf("grids = %+v", grids)
	}
	if len(reading.Quizzes) != 1 || reading.Quizzes[0].ID != "reading-grids/zero" || c.Quiz("reading-grids/zero") != reading.Quizzes[0] {
		t.Errorf("reading-grids quizzes = %+v", reading.Quizzes)
	}
	ex := c.Exercise("tiny-grid")
	if ex == nil {
		t.Fatal("no exercise tiny-grid")
	}
	if ex.Kind != "table" || ex.Points != 5 || ex.Lesson != "grids" || ex.TimeLimit.Seconds() != 10 {
		t.Errorf("exercise = %+v", ex)
	}
	if ex.Language != "json" || ex.StarterName != "starter.json" || !strings.Contains(ex.Starter, `"cloudrun"`) || ex.SolutionName != "solution.json" || len(ex.Solution) == 0 {
		t.Errorf("answer files: language %q starter %q solution %q", ex.Language, ex.StarterName, ex.SolutionName)
	}
	if ex.SolutionSeed() != 7 {
		t.Errorf("solution seed = %d, want 7", ex.SolutionSeed())
	}
	if len(ex.Wrong) != 2 || ex.Wrong[0].File != "wrong/missing-row.json" || ex.Wrong[0].Fails != "table.aci.scalesToZero" || len(ex.Wrong[1].Body) == 0 || ex.Wrong[1].Why == "" {
		t.Errorf("wrong answers = %+v", ex.Wrong)
	}
	if rows, ok := ex.Scenario["rows"].([]any); !ok || len(rows) != 2 {
		t.Errorf("scenario = %#v", ex.Scenario)
	}
	for name, html := range map[string]string{"prompt": string(ex.PromptHTML), "hints": string(ex.HintsHTML)} {
		if !strings.Contains(html, `href="/lessons/grids`) {
			t.Errorf("%s does not link back to the lesson: %s", name, html)
		}
	}
}
