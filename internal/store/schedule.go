package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// NudgeTarget is what scheduling a member's nudge needs to know.
type NudgeTarget struct {
	Member
	TZ           string // "" when not known yet
	NudgeWeekday *int
	NudgeMinute  *int
	Due          time.Time  // when the nudge fell due (for due targets)
	PausedUntil  *time.Time // nudges falling due before this are skipped
}

// Unscheduled lists members who need a next nudge time (new, or whose settings changed).
func (db *DB) Unscheduled(ctx context.Context, limit int) ([]NudgeTarget, error) {
	rows, err := db.pool.Query(ctx, `SELECT team_id, user_id, COALESCE(tz, ''), nudge_weekday, nudge_minute
	    FROM members WHERE next_nudge_at IS NULL AND stopped_at IS NULL LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list unscheduled members: %w", err)
	}
	targets, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (NudgeTarget, error) {
		var t NudgeTarget
		var wd, mins *int16
		err := r.Scan(&t.TeamID, &t.UserID, &t.TZ, &wd, &mins)
		t.NudgeWeekday, t.NudgeMinute = intp(wd), intp(mins)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list unscheduled members: %w", err)
	}
	return targets, nil
}

func intp(v *int16) *int {
	if v == nil {
		return nil
	}
	i := int(*v)
	return &i
}

// SetNextNudges stores computed next nudge times, only for rows still unscheduled, and reports
// how many it stored. It locks its members in the order writes lock them (byte order of the ids,
// hence COLLATE "C"), so it waits for a write of one of them instead of deadlocking with it.
// Callers keep targets short (SweepChunk): a command of a member locked here waits for the
// statement.
func (db *DB) SetNextNudges(ctx context.Context, targets []NudgeTarget, next []time.Time) (int, error) {
	if len(targets) == 0 {
		return 0, nil
	}
	teams, users := make([]string, len(targets)), make([]string, len(targets))
	for i, t := range targets {
		teams[i], users[i] = t.TeamID, t.UserID
	}
	tag, err := db.pool.Exec(ctx, `WITH u AS (SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS u(team_id, user_id, next)),
	    l AS (SELECT m.team_id, m.user_id FROM members m JOIN u ON m.team_id = u.team_id AND m.user_id = u.user_id
	          WHERE m.next_nudge_at IS NULL ORDER BY m.team_id COLLATE "C", m.user_id COLLATE "C" FOR NO KEY UPDATE OF m)
	    UPDATE members m SET next_nudge_at = u.next FROM u JOIN l ON l.team_id = u.team_id AND l.user_id = u.user_id
	    WHERE m.team_id = u.team_id AND m.user_id = u.user_id`, teams, users, next)
	if err != nil {
		return 0, fmt.Errorf("store next nudge times: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// ClaimDue hands due nudges to enqueue, in one transaction: it locks up to limit members whose
// nudge is due (skipping rows another replica holds), lets enqueue insert their jobs in the same
// transaction, and stores the next nudge time enqueue returns for each. Either the jobs are
// inserted and the schedule advanced, or neither.
func (db *DB) ClaimDue(ctx context.Context, now time.Time, limit int, enqueue func(tx pgx.Tx, due []NudgeTarget) ([]time.Time, error)) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT team_id, user_id, COALESCE(tz, ''), nudge_weekday, nudge_minute, next_nudge_at, paused_until
		    FROM members WHERE next_nudge_at <= $1 AND stopped_at IS NULL
		    ORDER BY next_nudge_at LIMIT $2 FOR UPDATE SKIP LOCKED`, now, limit)
		if err != nil {
			return err
		}
		due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (NudgeTarget, error) {
			var t NudgeTarget
			var wd, mins *int16
			err := r.Scan(&t.TeamID, &t.UserID, &t.TZ, &wd, &mins, &t.Due, &t.PausedUntil)
			t.NudgeWeekday, t.NudgeMinute = intp(wd), intp(mins)
			return t, err
		})
		if err != nil || len(due) == 0 {
			return err
		}
		next, err := enqueue(tx, due)
		if err != nil {
			return err
		}
		teams, users := make([]string, len(due)), make([]string, len(due))
		for i, t := range due {
			teams[i], users[i] = t.TeamID, t.UserID
		}
		if _, err := tx.Exec(ctx, `UPDATE members m SET next_nudge_at = u.next
		    FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS u(team_id, user_id, next)
		    WHERE m.team_id = u.team_id AND m.user_id = u.user_id`, teams, users, next); err != nil {
			return err
		}
		n = len(due)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("claim due nudges: %w", err)
	}
	return n, nil
}

