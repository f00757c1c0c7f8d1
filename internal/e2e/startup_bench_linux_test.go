package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pathbot/pathbot/internal/loadtest"
	"github.com/pathbot/pathbot/internal/pgtest"
	"github.com/pathbot/pathbot/internal/slackemu"
)

// The footprint of `pathbot serve` as it ships (CGO_ENABLED=0, -trimpath, production defaults:
// JSON logs at info, River jobs on, DB_MAX_CONNS=20, MIGRATE_ON_START=true) against an already
// migrated database and the emulator:
//
//	go test -run '^$' -bench Startup -count 6 ./internal/e2e/                      # (b) start-up
//	PATHBOT_BIG=1 go test -run '^$' -bench ServeIdle -count 3 ./internal/e2e/      # (a) idle RSS
//
// or `make bench-startup` for both. Time counts from exec: "connect" is the first Socket Mode
// link seen by the emulator, "ready" the first /readyz 200 (polled only after the link is up, so
// the probe does not load the start-up it measures). Memory is VmRSS and VmHWM from /proc.

var shipped struct {
	once sync.Once
	bin  string
	err  error
}

// shippedBinary builds ./cmd/pathbot the way `make build` and the Dockerfile do; TestMain's
// binary keeps cgo, which links libc and changes both start-up and RSS.
func shippedBinary(b *testing.B) string {
	b.Helper()
	shipped.once.Do(func() {
		dir, err := os.MkdirTemp("", "pathbot-bench-")
		if err != nil {
			shipped.err = err
			return
		}
		if err := removeAtExit(dir); err != nil {
			_ = os.RemoveAll(dir)
			shipped.err = err
			return
		}
		bin := filepath.Join(dir, "pathbot")
		build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/pathbot")
		build.Dir = repoRoot
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			shipped.err = fmt.Errorf("go build ./cmd/pathbot: %w\n%s", err, out)
			return
		}
		shipped.bin = bin
	})
	if shipped.err != nil {
		b.Fatal(shipped.err)
	}
	return shipped.bin
}

// serveProc is one `pathbot serve` under measurement.
type serveProc struct {
	cmd     *exec.Cmd
	out     *syncBuffer
	exited  chan struct{}
	err     error
	start   time.Time
	httpURL string
}

func launchServe(b *testing.B, bin string, emu *slackemu.Server, db string) *serveProc {
	b.Helper()
	addr := freeAddr(b) // a port for HTTP_ADDR, so /readyz can be polled without reading logs
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"SLACK_API_URL="+emu.APIURL(),
		"SLACK_APP_TOKEN="+emu.Config().AppToken,
		"SLACK_BOT_TOKEN="+emu.Config().BotToken,
		"DATABASE_URL="+db,
		"HTTP_ADDR="+addr,
		"LOG_FORMAT=json",
		"LOG_LEVEL=info",
		"LEADERBOARD_CHANNEL="+slackemu.LeaderboardChannelID,
	)
	if extra := os.Getenv("PATHBOT_BENCH_ENV"); extra != "" {
		// Knobs to try on the bot alone, e.g. PATHBOT_BENCH_ENV="GOGC=50 DB_MAX_CONNS=4".
		cmd.Env = append(cmd.Env, strings.Fields(extra)...)
	}
	p := &serveProc{cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{}), httpURL: "http://" + addr}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = botProcAttr()
	started := make(chan error, 1)
	go func() {
		// Pdeathsig follows the starting thread; keep it alive as long as the child.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		p.start = time.Now()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.exited)
	}()
	if err := <-started; err != nil {
		b.Fatalf("start %s serve: %v", bin, err)
	}
	return p
}

// waitUp returns the time from exec to the first Socket Mode link and to the first /readyz 200.
func (p *serveProc) waitUp(b *testing.B, emu *slackemu.Server) (connect, ready time.Duration) {
	b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	fail := func(what string) {
		select {
		case <-p.exited:
			b.Fatalf("pathbot serve exited before %s: %v\n%s", what, p.err, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			p.kill()
			b.Fatalf("pathbot serve not %s within 30 s\n%s", what, p.out.String())
		}
	}
	for emu.Connections() < 1 {
		fail("connected")
		time.Sleep(500 * time.Microsecond)
	}
	connect = time.Since(p.start)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(p.httpURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		fail("ready")
		time.Sleep(2 * time.Millisecond)
	}
	ready = time.Since(p.start)
	client.CloseIdleConnections()
	return connect, ready
}

// stop sends SIGTERM and waits for a clean exit.
func (p *serveProc) stop(b *testing.B) {
	b.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if p.err != nil {
			b.Errorf("pathbot serve exit after SIGTERM: %v\n%s", p.err, p.out.String())
		}
	case <-time.After(15 * time.Second):
		p.kill()
		b.Errorf("pathbot serve did not stop within 15 s of SIGTERM\n%s", p.out.String())
	}
}

