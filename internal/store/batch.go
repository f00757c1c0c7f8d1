package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Group commit: writes (Apply, Enrol) that arrive while another write is in flight wait for it
// and then go to Postgres together, as one transaction in two round trips whatever their number.
// On this kind of machine a write costs Postgres and the bot far more in round trips, wake-ups
// and commits than in SQL, so under load a batch of ten costs little more than one write; with
// no load every batch holds one write and nothing waits.
//
// Members are spread over a few lanes by hash. A lane runs one batch at a time and a batch holds
// a member at most once, so the writes of one member in this process are applied one after the
// other, in arrival order, each seeing the one before. Every batch locks its members in the same
// (byte) order, so batches of different lanes or replicas cannot deadlock one another, and a
// batch gives up on a lock after a second (a row held elsewhere: psql, an unsorted bulk
// statement). Any error fails the whole transaction; each of its writes is then retried alone,
// so one bad or blocked write never fails or holds up the others.

// writeLanes is how many batches may be in flight at once. Fewer lanes make bigger batches (less
// work per write: a transaction's round trips, wake-ups and commit are shared) but queue more.
// Two keep a 2-core machine's Postgres busy: in the 5,000/s load test they cost Postgres 57-59% of
// a core against 69-71% with four, for the same latency, and at 1,000/s no latency difference
// showed either.
const writeLanes = 2

// maxBatch bounds one batch: its statements travel in one pipeline and its locks are held until
// its commit.
const maxBatch = 64

// batchTimeout bounds one batch's transaction. A batch runs on behalf of several callers, so it
// is not cancelled with any one of them.
const batchTimeout = 10 * time.Second

// writeReq is one Apply or Enrol waiting for its batch.
type writeReq struct {
	ctx     context.Context
	m       Member
	enrol   bool // Enrol: make sure the member exists and read their snapshot
	trigger string
	ch      Change

	res   Result
	err   error
	done  chan struct{}
	taken bool // in a batch (guarded by its lane's mu)
}

type writeLane struct {
	mu      sync.Mutex
	pending []*writeReq
	running bool // a goroutine is draining pending
}

type writeBatcher struct {
	seed  maphash.Seed
	lanes [writeLanes]writeLane

	transactions, writes  atomic.Int64 // for WriteStats
	computed              atomic.Int64 // snapshots of writes computed from the cache instead of read
	guessed, guessedWrong atomic.Int64 // writes sent in one round trip; batches whose guess failed
}

func newWriteBatcher() *writeBatcher { return &writeBatcher{seed: maphash.MakeSeed()} }

// submit queues r and waits for its outcome. A caller that gives up while its write is still
// queued gets its context's error and the write never happens; once the write is in a shared
// batch the caller waits for its outcome (at most twice batchTimeout: the batch, then the write
// alone), so that nobody is told "error" about a write a batch saved.
func (db *DB) submit(r *writeReq) error {
	r.done = make(chan struct{})
	var h maphash.Hash
	h.SetSeed(db.batch.seed)
	h.WriteString(r.m.TeamID)
	h.WriteString(r.m.UserID)
	l := &db.batch.lanes[h.Sum64()%writeLanes]
	l.mu.Lock()
	l.pending = append(l.pending, r)
	if !l.running {
		l.running = true
		go db.drain(l)
	}
	l.mu.Unlock()
	select {
	case <-r.done:
		return r.err
	case <-r.ctx.Done():
		l.mu.Lock()
		taken := r.taken
		l.mu.Unlock()
		if !taken {
			return r.ctx.Err() // and take will drop it: its context is done
		}
		<-r.done
		return r.err
	}
}

