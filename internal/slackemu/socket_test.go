package slackemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

func TestHelloAndSlashCommandAnsweredByAckPayload(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	type seen struct {
		cmd     slack.SlashCommand
		req     socketmode.Request
		payload map[string]any
	}
	got := make(chan seen, 1)
	bot := startBot(t, s, func(b *testBot, evt socketmode.Event) {
		if evt.Type != socketmode.EventTypeSlashCommand {
			return
		}
		cmd := evt.Data.(slack.SlashCommand)
		var raw map[string]any
		_ = json.Unmarshal(evt.Request.Payload, &raw)
		got <- seen{cmd, *evt.Request, raw}
		b.ack(t, evt, map[string]any{
			"text":   "Hi " + cmd.UserName,
			"blocks": []slack.Block{section("Hi *" + cmd.UserName + "*, you asked for `" + cmd.Text + "`")},
		})
	})

	res, err := s.SlashCommand(testCtx(t, 5*time.Second), "U0ASHA", "", "/path", "status")
	if err != nil {
		t.Fatalf("SlashCommand: %v", err)
	}
	g := <-got
	dm := s.DMChannel("U0ASHA")
	if g.cmd.TeamID != "T0PATHBOT" || g.cmd.TeamDomain != "pathbot-dev" || g.cmd.ChannelID != dm ||
		g.cmd.ChannelName != "directmessage" || g.cmd.UserID != "U0ASHA" || g.cmd.UserName != "asha" ||
		g.cmd.Command != "/path" || g.cmd.Text != "status" || g.cmd.APIAppID != "A0PATHBOT" || g.cmd.TriggerID == "" {
		t.Errorf("slash command payload = %+v", g.cmd)
	}
	if !strings.HasPrefix(g.cmd.ResponseURL, s.URL()+"response/") {
		t.Errorf("response_url = %q, want under %sresponse/", g.cmd.ResponseURL, s.URL())
	}
	if g.payload["is_enterprise_install"] != "false" {
		t.Errorf("is_enterprise_install = %#v, want the string \"false\"", g.payload["is_enterprise_install"])
	}
	if !g.req.AcceptsResponsePayload || g.req.Type != "slash_commands" {
		t.Errorf("envelope type %q accepts_response_payload %v", g.req.Type, g.req.AcceptsResponsePayload)
	}
	if _, err := uuid.Parse(g.req.EnvelopeID); err != nil || g.req.EnvelopeID != res.EnvelopeID {
		t.Errorf("envelope_id %q (result %q) is not the same UUID", g.req.EnvelopeID, res.EnvelopeID)
	}

	if !res.Acked || !res.Answered || res.Error != "" || res.AckLatency <= 0 {
		t.Fatalf("result = %+v", res)
	}
	if len(res.Messages) != 1 {
		t.Fatalf("messages = %+v, want the ack payload", res.Messages)
	}
	m := res.Messages[0]
	if m.Source != "ack" || !m.Ephemeral || m.VisibleTo != "U0ASHA" || m.Channel != dm || m.User != "U0PATHBOT" || m.Text != "Hi asha" {
		t.Errorf("answer = %+v", m)
	}
	if !strings.Contains(string(m.Blocks), "you asked for `status`") {
		t.Errorf("answer blocks = %s", m.Blocks)
	}
	hist := s.Messages(dm)
	if len(hist) != 1 || hist[0].TS != m.TS {
		t.Errorf("DM history = %+v, want the ephemeral answer", hist)
	}

	bot.mu.Lock()
	hellos := bot.hellos
	bot.mu.Unlock()
	if len(hellos) != 1 {
		t.Fatalf("hellos = %d", len(hellos))
	}
	h := hellos[0]
	if h.NumConnections != 1 || h.ConnectionInfo.AppID != "A0PATHBOT" || !strings.HasPrefix(h.DebugInfo.Host, "applink-") ||
		h.DebugInfo.ApproximateConnectionTime <= 0 || h.DebugInfo.BuildNumber == 0 {
		t.Errorf("hello = %+v", h)
	}
}

