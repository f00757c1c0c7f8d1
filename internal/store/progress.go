package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pathbot/pathbot/internal/progress"
)

// Reading is one reading a member has done or skipped.
type Reading struct {
	ItemID string
	Status string // "done" or "skipped"
	At     time.Time
}

// Reading statuses.
const (
	StatusDone    = "done"
	StatusSkipped = "skipped"
)

// Snapshot is everything pathbot knows about one member's progress.
type Snapshot struct {
	Enrolled bool
	Readings []Reading
	Entries  []progress.Entry
	Shifts   []progress.Shift
	// Thresholds is the team's own load-test bar, nil when the team uses the default.
	Thresholds *progress.Thresholds

	// versions says which state of the member and the team this snapshot shows (see cache.go).
	versions versions
	// stored is the score the member row holds at versions.member: what the last write computed,
	// which a write guessing its outcome in advance (see batch.go) scores its change against.
	stored Score
}

// Done reports the ids of done readings.
func (s Snapshot) Done() map[string]bool {
	m := make(map[string]bool, len(s.Readings))
	for _, r := range s.Readings {
		if r.Status == StatusDone {
			m[r.ItemID] = true
		}
	}
	return m
}

// Skipped reports the ids of skipped readings.
func (s Snapshot) Skipped() map[string]bool {
	m := map[string]bool{}
	for _, r := range s.Readings {
		if r.Status == StatusSkipped {
			m[r.ItemID] = true
		}
	}
	return m
}

// Enrol makes sure the member (and their team) exist. It is cheap to call on every command: once
// a member is known to this process it costs no round trip. The first time it also reads the
// member's snapshot into the cache, so the Snapshot that follows costs no round trip either.
func (db *DB) Enrol(ctx context.Context, m Member) error {
	if _, ok := db.enrolled.Load(m); ok {
		return nil
	}
	t := db.cache.begin(m)
	r := &writeReq{ctx: ctx, m: m, enrol: true}
	if err := db.submit(r); err != nil {
		return fmt.Errorf("enrol %s: %w", m, err)
	}
	// The member row exists now: a cached "not enrolled" is stale everywhere.
	v := r.res.Snapshot.versions.member
	db.cache.announce(m, v)
	db.cache.fill(m, t, r.res.Snapshot)
	if r.res.announce {
		db.ann.add(announcement(m, v))
	}
	db.enrolled.Store(m, true)
	return nil
}

