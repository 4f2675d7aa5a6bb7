package content

import (
	"fmt"
	"strings"

	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/styles"
)

// Code is highlighted with CSS classes, not inline styles, so that the
// page's stylesheet can follow the light or dark theme.
const (
	lightStyle = "github"
	darkStyle  = "github-dark"
)

// HighlightCSS returns the stylesheet for highlighted code blocks: the light
// colours, and the dark ones under prefers-color-scheme: dark.
func HighlightCSS() string {
	var b strings.Builder
	f := chromahtml.New(chromahtml.WithClasses(true))
	writeStyle(&b, f, lightStyle)
	b.WriteString("@media (prefers-color-scheme: dark) {\n")
	writeStyle(&b, f, darkStyle)
	b.WriteString("}\n")
	return b.String()
}

func writeStyle(b *strings.Builder, f *chromahtml.Formatter, name string) {
	style := styles.Get(name)
	if style == nil {
		style = styles.Fallback
	}
	if err := f.WriteCSS(b, style); err != nil {
		// Writing to a strings.Builder cannot fail; keep the message anyway.
		fmt.Fprintf(b, "/* %v */\n", err)
	}
}
