//go:build unix

package loadtest

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// reaperScript waits for its stdin to close, which happens when the load test exits by any route
// (a second ^C, a crash, SIGKILL), then stops the Postgres server left running in $1 and removes
// the directory. pg_ctl daemonizes the server, so without this a killed run would leave a
// postgres behind for good. It is the same trick pgtest uses for test clusters.
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

// reaper is the cleanup process watching this one.
type reaper struct {
	w   *os.File // held open for the life of the process; the kernel closes it at exit
	cmd *exec.Cmd
}

func startReaper(dir string) (*reaper, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start cleanup process: %w", err)
	}
	cmd := exec.Command("/bin/sh", "-c", reaperScript, "pathbot-loadtest-reaper", dir)
	cmd.Stdin = r
	// Its own process group, so the ^C that stops the load test does not stop its cleanup too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	_ = r.Close()
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("start cleanup process: %w", err)
	}
	return &reaper{w: w, cmd: cmd}, nil
}

// release lets the reaper run now; after a normal cleanup it finds nothing left to do.
func (r *reaper) release() {
	_ = r.w.Close()
	_ = r.cmd.Wait()
}
