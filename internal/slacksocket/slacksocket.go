// Package slacksocket keeps one Socket Mode link to Slack open: it opens the connection with
// apps.connections.open, answers pings, reconnects when Slack asks it to or the link breaks, hands
// each envelope to a callback on the reading goroutine, and writes acks. It replaces slack-go's
// socketmode client on pathbot's hot path because that client decodes every envelope three times
// and passes it through three goroutines and two channels before anyone handles it, and writes
// every ack with a system call of its own: a third of the bot's CPU at 4,000 commands/s
// (docs/benchmarks.md, "Fourth version"). Here an envelope is decoded once (a slash command in a
// single pass), handled where it was read, and acks written while another ack is being written go
// out together in one system call.
package slacksocket

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
)

// Envelope types (https://docs.slack.dev/apis/events-api/using-socket-mode).
const (
	TypeHello         = "hello"
	TypeDisconnect    = "disconnect"
	TypeSlashCommands = "slash_commands"
	TypeInteractive   = "interactive"
	TypeEventsAPI     = "events_api"
)

// Request is one envelope from Slack. For a slash command Slash holds the decoded payload and
// Payload is empty; for every other type Payload holds the raw payload.
type Request struct {
	EnvelopeID             string
	Type                   string
	Payload                json.RawMessage
	Slash                  slack.SlashCommand
	AcceptsResponsePayload bool
	RetryAttempt           int
	RetryReason            string
	Reason                 string // of a disconnect
}

// MaxAck is the size from which Slack silently drops a Socket Mode response.
const MaxAck = 20 * 1024

// Defaults of Link's durations.
const (
	// pingTimeout: Slack pings every link about every 10 s; a link without a ping for this long
	// is dead, even if TCP has not noticed.
	pingTimeout  = 30 * time.Second
	writeTimeout = 10 * time.Second
	maxBackoff   = time.Minute
	// maxQueued bounds acks held while the link is down; they are useless after Slack's 3 s.
	maxQueued = 10_000
)

// Link is one Socket Mode connection, reopened for as long as Run runs. Acks may be written from
// any goroutine.
type Link struct {
	// API opens connections; it must carry the app-level token.
	API *slack.Client
	// Handle is called for every envelope but hello and disconnect, on the link's reading
	// goroutine: it must hand long work to another goroutine. recv is when it was read.
	Handle func(req *Request, recv time.Time)
	// State is told when the link comes up (hello received) and goes down.
	State func(up bool)
	Log   *slog.Logger

	mu      sync.Mutex
	conn    *websocket.Conn // nil while down
	out     *batchConn
	queue   [][]byte // acks waiting to be written
	writing bool     // a goroutine is writing the queue
	// handling is true from the moment the reading goroutine hands an envelope to Handle until
	// it next reads from the network: acks made meanwhile wait in the queue, and go out together
	// just before that read (see readerIdle).
	handling bool
}

// ErrFatal marks errors Run cannot recover from (the token was refused).
var ErrFatal = errors.New("socket mode: fatal")

