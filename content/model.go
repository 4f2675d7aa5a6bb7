// Package content loads a course (a manifest, lessons in Markdown with front
// matter, and exercise folders) into an immutable in-memory model with the
// HTML already rendered.
package content

import (
	"html/template"
	"time"
)

// Course is a loaded course. It is never modified after loading: a reload
// builds a new Course.
type Course struct {
	Title       string
	Description string
	Modules     []*Module
	Lessons     []*Lesson   // in reading order
	Exercises   []*Exercise // in the order lessons lead to them, then by id
	LoadedAt    time.Time
	// Warnings are things an author should know that do not stop the
	// course from loading, such as an exercise no lesson leads to.
	Warnings Problems

	lessonBySlug map[string]*Lesson
	exerciseByID map[string]*Exercise
	quizByID     map[string]*Quiz
}

// Lesson returns the lesson with the given slug, or nil.
func (c *Course) Lesson(slug string) *Lesson { return c.lessonBySlug[slug] }

// Exercise returns the exercise with the given id, or nil.
func (c *Course) Exercise(id string) *Exercise { return c.exerciseByID[id] }

// Quiz returns the quiz with the given id ("<lesson>/<id>"), or nil.
func (c *Course) Quiz(id string) *Quiz { return c.quizByID[id] }

// Module is a titled group of lessons.
type Module struct {
	ID      string
	Title   string
	Lessons []*Lesson
}

// Lesson is one page of teaching prose.
type Lesson struct {
	Slug    string
	Title   string
	Summary string
	Minutes int
	Module  *Module
	// Exercises are the ids of the exercises this lesson leads to, in the
	// order its front matter lists them; Exercise is the first, if any.
	Exercises []string
	Exercise  string
	HTML      template.HTML
	TOC       []Heading
	Quizzes   []*Quiz
	Words     int
	Prev      *Lesson
	Next      *Lesson
	Source    string // path of the file inside the course directory
}

// Heading is an entry of a lesson's table of contents.
type Heading struct {
	Level int
	ID    string
	Text  string
}

// Quiz is an inline question in a lesson (a ```quiz fenced block).
type Quiz struct {
	ID           string // unique in the course: "<lesson>/<id or q1, q2…>"
	Question     string
	QuestionHTML template.HTML
	Multiple     bool // more than one choice is right
	Choices      []Choice
}

// Choice is one answer of a quiz, with why it is right or wrong.
type Choice struct {
	Text            string
	HTML            template.HTML
	Correct         bool
	Explanation     string
	ExplanationHTML template.HTML
}

// QuizResult is the feedback on one answer to a quiz.
type QuizResult struct {
	Correct bool
	// Choices holds, for every choice, whether it was selected, whether it
	// is right, and its explanation.
	Choices []ChoiceFeedback
}

// ChoiceFeedback is the feedback on one choice.
type ChoiceFeedback struct {
	Index           int
	Selected        bool
	Correct         bool
	ExplanationHTML template.HTML
}

// Grade judges a set of selected choice indexes: right when exactly the
// correct choices are selected.
func (q *Quiz) Grade(selected []int) QuizResult {
	sel := map[int]bool{}
	for _, i := range selected {
		if i >= 0 && i < len(q.Choices) {
			sel[i] = true
		}
	}
	res := QuizResult{Correct: len(sel) > 0}
	for i, c := range q.Choices {
		if sel[i] != c.Correct {
			res.Correct = false
		}
		res.Choices = append(res.Choices, ChoiceFeedback{Index: i, Selected: sel[i], Correct: c.Correct, ExplanationHTML: c.ExplanationHTML})
	}
	return res
}

// Exercise is a graded task, loaded from exercises/<id>/.
type Exercise struct {
	ID     string
	Title  string
	Kind   string // the grader kind: taskdef, iam, subnet, cloudrun, table…
	Points float64
	Lesson string // slug of the lesson that teaches it
	Lab    string
	// Params holds the ranges of per-student variants; Scenario the
	// requirements. Both are passed to the grader kind as they are.
	Params    map[string]any
	Scenario  map[string]any
	TimeLimit time.Duration

	PromptHTML template.HTML
	HintsHTML  template.HTML
	// Language of the answer: "json" or "yaml".
	Language     string
	Starter      string
	StarterName  string
	Solution     []byte
	SolutionName string
	Wrong        []WrongAnswer
	Dir          string // path of the folder inside the course directory
	// Extra holds front matter keys the loader keeps for other tools, such
	// as solutionSeed (an int64: the variant seed coldstart check grades the
	// reference solution with).
	Extra map[string]any
}

// SolutionSeed is the variant seed the reference solution and the
// known-wrong answers are graded with: solutionSeed in the front matter, or 0.
func (ex *Exercise) SolutionSeed() int64 {
	seed, _ := ex.Extra["solutionSeed"].(int64)
	return seed
}

// WrongAnswer is a known-wrong answer that must fail a named check.
type WrongAnswer struct {
	File  string // path inside the exercise folder
	Body  []byte
	Fails string // id of the check it must fail
	Why   string
}
