package slackemu

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
)

const (
	maxLinks = 10
	// maxAckBytes: Slack silently drops Socket Mode responses this large or larger.
	maxAckBytes = 20480
	// maxFrameBytes caps what a client may send at all; beyond it the link is closed
	// instead of buffering without bound.
	maxFrameBytes = 1 << 20
	ticketTTL     = 5 * time.Minute
	sendQueue     = 8192
	writeWait     = 10 * time.Second
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  32 << 10,
	WriteBufferSize: 32 << 10,
	// slack-go dials with "Origin: https://api.slack.com"; the default check would 403 it.
	CheckOrigin: func(*http.Request) bool { return true },
}

// link is one Socket Mode WebSocket. All writes of data frames go through writer;
// control frames use WriteControl, which gorilla allows concurrently.
type link struct {
	s      *Server
	id     int64
	host   string
	ws     *websocket.Conn
	conn   *batchConn // ws's connection
	out    chan frame
	done   chan struct{}
	once   sync.Once
	opened time.Time
}

type frame struct {
	data       []byte
	closeAfter bool
	// recycle says data came from envBufs, and goes back once written.
	recycle bool
}

// written is called once f has been written (and so copied, or sent) by the link's writer.
func (s *Server) written(f frame) {
	if f.recycle {
		s.envBufs.put(f.data)
	}
}

// bufFree recycles the buffers slash command envelopes are built in (see prepareSlash):
// they were most of the bytes a command allocated, and are garbage as soon as written.
// (A sync.Pool would need a pointer to hold each, which is an allocation again.)
type bufFree struct {
	mu   sync.Mutex
	free [][]byte
}

const (
	maxFreeBufs   = 256
	maxFreeBufCap = 8 << 10
)

// get returns an empty buffer of capacity at least n.
func (f *bufFree) get(n int) []byte {
	f.mu.Lock()
	var b []byte
	if k := len(f.free); k > 0 {
		b = f.free[k-1]
		f.free[k-1] = nil
		f.free = f.free[:k-1]
	}
	f.mu.Unlock()
	if cap(b) < n {
		return make([]byte, 0, n)
	}
	return b[:0]
}

func (f *bufFree) put(b []byte) {
	if cap(b) > maxFreeBufCap {
		return
	}
	f.mu.Lock()
	if len(f.free) < maxFreeBufs {
		f.free = append(f.free, b)
	}
	f.mu.Unlock()
}

func (s *Server) apiConnectionsOpen(w http.ResponseWriter, r *http.Request) {
	const method = "apps.connections.open"
	auth := r.Header.Get("Authorization")
	token, hasBearer := strings.CutPrefix(auth, "Bearer ")
	switch {
	case !hasBearer || token == "":
		// A token passed only as a form parameter is refused, as Slack documents.
		s.apiErr(w, method, "not_authed", nil)
		return
	case token != s.cfg.AppToken:
		s.apiErr(w, method, "invalid_auth", nil)
		return
	}
	if s.rateLimited(w, method) {
		return
	}
	ticket := uuid.NewString()
	s.tickets.Store(ticket, time.Now())
	host := r.Host
	if host != "" && s.cfg.PublicURL == "" {
		u := "http://" + host + "/"
		if r.TLS != nil {
			u = "https://" + host + "/"
		}
		s.botBase.Store(&u)
	}
	if host == "" {
		host = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s.URL(), "http://"), "https://"), "/")
	}
	scheme := "ws"
	if r.TLS != nil {
		scheme = "wss"
	}
	s.apiOK(w, method, map[string]any{
		"ok":  true,
		"url": fmt.Sprintf("%s://%s/link/?ticket=%s&app_id=%s", scheme, host, ticket, s.cfg.AppID),
	})
}