// Run keeps the link open until ctx ends or Slack refuses the token.
func (l *Link) Run(ctx context.Context) error {
	if l.Log == nil {
		l.Log = slog.New(slog.DiscardHandler)
	}
	attempt := 0
	for {
		conn, out, err := l.open(ctx)
		if err == nil {
			var up bool
			up, err = l.serve(ctx, conn, out)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if up {
				// A link that worked is replaced at once, as Slack asks on "disconnect".
				attempt = 0
				l.Log.Debug("socket mode link closed; reconnecting", "err", err)
				continue
			}
			// Closed before its hello: back off, so a server that keeps doing that is not
			// hammered.
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, ErrFatal) {
			return err
		}
		attempt++
		wait := backoff(attempt)
		var rl *slack.RateLimitedError
		if errors.As(err, &rl) {
			wait = max(wait, rl.RetryAfter)
		}
		l.Log.Warn("socket mode connection error", "err", err, "attempt", attempt, "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// backoff is exponential with jitter, from about a second up to maxBackoff.
func backoff(attempt int) time.Duration {
	d := time.Second << min(attempt-1, 6)
	d = min(d, maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// open asks Slack for a link and dials it.
func (l *Link) open(ctx context.Context) (*websocket.Conn, *batchConn, error) {
	_, url, err := l.API.StartSocketModeContext(ctx)
	if err != nil {
		switch err.Error() {
		case "invalid_auth", "account_inactive", "not_authed", "token_revoked", "not_allowed_token_type":
			return nil, nil, fmt.Errorf("%w: apps.connections.open: %w", ErrFatal, err)
		}
		var code slack.StatusCodeError
		if errors.As(err, &code) && code.Code == http.StatusNotFound {
			return nil, nil, fmt.Errorf("%w: apps.connections.open: %w", ErrFatal, err)
		}
		return nil, nil, fmt.Errorf("apps.connections.open: %w", err)
	}
	var out *batchConn
	d := websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 45 * time.Second}
	d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		out = &batchConn{Conn: c, beforeRead: l.readerIdle}
		return out, nil
	}
	conn, resp, err := d.DialContext(ctx, url, http.Header{"Origin": {"https://api.slack.com"}})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("dial socket mode link: %w", err)
	}
	return conn, out, nil
}

// serve reads the link until it breaks or Slack asks for a new one, handing envelopes to Handle.
// up reports whether the link got as far as Slack's hello.
func (l *Link) serve(ctx context.Context, conn *websocket.Conn, out *batchConn) (up bool, err error) {
	const timeout = pingTimeout
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	defer func() {
		l.mu.Lock()
		if l.conn == conn {
			l.conn, l.out = nil, nil
		}
		l.mu.Unlock()
		_ = conn.Close()
		if up && l.State != nil {
			l.State(false)
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	conn.SetPingHandler(func(data string) error {
		_ = conn.SetReadDeadline(time.Now().Add(timeout))
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeTimeout))
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return err
			}
		}
		return nil
	})
	var buf bytes.Buffer // reused: decode copies what it keeps
	for {
		_, r, err := conn.NextReader()
		if err != nil {
			return up, err
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			return up, err
		}
		recv := time.Now()
		req, err := decode(buf.Bytes())
		if err != nil {
			l.Log.Warn("socket mode: unreadable envelope ignored", "err", err)
			continue
		}
		switch req.Type {
		case TypeHello:
			_ = conn.SetReadDeadline(time.Now().Add(timeout))
			l.mu.Lock()
			l.conn, l.out = conn, out
			l.mu.Unlock()
			up = true
			if l.State != nil {
				l.State(true)
			}
			l.flush() // acks held while the link was down
		case TypeDisconnect:
			l.Log.Debug("socket mode: slack asked for a new link", "reason", req.Reason)
			return up, fmt.Errorf("disconnect requested: %s", req.Reason)
		default:
			if req.EnvelopeID == "" {
				continue
			}
			l.mu.Lock()
			l.handling = true
			l.mu.Unlock()
			l.Handle(req, recv)
		}
	}
}

// frame is an envelope with its payload as P. A slash command's payload is decoded as a
// slashPayload in the same pass as the envelope; the fields of slashPayload do not occur with
// another JSON type in other payloads, so decoding another type into it fails nothing, and those
// are decoded a second time with their payload raw.
type frame[P any] struct {
	EnvelopeID             string `json:"envelope_id"`
	Type                   string `json:"type"`
	Payload                P      `json:"payload"`
	AcceptsResponsePayload bool   `json:"accepts_response_payload"`
	RetryAttempt           int    `json:"retry_attempt"`
	RetryReason            string `json:"retry_reason"`
	Reason                 string `json:"reason"`
}

