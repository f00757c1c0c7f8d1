package slacksocket_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/pathbot/pathbot/internal/slackemu"
	"github.com/pathbot/pathbot/internal/slacksocket"
)

func startEmu(t *testing.T) *slackemu.Server {
	t.Helper()
	s := slackemu.New(slackemu.Config{})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.SeedTeammates()
	return s
}

// echoLink runs a Link that answers every slash command in its ack with the command's text
// and user, counting the links that came up.
type echoLink struct {
	link *slacksocket.Link
	ups  atomic.Int32
	up   atomic.Bool
	mu   sync.Mutex
	reqs []*slacksocket.Request
	done chan error
}

func runEcho(t *testing.T, s *slackemu.Server, appToken string) *echoLink {
	t.Helper()
	api := slack.New(s.Config().BotToken, slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken(appToken))
	e := &echoLink{done: make(chan error, 1)}
	e.link = &slacksocket.Link{
		API: api,
		State: func(up bool) {
			e.up.Store(up)
			if up {
				e.ups.Add(1)
			}
		},
	}
	e.link.Handle = func(req *slacksocket.Request, _ time.Time) {
		e.mu.Lock()
		e.reqs = append(e.reqs, req)
		e.mu.Unlock()
		if req.Type != slacksocket.TypeSlashCommands {
			_ = e.link.Ack(req.EnvelopeID, nil)
			return
		}
		// Each on its own goroutine, as the bot does, so acks race and share writes.
		go func() {
			p, _ := json.Marshal(map[string]string{"response_type": "ephemeral",
				"text": fmt.Sprintf("%s said %q", req.Slash.UserID, req.Slash.Text)})
			if err := e.link.Ack(req.EnvelopeID, p); err != nil {
				t.Errorf("ack: %v", err)
			}
		}()
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { e.done <- e.link.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-e.done
	})
	return e
}

func waitUp(t *testing.T, s *slackemu.Server, e *echoLink, ups int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitFor(ctx, func() bool { return e.ups.Load() >= ups && e.up.Load() && s.Connections() >= 1 }); err != nil {
		t.Fatalf("link not up (%d ups, want %d): %v", e.ups.Load(), ups, err)
	}
}

func slashAnswer(t *testing.T, s *slackemu.Server, user, text string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := s.SlashCommand(ctx, user, "", "/path", text)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Acked || res.Error != "" || len(res.Messages) != 1 {
		t.Fatalf("/path %s: acked %v, error %q, %d messages", text, res.Acked, res.Error, len(res.Messages))
	}
	return res.Messages[0].Text
}

func TestSlashCommandAnsweredInAck(t *testing.T) {
	s := startEmu(t)
	e := runEcho(t, s, s.Config().AppToken)
	waitUp(t, s, e, 1)
	const user = "U0ASHA"
	if got, want := slashAnswer(t, s, user, `status "quoted" <b> & ünïcode`), fmt.Sprintf(`%s said "status \"quoted\" <b> & ünïcode"`, user); got != want {
		t.Errorf("answer %q, want %q", got, want)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	req := e.reqs[len(e.reqs)-1]
	if req.Slash.Command != "/path" || req.Slash.TeamID != s.Config().TeamID || req.Slash.ResponseURL == "" || req.Slash.TriggerID == "" || req.EnvelopeID == "" {
		t.Errorf("slash command decoded as %+v", req)
	}
}

// Acks written while another is being written share its system call; none may be lost or
// garbled on the way.
func TestConcurrentAcksAllArrive(t *testing.T) {
	s := startEmu(t)
	e := runEcho(t, s, s.Config().AppToken)
	waitUp(t, s, e, 1)
	const user = "U0ASHA"
	const n = 500
	var wg sync.WaitGroup
	var bad atomic.Int32
	for i := range n {
		wg.Add(1)
		s.SlashCommandAsync(user, "", "/path", fmt.Sprintf("n%d", i), func(r *slackemu.Result) {
			defer wg.Done()
			if !r.Acked || len(r.Messages) != 1 || r.Messages[0].Text != fmt.Sprintf("%s said %q", user, fmt.Sprintf("n%d", i)) {
				bad.Add(1)
			}
		})
	}
	wg.Wait()
	if bad.Load() > 0 {
		t.Errorf("%d of %d commands not answered with their own text", bad.Load(), n)
	}
}

func TestReconnectsWhenAskedOrDropped(t *testing.T) {
	s := startEmu(t)
	e := runEcho(t, s, s.Config().AppToken)
	waitUp(t, s, e, 1)
	const user = "U0ASHA"
	s.Disconnect("refresh_requested")
	waitUp(t, s, e, 2)
	slashAnswer(t, s, user, "after refresh")
	s.DropConnections()
	waitUp(t, s, e, 3)
	slashAnswer(t, s, user, "after drop")
}

func TestOtherEnvelopesCarryTheirPayload(t *testing.T) {
	s := startEmu(t)
	e := runEcho(t, s, s.Config().AppToken)
	waitUp(t, s, e, 1)
	const user = "U0ASHA"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.OpenAppHome(ctx, user); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitFor(ctx, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, r := range e.reqs {
			if r.Type == slacksocket.TypeEventsAPI && strings.Contains(string(r.Payload), "app_home_opened") {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("no app_home_opened envelope with its payload: %v", err)
	}
}

func TestRefusedTokenIsFatal(t *testing.T) {
	s := startEmu(t)
	api := slack.New(s.Config().BotToken, slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken("xapp-wrong"))
	l := &slacksocket.Link{API: api, Handle: func(*slacksocket.Request, time.Time) {}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := l.Run(ctx)
	if !errors.Is(err, slacksocket.ErrFatal) {
		t.Fatalf("Run with a wrong app token: %v, want ErrFatal", err)
	}
}

func TestOversizedAckRefused(t *testing.T) {
	l := &slacksocket.Link{}
	big, _ := json.Marshal(map[string]string{"text": strings.Repeat("x", slacksocket.MaxAck)})
	if err := l.Ack("E1", big); err == nil {
		t.Fatal("an ack of more than 20 KB was accepted; Slack would drop it silently")
	}
}
