package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathbot/pathbot/internal/health"
	"github.com/pathbot/pathbot/internal/migrate"
	"github.com/pathbot/pathbot/internal/pgcluster"
	"github.com/pathbot/pathbot/internal/slackemu"
)

// database is the Postgres the bot writes to during the run.
type database struct {
	url        string
	pool       *pgxpool.Pool // the load test's own small pool, for settings and the final check
	external   bool          // DATABASE_URL: shared with others, so clean up our team afterwards
	postmaster int           // pid to measure, 0 when the server is not ours
	cluster    *pgcluster.Cluster
	dir        string
	reaper     *pgcluster.Reaper
	log        *slog.Logger
}

// startDatabase opens DATABASE_URL, or starts a throwaway durable cluster in a temporary
// directory, and migrates it.
func startDatabase(ctx context.Context, url string, log *slog.Logger) (*database, error) {
	db := &database{url: url, external: url != "", log: log}
	if db.external {
		if err := loopbackOnly(url); err != nil {
			return nil, err
		}
	} else if err := db.startCluster(ctx); err != nil {
		return nil, err
	}
	if err := migrate.Up(ctx, db.url, nil); err != nil {
		db.close(context.WithoutCancel(ctx), "")
		return nil, err
	}
	pool, err := pgxpool.New(ctx, db.url)
	if err != nil {
		db.close(context.WithoutCancel(ctx), "")
		return nil, fmt.Errorf("connect to %s: %w", redact(db.url), err)
	}
	db.pool = pool
	return db, nil
}

// loopbackOnly refuses a DATABASE_URL off this machine: a load test writes hundreds of thousands
// of rows and belongs nowhere near a shared server.
func loopbackOnly(url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	host := cfg.Host
	if strings.HasPrefix(host, "/") || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("DATABASE_URL points at %q: the load test only runs against a database on this machine (loopback or a Unix socket); unset DATABASE_URL to use a throwaway one", host)
}

func (db *database) startCluster(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "pathbot-loadtest-pg-")
	if err != nil {
		return fmt.Errorf("create database directory: %w", err)
	}
	// MkdirTemp makes it 0700; run as root, the server runs as the postgres user and must get in.
	if err := os.Chmod(dir, 0o711); err != nil {
		_ = os.RemoveAll(dir)
		return fmt.Errorf("open database directory to the server's user: %w", err)
	}
	r, err := pgcluster.StartReaper(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	db.dir, db.reaper = dir, r
	// Durable: fsync, synchronous_commit and full_page_writes on, as in production, so every
	// answered write really is on disk and the number includes what that costs.
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Durable: true, Logger: db.log})
	if err != nil {
		db.close(context.WithoutCancel(ctx), "")
		return fmt.Errorf("start throwaway postgres: %w", err)
	}
	db.cluster = c
	admin, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		db.close(context.WithoutCancel(ctx), "")
		return fmt.Errorf("connect to throwaway postgres: %w", err)
	}
	_, err = admin.Exec(ctx, "CREATE DATABASE pathbot")
	_ = admin.Close(ctx)
	if err != nil {
		db.close(context.WithoutCancel(ctx), "")
		return fmt.Errorf("create database: %w", err)
	}
	db.url = c.URL("pathbot")
	if b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid")); err == nil {
		first, _, _ := strings.Cut(string(b), "\n")
		db.postmaster, _ = strconv.Atoi(strings.TrimSpace(first))
	}
	return nil
}

