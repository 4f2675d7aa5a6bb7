package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"coldstart/content/builtin"
)

const initUsage = `Usage: coldstart init [--force] DIR

Writes the built-in course (course.yaml, lessons/, exercises/) to DIR as a
starting point for a course of your own. DIR must be empty or not exist,
unless --force is given.

Then: coldstart serve --course DIR --watch   (edit and preview)
      coldstart check DIR                    (validate and grade the answers)
`

func runInit(ctx context.Context, args []string, s Streams) error {
	fl := flag.NewFlagSet("init", flag.ContinueOnError)
	fl.SetOutput(s.Stderr)
	fl.Usage = func() { fmt.Fprint(s.Stderr, initUsage) }
	force := fl.Bool("force", false, "write into a directory that is not empty, replacing files of the same name")
	rest, err := parseInterspersed(fl, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		fmt.Fprint(s.Stderr, initUsage)
		return errUsage
	}
	dir := rest[0]
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 && !*force {
		return fmt.Errorf("%s is not empty; choose an empty directory, or add --force to write into it anyway", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot use %s: %w", dir, err)
	}
	n, err := writeTree(ctx, dir, builtin.FS())
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Stdout, "Wrote the built-in course to %s (%d files).\n\nPreview it while you edit:  coldstart serve --course %s --watch\nCheck it before you ship:  coldstart check %s\n", dir, n, dir, dir)
	return nil
}

// writeTree copies every file of fsys into dir, replacing files of the same
// name, and returns how many files it wrote.
func writeTree(ctx context.Context, dir string, fsys fs.FS) (int, error) {
	n := 0
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, data, 0o644); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("write the course to %s: %w", dir, err)
	}
	return n, nil
}

// parseInterspersed parses flags that may come before or after the
// positional arguments ("init DIR --force" as well as "init --force DIR").
func parseInterspersed(fl *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fl.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		args = fl.Args()
		if len(args) == 0 {
			return rest, nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}
