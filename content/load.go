package content

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// ManifestFile is the course manifest at the top of a course directory.
const ManifestFile = "course.yaml"

// maxFileBytes bounds any one file of a course; a lesson is a few dozen KiB.
const maxFileBytes = 4 << 20

// Load reads and renders the course in fsys: course.yaml, lessons/<slug>.md
// and exercises/<id>/. When anything is wrong it returns no course and a
// Problems error listing every problem as file:line: message.
func Load(fsys fs.FS, opts ...Option) (*Course, error) {
	c, ps := Inspect(fsys, opts...)
	if len(ps) > 0 {
		return nil, ps
	}
	return c, nil
}

// Inspect loads as much of the course in fsys as it can and returns it with
// every problem found. The course is never nil; with problems it may lack
// the lessons and exercises that could not be read. Load is Inspect for
// callers that want a course only when it has no problem at all.
func Inspect(fsys fs.FS, opts ...Option) (*Course, Problems) {
	l := &loader{fsys: fsys, anchors: map[string]map[string]bool{}, lessonLine: map[string]int{}, broken: map[string]bool{}}
	for _, o := range opts {
		o(l)
	}
	c := l.load()
	return c, l.p.list.sorted()
}

type loader struct {
	fsys    fs.FS
	p       problems
	links   []linkRef
	anchors map[string]map[string]bool // file → heading ids
	// lessonLine is the line of each exercise's lesson: key.
	lessonLine map[string]int
	// broken holds the ids of exercise folders that exist but have
	// problems, so links to them are not reported a second time.
	broken map[string]bool
	// kinds, when set, checks each exercise against its kind.
	kinds KindChecker
}

func (l *loader) load() *Course {
	c := &Course{LoadedAt: time.Now(), lessonBySlug: map[string]*Lesson{}, exerciseByID: map[string]*Exercise{}, quizByID: map[string]*Quiz{}}
	m := l.manifest()
	c.Title, c.Description = m.title, m.description

	listed := map[string]int{} // slug → manifest line
	for _, mm := range m.modules {
		mod := &Module{ID: mm.id, Title: mm.title}
		for _, ref := range mm.lessons {
			if prev, dup := listed[ref.slug]; dup {
				l.p.add(ManifestFile, ref.line, "the lesson %q is listed twice (first on line %d)", ref.slug, prev)
				continue
			}
			listed[ref.slug] = ref.line
			lesson := l.lesson(ref.slug, ref.line)
			if lesson == nil {
				continue
			}
			lesson.Module = mod
			mod.Lessons = append(mod.Lessons, lesson)
			c.Lessons = append(c.Lessons, lesson)
			c.lessonBySlug[lesson.Slug] = lesson
			for _, q := range lesson.Quizzes {
				c.quizByID[q.ID] = q
			}
		}
		c.Modules = append(c.Modules, mod)
	}
	l.unlisted(listed)

	for _, ex := range l.exercises() {
		c.exerciseByID[ex.ID] = ex
		c.Exercises = append(c.Exercises, ex)
	}
	l.crossCheck(c)
	for i, lesson := range c.Lessons {
		if i > 0 {
			lesson.Prev = c.Lessons[i-1]
		}
		if i+1 < len(c.Lessons) {
			lesson.Next = c.Lessons[i+1]
		}
	}
	c.Exercises = exerciseOrder(c)
	return c
}

// readFile reads one course file, bounded in size.
func (l *loader) readFile(name string) ([]byte, error) {
	info, err := fs.Stat(l.fsys, name)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a file", name)
	}
	if info.Size() > maxFileBytes {
		return nil, fmt.Errorf("the file is %d MiB; a course file may be at most %d MiB", info.Size()>>20, maxFileBytes>>20)
	}
	return fs.ReadFile(l.fsys, name)
}

// fileProblem reports a file that could not be read, in plain words.
func (l *loader) fileProblem(file string, line int, at string, what string, err error) {
	if errors.Is(err, fs.ErrNotExist) {
		if at != "" {
			l.p.add(at, line, "%s: %s does not exist", what, file)
		} else {
			l.p.add(file, 0, "%s is missing", what)
		}
		return
	}
	l.p.add(file, 0, "cannot be read: %v", err)
}

type manifest struct {
	title, description string
	modules            []manifestModule
}

type manifestModule struct {
	id, title string
	lessons   []lessonRef
}

type lessonRef struct {
	slug string
	line int
}

