package app

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/pathbot/pathbot/internal/migrate"
	"github.com/pathbot/pathbot/migrations"
)

// migrationState asks goose about the embedded migrations over the bot's own pool. migrate.Up and
// migrate.Status each open a connection of their own (a new Postgres backend) and Up takes the
// advisory lock; at start-up with nothing pending, and on every readiness check, that was most
// of the database work. So start-up calls migrate.Up only when goose reports something pending
// (or cannot tell), and the readiness check reads the version through the pool.
type migrationState struct {
	pool     *pgxpool.Pool
	db       *sql.DB
	provider *goose.Provider
}

func newMigrationState(pool *pgxpool.Pool) (*migrationState, error) {
	db := stdlib.OpenDBFromPool(pool) // closing it leaves the pool open
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return &migrationState{pool: pool, db: db, provider: p}, nil
}

func (m *migrationState) Close() error { return m.db.Close() }

// versionTable reports whether goose's version table exists; asking goose itself would create it.
func (m *migrationState) versionTable(ctx context.Context) (bool, error) {
	var table *string
	if err := m.pool.QueryRow(ctx, "SELECT to_regclass('goose_db_version')::text").Scan(&table); err != nil {
		return false, err
	}
	return table != nil, nil
}

// pending is goose's own answer to "would Up apply anything?": every embedded migration must be
// recorded, not just the newest, so a missing older one still counts (and Up then reports it).
func (m *migrationState) pending(ctx context.Context) (bool, error) {
	ok, err := m.versionTable(ctx)
	if err != nil || !ok {
		return true, err
	}
	return m.provider.HasPending(ctx)
}

// check is the readiness check: the database must be at the newest migration this binary carries.
func (m *migrationState) check(ctx context.Context) error {
	cur, latest, err := migrate.StatusOf(ctx, m.db, m.provider)
	if err != nil {
		return err
	}
	if cur != latest {
		return fmt.Errorf("database at migration %d, this binary expects %d", cur, latest)
	}
	return nil
}
