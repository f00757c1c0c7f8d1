package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathbot/pathbot/internal/migrate"
	"github.com/pathbot/pathbot/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func openState(t *testing.T, dbURL string) (*migrationState, *pgxpool.Pool) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	ms, err := newMigrationState(pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })
	return ms, pool
}

// The start-up shortcut and the readiness check agree with the migrate package, and neither
// writes to a database goose never touched.
func TestMigrationStateFollowsGoose(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dbURL := pgtest.EmptyDatabase(t)
	ms, pool := openState(t, dbURL)

	pending, err := ms.pending(ctx)
	if err != nil || !pending {
		t.Fatalf("pending on an empty database = %v, %v; want true", pending, err)
	}
	err = ms.check(ctx)
	want := "database at migration 0, this binary expects "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("check on an empty database = %v; want %q…", err, want)
	}
	var table *string
	if err := pool.QueryRow(ctx, "SELECT to_regclass('goose_db_version')::text").Scan(&table); err != nil || table != nil {
		t.Fatalf("goose_db_version after the checks = %v, %v; want no table", table, err)
	}

	if err := migrate.Up(ctx, dbURL, nil); err != nil {
		t.Fatal(err)
	}
	cur, latest, err := migrate.Status(ctx, dbURL)
	if err != nil || cur != latest || latest == 0 {
		t.Fatalf("migrate.Status after Up = %d, %d, %v; want current at the newest migration", cur, latest, err)
	}
	if pending, err := ms.pending(ctx); err != nil || pending {
		t.Fatalf("pending after Up = %v, %v; want false", pending, err)
	}
	if err := ms.check(ctx); err != nil {
		t.Fatalf("check after Up: %v", err)
	}

	// An older migration missing from the record is pending too (Up then refuses it), even
	// though the newest one is there.
	if _, err := pool.Exec(ctx, "DELETE FROM goose_db_version WHERE version_id = 1"); err != nil {
		t.Fatal(err)
	}
	if pending, err := ms.pending(ctx); err == nil && !pending {
		t.Fatalf("pending with migration 1 missing = false, nil; want true or an error")
	}
}

// A fresh provider per check is not needed: the readiness check keeps working as the database
// moves on, and reports a database ahead of the binary.
func TestMigrationCheckSeesANewerDatabase(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ms, pool := openState(t, pgtest.NewDatabase(t))
	if err := ms.check(ctx); err != nil {
		t.Fatalf("check on a migrated database: %v", err)
	}
	if _, err := pool.Exec(ctx, "INSERT INTO goose_db_version (version_id, is_applied) SELECT max(version_id) + 1, true FROM goose_db_version"); err != nil {
		t.Fatal(err)
	}
	err := ms.check(ctx)
	if err == nil || !strings.Contains(err.Error(), "this binary expects") {
		t.Fatalf("check with the database one migration ahead = %v; want the mismatch", err)
	}
}