// settings reports the server settings that decide what a write costs.
func (db *database) settings(ctx context.Context) (map[string]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT name, current_setting(name) FROM pg_settings
	    WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'full_page_writes', 'wal_level',
	                   'shared_buffers', 'max_connections', 'commit_delay', 'wal_sync_method')`)
	if err != nil {
		return nil, fmt.Errorf("read postgres settings: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var kv [2]string
		err := r.Scan(&kv[0], &kv[1])
		return kv, err
	})
	if err != nil {
		return nil, fmt.Errorf("read postgres settings: %w", err)
	}
	m := make(map[string]string, len(out))
	for _, kv := range out {
		m[kv[0]] = kv[1]
	}
	return m, nil
}

// close removes the run's rows from a shared database, or stops and deletes the throwaway one.
func (db *database) close(ctx context.Context, team string) {
	if db.external && db.pool != nil && team != "" {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		// members cascade to progress, shifts and activity; the others have no foreign key.
		for _, q := range []string{
			`DELETE FROM river_job WHERE args->>'team_id' = $1`,
			`DELETE FROM processed_commands WHERE team_id = $1`,
			`DELETE FROM deliveries WHERE team_id = $1`,
			`DELETE FROM teams WHERE team_id = $1`,
		} {
			if _, err := db.pool.Exec(ctx, q, team); err != nil {
				db.log.Warn("could not remove the load test's rows", "team", team, "err", err)
			}
		}
	}
	if db.pool != nil {
		db.pool.Close()
	}
	if db.cluster != nil {
		if err := db.cluster.Stop(); err != nil {
			db.log.Warn("stop throwaway postgres", "err", err)
		}
	}
	if db.dir != "" {
		if err := os.RemoveAll(db.dir); err != nil {
			db.log.Warn("remove throwaway postgres", "dir", db.dir, "err", err)
		}
	}
	if db.reaper != nil {
		db.reaper.Release()
	}
}

// redact hides the password of a connection URL for messages.
func redact(url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "DATABASE_URL"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// startEmulator runs the Slack emulator on loopback with one member per simulated user.
func startEmulator(team string, users []string) (*slackemu.Server, error) {
	emu := slackemu.New(slackemu.Config{
		TeamID: team,
		// The run ends when every request has: a response_url answer later than this is a
		// failure anyway.
		AnswerTimeout: 10 * time.Second,
		// Only the latest answers per conversation are kept; the load test reads each answer from
		// its Result, and a long run would otherwise hold every message ever sent.
		HistoryLimit: 16,
	})
	if err := emu.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	members := make([]slackemu.User, len(users))
	for i, id := range users {
		members[i] = slackemu.User{ID: id, Name: "load" + strconv.Itoa(i), RealName: "Load User " + strconv.Itoa(i)}
	}
	emu.AddUsers(members...)
	return emu, nil
}

// bot is `pathbot serve` running as a child process.
type bot struct {
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	exited  chan struct{}
	waitErr error
	httpURL string
	// readyAt is the log's size when the bot became ready: what it logs at start-up (readiness
	// checks failing until the database answers) is not about the load.
	readyAt int64
}

// startBot runs bin serve against the emulator and the database and waits until it is connected
// and ready. env holds the bot's whole environment.
func startBot(ctx context.Context, bin string, env []string, workDir string, connections int, emu *slackemu.Server) (*bot, error) {
	logPath := filepath.Join(workDir, "bot.log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create bot log: %w", err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("start bot %s: %w", bin, err)
	}
	b := &bot{cmd: cmd, logPath: logPath, logFile: f, exited: make(chan struct{})}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HTTP_ADDR="); ok {
			b.httpURL = "http://" + v
		}
	}
	go func() {
		b.waitErr = cmd.Wait()
		close(b.exited)
	}()
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	ready := make(chan error, 1)
	go func() {
		if err := emu.WaitConnections(wctx, connections); err != nil {
			ready <- err
			return
		}
		for {
			err := health.Probe(wctx, b.httpURL+"/readyz")
			if err == nil || wctx.Err() != nil {
				ready <- err
				return
			}
			select {
			case <-wctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	select {
	case err = <-ready:
	case <-b.exited:
		err = fmt.Errorf("exited at start: %v", b.waitErr)
	}
	if err != nil {
		_, _, _ = b.stop()
		return nil, fmt.Errorf("bot did not become ready: %w%s", err, b.logTail())
	}
	if fi, err := f.Stat(); err == nil {
		b.readyAt = fi.Size()
	}
	return b, nil
}

func (b *bot) pid() int { return b.cmd.Process.Pid }

// stopGrace is how long the bot gets to exit after SIGTERM; Kubernetes' default grace period is
// 30 s, after which it would be killed too.
const stopGrace = 30 * time.Second

// stop asks the bot to drain and exit, as an orchestrator would, and kills it if it will not. It
// returns how long the exit took and whether the bot had to be killed; err is an unclean exit.
func (b *bot) stop() (took time.Duration, killed bool, err error) {
	defer b.logFile.Close()
	select {
	case <-b.exited:
		return 0, false, b.waitErr
	default:
	}
	start := time.Now()
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(stopGrace):
		_ = b.cmd.Process.Kill()
		<-b.exited
		return time.Since(start), true, nil
	}
	if b.waitErr != nil {
		return time.Since(start), false, fmt.Errorf("bot exited: %w%s", b.waitErr, b.logTail())
	}
	return time.Since(start), false, nil
}

// logSinceReady is what the bot logged (at warn level or above) after it became ready.
func (b *bot) logSinceReady() []byte {
	data, err := os.ReadFile(b.logPath)
	if err != nil || int64(len(data)) < b.readyAt {
		return nil
	}
	return data[b.readyAt:]
}

// logLines counts the lines logged under load.
func (b *bot) logLines() int { return bytes.Count(b.logSinceReady(), []byte("\n")) }

// logTail is the end of the bot's log, to explain a failure.
func (b *bot) logTail() string {
	data := b.logSinceReady()
	if len(data) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "\nbot log (last lines):\n  " + strings.Join(lines, "\n  ")
}

// cpuProfile fetches a CPU profile of the bot over d from its pprof endpoint (PPROF=true) and
// writes it to path, for `go tool pprof`.
func (b *bot) cpuProfile(ctx context.Context, d time.Duration, path string) error {
	secs := max(int(d.Round(time.Second)/time.Second), 1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", b.httpURL, secs), nil)
	if err != nil {
		return fmt.Errorf("bot CPU profile: %w", err)
	}
	resp, err := (&http.Client{Timeout: d + 30*time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("bot CPU profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bot CPU profile: %s (does this pathbot honour PPROF?)", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bot CPU profile: %w", err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return fmt.Errorf("bot CPU profile: write %s: %w", path, err)
	}
	return f.Close()
}

// freeAddr is a loopback address nobody listens on, for the bot's health server.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}
