package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"sync"
)

// A lesson page is the same for every reader but for a few strings: the
// reader's email, their CSRF token and their quiz answers. It is rendered
// once per lesson and reader state with markers in those places, cut at the
// markers, and each request writes the pieces with its own strings between
// them. This keeps page views cheap (see BenchmarkLessonPage).

type pageSlot int

const (
	slotEmail pageSlot = iota
	slotCSRF
	slotQuiz
	slotCount
)

// slotMarks are the markers; they are plain ASCII so escaping leaves them
// as they are.
var slotMarks = [slotCount]string{"csxEmailMark7f3a", "csxCsrfMark7f3a", "csxQuizMark7f3a"}

type splicedPage struct {
	parts [][]byte // len(slots)+1 pieces
	slots []pageSlot

	// A visitor's page has no strings of its own: it is written once,
	// whole, and served from memory with an ETag.
	visitorOnce sync.Once
	visitor     []byte
	visitorETag string
}

// visitorPage is the page with the visitor's values (no email, no CSRF
// token, no quiz answers) and its ETag, made at the first request.
func (sp *splicedPage) visitorPage(values *[slotCount]string) ([]byte, string) {
	sp.visitorOnce.Do(func() {
		var buf bytes.Buffer
		sp.write(&buf, values)
		sp.visitor = buf.Bytes()
		sum := sha256.Sum256(sp.visitor)
		sp.visitorETag = `"` + hex.EncodeToString(sum[:12]) + `"`
	})
	return sp.visitor, sp.visitorETag
}

func splice(page []byte) *splicedPage {
	sp := &splicedPage{}
	for {
		at, which := -1, pageSlot(0)
		for i, m := range slotMarks {
			if j := bytes.Index(page, []byte(m)); j >= 0 && (at < 0 || j < at) {
				at, which = j, pageSlot(i)
			}
		}
		if at < 0 {
			break
		}
		sp.parts = append(sp.parts, page[:at])
		sp.slots = append(sp.slots, which)
		page = page[at+len(slotMarks[which]):]
	}
	sp.parts = append(sp.parts, page)
	return sp
}

// write writes the page with values (already escaped for their places).
func (sp *splicedPage) write(buf *bytes.Buffer, values *[slotCount]string) {
	for i, part := range sp.parts {
		buf.Write(part)
		if i < len(sp.slots) {
			buf.WriteString(values[sp.slots[i]])
		}
	}
}

// lessonKey is what, besides the marked strings, changes a lesson page.
type lessonKey struct {
	slug     string
	signedIn bool
	canTeach bool
	done     bool
	signup   bool
}

// pageCache holds spliced pages of one loaded course.
type pageCache struct {
	mu    sync.RWMutex
	pages map[lessonKey]*splicedPage
}

func (c *pageCache) get(k lessonKey) *splicedPage {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.pages[k]
}

func (c *pageCache) put(k lessonKey, sp *splicedPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pages == nil {
		c.pages = map[lessonKey]*splicedPage{}
	}
	c.pages[k] = sp
}

// escapeText escapes a string for HTML text and quoted attributes, as
// html/template does in those places.
func escapeText(s string) string { return template.HTMLEscapeString(s) }
