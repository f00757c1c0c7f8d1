// Package pgtest gives every database test its own fresh, fully migrated PostgreSQL database. A
// test package calls Main from TestMain; it uses the server at DATABASE_URL when that is set, and
// otherwise starts a throwaway cluster (package pgcluster) for the run. Migrations run once per
// test process into a template database, and each test gets a cheap copy of it, so tests can call
// t.Parallel freely and never see each other's rows.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathbot/pathbot/internal/migrate"
	"github.com/pathbot/pathbot/internal/pgcluster"
)

var (
	// adminURL is the maintenance database of the server in use; set by Main.
	adminURL string
	logger   = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	adminOnce sync.Once
	admin     *pgxpool.Pool
	adminErr  error

	templateOnce sync.Once
	templateName string
	templateErr  error
)

const (
	setupTimeout = 2 * time.Minute
	// CREATE DATABASE fails while anyone is connected to the template; postgres itself waits 5 s
	// for such sessions to leave, and we retry on top of that for the rare straggler.
	createTimeout = 30 * time.Second
)

// Main runs the test package's tests against a PostgreSQL server and exits with their result.
// Call it from TestMain. Without DATABASE_URL it starts a cluster in a temporary directory and
// removes it afterwards, also when the test binary dies (see pgcluster.StartReaper).
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		if _, err := withDatabase(u, "postgres"); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: DATABASE_URL must be a postgres:// URL: %v\n", err)
			return 1
		}
		adminURL = u
	} else {
		cleanup, err := startCluster()
		if err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
			return 1
		}
		defer cleanup()
	}
	defer closeAdmin()
	defer dropTemplate()
	return m.Run()
}

// startCluster starts the throwaway cluster and returns what removes it.
func startCluster() (func(), error) {
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("create cluster directory: %w", err)
	}
	// MkdirTemp makes it 0700; when we are root the server runs as the postgres user and must
	// get in. pgcluster would widen it too, but with a warning meant for directories we don't own.
	if err := os.Chmod(dir, 0o711); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("open cluster directory to the server's user: %w", err)
	}
	reaper, err := pgcluster.StartReaper(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Durable: false, Logger: logger})
	if err != nil {
		reaper.Release()
		return nil, fmt.Errorf("start test database server: %w", err)
	}
	adminURL = cluster.URL("postgres")
	return func() {
		if err := cluster.Stop(); err != nil {
			logger.Error("stop test database server", "err", err)
		}
		if err := os.RemoveAll(dir); err != nil {
			logger.Error("remove test database server", "dir", dir, "err", err)
		}
		reaper.Release()
	}, nil
}

// AdminURL returns the URL of the server's maintenance database, for tests that create databases
// themselves. It panics when Main is not running the tests, as that is a mistake in the test.
func AdminURL() string {
	if adminURL == "" {
		panic("pgtest: no database server; call pgtest.Main(m) from TestMain")
	}
	return adminURL
}

// NewDatabase creates a fresh, fully migrated database for t, drops it when t ends, and returns
// its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	pool := adminFor(t)
	tpl, err := template()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := "test_" + randomHex(8)
	if err := createFromTemplate(context.Background(), pool, name, tpl); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return own(t, pool, name)
}

// EmptyDatabase creates a fresh database that no migration has touched, for tests of migrating
// itself, drops it when t ends, and returns its URL.
func EmptyDatabase(t testing.TB) string {
	t.Helper()
	pool := adminFor(t)
	name := "test_empty_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
	defer cancel()
	if _, err := pool.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	return own(t, pool, name)
}

// adminFor returns the pool on the maintenance database, failing t when there is none.
func adminFor(t testing.TB) *pgxpool.Pool {
	t.Helper()
	if adminURL == "" {
		t.Fatal("pgtest: no database server; call pgtest.Main(m) from TestMain")
	}
	pool, err := adminPool()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return pool
}

// own drops database name when t ends and returns its URL.
func own(t testing.TB, pool *pgxpool.Pool, name string) string {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
		defer cancel()
		// FORCE disconnects whatever the test left open, such as a pool it never closed.
		if _, err := pool.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := withDatabase(adminURL, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

// NewPool returns a pool on a fresh database from NewDatabase; the pool is closed when t ends,
// before the database is dropped.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return NewPoolFor(t, NewDatabase(t))
}

// NewPoolFor opens a pool on the database at u (from NewDatabase), closed when t ends.
func NewPoolFor(t testing.TB, u string) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
	defer cancel()
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatalf("pgtest: open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func adminPool() (*pgxpool.Pool, error) {
	adminOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		admin, adminErr = pgxpool.New(ctx, adminURL)
		if adminErr != nil {
			adminErr = fmt.Errorf("connect to the server: %w", adminErr)
		}
	})
	return admin, adminErr
}

func closeAdmin() {
	if admin != nil {
		admin.Close()
	}
}

// template returns the migrated template database, creating it on first use. Its name is unique
// to this process because test packages run in parallel against one DATABASE_URL server.
func template() (string, error) {
	templateOnce.Do(func() {
		templateName, templateErr = createTemplate()
	})
	return templateName, templateErr
}

func createTemplate() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	pool, err := adminPool()
	if err != nil {
		return "", err
	}
	name := fmt.Sprintf("pathbot_tpl_%d_%s", os.Getpid(), randomHex(4))
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := pool.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", fmt.Errorf("create template database %s: %w", name, err)
	}
	u, err := withDatabase(adminURL, name)
	if err != nil {
		return "", err
	}
	if err := migrate.Up(ctx, u, logger); err != nil {
		return "", fmt.Errorf("migrate template database %s: %w", name, err)
	}
	// No session may be connected while it is copied, and autovacuum would otherwise visit it.
	if _, err := pool.Exec(ctx, "ALTER DATABASE "+ident+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return "", fmt.Errorf("close template database %s to connections: %w", name, err)
	}
	return name, nil
}

func dropTemplate() {
	if templateName == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
	defer cancel()
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{templateName}.Sanitize()+" WITH (FORCE)"); err != nil {
		logger.Error("drop template database", "name", templateName, "err", err)
	}
}

func createFromTemplate(ctx context.Context, pool *pgxpool.Pool, name, tpl string) error {
	ctx, cancel := context.WithTimeout(ctx, createTimeout)
	defer cancel()
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{tpl}.Sanitize()
	for {
		_, err := pool.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "55006" { // object_in_use
			if err != nil {
				return fmt.Errorf("create database %s from %s: %w", name, tpl, err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("create database %s from %s: %w", name, tpl, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// withDatabase returns serverURL pointing at database name instead.
func withDatabase(serverURL, name string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// Not echoed: a keyword/value string would show its password.
		return "", errors.New("not a postgres:// URL")
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
