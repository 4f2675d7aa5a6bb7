// Command lab is the one binary of every lab image. Called as sh, curl or
// wget it is that tool; otherwise its first argument names the program.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"coldstart/exercises/labs/apiworker"
	"coldstart/exercises/labs/awssim"
	"coldstart/exercises/labs/lbprobe"
	"coldstart/exercises/labs/pause"
	"coldstart/exercises/labs/relay"
	"coldstart/exercises/labs/reportreader"
	"coldstart/exercises/labs/runworker"
	"coldstart/exercises/labs/toolbox"
)

// programs maps a program name to its entry point, which returns the exit code.
var programs = map[string]func(args []string) int{
	"pause":         pause.Main,
	"relay-mux":     relay.MuxMain,
	"aws-sim":       awssim.Main,
	"report-reader": reportreader.Main,
	"api-worker":    apiworker.Main,
	"lb-probe":      lbprobe.Main,
	"run-worker":    runworker.Main,
	"sh":            toolbox.Sh,
	"curl":          toolbox.Curl,
	"wget":          toolbox.Wget,
}

func main() {
	name := filepath.Base(os.Args[0])
	args := os.Args[1:]
	if _, ok := programs[name]; !ok {
		if len(args) == 0 {
			usage()
			os.Exit(2)
		}
		name, args = args[0], args[1:]
	}
	prog, ok := programs[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "lab: unknown program %q\n", name)
		usage()
		os.Exit(2)
	}
	os.Exit(prog(args))
}

func usage() {
	names := make([]string, 0, len(programs))
	for n := range programs {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "usage: lab PROGRAM [ARG…]; programs: %v\n", names)
}
