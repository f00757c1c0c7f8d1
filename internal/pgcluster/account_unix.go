//go:build unix

package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// account is who runs initdb, pg_ctl and postgres. PostgreSQL refuses to run as root, and CI and
// our dev containers run as root, so root hands the server to the postgres system user, which
// then has to own the data directory and be able to reach it.
type account struct {
	cred     *syscall.Credential // nil: run as ourselves
	uid, gid int
	home     string
}

func serverAccount() (account, error) {
	if os.Geteuid() != 0 {
		return account{uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return account{}, fmt.Errorf("running as root, which PostgreSQL refuses, and there is no postgres user to run it as "+
			"(installing the postgresql package creates one, or: useradd --system --home-dir /var/lib/postgresql postgres): %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return account{}, fmt.Errorf("postgres user has non-numeric uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return account{}, fmt.Errorf("postgres user has non-numeric gid %q: %w", u.Gid, err)
	}
	return account{
		// An empty Groups drops root's supplementary groups instead of keeping them.
		cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}},
		uid:  uid,
		gid:  gid,
		home: u.HomeDir,
	}, nil
}

func (a account) apply(cmd *exec.Cmd) {
	if a.cred == nil {
		return
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: a.cred}
	cmd.Env = append(cmd.Env, "HOME="+a.home, "USER=postgres", "LOGNAME=postgres")
}

// chown gives path to the server account when we are handing the server to another user.
func (a account) chown(path string) error {
	if a.cred == nil {
		return nil
	}
	if err := os.Lchown(path, a.uid, a.gid); err != nil {
		return fmt.Errorf("give %s to the postgres user: %w", path, err)
	}
	return nil
}

// chownTree fixes a data directory left by another user (say, a run before root was involved),
// which postgres would otherwise reject as having the wrong owner. Files already right are left
// alone, so a reused cluster costs one stat per file.
func (a account) chownTree(root string, logger *slog.Logger) error {
	if a.cred == nil {
		return nil
	}
	fi, err := os.Stat(root)
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == a.uid {
		return nil
	}
	logger.Warn("data directory is not owned by the postgres user; changing its owner", "dir", root)
	return filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return a.chown(path)
	})
}

// ensureTraversable makes dir and every parent searchable by the server account. os.MkdirTemp and
// t.TempDir create 0700 directories owned by root, which the postgres user could not enter. Only
// the search bit for others is added: nothing becomes listable or readable.
func (a account) ensureTraversable(dir string, logger *slog.Logger) error {
	if a.cred == nil {
		return nil
	}
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if !a.canSearch(fi) {
			mode := fi.Mode().Perm() | 0o001
			if err := os.Chmod(d, mode); err != nil {
				return fmt.Errorf("let the postgres user reach %s: %w", d, err)
			}
			logger.Warn("added the search permission for others so the postgres user can reach its data", "dir", d)
		}
		if parent := filepath.Dir(d); parent == d {
			return nil
		}
	}
}

func (a account) canSearch(fi fs.FileInfo) bool {
	perm := fi.Mode().Perm()
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return perm&0o001 != 0
	}
	switch {
	case int(st.Uid) == a.uid:
		return perm&0o100 != 0
	case int(st.Gid) == a.gid:
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// processAlive reports whether pid names a live process; EPERM means alive but someone else's.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