func queueEnrol(b *pgx.Batch, m Member) {
	b.Queue(`INSERT INTO teams (team_id) VALUES ($1) ON CONFLICT DO NOTHING`, m.TeamID)
	b.Queue(`INSERT INTO members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, m.TeamID, m.UserID)
}

// Snapshot loads a member's progress in one round trip. A member who never used pathbot gets a
// snapshot with Enrolled false.
//
// The snapshot may come from the cache (see cache.go): its slices are shared, so callers must
// treat it as read-only.
func (db *DB) Snapshot(ctx context.Context, m Member) (Snapshot, error) {
	if s, ok := db.cache.get(m); ok {
		return s, nil
	}
	t := db.cache.begin(m)
	s, err := snapshot(ctx, db.pool, m)
	if err != nil {
		return Snapshot{}, fmt.Errorf("load progress for %s: %w", m, err)
	}
	db.cache.fill(m, t, s)
	return s, nil
}

// snapshotSQL loads everything in one statement: each list comes back as parallel arrays, which
// costs Postgres far less than five statements (the database was the load test's bottleneck).
// NULLs inside arrays are coalesced to -1 so they scan into plain slices.
const snapshotSQL = `
SELECT coalesce(mm.version, -1), coalesce(mm.points, 0), coalesce(mm.readings_done, 0), coalesce(mm.milestones_done, '{}'),
       coalesce(t.version, -1),
       r.ids, r.statuses, r.ats,
       e.milestones, e.keys, e.details, e.rps, e.p95, e.p99, e.maxs, e.ats,
       s.froms, s.tos, s.parts, s.ats,
       t.p95_ms, t.p99_ms, t.max_ms
FROM (SELECT coalesce(array_agg(item_id ORDER BY updated_at, item_id), '{}') AS ids,
             coalesce(array_agg(status ORDER BY updated_at, item_id), '{}') AS statuses,
             coalesce(array_agg(updated_at ORDER BY updated_at, item_id), '{}') AS ats
        FROM reading_progress WHERE team_id = $1 AND user_id = $2) r,
     (SELECT coalesce(array_agg(milestone ORDER BY id), '{}') AS milestones,
             coalesce(array_agg(key ORDER BY id), '{}') AS keys,
             coalesce(array_agg(detail ORDER BY id), '{}') AS details,
             coalesce(array_agg(coalesce(rps, -1) ORDER BY id), '{}') AS rps,
             coalesce(array_agg(coalesce(p95_us, -1) ORDER BY id), '{}') AS p95,
             coalesce(array_agg(coalesce(p99_us, -1) ORDER BY id), '{}') AS p99,
             coalesce(array_agg(coalesce(max_us, -1) ORDER BY id), '{}') AS maxs,
             coalesce(array_agg(created_at ORDER BY id), '{}') AS ats
        FROM milestone_entries WHERE team_id = $1 AND user_id = $2) e,
     (SELECT coalesce(array_agg(to_char(from_date, 'YYYY-MM-DD') ORDER BY id), '{}') AS froms,
             coalesce(array_agg(to_char(to_date, 'YYYY-MM-DD') ORDER BY id), '{}') AS tos,
             coalesce(array_agg(part ORDER BY id), '{}') AS parts,
             coalesce(array_agg(created_at ORDER BY id), '{}') AS ats
        FROM oncall_shifts WHERE team_id = $1 AND user_id = $2) s
LEFT JOIN teams t ON t.team_id = $1
LEFT JOIN members mm ON mm.team_id = $1 AND mm.user_id = $2`

// snapshotUnlessSQL is snapshotSQL unless the member and their team are still at versions $3 and
// $4, when it returns no row at once: a write whose member's cached snapshot is current applies
// its change to that snapshot instead (Snapshot.with) and spares Postgres the read, which was
// about a fifth of a write's statement time.
const snapshotUnlessSQL = snapshotSQL + `
WHERE NOT EXISTS (SELECT FROM members m LEFT JOIN teams mt ON mt.team_id = m.team_id
                  WHERE m.team_id = $1 AND m.user_id = $2 AND m.version = $3 AND coalesce(mt.version, -1) = $4)`

func snapshot(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, m Member) (Snapshot, error) {
	return scanSnapshot(q.QueryRow(ctx, snapshotSQL, m.TeamID, m.UserID))
}

func scanSnapshot(row pgx.Row) (Snapshot, error) {
	var (
		s                    Snapshot
		mVer, tVer           int64
		rIDs, rStatus        []string
		rAt, eAt, sAt        []time.Time
		eMs, eKeys, eDetails []string
		eRPS                 []float64
		eP95, eP99, eMax     []int64
		sFrom, sTo, sPart    []string
		tP95, tP99, tMax     *int32
	)
	err := row.Scan(&mVer, &s.stored.Points, &s.stored.Readings, &s.stored.Milestones, &tVer,
		&rIDs, &rStatus, &rAt,
		&eMs, &eKeys, &eDetails, &eRPS, &eP95, &eP99, &eMax, &eAt,
		&sFrom, &sTo, &sPart, &sAt,
		&tP95, &tP99, &tMax)
	if err != nil {
		return Snapshot{}, err
	}
	s.Enrolled = mVer >= 0
	s.versions = versions{member: mVer, team: tVer}
	if len(rIDs) > 0 {
		s.Readings = make([]Reading, len(rIDs))
		for i := range rIDs {
			s.Readings[i] = Reading{ItemID: rIDs[i], Status: rStatus[i], At: rAt[i]}
		}
	}
	if len(eMs) > 0 {
		s.Entries = make([]progress.Entry, len(eMs))
		for i := range eMs {
			s.Entries[i] = entryOf(eMs[i], eKeys[i], eDetails[i], eRPS[i], eP95[i], eP99[i], eMax[i], eAt[i])
		}
	}
	if len(sFrom) > 0 {
		s.Shifts = make([]progress.Shift, len(sFrom))
		for i := range sFrom {
			var err error
			if s.Shifts[i], err = shiftOf(sFrom[i], sTo[i], sPart[i], sAt[i]); err != nil {
				return Snapshot{}, err
			}
		}
	}
	if tP95 != nil && tP99 != nil && tMax != nil {
		s.Thresholds = &progress.Thresholds{P95: ms(*tP95), P99: ms(*tP99), Max: ms(*tMax)}
	}
	return s, nil
}

// entryOf builds an entry from its row as snapshotSQL and the insert's RETURNING give it (missing
// numbers as -1), so that an entry read back and one just written are the same value.
func entryOf(milestone, key, detail string, rps float64, p95, p99, maxUS int64, at time.Time) progress.Entry {
	e := progress.Entry{Milestone: milestone, Key: key, Detail: detail, At: at}
	if rps >= 0 && p95 >= 0 && p99 >= 0 && maxUS >= 0 {
		e.Load = &progress.LoadResult{RPS: rps, P95: us(p95), P99: us(p99), Max: us(maxUS), Link: detail}
	}
	return e
}

// shiftOf builds a shift from its row as snapshotSQL and the insert's RETURNING give it.
func shiftOf(from, to, part string, at time.Time) (progress.Shift, error) {
	f, err1 := progress.ParseDate(from)
	t, err2 := progress.ParseDate(to)
	if err := errors.Join(err1, err2); err != nil {
		return progress.Shift{}, err
	}
	return progress.Shift{From: f, To: t, Part: progress.Part(part), At: at}, nil
}

func us(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
func ms(v int32) time.Duration { return time.Duration(v) * time.Millisecond }

// Score is a member's standing as the domain rules compute it from their progress.
type Score struct {
	Points     int
	Readings   int
	Milestones []string // ids of completed milestones
}

// Scorer computes a Score; the store calls it inside the transaction of every change so the
// denormalised score never disagrees with the progress it was computed from.
type Scorer func(Snapshot) Score

// queueScore stores the new score, raises the member's version (the snapshot changed, see
// migration 00007) and logs the change as activity: the points it gained or lost and any
// milestone it completed. One statement, so the member row gets one new version per write.
func queueScore(b *pgx.Batch, m Member, before, after Score, version *int64) {
	points, milestones := activityOf(before, after)
	b.Queue(`WITH u AS (UPDATE members SET points = $3, readings_done = $4, milestones_done = $5, version = version + 1
	             WHERE team_id = $1 AND user_id = $2 RETURNING version),
	     a AS (INSERT INTO activity (team_id, user_id, points, milestone)
	             SELECT $1, $2, p, ms FROM unnest($6::int[], $7::text[]) AS x(p, ms) WHERE EXISTS (SELECT FROM u))
	SELECT version FROM u`,
		m.TeamID, m.UserID, after.Points, after.Readings, nonNil(after.Milestones), points, milestones).
		QueryRow(func(r pgx.Row) error { return r.Scan(version) })
}

// activityOf is the activity a change from before to after logs: one row with the points, and
// the first milestone completed if any; each further milestone completed gets a row of its own
// with no points.
func activityOf(before, after Score) ([]int32, []*string) {
	had := map[string]bool{}
	for _, id := range before.Milestones {
		had[id] = true
	}
	points := []int32{int32(after.Points - before.Points)}
	milestones := []*string{nil}
	for _, id := range after.Milestones {
		switch {
		case had[id]:
		case milestones[0] == nil:
			milestones[0] = &id
		default:
			points, milestones = append(points, 0), append(milestones, &id)
		}
	}
	return points, milestones
}

// nonNil is ids, or an empty list (as Postgres gives an empty text[] back) instead of nil.
func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

// staleGuard is true while member $2 of team $1 is still at version $4 and their team at $5, and
// trigger $3 was recorded by this transaction: what a guessed write (see batch.go) assumed.
const staleGuard = `version = $4 AND coalesce((SELECT version FROM teams WHERE team_id = $1), -1) = $5 AND ` + freshCommand

// queueGuessedScore is queueScore for a write whose outcome was computed in advance from the
// member's cached snapshot (whose versions and stored score are in base): it stores the score
// only if the guess's assumptions hold, and otherwise fails the transaction (pathbot_stale, see
// migration 00009) before its commit. A write guessed to change nothing only checks them.
func queueGuessedScore(b *pgx.Batch, m Member, trigger string, base *Snapshot, after Score, changed bool, version *int64) {
	args := []any{m.TeamID, m.UserID, trigger, base.versions.member, base.versions.team}
	if !changed {
		b.Queue(`SELECT coalesce((SELECT version FROM members WHERE team_id = $1 AND user_id = $2 AND `+staleGuard+`),
		            pathbot_stale('member changed or command redelivered'))`, args...).
			QueryRow(func(r pgx.Row) error { return r.Scan(version) })
		return
	}
	points, milestones := activityOf(base.stored, after)
	b.Queue(`WITH u AS (UPDATE members SET points = $6, readings_done = $7, milestones_done = $8, version = version + 1
	             WHERE team_id = $1 AND user_id = $2 AND `+staleGuard+` RETURNING version),
	     a AS (INSERT INTO activity (team_id, user_id, points, milestone)
	             SELECT $1, $2, p, ms FROM unnest($9::int[], $10::text[]) AS x(p, ms) WHERE EXISTS (SELECT FROM u))
	SELECT coalesce((SELECT version FROM u), pathbot_stale('member changed or command redelivered'))`,
		append(args, after.Points, after.Readings, nonNil(after.Milestones), points, milestones)...).
		QueryRow(func(r pgx.Row) error { return r.Scan(version) })
}

// queueVersion raises the member's version when there is no score to store.
func queueVersion(b *pgx.Batch, m Member, version *int64) {
	b.Queue(`UPDATE members SET version = version + 1 WHERE team_id = $1 AND user_id = $2 RETURNING version`, m.TeamID, m.UserID).
		QueryRow(func(r pgx.Row) error { return r.Scan(version) })
}

// Change is one change to a member's progress, as asked by one command.
type Change struct {
	MarkReading   string // item id to mark with Status
	Status        string // StatusDone or StatusSkipped
	UnmarkReading string // item id to forget (undo)
	AddEntries    []progress.Entry
	AddShift      *progress.Shift
	// RemoveLatest forgets the most recent entry of this milestone ("undo design"), or the most
	// recent on-call shift when it is "oncall".
	RemoveLatest string
}

// Result says what Apply did.
type Result struct {
	// Duplicate is true when this trigger_id was applied before: nothing was written this time.
	Duplicate bool
	// Changed is false when the change was a no-op (marking a done item done, undoing nothing).
	Changed  bool
	Snapshot Snapshot

	announce bool // the version is ours to announce after the commit
}

// Apply makes one change for a member at most once per triggerID, enrolling the member if needed,
// and returns the progress as it stands after the change, all in one transaction (which it may
// share with other writes, see batch.go).
func (db *DB) Apply(ctx context.Context, m Member, triggerID string, ch Change) (Result, error) {
	t := db.cache.begin(m)
	r := &writeReq{ctx: ctx, m: m, trigger: triggerID, ch: ch}
	err := db.submit(r)
	res := r.res
	if err != nil {
		return Result{}, fmt.Errorf("apply change for %s: %w", m, err)
	}
	db.enrolled.Store(m, true)
	// The snapshot read inside the transaction, after the change: the member's next read is
	// served from memory and already shows it.
	db.cache.fill(m, t, res.Snapshot)
	if res.announce {
		db.ann.add(announcement(m, res.Snapshot.versions.member))
	}
	return res, nil
}

// delta is what one change's statements did, as their RETURNING reports it: enough to apply the
// change to the snapshot it was made on (see Snapshot.with) without reading it again.
type delta struct {
	rows           int64     // rows changed
	marked         []Reading // readings inserted or changed
	unmarked       []string  // readings forgotten
	entries        []progress.Entry
	shifts         []progress.Shift
	removedEntries int // latest entries of Change.RemoveLatest forgotten
	removedShifts  int
}

// queueChange queues the statements of one change, recording in d what they did. Every
// statement is guarded by freshCommand, its parameters $1 team, $2 user and $3 trigger. Rows
// written are stamped at (not Postgres's now()), so that a write guessed in advance knows them.
func queueChange(b *pgx.Batch, m Member, triggerID string, ch Change, at time.Time, d *delta) {
	query := func(sql string, scan func(pgx.Rows) error, args ...any) {
		b.Queue(sql, append([]any{m.TeamID, m.UserID, triggerID}, args...)...).Query(func(rows pgx.Rows) error {
			defer rows.Close()
			for rows.Next() {
				d.rows++
				if err := scan(rows); err != nil {
					return err
				}
			}
			return rows.Err()
		})
	}
	counted := func(n *int) func(pgx.Rows) error {
		return func(pgx.Rows) error { *n++; return nil }
	}
	switch {
	case ch.MarkReading != "":
		query(`INSERT INTO reading_progress (team_id, user_id, item_id, status, updated_at)
		      SELECT $1, $2, $4, $5, $6::timestamptz WHERE `+freshCommand+`
		      ON CONFLICT (team_id, user_id, item_id) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at
		      WHERE reading_progress.status <> EXCLUDED.status
		      RETURNING item_id, status, updated_at`,
			func(rows pgx.Rows) error {
				var r Reading
				err := rows.Scan(&r.ItemID, &r.Status, &r.At)
				d.marked = append(d.marked, r)
				return err
			}, ch.MarkReading, ch.Status, at)
	case ch.UnmarkReading != "":
		query(`DELETE FROM reading_progress WHERE team_id = $1 AND user_id = $2 AND item_id = $4 AND `+freshCommand+`
		      RETURNING item_id`,
			func(rows pgx.Rows) error {
				var id string
				err := rows.Scan(&id)
				d.unmarked = append(d.unmarked, id)
				return err
			}, ch.UnmarkReading)
	case len(ch.AddEntries) > 0:
		for _, e := range ch.AddEntries {
			var rps *float64
			var p95, p99, maxLat *int64
			detail := e.Detail
			if e.Load != nil {
				rps = &e.Load.RPS
				a, b, c := e.Load.P95.Microseconds(), e.Load.P99.Microseconds(), e.Load.Max.Microseconds()
				p95, p99, maxLat = &a, &b, &c
				detail = e.Load.Link
			}
			query(`INSERT INTO milestone_entries (team_id, user_id, milestone, key, detail, rps, p95_us, p99_us, max_us, created_at)
			      SELECT $1, $2, $4, $5, $6, $7::double precision, $8::bigint, $9::bigint, $10::bigint, $11::timestamptz
			      WHERE `+freshCommand+`
			      RETURNING milestone, key, detail, coalesce(rps, -1), coalesce(p95_us, -1), coalesce(p99_us, -1),
			                coalesce(max_us, -1), created_at`,
				func(rows pgx.Rows) error {
					var ms, key, detail string
					var rps float64
					var p95, p99, maxUS int64
					var at time.Time
					err := rows.Scan(&ms, &key, &detail, &rps, &p95, &p99, &maxUS, &at)
					d.entries = append(d.entries, entryOf(ms, key, detail, rps, p95, p99, maxUS, at))
					return err
				}, e.Milestone, e.Key, detail, rps, p95, p99, maxLat, at)
		}
	case ch.AddShift != nil:
		query(`INSERT INTO oncall_shifts (team_id, user_id, from_date, to_date, part, created_at)
		      SELECT $1, $2, $4::date, $5::date, $6, $7::timestamptz WHERE `+freshCommand+`
		      RETURNING to_char(from_date, 'YYYY-MM-DD'), to_char(to_date, 'YYYY-MM-DD'), part, created_at`,
			func(rows pgx.Rows) error {
				var from, to, part string
				var at time.Time
				if err := rows.Scan(&from, &to, &part, &at); err != nil {
					return err
				}
				sh, err := shiftOf(from, to, part, at)
				d.shifts = append(d.shifts, sh)
				return err
			}, ch.AddShift.From.String(), ch.AddShift.To.String(), string(ch.AddShift.Part), at)
	case ch.RemoveLatest == "oncall":
		query(`DELETE FROM oncall_shifts WHERE id = (SELECT max(id) FROM oncall_shifts WHERE team_id = $1 AND user_id = $2)
		      AND `+freshCommand+` RETURNING 1`, counted(&d.removedShifts))
	case ch.RemoveLatest != "":
		query(`DELETE FROM milestone_entries WHERE id = (SELECT max(id) FROM milestone_entries
		      WHERE team_id = $1 AND user_id = $2 AND milestone = $4) AND `+freshCommand+` RETURNING 1`,
			counted(&d.removedEntries), ch.RemoveLatest)
	}
}

// predict is the delta ch's statements will report when made on the member s shows, with rows
// stamped at: the change's outcome depends on nothing else. False when it cannot tell.
func predict(s Snapshot, ch Change, at time.Time) (delta, bool) {
	var d delta
	switch {
	case ch.MarkReading != "":
		i := slices.IndexFunc(s.Readings, func(r Reading) bool { return r.ItemID == ch.MarkReading })
		if i < 0 || s.Readings[i].Status != ch.Status {
			d.marked = []Reading{{ItemID: ch.MarkReading, Status: ch.Status, At: at}}
			d.rows = 1
		}
	case ch.UnmarkReading != "":
		if slices.ContainsFunc(s.Readings, func(r Reading) bool { return r.ItemID == ch.UnmarkReading }) {
			d.unmarked = []string{ch.UnmarkReading}
			d.rows = 1
		}
	case len(ch.AddEntries) > 0:
		for _, e := range ch.AddEntries {
			// As the row goes to Postgres and comes back (queueChange, scanSnapshot).
			rps, p95, p99, maxUS, detail := -1.0, int64(-1), int64(-1), int64(-1), e.Detail
			if e.Load != nil {
				rps, p95, p99, maxUS = e.Load.RPS, e.Load.P95.Microseconds(), e.Load.P99.Microseconds(), e.Load.Max.Microseconds()
				detail = e.Load.Link
			}
			d.entries = append(d.entries, entryOf(e.Milestone, e.Key, detail, rps, p95, p99, maxUS, at))
			d.rows++
		}
	case ch.AddShift != nil:
		sh, err := shiftOf(ch.AddShift.From.String(), ch.AddShift.To.String(), string(ch.AddShift.Part), at)
		if err != nil {
			return delta{}, false
		}
		d.shifts = []progress.Shift{sh}
		d.rows = 1
	case ch.RemoveLatest == "oncall":
		if len(s.Shifts) > 0 {
			d.removedShifts, d.rows = 1, 1
		}
	case ch.RemoveLatest != "":
		if slices.ContainsFunc(s.Entries, func(e progress.Entry) bool { return e.Milestone == ch.RemoveLatest }) {
			d.removedEntries, d.rows = 1, 1
		}
	}
	return d, true
}

// with returns the snapshot s becomes when the change that did d is made on it, and false when
// that is not certain (two readings changed at the same instant, whose order is the database's
// collation's to decide), in which case the caller reads it instead. s must show the member
// exactly as the change found them; its slices are shared with the cache, so they are copied,
// never written.
func (s Snapshot) with(ch Change, d delta) (Snapshot, bool) {
	for _, id := range d.unmarked {
		s.Readings = slices.DeleteFunc(slices.Clone(s.Readings), func(r Reading) bool { return r.ItemID == id })
	}
	for _, r := range d.marked {
		rest := slices.DeleteFunc(slices.Clone(s.Readings), func(x Reading) bool { return x.ItemID == r.ItemID })
		// snapshotSQL orders readings by time, then id.
		i := len(rest)
		for j, x := range rest {
			if x.At.Equal(r.At) {
				return Snapshot{}, false
			}
			if x.At.After(r.At) {
				i = j
				break
			}
		}
		s.Readings = slices.Insert(rest, i, r)
	}
	for range d.removedEntries {
		// The latest entry of a milestone is its last: snapshotSQL orders entries by id.
		i := len(s.Entries) - 1
		for i >= 0 && s.Entries[i].Milestone != ch.RemoveLatest {
			i--
		}
		if i < 0 {
			return Snapshot{}, false
		}
		s.Entries = slices.Delete(slices.Clone(s.Entries), i, i+1)
	}
	for range d.removedShifts {
		if len(s.Shifts) == 0 {
			return Snapshot{}, false
		}
		s.Shifts = slices.Clip(s.Shifts[:len(s.Shifts)-1])
	}
	// New rows have the highest ids (their sequence's next values), so they come last.
	s.Entries = append(slices.Clip(s.Entries), d.entries...)
	s.Shifts = append(slices.Clip(s.Shifts), d.shifts...)
	// As scanSnapshot leaves them: nil when empty.
	if len(s.Readings) == 0 {
		s.Readings = nil
	}
	if len(s.Entries) == 0 {
		s.Entries = nil
	}
	if len(s.Shifts) == 0 {
		s.Shifts = nil
	}
	return s, true
}

// CommandRetention is how long a command's trigger_id is remembered for deduplication. Slack
// redelivers an unacknowledged envelope within minutes; a week is far beyond that, and keeps
// processed_commands (one row per command ever run) from growing without end.
const CommandRetention = 7 * 24 * time.Hour

// PruneCommands forgets up to limit commands recorded more than age ago (by the database's clock),
// oldest first, and returns how many it forgot.
func (db *DB) PruneCommands(ctx context.Context, age time.Duration, limit int) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM processed_commands WHERE ctid = ANY (ARRAY(
	        SELECT ctid FROM processed_commands WHERE created_at < now() - $1::interval ORDER BY created_at LIMIT $2))`, age, limit)
	if err != nil {
		return 0, fmt.Errorf("prune commands older than %s: %w", age, err)
	}
	return tag.RowsAffected(), nil
}

// Cached returns a member's snapshot when this process can answer from memory alone: the member
// is known here to be enrolled and their cached snapshot is current. It never touches the
// database, so the bot can answer such reads where it reads the envelope.
func (db *DB) Cached(m Member) (Snapshot, bool) {
	if _, ok := db.enrolled.Load(m); !ok {
		return Snapshot{}, false
	}
	return db.cache.get(m)
}
