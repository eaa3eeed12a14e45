//go:build !linux

package e2e

import "syscall"

// sysProcAttr has nothing to add outside Linux: the tests' cleanups kill
// the node subprocesses.
func sysProcAttr() *syscall.SysProcAttr { return nil }
