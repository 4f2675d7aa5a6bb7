package content

import (
	"bytes"
	"fmt"
	"html/template"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode"

	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/yuin/goldmark"
	highlighting "github.com/yuin/goldmark-highlighting/v2"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// markdown renders the Markdown of lessons, exercise prompts, hints and the
// inline parts of quizzes. One value serves every file of a course.
var markdown = goldmark.New(
	goldmark.WithExtensions(
		extension.GFM,
		highlighting.NewHighlighting(
			highlighting.WithStyle(lightStyle),
			highlighting.WithFormatOptions(chromahtml.WithClasses(true)),
		),
	),
	goldmark.WithParserOptions(
		parser.WithAutoHeadingID(),
		parser.WithAttribute(),
		parser.WithASTTransformers(util.Prioritized(courseTransformer{}, 100)),
	),
	goldmark.WithRendererOptions(
		// Authors write figures as inline HTML (<figure><svg>…</svg></figure>).
		html.WithUnsafe(),
		renderer.WithNodeRenderers(util.Prioritized(courseRenderer{}, 100)),
	),
)

// renderState carries what one conversion learns about its file: it goes in
// through the parser context and is filled by courseTransformer.
type renderState struct {
	file  string
	slug  string // lesson slug, for quiz ids; empty where quizzes are not allowed
	lines lineIndex
	p     *problems

	toc     []Heading
	ids     map[string]bool // every heading id, for links to anchors
	quizzes []*Quiz
	words   int
	links   []linkRef
}

var stateKey = parser.NewContextKey()

// page is a rendered Markdown body.
type page struct {
	html    template.HTML
	toc     []Heading
	ids     map[string]bool
	quizzes []*Quiz
	words   int
	links   []linkRef
}

// renderPage renders the body of file, whose first line is file line
// firstLine. slug is the lesson's slug, or "" when the file is not a lesson.
func renderPage(file, slug string, body []byte, firstLine int, p *problems) page {
	st := &renderState{file: file, slug: slug, lines: newLineIndex(body, firstLine), p: p, ids: map[string]bool{}}
	var buf bytes.Buffer
	ctx := parser.NewContext()
	ctx.Set(stateKey, st)
	if err := markdown.Convert(body, &buf, parser.WithContext(ctx)); err != nil {
		p.add(file, 0, "cannot be rendered: %v", err)
	}
	return page{html: template.HTML(buf.String()), toc: st.toc, ids: st.ids, quizzes: st.quizzes, words: st.words, links: st.links}
}

// renderInline renders a short piece of Markdown (a quiz question, a choice)
// found at line of file, without the paragraph around it.
func renderInline(file string, line int, src string, p *problems) (template.HTML, []linkRef) {
	st := &renderState{file: file, lines: lineIndex{fixed: line}, p: p, ids: map[string]bool{}}
	var buf bytes.Buffer
	ctx := parser.NewContext()
	ctx.Set(stateKey, st)
	if err := markdown.Convert([]byte(src), &buf, parser.WithContext(ctx)); err != nil {
		p.add(file, line, "cannot be rendered: %v", err)
	}
	out := strings.TrimSpace(buf.String())
	if strings.HasPrefix(out, "<p>") && strings.HasSuffix(out, "</p>") && strings.Count(out, "<p>") == 1 {
		out = out[len("<p>") : len(out)-len("</p>")]
	}
	return template.HTML(out), st.links
}

// lineIndex turns byte offsets of a body into file lines.
type lineIndex struct {
	starts []int // offset of every line start
	first  int   // file line of the body's first line
	fixed  int   // when set, every offset is on this line
}

func newLineIndex(body []byte, first int) lineIndex {
	li := lineIndex{starts: []int{0}, first: first}
	for i, b := range body {
		if b == '\n' {
			li.starts = append(li.starts, i+1)
		}
	}
	return li
}

func (li lineIndex) line(offset int) int {
	if li.fixed > 0 {
		return li.fixed
	}
	return li.first + sort.SearchInts(li.starts, offset+1) - 1
}

// nodeLine finds the file line of a node: its own first line for a block,
// the line of its first text for an inline.
func (li lineIndex) nodeLine(n ast.Node) int {
	for c := n; c != nil; c = c.Parent() {
		if c.Type() == ast.TypeBlock {
			if l := c.Lines(); l != nil && l.Len() > 0 {
				return li.line(l.At(0).Start)
			}
		}
		if t, ok := c.(*ast.Text); ok {
			return li.line(t.Segment.Start)
		}
		if c.Type() == ast.TypeInline {
			if t := firstText(c); t != nil {
				return li.line(t.Segment.Start)
			}
		}
	}
	return li.first
}

func firstText(n ast.Node) *ast.Text {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if t, ok := c.(*ast.Text); ok {
			return t
		}
		if t := firstText(c); t != nil {
			return t
		}
	}
	return nil
}

