package devenv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sethvargo/go-envconfig"

	"github.com/pathbot/pathbot/internal/config"
	"github.com/pathbot/pathbot/internal/devenv"
	"github.com/pathbot/pathbot/internal/pgtest"
	"github.com/pathbot/pathbot/internal/slackemu"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// logBuffer collects the environment's logs and shows them only when the test failed; the
// bot can still log while it shuts down, after t.Log would no longer be allowed.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	b := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			b.mu.Lock()
			defer b.mu.Unlock()
			t.Logf("dev environment logs:\n%s", b.buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// baseConfig is the configuration an empty environment gives, so that the test machine's
// variables (DATABASE_URL, LOG_LEVEL, …) cannot change what is tested.
func baseConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.LoadFrom(t.Context(), envconfig.MapLookuper(map[string]string{}), 0)
	if err != nil {
		t.Fatalf("default config: %v", err)
	}
	return cfg
}

func start(t *testing.T, ctx context.Context, opt devenv.Options) *devenv.Env {
	t.Helper()
	if opt.Addr == "" {
		opt.Addr = "127.0.0.1:0"
	}
	if opt.HTTPAddr == "" {
		opt.HTTPAddr = "127.0.0.1:0"
	}
	opt.Base = baseConfig(t)
	opt.Logger = testLogger(t)
	env, err := devenv.Start(ctx, opt)
	if err != nil {
		t.Fatalf("devenv.Start: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return env
}

// slash runs /path text as Asha and returns what she saw, blocks included.
func slash(t *testing.T, env *devenv.Env, text string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := env.Emulator.SlashCommand(ctx, "U0ASHA", "", "/path", text)
	if err != nil {
		t.Fatalf("/path %s: %v", text, err)
	}
	if res.Error != "" || !res.Answered {
		t.Fatalf("/path %s: error %q, answered %v", text, res.Error, res.Answered)
	}
	var b strings.Builder
	for _, m := range res.Messages {
		b.WriteString(m.Text)
		b.Write(m.Blocks)
	}
	return b.String()
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", url, resp.StatusCode, body)
	}
	return string(body)
}

func TestStartRunsTheBotOnTheEmulator(t *testing.T) {
	t.Parallel()
	env := start(t, context.Background(), devenv.Options{DatabaseURL: pgtest.NewDatabase(t)})

	if page := get(t, env.URL+"/"); !strings.Contains(page, `id="composer"`) {
		t.Errorf("the UI page has no composer:\n%s", page)
	}
	if got := slash(t, env, "status"); !strings.Contains(got, "Readings 0/23") {
		t.Errorf("/path status = %s, want Readings 0/23", got)
	}
	if got := get(t, env.MetricsURL); !strings.Contains(got, "pathbot_") {
		t.Errorf("%s has no pathbot series", env.MetricsURL)
	}

	// The UI's header links to the bot's metrics.
	var state struct{ Links map[string]string }
	if err := json.Unmarshal([]byte(get(t, env.URL+"/ui/state")), &state); err != nil {
		t.Fatalf("decode /ui/state: %v", err)
	}
	if state.Links["metrics"] != env.MetricsURL {
		t.Errorf("UI links = %v, want metrics %s", state.Links, env.MetricsURL)
	}
	if got, want := env.Config.LeaderboardChannel, slackemu.LeaderboardChannelID; got != want {
		t.Errorf("LEADERBOARD_CHANNEL = %q, want #path-leaderboard %q", got, want)
	}
	if env.Config.MigrateOnStart || env.Config.LogFormat != "text" || env.Config.SlackAPIURL != env.Emulator.APIURL() {
		t.Errorf("bot config: migrate on start %v, log format %q, Slack API %q; want false, text, %q",
			env.Config.MigrateOnStart, env.Config.LogFormat, env.Config.SlackAPIURL, env.Emulator.APIURL())
	}
	if len(env.Emulator.Users()) < 8 {
		t.Errorf("want the bot and seven seeded teammates, got %d users", len(env.Emulator.Users()))
	}

	if err := env.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := http.Get(env.URL + "/"); err == nil {
		t.Errorf("the emulator still answers after Stop")
	}
	if _, err := http.Get(env.MetricsURL); err == nil {
		t.Errorf("the bot still answers after Stop")
	}
}

// TestStartKeepsProgressInItsOwnCluster is `pathbot dev` without DATABASE_URL: a private cluster
// that is stopped on exit and reused, data and all, on the next start.
func TestStartKeepsProgressInItsOwnCluster(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "postgres")

	ctx, cancel := context.WithCancel(context.Background())
	env := start(t, ctx, devenv.Options{DataDir: dir})
	if env.DataDir != dir {
		t.Errorf("DataDir = %q, want %q", env.DataDir, dir)
	}
	if got := slash(t, env, "done tail-at-scale"); !strings.Contains(got, "is done") {
		t.Fatalf("/path done tail-at-scale = %s", got)
	}
	// Ending the context is how Ctrl-C stops `pathbot dev`.
	cancel()
	select {
	case <-env.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the bot did not stop after its context ended")
	}
	if err := env.Wait(); err != nil {
		t.Fatalf("wait: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the cluster is still running after the environment stopped (postmaster.pid: %v)", err)
	}

	again := start(t, context.Background(), devenv.Options{DataDir: dir})
	if got := slash(t, again, "status"); !strings.Contains(got, "Readings 1/23") {
		t.Errorf("after a restart /path status = %s, want Readings 1/23", got)
	}
}