// Teams lists the teams with at least one enrolled member.
func (db *DB) Teams(ctx context.Context) ([]Team, error) {
	rows, err := db.pool.Query(ctx, `SELECT t.team_id, COALESCE(t.leaderboard_channel, ''), t.next_leaderboard_at FROM teams t
	    WHERE EXISTS (SELECT 1 FROM members m WHERE m.team_id = t.team_id)`)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	teams, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Team, error) {
		var t Team
		err := r.Scan(&t.ID, &t.LeaderboardChannel, &t.NextLeaderboardAt)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	return teams, nil
}

// ClaimLeaderboard advances a team's next leaderboard time from due to next, in the transaction
// in which enqueue inserts the job; it does nothing when another replica advanced it first.
func (db *DB) ClaimLeaderboard(ctx context.Context, teamID string, due *time.Time, next time.Time, enqueue func(tx pgx.Tx) error) (bool, error) {
	claimed := false
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE teams SET next_leaderboard_at = $3 WHERE team_id = $1
		    AND next_leaderboard_at IS NOT DISTINCT FROM $2`, teamID, due, next)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		claimed = true
		if due == nil {
			return nil // first scheduling: nothing was due yet
		}
		return enqueue(tx)
	})
	if err != nil {
		return false, fmt.Errorf("claim leaderboard for %s: %w", teamID, err)
	}
	return claimed, nil
}

// Profile is what the directory sync learns about a member from Slack.
type Profile struct {
	UserID      string
	DisplayName string
	TZ          string
	Gone        bool // deactivated: stop nudging
}

// UpdateProfiles stores names and time zones fetched from Slack for members of a team. A member
// whose time zone changed is rescheduled. Members whose copy is younger than maxAge and the same
// are left alone: the whole list is fetched when a few members are stale (new ones, say), and
// rewriting (and locking) every other member's row then was most of the sweep's cost. Like
// SetNextNudges it locks in write order and wants short lists (SweepChunk). (It waits for
// members being written rather than skipping them: a skipped member would stay stale and make
// every sweep fetch the whole users.list again.)
func (db *DB) UpdateProfiles(ctx context.Context, teamID string, ps []Profile, maxAge time.Duration) error {
	if len(ps) == 0 {
		return nil
	}
	users, names, tzs := make([]string, len(ps)), make([]string, len(ps)), make([]string, len(ps))
	var gone []string
	for i, p := range ps {
		users[i], names[i], tzs[i] = p.UserID, p.DisplayName, p.TZ
		if p.Gone {
			gone = append(gone, p.UserID)
		}
	}
	_, err := db.pool.Exec(ctx, `WITH u AS (SELECT * FROM unnest($2::text[], $3::text[], $4::text[]) AS u(user_id, name, tz)),
	    l AS (SELECT m.user_id FROM members m JOIN u ON m.user_id = u.user_id WHERE m.team_id = $1
	          AND (m.tz_checked_at IS NULL OR m.tz_checked_at < now() - $5::interval
	               OR m.display_name IS DISTINCT FROM u.name OR m.tz IS DISTINCT FROM NULLIF(u.tz, ''))
	          ORDER BY m.user_id COLLATE "C" FOR NO KEY UPDATE OF m)
	    UPDATE members m SET display_name = u.name, tz = NULLIF(u.tz, ''), tz_checked_at = now(),
	        next_nudge_at = CASE WHEN m.tz IS DISTINCT FROM NULLIF(u.tz, '') THEN NULL ELSE m.next_nudge_at END
	    FROM u JOIN l USING (user_id)
	    WHERE m.team_id = $1 AND m.user_id = u.user_id`, teamID, users, names, tzs, maxAge)
	if err != nil {
		return fmt.Errorf("update profiles of team %s: %w", teamID, err)
	}
	if len(gone) > 0 {
		_, err := db.pool.Exec(ctx, `UPDATE members SET stopped_at = COALESCE(stopped_at, now()), stopped_reason = 'account deactivated'
		    WHERE team_id = $1 AND user_id = ANY($2)`, teamID, gone)
		if err != nil {
			return fmt.Errorf("stop deactivated members of team %s: %w", teamID, err)
		}
	}
	return nil
}

// SweepChunk is how many members one call of the sweep's bulk updates (UpdateProfiles,
// SetNextNudges) should hold: at about a tenth of a millisecond per row on a busy machine, a
// command of a member in the chunk waits a few milliseconds at most.
const SweepChunk = 50

// StaleProfiles counts members of a team whose name and time zone were never fetched or are older
// than maxAge.
func (db *DB) StaleProfiles(ctx context.Context, teamID string, maxAge time.Duration) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM members WHERE team_id = $1 AND stopped_at IS NULL
	    AND (tz_checked_at IS NULL OR tz_checked_at < now() - $2::interval)`, teamID, maxAge).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count stale profiles of team %s: %w", teamID, err)
	}
	return n, nil
}