func TestSlashCommandInChannelEchoesCommand(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	startBot(t, s, func(b *testBot, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			b.ack(t, evt, map[string]any{"response_type": "in_channel", "text": "Leaderboard posted"})
		}
	})
	res, err := s.SlashCommand(testCtx(t, 5*time.Second), "U0CLARA", GeneralChannelID, "/path", "leaderboard")
	if err != nil {
		t.Fatalf("SlashCommand: %v", err)
	}
	hist := s.Messages(GeneralChannelID)
	if len(hist) != 2 || hist[0].User != "U0CLARA" || hist[0].Text != "/path" || hist[0].Source != "command" {
		t.Fatalf("history = %+v, want the echoed command then the answer", hist)
	}
	if hist[1].Ephemeral || hist[1].Text != "Leaderboard posted" || len(res.Messages) != 1 || res.Messages[0].TS != hist[1].TS {
		t.Errorf("answer = %+v, result = %+v", hist[1], res.Messages)
	}
}

func TestSlashCommandAnsweredViaResponseURL(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	startBot(t, s, func(b *testBot, evt socketmode.Event) {
		if evt.Type != socketmode.EventTypeSlashCommand {
			return
		}
		cmd := evt.Data.(slack.SlashCommand)
		b.ack(t, evt)
		go func() {
			_, _, err := b.api.PostMessage("", slack.MsgOptionResponseURL(cmd.ResponseURL, slack.ResponseTypeEphemeral),
				slack.MsgOptionText("Your next step: write a design doc", false))
			if err != nil {
				t.Errorf("post to response_url: %v", err)
			}
		}()
	})
	res, err := s.SlashCommand(testCtx(t, 5*time.Second), "U0BEN", "", "/path", "next")
	if err != nil {
		t.Fatalf("SlashCommand: %v", err)
	}
	if !res.Acked || !res.Answered || len(res.Messages) != 1 {
		t.Fatalf("result = %+v", res)
	}
	m := res.Messages[0]
	if m.Source != "response_url" || m.Text != "Your next step: write a design doc" || !m.Ephemeral || m.VisibleTo != "U0BEN" {
		t.Errorf("answer = %+v", m)
	}
	// The post may beat the ack over the wire, so only the order against Sent is fixed.
	if res.AnsweredAt.Before(res.Sent) || res.AckedAt.Before(res.Sent) {
		t.Errorf("sent %v, acked %v, answered %v", res.Sent, res.AckedAt, res.AnsweredAt)
	}
}

func TestUnackedSlashCommandIsDispatchFailed(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{AckTimeout: 300 * time.Millisecond})
	startBot(t, s, func(b *testBot, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			// Too late: Slack has already told the user it failed.
			time.AfterFunc(600*time.Millisecond, func() { _ = b.sm.Ack(*evt.Request, map[string]any{"text": "late"}) })
		}
	})
	start := time.Now()
	res, err := s.SlashCommand(testCtx(t, 5*time.Second), "U0ASHA", "", "/path", "status")
	if err != nil {
		t.Fatalf("SlashCommand: %v", err)
	}
	if res.Error != "dispatch_failed" || res.Acked || res.Answered {
		t.Fatalf("result = %+v, want dispatch_failed", res)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 5*time.Second {
		t.Errorf("failed after %v, want about the 300ms AckTimeout", d)
	}
	hist := s.Messages(s.DMChannel("U0ASHA"))
	if len(hist) != 1 || hist[0].Source != "system" || hist[0].VisibleTo != "U0ASHA" ||
		hist[0].Text != `/path failed with the error "dispatch_failed"` {
		t.Errorf("history = %+v, want Slack's error line", hist)
	}
	if err := s.WaitFor(testCtx(t, 3*time.Second), func() bool { return s.Stats().LateAcks == 1 }); err != nil {
		t.Fatalf("late ack not recorded: %v (stats %+v)", err, s.Stats())
	}
	if n := len(s.Messages(s.DMChannel("U0ASHA"))); n != 1 {
		t.Errorf("late ack changed history to %d messages", n)
	}
	if st := s.Stats(); st.DispatchFailed != 1 || st.AckTimeouts != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestBotReconnectsAfterDisconnectAndDrop(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault func(*Server)
	}{
		{"refresh_requested", func(s *Server) { s.Disconnect("refresh_requested") }},
		{"link_disabled", func(s *Server) { s.Disconnect("link_disabled") }},
		{"drop", func(s *Server) { s.DropConnections() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startEmu(t, Config{})
			bot := startBot(t, s, func(b *testBot, evt socketmode.Event) {
				if evt.Type == socketmode.EventTypeSlashCommand {
					b.ack(t, evt, map[string]any{"text": "still here"})
				}
			})
			tc.fault(s)
			ctx := testCtx(t, 10*time.Second)
			if err := s.WaitFor(ctx, func() bool { return bot.connections() >= 2 }); err != nil {
				t.Fatalf("bot did not reconnect: %v", err)
			}
			if err := s.WaitConnections(ctx, 1); err != nil {
				t.Fatal(err)
			}
			res, err := s.SlashCommand(ctx, "U0ASHA", "", "/path", "status")
			if err != nil || !res.Answered || res.Messages[0].Text != "still here" {
				t.Fatalf("after reconnect: %+v, %v", res, err)
			}
			if st := s.Stats(); st.LinksOpened != 2 {
				t.Errorf("links opened = %d, want 2", st.LinksOpened)
			}
		})
	}
}