func (s *Server) handleLink(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	v, ok := s.tickets.LoadAndDelete(ticket)
	if !ok || time.Since(v.(time.Time)) > ticketTTL {
		s.stats.badTickets.Add(1)
		http.Error(w, "invalid_ticket", http.StatusUnauthorized)
		return
	}
	hj := &batchHijacker{ResponseWriter: w}
	ws, err := upgrader.Upgrade(hj, r, nil)
	if err != nil {
		s.log.Warn("websocket upgrade failed", "err", err)
		return
	}
	ws.SetReadLimit(maxFrameBytes)
	n := s.linkSeq.Add(1)
	l := &link{
		s: s, id: n, ws: ws, conn: hj.conn, opened: time.Now(),
		host: "applink-" + strconv.FormatInt(n, 10),
		out:  make(chan frame, sendQueue),
		done: make(chan struct{}),
	}
	lifetime := s.cfg.ConnectionLifetime
	if r.URL.Query().Get("debug_reconnects") == "true" {
		lifetime = 360 * time.Second
	}
	approx := 18060
	if lifetime > 0 {
		approx = int(lifetime / time.Second)
	}

	s.linkMu.Lock()
	cur := *s.links.Load()
	if len(cur) >= maxLinks {
		s.linkMu.Unlock()
		s.stats.tooManyLinks.Add(1)
		l.out <- frame{data: s.disconnectFrame(l, "too_many_websockets"), closeAfter: true}
		go l.writer()
		l.readUntilClosed()
		return
	}
	// hello is queued before the link is published so no envelope can overtake it.
	hello, _ := json.Marshal(map[string]any{
		"type":            "hello",
		"num_connections": len(cur) + 1,
		"debug_info": map[string]any{
			"host":                        l.host,
			"started":                     l.opened.UTC().Format("2006-01-02 15:04:05.000"),
			"build_number":                54,
			"approximate_connection_time": approx,
		},
		"connection_info": map[string]any{"app_id": s.cfg.AppID},
	})
	l.out <- frame{data: hello}
	next := append(append(make([]*link, 0, len(cur)+1), cur...), l)
	s.links.Store(&next)
	s.linkMu.Unlock()
	s.stats.linksOpened.Add(1)
	s.changed()
	s.log.Info("socket mode link opened", "link", l.host, "links", len(next))

	go l.writer()
	go l.pinger()
	if lifetime > 0 {
		go l.expire(lifetime)
	}
	l.reader()
}

func (s *Server) disconnectFrame(l *link, reason string) []byte {
	b, _ := json.Marshal(map[string]any{
		"type":       "disconnect",
		"reason":     reason,
		"debug_info": map[string]any{"host": l.host},
	})
	return b
}

// unpublish stops routing envelopes to l; it reports whether l was still routed.
func (s *Server) unpublish(l *link) bool {
	s.linkMu.Lock()
	defer s.linkMu.Unlock()
	cur := *s.links.Load()
	for i, x := range cur {
		if x == l {
			next := make([]*link, 0, len(cur)-1)
			next = append(append(next, cur[:i]...), cur[i+1:]...)
			s.links.Store(&next)
			s.changed()
			return true
		}
	}
	return false
}

func (l *link) close() {
	l.once.Do(func() {
		close(l.done)
		_ = l.ws.Close()
		l.s.unpublish(l)
		l.s.log.Info("socket mode link closed", "link", l.host)
	})
}

func (l *link) writer() {
	for {
		select {
		case <-l.done:
			return
		case f := <-l.out:
			// Frames queued meanwhile go out with this one, in one write.
			held := false
			for {
				var next frame
				more := false
				if !f.closeAfter {
					select {
					case next = <-l.out:
						more = true
					default:
					}
				}
				if more && !held {
					held = true
					_ = l.conn.setHold(true)
				}
				_ = l.ws.SetWriteDeadline(time.Now().Add(writeWait))
				err := l.ws.WriteMessage(websocket.TextMessage, f.data)
				if err == nil && held && !more {
					err = l.conn.setHold(false)
				}
				if err == nil {
					l.s.written(f) // gorilla keeps nothing of f.data, nor does batchConn
				}
				if err != nil {
					l.close()
					return
				}
				if f.closeAfter {
					_ = l.ws.WriteControl(websocket.CloseMessage,
						websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
					l.close()
					return
				}
				if !more {
					break
				}
				f = next
			}
		}
	}
}

func (l *link) pinger() {
	t := time.NewTicker(l.s.cfg.PingInterval)
	defer t.Stop()
	payload := []byte("Ping from " + l.host)
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
			if err := l.ws.WriteControl(websocket.PingMessage, payload, time.Now().Add(writeWait)); err != nil {
				l.close()
				return
			}
		}
	}
}

func (l *link) expire(lifetime time.Duration) {
	warnAt := lifetime - 10*time.Second
	if warnAt > 0 {
		select {
		case <-l.done:
			return
		case <-time.After(warnAt):
		}
		l.enqueue(frame{data: l.s.disconnectFrame(l, "warning")})
		lifetime -= warnAt
	}
	select {
	case <-l.done:
	case <-time.After(lifetime):
		l.s.unpublish(l)
		l.enqueue(frame{data: l.s.disconnectFrame(l, "refresh_requested"), closeAfter: true})
	}
}

func (l *link) enqueue(f frame) bool {
	select {
	case <-l.done:
		return false
	default:
	}
	select {
	case l.out <- f:
		return true
	default:
		return false
	}
}

