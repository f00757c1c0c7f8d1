package progress

import (
	"errors"
	"testing"
	"time"
)

// day parses a date in tests and fails the test if it is not one.
func day(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestOncallDays(t *testing.T) {
	t.Parallel()
	sh := func(from, to string, p Part) Shift { return Shift{From: day(t, from), To: day(t, to), Part: p} }
	tests := []struct {
		name   string
		shifts []Shift
		want   float64
	}{
		{"nothing", nil, 0},
		{"one full day", []Shift{sh("2026-01-01", "2026-01-01", PartFull)}, 1},
		{"a full week", []Shift{sh("2026-01-01", "2026-01-07", PartFull)}, 7},
		{"zero part counts as full", []Shift{sh("2026-01-01", "2026-01-02", "")}, 2},
		{"a week of nights is half", []Shift{sh("2026-01-01", "2026-01-07", PartNight)}, 3.5},
		{"one day shift", []Shift{sh("2026-01-01", "2026-01-01", PartDay)}, 0.5},
		{"day and night on the same date make one", []Shift{
			sh("2026-01-01", "2026-01-01", PartDay), sh("2026-01-01", "2026-01-01", PartNight)}, 1},
		{"days and nights over the same week make the week", []Shift{
			sh("2026-01-01", "2026-01-07", PartDay), sh("2026-01-01", "2026-01-07", PartNight)}, 7},
		{"repeated range counts once", []Shift{
			sh("2026-01-01", "2026-01-07", PartFull), sh("2026-01-01", "2026-01-07", PartFull)}, 7},
		{"overlapping ranges count the union", []Shift{
			sh("2026-01-01", "2026-01-10", PartFull), sh("2026-01-05", "2026-01-14", PartFull)}, 14},
		{"contained range adds nothing", []Shift{
			sh("2026-01-01", "2026-01-31", PartFull), sh("2026-01-10", "2026-01-12", PartNight)}, 31},
		{"a night inside full days adds nothing", []Shift{
			sh("2026-01-01", "2026-01-03", PartFull), sh("2026-01-02", "2026-01-02", PartNight)}, 3},
		{"adjacent ranges", []Shift{
			sh("2026-01-01", "2026-01-03", PartFull), sh("2026-01-04", "2026-01-05", PartFull)}, 5},
		{"disjoint ranges in any order", []Shift{
			sh("2026-03-01", "2026-03-02", PartFull), sh("2026-01-01", "2026-01-01", PartDay)}, 2.5},
		{"half overlap of day shifts and full", []Shift{
			sh("2026-01-01", "2026-01-04", PartDay), sh("2026-01-03", "2026-01-06", PartFull)}, 5},
		{"across a leap day", []Shift{sh("2024-02-28", "2024-03-01", PartFull)}, 3},
		{"reversed range counts nothing", []Shift{sh("2026-01-07", "2026-01-01", PartFull)}, 0},
		{"unknown part counts nothing", []Shift{sh("2026-01-01", "2026-01-07", "evening")}, 0},
		{"impossible date counts nothing", []Shift{{From: Date{2026, 2, 30}, To: day(t, "2026-03-02"), Part: PartFull}}, 0},
		{"41 halves is 20.5", []Shift{sh("2026-01-01", "2026-01-20", PartFull), sh("2026-01-21", "2026-01-21", PartNight)}, 20.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := OncallDays(tt.shifts); got != tt.want {
				t.Errorf("OncallDays = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidateShift(t *testing.T) {
	t.Parallel()
	today := day(t, "2026-02-10")
	tests := []struct {
		name     string
		from, to string
		part     Part
		want     error // nil means valid
	}{
		{"one day", "2026-02-10", "2026-02-10", PartFull, nil},
		{"night range", "2026-01-01", "2026-01-14", PartNight, nil},
		{"zero part", "2026-01-01", "2026-01-14", "", nil},
		{"366 days", "2025-02-10", "2026-02-10", PartFull, nil},
		{"367 days", "2025-02-09", "2026-02-10", PartFull, ErrShiftTooLong},
		{"reversed", "2026-01-14", "2026-01-01", PartFull, ErrShiftReversed},
		{"ends tomorrow", "2026-02-10", "2026-02-11", PartFull, ErrShiftFuture},
		{"all in the future", "2027-01-01", "2027-01-02", PartDay, ErrShiftFuture},
		{"before 1990", "1989-12-31", "1990-01-02", PartFull, ErrShiftTooOld},
		{"first allowed day", "1990-01-01", "1990-01-02", PartFull, nil},
		{"unknown part", "2026-01-01", "2026-01-02", "evening", ErrInvalidPart},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateShift(Shift{From: day(t, tt.from), To: day(t, tt.to), Part: tt.part}, today)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("ValidateShift = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("impossible date", func(t *testing.T) {
		t.Parallel()
		err := ValidateShift(Shift{From: Date{2026, time.February, 30}, To: today}, today)
		if !errors.Is(err, ErrInvalidDate) {
			t.Errorf("ValidateShift = %v, want %v", err, ErrInvalidDate)
		}
	})
}
