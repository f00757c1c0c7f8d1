// Package pgcluster starts and stops a private PostgreSQL server from the binaries installed on
// the machine, so that tests and `pathbot dev` get a real database with no shared server, no
// container and no download. The server listens on 127.0.0.1 only and trusts every loopback
// connection as the postgres superuser; its data lives in a directory the caller chooses, so a
// developer's data survives restarts while a test's cluster goes away with its temp directory.
// When run as root it runs the server as the postgres system user, because PostgreSQL refuses
// root. Only when no installed binaries exist does it fall back to embedded-postgres, which
// downloads a PostgreSQL build.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options configures Start.
type Options struct {
	Dir     string       // data lives in Dir/data, created if missing; an existing cluster is reused
	Port    int          // 0 picks a free port on 127.0.0.1
	Durable bool         // false trades crash safety for speed (tests); true for data worth keeping
	Logger  *slog.Logger // nil discards
}

// Cluster is a running server started by Start.
type Cluster struct {
	dir    string
	port   int
	user   *url.Userinfo
	logger *slog.Logger
	stopFn func(context.Context) error

	mu      sync.Mutex
	stopped bool
}

const (
	startTimeout = 30 * time.Second
	stopTimeout  = 60 * time.Second
	// Each retry follows a failure that a new port or a short wait cures; more than a few means
	// something else is wrong.
	maxStartAttempts = 5
	logTailLines     = 20
)

// hooks are the parts of Start that tests replace to reach failure paths on demand.
type hooks struct {
	findBinaries  func() (string, error)
	freePort      func() (int, error)
	embeddedRepo  string // "" keeps embedded-postgres's default (Maven Central)
	embeddedCache string // "" keeps embedded-postgres's default (~/.embedded-postgres-go)
}

// Start runs a server on opt.Dir, creating the cluster first if needed, and returns once it
// accepts connections. A server still running on opt.Dir from an earlier, killed process is
// stopped and started again with opt's settings.
func Start(ctx context.Context, opt Options) (*Cluster, error) {
	return start(ctx, opt, hooks{findBinaries: FindBinaries, freePort: freePort})
}

func start(ctx context.Context, opt Options, h hooks) (*Cluster, error) {
	if opt.Dir == "" {
		return nil, errors.New("start postgres: Options.Dir is empty")
	}
	logger := opt.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(opt.Dir)
	if err != nil {
		return nil, fmt.Errorf("start postgres in %s: %w", opt.Dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start postgres in %s: %w", dir, err)
	}
	bin, findErr := h.findBinaries()
	if findErr != nil {
		c, embErr := startEmbedded(opt, dir, logger, h)
		if embErr != nil {
			return nil, fmt.Errorf("start postgres in %s: no installed PostgreSQL, and the embedded-postgres fallback failed (%v); %w",
				dir, embErr, findErr)
		}
		return c, nil
	}

	acct, err := serverAccount()
	if err != nil {
		return nil, fmt.Errorf("start postgres in %s: %w", dir, err)
	}
	s := &server{
		bin:     bin,
		dir:     dir,
		data:    filepath.Join(dir, "data"),
		logPath: filepath.Join(dir, "postgres.log"),
		acct:    acct,
		logger:  logger,
	}
	port, err := s.run(ctx, opt, h)
	if err != nil {
		return nil, fmt.Errorf("start postgres in %s: %w", dir, err)
	}
	logger.Info("postgres started", "dir", dir, "port", port, "bin", bin, "durable", opt.Durable)
	return &Cluster{
		dir:    dir,
		port:   port,
		user:   url.User("postgres"),
		logger: logger,
		stopFn: func(ctx context.Context) error { return s.stop(ctx, "fast") },
	}, nil
}

// URL returns a connection URL for dbname on this server.
func (c *Cluster) URL(dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     c.user,
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Stop shuts the server down, disconnecting clients (pg_ctl's fast mode). Calling it again after
// it succeeded does nothing.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if err := c.stopFn(ctx); err != nil {
		return fmt.Errorf("stop postgres in %s: %w", c.dir, err)
	}
	c.stopped = true
	c.logger.Info("postgres stopped", "dir", c.dir)
	return nil
}

// server drives the installed binaries on one data directory.
type server struct {
	bin, dir, data, logPath string
	acct                    account
	logger                  *slog.Logger
}

// run brings the cluster up and returns the port it listens on.
func (s *server) run(ctx context.Context, opt Options, h hooks) (int, error) {
	if err := s.acct.ensureTraversable(s.dir, s.logger); err != nil {
		return 0, err
	}
	if err := s.settlePrevious(ctx); err != nil {
		return 0, err
	}
	// Checked only now, as the server settlePrevious stopped may have held it, and before the
	// slow initdb so that a taken port fails fast.
	if opt.Port != 0 {
		if err := portFree(opt.Port); err != nil {
			return 0, err
		}
	}
	if err := s.initdb(ctx, opt.Durable); err != nil {
		return 0, err
	}
	if err := s.acct.chownTree(s.data, s.logger); err != nil {
		return 0, err
	}
	if err := s.prepareLog(); err != nil {
		return 0, err
	}
	for attempt := 1; ; attempt++ {
		port := opt.Port
		if port == 0 {
			p, err := h.freePort()
			if err != nil {
				return 0, err
			}
			port = p
		}
		if err := s.writeConf(port, opt.Durable); err != nil {
			return 0, err
		}
		err := s.launch(ctx, port)
		if err == nil {
			return port, nil
		}
		var se *startError
		if !errors.As(err, &se) || attempt == maxStartAttempts {
			return 0, err
		}
		switch {
		case opt.Port == 0 && se.portTaken():
			// Another process took the port between our probe and postgres's bind.
			s.logger.Info("port taken while postgres started; trying another", "port", port)
		case se.sharedMemoryBusy():
			// Children of a killed postmaster linger for a moment after it dies.
			s.logger.Info("processes of a killed server still hold its shared memory; retrying", "attempt", attempt)
			select {
			case <-ctx.Done():
				return 0, errors.Join(err, ctx.Err())
			case <-time.After(500 * time.Millisecond):
			}
		default:
			return 0, err
		}
	}
}

// command prepares one of the server tools. It runs in the cluster directory because the caller's
// working directory (say /root) may be closed to the postgres user, and with a clean environment
// because PG* variables (PGDATA, PGPORT, PGOPTIONS) would override what we pass. LC_ALL=C keeps
// messages in English, which launch's retry decisions match on.
func (s *server) command(ctx context.Context, tool string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, tool), args...)
	cmd.Dir = s.dir
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG") {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "LC_ALL=C")
	s.acct.apply(cmd)
	return cmd
}

