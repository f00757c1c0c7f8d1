// Package migrate applies pathbot's embedded goose migrations (package migrations) to a database
// and reports whether a database is up to date. Every replica runs Up at start, so Up holds a
// Postgres advisory lock while it works: replicas starting together take turns, the first applies
// what is pending and the rest find nothing left to do.
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/pathbot/pathbot/migrations"
)

// Waiting replicas poll the lock once a second for up to five minutes: long enough for any
// migration we would ship, short enough that a stuck one fails the rollout visibly. goose's
// default period is 5 s, which would add seconds to every test that migrates concurrently.
const (
	lockPollSeconds = 1
	lockPolls       = 300
)

// Up applies every pending migration to the database at databaseURL.
func Up(ctx context.Context, databaseURL string, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(lockPollSeconds, lockPolls))
	if err != nil {
		return fmt.Errorf("migrate: create session locker: %w", err)
	}
	db, provider, where, err := open(databaseURL, goose.WithSessionLocker(locker))
	if err != nil {
		return err
	}
	defer db.Close()
	results, err := provider.Up(ctx)
	for _, r := range results {
		if r.Error == nil {
			logger.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
		}
	}
	if err != nil {
		return fmt.Errorf("migrate up %s: %w", where, err)
	}
	if len(results) == 0 {
		logger.Debug("migrations already current")
	}
	return nil
}

// Status returns the version the database is at and the newest version this binary carries; the
// database is current when they are equal. It only reads: a database goose never touched is at
// version 0, and gets no version table from being asked.
func Status(ctx context.Context, databaseURL string) (current, latest int64, err error) {
	db, provider, where, err := open(databaseURL)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	current, latest, err = StatusOf(ctx, db, provider)
	if err != nil {
		return current, latest, fmt.Errorf("%w (%s)", err, where)
	}
	return current, latest, nil
}

// StatusOf is Status over a database and goose provider the caller already has open (the bot
// asks over its own pool, see app.migrationState).
func StatusOf(ctx context.Context, db *sql.DB, provider *goose.Provider) (current, latest int64, err error) {
	for _, s := range provider.ListSources() {
		latest = max(latest, s.Version)
	}
	// goose creates its version table on first use, even for a read; a readiness probe must not.
	var table sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT to_regclass('goose_db_version')::text").Scan(&table); err != nil {
		return 0, latest, fmt.Errorf("migrate status: %w", err)
	}
	if !table.Valid {
		return 0, latest, nil
	}
	current, err = provider.GetDBVersion(ctx)
	if err != nil {
		return 0, latest, fmt.Errorf("migrate status: %w", err)
	}
	return current, latest, nil
}

// open connects to databaseURL through pgx's database/sql driver, which goose needs. where names
// the database for error messages without its password.
func open(databaseURL string, opts ...goose.ProviderOption) (db *sql.DB, p *goose.Provider, where string, err error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		// pgx's parse errors already hide the password.
		return nil, nil, "", fmt.Errorf("migrate: parse database URL: %w", err)
	}
	where = fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
	db = stdlib.OpenDB(*cfg)
	p, err = goose.NewProvider(goose.DialectPostgres, db, migrations.FS, opts...)
	if err != nil {
		return nil, nil, "", errors.Join(fmt.Errorf("migrate %s: load migrations: %w", where, err), db.Close())
	}
	return db, p, where, nil
}
