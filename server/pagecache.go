package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
)

// A lesson page is the same for every reader but for a few strings: the
// reader's email, their CSRF token and their quiz answers. It is rendered
// once per lesson and reader state with markers in those places, cut at the
// markers, and each request writes the pieces with its own strings between
// them. An anonymous visitor has none of these strings, so their page is
// kept whole, with an ETag, and written as it is. This keeps page views
// cheap (see BenchmarkLessonPage).

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

// anonymousValues are the strings of a visitor who is not signed in: no
// email, no token (cross-origin checks protect their forms), no answers.
var anonymousValues = [slotCount]string{slotQuiz: "{}"}

type splicedPage struct {
	parts [][]byte // len(slots)+1 pieces
	slots []pageSlot
	size  int // of the parts together
	// whole is the page with anonymousValues, for the pages anonymous
	// visitors get; nil for the others.
	whole *wholePage
}

// wholePage is a finished page with the header values that go with it,
// made once so that serving it formats nothing.
type wholePage struct {
	body   []byte
	length []string // Content-Length
	etag   []string
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
		sp.size += at
		page = page[at+len(slotMarks[which]):]
	}
	sp.parts = append(sp.parts, page)
	sp.size += len(page)
	return sp
}

// keepWhole fills in anonymousValues once and keeps the result.
func (sp *splicedPage) keepWhole() {
	var buf bytes.Buffer
	sp.write(&buf, &anonymousValues)
	sum := sha256.Sum256(buf.Bytes())
	sp.whole = &wholePage{body: buf.Bytes(), length: []string{strconv.Itoa(buf.Len())},
		etag: []string{`"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}}
}

// write writes the page with values (already escaped for their places).
func (sp *splicedPage) write(buf *bytes.Buffer, values *[slotCount]string) {
	n := sp.size
	for _, v := range values {
		n += len(v) * len(sp.slots)
	}
	buf.Grow(n)
	for i, part := range sp.parts {
		buf.Write(part)
		if i < len(sp.slots) {
			buf.WriteString(values[sp.slots[i]])
		}
	}
}

// Header values of cached pages, shared by every response (net/http only
// reads them).
var (
	htmlType       = []string{"text/html; charset=utf-8"}
	noStore        = []string{"no-store"}
	revalidate     = []string{"no-cache"}
	varyCookie     = []string{"Cookie"}
	contentLengthK = "Content-Length"
)

// serve writes the page for a reader with values. The anonymous page goes
// out whole with its ETag, and as 304 Not Modified to a browser that has
// it already; it may be stored but must be checked again each time, and it
// differs with the cookie (signed in or not). Everyone else's page holds
// their own strings and is never stored.
func (sp *splicedPage) serve(c *gin.Context, values *[slotCount]string) {
	if pc := pageConnOf(c.Request.Context()); pc != nil {
		pc.hold()
		defer func() {
			c.Writer.Flush()
			pc.release()
		}()
	}
	h := c.Writer.Header()
	h["Content-Type"] = htmlType
	if w := sp.whole; w != nil && *values == anonymousValues {
		h["Cache-Control"] = revalidate
		h["Vary"] = varyCookie
		h["Etag"] = w.etag
		if inm := c.Request.Header["If-None-Match"]; len(inm) > 0 && etagMatch(inm, w.etag[0]) {
			delete(h, "Content-Type")
			c.Status(http.StatusNotModified)
			c.Writer.WriteHeaderNow()
			return
		}
		h[contentLengthK] = w.length
		c.Status(http.StatusOK)
		_, _ = c.Writer.Write(w.body)
		return
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	sp.write(buf, values)
	h["Cache-Control"] = noStore
	// With its length known, the page is not sent chunked: fewer writes
	// to the connection and no chunk framing.
	h[contentLengthK] = []string{strconv.Itoa(buf.Len())}
	c.Status(http.StatusOK)
	_, _ = c.Writer.Write(buf.Bytes())
}

// etagMatch reports whether an If-None-Match header lists etag (weak
// comparison, as RFC 9110 asks for If-None-Match) or is "*".
func etagMatch(header []string, etag string) bool {
	for _, line := range header {
		for _, tag := range strings.Split(line, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == etag || tag == "*" {
				return true
			}
		}
	}
	return false
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
