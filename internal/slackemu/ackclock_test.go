package slackemu

import (
	"testing"
	"time"
)

// TestAckClock: envelopes expire AckTimeout after they were sent, not before, whatever
// was acked around them, and the clock starts again once it has run out of envelopes.
func TestAckClock(t *testing.T) {
	s := New(Config{AckTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = s.Close() })
	results := make(chan *Result, 8)
	start := func(sent time.Time) *envelope {
		o := s.newOp(kindAction, "U1", "")
		o.done = func(r *Result) { results <- r }
		e := &envelope{id: newUUID(), op: o, sent: sent}
		s.startAckDeadline(e)
		return e
	}
	now := time.Now()
	e1, e2, e3 := start(now), start(now), start(now.Add(30*time.Millisecond))
	e2.state.Store(envAcked)
	time.Sleep(60 * time.Millisecond)
	if e1.state.Load() != envWaiting || e3.state.Load() != envWaiting {
		t.Fatal("expired early")
	}
	for _, e := range []*envelope{e1, e3} {
		select {
		case r := <-results:
			if r.Error != "dispatch_failed" {
				t.Errorf("result %+v", r)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("not expired")
		}
		if d := time.Since(e.sent); e.state.Load() != envExpired || d < 100*time.Millisecond {
			t.Errorf("envelope expired %v after it was sent, state %d", d, e.state.Load())
		}
	}
	if e2.state.Load() != envAcked {
		t.Error("acked envelope expired")
	}
	e4 := start(time.Now())
	select {
	case <-results:
	case <-time.After(2 * time.Second):
		t.Fatal("clock not restarted")
	}
	if d := time.Since(e4.sent); d < 100*time.Millisecond {
		t.Errorf("expired after %v", d)
	}
}