func (p *serveProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// memory reads the resident set and its peak of a process.
func memory(pid int) (rss, hwm int64, err error) {
	if rss, err = loadtest.ProcStatusBytes(pid, "VmRSS"); err != nil {
		return 0, 0, err
	}
	hwm, err = loadtest.ProcStatusBytes(pid, "VmHWM")
	return rss, hwm, err
}

// benchWorld is the emulator and an already migrated database shared by every start of one
// benchmark: each start after the first is a restart, as in a rollout.
func benchWorld(b *testing.B) (*slackemu.Server, string) {
	b.Helper()
	db := pgtest.NewDatabase(b)
	emu := slackemu.New(slackemu.Config{})
	emu.SeedTeammates()
	if err := emu.Start("127.0.0.1:0"); err != nil {
		b.Fatalf("start the emulator: %v", err)
	}
	b.Cleanup(func() { _ = emu.Close() })
	return emu, db
}

// waitGone waits until the emulator has dropped the links of a bot that exited, so the next
// start's first link is its own.
func waitGone(b *testing.B, emu *slackemu.Server) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := emu.WaitFor(ctx, func() bool { return emu.Connections() == 0 }); err != nil {
		b.Fatalf("links of the stopped bot still open: %v", err)
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

const mb = 1 << 20

// BenchmarkStartup starts `pathbot serve` once per iteration against a migrated database (no
// migration pending) and reports the medians of exec → first Socket Mode link (connect-ms) and
// exec → /readyz 200 (ready-ms, the target is ≤ 1 s), with RSS and its high-water mark at ready.
// ns/op includes the SIGTERM shutdown and is not the figure to read.
func BenchmarkStartup(b *testing.B) {
	bin := shippedBinary(b)
	emu, db := benchWorld(b)
	var connect, ready, rss, hwm []float64
	for b.Loop() {
		p := launchServe(b, bin, emu, db)
		c, r := p.waitUp(b, emu)
		res, peak, err := memory(p.cmd.Process.Pid)
		if err != nil {
			p.kill()
			b.Fatal(err)
		}
		p.stop(b)
		waitGone(b, emu)
		connect = append(connect, float64(c.Microseconds())/1e3)
		ready = append(ready, float64(r.Microseconds())/1e3)
		rss = append(rss, float64(res)/mb)
		hwm = append(hwm, float64(peak)/mb)
	}
	b.ReportMetric(median(connect), "connect-ms")
	b.ReportMetric(median(ready), "ready-ms")
	b.ReportMetric(median(rss), "rss-ready-MB")
	b.ReportMetric(median(hwm), "hwm-ready-MB")
}

// BenchmarkServeIdle starts `pathbot serve`, lets it sit connected and idle (River's leader
// election and the minutely sweep keep running, as in production) for PATHBOT_IDLE (default
// 20s), sampling VmRSS every second, and reports the RSS at the end (rss-idle-MB; the target is
// ≤ 40 MB), the largest sample after ready (rss-max-MB) and VmHWM. It takes that long per
// iteration, so it runs only with PATHBOT_BIG=1.
func BenchmarkServeIdle(b *testing.B) {
	if os.Getenv("PATHBOT_BIG") != "1" {
		b.Skip("set PATHBOT_BIG=1 to measure the idle footprint (20 s per iteration)")
	}
	idle := 20 * time.Second
	if v := os.Getenv("PATHBOT_IDLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("PATHBOT_IDLE: %v", err)
		}
		idle = d
	}
	bin := shippedBinary(b)
	emu, db := benchWorld(b)
	var end, maxRSS, hwm []float64
	for b.Loop() {
		p := launchServe(b, bin, emu, db)
		p.waitUp(b, emu)
		var top, last, peak int64
		for t := time.Now(); time.Since(t) < idle; {
			time.Sleep(time.Second)
			r, h, err := memory(p.cmd.Process.Pid)
			if err != nil {
				p.kill()
				b.Fatal(err)
			}
			top, last, peak = max(top, r), r, h
		}
		p.stop(b)
		waitGone(b, emu)
		end = append(end, float64(last)/mb)
		maxRSS = append(maxRSS, float64(top)/mb)
		hwm = append(hwm, float64(peak)/mb)
	}
	b.ReportMetric(median(end), "rss-idle-MB")
	b.ReportMetric(median(maxRSS), "rss-max-MB")
	b.ReportMetric(median(hwm), "hwm-MB")
}
