package migrate_test

import (
	"context"
	"io/fs"
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
	dbURL := pgtest.EmptyDatabase(t)
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
	dbURL := pgtest.EmptyDatabase(t)
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
