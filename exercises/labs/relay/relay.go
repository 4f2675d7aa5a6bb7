// Package relay is the lab program that carries the grader's TCP
// connections into a grading network. The grader runs it with docker exec in
// a helper container on that network and speaks frames to it over the exec's
// standard streams (see mux.go), so it reaches lab containers over the Docker
// API alone, as kubectl port-forward does over the Kubernetes API: the
// grading network needs no route to the grader, and the host needs no
// address on it.
package relay

import "time"

// DialTimeout bounds one connection attempt inside the network.
const DialTimeout = 3 * time.Second
