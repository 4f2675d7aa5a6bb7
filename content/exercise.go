package content

import (
	"errors"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// MaxTimeLimit is the longest an exercise may ask a grading to take; the
// grader stops every grading at this limit.
const MaxTimeLimit = 60 * time.Second

// maxAnswerBytes is the largest submission the grader accepts, so the
// largest a starter, solution or known-wrong answer may be.
const maxAnswerBytes = 64 << 10

var exerciseKeys = []string{"id", "title", "kind", "points", "lesson", "lab", "timeLimit", "starter", "solution", "solutionSeed", "params", "scenario", "wrong"}

// checkIDPattern is what a grader check id looks like: "subnet.capacity".
// Kinds choose their own ids (table.cloudrun.payPerUse), so only spaces and
// punctuation are ruled out.
var checkIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9][A-Za-z0-9_-]*)*$`)

// exercises loads every folder under exercises/.
func (l *loader) exercises() []*Exercise {
	entries, err := fs.ReadDir(l.fsys, "exercises")
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			l.p.add("exercises", 0, "cannot be read: %v", err)
		}
		return nil
	}
	var out []*Exercise
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if ex := l.exercise("exercises/" + e.Name()); ex != nil {
			out = append(out, ex)
		}
	}
	return out
}

// exercise loads one exercise folder.
func (l *loader) exercise(dir string) *Exercise {
	file := dir + "/exercise.md"
	name := path.Base(dir)
	src, err := l.readFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			l.p.add(dir, 0, "an exercise folder needs an exercise.md")
		} else {
			l.p.add(file, 0, "cannot be read: %v", err)
		}
		return nil
	}
	doc := splitDocument(file, src, &l.p)
	if doc.metaBase == 0 {
		l.p.add(file, 1, "the exercise has no front matter: start it with ---, then id, title, kind and points, then ---")
		return nil
	}
	if doc.meta == nil {
		l.broken[name] = true
		return nil
	}
	ex := &Exercise{Dir: dir}
	f := fields{file: file, base: doc.metaBase, p: &l.p}
	ok := true
	seen := map[string]bool{}
	for _, e := range f.entries(doc.meta) {
		seen[e.Key] = true
		good := true
		switch e.Key {
		case "id":
			ex.ID, good = f.text(e)
			if good && ex.ID != name {
				f.problem(e.Value, "the id %q must be the folder's name, %q", ex.ID, name)
				good = false
			}
		case "title":
			ex.Title, good = f.text(e)
		case "kind":
			ex.Kind, good = f.text(e)
			if good && !slugPattern.MatchString(ex.Kind) {
				f.problem(e.Value, "the kind %q must be lower-case letters, digits and dashes", ex.Kind)
				good = false
			}
		case "points":
			ex.Points, good = f.number(e, 0, 1000)
		case "lesson":
			ex.Lesson, good = f.text(e)
			l.lessonLine[name] = e.Line
		case "lab":
			ex.Lab, good = f.text(e)
		case "timeLimit":
			ex.TimeLimit, good = f.duration(e, MaxTimeLimit)
		case "starter":
			var body []byte
			ex.StarterName, body, good = l.answerFile(f, e, dir)
			ex.Starter = string(body)
		case "solution":
			ex.SolutionName, ex.Solution, good = l.answerFile(f, e, dir)
		case "params":
			ex.Params, good = f.anyMap(e)
		case "scenario":
			ex.Scenario, good = f.anyMap(e)
		case "wrong":
			ex.Wrong, good = l.wrongAnswers(f, e, dir)
		case "solutionSeed":
			var seed int64
			if seed, good = f.integer(e, 0, 1<<53); good {
				ex.setExtra(e.Key, seed)
			}
		default:
			// A misspelt key (scenaro:, timelimit:) would silently drop
			// what it says, so every key must be one the format has.
			f.unknown(e, exerciseKeys...)
			good = false
		}
		ok = ok && good
	}
	for _, key := range []string{"id", "title", "kind", "points"} {
		if !seen[key] {
			l.p.add(file, 2, "the exercise has no %s: line in its front matter", key)
			ok = false
		}
	}
	if !ok || !l.checkKind(f, doc.meta, ex) {
		l.broken[name] = true
		return nil
	}
	ex.Language = answerLanguage(ex.StarterName)
	if ex.Language == "" {
		ex.Language = answerLanguage(ex.SolutionName)
	}
	if ex.Language == "" {
		ex.Language = "json"
	}
	pg := renderPage(file, "", doc.body, doc.bodyLine, &l.p)
	ex.PromptHTML = pg.html
	l.links = append(l.links, pg.links...)
	l.anchors[file] = pg.ids

	hints := dir + "/hints.md"
	if src, err := l.readFile(hints); err == nil {
		hp := renderPage(hints, "", src, 1, &l.p)
		ex.HintsHTML = hp.html
		l.links = append(l.links, hp.links...)
		l.anchors[hints] = hp.ids
	} else if !errors.Is(err, fs.ErrNotExist) {
		l.p.add(hints, 0, "cannot be read: %v", err)
	}
	return ex
}

func (ex *Exercise) setExtra(key string, v any) {
	if ex.Extra == nil {
		ex.Extra = map[string]any{}
	}
	ex.Extra[key] = v
}

// answerLanguage is the language of an answer file, from its extension.
func answerLanguage(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".json":
		return "json"
	case ".yaml", ".yml":
		return "yaml"
	}
	return ""
}

// answerFile reads a file of the exercise folder named by e: a starter, a
// solution or a known-wrong answer.
func (l *loader) answerFile(f fields, e entry, dir string) (string, []byte, bool) {
	name, ok := f.text(e)
	if !ok {
		return "", nil, false
	}
	return l.answerAt(f, e.Value, e.Key, dir, name)
}

func (l *loader) answerAt(f fields, n *yaml.Node, key, dir, name string) (string, []byte, bool) {
	full := path.Join(dir, name)
	if name == "" || path.IsAbs(name) || !strings.HasPrefix(full, dir+"/") || !fs.ValidPath(full) {
		f.problem(n, "%s must name a file inside the exercise folder, such as solution.json, not %q", key, name)
		return "", nil, false
	}
	if answerLanguage(name) == "" {
		f.problem(n, "%s %q must be a .json or .yaml file", key, name)
		return "", nil, false
	}
	body, err := l.readFile(full)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		f.problem(n, "%s: %s does not exist", key, full)
		return "", nil, false
	case err != nil:
		f.problem(n, "%s: %s cannot be read: %v", key, full, err)
		return "", nil, false
	case len(body) > maxAnswerBytes:
		f.problem(n, "%s: %s is %d KiB; an answer may be at most %d KiB", key, full, len(body)>>10, maxAnswerBytes>>10)
		return "", nil, false
	}
	return path.Clean(name), body, true
}

// wrongAnswers reads the wrong: list of known-wrong answers.
func (l *loader) wrongAnswers(f fields, e entry, dir string) ([]WrongAnswer, bool) {
	items, ok := f.list(e)
	if !ok {
		return nil, false
	}
	var out []WrongAnswer
	files := map[string]bool{}
	for _, item := range items {
		if item.Kind != yaml.MappingNode {
			f.problem(item, "each known-wrong answer needs file: and fails: (the check it must fail)")
			ok = false
			continue
		}
		var w WrongAnswer
		var fileNode *yaml.Node
		good := true
		for _, we := range f.entries(item) {
			switch we.Key {
			case "file":
				s, g := f.text(we)
				w.File, fileNode, good = s, we.Value, good && g
			case "fails":
				s, g := f.text(we)
				if g && !checkIDPattern.MatchString(s) {
					f.problem(we.Value, "fails must name a check id such as subnet.capacity, not %q", s)
					g = false
				}
				w.Fails, good = s, good && g
			case "why":
				s, g := f.text(we)
				w.Why, good = s, good && g
			default:
				f.unknown(we, "file", "fails", "why")
				good = false
			}
		}
		switch {
		case fileNode == nil:
			f.problem(item, "this known-wrong answer has no file:")
			good = false
		case files[w.File]:
			f.problem(fileNode, "the known-wrong answer %s is listed twice", w.File)
			good = false
		default:
			files[w.File] = true
			name, body, g := l.answerAt(f, fileNode, "file", dir, w.File)
			w.File, w.Body, good = name, body, good && g
		}
		if w.Fails == "" && fileNode != nil {
			f.problem(item, "the known-wrong answer %s does not say which check it fails: add fails: <check id>", w.File)
			good = false
		}
		if good {
			out = append(out, w)
		}
		ok = ok && good
	}
	return out, ok
}
