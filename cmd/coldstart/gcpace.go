package main

import (
	"os"
	"runtime/debug"
)

// serveGCPercent is the garbage collector's target for serve. The server's
// live heap is small (about 10 MiB with the built-in course), so with Go's
// default of 100 a busy server collects every few hundred page views. At
// 200 it collects half as often; at 400 it served no more pages in
// scripts/bench-lesson.sh, and its peak RSS under that load went from
// 83 MiB to 103.
const serveGCPercent = 200

// paceGC sets serveGCPercent unless GOGC says otherwise.
func paceGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serveGCPercent)
	}
}
