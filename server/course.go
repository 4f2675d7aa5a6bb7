package server

import (
	"html/template"
	"strings"
	"sync/atomic"

	"coldstart/content"
)

// CourseSource gives the course to serve. With --watch it is a watcher that
// keeps the last good course and the current load problem.
type CourseSource interface {
	Course() *content.Course
	// Err is the problem of the latest reload, or nil.
	Err() error
}

// Subscriber is a CourseSource that reports reloads; pages then reload.
type Subscriber interface {
	Subscribe() (<-chan struct{}, func())
}

// StaticCourse is a course loaded once.
type StaticCourse struct{ C *content.Course }

// Course returns the course.
func (s StaticCourse) Course() *content.Course { return s.C }

// Err is always nil.
func (s StaticCourse) Err() error { return nil }

// courseIndex holds lookups and pre-split page parts of one course. It is
// built once per loaded course and shared by every request.
type courseIndex struct {
	course     *content.Course
	lessons    map[string]*content.Lesson
	exercises  map[string]*content.Exercise
	quizzes    map[string]*content.Quiz
	quizLesson map[string]*content.Lesson
	// lessonExercise maps a lesson slug to the exercise it leads to, and
	// lessonExercises to all of them, in the order the lesson lists them.
	lessonExercise  map[string]*content.Exercise
	lessonExercises map[string][]*content.Exercise
	// parts is each lesson's HTML cut after every quiz form's opening
	// tag, where the page inserts the CSRF field.
	parts map[string][]template.HTML
	// pages caches rendered lesson pages (pagecache.go).
	pages pageCache
}

func newCourseIndex(c *content.Course) *courseIndex {
	ix := &courseIndex{course: c, lessons: map[string]*content.Lesson{}, exercises: map[string]*content.Exercise{},
		quizzes: map[string]*content.Quiz{}, quizLesson: map[string]*content.Lesson{},
		lessonExercise: map[string]*content.Exercise{}, parts: map[string][]template.HTML{}}
	if c == nil {
		return ix
	}
	for _, ex := range c.Exercises {
		ix.exercises[ex.ID] = ex
	}
	for _, l := range c.Lessons {
		ix.lessons[l.Slug] = l
		for _, q := range l.Quizzes {
			ix.quizzes[q.ID] = q
			ix.quizLesson[q.ID] = l
		}
		if ex := ix.exercises[l.Exercise]; ex != nil {
			ix.lessonExercise[l.Slug] = ex
		}
		ix.parts[l.Slug] = splitQuizForms(string(scrollTables(l.HTML)))
	}
	for _, ex := range c.Exercises {
		if _, ok := ix.lessonExercise[ex.Lesson]; !ok && ex.Lesson != "" {
			ix.lessonExercise[ex.Lesson] = ex
		}
	}
	ix.lessonExercises = map[string][]*content.Exercise{}
	for _, l := range c.Lessons {
		for _, id := range l.Exercises {
			if ex := ix.exercises[id]; ex != nil {
				ix.lessonExercises[l.Slug] = append(ix.lessonExercises[l.Slug], ex)
			}
		}
		if ex := ix.lessonExercise[l.Slug]; ex != nil && len(ix.lessonExercises[l.Slug]) == 0 {
			ix.lessonExercises[l.Slug] = []*content.Exercise{ex}
		}
	}
	return ix
}

// splitQuizForms cuts html right after the opening tag of every quiz form.
func splitQuizForms(html string) []template.HTML {
	var parts []template.HTML
	for {
		i := strings.Index(html, `<form class="quiz"`)
		if i < 0 {
			break
		}
		end := strings.IndexByte(html[i:], '>')
		if end < 0 {
			break
		}
		cut := i + end + 1
		parts = append(parts, template.HTML(html[:cut]))
		html = html[cut:]
	}
	return append(parts, template.HTML(html))
}

// indexCache keeps the index of the course currently served.
type indexCache struct{ p atomic.Pointer[courseIndex] }

func (c *indexCache) get(course *content.Course) *courseIndex {
	if ix := c.p.Load(); ix != nil && ix.course == course {
		return ix
	}
	ix := newCourseIndex(course)
	c.p.Store(ix)
	return ix
}
