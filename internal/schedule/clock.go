// Package schedule is pathbot's proactive half: weekly nudges at each member's own local time and
// the team leaderboard, as durable River jobs on our Postgres. A periodic sweep (run by River on the
// elected leader only) computes who is due from robfig/cron schedules evaluated in each member's
// IANA time zone, and enqueues one unique job per member and week in the same transaction that
// advances their schedule. Workers record each message under a unique key before sending it and
// check Slack for it on a retry, so a crash or a second replica never sends a message twice.
package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// parser accepts standard five-field cron specs and descriptors such as @every.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSpec parses a cron spec such as "0 9 * * MON".
func ParseSpec(spec string) (cron.Schedule, error) {
	s, err := parser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("cron spec %q: %w", spec, err)
	}
	return s, nil
}

// WeeklySpec is the cron spec for a member's own weekly nudge time.
func WeeklySpec(weekday time.Weekday, minute int) string {
	return fmt.Sprintf("%d %d * * %d", minute%60, minute/60, int(weekday))
}

// Next is the first time after t at which s fires, with s evaluated on the wall clock of loc, so
// 09:00 stays 09:00 across daylight-saving changes.
//
// robfig/cron skips an occurrence whose wall-clock time does not exist (02:30 on the night clocks
// spring forward), which would skip a whole week's nudge. For the schedules nudges use — one time
// of day on some weekdays — Next therefore builds each day's occurrence with time.Date, which moves
// a non-existent time forward by the gap and picks one instant for a repeated time: every local
// day still fires exactly once. Other specs go through robfig/cron as they are.
func Next(s cron.Schedule, t time.Time, loc *time.Location) time.Time {
	if ss, ok := s.(*cron.SpecSchedule); ok {
		if h, m, days, ok := wallClock(ss); ok {
			l := t.In(loc)
			for i := 0; i <= 8; i++ {
				c := time.Date(l.Year(), l.Month(), l.Day()+i, h, m, 0, 0, loc)
				if days&(1<<uint(c.Weekday())) != 0 && c.After(t) {
					return c.UTC()
				}
			}
		}
	}
	return s.Next(t.In(loc)).UTC()
}

// starBit marks a cron field given as "*".
const starBit = 1 << 63

// wallClock recognises "M H * * D": a single time of day on a set of weekdays.
func wallClock(s *cron.SpecSchedule) (hour, minute int, days uint64, ok bool) {
	if s.Second != 1 || s.Dom&starBit == 0 || s.Month&starBit == 0 {
		return 0, 0, 0, false
	}
	hour, ok1 := single(s.Hour, 24)
	minute, ok2 := single(s.Minute, 60)
	return hour, minute, s.Dow & 0x7f, ok1 && ok2 && s.Dow&0x7f != 0
}

func single(bits uint64, n int) (int, bool) {
	found := -1
	for i := 0; i < n; i++ {
		if bits&(1<<uint(i)) != 0 {
			if found >= 0 {
				return 0, false
			}
			found = i
		}
	}
	return found, found >= 0
}

// WeekKey names the ISO week of t in loc, e.g. "2026-W48": the unit of "once a week".
func WeekKey(t time.Time, loc *time.Location) string {
	y, w := t.In(loc).ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

// WeekStart is Monday 00:00 of t's week in loc.
func WeekStart(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	offset := (int(l.Weekday()) + 6) % 7 // days since Monday
	return time.Date(l.Year(), l.Month(), l.Day()-offset, 0, 0, 0, 0, loc)
}

// Location loads an IANA zone, falling back to fallback for "" or an unknown name (Slack can
// return an empty tz for some users).
func Location(name string, fallback *time.Location) *time.Location {
	if strings.TrimSpace(name) == "" {
		return fallback
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return fallback
	}
	return loc
}
