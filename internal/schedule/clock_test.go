package schedule

import (
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestNextAcrossDST(t *testing.T) {
	t.Parallel()
	spec, err := ParseSpec("0 9 * * MON")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		zone string
		from string // UTC
		want []string
	}{
		// Los Angeles leaves DST on Sunday 2026-11-01: 09:00 local is 16:00Z before, 17:00Z after.
		{"America/Los_Angeles", "2026-10-20T00:00:00Z", []string{"2026-10-26T16:00:00Z", "2026-11-02T17:00:00Z", "2026-11-09T17:00:00Z"}},
		// And enters it on Sunday 2026-03-08.
		{"America/Los_Angeles", "2026-03-01T00:00:00Z", []string{"2026-03-02T17:00:00Z", "2026-03-09T16:00:00Z"}},
		// Kolkata has no DST: always 03:30Z.
		{"Asia/Kolkata", "2026-10-20T00:00:00Z", []string{"2026-10-26T03:30:00Z", "2026-11-02T03:30:00Z"}},
		// Berlin leaves DST on 2026-10-25.
		{"Europe/Berlin", "2026-10-19T08:00:00Z", []string{"2026-10-26T08:00:00Z", "2026-11-02T08:00:00Z"}},
	}
	for _, tt := range tests {
		loc := mustLoc(t, tt.zone)
		at, _ := time.Parse(time.RFC3339, tt.from)
		for _, w := range tt.want {
			at = Next(spec, at, loc)
			if got := at.Format(time.RFC3339); got != w {
				t.Fatalf("%s: next = %s, want %s", tt.zone, got, w)
			}
		}
	}
}

func TestNextOnSkippedAndRepeatedHours(t *testing.T) {
	t.Parallel()
	// 02:30 does not exist in Los Angeles on 2026-03-08 and 01:30 happens twice on 2026-11-01.
	// A weekly schedule at those times must still fire exactly once that week.
	loc := mustLoc(t, "America/Los_Angeles")
	for _, c := range []struct {
		spec  string
		from  string
		count int
	}{
		{WeeklySpec(time.Sunday, 2*60+30), "2026-03-02T00:00:00Z", 1},
		{WeeklySpec(time.Sunday, 1*60+30), "2026-10-26T00:00:00Z", 1},
	} {
		s, err := ParseSpec(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		from, _ := time.Parse(time.RFC3339, c.from)
		end := from.Add(7 * 24 * time.Hour)
		n := 0
		for at := Next(s, from, loc); at.Before(end); at = Next(s, at, loc) {
			n++
		}
		if n != c.count {
			t.Fatalf("%s from %s: fired %d times in a week, want %d", c.spec, c.from, n, c.count)
		}
	}
}

func TestWeekKeyAndStart(t *testing.T) {
	t.Parallel()
	loc := mustLoc(t, "Asia/Kolkata")
	at, _ := time.Parse(time.RFC3339, "2026-11-29T20:00:00Z") // Monday 01:30 in Kolkata
	if got := WeekKey(at, loc); got != "2026-W49" {
		t.Fatalf("WeekKey = %s", got)
	}
	if got := WeekKey(at, time.UTC); got != "2026-W48" {
		t.Fatalf("WeekKey UTC = %s", got)
	}
	if got := WeekStart(at, loc).Format(time.RFC3339); got != "2026-11-30T00:00:00+05:30" {
		t.Fatalf("WeekStart = %s", got)
	}
	if Location("Not/AZone", time.UTC) != time.UTC || Location("", loc) != loc {
		t.Fatal("Location fallback")
	}
}
