package store

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// The snapshot cache keeps members' snapshots in memory so that read-only commands (status,
// next, list: most of the traffic) cost no database round trip.
//
// Any replica, or anyone with psql, may change a member's progress, so the cache is only as
// good as its invalidation. Triggers (migration 00005) raise a version number on every change
// and announce it on the channel pathbot_snapshot; each replica listens on a connection of its
// own. Versions only grow, so ordering does not matter: a snapshot older than a version already
// announced is never served or stored, whether the read, the commit or the notification came
// first. While the listening connection is down (or not yet up) nothing is served from the
// cache, and everything in it is dropped, since notifications may have been missed.

// CacheTTL bounds how long a snapshot is served without being read again. Announcements make
// the cache exact; the bound only matters when one is lost: a replica that crashed between its
// commit and sending the announcement, or an announcement transaction that failed.
const CacheTTL = time.Minute

// versions identifies the state a snapshot shows: the member's and the team's version counters,
// -1 when the row does not exist.
type versions struct{ member, team int64 }

// cacheSlot is one member's place in the cache. It exists before the first read returns, so that
// an announcement arriving while the read is in flight is remembered in seen.
type cacheSlot struct {
	snap   *Snapshot // nil until filled, and after an announcement made it stale
	seen   int64     // highest member version announced since the slot was made
	filled time.Time
}

// cacheTicket is taken before a read and presented with its result.
type cacheTicket struct {
	slot  *cacheSlot
	epoch uint64
}

type snapshotCache struct {
	mu    sync.Mutex
	live  bool   // the listener is connected: announcements are arriving
	epoch uint64 // changes whenever live changes; a read from another epoch is not stored
	max   int
	ttl   time.Duration // a snapshot older than this is read again (see CacheTTL)
	slots map[Member]*cacheSlot
	teams map[string]int64 // highest team version announced

	hits, misses atomic.Int64
}

func newSnapshotCache(max int) *snapshotCache {
	return &snapshotCache{max: max, ttl: CacheTTL, slots: map[Member]*cacheSlot{}, teams: map[string]int64{}}
}

// get returns the cached snapshot of m if there is a current one.
func (c *snapshotCache) get(m Member) (Snapshot, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live {
		if slot := c.slots[m]; slot != nil && slot.snap != nil && slot.snap.versions.team >= c.teams[m.TeamID] &&
			time.Since(slot.filled) < c.ttl {
			c.hits.Add(1)
			return *slot.snap, true
		}
	}
	c.misses.Add(1)
	return Snapshot{}, false
}

// current returns m's cached snapshot whatever its age, nil when there is none. A write checks
// its versions against the database's under the member's lock before building on it.
func (c *snapshotCache) current(m Member) *Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	if slot := c.slots[m]; c.live && slot != nil {
		return slot.snap
	}
	return nil
}

// begin is called before reading m's snapshot from the database.
func (c *snapshotCache) begin(m Member) cacheTicket {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || c.max <= 0 {
		return cacheTicket{}
	}
	slot := c.slots[m]
	if slot == nil {
		if len(c.slots) >= c.max {
			for k := range c.slots { // Go's map order is random enough for an eviction policy
				delete(c.slots, k)
				break
			}
		}
		slot = &cacheSlot{}
		c.slots[m] = slot
	}
	return cacheTicket{slot: slot, epoch: c.epoch}
}

// fill stores s, read under ticket t, unless something newer is known.
func (c *snapshotCache) fill(m Member, t cacheTicket, s Snapshot) {
	if t.slot == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	slot := c.slots[m]
	switch {
	case !c.live, c.epoch != t.epoch, slot != t.slot:
		return // the cache was reset or the slot evicted while reading
	case s.versions.member < slot.seen, s.versions.team < c.teams[m.TeamID]:
		return // changed since it was read
	case slot.snap != nil && slot.snap.versions.member > s.versions.member:
		return // a newer one got here first
	}
	slot.snap = &s
	slot.filled = time.Now()
}

// announce records that m's progress is now at version v.
func (c *snapshotCache) announce(m Member, v int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	slot := c.slots[m]
	if slot == nil {
		return // not cached and not being read: nothing to protect
	}
	if v > slot.seen {
		slot.seen = v
	}
	if slot.snap != nil && slot.snap.versions.member < v {
		slot.snap = nil
	}
}

// announceTeam records that team's own settings in the snapshot are now at version v.
func (c *snapshotCache) announceTeam(team string, v int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v > c.teams[team] {
		c.teams[team] = v
	}
}

// forget drops m (the member row was deleted; a new one starts again from version 0).
func (c *snapshotCache) forget(m Member) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.slots, m)
}

// reset empties the cache and says whether announcements are arriving.
func (c *snapshotCache) reset(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = live
	c.epoch++
	clear(c.slots)
	clear(c.teams)
}

// handle applies one notification payload: "<team> <user> <version>", "<team> * <version>" or
// "<team> <user> -".
func (c *snapshotCache) handle(payload string) error {
	f := strings.Fields(payload)
	if len(f) != 3 {
		return fmt.Errorf("unexpected payload %q", payload)
	}
	m := Member{TeamID: f[0], UserID: f[1]}
	if f[2] == "-" {
		c.forget(m)
		return nil
	}
	v, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return fmt.Errorf("unexpected payload %q: %w", payload, err)
	}
	if m.UserID == "*" {
		c.announceTeam(m.TeamID, v)
	} else {
		c.announce(m, v)
	}
	return nil
}