// plainText is the text of an inline tree without markup.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Segment.Value(src))
			if t.SoftLineBreak() || t.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}

// courseTransformer turns quiz blocks and call-outs into their own nodes,
// rewrites links between course files, and records the table of contents
// and the word count.
type courseTransformer struct{}

func (courseTransformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	st, _ := pc.Get(stateKey).(*renderState)
	if st == nil {
		return
	}
	src := reader.Source()
	// Call-outs and quizzes first, so that neither a [!NOTE] marker nor a
	// quiz's YAML counts as prose.
	var quizzes []*ast.FencedCodeBlock
	var quotes []*ast.Blockquote
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			switch n := n.(type) {
			case *ast.FencedCodeBlock:
				if string(n.Language(src)) == "quiz" {
					quizzes = append(quizzes, n)
				}
			case *ast.Blockquote:
				quotes = append(quotes, n)
			}
		}
		return ast.WalkContinue, nil
	})
	for _, q := range quotes {
		makeCallout(q, src)
	}
	for _, fb := range quizzes {
		st.quiz(fb, src)
	}

	var words strings.Builder
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		if n.Type() == ast.TypeBlock {
			words.WriteByte(' ')
		}
		switch n := n.(type) {
		case *ast.Heading:
			st.heading(n, src)
		case *ast.Link:
			n.Destination = st.rewrite(n, n.Destination)
		case *ast.Image:
			n.Destination = st.rewrite(n, n.Destination)
		case *ast.Text:
			words.Write(n.Segment.Value(src))
			if n.SoftLineBreak() || n.HardLineBreak() {
				words.WriteByte(' ')
			}
		case *ast.String:
			words.Write(n.Value)
		case *ast.HTMLBlock:
			st.inlineStyles(n.Lines(), src)
		case *ast.RawHTML:
			st.inlineStyles(n.Segments, src)
		}
		return ast.WalkContinue, nil
	})
	st.words = countWords(words.String())
}

// styleAttribute finds a style attribute in a piece of inline HTML.
var styleAttribute = regexp.MustCompile(`(?i)(^|\s)style\s*=\s*["']`)

// inlineStyles reports style attributes in inline HTML. The server's
// Content-Security-Policy (style-src 'self') makes browsers ignore them, so
// a figure coloured with style="fill: var(--accent)" is drawn in black, or
// not at all; presentation attributes such as fill="var(--accent)" are not
// styles and follow the theme.
func (st *renderState) inlineStyles(lines *text.Segments, src []byte) {
	for i := range lines.Len() {
		seg := lines.At(i)
		if styleAttribute.Match(seg.Value(src)) {
			st.p.add(st.file, st.lines.line(seg.Start), "a style attribute in inline HTML is ignored by browsers, "+
				"since the page allows no inline styles; write the property as an attribute instead, "+
				"such as fill=\"var(--accent)\" or stroke=\"var(--warn)\"")
		}
	}
}

// countWords counts the words of prose: runs of text holding at least one
// letter or digit (so a dash or a table rule is not a word).
func countWords(s string) int {
	n := 0
	for _, w := range strings.Fields(s) {
		if strings.IndexFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
			n++
		}
	}
	return n
}

func (st *renderState) heading(h *ast.Heading, src []byte) {
	idv, ok := h.AttributeString("id")
	if !ok {
		return
	}
	id := string(asBytes(idv))
	if st.ids[id] {
		st.p.add(st.file, st.lines.nodeLine(h), "two headings have the id %q; give one another title or an id such as {#other-id}", id)
	}
	st.ids[id] = true
	if h.Level == 2 || h.Level == 3 {
		st.toc = append(st.toc, Heading{Level: h.Level, ID: id, Text: plainText(h, src)})
	}
}

func asBytes(v any) []byte {
	switch v := v.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	}
	return []byte(fmt.Sprint(v))
}

// linkRef is a link from one course file to a lesson, an anchor or an
// exercise, checked once every file is loaded.
type linkRef struct {
	File     string
	Line     int
	Dest     string
	Lesson   string // target lesson slug; empty with Anchor set: this page
	Anchor   string
	Exercise string
	// FrontMatter marks the exercise: key of a lesson rather than a link.
	FrontMatter bool
}