func TestResponseURLRateLimitSurfacesRetryAfter(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	urls := make(chan string, 1)
	bot := startBot(t, s, func(b *testBot, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			b.ack(t, evt)
			urls <- evt.Data.(slack.SlashCommand).ResponseURL
		}
	})
	s.RateLimit("response_url", 1, 1500*time.Millisecond)
	s.SlashCommandAsync("U0ASHA", "", "/path", "status", func(*Result) {})
	url := <-urls
	post := func() error {
		_, _, err := bot.api.PostMessage("", slack.MsgOptionResponseURL(url, slack.ResponseTypeEphemeral), slack.MsgOptionText("hello", false))
		return err
	}
	err := post()
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) {
		t.Fatalf("first post: %v, want *slack.RateLimitedError", err)
	}
	if rl.RetryAfter != 2*time.Second {
		t.Errorf("RetryAfter = %v, want 1.5s rounded up to 2s", rl.RetryAfter)
	}
	if err := post(); err != nil {
		t.Fatalf("post after the limit: %v", err)
	}
	if n := s.Calls("response_url"); n != 2 {
		t.Errorf("response_url calls = %d, want 2", n)
	}
	if st := s.Stats(); st.APIResults["response_url"]["429"] != 1 || st.APIResults["response_url"]["ok"] != 1 {
		t.Errorf("response_url results = %v", st.APIResults["response_url"])
	}
}

func TestConcurrentSlashCommandsAllAnswered(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	startBot(t, s, func(b *testBot, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			b.ack(t, evt, map[string]any{"text": "ok " + evt.Data.(slack.SlashCommand).Text})
		}
	})
	users := []string{"U0ASHA", "U0BEN", "U0CLARA", "U0DIEGO", "U0EMI", "U0FINN", "U0GRACE"}
	const workers, perWorker = 50, 40
	ctx := testCtx(t, 25*time.Second)
	var wg sync.WaitGroup
	var answered atomic.Int64
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				text := fmt.Sprintf("%d-%d", w, i)
				res, err := s.SlashCommand(ctx, users[(w+i)%len(users)], "", "/path", text)
				if err != nil {
					t.Errorf("command %s: %v", text, err)
					return
				}
				if !res.Answered || len(res.Messages) != 1 || res.Messages[0].Text != "ok "+text {
					t.Errorf("command %s: %+v", text, res)
					return
				}
				answered.Add(1)
			}
		})
	}
	wg.Wait()
	if answered.Load() != workers*perWorker {
		t.Fatalf("answered %d of %d", answered.Load(), workers*perWorker)
	}
	if st := s.Stats(); st.SlashCommands != workers*perWorker || st.Acked != workers*perWorker || st.DispatchFailed != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSlashCommandAsyncReportsEachCommandOnce(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	startBot(t, s, func(b *testBot, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			b.ack(t, evt, map[string]any{"text": "ok"})
		}
	})
	const n = 300
	var calls atomic.Int64
	var wg sync.WaitGroup
	wg.Add(n)
	for range n {
		s.SlashCommandAsync("U0EMI", "", "/path", "x", func(r *Result) {
			defer wg.Done()
			calls.Add(1)
			if !r.Answered || r.Sent.IsZero() || r.AckedAt.Before(r.Sent) || r.AnsweredAt.Before(r.Sent) {
				t.Errorf("async result = %+v", r)
			}
		})
	}
	wg.Wait()
	time.Sleep(50 * time.Millisecond)
	if calls.Load() != n {
		t.Fatalf("done called %d times for %d commands", calls.Load(), n)
	}
}

