package slacksocket

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
)

// countingConn counts the writes that reach the network.
type countingConn struct {
	net.Conn
	writes int
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes++
	return c.Conn.Write(p)
}

// sink is a WebSocket server that hands on every message it reads.
func sink(t *testing.T) (*httptest.Server, <-chan string) {
	got := make(chan string, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				close(got)
				return
			}
			got <- string(msg)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// dialCounting opens a WebSocket to srv through a batchConn (with beforeRead) over a connection
// that counts its writes.
func dialCounting(t *testing.T, srv *httptest.Server, beforeRead func()) (*websocket.Conn, *countingConn, *batchConn) {
	t.Helper()
	var cc *countingConn
	var out *batchConn
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cc = &countingConn{Conn: c}
		out = &batchConn{Conn: cc, beforeRead: beforeRead}
		return out, nil
	}}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return conn, cc, out
}

// Frames written together reach the network in one write, whole and in order.
func TestWriteFramesInOneWrite(t *testing.T) {
	srv, got := sink(t)

	conn, cc, out := dialCounting(t, srv, nil)
	before := cc.writes
	var frames [][]byte
	for i := range 50 {
		frames = append(frames, fmt.Appendf(nil, `{"envelope_id":"E%d"}`, i))
	}
	if err := writeFrames(conn, out, frames); err != nil {
		t.Fatal(err)
	}
	if n := cc.writes - before; n != 1 {
		t.Errorf("50 frames took %d writes, want 1", n)
	}
	for i := range 50 {
		select {
		case m := <-got:
			if want := fmt.Sprintf(`{"envelope_id":"E%d"}`, i); m != want {
				t.Fatalf("message %d is %s, want %s", i, m, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("message %d never arrived", i)
		}
	}
	// After the batch, writes go straight through again.
	before = cc.writes
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"envelope_id":"alone"}`)); err != nil {
		t.Fatal(err)
	}
	if cc.writes-before != 1 || <-got != `{"envelope_id":"alone"}` {
		t.Error("a write after the batch did not go straight out")
	}
	conn.Close()
}

// A server that closes every link before its hello is retried with backoff, not in a loop.
func TestLinkClosedBeforeHelloBacksOff(t *testing.T) {
	var dials atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "apps.connections.open") {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"ok":true,"url":%q}`, "ws"+strings.TrimPrefix(srv.URL, "http")+"/link")
			return
		}
		dials.Add(1)
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		ws.Close()
	}))
	defer srv.Close()
	l := &Link{API: slack.New("xoxb-x", slack.OptionAPIURL(srv.URL+"/api/"), slack.OptionAppLevelToken("xapp-x")),
		Handle: func(*Request, time.Time) {}}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_ = l.Run(ctx)
	if n := dials.Load(); n < 1 || n > 3 {
		t.Errorf("%d links opened in 1.5 s, want 1-3 (backing off)", n)
	}
}

// Acks made while the reading goroutine handles what it read wait, and go out in one write just
// before it reads again; an ack made at any other time goes out at once.
func TestAcksOfOneReadGoOutTogether(t *testing.T) {
	srv, got := sink(t)

	l := &Link{}
	conn, cc, out := dialCounting(t, srv, l.readerIdle)
	defer conn.Close()
	l.conn, l.out = conn, out

	expect := func(ids ...string) {
		t.Helper()
		for _, id := range ids {
			select {
			case m := <-got:
				if want := fmt.Sprintf(`{"envelope_id":%q}`, id); m != want {
					t.Fatalf("got %s, want %s", m, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("ack %s never arrived", id)
			}
		}
	}
	before := cc.writes
	l.mu.Lock()
	l.handling = true // as serve does before Handle
	l.mu.Unlock()
	for _, id := range []string{"E1", "E2", "E3"} {
		if err := l.Ack(id, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := cc.writes - before; n != 0 {
		t.Fatalf("%d writes while handling, want 0", n)
	}
	select {
	case m := <-got:
		t.Fatalf("%s arrived while the reader was still handling", m)
	case <-time.After(50 * time.Millisecond):
	}
	// The reader is about to read: what it made goes out, in one write, in order.
	if _, err := out.Read(make([]byte, 0)); err != nil {
		t.Fatal(err)
	}
	if n := cc.writes - before; n != 1 {
		t.Errorf("3 acks took %d writes, want 1", n)
	}
	expect("E1", "E2", "E3")

	before = cc.writes
	if err := l.Ack("E4", nil); err != nil {
		t.Fatal(err)
	}
	if n := cc.writes - before; n != 1 {
		t.Errorf("an ack outside handling took %d writes, want 1 at once", n)
	}
	expect("E4")
}
