// Package web holds the page templates and the static assets (CSS, JS) of
// the course server, embedded in the binary. Static assets are served under
// a URL that contains a hash of their content, so browsers may cache them
// forever and never see a stale one.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"
)

//go:embed templates/*.html
var Templates embed.FS

//go:embed static
var staticFS embed.FS

// Asset is one static file with its content-hashed URL.
type Asset struct {
	Name        string // e.g. app.css
	URL         string // e.g. /static/app.3f2a9c1e.css
	ContentType string
	Body        []byte
	ETag        string
}

// Assets are the static files by name and by URL.
type Assets struct {
	byName map[string]*Asset
	byURL  map[string]*Asset
}

// LoadAssets reads the embedded static files. extra is appended to the file
// of that name (the server adds the code highlighting styles to app.css).
func LoadAssets(extra map[string][]byte) (*Assets, error) {
	a := &Assets{byName: map[string]*Asset{}, byURL: map[string]*Asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		if x, ok := extra[name]; ok {
			body = append(bytes.Clone(body), x...)
		}
		sum := sha256.Sum256(body)
		h := hex.EncodeToString(sum[:])[:12]
		ext := path.Ext(name)
		url := "/static/" + strings.TrimSuffix(name, ext) + "." + h + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		asset := &Asset{Name: name, URL: url, ContentType: ct, Body: body, ETag: `"` + h + `"`}
		a.byName[name] = asset
		a.byURL[url] = asset
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load static files: %w", err)
	}
	return a, nil
}

// URL returns the hashed URL of a static file by name; it panics on an
// unknown name, which templates are checked against at start-up.
func (a *Assets) URL(name string) string {
	if x, ok := a.byName[name]; ok {
		return x.URL
	}
	panic(fmt.Sprintf("unknown static file %q", name))
}

// ByURL returns the asset served at url, or nil.
func (a *Assets) ByURL(url string) *Asset { return a.byURL[url] }
