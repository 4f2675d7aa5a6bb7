package sandbox

import (
	"sync/atomic"
	"time"
)

var labBuildObserver atomic.Pointer[func(LabBuild, time.Duration, error)]

// ObserveLabBuilds sets a function told of every lab image the sandbox
// obtains: built, found already built (b.Built false), or failed. The
// server counts them for its metrics. nil stops the reports.
func ObserveLabBuilds(f func(b LabBuild, took time.Duration, err error)) {
	if f == nil {
		labBuildObserver.Store(nil)
		return
	}
	labBuildObserver.Store(&f)
}

func reportLabBuild(b LabBuild, start time.Time, err error) {
	if f := labBuildObserver.Load(); f != nil {
		(*f)(b, time.Since(start), err)
	}
}

var containerStartObserver atomic.Pointer[func(time.Duration, error)]

// ObserveContainerStarts sets a function told of every grading container
// the sandbox creates and starts: how long the engine took, and its error
// when it refused. nil stops the reports.
func ObserveContainerStarts(f func(took time.Duration, err error)) {
	if f == nil {
		containerStartObserver.Store(nil)
		return
	}
	containerStartObserver.Store(&f)
}

func reportContainerStart(start time.Time, err error) {
	if f := containerStartObserver.Load(); f != nil {
		(*f)(time.Since(start), err)
	}
}

var relayDialObserver atomic.Pointer[func(time.Duration, error)]

// ObserveRelayDials sets a function told of every connection the grader
// opens through a relay: how long the relay took to connect it, and its
// error when it could not. Benchmarks count them per grading. nil stops
// the reports.
func ObserveRelayDials(f func(took time.Duration, err error)) {
	if f == nil {
		relayDialObserver.Store(nil)
		return
	}
	relayDialObserver.Store(&f)
}

func reportRelayDial(start time.Time, err error) {
	if f := relayDialObserver.Load(); f != nil {
		(*f)(time.Since(start), err)
	}
}