// TestPingIntervalKeepsSlackGoConnected is timing-sensitive, so it does not call
// t.Parallel: it runs before the parallel tests, whose load (the race detector on a small
// machine) can delay a goroutine past slack-go's watchdog.
func TestPingIntervalKeepsSlackGoConnected(t *testing.T) {
	// The client's watchdog is a few server intervals long so that a busy test machine
	// delaying one ping does not count as a dead link.
	s := startEmu(t, Config{PingInterval: 150 * time.Millisecond})
	bot := startBot(t, s, nil, socketmode.OptionPingInterval(600*time.Millisecond))
	time.Sleep(2 * time.Second) // more than three of the client's watchdog intervals
	if bot.connections() != 1 || s.Stats().LinksOpened != 1 || s.Connections() != 1 {
		t.Fatalf("bot reconnected: connected events %d, links opened %d", bot.connections(), s.Stats().LinksOpened)
	}

	// The control: pings slower than the client's watchdog make slack-go give up on the link.
	slow := startEmu(t, Config{PingInterval: 2 * time.Second})
	startBot(t, slow, nil, socketmode.OptionPingInterval(200*time.Millisecond))
	if err := slow.WaitFor(testCtx(t, 3*time.Second), func() bool { return slow.Stats().LinksOpened >= 2 }); err != nil {
		t.Fatalf("without timely pings slack-go should reconnect: %v", err)
	}
}

func TestUnackedEventIsRedelivered(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{AckTimeout: 500 * time.Millisecond, EventRetryDelays: []time.Duration{0, 50 * time.Millisecond}})
	attempts := make(chan socketmode.Request, 4)
	var home *slackevents.AppHomeOpenedEvent
	var mu sync.Mutex
	startBot(t, s, func(b *testBot, evt socketmode.Event) {
		if evt.Type != socketmode.EventTypeEventsAPI {
			return
		}
		attempts <- *evt.Request
		mu.Lock()
		home = parseHome(evt)
		mu.Unlock()
		if evt.Request.RetryAttempt > 0 {
			b.ack(t, evt)
		}
	})
	if err := s.OpenAppHome(testCtx(t, 5*time.Second), "U0DIEGO"); err != nil {
		t.Fatalf("OpenAppHome: %v", err)
	}
	first, second := <-attempts, <-attempts
	if first.RetryAttempt != 0 || first.RetryReason != "" || first.AcceptsResponsePayload {
		t.Errorf("first delivery = %+v", first)
	}
	if second.RetryAttempt != 1 || second.RetryReason != "timeout" || second.EnvelopeID == first.EnvelopeID {
		t.Errorf("redelivery = %+v", second)
	}
	mu.Lock()
	defer mu.Unlock()
	if home == nil || home.Type != "app_home_opened" || home.User != "U0DIEGO" || home.Tab != "home" || home.Channel != s.DMChannel("U0DIEGO") {
		t.Errorf("event = %+v", home)
	}
	if st := s.Stats(); st.EventRetries != 1 {
		t.Errorf("event retries = %d", st.EventRetries)
	}
}

// rawLink opens a Socket Mode link without slack-go, to send what slack-go never would.
func rawLink(t *testing.T, s *Server) (*websocket.Conn, string) {
	t.Helper()
	info, url, err := botAPI(s).StartSocketModeContext(testCtx(t, 5*time.Second))
	if err != nil || info == nil {
		t.Fatalf("apps.connections.open: %v", err)
	}
	c, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"https://api.slack.com"}})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	_ = resp.Body.Close()
	t.Cleanup(func() { _ = c.Close() })
	return c, url
}

