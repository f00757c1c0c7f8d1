package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pathbot/pathbot/internal/progress"
)

// Settings are a member's nudge preferences and state.
type Settings struct {
	DisplayName   string
	TZ            string
	NudgeWeekday  *int // 0 = Sunday; nil = team default
	NudgeMinute   *int // minutes after local midnight; nil = team default
	PausedUntil   *time.Time
	Stopped       bool
	StoppedReason string
	Hidden        bool
	NextNudgeAt   *time.Time
	DMChannel     string
}

// Settings loads a member's settings; ErrNotEnrolled when they never used pathbot.
func (db *DB) Settings(ctx context.Context, m Member) (Settings, error) {
	var s Settings
	var tz, dm *string
	var wd, mins *int16
	var stopped *time.Time
	err := db.pool.QueryRow(ctx, `SELECT display_name, tz, nudge_weekday, nudge_minute, paused_until, stopped_at,
	        stopped_reason, hidden, next_nudge_at, dm_channel
	   FROM members WHERE team_id = $1 AND user_id = $2`, m.TeamID, m.UserID).
		Scan(&s.DisplayName, &tz, &wd, &mins, &s.PausedUntil, &stopped, &s.StoppedReason, &s.Hidden, &s.NextNudgeAt, &dm)
	if err == pgx.ErrNoRows {
		return Settings{}, ErrNotEnrolled
	}
	if err != nil {
		return Settings{}, fmt.Errorf("load settings for %s: %w", m, err)
	}
	if tz != nil {
		s.TZ = *tz
	}
	if dm != nil {
		s.DMChannel = *dm
	}
	if wd != nil {
		v := int(*wd)
		s.NudgeWeekday = &v
	}
	if mins != nil {
		v := int(*mins)
		s.NudgeMinute = &v
	}
	s.Stopped = stopped != nil
	return s, nil
}

// update enrols the member and runs one UPDATE on their row.
func (db *DB) update(ctx context.Context, m Member, what, sql string, args ...any) error {
	b := &pgx.Batch{}
	queueEnrol(b, m)
	b.Queue(sql, append([]any{m.TeamID, m.UserID}, args...)...)
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("%s for %s: %w", what, m, err)
	}
	db.enrolled.Store(m, true)
	return nil
}

// SetNudgeTime sets a member's own weekly nudge time; the sweep reschedules them.
func (db *DB) SetNudgeTime(ctx context.Context, m Member, weekday time.Weekday, minute int) error {
	return db.update(ctx, m, "set nudge time", `UPDATE members SET nudge_weekday = $3, nudge_minute = $4, next_nudge_at = NULL
	   WHERE team_id = $1 AND user_id = $2`, int(weekday), minute)
}

// Pause stops nudges until the given time.
func (db *DB) Pause(ctx context.Context, m Member, until time.Time) error {
	return db.update(ctx, m, "pause", `UPDATE members SET paused_until = $3 WHERE team_id = $1 AND user_id = $2`, until)
}

// Snooze pauses nudges until at least the given time, never shortening a longer pause, so a
// double-clicked "Snooze a week" snoozes one week.
func (db *DB) Snooze(ctx context.Context, m Member, until time.Time) error {
	return db.update(ctx, m, "snooze", `UPDATE members SET paused_until = GREATEST(COALESCE(paused_until, $3), $3)
	   WHERE team_id = $1 AND user_id = $2`, until)
}

// Resume ends a pause or a stop and reschedules the next nudge.
func (db *DB) Resume(ctx context.Context, m Member) error {
	return db.update(ctx, m, "resume", `UPDATE members SET paused_until = NULL, stopped_at = NULL, stopped_reason = '',
	   next_nudge_at = NULL WHERE team_id = $1 AND user_id = $2`)
}

// Stop ends all nudges for a member, keeping their data, and records why.
func (db *DB) Stop(ctx context.Context, m Member, reason string) error {
	return db.update(ctx, m, "stop", `UPDATE members SET stopped_at = COALESCE(stopped_at, now()), stopped_reason = $3,
	   next_nudge_at = NULL WHERE team_id = $1 AND user_id = $2`, reason)
}

