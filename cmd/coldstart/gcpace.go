package main

import (
	"os"
	"runtime/debug"
)

// serveGCPercent is the garbage collector's target for serve. The server's
// live heap is small (about 5 MiB with the built-in course), so with Go's
// default of 100 a busy server collects every few hundred page views; at
// 400 it collects a quarter as often and its heap stays in the tens of MiB.
const serveGCPercent = 400

// paceGC sets serveGCPercent unless GOGC says otherwise.
func paceGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serveGCPercent)
	}
}
