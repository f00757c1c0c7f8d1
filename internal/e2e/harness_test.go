package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pathbot/pathbot/internal/pgtest"
	"github.com/pathbot/pathbot/internal/slackemu"
)

var (
	// pathbotBin is the binary under test, built once by TestMain.
	pathbotBin string
	// repoRoot is the module root, where artifacts/ and docs/ live.
	repoRoot string
	// binCleanup stays open for the life of the test process; see removeAtExit.
	binCleanup *os.File
)

func TestMain(m *testing.M) {
	if err := buildPathbot(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		os.Exit(1)
	}
	pgtest.Main(m)
}

// buildPathbot builds ./cmd/pathbot without -race: the tests race-check themselves, and the
// binary should run as it ships.
func buildPathbot() error {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("find the module root with `go env GOMOD`: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return fmt.Errorf("find the module root: `go env GOMOD` printed %q", gomod)
	}
	repoRoot = filepath.Dir(gomod)
	dir, err := os.MkdirTemp("", "pathbot-e2e-")
	if err != nil {
		return fmt.Errorf("create the build directory: %w", err)
	}
	if err := removeAtExit(dir); err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	bin := filepath.Join(dir, "pathbot")
	build := exec.Command("go", "build", "-o", bin, "./cmd/pathbot")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/pathbot: %w\n%s", err, out)
	}
	pathbotBin = bin
	return nil
}

// removeAtExit removes dir once this process has exited, by any route. pgtest.Main ends the
// process with os.Exit, so no deferred call would run; a small shell waits for its stdin,
// which the kernel closes when we exit, and then removes dir.
func removeAtExit(dir string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start the cleanup process: %w", err)
	}
	cmd := exec.Command("/bin/sh", "-c", `read -r _; rm -rf "$1"`, "e2e-cleanup", dir)
	cmd.Stdin = r
	cmd.SysProcAttr = cleanupProcAttr()
	err = cmd.Start()
	_ = r.Close()
	if err != nil {
		_ = w.Close()
		return fmt.Errorf("start the cleanup process: %w", err)
	}
	binCleanup = w
	return nil
}

// syncBuffer is a bytes.Buffer that a subprocess pipe and the test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is one test's world: a fresh database, an emulated workspace and the bot.
type harness struct {
	emu *slackemu.Server
	db  string
	bot *botProcess
}

// user is who acts in the tests unless a test says otherwise: a seeded teammate.
const user = "U0ASHA"

// newHarness starts the emulator and `pathbot serve` against a fresh database, and returns once
// the bot is connected. Everything stops when t ends.
func newHarness(t *testing.T) *harness {
	t.Helper()
	db := pgtest.NewDatabase(t)
	emu := slackemu.New(slackemu.Config{
		PingInterval: 2 * time.Second,
		// A lost answer should fail the test in seconds, not after the default 30.
		AnswerTimeout: 10 * time.Second,
	})
	emu.SeedTeammates()
	if err := emu.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("start the emulator: %v", err)
	}
	t.Cleanup(func() {
		if err := emu.Close(); err != nil {
			t.Errorf("close the emulator: %v", err)
		}
	})
	h := &harness{emu: emu, db: db}
	h.bot = startBot(t, emu, db)
	return h
}

// botProcess is `pathbot serve` running as a subprocess.
type botProcess struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{}
	err    error // cmd.Wait's, valid once exited is closed
	// ended is set by a test that stopped or killed the bot itself.
	ended bool
}

// startBot starts `pathbot serve`; env entries override the defaults below.
func startBot(t *testing.T, emu *slackemu.Server, db string, env ...string) *botProcess {
	t.Helper()
	cmd := exec.Command(pathbotBin, "serve")
	// Later entries win, so the machine's own DATABASE_URL or LOG_LEVEL cannot leak in.
	cmd.Env = append(os.Environ(),
		"SLACK_API_URL="+emu.APIURL(),
		"SLACK_APP_TOKEN="+emu.Config().AppToken,
		"SLACK_BOT_TOKEN="+emu.Config().BotToken,
		"DATABASE_URL="+db,
		"HTTP_ADDR=127.0.0.1:0",
		"LOG_FORMAT=json",
		"LOG_LEVEL=debug",
		"LEADERBOARD_CHANNEL="+slackemu.LeaderboardChannelID,
	)
	cmd.Env = append(cmd.Env, env...)
	b := &botProcess{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout = b.stderr
	cmd.Stderr = b.stderr
	cmd.SysProcAttr = botProcAttr()
	started := make(chan error, 1)
	go func() {
		// The kernel's parent-death signal follows the thread that started the child, so that
		// thread must live as long as the child: a bot must never outlive a crashed test binary.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		b.err = cmd.Wait()
		close(b.exited)
	}()
	if err := <-started; err != nil {
		t.Fatalf("start %s serve: %v", pathbotBin, err)
	}
	t.Cleanup(func() { b.stop(t) })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	connected := make(chan error, 1)
	go func() { connected <- emu.WaitConnections(ctx, 1) }()
	select {
	case err := <-connected:
		if err != nil {
			t.Fatalf("the bot did not connect: %v", err)
		}
	case <-b.exited:
		t.Fatalf("the bot exited before connecting: %v", b.err)
	}
	return b
}

// stop asks the bot to shut down as an orchestrator would (SIGTERM) and expects a clean exit in
// time; its log goes to the test output when the test failed.
func (b *botProcess) stop(t *testing.T) {
	select {
	case <-b.exited:
		if !b.ended {
			t.Errorf("the bot exited on its own during the test: %v", b.err)
		}
	default:
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.exited:
			if b.err != nil {
				t.Errorf("the bot's exit after SIGTERM: %v", b.err)
			}
		case <-time.After(15 * time.Second):
			_ = b.cmd.Process.Kill()
			<-b.exited
			t.Errorf("the bot did not stop within 15 s of SIGTERM; killed it")
		}
	}
	if t.Failed() {
		t.Logf("pathbot serve output:\n%s", b.stderr.String())
	}
}

// ctx is a deadline for one step of a test.
func ctx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

// slash runs /path text as user in their DM with the bot and fails unless it was answered.
func (h *harness) slash(t *testing.T, userID, text string) *slackemu.Result {
	t.Helper()
	res, err := h.emu.SlashCommand(ctx(t, 15*time.Second), userID, "", "/path", text)
	if err != nil {
		t.Fatalf("/path %s: %v", text, err)
	}
	if res.Error != "" || !res.Answered {
		t.Fatalf("/path %s: error %q, answered %v", text, res.Error, res.Answered)
	}
	return res
}

// shown is everything the messages of a result show: fallback text and blocks.
func shown(res *slackemu.Result) string {
	var b strings.Builder
	for _, m := range res.Messages {
		b.WriteString(m.Text)
		b.WriteByte('\n')
		b.Write(m.Blocks)
		b.WriteByte('\n')
	}
	return b.String()
}

// expect fails unless /path text answers with every one of want.
func (h *harness) expect(t *testing.T, text string, want ...string) *slackemu.Result {
	t.Helper()
	res := h.slash(t, user, text)
	got := shown(res)
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("/path %s: answer lacks %q:\n%s", text, w, got)
		}
	}
	return res
}
