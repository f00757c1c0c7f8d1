// Package store is all of pathbot's SQL: one concrete DB type over a pgx pool, one file per area
// (members, progress, commands). Every query is scoped by Slack team id and user id so that two
// workspaces never see each other's rows, and every change made on behalf of a slash command is
// keyed on its trigger_id in the same transaction, so a redelivered command is applied at most once.
package store

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is pathbot's database.
type DB struct {
	pool *pgxpool.Pool
	// Score, when set, keeps each member's denormalised score current on every change.
	Score Scorer
	// enrolled remembers members known to exist, so read-only commands skip the enrolment write.
	enrolled sync.Map
	// cache holds snapshots for read-only commands; it serves nothing until Listen is running.
	cache *snapshotCache
	ann   *announcer
	batch *writeBatcher
}

// DefaultCacheSize is how many members' snapshots a replica keeps in memory by default: a few
// kilobytes each, so about a hundred megabytes at most for a very large workspace.
const DefaultCacheSize = 50_000

// New wraps a pool.
func New(pool *pgxpool.Pool) *DB {
	return &DB{pool: pool, cache: newSnapshotCache(DefaultCacheSize), ann: newAnnouncer(), batch: newWriteBatcher()}
}

// Pool exposes the pool for health checks and metrics.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// Member identifies one engineer in one workspace.
type Member struct {
	TeamID string
	UserID string
}

func (m Member) String() string { return m.TeamID + "/" + m.UserID }

// ErrNotEnrolled is returned when asking about someone who never used pathbot.
var ErrNotEnrolled = errors.New("not enrolled")

// Connect opens a pool with sane settings for pathbot.
func Connect(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	return pool, nil
}
