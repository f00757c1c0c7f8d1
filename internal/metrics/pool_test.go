package metrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type fakeStat struct{}

func (fakeStat) AcquiredConns() int32                { return 3 }
func (fakeStat) IdleConns() int32                    { return 2 }
func (fakeStat) TotalConns() int32                   { return 5 }
func (fakeStat) MaxConns() int32                     { return 10 }
func (fakeStat) AcquireCount() int64                 { return 1234 }
func (fakeStat) AcquireDuration() time.Duration      { return 1500 * time.Millisecond }
func (fakeStat) EmptyAcquireCount() int64            { return 7 }
func (fakeStat) EmptyAcquireWaitTime() time.Duration { return 250 * time.Millisecond }
func (fakeStat) CanceledAcquireCount() int64         { return 1 }

func TestPoolCollector(t *testing.T) {
	t.Parallel()
	c := newPoolCollector(func() poolStat { return fakeStat{} })
	want := `
# HELP pathbot_db_pool_acquire_count_total Successful acquires from the pool.
# TYPE pathbot_db_pool_acquire_count_total counter
pathbot_db_pool_acquire_count_total 1234
# HELP pathbot_db_pool_acquire_wait_seconds_total Total time spent in successful acquires.
# TYPE pathbot_db_pool_acquire_wait_seconds_total counter
pathbot_db_pool_acquire_wait_seconds_total 1.5
# HELP pathbot_db_pool_acquired_conns Connections currently checked out of the pool.
# TYPE pathbot_db_pool_acquired_conns gauge
pathbot_db_pool_acquired_conns 3
# HELP pathbot_db_pool_canceled_acquire_total Acquires given up because their context ended: the pool was starved.
# TYPE pathbot_db_pool_canceled_acquire_total counter
pathbot_db_pool_canceled_acquire_total 1
# HELP pathbot_db_pool_empty_acquire_total Successful acquires that had to wait because no idle connection was free.
# TYPE pathbot_db_pool_empty_acquire_total counter
pathbot_db_pool_empty_acquire_total 7
# HELP pathbot_db_pool_empty_acquire_wait_seconds_total Total time acquires waited because no idle connection was free.
# TYPE pathbot_db_pool_empty_acquire_wait_seconds_total counter
pathbot_db_pool_empty_acquire_wait_seconds_total 0.25
# HELP pathbot_db_pool_idle_conns Connections open and idle in the pool.
# TYPE pathbot_db_pool_idle_conns gauge
pathbot_db_pool_idle_conns 2
# HELP pathbot_db_pool_max_conns Most connections the pool may open.
# TYPE pathbot_db_pool_max_conns gauge
pathbot_db_pool_max_conns 10
# HELP pathbot_db_pool_total_conns Connections open, acquired, idle or being opened.
# TYPE pathbot_db_pool_total_conns gauge
pathbot_db_pool_total_conns 5
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func TestPoolCollectorWithoutPool(t *testing.T) {
	t.Parallel()
	c := NewPoolCollector(func() *pgxpool.Stat { return nil })
	if n := testutil.CollectAndCount(c); n != 0 {
		t.Errorf("collected %d series with no pool, want 0", n)
	}
}

// TestWatchPoolReadsARealPool uses a pool that never connects (pgxpool dials lazily), which is
// enough to see the configured maximum come through the real *pgxpool.Stat.
func TestWatchPoolReadsARealPool(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig("postgres://nobody@127.0.0.1:1/none?pool_max_conns=7")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	reg := prometheus.NewRegistry()
	m := New(reg)
	if err := m.WatchPool(reg, pool.Stat); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP pathbot_db_pool_max_conns Most connections the pool may open.
# TYPE pathbot_db_pool_max_conns gauge
pathbot_db_pool_max_conns 7
# HELP pathbot_db_pool_acquired_conns Connections currently checked out of the pool.
# TYPE pathbot_db_pool_acquired_conns gauge
pathbot_db_pool_acquired_conns 0
`
	err = testutil.GatherAndCompare(reg, strings.NewReader(want),
		"pathbot_db_pool_max_conns", "pathbot_db_pool_acquired_conns")
	if err != nil {
		t.Error(err)
	}
	if err := m.WatchPool(reg, pool.Stat); err == nil {
		t.Error("watching the pool twice on one registry did not fail")
	}
}
