package server

import (
	"html/template"
	"strings"
)

// scrollTables wraps every table of rendered course HTML in a region that
// scrolls sideways, so a wide table scrolls inside itself on a phone rather
// than widening the page. The region takes keyboard focus so it can be
// scrolled without a pointer.
func scrollTables(html template.HTML) template.HTML {
	s := string(html)
	if !strings.Contains(s, "<table>") {
		return html
	}
	s = strings.ReplaceAll(s, "<table>", `<div class="table-scroll" role="region" tabindex="0" aria-label="Table (scrolls sideways)"><table>`)
	s = strings.ReplaceAll(s, "</table>", "</table></div>")
	return template.HTML(s)
}