// initdb creates the cluster unless one is there. It builds it in a side directory and renames
// it into place, so Dir/data exists only once complete and an initdb killed halfway is simply
// redone on the next start.
func (s *server) initdb(ctx context.Context, durable bool) error {
	switch _, err := os.Stat(filepath.Join(s.data, "PG_VERSION")); {
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if _, err := os.Stat(s.data); err == nil {
		return fmt.Errorf("%s exists but holds no PostgreSQL cluster (no PG_VERSION); move it away to start afresh", s.data)
	}
	tmp := s.data + ".init"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("remove leftover %s: %w", tmp, err)
	}
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return err
	}
	if err := s.acct.chown(tmp); err != nil {
		return err
	}
	// Trust is safe only because the server listens on loopback alone (see writeConf).
	args := []string{"-D", tmp, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"}
	if !durable {
		args = append(args, "--no-sync")
	}
	s.logger.Info("creating postgres cluster", "dir", s.data)
	if out, err := s.command(ctx, "initdb", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("initdb %s: %w\n%s", tmp, err, lastLines(out, logTailLines))
	}
	if err := os.Rename(tmp, s.data); err != nil {
		return fmt.Errorf("move new cluster into place: %w", err)
	}
	return nil
}

// confFile holds our settings; postgresql.conf includes it last so they win, and it is rewritten
// on every start so each Start's Options apply to a reused cluster.
const confFile = "pathbot.conf"

const includeLine = "include_if_exists = '" + confFile + "'"

func (s *server) writeConf(port int, durable bool) error {
	var b strings.Builder
	b.WriteString("# Written by pathbot's pgcluster at every start: edits here are lost.\n")
	fmt.Fprintf(&b, "port = %d\n", port)
	for _, kv := range settings(durable) {
		fmt.Fprintf(&b, "%s = '%s'\n", kv[0], kv[1])
	}
	path := filepath.Join(s.data, confFile)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return err
	}
	if err := s.acct.chown(path); err != nil {
		return err
	}

	main := filepath.Join(s.data, "postgresql.conf")
	content, err := os.ReadFile(main)
	if err != nil {
		return err
	}
	if bytes.Contains(content, []byte(includeLine)) {
		return nil
	}
	f, err := os.OpenFile(main, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "\n%s\n", includeLine)
	return errors.Join(err, f.Close())
}

// settings are the server settings both the installed and the embedded server run with.
func settings(durable bool) [][2]string {
	// Tests throw their data away, so a crash losing it costs nothing, while syncing costs a lot.
	onOff := "off"
	if durable {
		onOff = "on"
	}
	return [][2]string{
		{"listen_addresses", "127.0.0.1"},
		// TCP only: a socket path has a 107-byte limit that temp dirs can exceed, and the default
		// /var/run/postgresql is not writable by an unprivileged user.
		{"unix_socket_directories", ""},
		// Parallel test packages each hold pools, and load tests open many connections.
		{"max_connections", "300"},
		{"shared_buffers", "128MB"},
		{"fsync", onOff},
		{"synchronous_commit", onOff},
		{"full_page_writes", onOff},
	}
}

// prepareLog creates the log file pg_ctl appends to; the postgres user may not create files in
// Dir itself, which stays its owner's.
func (s *server) prepareLog() error {
	f, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return s.acct.chown(s.logPath)
}

