//go:build !linux

package e2e

import "syscall"

// botProcAttr has no parent-death signal to ask for outside Linux; Cleanup stops the bot.
func botProcAttr() *syscall.SysProcAttr { return nil }

// cleanupProcAttr keeps the default process group outside Linux.
func cleanupProcAttr() *syscall.SysProcAttr { return nil }