// announcer sends this process's announcements after its writes commit, many in one
// transaction (see migration 00005: NOTIFY inside every write transaction serialised commits).
type announcer struct {
	running atomic.Bool // Listen is running: writes leave announcing to us
	mu      sync.Mutex
	pending []string
	wake    chan struct{}
}

func newAnnouncer() *announcer { return &announcer{wake: make(chan struct{}, 1)} }

func announcement(m Member, v int64) string {
	return m.TeamID + " " + m.UserID + " " + strconv.FormatInt(v, 10)
}

// add queues one announcement; it never blocks the write that made it.
func (a *announcer) add(payload string) {
	a.mu.Lock()
	a.pending = append(a.pending, payload)
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *announcer) take() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.pending
	a.pending = nil
	return p
}

// queueTransactionSettings tells the triggers of the write transaction being queued, when the
// announcer runs, that the process raises the member versions itself (migration 00007) and will
// announce them after the commit (00005), and reports whether it does. Without the announcer
// (before Listen starts, after it stops) the triggers version and announce as for any writer,
// since nobody else would announce. A non-empty lockTimeout bounds the transaction's lock waits.
func (db *DB) queueTransactionSettings(b *pgx.Batch, lockTimeout string) (announceLater bool) {
	later := db.ann.running.Load()
	switch {
	case later && lockTimeout != "":
		b.Queue(`SELECT set_config('pathbot.versioned', 'by_writer', true), set_config('pathbot.announce', 'after_commit', true),
		        set_config('lock_timeout', $1, true)`, lockTimeout)
	case later:
		b.Queue(`SELECT set_config('pathbot.versioned', 'by_writer', true), set_config('pathbot.announce', 'after_commit', true)`)
	case lockTimeout != "":
		b.Queue(`SELECT set_config('lock_timeout', $1, true)`, lockTimeout)
	}
	return later
}

// announceDelay gathers the announcements of this long into one statement. It is also how much
// later than the writer another replica learns of a change.
const announceDelay = 5 * time.Millisecond

// announceLoop sends queued announcements until ctx ends, then sends what is left. It uses a
// connection of its own with synchronous_commit off, so that each batch is one statement that
// waits for no fsync: nothing here is durable anyway (a notification lost in a crash of Postgres
// goes with the listening connections, and that empties every cache).
func (db *DB) announceLoop(ctx context.Context, log *slog.Logger) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.WithoutCancel(ctx))
		}
	}()
	send := func(ctx context.Context) {
		ps := db.ann.take()
		if len(ps) == 0 {
			return
		}
		var err error
		for attempt := 0; attempt < 3; attempt++ {
			if conn == nil {
				if conn, err = db.announceConn(ctx); err != nil {
					continue
				}
			}
			if _, err = conn.Exec(ctx, `SELECT count(pg_notify('pathbot_snapshot', p)) FROM unnest($1::text[]) p`, ps); err == nil {
				return
			}
			conn.Close(context.WithoutCancel(ctx))
			conn = nil
			if ctx.Err() != nil {
				break
			}
		}
		log.Warn("could not announce snapshot changes; other replicas may show them late (at most CacheTTL)", "changes", len(ps), "err", err)
	}
	for {
		select {
		case <-db.ann.wake:
			select {
			case <-time.After(announceDelay):
			case <-ctx.Done():
			}
			send(ctx)
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			send(fctx)
			cancel()
			return
		}
	}
}

func (db *DB) announceConn(ctx context.Context) (*pgx.Conn, error) {
	cfg := db.pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["synchronous_commit"] = "off"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect announcer: %w", err)
	}
	return conn, nil
}

// CacheStats reports the snapshot cache's hits and misses since start.
func (db *DB) CacheStats() (hits, misses int64) {
	return db.cache.hits.Load(), db.cache.misses.Load()
}

// SetCacheSize bounds the number of members whose snapshot is kept in memory; 0 turns the cache
// off. Call it before Listen.
func (db *DB) SetCacheSize(n int) { db.cache.max = n }

// Listen keeps the snapshot cache coherent with the database until ctx ends: it listens on a
// connection of its own and applies every announcement, and it sends this process's own
// announcements after its writes commit. While it is not connected the cache
// serves nothing. It returns when ctx is done.
func (db *DB) Listen(ctx context.Context, log *slog.Logger) {
	annCtx, stopAnn := context.WithCancel(context.WithoutCancel(ctx))
	annDone := make(chan struct{})
	db.ann.running.Store(true)
	go func() { defer close(annDone); db.announceLoop(annCtx, log) }()
	defer func() {
		db.ann.running.Store(false)
		stopAnn()
		<-annDone
	}()
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		live, err := db.listen(ctx, log)
		db.cache.reset(false)
		if ctx.Err() != nil {
			return
		}
		if live {
			wait = 100 * time.Millisecond
		}
		log.Warn("snapshot cache off until the database is back", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

func (db *DB) listen(ctx context.Context, log *slog.Logger) (live bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return false, fmt.Errorf("connect listener: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN pathbot_snapshot"); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	// Only from here on is every change sure to be announced to us.
	db.cache.reset(true)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, fmt.Errorf("wait for notification: %w", err)
		}
		if err := db.cache.handle(n.Payload); err != nil {
			// Not from our triggers (they cannot send this): someone else shares the channel.
			log.Warn("ignoring notification", "channel", n.Channel, "err", err)
		}
	}
}

// CacheLive reports whether the snapshot cache is serving: its listener is connected.
func (db *DB) CacheLive() bool {
	db.cache.mu.Lock()
	defer db.cache.mu.Unlock()
	return db.cache.live
}