// reader consumes acks. A link the client stopped answering pings on is closed after
// three ping intervals, as a real server would eventually do.
func (l *link) reader() {
	defer l.close()
	grace := 3*l.s.cfg.PingInterval + 5*time.Second
	_ = l.ws.SetReadDeadline(time.Now().Add(grace))
	l.ws.SetPongHandler(func(string) error {
		return l.ws.SetReadDeadline(time.Now().Add(grace))
	})
	// One buffer for every frame, instead of ReadMessage's fresh and growing one each time:
	// handleFrame keeps nothing of what it is given.
	var buf bytes.Buffer
	for {
		_, r, err := l.ws.NextReader()
		if err != nil {
			return
		}
		if buf.Cap() > 4*maxAckBytes {
			buf = bytes.Buffer{} // after an oversize frame
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			return
		}
		_ = l.ws.SetReadDeadline(time.Now().Add(grace))
		l.s.handleFrame(l, buf.Bytes())
	}
}

// readUntilClosed drains a refused link so the close handshake can complete.
func (l *link) readUntilClosed() {
	defer l.close()
	_ = l.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := l.ws.ReadMessage(); err != nil {
			return
		}
	}
}

// handleFrame takes one frame from the app; data is reused once it returns.
func (s *Server) handleFrame(l *link, data []byte) {
	if len(data) >= maxAckBytes {
		s.stats.oversizeAcks.Add(1)
		s.log.Warn("dropped socket mode response of 20KB or more, as Slack does", "bytes", len(data), "link", l.host)
		return
	}
	var m decodedMessage
	if a, isMsg, ok := decodeAck(data, &m); ok && a.envelopeID != "" {
		msg := &m
		if !isMsg {
			msg = nil
		}
		s.handleAck(a.envelopeID, a.payload, msg, time.Now())
		return
	}
	var ack struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(data, &ack); err != nil || ack.EnvelopeID == "" {
		s.stats.badFrames.Add(1)
		s.log.Warn("unreadable frame from app", "link", l.host, "err", err)
		return
	}
	s.handleAck(ack.EnvelopeID, ack.Payload, nil, time.Now())
}

// Disconnect sends a disconnect frame with reason ("refresh_requested", "warning",
// "link_disabled", …) on every link and then closes them. slack-go reconnects on any
// reason.
func (s *Server) Disconnect(reason string) {
	s.linkMu.Lock()
	cur := *s.links.Load()
	empty := []*link{}
	s.links.Store(&empty)
	s.linkMu.Unlock()
	s.changed()
	for _, l := range cur {
		if !l.enqueue(frame{data: s.disconnectFrame(l, reason), closeAfter: true}) {
			l.close()
		}
	}
}

// DropConnections closes every link's TCP connection abruptly, without a frame.
func (s *Server) DropConnections() {
	s.linkMu.Lock()
	cur := *s.links.Load()
	empty := []*link{}
	s.links.Store(&empty)
	s.linkMu.Unlock()
	s.changed()
	for _, l := range cur {
		_ = l.ws.NetConn().Close()
		l.close()
	}
}

// Connections is the number of links envelopes can currently be sent on.
func (s *Server) Connections() int { return len(*s.links.Load()) }

// WaitConnections waits until at least n links are open.
func (s *Server) WaitConnections(ctx context.Context, n int) error {
	if err := s.WaitFor(ctx, func() bool { return s.Connections() >= n }); err != nil {
		return fmt.Errorf("slackemu: waiting for %d socket mode links (have %d): %w", n, s.Connections(), err)
	}
	return nil
}

// send spreads envelopes round-robin over the links. It never blocks: if no link can take
// the frame the envelope is not delivered, which is what the caller reports.
func (s *Server) send(f frame) bool {
	cur := *s.links.Load()
	if len(cur) == 0 {
		return false
	}
	start := s.rr.Add(1)
	for i := range uint64(len(cur)) {
		if cur[(start+i)%uint64(len(cur))].enqueue(f) {
			return true
		}
	}
	s.stats.queueFull.Add(1)
	return false
}

// envelope is one delivery attempt awaiting its ack.
type envelope struct {
	id        string
	op        *op
	attempt   int
	sent      time.Time
	state     atomic.Int32 // envWaiting, envAcked, envExpired
	expiredAt atomic.Int64
}

const (
	envWaiting int32 = iota
	envAcked
	envExpired
)

type envelopeWire struct {
	EnvelopeID             string          `json:"envelope_id"`
	Type                   string          `json:"type"`
	Payload                json.RawMessage `json:"payload"`
	AcceptsResponsePayload bool            `json:"accepts_response_payload"`
	RetryAttempt           *int            `json:"retry_attempt,omitempty"`
	RetryReason            *string         `json:"retry_reason,omitempty"`
}

