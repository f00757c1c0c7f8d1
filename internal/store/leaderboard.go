package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// BoardRow is one member's line on the leaderboard.
type BoardRow struct {
	Rank        int
	UserID      string
	DisplayName string
	Points      int
	Readings    int
	Milestones  int
	WeekPoints  int // points gained since the start of the week
	// WeeksActive are the starts (in the board's time zone) of the weeks with any progress, newest
	// first, for the streak.
	WeeksActive []time.Time
}

// Celebration is a milestone completed this week.
type Celebration struct {
	DisplayName string
	Milestone   string
}

// Board is a team's leaderboard.
type Board struct {
	Rows         []BoardRow
	Total        int // members shown on the board (enrolled and not hidden)
	Celebrations []Celebration
	Me           *BoardRow // the asker's row when asked for, even outside the top rows
}

// Leaderboard loads the top limit members of a team by points, with this week's gains since
// weekStart, their active weeks (in loc) for streaks, and the milestones completed this week. When
// me is not empty the asker's own row is included too. It is one round trip of three statements:
// the top rows by index, this week's celebrations through the partial index on milestones, and
// one pass over the team's members for the total (and the asker's rank) — the only part that
// grows with the team (about 10 ms at 50,000 members; see docs/benchmarks.md).
func (db *DB) Leaderboard(ctx context.Context, teamID string, weekStart time.Time, loc *time.Location, limit int, me string) (Board, error) {
	var board Board
	var mine *BoardRow
	b := &pgx.Batch{}
	b.Queue(`SELECT m.user_id, m.display_name, m.points, m.readings_done, cardinality(m.milestones_done),
	        COALESCE((SELECT sum(a.points) FROM activity a WHERE a.team_id = m.team_id AND a.user_id = m.user_id AND a.at >= $2), 0),
	        `+weeksActive+`
	    FROM members m WHERE m.team_id = $1 AND NOT m.hidden
	    ORDER BY m.points DESC, m.user_id LIMIT $3`, teamID, weekStart, limit, loc.String()).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				r := BoardRow{Rank: len(board.Rows) + 1}
				var weeks []time.Time
				if err := rows.Scan(&r.UserID, &r.DisplayName, &r.Points, &r.Readings, &r.Milestones, &r.WeekPoints, &weeks); err != nil {
					return err
				}
				r.WeeksActive = inZone(weeks, loc)
				board.Rows = append(board.Rows, r)
			}
			return rows.Err()
		})
	b.Queue(`SELECT DISTINCT ON (a.user_id, a.milestone) m.display_name, a.milestone
	    FROM activity a JOIN members m ON m.team_id = a.team_id AND m.user_id = a.user_id
	    WHERE a.team_id = $1 AND a.at >= $2 AND a.milestone IS NOT NULL AND NOT m.hidden
	      AND a.milestone = ANY (m.milestones_done)
	    ORDER BY a.user_id, a.milestone, a.at LIMIT 200`, teamID, weekStart).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var c Celebration
				if err := rows.Scan(&c.DisplayName, &c.Milestone); err != nil {
					return err
				}
				board.Celebrations = append(board.Celebrations, c)
			}
			return rows.Err()
		})
	if me == "" {
		b.Queue(`SELECT count(*) FROM members WHERE team_id = $1 AND NOT hidden`, teamID).
			QueryRow(func(r pgx.Row) error { return r.Scan(&board.Total) })
	} else {
		// The asker's row and rank, in the same pass over the members as the total: the rank
		// counts the visible members ahead (more points, or as many and a smaller user id).
		b.Queue(`WITH me AS (
	        SELECT m.user_id, m.display_name, m.points, m.readings_done, cardinality(m.milestones_done) AS milestones,
	            COALESCE((SELECT sum(a.points) FROM activity a WHERE a.team_id = m.team_id AND a.user_id = m.user_id AND a.at >= $2), 0) AS week_points,
	            `+weeksActive+` AS weeks
	        FROM members m WHERE m.team_id = $1 AND m.user_id = $3 AND NOT m.hidden)
	    SELECT t.total, t.ahead + 1, me.display_name, me.points, me.readings_done, me.milestones, me.week_points, me.weeks
	    FROM (SELECT count(*) AS total,
	                 count(*) FILTER (WHERE o.points > (SELECT points FROM me)
	                     OR (o.points = (SELECT points FROM me) AND o.user_id < (SELECT user_id FROM me))) AS ahead
	            FROM members o WHERE o.team_id = $1 AND NOT o.hidden) t
	        LEFT JOIN me ON true`, teamID, weekStart, me, loc.String()).
			QueryRow(func(row pgx.Row) error {
				var (
					rank                          int
					name                          *string
					points, readings, miles, week *int
					weeks                         []time.Time
				)
				if err := row.Scan(&board.Total, &rank, &name, &points, &readings, &miles, &week, &weeks); err != nil {
					return err
				}
				if name != nil {
					mine = &BoardRow{Rank: rank, UserID: me, DisplayName: *name, Points: *points, Readings: *readings,
						Milestones: *miles, WeekPoints: *week, WeeksActive: inZone(weeks, loc)}
				}
				return nil
			})
	}
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return Board{}, fmt.Errorf("load leaderboard of %s: %w", teamID, err)
	}
	if mine != nil {
		board.Me = mine
		for i := range board.Rows {
			if board.Rows[i].UserID == me {
				board.Me = &board.Rows[i]
			}
		}
	}
	return board, nil
}

// weeksActive is a member m's weeks with any progress over the last year, as local week starts
// in the time zone $4, newest first: one index-only probe of activity_member_at.
const weeksActive = `ARRAY(SELECT DISTINCT date_trunc('week', a.at AT TIME ZONE $4) FROM activity a
	            WHERE a.team_id = m.team_id AND a.user_id = m.user_id AND a.at > now() - interval '53 weeks'
	            ORDER BY 1 DESC)`

// inZone turns local week starts (timestamps without time zone, wall clock in loc) into times in
// loc; nil when there are none.
func inZone(weeks []time.Time, loc *time.Location) []time.Time {
	var out []time.Time
	for _, w := range weeks {
		out = append(out, time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, loc))
	}
	return out
}