// Delivery is the record of one proactive message.
type Delivery struct {
	Status    string // pending, sent, skipped, failed
	Channel   string
	TS        string
	CreatedAt time.Time
	// Fresh is true when this call created the record: no earlier attempt can have sent it.
	Fresh bool
}

// ClaimDelivery records that a message is about to be sent under a unique key, or returns the
// existing record of an earlier attempt.
func (db *DB) ClaimDelivery(ctx context.Context, kind, teamID, key string) (Delivery, error) {
	var d Delivery
	err := db.pool.QueryRow(ctx, claimSQL, kind, teamID, key).Scan(&d.Status, &d.Channel, &d.TS, &d.CreatedAt, &d.Fresh)
	if err != nil {
		return Delivery{}, fmt.Errorf("claim %s delivery %s/%s: %w", kind, teamID, key, err)
	}
	return d, nil
}

// finishSQL records a delivery's outcome: $4 status, $5 channel, $6 ts, $7 detail.
const finishSQL = `UPDATE deliveries SET status = $4, channel = $5, ts = $6, detail = $7, updated_at = now()
    WHERE kind = $1 AND team_id = $2 AND key = $3`

// FinishDelivery records the outcome of a delivery.
func (db *DB) FinishDelivery(ctx context.Context, kind, teamID, key, status, channel, ts, detail string) error {
	_, err := db.pool.Exec(ctx, finishSQL, kind, teamID, key, status, channel, ts, detail)
	if err != nil {
		return fmt.Errorf("record %s delivery %s/%s: %w", kind, teamID, key, err)
	}
	return nil
}

// CountDeliveries counts deliveries of a kind by status, for tests and metrics.
func (db *DB) CountDeliveries(ctx context.Context, kind string) (map[string]int, error) {
	rows, err := db.pool.Query(ctx, `SELECT status, count(*) FROM deliveries WHERE kind = $1 GROUP BY status`, kind)
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// Overdue counts nudges due more than late ago and still not sent, for the alert that nudges are
// not going out on schedule.
func (db *DB) Overdue(ctx context.Context, now time.Time, late time.Duration) (int, error) {
	var n int
	// Not yet enqueued (the sweep is behind), or enqueued but not sent (workers are behind or
	// Slack keeps refusing).
	err := db.pool.QueryRow(ctx, `SELECT
	        (SELECT count(*) FROM members WHERE stopped_at IS NULL AND next_nudge_at < $1) +
	        (SELECT count(*) FROM deliveries WHERE kind = 'nudge' AND status = 'pending' AND created_at < $1)`,
		now.Add(-late)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count overdue nudges: %w", err)
	}
	return n, nil
}

// QueuedJobs counts River jobs waiting to run (available, retryable or scheduled), by kind.
func (db *DB) QueuedJobs(ctx context.Context) (map[string]int, error) {
	rows, err := db.pool.Query(ctx, `SELECT kind, count(*) FROM river_job
	    WHERE state IN ('available', 'retryable', 'scheduled') GROUP BY kind`)
	if err != nil {
		return nil, fmt.Errorf("count queued jobs: %w", err)
	}
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

// ActiveMembers lists a team's members who have not stopped nudges.
func (db *DB) ActiveMembers(ctx context.Context, teamID string) ([]Member, error) {
	rows, err := db.pool.Query(ctx, `SELECT team_id, user_id FROM members WHERE team_id = $1 AND stopped_at IS NULL ORDER BY user_id`, teamID)
	if err != nil {
		return nil, fmt.Errorf("list members of %s: %w", teamID, err)
	}
	ms, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Member])
	if err != nil {
		return nil, fmt.Errorf("list members of %s: %w", teamID, err)
	}
	return ms, nil
}
