//go:build unix

package pgtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pathbot/pathbot/internal/migrate"
)

// abandonEnv makes the test binary a stand-in for a crashing test process: it starts a cluster
// the way Main does, prints its admin URL and kills itself, leaving the cleanup to the reaper.
const abandonEnv = "PGTEST_ABANDON_CLUSTER"

func TestMain(m *testing.M) {
	if os.Getenv(abandonEnv) != "" {
		if _, err := startCluster(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(adminURL)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	Main(m)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func tableExists(t *testing.T, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, table string) bool {
	t.Helper()
	var exists bool
	if err := q.QueryRow(ctx(t), "SELECT to_regclass($1) IS NOT NULL", table).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	return exists
}

func TestParallelTestsGetIsolatedDatabases(t *testing.T) {
	created := make(chan struct{})
	names := make(chan string, 2)
	t.Run("writer", func(t *testing.T) {
		t.Parallel()
		pool := NewPool(t)
		if _, err := pool.Exec(ctx(t), "CREATE TABLE isolation_probe (id int); INSERT INTO teams (team_id) VALUES ('T1')"); err != nil {
			t.Fatal(err)
		}
		var name string
		if err := pool.QueryRow(ctx(t), "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		names <- name
		close(created)
	})
	t.Run("reader", func(t *testing.T) {
		t.Parallel()
		pool := NewPool(t)
		select {
		case <-created:
		case <-time.After(20 * time.Second):
			t.Fatal("writer never created its table")
		}
		if tableExists(t, pool, "isolation_probe") {
			t.Error("a table created in another test's database is visible here")
		}
		var teams int
		if err := pool.QueryRow(ctx(t), "SELECT count(*) FROM teams").Scan(&teams); err != nil {
			t.Fatal(err)
		}
		if teams != 0 {
			t.Errorf("teams has %d rows, want the other test's row kept out", teams)
		}
		var name string
		if err := pool.QueryRow(ctx(t), "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		names <- name
	})
	// Parallel subtests run after this function returns; cleanups run after they finish.
	t.Cleanup(func() {
		if len(names) != 2 {
			return // a subtest failed and said why
		}
		if a, b := <-names, <-names; a == b {
			t.Errorf("both tests got database %s", a)
		}
	})
}

func TestDatabaseIsFullyMigrated(t *testing.T) {
	t.Parallel()
	u := NewDatabase(t)
	current, latest, err := migrate.Status(ctx(t), u)
	if err != nil {
		t.Fatal(err)
	}
	if latest == 0 || current != latest {
		t.Errorf("migration version %d, latest %d", current, latest)
	}
	pool := NewPool(t)
	for _, table := range []string{"teams", "members", "processed_commands"} {
		if !tableExists(t, pool, table) {
			t.Errorf("table %s missing from a fresh database", table)
		}
	}
}

func TestEmptyDatabaseIsUntouched(t *testing.T) {
	t.Parallel()
	u := EmptyDatabase(t)
	current, latest, err := migrate.Status(ctx(t), u)
	if err != nil {
		t.Fatal(err)
	}
	if latest == 0 || current != 0 {
		t.Errorf("migration version %d of %d, want 0", current, latest)
	}
	pool := NewPoolFor(t, u)
	for _, table := range []string{"goose_db_version", "teams"} {
		if tableExists(t, pool, table) {
			t.Errorf("table %s in a database no migration touched", table)
		}
	}
}

func TestDatabaseIsDroppedWhenTestEnds(t *testing.T) {
	for kind, create := range map[string]func(testing.TB) string{"migrated": NewDatabase, "empty": EmptyDatabase} {
		var name string
		t.Run(kind, func(t *testing.T) {
			pool := NewPoolFor(t, create(t))
			if err := pool.QueryRow(ctx(t), "SELECT current_database()").Scan(&name); err != nil {
				t.Fatal(err)
			}
		})
		conn, err := pgx.Connect(ctx(t), AdminURL())
		if err != nil {
			t.Fatal(err)
		}
		var n int
		err = conn.QueryRow(ctx(t), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n)
		_ = conn.Close(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if name == "" || n != 0 {
			t.Errorf("%s database %q still exists after its test ended", kind, name)
		}
	}
}

func TestManyParallelDatabases(t *testing.T) {
	for i := range 16 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			pool := NewPool(t)
			if _, err := pool.Exec(ctx(t), "INSERT INTO teams (team_id) VALUES ($1)", fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := pool.QueryRow(ctx(t), "SELECT count(*) FROM teams").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("teams has %d rows, want only this test's 1", n)
			}
		})
	}
}

func TestCrashedTestProcessLeavesNoServer(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), abandonEnv+"=1", "TMPDIR="+tmp, "DATABASE_URL=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("helper did not die by signal: %v\n%s", err, stderr.String())
	}
	url := strings.TrimSpace(string(out))
	if !strings.HasPrefix(url, "postgres://") {
		t.Fatalf("helper printed %q, want its server URL\n%s", url, stderr.String())
	}

	deadline := time.Now().Add(20 * time.Second)
	for {
		entries, err := os.ReadDir(tmp)
		if err != nil {
			t.Fatal(err)
		}
		conn, connErr := pgx.Connect(ctx(t), url)
		if connErr == nil {
			_ = conn.Close(context.Background())
		}
		if len(entries) == 0 && connErr != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("20 s after the test process died: %d entries left in %s, server reachable: %v", len(entries), tmp, connErr == nil)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