// SetHidden hides a member from (or shows them on) the leaderboard.
func (db *DB) SetHidden(ctx context.Context, m Member, hidden bool) error {
	return db.update(ctx, m, "set leaderboard visibility", `UPDATE members SET hidden = $3 WHERE team_id = $1 AND user_id = $2`, hidden)
}

// SetDMChannel remembers the member's DM channel with the bot.
func (db *DB) SetDMChannel(ctx context.Context, m Member, channel string) error {
	_, err := db.pool.Exec(ctx, `UPDATE members SET dm_channel = $3 WHERE team_id = $1 AND user_id = $2`, m.TeamID, m.UserID, channel)
	if err != nil {
		return fmt.Errorf("remember DM channel for %s: %w", m, err)
	}
	return nil
}

// Team is a workspace's pathbot settings.
type Team struct {
	ID                 string
	LeaderboardChannel string
	Thresholds         *progress.Thresholds
	NextLeaderboardAt  *time.Time
}

// Team loads a team's settings; a team nobody enrolled in yet has zero settings.
func (db *DB) Team(ctx context.Context, teamID string) (Team, error) {
	t := Team{ID: teamID}
	var ch *string
	var p95, p99, maxLat *int32
	err := db.pool.QueryRow(ctx, `SELECT leaderboard_channel, p95_ms, p99_ms, max_ms, next_leaderboard_at FROM teams WHERE team_id = $1`, teamID).
		Scan(&ch, &p95, &p99, &maxLat, &t.NextLeaderboardAt)
	if err == pgx.ErrNoRows {
		return t, nil
	}
	if err != nil {
		return Team{}, fmt.Errorf("load team %s: %w", teamID, err)
	}
	if ch != nil {
		t.LeaderboardChannel = *ch
	}
	if p95 != nil && p99 != nil && maxLat != nil {
		t.Thresholds = &progress.Thresholds{P95: ms(*p95), P99: ms(*p99), Max: ms(*maxLat)}
	}
	return t, nil
}

func (db *DB) updateTeam(ctx context.Context, teamID, what, sql string, args ...any) error {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO teams (team_id) VALUES ($1) ON CONFLICT DO NOTHING`, teamID)
	b.Queue(sql, append([]any{teamID}, args...)...)
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("%s for team %s: %w", what, teamID, err)
	}
	return nil
}

// SetLeaderboardChannel sets where the weekly leaderboard is posted.
func (db *DB) SetLeaderboardChannel(ctx context.Context, teamID, channel string) error {
	return db.updateTeam(ctx, teamID, "set leaderboard channel", `UPDATE teams SET leaderboard_channel = $2 WHERE team_id = $1`, channel)
}

// SetThresholds sets the team's load-test tail-latency bar.
func (db *DB) SetThresholds(ctx context.Context, teamID string, th progress.Thresholds) error {
	return db.updateThresholds(ctx, teamID, "set thresholds", `UPDATE teams SET p95_ms = $2, p99_ms = $3, max_ms = $4 WHERE team_id = $1 RETURNING version`,
		th.P95.Milliseconds(), th.P99.Milliseconds(), th.Max.Milliseconds())
}

// ClearThresholds returns the team to the configured load-test bar.
func (db *DB) ClearThresholds(ctx context.Context, teamID string) error {
	return db.updateThresholds(ctx, teamID, "clear thresholds", `UPDATE teams SET p95_ms = NULL, p99_ms = NULL, max_ms = NULL WHERE team_id = $1 RETURNING version`)
}

// updateThresholds runs an UPDATE of the team's thresholds returning the team's new version, and
// tells this process's snapshot cache at once rather than when the notification arrives, so the
// admin's next command already sees the change.
func (db *DB) updateThresholds(ctx context.Context, teamID, what, sql string, args ...any) error {
	var v int64
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO teams (team_id) VALUES ($1) ON CONFLICT DO NOTHING`, teamID)
	b.Queue(sql, append([]any{teamID}, args...)...).QueryRow(func(r pgx.Row) error { return r.Scan(&v) })
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("%s for team %s: %w", what, teamID, err)
	}
	db.cache.announceTeam(teamID, v)
	return nil
}
