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
// me is not empty the asker's own row is included too. It is a handful of indexed reads,
// independent of team size: the score is kept current on every change.
func (db *DB) Leaderboard(ctx context.Context, teamID string, weekStart time.Time, loc *time.Location, limit int, me string) (Board, error) {
	var board Board
	b := &pgx.Batch{}
	b.Queue(`SELECT count(*) FROM members WHERE team_id = $1 AND NOT hidden`, teamID).
		QueryRow(func(r pgx.Row) error { return r.Scan(&board.Total) })
	b.Queue(`SELECT m.user_id, m.display_name, m.points, m.readings_done, cardinality(m.milestones_done),
	        COALESCE((SELECT sum(a.points) FROM activity a WHERE a.team_id = m.team_id AND a.user_id = m.user_id AND a.at >= $2), 0)
	    FROM members m WHERE m.team_id = $1 AND NOT m.hidden
	    ORDER BY m.points DESC, m.user_id LIMIT $3`, teamID, weekStart, limit).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				r := BoardRow{Rank: len(board.Rows) + 1}
				if err := rows.Scan(&r.UserID, &r.DisplayName, &r.Points, &r.Readings, &r.Milestones, &r.WeekPoints); err != nil {
					return err
				}
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
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return Board{}, fmt.Errorf("load leaderboard of %s: %w", teamID, err)
	}
	if me != "" {
		found := false
		for i := range board.Rows {
			if board.Rows[i].UserID == me {
				board.Me, found = &board.Rows[i], true
			}
		}
		if !found {
			r, ok, err := db.rank(ctx, teamID, me, weekStart)
			if err != nil {
				return Board{}, err
			}
			if ok {
				board.Me = &r
			}
		}
	}
	if err := db.activeWeeks(ctx, teamID, loc, &board); err != nil {
		return Board{}, err
	}
	return board, nil
}

// rank finds one member's row and rank, for an asker outside the top rows.
func (db *DB) rank(ctx context.Context, teamID, userID string, weekStart time.Time) (BoardRow, bool, error) {
	r := BoardRow{UserID: userID}
	err := db.pool.QueryRow(ctx, `SELECT m.display_name, m.points, m.readings_done, cardinality(m.milestones_done),
	        COALESCE((SELECT sum(a.points) FROM activity a WHERE a.team_id = m.team_id AND a.user_id = m.user_id AND a.at >= $3), 0),
	        (SELECT count(*) + 1 FROM members o WHERE o.team_id = m.team_id AND NOT o.hidden
	           AND (o.points > m.points OR (o.points = m.points AND o.user_id < m.user_id)))
	    FROM members m WHERE m.team_id = $1 AND m.user_id = $2 AND NOT m.hidden`, teamID, userID, weekStart).
		Scan(&r.DisplayName, &r.Points, &r.Readings, &r.Milestones, &r.WeekPoints, &r.Rank)
	if err == pgx.ErrNoRows {
		return BoardRow{}, false, nil
	}
	if err != nil {
		return BoardRow{}, false, fmt.Errorf("rank %s in %s: %w", userID, teamID, err)
	}
	return r, true, nil
}

// activeWeeks fills WeeksActive for the rows shown (and the asker), over the last year.
func (db *DB) activeWeeks(ctx context.Context, teamID string, loc *time.Location, board *Board) error {
	byUser := map[string][]*BoardRow{}
	var users []string
	for i := range board.Rows {
		byUser[board.Rows[i].UserID] = append(byUser[board.Rows[i].UserID], &board.Rows[i])
		users = append(users, board.Rows[i].UserID)
	}
	if board.Me != nil && len(byUser[board.Me.UserID]) == 0 {
		byUser[board.Me.UserID] = append(byUser[board.Me.UserID], board.Me)
		users = append(users, board.Me.UserID)
	}
	if len(users) == 0 {
		return nil
	}
	rows, err := db.pool.Query(ctx, `SELECT user_id, date_trunc('week', at AT TIME ZONE $3) AS week
	    FROM activity WHERE team_id = $1 AND user_id = ANY($2) AND at > now() - interval '53 weeks'
	    GROUP BY user_id, week ORDER BY user_id, week DESC`, teamID, users, loc.String())
	if err != nil {
		return fmt.Errorf("load active weeks of %s: %w", teamID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		var week time.Time
		if err := rows.Scan(&u, &week); err != nil {
			return fmt.Errorf("load active weeks of %s: %w", teamID, err)
		}
		// The timestamp without time zone is a local wall-clock week start in loc.
		local := time.Date(week.Year(), week.Month(), week.Day(), 0, 0, 0, 0, loc)
		for _, r := range byUser[u] {
			r.WeeksActive = append(r.WeeksActive, local)
		}
	}
	return rows.Err()
}