func readFrame(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m map[string]any
	if err := c.ReadJSON(&m); err != nil {
		t.Fatalf("read frame: %v", err)
	}
	return m
}

func TestReusedTicketRefused(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	c, url := rawLink(t, s)
	if hello := readFrame(t, c); hello["type"] != "hello" {
		t.Fatalf("first frame = %v", hello)
	}
	_, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"https://api.slack.com"}})
	if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("second dial with the same ticket: err %v, resp %v; want 401", err, resp)
	}
	_ = resp.Body.Close()
	if st := s.Stats(); st.BadTickets != 1 || st.LinksOpened != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestEleventhLinkGetsTooManyWebsockets(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	for i := range maxLinks {
		c, _ := rawLink(t, s)
		if hello := readFrame(t, c); hello["type"] != "hello" || hello["num_connections"] != float64(i+1) {
			t.Fatalf("link %d hello = %v", i+1, hello)
		}
	}
	c, _ := rawLink(t, s)
	f := readFrame(t, c)
	if f["type"] != "disconnect" || f["reason"] != "too_many_websockets" {
		t.Fatalf("11th link got %v", f)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c.ReadMessage(); err == nil {
		t.Error("11th link stayed open")
	}
	if s.Connections() != maxLinks {
		t.Errorf("connections = %d", s.Connections())
	}
}

func TestOversizeAckIsDropped(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{AckTimeout: 300 * time.Millisecond})
	c, _ := rawLink(t, s)
	readFrame(t, c) // hello
	done := make(chan *Result, 1)
	s.SlashCommandAsync("U0ASHA", "", "/path", "status", func(r *Result) { done <- r })
	env := readFrame(t, c)
	ack, _ := json.Marshal(map[string]any{
		"envelope_id": env["envelope_id"],
		"payload":     map[string]any{"text": strings.Repeat("x", maxAckBytes)},
	})
	if err := c.WriteMessage(websocket.TextMessage, ack); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.Error != "dispatch_failed" || r.Acked {
		t.Fatalf("result = %+v, want the oversize ack ignored", r)
	}
	if s.Stats().OversizeAcks != 1 {
		t.Errorf("oversize acks = %d", s.Stats().OversizeAcks)
	}
}

func TestInvalidAckPayloadShowsError(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	startBot(t, s, func(b *testBot, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			b.ack(t, evt, map[string]any{"blocks": []slack.Block{section(strings.Repeat("y", 3001))}})
		}
	})
	res, err := s.SlashCommand(testCtx(t, 5*time.Second), "U0ASHA", "", "/path", "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Error != "invalid_blocks" || !res.Acked || res.Answered {
		t.Fatalf("result = %+v", res)
	}
	hist := s.Messages(s.DMChannel("U0ASHA"))
	if len(hist) != 1 || hist[0].Source != "system" || !strings.Contains(hist[0].Text, "invalid_blocks") {
		t.Errorf("history = %+v", hist)
	}
}

func TestCommandWithoutLinkFailsAtOnce(t *testing.T) {
	t.Parallel()
	s := startEmu(t, Config{})
	start := time.Now()
	res, err := s.SlashCommand(testCtx(t, 5*time.Second), "U0ASHA", "", "/path", "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Error != "dispatch_failed" || time.Since(start) > time.Second {
		t.Errorf("result = %+v after %v", res, time.Since(start))
	}
	if _, err := s.SlashCommand(context.Background(), "U0NOBODY", "", "/path", ""); err == nil {
		t.Error("unknown user accepted")
	}
}

func TestNewUUID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newUUID()
		u, err := uuid.Parse(id)
		if err != nil || u.String() != id || u.Version() != 4 || u.Variant() != uuid.RFC4122 {
			t.Fatalf("%q: not a version 4 UUID as uuid.NewString writes them (%v)", id, err)
		}
		if seen[id] {
			t.Fatalf("%q twice", id)
		}
		seen[id] = true
	}
}
