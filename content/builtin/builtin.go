// Package builtin is the course Coldstart ships with: the manifest and the
// lessons embedded here, and the exercise folders of package exercises.
package builtin

import (
	"embed"
	"io"
	"io/fs"
	"slices"
	"strings"

	"coldstart/exercises"
)

//go:embed course.yaml lessons
var files embed.FS

// FS returns the built-in course as a course directory: course.yaml,
// lessons/<slug>.md and exercises/<id>/.
func FS() fs.FS {
	return &overlay{base: files, dir: "exercises", mounted: exercises.FS}
}

// overlay is base with another file system mounted at dir.
type overlay struct {
	base    fs.FS
	dir     string
	mounted fs.FS
}

// route returns the file system and the name inside it that serve name.
func (o *overlay) route(name string) (fs.FS, string) {
	if name == o.dir {
		return o.mounted, "."
	}
	if rest, ok := strings.CutPrefix(name, o.dir+"/"); ok {
		return o.mounted, rest
	}
	return o.base, name
}

func (o *overlay) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	fsys, inner := o.route(name)
	f, err := fsys.Open(inner)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: unwrapPath(err)}
	}
	switch name {
	case o.dir:
		return &renamedDir{File: f, name: o.dir}, nil
	case ".":
		entries, err := o.ReadDir(".")
		if err != nil {
			f.Close()
			return nil, err
		}
		return &rootDir{File: f, entries: entries}, nil
	}
	return f, nil
}

// rootDir is the top directory, listing the mount with the base's entries.
type rootDir struct {
	fs.File
	entries []fs.DirEntry
}

func (d *rootDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n]
	d.entries = d.entries[n:]
	return out, nil
}

func (o *overlay) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	fsys, inner := o.route(name)
	entries, err := fs.ReadDir(fsys, inner)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: unwrapPath(err)}
	}
	if name != "." {
		return entries, nil
	}
	info, err := fs.Stat(o.mounted, ".")
	if err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, 0, len(entries)+1)
	for _, e := range entries {
		if e.Name() != o.dir {
			out = append(out, e)
		}
	}
	out = append(out, fs.FileInfoToDirEntry(renamedInfo{FileInfo: info, name: o.dir}))
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// renamedDir is the root of the mounted file system, named as its mount.
type renamedDir struct {
	fs.File
	name string
}

func (d *renamedDir) Stat() (fs.FileInfo, error) {
	info, err := d.File.Stat()
	if err != nil {
		return nil, err
	}
	return renamedInfo{FileInfo: info, name: d.name}, nil
}

func (d *renamedDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if rd, ok := d.File.(fs.ReadDirFile); ok {
		return rd.ReadDir(n)
	}
	return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: fs.ErrInvalid}
}

type renamedInfo struct {
	fs.FileInfo
	name string
}

func (i renamedInfo) Name() string { return i.name }
