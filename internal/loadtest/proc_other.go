//go:build !linux

package loadtest

import (
	"errors"
	"os/exec"
	"runtime"
)

// Elsewhere than Linux there is no /proc: the load test still runs and checks correctness, and
// the report leaves the CPU and memory figures out.
var errNoProc = errors.New("process accounting needs Linux /proc")

func procCPU(int, bool) (float64, error)           { return 0, errNoProc }
func treeCPU(int) (float64, error)                 { return 0, errNoProc }
func ProcStatusBytes(int, string) (int64, error)   { return 0, errNoProc }
func machineCPU() (busy, total float64, err error) { return 0, 0, errNoProc }
func dieWithParent(*exec.Cmd)                      {}
func machineInfo() Machine {
	return Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
}

func renice(int, int) error { return errNoProc }
