package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
// a member is known to this process it costs no round trip.
func (db *DB) Enrol(ctx context.Context, m Member) error {
	if _, ok := db.enrolled.Load(m); ok {
		return nil
	}
	b := &pgx.Batch{}
	queueEnrol(b, m)
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("enrol %s: %w", m, err)
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
func (db *DB) Snapshot(ctx context.Context, m Member) (Snapshot, error) {
	s, err := snapshot(ctx, db.pool, m)
	if err != nil {
		return Snapshot{}, fmt.Errorf("load progress for %s: %w", m, err)
	}
	return s, nil
}

// querier is what both a pool and a transaction offer.
type querier interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

func snapshot(ctx context.Context, q querier, m Member) (Snapshot, error) {
	var s Snapshot
	b := &pgx.Batch{}
	b.Queue(`SELECT EXISTS (SELECT 1 FROM members WHERE team_id = $1 AND user_id = $2)`, m.TeamID, m.UserID).
		QueryRow(func(row pgx.Row) error { return row.Scan(&s.Enrolled) })
	b.Queue(`SELECT item_id, status, updated_at FROM reading_progress
	          WHERE team_id = $1 AND user_id = $2 ORDER BY updated_at, item_id`, m.TeamID, m.UserID).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var r Reading
				if err := rows.Scan(&r.ItemID, &r.Status, &r.At); err != nil {
					return err
				}
				s.Readings = append(s.Readings, r)
			}
			return rows.Err()
		})
	b.Queue(`SELECT milestone, key, detail, rps, p95_us, p99_us, max_us, created_at FROM milestone_entries
	          WHERE team_id = $1 AND user_id = $2 ORDER BY id`, m.TeamID, m.UserID).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var (
					e                progress.Entry
					rps              *float64
					p95, p99, maxLat *int64
				)
				if err := rows.Scan(&e.Milestone, &e.Key, &e.Detail, &rps, &p95, &p99, &maxLat, &e.At); err != nil {
					return err
				}
				if rps != nil && p95 != nil && p99 != nil && maxLat != nil {
					e.Load = &progress.LoadResult{RPS: *rps, P95: us(*p95), P99: us(*p99), Max: us(*maxLat), Link: e.Detail}
				}
				s.Entries = append(s.Entries, e)
			}
			return rows.Err()
		})
	b.Queue(`SELECT to_char(from_date, 'YYYY-MM-DD'), to_char(to_date, 'YYYY-MM-DD'), part, created_at FROM oncall_shifts
	          WHERE team_id = $1 AND user_id = $2 ORDER BY id`, m.TeamID, m.UserID).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var from, to, part string
				var at time.Time
				if err := rows.Scan(&from, &to, &part, &at); err != nil {
					return err
				}
				f, err1 := progress.ParseDate(from)
				t, err2 := progress.ParseDate(to)
				if err := errors.Join(err1, err2); err != nil {
					return err
				}
				s.Shifts = append(s.Shifts, progress.Shift{From: f, To: t, Part: progress.Part(part), At: at})
			}
			return rows.Err()
		})
	b.Queue(`SELECT p95_ms, p99_ms, max_ms FROM teams WHERE team_id = $1`, m.TeamID).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var p95, p99, maxLat *int32
				if err := rows.Scan(&p95, &p99, &maxLat); err != nil {
					return err
				}
				if p95 != nil && p99 != nil && maxLat != nil {
					s.Thresholds = &progress.Thresholds{P95: ms(*p95), P99: ms(*p99), Max: ms(*maxLat)}
				}
			}
			return rows.Err()
		})
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return Snapshot{}, err
	}
	return s, nil
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

// recordScore stores the new score and logs the change as activity: the points it gained or lost
// and any milestone it completed.
func recordScore(ctx context.Context, tx pgx.Tx, m Member, before, after Score) error {
	if after.Milestones == nil {
		after.Milestones = []string{}
	}
	b := &pgx.Batch{}
	b.Queue(`UPDATE members SET points = $3, readings_done = $4, milestones_done = $5 WHERE team_id = $1 AND user_id = $2`,
		m.TeamID, m.UserID, after.Points, after.Readings, after.Milestones)
	had := map[string]bool{}
	for _, id := range before.Milestones {
		had[id] = true
	}
	var completed []string
	for _, id := range after.Milestones {
		if !had[id] {
			completed = append(completed, id)
		}
	}
	delta := after.Points - before.Points
	if len(completed) == 0 {
		b.Queue(`INSERT INTO activity (team_id, user_id, points) VALUES ($1, $2, $3)`, m.TeamID, m.UserID, delta)
	}
	for i, id := range completed {
		if i > 0 {
			delta = 0
		}
		b.Queue(`INSERT INTO activity (team_id, user_id, points, milestone) VALUES ($1, $2, $3, $4)`, m.TeamID, m.UserID, delta, id)
	}
	return tx.SendBatch(ctx, b).Close()
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
}

