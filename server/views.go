package server

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"coldstart/content"
	"coldstart/server/store"
	"coldstart/web"
)

// views are the parsed page templates: each page is the layout plus its own
// file plus the shared partials.
type views struct {
	pages map[string]*template.Template
	// fragments render parts of a page on their own (the result area).
	fragments *template.Template
}

// pageFiles lists each page and the files it is built from.
var pageFiles = map[string][]string{
	"home":        {"layout.html", "home.html", "partials.html"},
	"lesson":      {"layout.html", "lesson.html", "partials.html"},
	"quiz":        {"layout.html", "quiz.html"},
	"exercise":    {"layout.html", "exercise.html", "result.html", "partials.html"},
	"progress":    {"layout.html", "progress.html", "partials.html"},
	"cohort":      {"layout.html", "cohort.html", "partials.html"},
	"auth":        {"layout.html", "auth.html"},
	"account":     {"layout.html", "account.html"},
	"link":        {"layout.html", "link.html"},
	"admin_users": {"layout.html", "admin_users.html"},
	"groups":      {"layout.html", "groups.html"},
	"group":       {"layout.html", "group.html"},
	"join":        {"layout.html", "join.html"},
	"student":     {"layout.html", "student.html"},
	"attempt":     {"layout.html", "attempt.html"},
	"audit":       {"layout.html", "audit.html"},
	"grading":     {"layout.html", "grading.html"},
	"analytics":   {"layout.html", "analytics.html"},
	"certificate": {"layout.html", "certificate.html"},
	"error":       {"layout.html", "error.html"},
}

func loadViews(assets *web.Assets) (*views, error) {
	funcs := template.FuncMap{
		"asset":   assets.URL,
		"upper":   strings.ToUpper,
		"percent": func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return one
			}
			return many
		},
		// checkIn pairs a check card with its verdict, for the "check" template.
		"checkIn":      func(v checkView, r *resultView) checkCard { return checkCard{View: v, Result: r} },
		"iso":          func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"scrollTables": scrollTables,
		"when":         func(t time.Time) string { return t.Local().Format("2 Jan 15:04") },
		"list":         func(s ...string) []string { return s },
		"formdate": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02T15:04")
		},
		"utcdate": func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
		// dueOf is an exercise's due date in words, or "" without one.
		"dueOf": func(due map[string]time.Time, id string) string {
			if t, ok := due[id]; ok {
				return t.UTC().Format("2 Jan 2006 15:04 UTC")
			}
			return ""
		},
		"duration": func(d time.Duration) string {
			switch {
			case d >= 48*time.Hour:
				return fmt.Sprintf("%.1f days", d.Hours()/24)
			case d >= time.Hour:
				return fmt.Sprintf("%.1f hours", d.Hours())
			}
			return fmt.Sprintf("%.0f minutes", d.Minutes())
		},
	}
	v := &views{pages: map[string]*template.Template{}}
	for name, files := range pageFiles {
		t, err := template.New(name).Funcs(funcs).ParseFS(web.Templates, prefix(files)...)
		if err != nil {
			return nil, fmt.Errorf("page %s: %w", name, err)
		}
		if t.Lookup("layout") == nil || t.Lookup("content") == nil {
			return nil, fmt.Errorf("page %s: the layout or its content is missing", name)
		}
		v.pages[name] = t
	}
	f, err := template.New("fragments").Funcs(funcs).ParseFS(web.Templates, prefix([]string{"result.html", "partials.html"})...)
	if err != nil {
		return nil, fmt.Errorf("fragments: %w", err)
	}
	v.fragments = f
	// Every template file must belong to some page.
	all, _ := fs.Glob(web.Templates, "templates/*.html")
	used := map[string]bool{}
	for _, files := range pageFiles {
		for _, f := range files {
			used["templates/"+f] = true
		}
	}
	for _, f := range all {
		if !used[f] {
			return nil, fmt.Errorf("template %s is not used by any page", f)
		}
	}
	return v, nil
}

func prefix(files []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = "templates/" + f
	}
	return out
}

// page is what every page template gets.
type page struct {
	Title       string
	CourseTitle string
	Course      *content.Course
	CourseErr   string
	User        *store.User
	CSRF        string
	Nav         string
	Flash       string
	SignupOpen  bool
	Watch       bool
	// Due holds the signed-in student's due dates by exercise (see withDue).
	Due  map[string]time.Time
	Data any
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// newPage fills the parts of a page every template uses.
func (s *Server) newPage(c *gin.Context, title string, data any) *page {
	course := s.course.Course()
	p := &page{Title: title, Course: course, User: currentUser(c), CSRF: csrfToken(c), Data: data,
		SignupOpen: s.cfg.SignupOpen && !s.cfg.NoPasswordLogin, Watch: s.cfg.Watch}
	if course != nil {
		p.CourseTitle = course.Title
	}
	if p.CourseTitle == "" {
		p.CourseTitle = "Coldstart"
	}
	if err := s.course.Err(); err != nil {
		p.CourseErr = err.Error()
	}
	return p
}

// render writes a whole page. It renders into a buffer first, so that a
// template error becomes an error page instead of half a page.
func (s *Server) render(c *gin.Context, code int, name string, p *page) {
	t := s.views.pages[name]
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := t.ExecuteTemplate(buf, "layout", p); err != nil {
		s.logger.ErrorContext(c.Request.Context(), "render page", slog.String("page", name), slog.Any("err", err))
		if name != "error" {
			s.fail(c, http.StatusInternalServerError, "Something went wrong", "This page could not be shown. The problem was logged.")
		} else {
			c.String(http.StatusInternalServerError, "Internal error")
		}
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(code, "text/html; charset=utf-8", buf.Bytes())
}

// renderFragment writes one named template on its own.
func (s *Server) renderFragment(c *gin.Context, name string, data any) {
	var buf bytes.Buffer
	if err := s.views.fragments.ExecuteTemplate(&buf, name, data); err != nil {
		s.logger.ErrorContext(c.Request.Context(), "render fragment", slog.String("fragment", name), slog.Any("err", err))
		c.String(http.StatusInternalServerError, "This part of the page could not be shown.")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}

type errorData struct {
	Code      int
	Heading   string
	Message   string
	RequestID string
}

// fail ends the request with an error page, or JSON for scripts.
func (s *Server) fail(c *gin.Context, code int, heading, message string) {
	if wantsJSON(c) {
		c.AbortWithStatusJSON(code, gin.H{"error": message, "title": heading})
		return
	}
	d := errorData{Code: code, Heading: heading, Message: message}
	if code >= 500 {
		d.RequestID = requestIDOf(c)
	}
	s.render(c, code, "error", s.newPage(c, heading, d))
	c.Abort()
}

// internal logs err and shows a generic error page.
func (s *Server) internal(c *gin.Context, err error) {
	s.logger.ErrorContext(c.Request.Context(), "request failed", slog.String("request_id", requestIDOf(c)),
		slog.String("path", c.Request.URL.Path), slog.Any("err", err))
	s.fail(c, http.StatusInternalServerError, "Something went wrong", "The server could not finish this request. The problem was logged; please try again.")
}

func wantsJSON(c *gin.Context) bool {
	return strings.Contains(c.GetHeader("Accept"), "application/json")
}
