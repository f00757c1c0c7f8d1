//go:build unix

package pgcluster

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// reaperScript waits for its stdin to close, which happens when the owning process exits by any
// route (a panic, os.Exit, a signal, SIGKILL), then stops the cluster left running in $1 and
// removes the directory. pg_ctl daemonizes the server, so without this a crashed test run or load
// test would leave a postgres behind for good.
const reaperScript = `
read -r _
pidfile="$1/data/postmaster.pid"
if [ -f "$pidfile" ]; then
	pid=$(head -n 1 "$pidfile")
	if kill -INT "$pid" 2>/dev/null; then
		n=0
		while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 100 ]; do sleep 0.1; n=$((n+1)); done
	fi
fi
rm -rf "$1"
`

// Reaper is a cleanup process watching this one: when this process exits, however it exits, the
// reaper stops the throwaway cluster in its directory and removes the directory.
type Reaper struct {
	w   *os.File // held open for the life of the process; the kernel closes it at exit
	cmd *exec.Cmd
}

// StartReaper watches this process on behalf of the throwaway cluster in dir (Options.Dir).
func StartReaper(dir string) (*Reaper, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start cleanup process: %w", err)
	}
	cmd := exec.Command("/bin/sh", "-c", reaperScript, "pathbot-pg-reaper", dir)
	cmd.Stdin = r
	// Its own process group, so a ^C aimed at the owner does not kill it before it cleans up. No
	// stdout or stderr: `go test` waits for every holder of its output pipe to exit.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	_ = r.Close()
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("start cleanup process: %w", err)
	}
	return &Reaper{w: w, cmd: cmd}, nil
}

// Release lets the reaper run now; after a normal cleanup it finds nothing left to do.
func (r *Reaper) Release() {
	_ = r.w.Close()
	_ = r.cmd.Wait()
}