// rewrite turns a link between course files into the URL the server serves:
// "other.md#x" → "/lessons/other#x", "../exercises/id/" → "/exercises/id".
// Links with a scheme or an absolute path are kept as they are.
func (st *renderState) rewrite(n ast.Node, dest []byte) []byte {
	d := string(dest)
	if d == "" {
		return dest
	}
	u, err := url.Parse(d)
	line := st.lines.nodeLine(n)
	if err != nil {
		st.p.add(st.file, line, "the link %q is not a valid URL: %v", d, err)
		return dest
	}
	if u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/") {
		return dest
	}
	if u.Path == "" {
		if u.Fragment != "" {
			st.links = append(st.links, linkRef{File: st.file, Line: line, Dest: d, Anchor: u.Fragment})
		}
		return dest
	}
	target := path.Join(path.Dir(st.file), u.Path)
	frag := ""
	if u.Fragment != "" {
		frag = "#" + u.EscapedFragment()
	}
	parts := strings.Split(target, "/")
	switch {
	case len(parts) == 2 && parts[0] == "lessons" && strings.HasSuffix(parts[1], ".md"):
		slug := strings.TrimSuffix(parts[1], ".md")
		st.links = append(st.links, linkRef{File: st.file, Line: line, Dest: d, Lesson: slug, Anchor: u.Fragment})
		return []byte("/lessons/" + slug + frag)
	case parts[0] == "exercises" && (len(parts) == 2 || len(parts) == 3 && parts[2] == "exercise.md"):
		st.links = append(st.links, linkRef{File: st.file, Line: line, Dest: d, Exercise: parts[1]})
		return []byte("/exercises/" + parts[1] + frag)
	}
	st.p.add(st.file, line, "the link %q points to %s, which the course does not serve; link to a lesson (other-lesson.md), an exercise (../exercises/<id>/) or a full URL", d, target)
	return dest
}

// Call-outs: a block quote whose first line is [!NOTE], [!TIP], [!WARNING]
// or [!IMPORTANT], as GitHub writes them.
var calloutTitles = map[string]string{"note": "Note", "tip": "Tip", "warning": "Warning", "important": "Important", "caution": "Caution"}

var kindCallout = ast.NewNodeKind("Callout")

// calloutNode is a block quote turned into a call-out.
type calloutNode struct {
	ast.BaseBlock
	Variant string // note, tip, warning, important, caution
}

func (n *calloutNode) Kind() ast.NodeKind { return kindCallout }

func (n *calloutNode) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{"Variant": n.Variant}, nil)
}

func makeCallout(q *ast.Blockquote, src []byte) {
	para, ok := q.FirstChild().(*ast.Paragraph)
	if !ok || para.Lines().Len() == 0 {
		return
	}
	first := para.Lines().At(0)
	marker := strings.TrimSpace(string(first.Value(src)))
	if !strings.HasPrefix(marker, "[!") || !strings.HasSuffix(marker, "]") {
		return
	}
	variant := strings.ToLower(marker[2 : len(marker)-1])
	if _, ok := calloutTitles[variant]; !ok {
		return
	}
	// Drop the inline nodes of the marker line.
	for c := para.FirstChild(); c != nil; {
		next := c.NextSibling()
		t, ok := c.(*ast.Text)
		if !ok || t.Segment.Start >= first.Stop {
			break
		}
		para.RemoveChild(para, c)
		c = next
	}
	if para.ChildCount() == 0 {
		q.RemoveChild(q, para)
	}
	co := &calloutNode{Variant: variant}
	for c := q.FirstChild(); c != nil; {
		next := c.NextSibling()
		co.AppendChild(co, c)
		c = next
	}
	q.Parent().ReplaceChild(q.Parent(), q, co)
}

// courseRenderer renders headings with anchors, call-outs and quizzes.
type courseRenderer struct{}

func (courseRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindHeading, renderHeading)
	reg.Register(kindCallout, renderCallout)
	reg.Register(kindQuiz, renderQuiz)
}

func renderHeading(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Heading)
	if !entering {
		fmt.Fprintf(w, "</h%d>\n", n.Level)
		return ast.WalkContinue, nil
	}
	fmt.Fprintf(w, "<h%d", n.Level)
	if n.Attributes() != nil {
		html.RenderAttributes(w, n, html.HeadingAttributeFilter)
	}
	w.WriteByte('>')
	if idv, ok := n.AttributeString("id"); ok {
		id := template.HTMLEscapeString(string(asBytes(idv)))
		fmt.Fprintf(w, `<a class="anchor" href="#%s" aria-hidden="true" tabindex="-1">#</a>`, id)
	}
	return ast.WalkContinue, nil
}

func renderCallout(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*calloutNode)
	if entering {
		fmt.Fprintf(w, "<aside class=\"callout %s\" role=\"note\"><p class=\"callout-title\">%s</p>\n", n.Variant, calloutTitles[n.Variant])
	} else {
		w.WriteString("</aside>\n")
	}
	return ast.WalkContinue, nil
}
