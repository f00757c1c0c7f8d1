package schedule

import (
	"context"
	"sync"
	"time"
)

// A pacer keeps all of a process's job workers, together, at Slack's rate limit for one Web API
// method in one workspace (Slack counts limits per method, workspace and app).
//
// On a 429 the gate closes for everyone until Retry-After has passed, instead of every worker
// finding the limit for itself with a call of its own and snoozing its job, which wastes calls
// and leaves the allowance unused while the snoozed jobs wait to be fetched again. The pacer also
// learns the limit: between two 429s the bucket went from empty to empty, so the calls Slack took
// in between, over the time in between, is its refill rate. From then on calls are spaced out
// slightly faster than that (headroom), so the limit is used in full and met again now and then
// to correct the estimate, at one or a few 429s every several seconds rather than one per worker.
// While pacing meets no 429 for raiseAfter the pace goes up, in case the limit was raised; after
// a quiet spell everything learned is forgotten, as Slack's bucket will have refilled.
type pacer struct {
	mu    sync.Mutex
	now   func() time.Time
	until time.Time // Retry-After: nobody calls before this
	gen   uint64    // counts the 429s that closed the gate
	rate  float64   // learned calls per second; 0 while unknown (no pacing)
	next  time.Time // the next free slot while pacing
	ok    int64     // calls Slack accepted
	marks []mark    // recent 429s that found the gate open, oldest first
	// recent holds when the latest accepted calls were made (a ring), to tell which of them were
	// made after a call that got a 429 but were answered before it.
	recent [64]time.Time
	ri     int
	// lastLimit, lastRaise and lastCall are when the gate last closed, the pace last went up and
	// a call was last let through.
	lastLimit, lastRaise, lastCall time.Time
}

type mark struct {
	at time.Time // when the call that got the 429 was made
	ok int64     // accepted calls made before it
}

const (
	// headroom is how much faster than the learned rate calls are let through.
	headroom = 1.1
	// learnWindow is how far back the rate is measured, and how long a quiet spell makes the
	// pacer forget.
	learnWindow = time.Minute
	// minSample is the shortest stretch between two 429s that says anything about the rate.
	minSample = time.Second
	// raiseAfter is how long pacing may go without a 429 before the pace goes up by raiseBy.
	raiseAfter = 20 * time.Second
	raiseBy    = 1.25
)

func newPacer(now func() time.Time) *pacer { return &pacer{now: now} }

// reserve takes the caller's turn: the time it may call, unless that is more than max away, in
// which case nothing is taken and ok is false.
func (p *pacer) reserve(max time.Duration) (at time.Time, gen uint64, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	at, interval := p.slot(now)
	if at.Sub(now) > max {
		return at, p.gen, false
	}
	if interval > 0 {
		p.next = at.Add(interval)
	}
	p.lastCall = maxTime(p.lastCall, at)
	return at, p.gen, true
}

// ahead is how long a caller would wait for a turn taken now, without taking it.
func (p *pacer) ahead() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	at, _ := p.slot(now)
	return at.Sub(now)
}

// slot brings what was learned up to date and returns the next free turn as of now and, while
// pacing, the spacing to the one after it. Called with p.mu held.
func (p *pacer) slot(now time.Time) (at time.Time, interval time.Duration) {
	if now.Sub(p.lastCall) > learnWindow && now.After(p.until) {
		p.rate, p.marks = 0, nil
	}
	if n := len(p.marks); n > 1 && p.marks[n-1].at.Sub(p.marks[0].at) >= minSample {
		// The bucket was empty at the oldest mark and at the newest: everything Slack took in
		// between refilled it. (Computed here, not on the 429, so that calls made before the 429
		// and answered after it are counted.)
		first, last := p.marks[0], p.marks[n-1]
		if r := float64(last.ok-first.ok) / last.at.Sub(first.at).Seconds(); r > 0 && p.lastRaise.Before(p.lastLimit) {
			p.rate = r
		}
	}
	at = maxTime(now, p.until)
	if p.rate > 0 {
		if p.next.After(now) && now.Sub(maxTime(p.lastLimit, p.lastRaise)) > raiseAfter {
			// Callers are queueing behind the pace and Slack has not objected for a while.
			p.rate *= raiseBy
			p.lastRaise = now
		}
		at = maxTime(at, p.next)
		interval = time.Duration(float64(time.Second) / (p.rate * headroom))
	}
	return at, interval
}

// wait blocks until the caller's turn. It returns false, and how long the wait would be, when
// that is more than max; ctx ending returns its error.
func (p *pacer) wait(ctx context.Context, max time.Duration) (time.Duration, bool, error) {
	for {
		at, gen, ok := p.reserve(max)
		d := at.Sub(p.now())
		if !ok {
			return d, false, nil
		}
		if d <= 0 {
			return 0, true, nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, false, ctx.Err()
		case <-t.C:
		}
		p.mu.Lock()
		// A 429 while we slept closed the gate again: the slot we had is void.
		stale := p.gen != gen && p.until.After(p.now())
		p.mu.Unlock()
		if !stale {
			return 0, true, nil
		}
	}
}

// accepted records a call Slack took; sent is when it was made. Calls are counted by when they
// were made, not when the answer came, so one made before a 429 and answered after it counts
// before it.
func (p *pacer) accepted(sent time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ok++
	p.lastCall = maxTime(p.lastCall, sent)
	p.recent[p.ri%len(p.recent)] = sent
	p.ri++
	for i := len(p.marks) - 1; i >= 0 && !p.marks[i].at.Before(sent); i-- {
		p.marks[i].ok++
	}
}

// limited records a 429 to a call made at sent, with its Retry-After, and closes the gate until
// then.
func (p *pacer) limited(sent time.Time, retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if sent.Before(p.until) {
		return // sent before the gate closed: the same 429 as the one that closed it
	}
	retryAfter = max(retryAfter, time.Second)
	p.lastCall = maxTime(p.lastCall, sent)
	if n := len(p.marks); n > 0 && sent.Sub(p.marks[n-1].at) > learnWindow {
		p.marks = nil // too long ago to say anything about now
	}
	for len(p.marks) > 1 && sent.Sub(p.marks[0].at) > learnWindow {
		p.marks = p.marks[1:]
	}
	ok := p.ok
	for i := range min(p.ri, len(p.recent)) {
		if p.recent[i].After(sent) {
			ok-- // made after this call, answered before it
		}
	}
	p.marks = append(p.marks, mark{at: sent, ok: ok})
	p.until = now.Add(retryAfter)
	// Turns already given out for after the gate opens stand; those before it are void (their
	// holders take new ones), and new ones come after both.
	p.next = maxTime(p.next, p.until)
	p.gen++
	p.lastLimit = now
}

// pacerFor returns the pacer of one method in one workspace.
func (j *Jobs) pacerFor(teamID, method string) *pacer {
	key := teamID + " " + method
	if p, ok := j.pacers.Load(key); ok {
		return p.(*pacer)
	}
	p, _ := j.pacers.LoadOrStore(key, newPacer(time.Now))
	return p.(*pacer)
}
