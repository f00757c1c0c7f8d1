package store_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathbot/pathbot/internal/pgtest"
	"github.com/pathbot/pathbot/internal/progress"
	"github.com/pathbot/pathbot/internal/store"
)

// replica is one pathbot process's store over a shared database, with its cache listening.
func replica(t *testing.T, url string) *store.DB {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	db := store.New(pool)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); db.Listen(ctx, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() { cancel(); <-done; pool.Close() })
	eventually(t, "cache live", func() bool { return db.CacheLive() })
	return db
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Two replicas and an operator with psql change one member's progress; the other replica's
// cached snapshot follows every change.
func TestCacheFollowsChangesMadeElsewhere(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	a, b := replica(t, url), replica(t, url)
	ctx := context.Background()
	m := store.Member{TeamID: "T1", UserID: "U1"}
	snap := func() store.Snapshot {
		t.Helper()
		s, err := a.Snapshot(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	if s := snap(); s.Enrolled {
		t.Fatalf("unknown member enrolled: %+v", s)
	}
	if err := b.Enrol(ctx, m); err != nil {
		t.Fatal(err)
	}
	eventually(t, "enrolment seen", func() bool { return snap().Enrolled })

	if _, err := b.Apply(ctx, m, "t1", store.Change{MarkReading: "dynamo", Status: store.StatusDone}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a reading done on b", func() bool { return len(snap().Readings) == 1 })
	hits, _ := a.CacheStats()
	snap()
	if h, _ := a.CacheStats(); h != hits+1 {
		t.Fatalf("an unchanged member's second read was not served from the cache (hits %d then %d)", hits, h)
	}

	if _, err := b.Apply(ctx, m, "t2", store.Change{UnmarkReading: "dynamo"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "an undo on b", func() bool { return len(snap().Readings) == 0 })

	psql := pgtest.NewPoolFor(t, url)
	if _, err := psql.Exec(ctx, `INSERT INTO oncall_shifts (team_id, user_id, from_date, to_date, part) VALUES ('T1', 'U1', '2026-01-01', '2026-01-03', 'full')`); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a shift inserted by hand", func() bool { return len(snap().Shifts) == 1 })

	if err := b.SetThresholds(ctx, "T1", progress.Thresholds{P95: time.Second, P99: 2 * time.Second, Max: 3 * time.Second}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the team's thresholds", func() bool { return snap().Thresholds != nil })

	// Losing the listening connection turns the cache off and drops it; a change made meanwhile
	// is seen all the same.
	if _, err := psql.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN pathbot_snapshot'`); err != nil {
		t.Fatal(err)
	}
	if _, err := psql.Exec(ctx, `DELETE FROM oncall_shifts`); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a shift deleted while the listener reconnects", func() bool { return len(snap().Shifts) == 0 })
	eventually(t, "cache live again", a.CacheLive)
}

// A replica's own write is served from its cache at once, without waiting for the notification.
func TestCacheServesOwnWritesAtOnce(t *testing.T) {
	t.Parallel()
	a := replica(t, pgtest.NewDatabase(t))
	ctx := context.Background()
	m := store.Member{TeamID: "T1", UserID: "U1"}
	for i, id := range []string{"dynamo", "raft", "spanner"} {
		if _, err := a.Apply(ctx, m, "t"+id, store.Change{MarkReading: id, Status: store.StatusDone}); err != nil {
			t.Fatal(err)
		}
		hits, _ := a.CacheStats()
		s, err := a.Snapshot(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if h, _ := a.CacheStats(); h != hits+1 {
			t.Fatalf("the read after write %d was not served from the cache", i+1)
		}
		if len(s.Readings) != i+1 {
			t.Fatalf("after %d writes the snapshot shows %d readings", i+1, len(s.Readings))
		}
	}
}
