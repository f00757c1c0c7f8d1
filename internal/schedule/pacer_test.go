package schedule

import (
	"container/heap"
	"context"
	"math"
	"testing"
	"time"
)

// fakeClock is a settable clock for the pacer.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestPacerGateClosesForEveryoneOn429(t *testing.T) {
	t.Parallel()
	c := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	p := newPacer(c.now)
	for range 100 {
		if at, _, ok := p.reserve(time.Second); !ok || !at.Equal(c.t) {
			t.Fatalf("before any 429: turn at %v (ok %v), want now", at.Sub(c.t), ok)
		}
	}
	p.limited(c.t, 3*time.Second)
	for range 5 {
		at, _, ok := p.reserve(time.Minute)
		if !ok || at.Sub(c.t) != 3*time.Second {
			t.Fatalf("after a 429 with Retry-After 3s: turn in %v, want 3s for everyone", at.Sub(c.t))
		}
	}
	if d, _, ok := p.reserve(time.Second); ok {
		t.Fatalf("a turn %v away was taken though the caller waits at most 1s", d.Sub(c.t))
	}
	// The 429s of calls already in flight when the gate closed do not move it.
	sent := c.t.Add(-time.Millisecond)
	c.t = c.t.Add(time.Second)
	p.limited(sent, 3*time.Second)
	if at, _, _ := p.reserve(time.Minute); at.Sub(c.t) != 2*time.Second {
		t.Fatalf("an in-flight 429 moved the gate: turn in %v, want 2s", at.Sub(c.t))
	}
}

