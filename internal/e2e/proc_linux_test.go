package e2e

import "syscall"

// botProcAttr makes the kernel kill a bot whose test binary died, so that no bot outlives a
// crashed or timed-out run.
func botProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// cleanupProcAttr puts the cleanup shell in its own process group, so that a ^C aimed at
// `go test` does not stop it before it has cleaned up.
func cleanupProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