// Apply makes one change for a member at most once per triggerID, enrolling the member if needed,
// and returns the progress as it stands after the change, all in one transaction.
func (db *DB) Apply(ctx context.Context, m Member, triggerID string, ch Change) (Result, error) {
	var res Result
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		queueEnrol(b, m)
		b.Queue(`INSERT INTO processed_commands (team_id, trigger_id, user_id) VALUES ($1, $2, $3)
		          ON CONFLICT DO NOTHING`, m.TeamID, triggerID, m.UserID).
			Exec(func(tag pgconn.CommandTag) error {
				res.Duplicate = tag.RowsAffected() == 0
				return nil
			})
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("record command: %w", err)
		}
		var before Score
		if !res.Duplicate && db.Score != nil {
			// Lock the member row so concurrent changes of one member score one after the other.
			if err := tx.QueryRow(ctx, `SELECT points, milestones_done FROM members WHERE team_id = $1 AND user_id = $2 FOR UPDATE`,
				m.TeamID, m.UserID).Scan(&before.Points, &before.Milestones); err != nil {
				return fmt.Errorf("lock member: %w", err)
			}
		}
		if !res.Duplicate {
			changed, err := apply(ctx, tx, m, ch)
			if err != nil {
				return err
			}
			res.Changed = changed
		}
		s, err := snapshot(ctx, tx, m)
		if err != nil {
			return fmt.Errorf("reload progress: %w", err)
		}
		res.Snapshot = s
		if res.Changed && db.Score != nil {
			if err := recordScore(ctx, tx, m, before, db.Score(s)); err != nil {
				return fmt.Errorf("record score: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("apply change for %s: %w", m, err)
	}
	db.enrolled.Store(m, true)
	return res, nil
}

func apply(ctx context.Context, tx pgx.Tx, m Member, ch Change) (bool, error) {
	var n int64
	exec := func(sql string, args ...any) error {
		tag, err := tx.Exec(ctx, sql, args...)
		n += tag.RowsAffected()
		return err
	}
	var err error
	switch {
	case ch.MarkReading != "":
		err = exec(`INSERT INTO reading_progress (team_id, user_id, item_id, status) VALUES ($1, $2, $3, $4)
		            ON CONFLICT (team_id, user_id, item_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()
		            WHERE reading_progress.status <> EXCLUDED.status`,
			m.TeamID, m.UserID, ch.MarkReading, ch.Status)
	case ch.UnmarkReading != "":
		err = exec(`DELETE FROM reading_progress WHERE team_id = $1 AND user_id = $2 AND item_id = $3`,
			m.TeamID, m.UserID, ch.UnmarkReading)
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
			if err = exec(`INSERT INTO milestone_entries (team_id, user_id, milestone, key, detail, rps, p95_us, p99_us, max_us)
			               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				m.TeamID, m.UserID, e.Milestone, e.Key, detail, rps, p95, p99, maxLat); err != nil {
				break
			}
		}
	case ch.AddShift != nil:
		err = exec(`INSERT INTO oncall_shifts (team_id, user_id, from_date, to_date, part) VALUES ($1, $2, $3::date, $4::date, $5)`,
			m.TeamID, m.UserID, ch.AddShift.From.String(), ch.AddShift.To.String(), string(ch.AddShift.Part))
	case ch.RemoveLatest == "oncall":
		err = exec(`DELETE FROM oncall_shifts WHERE id = (SELECT max(id) FROM oncall_shifts WHERE team_id = $1 AND user_id = $2)`,
			m.TeamID, m.UserID)
	case ch.RemoveLatest != "":
		err = exec(`DELETE FROM milestone_entries WHERE id = (SELECT max(id) FROM milestone_entries
		            WHERE team_id = $1 AND user_id = $2 AND milestone = $3)`, m.TeamID, m.UserID, ch.RemoveLatest)
	}
	if err != nil {
		return false, fmt.Errorf("write change: %w", err)
	}
	return n > 0, nil
}
