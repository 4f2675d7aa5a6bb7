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