func (l *loader) manifest() manifest {
	var m manifest
	src, err := l.readFile(ManifestFile)
	if err != nil {
		l.fileProblem(ManifestFile, 0, "", "the course manifest", err)
		return m
	}
	root := parseYAML(ManifestFile, 0, src, "course manifest", &l.p)
	if root == nil {
		return m
	}
	f := fields{file: ManifestFile, p: &l.p}
	haveModules := false
	for _, e := range f.entries(root) {
		switch e.Key {
		case "title":
			m.title, _ = f.text(e)
		case "description":
			m.description, _ = f.text(e)
		case "modules":
			haveModules = true
			items, ok := f.list(e)
			if !ok {
				continue
			}
			ids := map[string]int{}
			for _, item := range items {
				mm, ok := l.module(f, item)
				if !ok {
					continue
				}
				if prev, dup := ids[mm.id]; dup {
					f.problem(item, "the module id %q is used twice (first on line %d)", mm.id, prev)
					continue
				}
				ids[mm.id] = f.line(item)
				m.modules = append(m.modules, mm)
			}
		default:
			f.unknown(e, "title", "description", "modules")
		}
	}
	if strings.TrimSpace(m.title) == "" {
		l.p.add(ManifestFile, 1, "the course has no title: add a title: line")
	}
	if !haveModules {
		l.p.add(ManifestFile, 1, "the course has no modules: add a modules: list, each with id, title and lessons")
	}
	return m
}

func (l *loader) module(f fields, item *yaml.Node) (manifestModule, bool) {
	var mm manifestModule
	if item.Kind != yaml.MappingNode {
		f.problem(item, "each module must have id, title and lessons")
		return mm, false
	}
	ok := true
	haveLessons := false
	for _, e := range f.entries(item) {
		switch e.Key {
		case "id":
			s, good := f.text(e)
			if good && !slugPattern.MatchString(s) {
				f.problem(e.Value, "the module id %q must be lower-case letters, digits and dashes", s)
				good = false
			}
			mm.id, ok = s, ok && good
		case "title":
			s, good := f.text(e)
			mm.title, ok = s, ok && good
		case "lessons":
			haveLessons = true
			items, good := f.list(e)
			if !good {
				ok = false
				continue
			}
			for _, it := range items {
				s, good := f.textNode("a lesson of the list", it)
				switch {
				case !good:
				case !slugPattern.MatchString(s):
					f.problem(it, "the lesson slug %q must be lower-case letters, digits and dashes, the name of lessons/<slug>.md without .md", s)
				default:
					mm.lessons = append(mm.lessons, lessonRef{slug: s, line: f.line(it)})
				}
			}
		default:
			f.unknown(e, "id", "title", "lessons")
		}
	}
	if mm.id == "" && ok {
		f.problem(item, "the module has no id")
		ok = false
	}
	if mm.title == "" && ok {
		f.problem(item, "the module %q has no title", mm.id)
		ok = false
	}
	if !haveLessons && ok {
		f.problem(item, "the module %q lists no lessons", mm.id)
	}
	return mm, ok
}

// unlisted reports lesson files the manifest does not list.
func (l *loader) unlisted(listed map[string]int) {
	entries, err := fs.ReadDir(l.fsys, "lessons")
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			l.p.add("lessons", 0, "cannot be read: %v", err)
		}
		return
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".md") {
			continue
		}
		if _, ok := listed[strings.TrimSuffix(name, ".md")]; !ok {
			l.p.add("lessons/"+name, 0, "this lesson is not listed in %s; add it to a module's lessons", ManifestFile)
		}
	}
}

var lessonKeys = []string{"title", "summary", "minutes", "exercise", "exercises"}

// lesson loads lessons/<slug>.md, listed on line ref of the manifest.
func (l *loader) lesson(slug string, ref int) *Lesson {
	file := "lessons/" + slug + ".md"
	src, err := l.readFile(file)
	if err != nil {
		l.fileProblem(file, ref, ManifestFile, fmt.Sprintf("the lesson %q", slug), err)
		return nil
	}
	doc := splitDocument(file, src, &l.p)
	lesson := &Lesson{Slug: slug, Source: file}
	f := fields{file: file, base: doc.metaBase, p: &l.p}
	if doc.meta == nil && doc.metaBase == 0 {
		l.p.add(file, 1, "the lesson has no front matter: start it with ---, a title: line, and ---")
	}
	for _, e := range f.entries(doc.meta) {
		switch e.Key {
		case "title":
			lesson.Title, _ = f.text(e)
		case "summary":
			lesson.Summary, _ = f.text(e)
		case "minutes":
			v, _ := f.integer(e, 1, 600)
			lesson.Minutes = int(v)
		case "exercise":
			s, ok := f.text(e)
			if ok {
				lesson.Exercises = append(lesson.Exercises, s)
				l.links = append(l.links, linkRef{File: file, Line: e.Line, Dest: "exercise: " + s, Exercise: s, FrontMatter: true})
			}
		case "exercises":
			items, ok := f.list(e)
			if !ok {
				continue
			}
			for _, it := range items {
				s, ok := f.textNode("an exercise of the list", it)
				switch {
				case !ok:
				case slices.Contains(lesson.Exercises, s):
					f.problem(it, "the exercise %q is listed twice", s)
				default:
					lesson.Exercises = append(lesson.Exercises, s)
					l.links = append(l.links, linkRef{File: file, Line: f.line(it), Dest: "exercises: " + s, Exercise: s, FrontMatter: true})
				}
			}
		default:
			f.unknown(e, lessonKeys...)
		}
	}
	if len(lesson.Exercises) > 0 {
		lesson.Exercise = lesson.Exercises[0]
	}
	if doc.meta != nil && strings.TrimSpace(lesson.Title) == "" {
		l.p.add(file, 2, "the lesson has no title: add a title: line to its front matter")
	}
	pg := renderPage(file, slug, doc.body, doc.bodyLine, &l.p)
	lesson.HTML, lesson.TOC, lesson.Quizzes, lesson.Words = pg.html, pg.toc, pg.quizzes, pg.words
	l.links = append(l.links, pg.links...)
	l.anchors[file] = pg.ids
	return lesson
}

