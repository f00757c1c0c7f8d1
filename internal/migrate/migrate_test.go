package migrate_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pathbot/pathbot/internal/migrate"
	"github.com/pathbot/pathbot/internal/pgtest"
	"github.com/pathbot/pathbot/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// emptyDatabase creates an unmigrated database, which pgtest.NewDatabase cannot give.
func emptyDatabase(t *testing.T) string {
	t.Helper()
	ctx := testContext(t)
	admin, err := pgx.Connect(ctx, pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	// Unique across processes: several runs may share one DATABASE_URL server.
	name := fmt.Sprintf("migrate_test_%d_%d", os.Getpid(), time.Now().UnixNano())
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, pgtest.AdminURL())
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close(context.Background())
		if _, err := admin.Exec(ctx, "DROP DATABASE "+ident+" WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// shipped reads the migration files directly, independent of goose: the count and the newest
// version number.
func shipped(t *testing.T) (count int, latest int64) {
	t.Helper()
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		prefix, _, _ := strings.Cut(name, "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			t.Fatalf("migration %s has no numeric prefix", name)
		}
		count++
		latest = max(latest, v)
	}
	if count == 0 {
		t.Fatal("no migrations embedded")
	}
	return count, latest
}

func TestConcurrentUpAppliesEachMigrationOnce(t *testing.T) {
	t.Parallel()
	dbURL := emptyDatabase(t)
	ctx := testContext(t)
	count, latest := shipped(t)

	current, gotLatest, err := migrate.Status(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if current != 0 || gotLatest != latest {
		t.Fatalf("before Up: Status = (%d, %d), want (0, %d)", current, gotLatest, latest)
	}

	// Five replicas starting at once.
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Go(func() { errs[i] = migrate.Up(ctx, dbURL, nil) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Up #%d: %v", i, err)
		}
	}

	current, gotLatest, err = migrate.Status(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if current != latest || gotLatest != latest {
		t.Errorf("after Up: Status = (%d, %d), want (%d, %d)", current, gotLatest, latest, latest)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var applied int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != count {
		t.Errorf("goose recorded %d applications for %d migrations", applied, count)
	}
	var teams bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('teams') IS NOT NULL").Scan(&teams); err != nil || !teams {
		t.Errorf("teams table missing after Up (err %v)", err)
	}
}

func TestStatusOfUntouchedDatabaseCreatesNothing(t *testing.T) {
	t.Parallel()
	dbURL := emptyDatabase(t)
	ctx := testContext(t)
	_, latest := shipped(t)
	current, gotLatest, err := migrate.Status(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if current != 0 || gotLatest != latest {
		t.Errorf("Status = (%d, %d), want (0, %d)", current, gotLatest, latest)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var table bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('goose_db_version') IS NOT NULL").Scan(&table); err != nil {
		t.Fatal(err)
	}
	if table {
		t.Error("Status created goose's version table")
	}
}

func TestUpFailsOnUnreachableDatabase(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Port 1 on loopback refuses at once.
	err := migrate.Up(ctx, "postgres://postgres:secret@127.0.0.1:1/nowhere?sslmode=disable", nil)
	if err == nil {
		t.Fatal("Up succeeded against a closed port")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks the password: %v", err)
	}
}