// settlePrevious deals with a postmaster.pid left by an earlier run. A dead pid needs nothing:
// postgres replaces the stale file itself. A live server on this directory (its process was
// killed, say) is stopped so we start one with our settings. A live unrelated process that reuses
// the pid would make postgres refuse to start, so the stale file is removed.
func (s *server) settlePrevious(ctx context.Context) error {
	pidFile := filepath.Join(s.data, "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		s.logger.Warn("removing unreadable postmaster.pid", "file", pidFile)
		return os.Remove(pidFile)
	}
	if !processAlive(pid) {
		s.logger.Info("postmaster.pid left by a server that is gone; postgres will replace it", "pid", pid)
		return nil
	}
	if zombie(pid) {
		// A killed server whose parent never reaped it: dead, yet postgres's kill(pid, 0) check
		// sees it alive and would refuse to start.
		s.logger.Warn("postmaster.pid names an unreaped dead server; removing the stale file", "pid", pid)
		return os.Remove(pidFile)
	}
	ours, known := s.isPostmaster(pid)
	switch {
	case !known:
		// Without /proc we cannot tell a reused pid from our server; postgres's own check decides.
		return nil
	case !ours:
		s.logger.Warn("postmaster.pid names a live process that is not this cluster's server; removing the stale file", "pid", pid)
		return os.Remove(pidFile)
	}
	s.logger.Warn("a server from an earlier run still runs on this data directory; restarting it", "pid", pid)
	return s.stop(ctx, "fast")
}

// isPostmaster tells whether pid is a server on this data directory: a postmaster's working
// directory is its data directory. known is false where /proc cannot answer.
func (s *server) isPostmaster(pid int) (ours, known bool) {
	if runtime.GOOS != "linux" {
		return false, false
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		return false, false
	}
	data, err := filepath.EvalSymlinks(s.data)
	if err != nil {
		return false, false
	}
	return cwd == data, true
}

// zombie reports whether pid has exited but not been reaped, where /proc can tell.
func zombie(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may itself hold any byte.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && len(stat) > i+2 && stat[i+2] == 'Z'
}

// startError is a failed pg_ctl start, with what the server logged while failing.
type startError struct {
	err    error
	output string // pg_ctl's own output
	log    string // the lines postgres appended to its log during this attempt
}

func (e *startError) Error() string {
	return fmt.Sprintf("pg_ctl start: %v: %s\nlast lines of the server log:\n%s", e.err, strings.TrimSpace(e.output), e.log)
}

func (e *startError) Unwrap() error { return e.err }

func (e *startError) portTaken() bool { return strings.Contains(e.log, "Address already in use") }

func (e *startError) sharedMemoryBusy() bool {
	return strings.Contains(e.log, "pre-existing shared memory block")
}

// launch starts the server and waits until a client can connect. pg_ctl -w waits for the
// postmaster to report ready; the connection check proves the TCP listener answers too.
func (s *server) launch(ctx context.Context, port int) error {
	var offset int64
	if fi, err := os.Stat(s.logPath); err == nil {
		offset = fi.Size()
	}
	timeout := strconv.Itoa(int(startTimeout / time.Second))
	out, err := s.command(ctx, "pg_ctl", "start", "-D", s.data, "-l", s.logPath, "-w", "-t", timeout).CombinedOutput()
	if err != nil {
		// pg_ctl may have given up (or been cancelled) on a server that is still coming up.
		_ = s.stop(context.Background(), "immediate")
		return &startError{err: err, output: string(out), log: s.logSince(offset)}
	}
	if err := waitReady(ctx, port); err != nil {
		_ = s.stop(context.Background(), "immediate")
		return fmt.Errorf("server started but does not accept connections on port %d: %w\nlast lines of the server log:\n%s",
			port, err, s.logSince(offset))
	}
	return nil
}

func waitReady(ctx context.Context, port int) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	u := (&Cluster{port: port, user: url.User("postgres")}).URL("postgres")
	for {
		conn, err := pgx.Connect(ctx, u)
		if err == nil {
			err = conn.Ping(ctx)
			_ = conn.Close(context.Background())
			if err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop shuts the server down if one runs on the data directory; none running is success.
func (s *server) stop(ctx context.Context, mode string) error {
	if !s.running() {
		return nil
	}
	timeout := strconv.Itoa(int(stopTimeout / time.Second))
	out, err := s.command(ctx, "pg_ctl", "stop", "-D", s.data, "-m", mode, "-w", "-t", timeout).CombinedOutput()
	if err != nil {
		if !s.running() {
			return nil // it exited on its own meanwhile, or had been killed
		}
		return fmt.Errorf("pg_ctl stop: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// running reports whether postmaster.pid names a live process.
func (s *server) running() bool {
	b, err := os.ReadFile(filepath.Join(s.data, "postmaster.pid"))
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	return err == nil && pid > 0 && processAlive(pid) && !zombie(pid)
}

func (s *server) logSince(offset int64) string {
	f, err := os.Open(s.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "(unreadable log: " + err.Error() + ")"
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return "(unreadable log: " + err.Error() + ")"
	}
	return lastLines(b, logTailLines)
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portFree checks an explicitly requested port up front: silently moving to another port would
// surprise whoever configured it, and postgres's own bind failure is slower to surface.
func portFree(port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("port %d on 127.0.0.1 is in use: %w", port, err)
	}
	return l.Close()
}
