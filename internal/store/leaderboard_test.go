package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/pathbot/pathbot/internal/pgtest"
	"github.com/pathbot/pathbot/internal/store"
)

// TestLeaderboard pins down what the board shows, for the slash command (with the asker) and the
// weekly post (without): order and ties, hidden members, the total, the asker inside and outside
// the top rows, this week's points, celebrations and active weeks in the board's time zone.
func TestLeaderboard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	db := store.New(pool)
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	weekStart := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -((int(now.Weekday()) + 6) % 7))
	thisWeek := weekStart.Add(13 * time.Hour)
	weeksAgo := func(n int) time.Time { return thisWeek.AddDate(0, 0, -7*n) }

	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%v\n%s", err, sql)
		}
	}
	exec(`INSERT INTO teams (team_id) VALUES ('T1'), ('T2')`)
	type member struct {
		team, user, name string
		points, readings int
		milestones       []string
		hidden           bool
	}
	for _, m := range []member{
		{"T1", "U1", "Ann", 50, 3, []string{"languages"}, false},
		{"T1", "U2", "Bob", 50, 2, []string{}, false}, // ties with Ann: user id breaks it
		{"T1", "U3", "Cyd", 70, 9, []string{"languages"}, true},
		{"T1", "U4", "Dee", 10, 1, []string{"design"}, false},
		{"T1", "U5", "Eve", 0, 0, []string{}, false},
		{"T2", "U1", "Other", 999, 9, []string{"languages"}, false}, // another workspace
	} {
		exec(`INSERT INTO members (team_id, user_id, display_name, points, readings_done, milestones_done, hidden)
		    VALUES ($1, $2, $3, $4, $5, $6, $7)`, m.team, m.user, m.name, m.points, m.readings, m.milestones, m.hidden)
	}
	type act struct {
		team, user string
		at         time.Time
		points     int
		milestone  *string
	}
	ms := func(s string) *string { return &s }
	for _, a := range []act{
		{"T1", "U1", thisWeek, 5, ms("languages")},
		{"T1", "U1", thisWeek.Add(time.Hour), 1, ms("languages")}, // celebrated once
		{"T1", "U1", weeksAgo(1), 3, nil},
		{"T1", "U1", weeksAgo(3), 1, nil},
		{"T1", "U2", thisWeek, 2, ms("design")},    // since undone: not in milestones_done
		{"T1", "U3", thisWeek, 4, ms("languages")}, // hidden
		{"T1", "U4", thisWeek, 4, ms("design")},
		{"T1", "U4", weeksAgo(2), 4, ms("design")},
		{"T1", "U5", weeksAgo(60), 7, nil}, // older than a year
		{"T2", "U1", thisWeek, 9, ms("languages")},
	} {
		exec(`INSERT INTO activity (team_id, user_id, at, points, milestone) VALUES ($1, $2, $3, $4, $5)`,
			a.team, a.user, a.at, a.points, a.milestone)
	}
	week := func(ts ...time.Time) []time.Time {
		var out []time.Time
		for _, t := range ts {
			l := t.In(loc)
			d := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
			out = append(out, d.AddDate(0, 0, -((int(d.Weekday())+6)%7)))
		}
		return out
	}
	ann := store.BoardRow{Rank: 1, UserID: "U1", DisplayName: "Ann", Points: 50, Readings: 3, Milestones: 1, WeekPoints: 6,
		WeeksActive: week(thisWeek, weeksAgo(1), weeksAgo(3))}
	bob := store.BoardRow{Rank: 2, UserID: "U2", DisplayName: "Bob", Points: 50, Readings: 2, Milestones: 0, WeekPoints: 2,
		WeeksActive: week(thisWeek)}
	dee := store.BoardRow{Rank: 3, UserID: "U4", DisplayName: "Dee", Points: 10, Readings: 1, Milestones: 1, WeekPoints: 4,
		WeeksActive: week(thisWeek, weeksAgo(2))}
	eve := store.BoardRow{Rank: 4, UserID: "U5", DisplayName: "Eve"}
	celebrations := []store.Celebration{{DisplayName: "Ann", Milestone: "languages"}, {DisplayName: "Dee", Milestone: "design"}}

	for _, tc := range []struct {
		name  string
		limit int
		me    string
		rows  []store.BoardRow
		want  *store.BoardRow
		inTop bool
	}{
		{name: "weekly post", limit: 10, rows: []store.BoardRow{ann, bob, dee, eve}},
		{name: "asker in the top rows", limit: 2, me: "U2", rows: []store.BoardRow{ann, bob}, want: &bob, inTop: true},
		{name: "asker below the top rows", limit: 2, me: "U4", rows: []store.BoardRow{ann, bob}, want: &dee},
		{name: "asker last", limit: 1, me: "U5", rows: []store.BoardRow{ann}, want: &eve},
		{name: "hidden asker", limit: 2, me: "U3", rows: []store.BoardRow{ann, bob}},
		{name: "unknown asker", limit: 2, me: "U9", rows: []store.BoardRow{ann, bob}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			board, err := db.Leaderboard(ctx, "T1", weekStart, loc, tc.limit, tc.me)
			if err != nil {
				t.Fatal(err)
			}
			if board.Total != 4 {
				t.Errorf("Total = %d, want 4", board.Total)
			}
			if !reflect.DeepEqual(board.Rows, tc.rows) {
				t.Errorf("Rows =\n%+v\nwant\n%+v", board.Rows, tc.rows)
			}
			if !reflect.DeepEqual(board.Celebrations, celebrations) {
				t.Errorf("Celebrations = %+v, want %+v", board.Celebrations, celebrations)
			}
			switch {
			case tc.want == nil && board.Me != nil:
				t.Errorf("Me = %+v, want nil", *board.Me)
			case tc.want != nil && board.Me == nil:
				t.Errorf("Me = nil, want %+v", *tc.want)
			case tc.want != nil && !reflect.DeepEqual(*board.Me, *tc.want):
				t.Errorf("Me = %+v, want %+v", *board.Me, *tc.want)
			case tc.inTop && board.Me != &board.Rows[tc.want.Rank-1]:
				t.Errorf("Me is not the asker's row in Rows")
			}
		})
	}

	empty, err := db.Leaderboard(ctx, "T9", weekStart, loc, 10, "U1")
	if err != nil {
		t.Fatal(err)
	}
	if empty.Total != 0 || len(empty.Rows) != 0 || empty.Me != nil || len(empty.Celebrations) != 0 {
		t.Errorf("board of an unknown team = %+v, want empty", empty)
	}
}