type slashPayload struct {
	Token          string `json:"token"`
	TeamID         string `json:"team_id"`
	TeamDomain     string `json:"team_domain"`
	EnterpriseID   string `json:"enterprise_id"`
	EnterpriseName string `json:"enterprise_name"`
	ChannelID      string `json:"channel_id"`
	ChannelName    string `json:"channel_name"`
	UserID         string `json:"user_id"`
	UserName       string `json:"user_name"`
	Command        string `json:"command"`
	Text           string `json:"text"`
	ResponseURL    string `json:"response_url"`
	TriggerID      string `json:"trigger_id"`
	APIAppID       string `json:"api_app_id"`
}

// decode reads an envelope: a slash command of the usual shape by decodeSlashFast, anything
// else by decodeJSON.
func decode(b []byte) (*Request, error) {
	if req, ok := decodeSlashFast(b); ok {
		return req, nil
	}
	return decodeJSON(b)
}

// decodeJSON reads an envelope with encoding/json; decodeSlashFast is tested against it.
func decodeJSON(b []byte) (*Request, error) {
	var f frame[slashPayload]
	if err := json.Unmarshal(b, &f); err == nil && f.Type == TypeSlashCommands {
		p := f.Payload
		return &Request{
			EnvelopeID: f.EnvelopeID, Type: f.Type,
			AcceptsResponsePayload: f.AcceptsResponsePayload, RetryAttempt: f.RetryAttempt, RetryReason: f.RetryReason,
			Slash: slack.SlashCommand{
				Token: p.Token, TeamID: p.TeamID, TeamDomain: p.TeamDomain,
				EnterpriseID: p.EnterpriseID, EnterpriseName: p.EnterpriseName,
				ChannelID: p.ChannelID, ChannelName: p.ChannelName, UserID: p.UserID, UserName: p.UserName,
				Command: p.Command, Text: p.Text, ResponseURL: p.ResponseURL, TriggerID: p.TriggerID,
				APIAppID: p.APIAppID,
			},
		}, nil
	}
	var f2 frame[json.RawMessage]
	if err := json.Unmarshal(b, &f2); err != nil {
		return nil, fmt.Errorf("decode envelope: %w", err)
	}
	if f2.Type == TypeSlashCommands {
		return nil, errors.New("decode envelope: slash command payload of the wrong shape")
	}
	return &Request{
		EnvelopeID: f2.EnvelopeID, Type: f2.Type, Payload: f2.Payload,
		AcceptsResponsePayload: f2.AcceptsResponsePayload, RetryAttempt: f2.RetryAttempt,
		RetryReason: f2.RetryReason, Reason: f2.Reason,
	}, nil
}

// Ack acknowledges an envelope with payload, a JSON object (nil for an empty ack). It returns
// once the ack is written or queued behind another being written; a write error is logged, as
// the caller could do nothing more about it. While the link is down acks are held and written
// on the next link.
func (l *Link) Ack(envelopeID string, payload json.RawMessage) error {
	b := newFrame(len(envelopeID) + len(payload) + 32)
	b = append(b, `{"envelope_id":`...)
	b = appendJSONString(b, envelopeID)
	if len(payload) > 0 {
		b = append(b, `,"payload":`...)
		b = append(b, payload...)
	}
	b = append(b, '}')
	if len(b) >= MaxAck {
		return fmt.Errorf("socket mode ack of %d bytes: Slack drops acks of %d bytes or more", len(b), MaxAck)
	}
	l.mu.Lock()
	if len(l.queue) >= maxQueued {
		l.mu.Unlock()
		return errors.New("socket mode link down: ack dropped")
	}
	l.queue = append(l.queue, b)
	if l.writing || l.conn == nil || l.handling {
		l.mu.Unlock()
		return nil
	}
	l.writing = true
	l.mu.Unlock()
	l.writeQueue()
	return nil
}

