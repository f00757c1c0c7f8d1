package slackemu

import (
	"sync"
	"time"
)

// ackClock expires envelopes whose ack did not come within AckTimeout of being sent. The
// deadline is the same for every envelope, so they fall due in the order they were sent:
// one queue and one timer serve them all, instead of a runtime timer each (two allocations
// per envelope, and a timer heap as large as the envelopes in flight).
type ackClock struct {
	mu    sync.Mutex
	q     []*envelope // q[head:] are those started, oldest first
	head  int
	timer *time.Timer
	armed bool // the timer will fire; it is armed whenever q[head:] is not empty
}

// startAckDeadline starts e's deadline, AckTimeout after e.sent; e has been sent.
func (s *Server) startAckDeadline(e *envelope) {
	c := &s.ackClock
	c.mu.Lock()
	c.dropAcked()
	if c.head > 0 && c.head >= len(c.q)/2 {
		// Keep the queue to about the envelopes in flight.
		n := copy(c.q, c.q[c.head:])
		clear(c.q[n:])
		c.q, c.head = c.q[:n], 0
	}
	c.q = append(c.q, e)
	if !c.armed {
		c.armed = true
		d := time.Until(e.sent.Add(s.cfg.AckTimeout))
		if c.timer == nil {
			c.timer = time.AfterFunc(d, s.expireAcks)
		} else {
			c.timer.Reset(d)
		}
	}
	c.mu.Unlock()
}

// dropAcked forgets the envelopes at the front that need no deadline any more. Acks mostly
// come in order, so the queue stays short; an envelope waiting for its ack holds back
// those behind it until it expires.
func (c *ackClock) dropAcked() {
	for c.head < len(c.q) && c.q[c.head].state.Load() != envWaiting {
		c.q[c.head] = nil
		c.head++
	}
}

// expireAcks runs when the oldest envelope may be due: it expires every envelope that is,
// and waits for the next.
func (s *Server) expireAcks() {
	c := &s.ackClock
	for {
		c.mu.Lock()
		c.dropAcked()
		if c.head == len(c.q) {
			c.q, c.head, c.armed = c.q[:0], 0, false
			c.mu.Unlock()
			return
		}
		e := c.q[c.head]
		if d := time.Until(e.sent.Add(s.cfg.AckTimeout)); d > 0 {
			c.timer.Reset(d)
			c.mu.Unlock()
			return
		}
		c.q[c.head] = nil
		c.head++
		c.mu.Unlock()
		s.ackTimeout(e)
	}
}
