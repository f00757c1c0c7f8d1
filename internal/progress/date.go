package progress

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Date is a calendar date with no time of day and no zone. On-call shifts and pauses are
// about days on a wall calendar, so comparing them as instants would shift them across
// midnight whenever two people's zones differ.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads YYYY-MM-DD (one-digit months and days are accepted) and refuses dates that do
// not exist, such as 2026-02-30.
func ParseDate(s string) (Date, error) {
	parts := strings.Split(s, "-")
	if len(parts) != 3 || len(parts[0]) != 4 || !digits(parts[0]) ||
		len(parts[1]) < 1 || len(parts[1]) > 2 || !digits(parts[1]) ||
		len(parts[2]) < 1 || len(parts[2]) > 2 || !digits(parts[2]) {
		return Date{}, fmt.Errorf("%q is not a date: use YYYY-MM-DD, e.g. 2026-01-31", s)
	}
	y, _ := strconv.Atoi(parts[0])
	m, _ := strconv.Atoi(parts[1])
	d, _ := strconv.Atoi(parts[2])
	date := Date{Year: y, Month: time.Month(m), Day: d}
	if !date.IsValid() {
		return Date{}, fmt.Errorf("%s is not a real date", s)
	}
	return date, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// FromTime is the date t falls on in loc (UTC when loc is nil).
func FromTime(t time.Time, loc *time.Location) Date {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := t.In(loc).Date()
	return Date{Year: y, Month: m, Day: d}
}

// IsValid reports whether d names a day that exists in the calendar.
func (d Date) IsValid() bool {
	y, m, dd := d.midnight().Date()
	return y == d.Year && m == d.Month && dd == d.Day
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// AddDays moves d by n calendar days (n may be negative).
func (d Date) AddDays(n int) Date {
	return FromTime(d.midnight().AddDate(0, 0, n), time.UTC)
}

// Before reports whether d is an earlier day than o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is a later day than o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return cmp.Compare(d.Year, o.Year)
	case d.Month != o.Month:
		return cmp.Compare(int(d.Month), int(o.Month))
	default:
		return cmp.Compare(d.Day, o.Day)
	}
}

// Weekday is the day of the week d falls on.
func (d Date) Weekday() time.Weekday { return d.midnight().Weekday() }

// DaysBetween is the number of days from a to b: 1 from a day to the next, negative when b is
// before a.
func DaysBetween(a, b Date) int {
	return int(b.dayNumber() - a.dayNumber())
}

// dayNumber counts days since 1970-01-01. It goes through Unix seconds rather than
// time.Duration because a Duration overflows after about 292 years.
func (d Date) dayNumber() int64 {
	return d.midnight().Unix() / 86400
}

// dayNumberIfValid is d.dayNumber() and d.IsValid() from one time.Date call, for loops that
// need both.
func (d Date) dayNumberIfValid() (int64, bool) {
	t := d.midnight()
	y, m, dd := t.Date()
	return t.Unix() / 86400, y == d.Year && m == d.Month && dd == d.Day
}

// midnight is d at 00:00 UTC; UTC has no DST, so day arithmetic on it is exact.
func (d Date) midnight() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}
