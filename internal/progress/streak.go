package progress

import "time"

// Streak counts consecutive weeks (Monday to Sunday in loc, UTC when nil) with at least one
// progress day, counting back from the week containing now. A week without progress yet does
// not break the streak until it is over, so when the current week is still empty the count
// starts from last week.
func Streak(progressDays []time.Time, now time.Time, loc *time.Location) int {
	weeks := make(map[Date]bool, len(progressDays))
	for _, t := range progressDays {
		weeks[weekStart(FromTime(t, loc))] = true
	}
	week := weekStart(FromTime(now, loc))
	if !weeks[week] {
		week = week.AddDays(-7)
	}
	n := 0
	for weeks[week] {
		n++
		week = week.AddDays(-7)
	}
	return n
}

// weekStart is the Monday on or before d. Working on calendar dates rather than instants keeps
// DST changes from moving a day into the wrong week.
func weekStart(d Date) Date {
	back := (int(d.Weekday()) + 6) % 7 // days since Monday; time.Weekday has Sunday = 0
	return d.AddDays(-back)
}
