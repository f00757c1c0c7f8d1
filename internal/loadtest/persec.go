package loadtest

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"time"
)

// SecondStat is the response latency of the requests due in one second of a phase, in
// milliseconds. Requests are placed by due time rather than by answer time so that a stall
// shows at the second it began: the request due just as the bot or Postgres stopped waits
// longest, and its second is the one with the highest max.
type SecondStat struct {
	Offset int     `json:"offset_s"` // whole seconds from the phase's start
	Count  int64   `json:"count"`
	P99    float64 `json:"p99_ms"`
	Max    float64 `json:"max_ms"`
}

// A histogram like the phase's (newHist) per second would cost 144 KiB, 250 MiB for a 30-minute
// run. Instead each second keeps a log-linear histogram of its own: 32 linear steps per power of
// two bound the error of its p99 to 1/32 (3%), which is plenty to tell a spike from the
// baseline, in under 3 KiB. The max is kept exactly.
const (
	secSubBits = 5
	secSub     = 1 << secSubBits
	// secOctaves covers values below 2^27 µs (134 s), past histMax.
	secOctaves = 27
	secBuckets = (secOctaves - secSubBits + 1) << secSubBits
	secTop     = 1<<secOctaves - 1
)

// secondHist holds one second's response latencies in µs.
type secondHist struct {
	count  int64
	max    int64
	counts [secBuckets]uint32 // a second holds at most maxRate samples
}

// secBucket maps a value in µs to its bucket: values below secSub get one bucket each, larger
// ones share a bucket with the values equal to them in their top secSubBits+1 bits.
func secBucket(v int64) int {
	v = min(max(v, 0), secTop)
	if v < secSub {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - secSubBits - 1
	return (shift+1)<<secSubBits + int(v>>shift) - secSub
}

// secBucketTop is the highest value in bucket i, so a quantile read from the histogram is never
// below the true one.
func secBucketTop(i int) int64 {
	if i < secSub {
		return int64(i)
	}
	shift := i>>secSubBits - 1
	low := int64(i&(secSub-1)+secSub) << shift
	return low + 1<<shift - 1
}

func (h *secondHist) record(us int64) {
	h.count++
	h.max = max(h.max, us)
	h.counts[secBucket(us)]++
}

// quantile follows hdrhistogram's ValueAtQuantile: the value at or below which q percent of
// the samples are, capped at the exact max.
func (h *secondHist) quantile(q float64) int64 {
	if h.count == 0 {
		return 0
	}
	want := max(int64(q/100*float64(h.count)+0.5), 1)
	var seen int64
	for i, n := range h.counts {
		if seen += int64(n); seen >= want {
			return min(secBucketTop(i), h.max)
		}
	}
	return h.max
}

// perSecond collects a phase's response latencies by the second they were due. A second's
// histogram is allocated when its first answer arrives: one allocation per second, none per
// request.
type perSecond struct {
	secs []*secondHist
}

func newPerSecond(dur time.Duration) perSecond {
	return perSecond{secs: make([]*secondHist, max(int(math.Ceil(dur.Seconds())), 1))}
}

// record adds a response latency in µs for a request due offset after the phase started. Every
// request of a phase is due within its duration; anything outside is clamped rather than lost.
func (s *perSecond) record(offset time.Duration, us int64) {
	if len(s.secs) == 0 {
		return
	}
	i := min(max(int(offset/time.Second), 0), len(s.secs)-1)
	h := s.secs[i]
	if h == nil {
		h = new(secondHist)
		s.secs[i] = h
	}
	h.record(us)
}

// rows is the whole series, seconds with no request included, so that a gap in the load is
// visible as one.
func (s *perSecond) rows() []SecondStat {
	rows := make([]SecondStat, len(s.secs))
	for i, h := range s.secs {
		rows[i].Offset = i
		if h != nil {
			rows[i].Count = h.count
			rows[i].P99 = float64(h.quantile(99)) / 1000
			rows[i].Max = float64(h.max) / 1000
		}
	}
	return rows
}

// slowestSeconds returns the n seconds with the highest max, highest first, earlier first among
// equals.
func slowestSeconds(rows []SecondStat, n int) []SecondStat {
	var s []SecondStat
	for _, r := range rows {
		if r.Count > 0 {
			s = append(s, r)
		}
	}
	slices.SortStableFunc(s, func(a, b SecondStat) int {
		return cmp.Or(cmp.Compare(b.Max, a.Max), cmp.Compare(a.Offset, b.Offset))
	})
	return s[:min(n, len(s))]
}
