package progress

import (
	"testing"
	"time"
)

func TestStreak(t *testing.T) {
	t.Parallel()
	tokyo := time.FixedZone("JST", 9*3600)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no tz database: %v", err)
	}
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// 2026-01-14 is a Wednesday; its week starts Monday 2026-01-12.
	now := at("2026-01-14T12:00:00Z")
	tests := []struct {
		name string
		days []string
		now  time.Time
		loc  *time.Location
		want int
	}{
		{"no progress", nil, now, time.UTC, 0},
		{"only this week", []string{"2026-01-12T09:00:00Z"}, now, time.UTC, 1},
		{"this week and last", []string{"2026-01-13T09:00:00Z", "2026-01-05T09:00:00Z"}, now, time.UTC, 2},
		{"several in one week count once", []string{"2026-01-12T09:00:00Z", "2026-01-13T09:00:00Z", "2026-01-14T09:00:00Z"}, now, time.UTC, 1},
		{"this week empty keeps last week's streak", []string{"2026-01-11T23:00:00Z", "2025-12-30T09:00:00Z"}, now, time.UTC, 2},
		{"a gap week breaks it", []string{"2026-01-12T09:00:00Z", "2025-12-29T09:00:00Z"}, now, time.UTC, 1},
		{"a whole empty week ends it", []string{"2025-12-30T09:00:00Z"}, now, time.UTC, 0},
		{"Sunday belongs to the week before", []string{"2026-01-11T09:00:00Z"}, at("2026-01-12T00:30:00Z"), time.UTC, 1},
		{"across a year boundary", []string{
			"2026-01-02T09:00:00Z", // Fri, week of Mon 2025-12-29
			"2025-12-24T09:00:00Z", // Wed, week of Mon 2025-12-22
			"2025-12-15T09:00:00Z", // Mon, week of Mon 2025-12-15
		}, at("2026-01-05T08:00:00Z"), time.UTC, 3},
		// Sunday 23:30 UTC is already Monday in Tokyo: last week there, two weeks ago in UTC.
		{"zone moves progress into last week", []string{"2026-01-11T23:30:00Z"}, at("2026-01-19T03:00:00Z"), tokyo, 1},
		{"same instant in UTC is two weeks ago", []string{"2026-01-11T23:30:00Z"}, at("2026-01-19T03:00:00Z"), time.UTC, 0},
		// Sunday 20:00 UTC is Monday 05:00 in Tokyo, so a new week has begun there and the
		// progress from the week of Dec 29 is now two weeks back.
		{"zone moves now into a new week", []string{"2025-12-29T10:00:00Z", "2025-12-22T10:00:00Z"}, at("2026-01-11T20:00:00Z"), tokyo, 0},
		{"same now in UTC is still the old week", []string{"2025-12-29T10:00:00Z", "2025-12-22T10:00:00Z"}, at("2026-01-11T20:00:00Z"), time.UTC, 2},
		{"DST change keeps weeks whole", []string{"2026-03-09T04:30:00Z", "2026-03-02T16:00:00Z"}, at("2026-03-10T15:00:00Z"), ny, 2},
		{"nil zone is UTC", []string{"2026-01-12T09:00:00Z"}, now, nil, 1},
		{"future progress does not extend it", []string{"2026-01-21T09:00:00Z"}, now, time.UTC, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var days []time.Time
			for _, d := range tt.days {
				days = append(days, at(d))
			}
			if got := Streak(days, tt.now, tt.loc); got != tt.want {
				t.Errorf("Streak = %d, want %d", got, tt.want)
			}
		})
	}
}
