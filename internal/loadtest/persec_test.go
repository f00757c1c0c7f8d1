package loadtest

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSecBucket checks the buckets tile the whole range without gaps or overlaps and keep the
// promised 1/32 relative error, which the p99 estimate relies on.
func TestSecBucket(t *testing.T) {
	for i := range secBuckets {
		top := secBucketTop(i)
		if got := secBucket(top); got != i {
			t.Fatalf("the top of bucket %d, %d, falls in bucket %d", i, top, got)
		}
		if i+1 < secBuckets {
			if got := secBucket(top + 1); got != i+1 {
				t.Fatalf("%d, just past bucket %d, falls in bucket %d", top+1, i, got)
			}
		}
		low := int64(0)
		if i > 0 {
			low = secBucketTop(i-1) + 1
		}
		if float64(top-low) > float64(low)/secSub {
			t.Fatalf("bucket %d spans %d..%d, more than 1/%d of its values", i, low, top, secSub)
		}
	}
	if secBucketTop(secBuckets-1) != secTop {
		t.Fatalf("the last bucket ends at %d, want %d", secBucketTop(secBuckets-1), secTop)
	}
	if secTop < histMax {
		t.Fatalf("per-second buckets end at %d µs, below histMax %d", secTop, histMax)
	}
	for _, v := range []int64{-5, 0, secTop + 1, math.MaxInt64} {
		if i := secBucket(v); i < 0 || i >= secBuckets {
			t.Errorf("secBucket(%d) = %d, out of range", v, i)
		}
	}
}

func TestPerSecond(t *testing.T) {
	s := newPerSecond(3500 * time.Millisecond)
	// Second 0: 1..1000 ms, one each, in shuffled order; p99 is the 990th value.
	for i := range int64(1000) {
		v := (i*7919)%1000 + 1
		s.record(time.Duration(i)*time.Millisecond, v*1000)
	}
	// Second 1 is empty. Second 2: a steady 2 ms and one stall, recorded last.
	for i := range 99 {
		s.record(2*time.Second+time.Duration(i)*time.Millisecond, 2000)
	}
	s.record(2999*time.Millisecond, 750_123)
	// Second 3 is the half second the duration leaves; outside the phase is clamped to its ends.
	s.record(3*time.Second, 5000)
	s.record(10*time.Second, 6000)
	s.record(-time.Millisecond, 1000)

	rows := s.rows()
	if len(rows) != 4 {
		t.Fatalf("%d rows for 3.5 s, want 4: %+v", len(rows), rows)
	}
	for i, r := range rows {
		if r.Offset != i {
			t.Errorf("row %d has offset %d", i, r.Offset)
		}
	}
	r0 := rows[0]
	if r0.Count != 1001 || r0.Max != 1000 {
		t.Errorf("second 0: count %d, max %g; want 1001 and 1000 ms", r0.Count, r0.Max)
	}
	// The estimate is at or above the true value, and within a bucket's 1/32.
	if r0.P99 < 990 || r0.P99 > 990*(1+1.0/secSub) {
		t.Errorf("second 0: p99 %g ms, want 990 to %g", r0.P99, 990*(1+1.0/secSub))
	}
	if rows[1] != (SecondStat{Offset: 1}) {
		t.Errorf("second 1: %+v, want empty", rows[1])
	}
	if r2 := rows[2]; r2.Count != 100 || r2.P99 < 2 || r2.P99 > 2*(1+1.0/secSub) || r2.Max != 750.123 {
		t.Errorf("second 2: %+v, want count 100, p99 2 ms (+1/%d), max 750.123 ms", r2, secSub)
	}
	if r3 := rows[3]; r3.Count != 2 || r3.Max != 6 || r3.P99 != 6 {
		t.Errorf("second 3: %+v, want the two requests at and past the end, max 6 ms", r3)
	}

	// The p99 never exceeds the exact max, even when the bucket's top would.
	one := newPerSecond(time.Second)
	one.record(0, 1_000_001)
	if r := one.rows()[0]; r.P99 != r.Max || r.Max != 1000.001 {
		t.Errorf("a lone sample: %+v, want p99 = max = 1000.001 ms", r)
	}
	if rows := (&perSecond{}).rows(); len(rows) != 0 {
		t.Errorf("a phase that records nothing has rows %+v", rows)
	}
}

func TestSlowestSeconds(t *testing.T) {
	rows := []SecondStat{
		{Offset: 0, Count: 10, P99: 1, Max: 3},
		{Offset: 1, Count: 10, P99: 1, Max: 9},
		{Offset: 2},
		{Offset: 3, Count: 10, P99: 1, Max: 3},
		{Offset: 4, Count: 10, P99: 8, Max: 40},
		{Offset: 5, Count: 10, P99: 1, Max: 2},
		{Offset: 6, Count: 10, P99: 1, Max: 9},
	}
	offsets := func(s []SecondStat) []int {
		var o []int
		for _, r := range s {
			o = append(o, r.Offset)
		}
		return o
	}
	if got, want := offsets(slowestSeconds(rows, 5)), []int{4, 1, 6, 0, 3}; !slices.Equal(got, want) {
		t.Errorf("slowest 5: offsets %v, want %v", got, want)
	}
	if got := slowestSeconds(rows[2:3], 5); len(got) != 0 {
		t.Errorf("seconds without requests listed: %+v", got)
	}
	if rows[0].Offset != 0 || rows[4].Offset != 4 {
		t.Error("slowestSeconds reordered its input")
	}

	rep := &Report{Phases: []*Phase{{Name: "run", PerSecond: rows,
		StartedAt: time.Date(2025, 1, 2, 3, 4, 5, 6e6, time.UTC)}}}
	text := rep.Text()
	_, section, ok := strings.Cut(text, "slowest seconds")
	if !ok {
		t.Fatalf("no slowest seconds section:\n%s", text)
	}
	if !strings.Contains(section, "03:04:05.006Z") {
		t.Errorf("the section does not say when offset 0 was:\n%s", section)
	}
	lines := strings.Split(section, "\n")
	if len(lines) < 7 || strings.Fields(lines[2])[0] != "4" || !strings.HasSuffix(strings.TrimSpace(lines[2]), "40.00") {
		t.Errorf("want the header then offset 4 with max 40.00 first:\n%s", section)
	}
}