// envelopeJSON is json.Marshal of the envelope. Payloads are json.Marshal's output, which
// encoding/json would only copy (compacted and HTML-escaped already), so the envelope is
// built around them; anything else goes through json.Marshal.
// compact says payload is known to be such (slash commands are built by appendJSON).
func envelopeJSON(id, typ string, payload []byte, attempt int, compact bool) ([]byte, error) {
	events := typ == "events_api"
	if !compact && !marshalReady(payload) {
		w := envelopeWire{EnvelopeID: id, Type: typ, Payload: payload, AcceptsResponsePayload: !events}
		if events {
			reason := ""
			if attempt > 0 {
				reason = "timeout"
			}
			w.RetryAttempt, w.RetryReason = &attempt, &reason
		}
		return json.Marshal(w)
	}
	b := make([]byte, 0, len(payload)+160)
	b = appendJSONString(append(b, `{"envelope_id":`...), id)
	b = appendJSONString(append(b, `,"type":`...), typ)
	b = append(append(b, `,"payload":`...), payload...)
	b = strconv.AppendBool(append(b, `,"accepts_response_payload":`...), !events)
	if events {
		b = strconv.AppendInt(append(b, `,"retry_attempt":`...), int64(attempt), 10)
		reason := `,"retry_reason":""`
		if attempt > 0 {
			reason = `,"retry_reason":"timeout"`
		}
		b = append(b, reason...)
	}
	return append(b, '}'), nil
}

// marshalReady reports whether json.Marshal would copy b, as a json.RawMessage, unchanged:
// valid JSON with no whitespace outside strings and nothing it HTML-escapes.
func marshalReady(b []byte) bool {
	r := jsonReader[[]byte]{b: b}
	if len(b) == 0 || !r.skip() || r.i != len(b) {
		return false
	}
	inStr := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '<' || c == '>' || c == '&':
			return false
		case c == 0xE2 && i+2 < len(b) && b[i+1] == 0x80 && b[i+2]&^1 == 0xA8:
			return false
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case !inStr && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return false
		}
	}
	return true
}

// newUUID is a random (version 4) UUID like Slack's envelope ids. It need not be
// unguessable, and uuid.NewString's read of the system's random source cost more than the
// rest of building an envelope.
func newUUID() string {
	var u [16]byte
	binary.LittleEndian.PutUint64(u[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(u[8:], rand.Uint64())
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// deliver registers and sends one envelope for o. It returns false when no link took it.
// (A slash command's first delivery builds its envelope in place, see startSlash.)
func (s *Server) deliver(o *op, typ string, payload []byte, attempt int) bool {
	e := &envelope{id: newUUID(), op: o, attempt: attempt, sent: time.Now()}
	data, err := envelopeJSON(e.id, typ, payload, attempt, false)
	if err != nil {
		s.log.Error("marshal envelope", "err", err)
		return false
	}
	return s.sendEnvelope(e, frame{data: data})
}

// sendEnvelope registers e and sends f, its frame. It returns false when no link took it.
func (s *Server) sendEnvelope(e *envelope, f frame) bool {
	o := e.op
	o.setEnvelope(e)
	s.envelopes.store(e.id, e)
	if !s.send(f) {
		s.envelopes.delete(e.id)
		return false
	}
	s.startAckDeadline(e)
	s.stats.envelopes.Add(1)
	return true
}

// handleAck takes the ack of envelope id. msg, when not nil, is payload already decoded
// as a message (see decodeAckFast); id and payload may alias the frame, which is reused
// later.
func (s *Server) handleAck(id string, payload json.RawMessage, msg *decodedMessage, at time.Time) {
	e, ok, acked := s.envelopes.loadAndDeleteIf(id, func(e *envelope) bool {
		return e.state.CompareAndSwap(envWaiting, envAcked)
	})
	if !ok {
		s.stats.unknownAcks.Add(1)
		return
	}
	if !acked {
		if e.state.Load() == envExpired {
			s.stats.lateAcks.Add(1)
			// id may alias the frame, and a handler may keep the record.
			s.log.Warn("late ack ignored", "envelope_id", strings.Clone(id), "late_by", at.Sub(e.sent)-s.cfg.AckTimeout)
		} else {
			s.stats.unknownAcks.Add(1)
		}
		return
	}
	s.stats.acked.Add(1)
	e.op.onAck(e, payload, msg, at)
}

func (s *Server) ackTimeout(e *envelope) {
	if !e.state.CompareAndSwap(envWaiting, envExpired) {
		return
	}
	e.expiredAt.Store(time.Now().UnixNano())
	s.stats.ackTimeouts.Add(1)
	e.op.onAckTimeout(e)
}
