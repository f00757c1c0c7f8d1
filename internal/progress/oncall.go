package progress

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"
)

// OncallDaysNeeded is the path's "at least 21 days + nights total".
const OncallDaysNeeded = 21

// MaxShiftDays bounds one logged range, so a typo in the year cannot credit a decade of
// on-call; longer rotations are logged in pieces.
const MaxShiftDays = 366

// earliestShift is the oldest date a shift may start on; earlier dates are typos.
var earliestShift = Date{Year: 1990, Month: time.January, Day: 1}

// Part says which half of each day a shift covered.
type Part string

// The parts of a day a shift can cover. The zero Part means PartFull, so a Shift built
// without one counts as 24-hour on-call.
const (
	PartFull  Part = "full"
	PartDay   Part = "day"
	PartNight Part = "night"
)

// Shift is a range of on-call days as logged: From and To are inclusive.
type Shift struct {
	From, To Date
	Part     Part
	At       time.Time // when it was logged; decides when the milestone became done
}

// Errors ValidateShift wraps, for callers that want to tell the cases apart.
var (
	ErrInvalidDate   = errors.New("that's not a real date")
	ErrInvalidPart   = errors.New("a shift is full, day or night")
	ErrShiftReversed = errors.New("the end date is before the start date")
	ErrShiftFuture   = errors.New("on-call in the future can't be logged yet")
	ErrShiftTooLong  = errors.New("one range can cover at most 366 days; log longer rotations in pieces")
	ErrShiftTooOld   = errors.New("dates before 1990-01-01 can't be logged")
)

// ValidateShift refuses a shift that cannot have happened as of today.
func ValidateShift(s Shift, today Date) error {
	switch {
	case !s.From.IsValid() || !s.To.IsValid():
		return ErrInvalidDate
	case s.Part != "" && s.Part != PartFull && s.Part != PartDay && s.Part != PartNight:
		return fmt.Errorf("%w, not %q", ErrInvalidPart, s.Part)
	case s.To.Before(s.From):
		return fmt.Errorf("%w (%s is before %s)", ErrShiftReversed, s.To, s.From)
	case s.From.Before(earliestShift):
		return fmt.Errorf("%w (%s)", ErrShiftTooOld, s.From)
	case s.To.After(today):
		return fmt.Errorf("%w: %s is after today, %s", ErrShiftFuture, s.To, today)
	case DaysBetween(s.From, s.To)+1 > MaxShiftDays:
		return fmt.Errorf("%w (%s..%s is %d days)", ErrShiftTooLong, s.From, s.To, DaysBetween(s.From, s.To)+1)
	}
	return nil
}

// OncallDays totals shifts the way the path counts "days + nights": every calendar date has a
// day half and a night half, a full shift covers both, and the total is the number of halves
// covered divided by two. It works on the union, so overlapping or repeated shifts never count
// twice, and a day shift plus a night shift on the same date make one day. Shifts that are not
// well-formed (reversed, impossible dates, unknown part) count nothing.
func OncallDays(shifts []Shift) float64 {
	spans := oncallSpans(shifts)
	return float64(halvesCovered(spans, make([]span, 0, len(spans)))) / 2
}

// span is an inclusive range of day numbers.
type span struct{ from, to int64 }

// oncallSpan is a well-formed shift as day numbers and the halves of each day it covers.
type oncallSpan struct {
	days       span
	day, night bool
	shift      int // its index in the shifts it came from, for the At that evalOncall needs
}

// oncallSpans converts the well-formed shifts to day numbers, once: totalling them is then
// integer work, even when evalOncall totals many prefixes of them.
func oncallSpans(shifts []Shift) []oncallSpan {
	out := make([]oncallSpan, 0, len(shifts))
	for i, s := range shifts {
		from, fromOK := s.From.dayNumberIfValid()
		to, toOK := s.To.dayNumberIfValid()
		if !fromOK || !toOK || to < from {
			continue
		}
		sp := oncallSpan{days: span{from, to}, shift: i}
		switch s.Part {
		case PartFull, "":
			sp.day, sp.night = true, true
		case PartDay:
			sp.day = true
		case PartNight:
			sp.night = true
		default:
			continue
		}
		out = append(out, sp)
	}
	return out
}

// halvesCovered counts the day halves and night halves that at least one of spans covers.
// scratch is reused for the day and then the night ranges, so the caller can share it across
// calls.
func halvesCovered(spans []oncallSpan, scratch []span) int64 {
	days, nights := scratch[:0], scratch[:0]
	for _, s := range spans {
		if s.day {
			days = append(days, s.days)
		}
	}
	total := unionLen(days)
	for _, s := range spans {
		if s.night {
			nights = append(nights, s.days)
		}
	}
	return total + unionLen(nights)
}

// unionLen counts the days covered by at least one span. Merging sorted intervals rather
// than marking days in a set keeps the cost independent of how long the ranges are.
func unionLen(spans []span) int64 {
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.from, b.from) })
	var total int64
	cur, open := span{}, false
	for _, s := range spans {
		switch {
		case !open:
			cur, open = s, true
		case s.from <= cur.to+1:
			cur.to = max(cur.to, s.to)
		default:
			total += cur.to - cur.from + 1
			cur = s
		}
	}
	if open {
		total += cur.to - cur.from + 1
	}
	return total
}

func evalOncall(shifts []Shift) MilestoneStatus {
	spans := oncallSpans(shifts)
	scratch := make([]span, 0, len(spans))
	have := float64(halvesCovered(spans, scratch)) / 2
	s := MilestoneStatus{
		ID:      OnCall,
		Have:    have,
		Need:    OncallDaysNeeded,
		Done:    have >= OncallDaysNeeded,
		Summary: "on-call " + FormatNumber(have) + "/" + strconv.Itoa(OncallDaysNeeded) + " days",
	}
	if !s.Done {
		s.Missing = "Be on call for " + FormatNumber(OncallDaysNeeded-have) + " more days (a day shift and a night shift make one)."
		return s
	}
	// The total only grows as shifts are added, so the shift that completed the milestone is
	// the shortest prefix, in logging order, that reaches the target. Shifts that count nothing
	// are left out: they never complete it. The store keeps shifts in logging order, so the
	// sort is usually skipped.
	byAt := func(a, b oncallSpan) int { return shifts[a.shift].At.Compare(shifts[b.shift].At) }
	if !slices.IsSortedFunc(spans, byAt) {
		slices.SortStableFunc(spans, byAt)
	}
	i := sort.Search(len(spans), func(i int) bool {
		return float64(halvesCovered(spans[:i+1], scratch))/2 >= OncallDaysNeeded
	})
	s.DoneAt = shifts[spans[i].shift].At
	return s
}
