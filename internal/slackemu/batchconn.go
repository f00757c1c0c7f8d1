package slackemu

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// maxBatchBytes bounds what a link holds back to send in one write.
const maxBatchBytes = 64 << 10

// batchConn is a link's TCP connection with one addition: while the link's writer has more
// frames queued it holds what gorilla writes, so that a burst of envelopes leaves in one
// system call (and reaches the app in one read) instead of one each. The frames, their
// order and their content are unchanged. Writes while nothing is held go straight through.
type batchConn struct {
	net.Conn

	mu   sync.Mutex
	hold bool
	buf  []byte
}

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.buf) == 0 && !c.hold {
		return c.Conn.Write(p)
	}
	c.buf = append(c.buf, p...)
	if c.hold && len(c.buf) < maxBatchBytes {
		return len(p), nil
	}
	if err := c.flushLocked(); err != nil {
		return 0, err
	}
	return len(p), nil
}

// setHold starts (true) or ends a burst; ending it sends what was held.
func (c *batchConn) setHold(hold bool) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hold = hold
	if hold {
		return nil
	}
	return c.flushLocked()
}

func (c *batchConn) flushLocked() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > maxBatchBytes*2 {
		c.buf = nil
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

// batchHijacker hands gorilla's Upgrade the hijacked connection wrapped in a batchConn.
type batchHijacker struct {
	http.ResponseWriter
	conn *batchConn
}

func (h *batchHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &batchConn{Conn: c}
	return h.conn, brw, nil
}
