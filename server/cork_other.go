//go:build !linux

package server

import "syscall"

func setCork(syscall.RawConn, bool) {}

const canCork = false
