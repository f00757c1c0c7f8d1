package loadtest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc. Linux has fixed it at 100 on every
// architecture Go supports, and reading it properly needs sysconf, i.e. cgo.
const clockTicks = 100

// procCPU returns the user+system CPU seconds of pid; with children it adds what its exited,
// reaped children used, which is how the work of Postgres backends that have gone is kept.
func procCPU(pid int, children bool) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may contain spaces and parentheses; the fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("unreadable /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
	if len(f) < 15 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	end := 13 // utime and stime
	if children {
		end = 15 // and cutime, cstime
	}
	var ticks int64
	for _, s := range f[11:end] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unreadable /proc/%d/stat: %w", pid, err)
		}
		ticks += v
	}
	return float64(ticks) / clockTicks, nil
}

// treeCPU is the CPU seconds of pid, everything it reaped, and its live children: a Postgres
// server's whole cost, since its backends are children of the postmaster.
func treeCPU(pid int) (float64, error) {
	total, err := procCPU(pid, true)
	if err != nil {
		return 0, err
	}
	kids, err := childrenOf(pid)
	if err != nil {
		return 0, err
	}
	for _, k := range kids {
		if c, err := procCPU(k, false); err == nil {
			total += c // a child that just exited is counted in the parent's reaped time instead
		}
	}
	return total, nil
}

func childrenOf(pid int) ([]int, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(pid) {
			continue
		}
		if k, err := strconv.Atoi(filepath.Base(filepath.Dir(d))); err == nil {
			out = append(out, k)
		}
	}
	return out, nil
}

// ProcStatusBytes reads a "kB" line such as VmHWM (peak resident set) from /proc/<pid>/status.
func ProcStatusBytes(pid int, key string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != key {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unreadable %s in /proc/%d/status: %w", key, pid, err)
		}
		return n * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", key, pid)
}

// machineCPU returns the busy and total CPU seconds of the whole machine, all cores summed, from
// /proc/stat; busy excludes idle and iowait.
func machineCPU() (busy, total float64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("unreadable /proc/stat")
	}
	var all, idle int64
	// user nice system idle iowait irq softirq steal; guest time is already inside user.
	for i, s := range f[1:min(len(f), 9)] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("unreadable /proc/stat: %w", err)
		}
		all += v
		if i == 3 || i == 4 {
			idle += v
		}
	}
	return float64(all-idle) / clockTicks, float64(all) / clockTicks, nil
}

// machineInfo describes the host from /proc.
func machineInfo() Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		logical := 0
		for line := range strings.Lines(string(b)) {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch strings.TrimSpace(k) {
			case "model name":
				if m.CPUModel == "" {
					m.CPUModel = strings.TrimSpace(v)
				}
			case "processor":
				logical++
			}
		}
		if logical > 0 {
			m.Cores = logical
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				m.MemoryBytes = kb * 1024
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// dieWithParent makes the bot get SIGTERM if the load test dies without stopping it, so a killed
// run never leaves a bot connected to nothing.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

// renice gives every thread of pid, and of its children, the niceness n. Linux keeps niceness per
// thread and a new thread or process takes its creator's, so what the bot or the postmaster
// starts later inherits it too.
func renice(pid, n int) error {
	kids, err := childrenOf(pid)
	if err != nil {
		return err
	}
	for _, p := range append([]int{pid}, kids...) {
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", p))
		if err != nil {
			if p == pid {
				return err
			}
			continue // a backend that just exited
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, n); err != nil && p == pid {
				return fmt.Errorf("renice thread %d of %d: %w", tid, pid, err)
			}
		}
	}
	return nil
}