func TestStartNamesATakenAddress(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().String()
	// Nothing reaches the database: the ports are checked first.
	unused := "postgres://nobody@127.0.0.1:1/none"

	for _, tc := range []struct {
		name string
		opt  devenv.Options
		flag string
	}{
		{"emulator", devenv.Options{Addr: taken, HTTPAddr: "127.0.0.1:0", DatabaseURL: unused}, "-addr"},
		{"metrics", devenv.Options{Addr: "127.0.0.1:0", HTTPAddr: taken, DatabaseURL: unused}, "-http-addr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.Base = baseConfig(t)
			tc.opt.Logger = testLogger(t)
			env, err := devenv.Start(context.Background(), tc.opt)
			if err == nil {
				_ = env.Stop()
				t.Fatal("Start succeeded on a taken address")
			}
			if msg := err.Error(); !strings.Contains(msg, taken) || !strings.Contains(msg, "already in use") || !strings.Contains(msg, tc.flag) {
				t.Errorf("error %q should name %s, say it is already in use and point at %s", msg, taken, tc.flag)
			}
		})
	}
}

// TestDevButtonsSendNudgesAndTheLeaderboard clicks the web UI's dev buttons: the enrolled user gets
// a nudge in their DM and the leaderboard appears in #path-leaderboard, without waiting a week.
func TestDevButtonsSendNudgesAndTheLeaderboard(t *testing.T) {
	t.Parallel()
	env := start(t, context.Background(), devenv.Options{DatabaseURL: pgtest.NewDatabase(t)})
	slash(t, env, "done tail-at-scale") // enrols Asha with some points

	var state struct {
		DevActions []string `json:"dev_actions"`
	}
	if err := json.Unmarshal([]byte(get(t, env.URL+"/ui/state")), &state); err != nil {
		t.Fatal(err)
	}
	click := func(label string) {
		t.Helper()
		for i, l := range state.DevActions {
			if l == label {
				body, _ := json.Marshal(map[string]any{"index": i})
				resp, err := http.Post(env.URL+"/ui/dev-action", "application/json", bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: status %d", label, resp.StatusCode)
				}
				return
			}
		}
		t.Fatalf("no dev button %q in %v", label, state.DevActions)
	}
	click("Send everyone's weekly nudge now")
	click("Post the leaderboard now")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	emu := env.Emulator
	err := emu.WaitFor(ctx, func() bool {
		dm := emu.Messages(emu.DMChannel("U0ASHA"))
		board := emu.Messages(slackemu.LeaderboardChannelID)
		return len(dm) > 0 && strings.Contains(string(dm[len(dm)-1].Blocks), "Snooze a week") &&
			len(board) > 0 && strings.Contains(string(board[len(board)-1].Blocks), "leaderboard")
	})
	if err != nil {
		t.Fatalf("no nudge in Asha's DM or no leaderboard post: %v", err)
	}
	// Let both jobs finish recording their delivery before the environment stops, so shutdown
	// does not race a job that is still talking to the emulator.
	conn, err := pgx.Connect(ctx, env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for {
		var sent int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE status = 'sent'`).Scan(&sent); err != nil {
			t.Fatalf("deliveries: %v", err)
		}
		var running int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'running'`).Scan(&running); err != nil {
			t.Fatalf("river jobs: %v", err)
		}
		if sent >= 2 && running == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
