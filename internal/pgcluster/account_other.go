//go:build !unix

package pgcluster

import (
	"log/slog"
	"os"
	"os/exec"
)

// account is who runs the server tools. Outside Unix there is no root to step down from, so the
// server always runs as the current user.
type account struct {
	cred     *struct{}
	uid, gid int
	home     string
}

func serverAccount() (account, error) { return account{}, nil }

func (a account) apply(*exec.Cmd) {}

func (a account) chown(string) error { return nil }

func (a account) chownTree(string, *slog.Logger) error { return nil }

func (a account) ensureTraversable(string, *slog.Logger) error { return nil }

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}
