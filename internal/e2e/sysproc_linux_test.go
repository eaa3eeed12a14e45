package e2e

import "syscall"

// sysProcAttr makes a node subprocess die with the test binary, even when
// the test binary is killed before its cleanups run (a test timeout).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
