package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"coldstart/content"
	"coldstart/content/builtin"
)

// figureShots is where TestLessonFigures keeps its pictures:
// $COLDSTART_ARTIFACTS/figures, or a temporary directory; the test logs it.
func figureShots(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if env := os.Getenv("COLDSTART_ARTIFACTS"); env != "" {
		dir = filepath.Join(env, "figures")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("figure pictures in %s", dir)
	return dir
}

// figureLayout reads the first figure of the page: the fill of its first
// label, the labels that stick out of the drawing or run into another
// label, and the shapes painted the browser's default black, which is what
// a colour the page does not apply (such as a style attribute the
// Content-Security-Policy refuses) looks like. Labels are compared by the
// boxes the browser drew them in, so the check sees what a reader sees, in
// the theme's font.
const figureLayout = `(() => {
  const svg = document.querySelector("figure svg");
  const frame = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll("text")].filter(e => e.textContent.trim() !== "");
  const boxes = texts.map(e => e.getBoundingClientRect());
  const name = e => JSON.stringify(e.textContent.trim().slice(0, 40));
  const out = [], overlap = [];
  const tol = 1;
  boxes.forEach((r, i) => {
    if (r.left < frame.left - tol || r.right > frame.right + tol || r.top < frame.top - tol || r.bottom > frame.bottom + tol) {
      out.push(name(texts[i]));
    }
  });
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      // Glyph boxes include line spacing: a sliver of shared height between
      // stacked lines is not a collision.
      if (w > 2 && h > Math.min(a.height, b.height) / 3) {
        overlap.push(name(texts[i]) + " × " + name(texts[j]));
      }
    }
  }
  const black = [...svg.querySelectorAll("rect, path, circle, ellipse, polygon, polyline, text")]
    .filter(e => { const b = e.getBBox(); return getComputedStyle(e).fill === "rgb(0, 0, 0)" && b.width > 0 && b.height > 0; })
    .map(e => e.tagName + (e.textContent.trim() ? " " + name(e) : ""));
  return {fill: texts.length ? getComputedStyle(texts[0]).fill : "", labels: texts.length, out, overlap, black: black.slice(0, 8)};
})()`

type figureFit struct {
	Fill    string
	Labels  int
	Out     []string
	Overlap []string
	Black   []string
}

// TestLessonFigures opens every lesson of the built-in course that has a
// figure, in the light and in the dark theme at 1280 px, and keeps a picture
// of the figure in each (LESSON-THEME.png). A figure takes its colours from
// the theme, so its labels must not be drawn alike in both and no shape may
// fall back to black; and no label may stick out of its drawing or run into
// another one.
func TestLessonFigures(t *testing.T) {
	course, err := content.Load(builtin.FS())
	if err != nil {
		t.Fatal(err)
	}
	var slugs []string
	for _, l := range course.Lessons {
		if strings.Contains(string(l.HTML), "<figure") {
			slugs = append(slugs, l.Slug)
		}
	}
	if len(slugs) == 0 {
		t.Fatal("no lesson of the built-in course has a figure")
	}

	base, _ := startServer(t, &Main{})
	b := newBrowserIn(t, figureShots(t))
	for _, slug := range slugs {
		fills := map[string]string{}
		for _, theme := range []string{"light", "dark"} {
			name := slug + "-" + theme
			var f figureFit
			b.run(name,
				chromedp.EmulateViewport(1280, 900),
				scheme(theme),
				chromedp.Navigate(base+"/lessons/"+slug),
				chromedp.WaitVisible(chromedp.CSS("figure svg")),
				chromedp.ScrollIntoView(chromedp.CSS("figure")),
				b.eval(figureLayout, &f),
				b.figure(name),
			)
			fills[theme] = f.Fill
			if len(f.Out) > 0 {
				t.Errorf("%s: %d of %d labels stick out of the figure: %s", name, len(f.Out), f.Labels, strings.Join(f.Out, ", "))
			}
			if len(f.Black) > 0 {
				t.Errorf("%s: shapes drawn in the default black, not in a colour of the theme: %s", name, strings.Join(f.Black, ", "))
			}
			if len(f.Overlap) > 0 {
				t.Errorf("%s: labels run into each other: %s", name, strings.Join(f.Overlap, "; "))
			}
		}
		if fills["light"] == fills["dark"] {
			t.Errorf("%s: the figure's labels are %q in both themes; its colours must come from the theme", slug, fills["light"])
		}
	}
}

// figure saves the page's first figure, caption included.
func (b *browser) figure(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		buf, err := chromedp.Screenshot(chromedp.CSS("figure"))(ctx, tg)
		if err != nil {
			return fmt.Errorf("picture of the figure: %w", err)
		}
		return os.WriteFile(filepath.Join(b.shots, name+".png"), buf, 0o644)
	})
}