// readerIdle runs on the reading goroutine each time it is about to read from the network, that
// is, once it has handled every envelope the last read brought. The acks of those envelopes (most
// are answered right there, from memory) and any others made meanwhile then leave in one system
// call, and the app's peer reads them in one, instead of one each: under load several envelopes
// arrive per read. No ack waits longer than the handling of the envelopes already read.
func (l *Link) readerIdle() {
	l.mu.Lock()
	l.handling = false
	l.mu.Unlock()
	l.flush()
}

// frames are reused once written: an ack frame holds an answer of a few kilobytes, the bot's
// largest allocation under load.
var frames sync.Pool // of *[]byte

func newFrame(n int) []byte {
	if p, _ := frames.Get().(*[]byte); p != nil && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]byte, 0, max(n, 4<<10))
}

func freeFrame(b []byte) {
	if cap(b) <= 32<<10 {
		frames.Put(&b)
	}
}

// flush writes what is queued unless someone is writing already.
func (l *Link) flush() {
	l.mu.Lock()
	if l.writing || l.conn == nil || len(l.queue) == 0 {
		l.mu.Unlock()
		return
	}
	l.writing = true
	l.mu.Unlock()
	l.writeQueue()
}

// writeQueue writes the queue until it is empty; the caller has set writing. Acks queued while
// a write is under way go out in the next, together: under load one system call carries many.
func (l *Link) writeQueue() {
	var spare [][]byte
	l.mu.Lock()
	for len(l.queue) > 0 && l.conn != nil {
		batch, conn, out := l.queue, l.conn, l.out
		l.queue = spare
		l.mu.Unlock()
		err := writeFrames(conn, out, batch)
		for i, f := range batch {
			freeFrame(f)
			batch[i] = nil
		}
		spare = batch[:0]
		l.mu.Lock()
		if err != nil {
			l.Log.Warn("socket mode: writing acks failed", "acks", len(batch), "err", err)
			if l.conn == conn {
				// The reader will notice too and reconnect; acks queued meanwhile wait for it.
				_ = conn.Close()
				l.conn, l.out = nil, nil
			}
		}
	}
	l.writing = false
	l.mu.Unlock()
}

// writeFrames writes each frame as a WebSocket message, all in one system call.
func writeFrames(conn *websocket.Conn, out *batchConn, frames [][]byte) error {
	if out == nil || len(frames) == 1 {
		for _, f := range frames {
			if err := conn.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
				return err
			}
			if err := conn.WriteMessage(websocket.TextMessage, f); err != nil {
				return err
			}
		}
		return nil
	}
	out.hold()
	var err error
	for _, f := range frames {
		if err = conn.WriteMessage(websocket.TextMessage, f); err != nil {
			break
		}
	}
	if ferr := out.release(time.Now().Add(writeTimeout)); err == nil {
		err = ferr
	}
	return err
}

// batchConn is the link's network connection. While held, writes collect in a buffer, written
// in one system call on release; gorilla/websocket writes each message with a call of its own.
// A pong written meanwhile by the reading goroutine joins the buffer, in order.
type batchConn struct {
	net.Conn
	mu   sync.Mutex
	held bool
	buf  []byte
	// beforeRead, when set, is called before each read from the network (gorilla/websocket
	// reads only when its buffer holds no whole frame).
	beforeRead func()
}

func (c *batchConn) Read(p []byte) (int, error) {
	if c.beforeRead != nil {
		c.beforeRead()
	}
	return c.Conn.Read(p)
}

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.held {
		c.buf = append(c.buf, p...)
		c.mu.Unlock()
		return len(p), nil
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *batchConn) hold() {
	c.mu.Lock()
	c.held = true
	c.mu.Unlock()
}

// release writes what was held; it keeps the lock while writing so that no later write can
// overtake the buffer.
func (c *batchConn) release(deadline time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = false
	if len(c.buf) == 0 {
		return nil
	}
	_ = c.Conn.SetWriteDeadline(deadline)
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > 64<<10 {
		c.buf = nil
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

// appendJSONString appends s as a JSON string (envelope ids are plain ASCII; this stays correct
// for anything).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