// drain runs the lane's batches until nothing is pending.
func (db *DB) drain(l *writeLane) {
	for {
		l.mu.Lock()
		batch := take(&l.pending)
		if len(batch) == 0 {
			l.running = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		db.runBatch(batch)
	}
}

// take removes the next batch from pending: the oldest writes, each member at most once and
// whose caller still waits, up to maxBatch. A member's later writes stay, in order, for the next.
func take(pending *[]*writeReq) []*writeReq {
	var batch, rest []*writeReq
	in := map[Member]bool{}
	for _, r := range *pending {
		switch {
		case r.ctx.Err() != nil:
			r.err = r.ctx.Err()
			close(r.done)
		case in[r.m] || len(batch) == maxBatch:
			rest = append(rest, r)
		default:
			in[r.m] = true
			r.taken = true
			batch = append(batch, r)
		}
	}
	*pending = rest
	return batch
}

// runBatch applies a batch in one transaction, or each write alone when that fails.
func (db *DB) runBatch(batch []*writeReq) {
	db.batch.writes.Add(int64(len(batch)))
	if len(batch) == 1 {
		db.batch.transactions.Add(1)
		batch[0].err = db.writeAlone(batch[0])
		close(batch[0].done)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	err := db.write(ctx, batch, true)
	cancel()
	if err == nil {
		db.batch.transactions.Add(1)
		for _, r := range batch {
			close(r.done)
		}
		return
	}
	// Each alone and at the same time, each answered as soon as it is done, so that a write
	// stuck on a lock (a row held in psql, which failed the batch) delays no other caller. The
	// lane waits for all of them (batchTimeout at most), so that a member's next write still
	// comes after this one.
	db.batch.transactions.Add(int64(1 + len(batch)))
	var wg sync.WaitGroup
	for _, r := range batch {
		wg.Go(func() {
			r.err = db.writeAlone(r)
			close(r.done)
		})
	}
	wg.Wait()
}

// writeAlone is one write in a transaction of its own. It is its caller's: it ends when its
// caller gives up, and at batchTimeout at the latest, so that no caller can hold up its lane.
func (db *DB) writeAlone(r *writeReq) error {
	ctx, cancel := context.WithTimeout(r.ctx, batchTimeout)
	defer cancel()
	return db.write(ctx, []*writeReq{r}, false)
}

// batchLockTimeout bounds how long a batch waits for a row lock. Batches lock their members in
// one order and hold them for milliseconds, so a longer wait means a lock held elsewhere (psql,
// a bulk statement): the batch then fails, and its writes are retried alone, so that only the
// write of the locked member waits for it.
const batchLockTimeout = "1s"

// freshCommand is true inside the transaction that recorded trigger $3 of user $2 for team $1:
// the row's xmin is this transaction's id. A redelivered command finds an older row and changes
// nothing.
const freshCommand = `EXISTS (SELECT 1 FROM processed_commands
       WHERE team_id = $1 AND trigger_id = $3 AND user_id = $2 AND xmin = xid(pg_current_xact_id()))`

// recordAndLockSQL records command $2 of member $3 of team $1 and locks the member, so that
// concurrent changes of one member score one after the other; it returns their stored score and
// whether the command is a redelivery.
const recordAndLockSQL = `WITH p AS (INSERT INTO processed_commands (team_id, trigger_id, user_id) VALUES ($1, $2, $3)
                    ON CONFLICT DO NOTHING RETURNING 1)
         SELECT points, milestones_done, NOT EXISTS (SELECT FROM p) FROM members
         WHERE team_id = $1 AND user_id = $3 FOR NO KEY UPDATE`

// write applies the writes of a batch in one transaction: guessed in one round trip when it can
// be (see guessBatch), else in two.
func (db *DB) write(ctx context.Context, batch []*writeReq, shared bool) error {
	err := db.writeTx(ctx, batch, shared, true)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == staleCode {
		// A member changed elsewhere since it was cached, or a command was redelivered: nothing
		// was committed; the usual way finds out what is true now.
		db.batch.guessedWrong.Add(1)
		err = db.writeTx(ctx, batch, shared, false)
	}
	return err
}

// staleCode is the SQLSTATE of pathbot_stale (migration 00009).
const staleCode = "PB001"

// guess is a write's outcome computed before it is sent: the cached snapshot it is made on, what
// its statements will report, and the snapshot and score that follow.
type guess struct {
	base  *Snapshot
	delta delta
	after Snapshot
	score Score
}

// guessBatch computes every write's outcome in advance, or returns nil when any of them cannot
// be: a first contact, a member without a cached snapshot, two readings stamped alike. The
// outcome of a change depends only on the member's state and the command being new, so when the
// member row is still at the cached snapshot's version under the lock (queueGuessedScore checks
// it before the commit) the guess is exactly what the statements do, and the score can travel
// with them.
func (db *DB) guessBatch(batch []*writeReq, at time.Time) []guess {
	if db.Score == nil {
		return nil
	}
	gs := make([]guess, len(batch))
	for i, r := range batch {
		if r.enrol {
			return nil
		}
		if _, known := db.enrolled.Load(r.m); !known {
			return nil
		}
		base := db.cache.current(r.m)
		if base == nil {
			return nil
		}
		d, ok := predict(*base, r.ch, at)
		if !ok {
			return nil
		}
		after, ok := base.with(r.ch, d)
		if !ok {
			return nil
		}
		gs[i] = guess{base: base, delta: d, after: after, score: db.Score(after)}
	}
	return gs
}

// writeTx applies the writes of a batch, members in sorted order, in one transaction.
//
// Guessed (guess, and guessBatch could), it is one round trip: record each command and lock its
// member, the change, and the score computed in advance, stored only if the guess holds (else
// the transaction fails, and write tries again the usual way); then the commit.
//
// The usual way is two round trips whatever their number: (enrol), record the command and lock
// the member, change, and reload the snapshot (or, when the cached one is still current, have the
// change's RETURNING rows applied to it, see Snapshot.with); then score, raise the version and
// commit. The change runs in the first trip whether or not the command is a redelivery, so each
// of its statements is guarded in SQL (freshCommand). A batch of enrolments only commits in the
// first trip.
func (db *DB) writeTx(ctx context.Context, batch []*writeReq, shared, guessing bool) (err error) {
	slices.SortFunc(batch, func(a, b *writeReq) int {
		return cmp.Or(cmp.Compare(a.m.TeamID, b.m.TeamID), cmp.Compare(a.m.UserID, b.m.UserID))
	})
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			// Best effort; a connection left inside a transaction is closed by the pool on release.
			_, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		}
		conn.Release()
	}()
	// The scorer (domain rules) runs here, on the lane's goroutine rather than the handler's: a
	// panic in it must fail the write (and the batch, whose other writes are then retried
	// alone), not end the process.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write %d changes: panic: %v", len(batch), p)
		}
	}()

	// Rows are stamped with the bot's clock, so that a guess knows them; to the microsecond, as
	// Postgres keeps them.
	at := time.Now().Truncate(time.Microsecond)
	writing := false
	before := make([]Score, len(batch))
	deltas := make([]delta, len(batch))
	// base[i] is the cached snapshot write i's change is applied to, when the database says it is
	// still current (snapshotUnlessSQL returned no row); nil when it was read.
	base := make([]*Snapshot, len(batch))
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	lockTimeout := ""
	if shared {
		lockTimeout = batchLockTimeout
	}
	later := db.queueTransactionSettings(b, lockTimeout)
	if guessing && later {
		// Without the announcer the triggers raise the version in the change itself, and every
		// guess would fail.
		if gs := db.guessBatch(batch, at); gs != nil {
			return db.writeGuessed(ctx, conn, b, batch, gs, at, later)
		}
	}
	teams := map[string]bool{}
	for i, r := range batch {
		r.res = Result{}
		if _, known := db.enrolled.Load(r.m); !known {
			if !teams[r.m.TeamID] {
				teams[r.m.TeamID] = true
				b.Queue(`INSERT INTO teams (team_id) VALUES ($1) ON CONFLICT DO NOTHING`, r.m.TeamID)
			}
			b.Queue(`INSERT INTO members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, r.m.TeamID, r.m.UserID)
		}
		if !r.enrol {
			writing = true
			b.Queue(recordAndLockSQL, r.m.TeamID, r.trigger, r.m.UserID).
				QueryRow(func(row pgx.Row) error {
					return row.Scan(&before[i].Points, &before[i].Milestones, &r.res.Duplicate)
				})
			queueChange(b, r.m, r.trigger, r.ch, at, &deltas[i])
			if cached := db.cache.current(r.m); cached != nil {
				b.Queue(snapshotUnlessSQL, r.m.TeamID, r.m.UserID, cached.versions.member, cached.versions.team).
					QueryRow(func(row pgx.Row) error {
						s, err := scanSnapshot(row)
						switch {
						case errors.Is(err, pgx.ErrNoRows):
							base[i] = cached
							return nil
						case err != nil:
							return err
						}
						r.res.Snapshot = s
						return nil
					})
				continue
			}
		}
		b.Queue(snapshotSQL, r.m.TeamID, r.m.UserID).QueryRow(func(row pgx.Row) error {
			var err error
			r.res.Snapshot, err = scanSnapshot(row)
			return err
		})
	}
	if !writing {
		b.Queue("COMMIT")
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write %d changes: %w", len(batch), err)
	}
	if !writing {
		for _, r := range batch {
			r.res.announce = later
		}
		return nil
	}
	for i, r := range batch {
		if base[i] == nil {
			continue
		}
		s, ok := base[i].with(r.ch, deltas[i])
		if ok {
			db.batch.computed.Add(1)
		} else if s, err = snapshot(ctx, conn, r.m); err != nil { // rare (see with): read it, under the lock
			return fmt.Errorf("write %d changes: reread %s: %w", len(batch), r.m, err)
		}
		r.res.Snapshot = s
	}
	b = &pgx.Batch{}
	versions := make([]int64, len(batch))
	for i, r := range batch {
		r.res.Changed = deltas[i].rows > 0
		// Duplicates too: the first delivery's commit may have looked failed to its caller (a
		// deadline during COMMIT) and gone unannounced. Versions only grow, so it costs nothing.
		r.res.announce = later
		switch {
		case !r.res.Changed:
		case db.Score != nil:
			score := db.Score(r.res.Snapshot)
			queueScore(b, r.m, before[i], score, &versions[i])
			score.Milestones = nonNil(score.Milestones)
			r.res.Snapshot.stored = score
		default:
			queueVersion(b, r.m, &versions[i])
		}
	}
	b.Queue("COMMIT")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("score and commit %d changes: %w", len(batch), err)
	}
	for i, r := range batch {
		if r.res.Changed {
			// The snapshot was read before the version was raised, under the member's lock.
			r.res.Snapshot.versions.member = versions[i]
		}
	}
	return nil
}

// writeGuessed sends a batch whose outcome gs computed in advance, in one round trip with its
// commit (b holds its BEGIN and settings). A wrong guess fails the transaction before the commit
// with staleCode.
func (db *DB) writeGuessed(ctx context.Context, conn *pgxpool.Conn, b *pgx.Batch, batch []*writeReq, gs []guess, at time.Time, later bool) error {
	deltas := make([]delta, len(batch))
	versions := make([]int64, len(batch))
	for i, r := range batch {
		r.res = Result{}
		// The member is locked first, as the usual way does: both take a batch's locks in one
		// order, so a guessed and a usual batch of two replicas cannot deadlock.
		b.Queue(recordAndLockSQL, r.m.TeamID, r.trigger, r.m.UserID)
		queueChange(b, r.m, r.trigger, r.ch, at, &deltas[i])
		queueGuessedScore(b, r.m, r.trigger, gs[i].base, gs[i].score, gs[i].delta.rows > 0, &versions[i])
	}
	b.Queue("COMMIT")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write %d guessed changes: %w", len(batch), err)
	}
	db.batch.guessed.Add(int64(len(batch)))
	for i, r := range batch {
		r.res.Changed = gs[i].delta.rows > 0
		r.res.Snapshot = gs[i].after
		r.res.Snapshot.versions.member = versions[i]
		if r.res.Changed {
			r.res.Snapshot.stored = gs[i].score
			r.res.Snapshot.stored.Milestones = nonNil(gs[i].score.Milestones)
		}
		r.res.announce = later
	}
	return nil
}

// WriteStats reports how many writes (Apply and first Enrol calls) this process has made and in
// how many transactions: the difference is what group commit saved.
func (db *DB) WriteStats() (writes, transactions int64) {
	return db.batch.writes.Load(), db.batch.transactions.Load()
}
