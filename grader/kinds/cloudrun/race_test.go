//go:build race

package cloudrun_test

// raceDetector is true when the tests run under the race detector, which
// slows the trial's own router and load generator several times over.
const raceDetector = true
