//go:build unix

package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// golden is one initialized, stopped cluster that seededDir copies, so that tests about what
// happens on a later start pay for initdb once per run instead of once each. Creating it is the
// test of starting in an empty directory: every test using seededDir fails if that fails.
var golden struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if golden.dir != "" {
		_ = os.RemoveAll(golden.dir)
	}
	os.Exit(code)
}

// seededDir returns a new cluster directory holding a copy of the golden cluster.
func seededDir(t *testing.T) string {
	t.Helper()
	golden.once.Do(func() {
		golden.dir, golden.err = os.MkdirTemp("", "pgcluster-golden-")
		if golden.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		c, err := Start(ctx, Options{Dir: golden.dir})
		if err != nil {
			golden.err = err
			return
		}
		golden.err = c.Stop()
	})
	if golden.err != nil {
		t.Fatalf("golden cluster: %v", golden.err)
	}
	dir := t.TempDir()
	// cp -a keeps the postgres user's ownership and the 0700 mode postgres insists on.
	if out, err := exec.Command("cp", "-a", filepath.Join(golden.dir, "data"), dir).CombinedOutput(); err != nil {
		t.Fatalf("copy golden cluster: %v\n%s", err, out)
	}
	return dir
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startTest starts a cluster that is stopped when the test ends.
func startTest(t *testing.T, opt Options) *Cluster {
	t.Helper()
	c, err := Start(testContext(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(testContext(t), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func show(t *testing.T, conn *pgx.Conn, setting string) string {
	t.Helper()
	var v string
	if err := conn.QueryRow(testContext(t), "SHOW "+setting).Scan(&v); err != nil {
		t.Fatalf("SHOW %s: %v", setting, err)
	}
	return v
}

func TestFindBinariesFindsInstalledServer(t *testing.T) {
	dir, err := FindBinaries()
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range serverTools {
		if _, err := os.Stat(filepath.Join(dir, tool)); err != nil {
			t.Errorf("FindBinaries() = %s, which lacks %s: %v", dir, tool, err)
		}
	}
	pgConfig, err := exec.LookPath("pg_config")
	if err != nil {
		return
	}
	out, err := exec.Command(pgConfig, "--bindir").Output()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.EvalSymlinks(strings.TrimSpace(string(out)))
	if got, _ := filepath.EvalSymlinks(dir); got != want {
		t.Errorf("FindBinaries() = %s, pg_config --bindir says %s", got, want)
	}
}

func fakeInstall(t *testing.T, root, version string) string {
	t.Helper()
	bin := filepath.Join(root, version, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tool := range serverTools {
		if err := os.WriteFile(filepath.Join(bin, tool), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

func TestFindBinariesPrefersHighestVersion(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // hide the real installation and pg_config
	root := t.TempDir()
	fakeInstall(t, root, "9.6")
	want := fakeInstall(t, root, "15")
	fakeInstall(t, root, "10")
	if err := os.MkdirAll(filepath.Join(root, "17", "bin"), 0o755); err != nil { // incomplete install
		t.Fatal(err)
	}
	got, err := findBinaries([]string{filepath.Join(root, "*", "bin")})
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("findBinaries = %s, want %s", got, want)
	}
}

func TestFindBinariesNoneInstalledSaysHowToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := findBinaries([]string{filepath.Join(t.TempDir(), "*", "bin")})
	if err == nil {
		t.Fatal("findBinaries found a server in an empty directory")
	}
	for _, want := range []string{"apt-get install postgresql", "brew install postgresql@16"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestStartStopRestartReusesData(t *testing.T) {
	t.Parallel()
	dir := seededDir(t) // the golden cluster's creation covers starting from nothing
	c := startTest(t, Options{Dir: dir})
	conn := connect(t, c.URL("postgres"))
	ctx := testContext(t)
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives restart')"); err != nil {
		t.Fatal(err)
	}
	for setting, want := range map[string]string{
		"max_connections": "300", "shared_buffers": "128MB", "fsync": "off",
		"synchronous_commit": "off", "full_page_writes": "off", "listen_addresses": "127.0.0.1",
	} {
		if got := show(t, conn, setting); got != want {
			t.Errorf("%s = %s, want %s", setting, got, want)
		}
	}
	_ = conn.Close(ctx)

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if conn, err := pgx.Connect(ctx, c.URL("postgres")); err == nil {
		_ = conn.Close(ctx)
		t.Fatal("server still accepts connections after Stop")
	}
	if _, err := os.Stat(filepath.Join(dir, "postgres.log")); err != nil {
		t.Errorf("no server log: %v", err)
	}

	// Same directory, an explicit port and durable settings this time: the data must still be
	// there, and the new options must apply.
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	c2 := startTest(t, Options{Dir: dir, Port: port, Durable: true})
	if want := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port); c2.URL("postgres") != want {
		t.Errorf("URL = %s, want %s", c2.URL("postgres"), want)
	}
	conn2 := connect(t, c2.URL("postgres"))
	var v string
	if err := conn2.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil {
		t.Fatalf("data lost across restart: %v", err)
	}
	if v != "survives restart" {
		t.Errorf("kept.v = %q", v)
	}
	if got := show(t, conn2, "fsync"); got != "on" {
		t.Errorf("Durable restart: fsync = %s, want on", got)
	}
}

func TestAutoPortSkipsPortTakenBeforePostgresBinds(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	// The first pick is a port someone else holds: the race Start must survive when another
	// process grabs the port between the probe and postgres's bind.
	picks := 0
	h := hooks{findBinaries: FindBinaries, freePort: func() (int, error) {
		picks++
		if picks == 1 {
			return busyPort, nil
		}
		return freePort()
	}}
	c, err := start(testContext(t), Options{Dir: seededDir(t)}, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	if c.port == busyPort {
		t.Fatalf("cluster claims the busy port %d", busyPort)
	}
	if picks < 2 {
		t.Errorf("picked a port %d time(s), want a second pick after the conflict", picks)
	}
	if err := connect(t, c.URL("postgres")).Ping(testContext(t)); err != nil {
		t.Fatal(err)
	}
}

func TestExplicitBusyPortIsAnError(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	c, err := Start(testContext(t), Options{Dir: t.TempDir(), Port: port})
	if err == nil {
		_ = c.Stop()
		t.Fatalf("Start on busy port %d succeeded", port)
	}
	if !strings.Contains(err.Error(), "in use") {
		t.Errorf("error %q does not say the port is in use", err)
	}
}

func postmasterPID(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(first)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); processAlive(pid); {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStartAfterKilledServerWithStalePidFile(t *testing.T) {
	t.Parallel()
	dir := seededDir(t)
	c := startTest(t, Options{Dir: dir})
	ctx := testContext(t)
	conn := connect(t, c.URL("postgres"))
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	// With synchronous_commit off the commit may still sit in WAL buffers that die with the
	// server; a checkpoint in its own statement writes it out.
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(ctx)

	pid := postmasterPID(t, dir)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); err != nil {
		t.Fatalf("expected a stale postmaster.pid after SIGKILL: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop of a server that is already gone: %v", err)
	}

	c2 := startTest(t, Options{Dir: dir})
	var v int
	if err := connect(t, c2.URL("postgres")).QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != 42 {
		t.Fatalf("after restart: v=%d err=%v", v, err)
	}
}

func TestStartStopsServerOrphanedByKilledProcess(t *testing.T) {
	t.Parallel()
	dir := seededDir(t)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	// Started and never stopped, as when `pathbot dev` is killed: the server lives on, holding
	// the fixed port the next run asks for.
	orphan := startTest(t, Options{Dir: dir, Port: port})
	orphanPID := postmasterPID(t, dir)

	c := startTest(t, Options{Dir: dir, Port: port})
	if !processAlive(postmasterPID(t, dir)) {
		t.Fatal("new server is not running")
	}
	if postmasterPID(t, dir) == orphanPID {
		t.Fatal("Start reused the orphaned server instead of restarting it with its settings")
	}
	waitGone(t, orphanPID)
	if err := connect(t, c.URL("postgres")).Ping(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if c.URL("postgres") != orphan.URL("postgres") {
		t.Errorf("restarted server at %s, want the requested port as in %s", c.URL("postgres"), orphan.URL("postgres"))
	}
}

func TestStartRemovesPidFileOfUnrelatedProcess(t *testing.T) {
	t.Parallel()
	dir := seededDir(t)
	// A pid file whose pid now belongs to some other live process, as after a reboot.
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = sleeper.Wait(); close(exited) }()
	t.Cleanup(func() { _ = sleeper.Process.Kill(); <-exited })
	pidFile := filepath.Join(dir, "data", "postmaster.pid")
	content := fmt.Sprintf("%d\n%s\n", sleeper.Process.Pid, filepath.Join(dir, "data"))
	if err := os.WriteFile(pidFile, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}

	c := startTest(t, Options{Dir: dir})
	if err := connect(t, c.URL("postgres")).Ping(testContext(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		t.Error("Start killed the unrelated process named in the stale pid file")
	default:
	}
}

func TestNoPostgresAnywhereSaysHowToInstall(t *testing.T) {
	t.Parallel()
	// Stands in for the download site, so the fallback fails without leaving the machine.
	repo := httptest.NewServer(http.NotFoundHandler())
	defer repo.Close()
	h := hooks{
		findBinaries:  func() (string, error) { return "", errNoBinaries },
		freePort:      freePort,
		embeddedRepo:  repo.URL,
		embeddedCache: filepath.Join(t.TempDir(), "cache.txz"),
	}
	c, err := start(testContext(t), Options{Dir: t.TempDir()}, h)
	if err == nil {
		_ = c.Stop()
		t.Fatal("started without any PostgreSQL")
	}
	msg := err.Error()
	for _, want := range []string{"embedded-postgres", "apt-get install postgresql", "brew install postgresql@16"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q: %s", want, msg)
		}
	}
	if os.Geteuid() == 0 && !strings.Contains(msg, "root") {
		t.Errorf("running as root, but the error does not say embedded-postgres cannot: %s", msg)
	}
}

func TestEmbeddedFallbackLeavesOtherVersionDataAlone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "PG_VERSION"), []byte("15\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := startEmbedded(Options{Dir: dir}, dir, slog.New(slog.DiscardHandler), hooks{freePort: freePort})
	if err == nil || !strings.Contains(err.Error(), "would delete") {
		t.Fatalf("err = %v, want a refusal to touch PostgreSQL 15 data", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION")); err != nil {
		t.Fatalf("data directory damaged: %v", err)
	}
}

func TestFailedStartReportsServerLog(t *testing.T) {
	t.Parallel()
	dir := seededDir(t)
	conf, err := os.OpenFile(filepath.Join(dir, "data", "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conf.WriteString("no_such_setting_xyzzy = 1\n")
	if err := errors.Join(err, conf.Close()); err != nil {
		t.Fatal(err)
	}
	c2, err := Start(testContext(t), Options{Dir: dir})
	if err == nil {
		_ = c2.Stop()
		t.Fatal("started with a broken configuration")
	}
	// postgres names the bad line in its log; the error must carry it.
	if !strings.Contains(err.Error(), "no_such_setting_xyzzy") {
		t.Errorf("error lacks the server log's explanation: %v", err)
	}
}