// crossCheck checks every link between files once all are loaded, and that
// lessons and exercises name each other consistently.
func (l *loader) crossCheck(c *Course) {
	for _, ref := range l.links {
		switch {
		case ref.Exercise != "":
			switch {
			case c.exerciseByID[ref.Exercise] != nil, l.broken[ref.Exercise]:
				// Found, or found with problems of its own.
			case ref.FrontMatter:
				l.p.add(ref.File, ref.Line, "exercise: %q does not exist (there is no exercises/%s/exercise.md)", ref.Exercise, ref.Exercise)
			default:
				l.p.add(ref.File, ref.Line, "the link %q points to the exercise %q, which does not exist (there is no exercises/%s/exercise.md)", ref.Dest, ref.Exercise, ref.Exercise)
			}
		case ref.Lesson != "":
			target := c.lessonBySlug[ref.Lesson]
			if target == nil {
				l.p.add(ref.File, ref.Line, "the link %q points to the lesson %q, which is not in the course", ref.Dest, ref.Lesson)
			} else if ref.Anchor != "" && !l.anchors[target.Source][ref.Anchor] {
				l.p.add(ref.File, ref.Line, "the link %q points to #%s, which is not a heading of %s", ref.Dest, ref.Anchor, target.Source)
			}
		case ref.Anchor != "":
			if ids, ok := l.anchors[ref.File]; ok && !ids[ref.Anchor] {
				l.p.add(ref.File, ref.Line, "the link %q points to #%s, which is not a heading of this page", ref.Dest, ref.Anchor)
			}
		}
	}
	for _, lesson := range c.Lessons {
		for _, id := range lesson.Exercises {
			ex := c.exerciseByID[id]
			if ex != nil && ex.Lesson != "" && ex.Lesson != lesson.Slug {
				l.p.add(lesson.Source, 0, "the lesson leads to the exercise %q, but that exercise names the lesson %q", ex.ID, ex.Lesson)
			}
		}
	}
	l.unlinked(c)
	for _, ex := range c.Exercises {
		if ex.Lesson != "" && c.lessonBySlug[ex.Lesson] == nil {
			l.p.add(path.Join(ex.Dir, "exercise.md"), l.lessonLine[ex.ID], "lesson: %q is not a lesson of the course", ex.Lesson)
		}
	}
}

// exerciseOrder orders exercises as the lessons lead to them, then by id.
func exerciseOrder(c *Course) []*Exercise {
	rank := map[string]int{}
	for i, lesson := range c.Lessons {
		rank[lesson.Slug] = i
	}
	pos := func(ex *Exercise) int {
		if r, ok := rank[ex.Lesson]; ok {
			return r
		}
		return len(c.Lessons)
	}
	out := slices.Clone(c.Exercises)
	slices.SortStableFunc(out, func(a, b *Exercise) int {
		if d := pos(a) - pos(b); d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// unlinked warns about exercises no lesson leads to, in its front matter or
// in a link of its text: students reach exercises from lessons, so such an
// exercise is out of their reach. It is a warning, not a problem: an author
// may write an exercise before its lesson.
func (l *loader) unlinked(c *Course) {
	linked := map[string]bool{}
	for _, ref := range l.links {
		if ref.Exercise != "" && strings.HasPrefix(ref.File, "lessons/") {
			linked[ref.Exercise] = true
		}
	}
	for _, ex := range c.Exercises {
		if !linked[ex.ID] {
			hint := "add it to a lesson's exercises: list"
			if ex.Lesson != "" {
				hint = fmt.Sprintf("add exercises: [%s] to the front matter of lessons/%s.md", ex.ID, ex.Lesson)
			}
			c.Warnings = append(c.Warnings, Problem{File: path.Join(ex.Dir, "exercise.md"), Message: fmt.Sprintf("no lesson leads to this exercise, so students cannot reach it: %s", hint)})
		}
	}
}
