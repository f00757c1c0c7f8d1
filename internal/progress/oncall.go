package progress

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"
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
	var days, nights []span
	for _, s := range shifts {
		if !s.From.IsValid() || !s.To.IsValid() || s.To.Before(s.From) {
			continue
		}
		sp := span{s.From.dayNumber(), s.To.dayNumber()}
		switch s.Part {
		case PartFull, "":
			days, nights = append(days, sp), append(nights, sp)
		case PartDay:
			days = append(days, sp)
		case PartNight:
			nights = append(nights, sp)
		}
	}
	return float64(unionLen(days)+unionLen(nights)) / 2
}

// span is an inclusive range of day numbers.
type span struct{ from, to int64 }

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
	have := OncallDays(shifts)
	s := MilestoneStatus{
		ID:      OnCall,
		Have:    have,
		Need:    OncallDaysNeeded,
		Done:    have >= OncallDaysNeeded,
		Summary: fmt.Sprintf("on-call %s/%d days", FormatNumber(have), OncallDaysNeeded),
	}
	if !s.Done {
		s.Missing = fmt.Sprintf("Be on call for %s more days (a day shift and a night shift make one).",
			FormatNumber(OncallDaysNeeded-have))
		return s
	}
	// The total only grows as shifts are added, so the shift that completed the milestone is
	// the shortest prefix, in logging order, that reaches the target.
	byAt := slices.Clone(shifts)
	slices.SortStableFunc(byAt, func(a, b Shift) int { return a.At.Compare(b.At) })
	i := sort.Search(len(byAt), func(i int) bool { return OncallDays(byAt[:i+1]) >= OncallDaysNeeded })
	s.DoneAt = byAt[i].At
	return s
}
