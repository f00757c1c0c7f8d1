package metrics

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolStat is the part of *pgxpool.Stat the collector reads. It exists because pgxpool.Stat has
// only unexported fields, so tests could not otherwise feed the collector non-zero counters.
type poolStat interface {
	AcquiredConns() int32
	IdleConns() int32
	TotalConns() int32
	MaxConns() int32
	AcquireCount() int64
	AcquireDuration() time.Duration
	EmptyAcquireCount() int64
	EmptyAcquireWaitTime() time.Duration
	CanceledAcquireCount() int64
}

// poolCollector reads the pool's statistics at scrape time. A collector rather than gauges set on a
// timer, because pgxpool already keeps the cumulative counters and a scrape then always sees
// current values at no cost between scrapes.
type poolCollector struct {
	stat func() poolStat

	acquired, idle, total, max                                 *prometheus.Desc
	acquireCount, acquireWait, emptyAcquire, emptyWait, cancel *prometheus.Desc
}

// NewPoolCollector returns a collector of pathbot_db_pool_* series read from stat, usually
// (*pgxpool.Pool).Stat. While stat returns nil (no pool yet) it reports nothing.
func NewPoolCollector(stat func() *pgxpool.Stat) prometheus.Collector {
	return newPoolCollector(func() poolStat {
		// A nil *pgxpool.Stat in a poolStat would be a non-nil interface; keep it nil.
		if s := stat(); s != nil {
			return s
		}
		return nil
	})
}

func newPoolCollector(stat func() poolStat) *poolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "db_pool", name), help, nil, nil)
	}
	return &poolCollector{
		stat:         stat,
		acquired:     d("acquired_conns", "Connections currently checked out of the pool."),
		idle:         d("idle_conns", "Connections open and idle in the pool."),
		total:        d("total_conns", "Connections open, acquired, idle or being opened."),
		max:          d("max_conns", "Most connections the pool may open."),
		acquireCount: d("acquire_count_total", "Successful acquires from the pool."),
		acquireWait:  d("acquire_wait_seconds_total", "Total time spent in successful acquires."),
		emptyAcquire: d("empty_acquire_total", "Successful acquires that had to wait because no idle connection was free."),
		emptyWait:    d("empty_acquire_wait_seconds_total", "Total time acquires waited because no idle connection was free."),
		cancel:       d("canceled_acquire_total", "Acquires given up because their context ended: the pool was starved."),
	}
}

// WatchPool registers a collector of pathbot_db_pool_* series, read from stat at each scrape, on
// reg. It is separate from New because the pool is opened after the metrics exist, and the
// migrate subcommand needs no pool metrics at all.
func (m *Metrics) WatchPool(reg prometheus.Registerer, stat func() *pgxpool.Stat) error {
	if m == nil || reg == nil {
		return nil
	}
	return reg.Register(NewPoolCollector(stat))
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.acquired, c.idle, c.total, c.max,
		c.acquireCount, c.acquireWait, c.emptyAcquire, c.emptyWait, c.cancel,
	} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stat()
	if s == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.acquired, float64(s.AcquiredConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.max, float64(s.MaxConns()))
	counter(c.acquireCount, float64(s.AcquireCount()))
	counter(c.acquireWait, s.AcquireDuration().Seconds())
	counter(c.emptyAcquire, float64(s.EmptyAcquireCount()))
	counter(c.emptyWait, s.EmptyAcquireWaitTime().Seconds())
	counter(c.cancel, float64(s.CanceledAcquireCount()))
}

// WatchCache registers pathbot_snapshot_cache_{hits,misses}_total, read from stats at each
// scrape: the share of read-only commands answered without a database round trip.
func (m *Metrics) WatchCache(reg prometheus.Registerer, stats func() (hits, misses int64)) error {
	if m == nil || reg == nil {
		return nil
	}
	return registerPair(reg, stats,
		prometheus.CounterOpts{Namespace: "pathbot", Name: "snapshot_cache_hits_total",
			Help: "Progress snapshots served from this process's cache."},
		prometheus.CounterOpts{Namespace: "pathbot", Name: "snapshot_cache_misses_total",
			Help: "Progress snapshots read from Postgres because none current was cached."})
}

// WatchWrites registers pathbot_store_writes_total and pathbot_store_write_transactions_total,
// read from stats at each scrape: how many writes group commit folded into how many transactions.
func (m *Metrics) WatchWrites(reg prometheus.Registerer, stats func() (writes, transactions int64)) error {
	if m == nil || reg == nil {
		return nil
	}
	return registerPair(reg, stats,
		prometheus.CounterOpts{Namespace: "pathbot", Name: "store_writes_total",
			Help: "Writes (changes and first enrolments) this process made."},
		prometheus.CounterOpts{Namespace: "pathbot", Name: "store_write_transactions_total",
			Help: "Transactions those writes took; writes that arrive together share one (group commit)."})
}

// registerPair registers two counters read from one stats function at each scrape.
func registerPair(reg prometheus.Registerer, stats func() (int64, int64), first, second prometheus.CounterOpts) error {
	for _, c := range []prometheus.Collector{
		prometheus.NewCounterFunc(first, func() float64 { v, _ := stats(); return float64(v) }),
		prometheus.NewCounterFunc(second, func() float64 { _, v := stats(); return float64(v) }),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