func TestPacerWaitSleepsUntilTheGateOpens(t *testing.T) {
	t.Parallel()
	p := newPacer(time.Now)
	p.limited(time.Now(), time.Second) // the shortest Retry-After
	start := time.Now()
	if _, ok, err := p.wait(context.Background(), 5*time.Second); !ok || err != nil {
		t.Fatalf("wait: ok %v, err %v", ok, err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Fatalf("waited %v, want about the Retry-After", waited)
	}
	p.limited(time.Now(), time.Minute)
	if d, ok, _ := p.wait(context.Background(), time.Second); ok || d < 59*time.Second {
		t.Fatalf("a minute's wait with 1s patience: ok %v, d %v; want refused with the wait", ok, d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := p.wait(ctx, 2*time.Minute); err == nil {
		t.Fatal("wait ignored a cancelled context")
	}
}

// simulation runs workers against a Slack-like token bucket (the emulator's: perMinute per
// minute, bursts of burst, Retry-After rounded up to whole seconds) through one pacer, on a fake
// clock, and reports the times of the calls Slack took and how many got 429.
type simulation struct {
	workers   int
	perMinute func(at time.Duration) float64 // the limit, which may change over time
	burst     float64
	latency   time.Duration // each call's round trip
	work      time.Duration // each job's own work between calls
	calls     int           // stop after this many accepted calls
}

type simEvent struct {
	at     time.Time
	worker int
	kind   int // 0: ready to take a turn, 1: the turn is due, 2: the answer arrives
	gen    uint64
	sent   time.Time
	ok     bool
	retry  time.Duration
}

type simQueue []simEvent

func (q simQueue) Len() int                          { return len(q) }
func (q simQueue) Less(i, j int) bool                { return q[i].at.Before(q[j].at) }
func (q simQueue) Swap(i, j int)                     { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)                       { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any                         { old := *q; e := old[len(old)-1]; *q = old[:len(old)-1]; return e }
func (q *simQueue) add(e simEvent)                   { heap.Push(q, e) }
func (q *simQueue) next() simEvent                   { return heap.Pop(q).(simEvent) }
func (s simulation) limitAt(d time.Duration) float64 { return s.perMinute(d) / 60 }

func (s simulation) run() (accepted []time.Duration, limited int) {
	start := time.Unix(1_800_000_000, 0)
	c := &fakeClock{t: start}
	p := newPacer(c.now)
	tokens, last := s.burst, start
	q := &simQueue{}
	for w := range s.workers {
		q.add(simEvent{at: start, worker: w})
	}
	for len(accepted) < s.calls && q.Len() > 0 {
		e := q.next()
		c.t = e.at
		switch e.kind {
		case 0:
			at, gen, _ := p.reserve(time.Hour)
			q.add(simEvent{at: at, worker: e.worker, kind: 1, gen: gen})
		case 1:
			p.mu.Lock()
			stale := p.gen != e.gen && p.until.After(c.t)
			p.mu.Unlock()
			if stale {
				q.add(simEvent{at: c.t, worker: e.worker})
				continue
			}
			// Slack's bucket, at the moment the call arrives.
			arrive := c.t.Add(s.latency / 2)
			rate := s.limitAt(arrive.Sub(start))
			tokens = math.Min(s.burst, tokens+arrive.Sub(last).Seconds()*rate)
			last = arrive
			ev := simEvent{at: c.t.Add(s.latency), worker: e.worker, kind: 2, sent: c.t}
			if tokens >= 1 {
				tokens--
				ev.ok = true
				accepted = append(accepted, arrive.Sub(start))
			} else {
				ev.retry = time.Duration(math.Ceil((1-tokens)/rate)) * time.Second
			}
			q.add(ev)
		case 2:
			if e.ok {
				p.accepted(e.sent)
				q.add(simEvent{at: c.t.Add(s.work), worker: e.worker})
			} else {
				limited++
				p.limited(e.sent, e.retry)
				q.add(simEvent{at: c.t, worker: e.worker})
			}
		}
	}
	return accepted, limited
}

func TestPacerLearnsTheLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		perMinute float64
		burst     float64
		workers   int
		calls     int
	}{
		{600, 600, 20, 3000},
		{600, 20, 50, 3000},
		{6000, 6000, 50, 20000},
		{6000, 100, 20, 20000},
		{60, 60, 20, 400},
	} {
		sim := simulation{workers: tc.workers, perMinute: func(time.Duration) float64 { return tc.perMinute },
			burst: tc.burst, latency: 2 * time.Millisecond, work: 20 * time.Millisecond, calls: tc.calls}
		got, limited := sim.run()
		spread := got[len(got)-1] - got[0]
		ideal := time.Duration((float64(len(got)) - tc.burst) / (tc.perMinute / 60) * float64(time.Second))
		pct := 100 * ideal.Seconds() / spread.Seconds()
		t.Logf("%g/min, bursts of %g, %d workers: %d calls in %v (ideal %v, %.1f%% of the limit), %d answered 429",
			tc.perMinute, tc.burst, tc.workers, len(got), spread.Round(time.Millisecond), ideal.Round(time.Millisecond), pct, limited)
		if pct < 95 {
			t.Errorf("%g/min: %.1f%% of the limit, want at least 95%%", tc.perMinute, pct)
		}
		// Without a pacer every worker would meet the limit about once per Retry-After; with it,
		// only the calls in flight at the first 429 and the first reopening, then a few per minute.
		if maxLimited := 2*tc.workers + int(spread.Seconds()/5); limited > maxLimited {
			t.Errorf("%g/min: %d calls answered 429 over %v, want at most %d", tc.perMinute, limited, spread.Round(time.Second), maxLimited)
		}
	}
}

func TestPacerFollowsARaisedLimit(t *testing.T) {
	t.Parallel()
	sim := simulation{workers: 30, burst: 50, latency: 2 * time.Millisecond, work: 10 * time.Millisecond, calls: 12000,
		perMinute: func(at time.Duration) float64 {
			if at < time.Minute {
				return 1200
			}
			return 3000
		}}
	got, limited := sim.run()
	// Over the last minute the pace must have caught up with the new limit.
	end := got[len(got)-1]
	n := 0
	for _, at := range got {
		if at > end-time.Minute {
			n++
		}
	}
	if n < 2700 {
		t.Errorf("%d calls in the last minute at 3000/min, want at least 90%%", n)
	}
	t.Logf("%d calls, %d in the last minute, %d answered 429", len(got), n, limited)
}

func TestPacerForgetsAfterAQuietSpell(t *testing.T) {
	t.Parallel()
	c := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	p := newPacer(c.now)
	for range 2 {
		for range 10 {
			p.accepted(c.t)
		}
		p.limited(c.t, time.Second)
		c.t = c.t.Add(2 * time.Second)
	}
	a1, _, _ := p.reserve(time.Hour)
	a2, _, _ := p.reserve(time.Hour)
	if want := 1 / (5 * headroom); p.rate != 5 || math.Abs(a2.Sub(a1).Seconds()-want) > 1e-6 {
		t.Fatalf("after 10 calls in the 2s between two 429s: rate %g/s, turns %v apart; want 5/s, paced %g%% faster",
			p.rate, a2.Sub(a1), 100*(headroom-1))
	}
	c.t = c.t.Add(2 * learnWindow)
	a1, _, _ = p.reserve(time.Hour)
	a2, _, _ = p.reserve(time.Hour)
	if !a1.Equal(c.t) || !a2.Equal(c.t) {
		t.Fatalf("still pacing after %v of quiet", 2*learnWindow)
	}
}
